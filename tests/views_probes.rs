//! View snapshots of the own-probe panes (Retransmits, Drops, Flows, XDP) from a fixture,
//! at 80×24 and 120×40: with rates (a previous snapshot 60 s earlier), the grouping key, the
//! plain `show` form, and the "probe unavailable" state.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::screen::screen;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use dpscope::app::{Action, App, UiOptions};
use dpscope::model::{PaneId, Snapshot, Unavailable};

fn fixture() -> Snapshot {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/probes.json");
    dpscope::model::io::load(&path).unwrap().snapshots.remove(0)
}

/// The same node 60 s earlier: the hot flow had 0 retransmits, drops grew since.
fn earlier() -> Snapshot {
    let mut s = fixture();
    s.monotonic_ns -= 60_000_000_000;
    s.retransmits[0].retransmits = 0;
    s.retransmits[1].retransmits = 6;
    for d in &mut s.drops {
        d.count /= 2;
    }
    s
}

fn opts() -> UiOptions {
    UiOptions {
        no_color: false,
        theme: String::new(),
        interval_ms: 1000,
        ..Default::default()
    }
}

fn app() -> App {
    let mut a = App::with_snapshot(earlier(), &opts());
    a.update(Action::Snapshot(Box::new(fixture())));
    a
}

fn goto(app: &mut App, pane: &str) {
    app.update(Action::GotoPane(PaneId::parse(pane).unwrap()));
}

macro_rules! both_sizes {
    ($name:ident, $app:expr) => {
        #[test]
        fn $name() {
            let app = $app;
            insta::assert_snapshot!(concat!(stringify!($name), "_80x24"), screen(&app, 80, 24));
            insta::assert_snapshot!(concat!(stringify!($name), "_120x40"), screen(&app, 120, 40));
        }
    };
}

fn on(pane: &str) -> App {
    let mut a = app();
    goto(&mut a, pane);
    a
}

both_sizes!(retransmits_pane, on("retransmits"));
both_sizes!(retransmits_by_destination, {
    let mut a = on("retransmits");
    a.handle_key(KeyEvent::new(KeyCode::Char('o'), KeyModifiers::NONE));
    a
});
both_sizes!(retransmits_by_process, {
    let mut a = on("retransmits");
    for _ in 0..2 {
        a.handle_key(KeyEvent::new(KeyCode::Char('o'), KeyModifiers::NONE));
    }
    a
});
both_sizes!(drops_pane, on("drops"));
both_sizes!(node_pane_probe_status, on("node"));
both_sizes!(flows_pane, on("flows"));
both_sizes!(xdp_errors_pane, on("xdp_errors"));

fn unavailable(pane: &str, probe: &str) -> App {
    let mut s = fixture();
    s.retransmits.clear();
    s.drops.clear();
    s.flows.clear();
    s.xdp_errors.clear();
    for p in &mut s.node.probes {
        *p = dpscope::model::ProbeStatus {
            name: p.name.clone(),
            detail: "own probes disabled with --no-probes".into(),
            ..Default::default()
        };
    }
    s.node.unavailable = ["retransmits", "drops", "xdp_errors"]
        .iter()
        .map(|p| Unavailable {
            pane: p.to_string(),
            reason: format!("probe {probe} is off: own probes disabled with --no-probes"),
        })
        .chain(std::iter::once(Unavailable {
            pane: "flows".into(),
            reason: "probe flows is off: opt-in: give --tc-iface IFACE (or --xdp-iface IFACE) to count flows on an interface".into(),
        }))
        .collect();
    let mut a = App::with_snapshot(s, &opts());
    goto(&mut a, pane);
    a
}

both_sizes!(unavailable_drops, unavailable("drops", "drops"));
both_sizes!(
    unavailable_retransmits,
    unavailable("retransmits", "retransmits")
);
both_sizes!(unavailable_flows, unavailable("flows", "flows"));

both_sizes!(empty_drops, {
    let mut s = fixture();
    s.drops.clear();
    let mut a = App::with_snapshot(s, &opts());
    goto(&mut a, "drops");
    a
});

#[test]
fn plain_show_forms() {
    let (cur, prev) = (fixture(), earlier());
    for pane in ["retransmits", "drops", "flows", "xdp_errors"] {
        let t = dpscope::pane::plain::pane_table(PaneId::parse(pane).unwrap(), &cur, Some(&prev));
        let text = dpscope::pane::plain::render(&t, dpscope::pane::plain::Format::Text);
        insta::assert_snapshot!(format!("plain_{pane}_text"), text);
    }
    // Hottest first even without a previous snapshot (as `dpscope show` prints it).
    let t = dpscope::pane::plain::pane_table(PaneId::Retransmits, &cur, None);
    assert!(
        t.rows[0][0].contains("10.0.1.12:41822 → 10.96.14.20:443"),
        "{:?}",
        t.rows[0]
    );
    let t = dpscope::pane::plain::pane_table(PaneId::Drops, &cur, None);
    assert_eq!(t.rows[0][0], "NETFILTER_DROP");
}

#[test]
fn hot_flow_stands_out_at_a_glance() {
    let a = on("retransmits");
    let s = screen(&a, 120, 40);
    let first_row = s.lines().find(|l| l.contains("→")).unwrap();
    assert!(
        first_row.contains("10.96.14.20:443") && first_row.contains("847"),
        "{first_row}"
    );
    assert!(
        first_row.contains("14.1"),
        "847 in 60 s ≈ 14.1/s: {first_row}"
    );
}
