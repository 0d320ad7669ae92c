//! LSM denials pane rendered from tests/fixtures/denials.json (a three-snapshot recording):
//! BPF LSM mode, syscall-exit fallback mode and the "unavailable" state, at 80×24 and 120×40.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::screen::screen;
use dpscope::app::{Action, App, UiOptions};
use dpscope::model::{PaneId, Snapshot};

fn fixture(i: usize) -> Snapshot {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/denials.json");
    dpscope::model::io::load(&path).unwrap().snapshots.remove(i)
}

fn app(i: usize) -> App {
    let opts = UiOptions {
        no_color: false,
        theme: String::new(),
        interval_ms: 1000,
        ..Default::default()
    };
    let mut app = App::with_snapshot(fixture(i), &opts);
    app.update(Action::GotoPane(PaneId::Denials));
    app
}

macro_rules! both_sizes {
    ($name:ident, $i:expr) => {
        #[test]
        fn $name() {
            let app = app($i);
            insta::assert_snapshot!(concat!(stringify!($name), "_80x24"), screen(&app, 80, 24));
            insta::assert_snapshot!(concat!(stringify!($name), "_120x40"), screen(&app, 120, 40));
        }
    };
}

both_sizes!(denials_bpf_lsm_mode, 0);
both_sizes!(denials_syscall_exit_mode, 1);
both_sizes!(denials_unavailable, 2);

#[test]
fn default_sort_is_last_seen_newest_first_and_filter_matches_hook_comm_target() {
    let s = fixture(1);
    let table = dpscope::pane::plain::pane_table(PaneId::Denials, &s, None);
    let text = dpscope::pane::plain::render(&table, dpscope::pane::plain::Format::Text);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[1].contains("dp-true"), "{text}");
    assert!(lines[4].contains("python3"), "{text}");
    assert!(text.contains("Landlock (fs.read_file)"));
    assert!(text.contains("AppArmor profile nginx (open)"));
}

#[test]
fn node_pane_says_which_denials_mode_runs_and_why() {
    let mut a = app(1);
    a.update(Action::GotoPane(PaneId::Node));
    let s = screen(&a, 160, 40);
    assert!(s.contains("LSM denials"), "{s}");
    assert!(s.contains("syscall-exit fallback"), "{s}");
    assert!(s.contains("BPF LSM not active"), "{s}");
    assert!(s.contains("probe syscall_deni"), "{s}");
    assert!(s.contains("probe audit"), "{s}");
}
