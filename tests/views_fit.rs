//! Tables never clip a number or an address: every pane rendered at 80×24, 120×40 and 160×45
//! over a snapshot with long values (the Cilium node, the probe panes, denials, made longer:
//! a 7,856-byte program, IPv6 connections with five-digit ports, a service's backends 11 and
//! 12, an expired entry, a flag word with every flag). On every drawn row, every word on
//! screen is a whole word of that row's cells, or ends in `…` (a cell cut at its end); a word
//! cut at its front (`.67 KiB`, `xpired`, `be 1` for `be 12`) or at its end without `…`
//! (`[fd00:10:0:1::`) fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dpscope::app::{Action, App, UiOptions};
use dpscope::model::{CtEntry, CtFlags, PaneId, ServiceBackend, Snapshot};
use dpscope::pane::table::TableText;
use dpscope::pane::{RowKey, RowRef};
use dpscope::views;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::collections::HashSet;

fn fixture(name: &str) -> Snapshot {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    dpscope::model::io::load(&path).unwrap().snapshots.remove(0)
}

/// The Cilium node with the probe panes and denials, and long values everywhere.
fn long_values() -> Snapshot {
    let mut s = fixture("cilium.json");
    let probes = fixture("probes.json");
    s.retransmits = probes.retransmits;
    s.drops = probes.drops;
    s.xdp_errors = probes.xdp_errors;
    s.flows = probes.flows;
    s.denials = fixture("denials.json").denials;
    let rich = fixture("rich.json");
    s.maps.extend(rich.maps);
    s.links = rich.links;
    if let Some(p) = s.programs.first_mut() {
        p.xlated_size = 7_856;
        p.jited_size = 123_456_789;
        p.run_cnt = 98_765_432_109;
        p.name = "tail_handle_ipv4_from_container_with_a_very_long_name".into();
    }
    for m in s.maps.iter_mut().take(3) {
        m.max_entries = 4_294_967_295;
    }
    // A service with backends 11 and 12, and the CT entries that chose them.
    let svc = s
        .services
        .iter_mut()
        .find(|x| x.backends.len() >= 2)
        .expect("a service with two backends");
    svc.backends[0].backend_id = 11;
    svc.backends[1].backend_id = 12;
    svc.backends.push(ServiceBackend {
        slot: 9,
        backend_id: 65_535,
        address: Some("fd00:aaaa:bbbb:cccc:dddd:eeee:ffff:1234".into()),
        port: Some(65_535),
        protocol: Some("TCP".into()),
        state: "terminating".into(),
        ..Default::default()
    });
    let rev_nat = svc.rev_nat_id;
    let base = CtEntry {
        table: "ct6_global".into(),
        protocol: "TCP".into(),
        direction: "SVC".into(),
        src: "fd00:10:244:1::a3f2".into(),
        src_port: 65_535,
        dst: "fd00:10:96::1:a".into(),
        dst_port: 54_321,
        flags: CtFlags::from_bits(0x0013, false),
        expires_in_s: -123_456,
        rev_nat_id: rev_nat,
        src_identity: 16_777_217,
        packets: Some(9_876_543_210),
        bytes: Some(12_345_678_901_234),
        ..Default::default()
    };
    let mut ct: Vec<CtEntry> = s.conntrack.as_ref().clone();
    for (i, be) in [11u64, 12].into_iter().enumerate() {
        ct.insert(
            i,
            CtEntry {
                backend_id: Some(be),
                src_port: 65_535 - i as u16,
                ..base.clone()
            },
        );
    }
    // And one longer than any column gives: all 16 flags, the longest IPv6 addresses.
    ct.insert(
        5,
        CtEntry {
            src: "fd00:aaaa:bbbb:cccc:dddd:eeee:ffff:1234".into(),
            dst: "fd00:1111:2222:3333:4444:5555:6666:7777".into(),
            flags: CtFlags::from_bits(0xffff, false),
            direction: "OUT".into(),
            ..base
        },
    );
    s.conntrack = ct.into();
    s
}

