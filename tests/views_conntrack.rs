//! The conntrack detail view: Enter on a Conntrack row opens the entry with every field, Esc
//! goes back; an entry that leaves the table stays readable, marked as gone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::screen::screen;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use dpscope::app::state::Detail;
use dpscope::app::{Action, App, UiOptions};
use dpscope::model::{PaneId, Snapshot};

fn fixture(name: &str) -> Snapshot {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    dpscope::model::io::load(&path).unwrap().snapshots.remove(0)
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

/// The Cilium node on the Conntrack pane, the cursor on the 29th row (a service entry that
/// chose a backend), opened.
fn opened() -> App {
    let opts = UiOptions {
        interval_ms: 1000,
        ..Default::default()
    };
    let mut app = App::with_snapshot(fixture("cilium_prev.json"), &opts);
    app.update(Action::Snapshot(Box::new(fixture("cilium.json"))));
    app.update(Action::GotoPane(PaneId::Conntrack));
    // Filter to the service entry of 10.0.1.45:40236 (backend chosen), then open it.
    app.handle_key(KeyEvent::new(KeyCode::Char('/'), KeyModifiers::NONE));
    for c in "40236 → 10.96".chars() {
        app.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    app.handle_key(code(KeyCode::Enter));
    app.handle_key(code(KeyCode::Enter));
    app
}

#[test]
fn enter_opens_the_entry_with_every_field() {
    let app = opened();
    assert!(
        matches!(app.details.last(), Some(Detail::Conntrack(_))),
        "Enter opened nothing"
    );
    let s = screen(&app, 120, 40);
    for field in [
        "expires",
        "lifetime",
        "flags",
        "rx flags seen",
        "tx flags seen",
        "last rx report",
        "last tx report",
        "packets",
        "bytes",
        "source identity",
        "destination identity",
        "service (rev-NAT)",
        "backend",
        "NAT port",
    ] {
        assert!(s.contains(field), "{field} missing:\n{s}");
    }
    assert!(s.contains("10.0.1.45:40236 → 10.96.12.40:80"), "{s}");
    insta::assert_snapshot!("conntrack_detail_120x40", s);
    insta::assert_snapshot!("conntrack_detail_80x24", screen(&app, 80, 24));
}

#[test]
fn esc_goes_back_and_a_gone_entry_stays_readable() {
    let mut app = opened();
    // The next snapshot no longer has the entry: still shown, marked as gone.
    let mut next = fixture("cilium.json");
    let mut rows: Vec<_> = next.conntrack.as_ref().clone();
    rows.retain(|e| !(e.src_port == 40236 && e.direction.as_ref() == "SVC"));
    next.conntrack = rows.into();
    next.monotonic_ns += 1_000_000_000;
    app.update(Action::Snapshot(Box::new(next)));
    let s = screen(&app, 120, 40);
    assert!(s.contains(dpscope::text::CT_ENTRY_GONE), "{s}");
    assert!(s.contains("10.0.1.45:40236 → 10.96.12.40:80"), "{s}");
    app.handle_key(code(KeyCode::Esc));
    assert!(app.details.is_empty());
    assert!(screen(&app, 120, 40).contains("Conntrack ("));
}
