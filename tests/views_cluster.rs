//! `dpscope replay BUNDLE_DIR`: the Cluster pane, moving between nodes and asking every node
//! a pane's filter, on tests/fixtures/bundle — real snapshots taken on this kernel under four
//! fixture states by tests/kernel_bundle.rs (node-a the baseline, node-b a stale tc filter,
//! node-c a bigger map, node-d iptables drops; node-e timed out). Then bundles made to hurt:
//! escape sequences in node names, symlinked and special node files, huge manifests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::screen::screen;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use dpscope::app::{Action, App, UiOptions};
use dpscope::model::bundle::{self, Bundle};
use dpscope::model::PaneId;
use dpscope::pane::RowKey;
use std::path::{Path, PathBuf};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bundle")
}

/// The fixture bundle, named as a relative path (the header shows it; screens do not depend
/// on where the checkout is).
fn fixture() -> Bundle {
    let mut b = bundle::load(&fixture_dir()).unwrap();
    b.dir = "tests/fixtures/bundle".into();
    b
}

fn opts() -> UiOptions {
    UiOptions {
        interval_ms: 1000,
        ..Default::default()
    }
}

fn app() -> App {
    App::bundle(fixture(), &opts())
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn press(app: &mut App, keys: &[KeyEvent]) {
    for k in keys {
        app.handle_key(*k);
    }
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        app.handle_key(key(c));
    }
}

fn shown_node(app: &App) -> String {
    let c = app.cluster.as_ref().unwrap();
    c.nodes[c.selected].name.clone()
}