/// One refresh before, so that rates show.
fn app() -> App {
    let snap = long_values();
    let mut prev = snap.clone();
    prev.monotonic_ns = snap.monotonic_ns.saturating_sub(1_000_000_000);
    prev.taken_at = "2026-11-21T19:40:01Z".into();
    for p in &mut prev.programs {
        p.run_cnt /= 2;
        p.run_time_ns /= 2;
    }
    let opts = UiOptions {
        interval_ms: 1000,
        ..Default::default()
    };
    let mut app = App::with_snapshot(prev, &opts);
    app.update(Action::Snapshot(Box::new(snap)));
    app
}

/// Words of a text: what is between spaces.
fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(' ').filter(|w| !w.is_empty())
}

/// Every cell of every line of the pane's order, as text: the line's key and its words.
fn row_words(app: &App, pane: PaneId) -> Vec<(RowKey, HashSet<String>)> {
    let ctx = app.ctx();
    let shown = app.shown();
    let all = |t: &dyn TableText, i: usize| -> HashSet<String> {
        let cols: Vec<usize> = (0..t.heads().len()).collect();
        t.cells(&ctx, i, &cols)
            .iter()
            .flat_map(|(c, _)| words(c).map(str::to_string).collect::<Vec<_>>())
            .collect()
    };
    let table: Option<&dyn TableText> = match pane {
        PaneId::Policy => Some(&dpscope::pane::policy::ENTRIES),
        _ => dpscope::pane::get(pane).table(),
    };
    shown
        .order
        .rows()
        .zip(shown.order.keys())
        .filter_map(|(r, k)| {
            let set = match (pane, r) {
                (PaneId::Services, RowRef::Row(i)) => {
                    let s = &app.snapshot.services[i];
                    let t = &dpscope::pane::services::TABLE;
                    t.cells(s, &ctx)
                        .iter()
                        .flat_map(|c| words(c).map(str::to_string).collect::<Vec<_>>())
                        .collect()
                }
                (PaneId::Services, RowRef::Child(i, j)) => {
                    let b = &app.snapshot.services[i].backends[j];
                    let state = dpscope::pane::services::backend_state(b);
                    let text = format!(
                        "├ └ slot {} {} [{state}] id {}",
                        b.slot,
                        dpscope::pane::services::backend_text(b),
                        b.backend_id
                    );
                    words(&text).map(str::to_string).collect()
                }
                (_, RowRef::Row(i)) | (_, RowRef::Child(i, _)) => all(table?, i),
            };
            Some((k.clone(), set))
        })
        .collect()
}

/// The screen as lines of cells, and where the rows were drawn.
fn draw(app: &App, w: u16, h: u16) -> (Vec<Vec<String>>, dpscope::app::mouse::Hits) {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut hits = None;
    t.draw(|f| hits = Some(views::draw(f, app))).unwrap();
    let buf = t.backend().buffer();
    let lines = (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect())
        .collect();
    (lines, hits.unwrap())
}

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (160, 45)];

/// Words on a drawn row that are neither whole words of its cells nor end in `…`.
fn cut_words(line: &[String], x: u16, width: u16, allowed: &HashSet<String>) -> Vec<String> {
    let text: String = line[usize::from(x)..usize::from(x + width)].concat();
    words(&text)
        .map(|w| w.trim_start_matches(['▶', '★']))
        .filter(|w| !w.is_empty() && !w.ends_with('…') && !allowed.contains(*w))
        .map(str::to_string)
        .collect()
}