/// Names of the nodes the Cluster pane lists, in order.
fn listed(app: &App) -> Vec<String> {
    let c = app.cluster.as_ref().unwrap();
    app.shown()
        .order
        .keys()
        .into_iter()
        .map(|k| match k {
            RowKey::Id(i) => c.nodes[i as usize].name.clone(),
            RowKey::Path(p) => p,
        })
        .collect()
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

both_sizes!(cluster_pane, app());

// `/NETFILTER_DROP` on the Drops pane, then `c`: the nodes with such drops, with their count.
both_sizes!(cluster_pane_asked_which_nodes_drop, {
    let mut a = app();
    a.update(Action::GotoPane(PaneId::Drops));
    press(&mut a, &[key('/')]);
    typed(&mut a, "NETFILTER_DROP");
    press(&mut a, &[code(KeyCode::Enter), key('c')]);
    a
});

// Every other pane shows the selected node, and the header says which.
both_sizes!(attachments_of_node_b, {
    let mut a = app();
    press(&mut a, &[key('n')]);
    a.update(Action::GotoPane(PaneId::Attachments));
    a
});

#[test]
fn the_cluster_rows_are_the_fixture_states() {
    let a = app();
    let c = a.cluster.as_ref().unwrap();
    let row = |n: &str| &c.rows.iter().find(|r| r.row.node == n).unwrap().row;
    assert_eq!((row("node-a").stacked, row("node-a").stale), (0, 0));
    assert_eq!((row("node-b").stacked, row("node-b").stale), (1, 1));
    assert_eq!(row("node-d").top_drops[0].reason, "NETFILTER_DROP");
    let size = |n: &str| {
        let s = c.nodes.iter().find(|x| x.name == n).unwrap();
        let s = s.snapshot.as_ref().unwrap();
        s.maps
            .iter()
            .find(|m| m.name == "dpsk8s_sized")
            .unwrap()
            .max_entries
    };
    assert_eq!(
        ["node-a", "node-b", "node-c", "node-d"].map(size),
        [1024, 1024, 2048, 1024]
    );
    assert_eq!(row("node-e").status, "timeout");
    assert_eq!(row("node-e").reason, "no answer within 60 s");
    // The Cluster pane opens first, listing every node in the bundle's order.
    assert_eq!(a.pane, PaneId::Cluster);
    assert_eq!(
        listed(&a),
        ["node-a", "node-b", "node-c", "node-d", "node-e"]
    );
    // The plain form (export, `show`) has every column in full.
    let plain = dpscope::pane::get(PaneId::Cluster).plain(&a.ctx(), a.view());
    assert_eq!(plain.rows.len(), 5);
    let e = &plain.rows[4];
    assert_eq!(e[0], "node-e");
    assert!(e.contains(&"timeout".to_string()), "{e:?}");
    assert!(
        e.contains(&"no snapshot: no answer within 60 s".to_string()),
        "{e:?}"
    );
}

#[test]
fn n_and_shift_n_move_between_nodes_with_a_snapshot_and_every_pane_follows() {
    let mut a = app();
    assert_eq!(shown_node(&a), "node-a");
    a.update(Action::GotoPane(PaneId::Maps));
    let max_of_map = |a: &App| {
        a.snapshot
            .maps
            .iter()
            .find(|m| m.name == "dpsk8s_sized")
            .unwrap()
            .max_entries
    };
    assert_eq!(max_of_map(&a), 1024);
    press(&mut a, &[key('n'), key('n')]);
    assert_eq!(shown_node(&a), "node-c");
    assert_eq!(max_of_map(&a), 2048);
    assert!(screen(&a, 120, 40).contains("NODE node-c (3/5)"));
    // node-e has no snapshot: skipped, and the list wraps.
    press(&mut a, &[key('n'), key('n')]);
    assert_eq!(shown_node(&a), "node-a");
    press(&mut a, &[key('N')]);
    assert_eq!(shown_node(&a), "node-d");
    assert_eq!(a.pane, PaneId::Maps, "the pane stays");
}

#[test]
fn node_name_in_the_palette_selects_it_and_says_why_a_node_has_no_snapshot() {
    let mut a = app();
    a.update(Action::GotoPane(PaneId::Drops));
    press(&mut a, &[key(':')]);
    typed(&mut a, "node node-d");
    press(&mut a, &[code(KeyCode::Enter)]);
    assert_eq!(shown_node(&a), "node-d");
    assert_eq!(a.pane, PaneId::Drops);
    assert!(a
        .snapshot
        .drops
        .iter()
        .any(|d| d.reason_name == "NETFILTER_DROP"));
    // A unique prefix is enough; completion offers the names.
    press(&mut a, &[key(':')]);
    typed(&mut a, "node node-");
    assert_eq!(a.palette_suggestions().len(), 5);
    press(&mut a, &[code(KeyCode::Esc), key(':')]);
    typed(&mut a, "node node-b");
    press(&mut a, &[code(KeyCode::Enter)]);
    assert_eq!(shown_node(&a), "node-b");
    for (name, want) in [
        (
            "node-e",
            "no snapshot from node-e (timeout): no answer within 60 s",
        ),
        ("nope", "no node \"nope\" in this bundle"),
        ("node", "\"node\" names 5 nodes"),
    ] {
        press(&mut a, &[key(':')]);
        typed(&mut a, &format!("node {name}"));
        press(&mut a, &[code(KeyCode::Enter)]);
        let m = a.message.clone().unwrap();
        assert!(m.error && m.text.contains(want), "{name}: {}", m.text);
        assert_eq!(shown_node(&a), "node-b", "{name}: the node shown stays");
    }
    // `:node` alone is still the Node pane.
    press(&mut a, &[key(':')]);
    typed(&mut a, "node");
    press(&mut a, &[code(KeyCode::Enter)]);
    assert_eq!(a.pane, PaneId::Node);
}

#[test]
fn filters_carry_across_nodes_and_c_lists_the_nodes_with_matches() {
    let mut a = app();
    a.update(Action::GotoPane(PaneId::Drops));
    press(&mut a, &[key('/')]);
    typed(&mut a, "NETFILTER_DROP");
    press(&mut a, &[code(KeyCode::Enter)]);
    // On node-a the filter shows nothing; on node-d (same filter, same pane) the drops.
    assert!(a.shown().order.is_empty());
    press(&mut a, &[key('N')]);
    assert_eq!(shown_node(&a), "node-d");
    assert_eq!(a.view().filter, "NETFILTER_DROP");
    let on_d = a.shown().order.len();
    assert!(on_d > 0);
    press(&mut a, &[key('n')]);
    // One keystroke: which nodes?
    press(&mut a, &[key('c')]);
    assert_eq!(a.pane, PaneId::Cluster);
    assert_eq!(listed(&a), ["node-d"]);
    let c = a.cluster.as_ref().unwrap();
    let d = c.rows.iter().find(|r| r.row.node == "node-d").unwrap();
    assert_eq!(d.matches, Some(on_d));
    for r in c
        .rows
        .iter()
        .filter(|r| r.row.node != "node-d" && r.row.ok())
    {
        assert_eq!(r.matches, Some(0), "{}", r.row.node);
    }
    let m = a.message.clone().unwrap();
    assert_eq!(
        m.text,
        "1 of 4 nodes have drops rows matching \"NETFILTER_DROP\""
    );
    // Enter on the node: back in the Drops pane, on node-d, the filter still there.
    press(&mut a, &[code(KeyCode::Enter)]);
    assert_eq!((a.pane, shown_node(&a).as_str()), (PaneId::Drops, "node-d"));
    assert_eq!(a.shown().order.len(), on_d);
    // Esc on the Cluster pane lists every node again.
    press(&mut a, &[key('c')]);
    press(&mut a, &[code(KeyCode::Esc)]);
    assert_eq!(listed(&a).len(), 5);
    // A stale filter on one node: the Attachments pane's `stale` flag.
    a.update(Action::GotoPane(PaneId::Attachments));
    press(&mut a, &[key('/')]);
    typed(&mut a, "stale");
    press(&mut a, &[code(KeyCode::Enter), key('c')]);
    assert_eq!(listed(&a), ["node-b"]);
    // Without a filter, `c` lists every node and says how to ask.
    a.update(Action::GotoPane(PaneId::Maps));
    press(&mut a, &[key('c')]);
    assert_eq!(listed(&a).len(), 5);
    assert!(a
        .message
        .clone()
        .unwrap()
        .text
        .contains("filter a pane first"));
}

#[test]
fn the_tabs_of_a_bundle_end_with_cluster_and_tab_reaches_it() {
    let mut a = app();
    a.update(Action::GotoPane(PaneId::Node));
    press(&mut a, &[code(KeyCode::Tab)]);
    assert_eq!(a.pane, PaneId::Cluster);
    press(&mut a, &[code(KeyCode::Tab)]);
    assert_eq!(a.pane, PaneId::Programs);
    // Outside a bundle the Cluster pane is not a tab, and n says what it needs.
    let mut one = App::with_snapshot(dpscope::model::Snapshot::empty(), &opts());
    one.update(Action::GotoPane(PaneId::Node));
    press(&mut one, &[code(KeyCode::Tab)]);
    assert_eq!(one.pane, PaneId::Programs);
}

// ---- bundles made to hurt ----

fn write_manifest(dir: &Path, nodes: serde_json::Value) {
    let m = serde_json::json!({"schema": bundle::BUNDLE_SCHEMA, "nodes": nodes});
    std::fs::write(dir.join(bundle::MANIFEST), m.to_string()).unwrap();
}

fn copy_node(dir: &Path, from: &str, to: &str) {
    std::fs::copy(fixture_dir().join(from), dir.join(to)).unwrap();
}

#[test]
fn escape_sequences_in_node_names_and_reasons_reach_no_terminal() {
    let d = tempfile::Builder::new()
        .prefix("dpscope-evil")
        .tempdir()
        .unwrap();
    copy_node(d.path(), "node-a.json", "a.json");
    let evil = "\u{1b}]0;owned\u{7}\u{1b}[2J\u{202e}node";
    write_manifest(
        d.path(),
        serde_json::json!([
            {"node": evil, "file": "a.json", "status": "ok"},
            {"node": "x".repeat(10_000), "status": "failed", "reason": "\u{1b}[31mred\u{9b}2J"},
            {"node": "\u{0}", "status": "\u{1b}[5m"}
        ]),
    );
    let b = bundle::load(d.path()).unwrap();
    assert!(b.nodes[1].name.chars().count() <= bundle::MAX_NODE_NAME);
    let mut a = App::bundle(b, &opts());
    for n in &a.cluster.as_ref().unwrap().nodes {
        assert!(
            !n.name.chars().any(dpscope::sanitize::is_unsafe),
            "{:?}",
            n.name
        );
    }
    let mut screens = vec![screen(&a, 120, 40), screen(&a, 80, 24)];
    a.update(Action::GotoPane(PaneId::Programs));
    screens.push(screen(&a, 120, 40));
    for s in screens {
        assert!(
            !s.lines()
                .any(|l| l.chars().any(dpscope::sanitize::is_unsafe)),
            "{s:?}"
        );
        assert!(s.contains("\\x1b"), "escapes shown as text: {s}");
    }
}

#[test]
fn symlinked_special_and_outside_node_files_are_unreadable_nodes_with_the_reason() {
    let d = tempfile::Builder::new()
        .prefix("dpscope-links")
        .tempdir()
        .unwrap();
    let outside = tempfile::Builder::new()
        .prefix("dpscope-out")
        .tempdir()
        .unwrap();
    copy_node(outside.path(), "node-a.json", "real.json");
    copy_node(d.path(), "node-b.json", "ok.json");
    std::os::unix::fs::symlink(outside.path().join("real.json"), d.path().join("link.json"))
        .unwrap();
    let fifo = d.path().join("fifo.json");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    std::fs::create_dir(d.path().join("dir.json")).unwrap();
    write_manifest(
        d.path(),
        serde_json::json!([
            {"node": "ok", "file": "ok.json"},
            {"node": "link", "file": "link.json"},
            {"node": "fifo", "file": "fifo.json"},
            {"node": "dir", "file": "dir.json"},
            {"node": "up", "file": "../real.json"},
        ]),
    );
    // A FIFO must not block the reader: this returns.
    let b = bundle::load(d.path()).unwrap();
    let st: Vec<(&str, &str)> = b
        .nodes
        .iter()
        .map(|n| (n.name.as_str(), n.status.as_str()))
        .collect();
    assert_eq!(
        st,
        [
            ("ok", "ok"),
            ("link", "unreadable"),
            ("fifo", "unreadable"),
            ("dir", "unreadable"),
            ("up", "unreadable")
        ]
    );
    assert!(
        b.nodes[1].reason.contains("symbolic link"),
        "{}",
        b.nodes[1].reason
    );
    assert!(
        b.nodes[2].reason.contains("not a regular file"),
        "{}",
        b.nodes[2].reason
    );
    assert!(
        b.nodes[4].reason.contains("not a plain name"),
        "{}",
        b.nodes[4].reason
    );
    // A symlinked manifest is refused as a whole, with a reason.
    std::fs::rename(
        d.path().join("manifest.json"),
        outside.path().join("m.json"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("m.json"),
        d.path().join("manifest.json"),
    )
    .unwrap();
    let e = bundle::load(d.path()).unwrap_err();
    let e = format!(
        "{e}: {}",
        std::error::Error::source(&e)
            .map(|s| s.to_string())
            .unwrap_or_default()
    );
    assert!(e.contains("symbolic link"), "{e}");
}

#[test]
fn huge_manifests_are_refused_with_a_clear_error() {
    let d = tempfile::Builder::new()
        .prefix("dpscope-huge")
        .tempdir()
        .unwrap();
    // More nodes than a bundle holds.
    let many: Vec<serde_json::Value> = (0..bundle::MAX_NODES + 1)
        .map(|i| serde_json::json!({"node": format!("n{i}"), "status": "timeout"}))
        .collect();
    write_manifest(d.path(), serde_json::Value::Array(many));
    let e = bundle::load(d.path()).unwrap_err().to_string();
    assert!(e.contains("more than 5000 nodes"), "{e}");
    // A manifest past its size cap (padding in one string), read no further than the cap.
    let pad = "x".repeat(17 << 20);
    std::fs::write(
        d.path().join(bundle::MANIFEST),
        format!(
            "{{\"schema\":\"{}\",\"created_at\":\"{pad}\",\"nodes\":[]}}",
            bundle::BUNDLE_SCHEMA
        ),
    )
    .unwrap();
    let e = bundle::load(d.path()).unwrap_err().to_string();
    assert!(e.contains("larger than 16 MiB"), "{e}");
    // Through the binary: exit 2 and one line, no terminal touched.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dpscope"))
        .arg("replay")
        .arg(d.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("larger than 16 MiB"), "{err}");
}