#[test]
fn no_pane_clips_a_number_or_an_address() {
    let mut app = app();
    let mut failures = Vec::new();
    let mut checked = 0;
    for pane in PaneId::ALL {
        app.update(Action::GotoPane(pane));
        let rows = row_words(&app, pane);
        let tree = matches!(pane, PaneId::Attachments | PaneId::Tailcalls);
        for (w, h) in SIZES {
            let (lines, hits) = draw(&app, w, h);
            for (rect, key) in &hits.rows {
                let line = &lines[usize::from(rect.y)];
                if tree {
                    // Tree rows: the words of the pane's plain table are the words there are.
                    let text: String =
                        line[usize::from(rect.x)..usize::from(rect.x + rect.width)].concat();
                    let inner = text.trim_end_matches('│').to_string();
                    if inner.trim_end() == inner && !inner.trim_end().ends_with('…') {
                        failures.push(format!(
                            "{pane} {w}x{h}: tree line cut without …: {inner:?}"
                        ));
                    }
                    checked += 1;
                    continue;
                }
                let Some((_, allowed)) = rows.iter().find(|(k, _)| k == key) else {
                    failures.push(format!(
                        "{pane} {w}x{h}: drawn row {key:?} not in the order"
                    ));
                    continue;
                };
                let bad = cut_words(line, rect.x, rect.width, allowed);
                checked += 1;
                if !bad.is_empty() {
                    failures.push(format!(
                        "{pane} {w}x{h}: {bad:?} in {:?}",
                        line.concat().trim_end()
                    ));
                }
            }
        }
    }
    assert!(checked > 300, "only {checked} rows checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The faults of the report, one by one, at 160×45 on the Cilium node with the report's
/// values (a 7,856-byte program, IPv6 service entries that chose backends 11 and 12, an
/// expired entry, a closing connection): each value whole on screen.
#[test]
fn the_reported_values_show_whole() {
    let mut s = fixture("cilium.json");
    s.programs[0].xlated_size = 7_856;
    let svc = s
        .services
        .iter()
        .find(|x| x.backends.len() >= 2)
        .expect("a service with two backends");
    let rev_nat = svc.rev_nat_id;
    let mut ct: Vec<CtEntry> = s.conntrack.as_ref().clone();
    for (i, be) in [11u64, 12].into_iter().enumerate() {
        ct.push(CtEntry {
            table: "ct6_global".into(),
            protocol: "TCP".into(),
            direction: "SVC".into(),
            src: "fd00:10:244:1::a3f2".into(),
            src_port: 40_000 + i as u16,
            dst: "fd00:10:96::1:a".into(),
            dst_port: 54_321,
            expires_in_s: 20,
            rev_nat_id: rev_nat,
            src_identity: 28_461,
            backend_id: Some(be),
            ..Default::default()
        });
    }
    s.conntrack = ct.into();
    let opts = UiOptions {
        interval_ms: 1000,
        ..Default::default()
    };
    let mut app = App::with_snapshot(s, &opts);
    let screen = |app: &App| -> String {
        let (lines, _) = draw(app, 160, 45);
        lines.iter().map(|l| l.concat() + "\n").collect()
    };
    app.update(Action::GotoPane(PaneId::Programs));
    app.update(Action::SortNext);
    let s = screen(&app);
    assert!(!s.contains(" .67 KiB"), "{s}");
    app.update(Action::GotoPane(PaneId::Conntrack));
    let s = screen(&app);
    assert!(
        s.contains("[fd00:10:244:1::a3f2]:40000 → [fd00:10:96::1:a]:54321"),
        "{s}"
    );
    assert!(s.contains("expired 12s"), "{s}");
    assert!(s.contains(" be 11") && s.contains(" be 12"), "{s}");
    // With IPv6 pairs on screen, 160 columns hold no FLAGS beside the service: the column
    // goes (the entry's detail view has them); with IPv4 rows it is there, whole.
    assert!(
        !s.contains(" FLAGS ") || s.contains("RxClosing TxClosing SeenNonSyn"),
        "{s}"
    );
    app.view_mut().filter = "10.0.1.45:40168".into();
    let s = screen(&app);
    assert!(s.contains("RxClosing TxClosing SeenNonSyn"), "{s}");
}
