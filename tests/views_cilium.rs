//! View tests of the Cilium panes: every pane rendered on `TestBackend` from a hand-written
//! Cilium 1.18 node (`tests/fixtures/cilium.json`, its predecessor one second earlier for
//! rates), the "no Cilium maps found" state, expansion, endpoint stepping, filtering, plain
//! output, and a half-million-entry conntrack table rendered in bounded time.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::screen::screen;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use dpscope::app::{Action, App, UiOptions};
use dpscope::model::{CiliumInfo, CtEntry, PaneId, Snapshot, Unavailable};
use dpscope::pane::plain::{pane_table, render, Format};
use dpscope::pane::RowKey;
use dpscope::pane::Target;
use dpscope::text;
use std::time::{Duration, Instant};

fn fixture(name: &str) -> Snapshot {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    dpscope::model::io::load(&path).unwrap().snapshots.remove(0)
}

fn opts() -> UiOptions {
    UiOptions {
        no_color: false,
        theme: String::new(),
        interval_ms: 1000,
        ..Default::default()
    }
}

fn cilium() -> App {
    let mut app = App::with_snapshot(fixture("cilium_prev.json"), &opts());
    app.update(Action::Snapshot(Box::new(fixture("cilium.json"))));
    app
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn press(app: &mut App, keys: &[KeyEvent]) {
    for k in keys {
        app.handle_key(*k);
    }
}

fn pane(name: &str) -> PaneId {
    PaneId::parse(name).unwrap()
}

fn goto(app: &mut App, name: &str) {
    app.update(Action::GotoPane(pane(name)));
}

fn on(pane: &str) -> App {
    let mut a = cilium();
    goto(&mut a, pane);
    a
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

both_sizes!(tailcalls_pane, on("tailcalls"));
both_sizes!(services_pane, on("services"));
both_sizes!(conntrack_pane, on("conntrack"));
both_sizes!(identities_pane, on("identities"));
both_sizes!(endpoints_pane, on("endpoints"));
both_sizes!(policy_pane, on("policy"));
both_sizes!(metrics_pane, on("metrics"));

#[test]
fn panes_are_registered_in_order_with_aliases() {
    let names: Vec<&str> = PaneId::ALL.iter().map(|p| p.name()).collect();
    assert_eq!(
        names,
        vec![
            "programs",
            "maps",
            "attachments",
            "drops",
            "retransmits",
            "denials",
            "services",
            "conntrack",
            "policy",
            "tailcalls",
            "identities",
            "endpoints",
            "metrics",
            "flows",
            "xdp_errors",
            "node"
        ]
    );
    for (alias, pane) in [
        ("tail", "tailcalls"),
        ("svc", "services"),
        ("lb", "services"),
        ("ct", "conntrack"),
        ("ipcache", "identities"),
        ("ep", "endpoints"),
        ("policy", "policy"),
        ("metrics", "metrics"),
    ] {
        assert_eq!(PaneId::parse(alias).map(|p| p.name()), Some(pane));
    }
}

#[test]
fn palette_alias_opens_the_pane() {
    let mut a = cilium();
    press(
        &mut a,
        &[
            key(':'),
            key('s'),
            key('v'),
            key('c'),
            KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE),
        ],
    );
    assert_eq!(a.pane, PaneId::Services);
}

/// The "no Cilium maps found" state of every Cilium pane, with the collector's reason.
#[test]
fn no_cilium_maps_found() {
    let mut s = fixture("cilium.json");
    s.tailcalls.clear();
    s.services.clear();
    s.conntrack = Default::default();
    s.identities.clear();
    s.endpoints.clear();
    s.policy.clear();
    s.metrics.clear();
    s.cilium = None;
    let reason = "no pinned cilium_* maps under /sys/fs/bpf/tc/globals or /run/cilium/bpffs/tc/globals (is Cilium running on this node?)";
    s.node.unavailable = [
        "tailcalls",
        "services",
        "conntrack",
        "identities",
        "endpoints",
        "policy",
        "metrics",
    ]
    .iter()
    .map(|p| Unavailable {
        pane: (*p).into(),
        reason: reason.into(),
    })
    .collect();
    let mut a = App::with_snapshot(s, &opts());
    goto(&mut a, "services");
    insta::assert_snapshot!("no_cilium_services_80x24", screen(&a, 80, 24));
    goto(&mut a, "tailcalls");
    insta::assert_snapshot!("no_cilium_tailcalls_120x40", screen(&a, 120, 40));
    for pane in ["conntrack", "identities", "endpoints", "policy", "metrics"] {
        goto(&mut a, pane);
        let text = screen(&a, 120, 40);
        assert!(text.contains("no Cilium maps found"), "{pane}:\n{text}");
        assert!(text.contains("is Cilium running"), "{pane}:\n{text}");
    }
}

#[test]
fn empty_cilium_pane_without_a_reason_says_what_is_empty() {
    let mut s = fixture("cilium.json");
    s.conntrack = Default::default();
    // Live, the CT maps not read yet (the pane just opened): it says they are being read.
    let mut a = App::with_snapshot(s.clone(), &opts());
    goto(&mut a, "conntrack");
    let text = screen(&a, 80, 24);
    assert!(text.contains("reading the conntrack maps"), "{text}");
    // Read, and empty.
    s.cilium.as_mut().expect("cilium info").ct_read_ns = Some(s.monotonic_ns);
    let mut a = App::with_snapshot(s, &opts());
    goto(&mut a, "conntrack");
    let text = screen(&a, 80, 24);
    assert!(text.contains("no connection-tracking entries"), "{text}");
    assert!(text.contains("Cilium 1.18 layout"), "{text}");
    assert!(text.contains("read just now"), "{text}");
}

#[test]
fn snapshot_without_cilium_data_says_so() {
    let mut a = App::with_snapshot(Snapshot::empty(), &opts());
    goto(&mut a, "policy");
    insta::assert_snapshot!("no_cilium_data_policy_80x24", screen(&a, 80, 24));
}

#[test]
fn services_expand_into_backends() {
    let mut a = on("services");
    // Select 10.96.12.40:80/TCP (terminating backend) and 10.96.12.41:8080 (missing backend).
    press(&mut a, &[key('/')]);
    for c in "10.96.12.4".chars() {
        press(&mut a, &[key(c)]);
    }
    press(&mut a, &[KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)]);
    press(&mut a, &[KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)]);
    press(&mut a, &[key('j'), key('j'), key('j'), key('j'), key('l')]);
    let shown = screen(&a, 120, 40);
    insta::assert_snapshot!("services_expanded_120x40", shown);
    assert!(shown.contains("[terminating]"));
    assert!(shown.contains("backend 77 not found") && shown.contains("[missing] id 77"));
    insta::assert_snapshot!("services_expanded_80x24", screen(&a, 80, 24));
    // h on a backend row collapses its frontend and selects it.
    press(&mut a, &[key('j'), key('h')]);
    assert_eq!(a.view().expanded.len(), 1);
    assert_eq!(
        a.view().selected,
        Some(RowKey::Path("svc 10.96.12.41:8080 TCP".into()))
    );
}

#[test]
fn services_filter_matches_backend_addresses() {
    let mut a = on("services");
    a.view_mut().filter = "10.0.1.102".into();
    let text = screen(&a, 120, 40);
    for fe in [
        "172.18.0.3:31443/TCP",
        "203.0.113.10:443/TCP",
        "192.0.2.50:443/TCP",
    ] {
        assert!(text.contains(fe), "{fe} missing:\n{text}");
    }
    assert!(!text.contains("10.96.0.1:443/TCP"));
}

#[test]
fn policy_steps_to_the_second_endpoint() {
    let mut a = on("policy");
    press(&mut a, &[key('>')]);
    insta::assert_snapshot!("policy_endpoint_1187_120x40", screen(&a, 120, 40));
    insta::assert_snapshot!("policy_endpoint_1187_80x24", screen(&a, 80, 24));
    press(&mut a, &[key('>')]);
    assert_eq!(a.view().group, Some(RowKey::Id(412)));
    press(&mut a, &[key('<')]);
    assert_eq!(a.view().group, Some(RowKey::Id(1187)));
}

#[test]
fn filtered_conntrack() {
    let mut a = on("conntrack");
    a.view_mut().filter = "kube-apiserver".into();
    let by_identity = screen(&a, 120, 40);
    a.view_mut().filter = "10.96.0.10".into();
    let text = screen(&a, 120, 40);
    insta::assert_snapshot!("conntrack_filtered_120x40", text);
    assert!(text.contains("(8 of 62)"), "{text}");
    assert!(by_identity.contains("7 kube-apiserver") || by_identity.contains("no rows match"));
}

#[test]
fn conntrack_sorts_by_bytes_and_identity() {
    let mut a = on("conntrack");
    let bytes_col = 9;
    a.view_mut().sort = Some(bytes_col);
    a.view_mut().sort_desc = Some(true);
    let keys = a.pane_keys();
    let first = a
        .snapshot
        .conntrack
        .iter()
        .find(|e| dpscope::pane::conntrack::row_key(e) == keys[0])
        .unwrap();
    assert_eq!(first.bytes, Some(48_213_774));
    a.view_mut().sort = Some(7);
    a.view_mut().sort_desc = Some(false);
    let keys = a.pane_keys();
    let first = a
        .snapshot
        .conntrack
        .iter()
        .find(|e| dpscope::pane::conntrack::row_key(e) == keys[0])
        .unwrap();
    assert_eq!(first.src_identity, 1);
}

#[test]
fn metrics_sorted_by_rate_show_rising_policy_drops() {
    let a = on("metrics");
    let text = screen(&a, 120, 40);
    let policy = text.find("Policy denied").unwrap();
    let success_rest = text.find("Unsupported L3").unwrap();
    assert!(policy < success_rest, "{text}");
    assert!(text.contains("222/s"), "{text}");
    assert!(text.contains("drop !"), "{text}");
    assert!(text.contains("! drops rising"), "{text}");
}

/// The tree starts where packets enter: interface → hook → entry program (with its endpoint),
/// then the arrays it calls, their slots named by the array's own layout, and the calls of
/// the programs in them. The policy hop is this endpoint's slot and no cycle; a real cycle,
/// an empty slot called at a fixed index and a call whose index is computed each say so.
#[test]
fn tail_call_tree_is_rooted_at_attach_points_and_opens_programs() {
    let mut a = on("tailcalls");
    let text = screen(&a, 120, 40);
    let lines: Vec<&str> = text.lines().collect();
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in\n{text}"))
    };
    let (iface, hook, entry, array) = (
        at("▼ lxc8a3f1c2b9d7 (ifindex 14)"),
        at("cil_from_container #41 · endpoint 412"),
        at("cilium_calls_00412 (map 201) · 1.18 layout · 13 of 48 slots"),
        at("7 IPV4_FROM_LXC  tail_handle_ipv4 #903"),
    );
    assert!(iface < hook && hook < entry && entry < array, "{text}");
    assert!(lines[iface + 1].contains("▼ tcx ingress"), "{text}");
    let policy = lines[at("cilium_call_policy[412] → cil_lxc_policy #920")];
    assert!(
        policy.ends_with("this endpoint") || policy.contains("this endpoint  "),
        "{text}"
    );
    assert!(!policy.contains(text::CYCLE), "{text}");
    assert!(
        lines[at("tail_ipv4_policy #906")].contains("↺ cycle"),
        "{text}"
    );
    assert!(
        text.contains("27 IPV6_FROM_LXC_CONT  ∅ called but empty"),
        "{text}"
    );
    assert!(
        text.contains("cilium_calls_00412[?]  index not known statically"),
        "{text}"
    );
    assert!(
        text.contains("cilium_call_policy[?]  index not known statically"),
        "{text}"
    );
    // Interfaces whose entry program tail-calls nothing are not roots.
    assert!(!text.contains("lxc2b71e09d4c1"), "{text}");

    let keys = a.pane_keys();
    let slot7 = RowKey::Path(format!("{LXC}/m201/s7"));
    assert!(keys.contains(&slot7), "{keys:?}");
    let open = dpscope::pane::get(a.pane).open(&a.ctx(), a.view(), &slot7);
    assert_eq!(open, Some(Target::Program(903)));
    a.view_mut().selected = Some(slot7);
    a.update(Action::Enter);
    assert!(matches!(
        a.details.last(),
        Some(dpscope::app::state::Detail::Program(p)) if p.id == 903
    ));
}

/// The path of the lxc8a3f1c2b9d7 entry program's line in the tail-call tree.
const LXC: &str = "if14:lxc8a3f1c2b9d7/htcx_ingress:/p41@0";

/// `m` in the tail-call tree: the marked line is starred and its interface pinned on top,
/// built first so that what it shares with other interfaces is expanded under it; across a
/// refresh that adds an interface sorting first, while the interface is gone and after it is
/// back; export lists the pinned interface first; `m` again unmarks.
#[test]
fn marked_tail_call_slot_pins_its_interface() {
    let mut a = on("tailcalls");
    let before = a.pane_keys();
    let target = RowKey::Path(format!("{LXC}/m201/s26"));
    let steps = before.iter().position(|k| *k == target).unwrap();
    press(&mut a, &vec![key('j'); steps]);
    press(&mut a, &[key('m')]);
    let root = RowKey::Path("if14:lxc8a3f1c2b9d7".into());
    let keys = a.pane_keys();
    assert_eq!(keys[0], root, "{keys:?}");
    // The marked line stays selected and in view; `g` goes to the top, where its interface is.
    let s = screen(&a, 120, 40);
    assert!(
        s.lines().any(|l| l.contains("▶") && l.contains("★ 26")),
        "{s}"
    );
    press(&mut a, &[key('g')]);
    let s = screen(&a, 120, 40);
    let lines: Vec<&str> = s.lines().collect();
    assert!(lines[4].contains("lxc8a3f1c2b9d7 (ifindex 14)"), "{s}");
    let starred: Vec<&&str> = lines.iter().filter(|l| l.contains('★')).collect();
    assert_eq!(starred.len(), 1, "{s}");
    assert!(starred[0].contains("★ 26 IPV4_FROM_LXC_CONT"), "{s}");
    insta::assert_snapshot!("marked_tail_call_slot_120x40", s);

    // A refresh with a second interface for eth0's entry program, sorting before every other.
    let mut next = fixture("cilium.json");
    let mut early = next.attachments[0].clone();
    assert_eq!(early.prog_id, 57);
    early.ifindex = 3;
    early.ifname = "dmz0".into();
    next.attachments.push(early);
    a.update(Action::Snapshot(Box::new(next.clone())));
    let keys = a.pane_keys();
    assert_eq!(keys[0], root, "{keys:?}");
    let mut unmarked = a.clone();
    unmarked.view_mut().marked.clear();
    assert_eq!(unmarked.pane_keys()[0], RowKey::Path("if3:dmz0".into()));
    let s = screen(&a, 120, 40);
    assert_eq!(s.matches('★').count(), 1, "{s}");
    // Export: the pinned interface first, as on screen.
    let t = dpscope::pane::plain::pane_table_as(PaneId::Tailcalls, &a.snapshot, None, a.view());
    assert_eq!(t.rows[0][0], "lxc8a3f1c2b9d7 (ifindex 14)", "{:?}", t.rows);
    let dmz = t
        .rows
        .iter()
        .position(|r| r[0] == "dmz0 (ifindex 3)")
        .unwrap();
    let eth0 = t
        .rows
        .iter()
        .position(|r| r[0] == "eth0 (ifindex 2)")
        .unwrap();
    assert!(dmz < eth0, "{:?}", t.rows);
    // The entry program shared by dmz0 and eth0: its array expanded once, under dmz0.
    assert!(t.rows[dmz..eth0]
        .iter()
        .any(|r| r[0].contains("cilium_calls_netdev_00002 (map 205)")));
    assert!(!t.rows[eth0..]
        .iter()
        .any(|r| r[0].contains("cilium_calls_netdev_00002 (map 205)")));

    // The interface goes away: nothing starred, the mark kept; it comes back marked and pinned.
    let mut gone = next.clone();
    gone.attachments.retain(|x| x.ifindex != 14);
    a.update(Action::Snapshot(Box::new(gone)));
    assert!(!screen(&a, 120, 40).contains('★'));
    assert_eq!(a.pane_keys()[0], RowKey::Path("if3:dmz0".into()));
    assert_eq!(a.view().marked, vec![target.clone()]);
    a.update(Action::Snapshot(Box::new(next)));
    assert_eq!(a.pane_keys()[0], root);
    assert!(screen(&a, 120, 40).contains("★ 26 IPV4_FROM_LXC_CONT"));

    // `m` again: back to the tree's own order.
    a.view_mut().selected = Some(target);
    press(&mut a, &[key('m')]);
    assert!(a.view().marked.is_empty());
    assert_eq!(a.pane_keys(), unmarked.pane_keys());
    assert!(!screen(&a, 120, 40).contains('★'));
}

/// `show tailcalls --json` and the DOT export have the tree's shape: interface → hook → entry
/// → array → slots, the unattached arrays last.
#[test]
fn tail_call_json_and_dot_are_rooted_like_the_tree() {
    let snap = fixture("cilium.json");
    let forest = dpscope::pane::tailcalls::json_forest(&snap);
    let kinds: Vec<&str> = forest.iter().map(|n| n.kind).collect();
    assert_eq!(kinds, ["interface", "interface", "unattached"]);
    let lxc = &forest[1];
    assert_eq!(lxc.fields["ifname"], "lxc8a3f1c2b9d7");
    let entry = &lxc.children[0].children[0];
    assert_eq!(
        (entry.kind, entry.fields["endpoint_id"].as_u64()),
        ("entry", Some(412))
    );
    let array = &entry.children[0];
    assert_eq!(array.kind, "array");
    assert_eq!(array.fields["layout"], "1.18");
    assert_eq!(
        array.fields["layout_reason"],
        "48 slots (CILIUM_CALL_SIZE of 1.18)"
    );
    let slot26 = array
        .children
        .iter()
        .find(|s| s.fields["index"] == 26)
        .unwrap();
    let policy = &slot26.children[0];
    assert_eq!(policy.kind, "policy_call");
    assert_eq!(policy.fields["index"], 412);
    assert_eq!(policy.fields["resolved_by"], "this endpoint");
    assert_eq!(policy.fields["cycle"], false);
    let old = &forest[2].children[0];
    assert_eq!(
        (
            old.fields["map_name"].as_str(),
            old.fields["layout"].as_str()
        ),
        (Some("cilium_calls_00398"), Some("1.17"))
    );
    let json = serde_json::to_string(&forest).unwrap();
    assert!(
        json.contains("\"text\":\"cilium_call_policy[412] → cil_lxc_policy #920\""),
        "{json}"
    );

    let dot = dpscope::pane::tailcalls::dot(&snap);
    assert!(dot.starts_with("digraph tailcalls {"), "{dot}");
    for edge in [
        "\"if14\" -> \"prog41\" [label=\"tcx ingress\", style=bold]",
        "\"prog41\" -> \"map201\" [label=\"calls [6, 7, 10]\"]",
        "\"map201\" -> \"prog903\" [label=\"7 IPV4_FROM_LXC\"]",
        "\"prog914\" -> \"prog920\" [label=\"cilium_call_policy[412]\", style=dashed]",
        "\"prog913\" -> \"empty201_27\" [label=\"[27] IPV6_FROM_LXC_CONT\", style=dashed]",
        "\"prog940\" -> \"map202\" [label=\"index not known statically\", style=dotted]",
    ] {
        assert!(dot.contains(edge), "{edge} not in\n{dot}");
    }
    assert!(dot.contains("subgraph cluster_unattached"), "{dot}");
    assert!(dot.contains("color=red"), "the custom-calls cycle: {dot}");
    assert!(!dot.contains("\"prog0\""), "{dot}");
}

#[test]
fn plain_forms() {
    let cur = fixture("cilium.json");
    let prev = fixture("cilium_prev.json");
    let t = |name: &str, f: Format| render(&pane_table(pane(name), &cur, Some(&prev)), f);
    insta::assert_snapshot!("plain_services_text", t("services", Format::Text));
    insta::assert_snapshot!("plain_tailcalls_text", t("tailcalls", Format::Text));
    insta::assert_snapshot!("plain_policy_text", t("policy", Format::Text));
    insta::assert_snapshot!("plain_metrics_md", t("metrics", Format::Markdown));
    insta::assert_snapshot!("plain_identities_csv", t("identities", Format::Csv));
    insta::assert_snapshot!("plain_endpoints_text", t("endpoints", Format::Text));
    let ct = t("conntrack", Format::Text);
    assert_eq!(ct.lines().count(), cur.conntrack.len() + 1);
}

/// 524,288 entries (Cilium's default CT size): only the visible rows are formatted, so a
/// frame stays fast. Also the capped-read note.
#[test]
fn half_a_million_ct_entries_render_fast() {
    let mut s = fixture("cilium.json");
    let n: usize = 524_288;
    s.conntrack = (0..n)
        .map(|i| CtEntry {
            table: if i % 4 == 0 {
                "ct_any4_global"
            } else {
                "ct4_global"
            }
            .into(),
            protocol: if i % 4 == 0 { "UDP" } else { "TCP" }.into(),
            direction: "OUT".into(),
            src: format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255).into(),
            src_port: (i % 60_000) as u16 + 1024,
            dst: "10.0.2.31".into(),
            dst_port: 8080,
            flags: vec!["SeenNonSyn"].into(),
            expires_in_s: (i % 8000) as i64,
            rev_nat_id: 5,
            src_identity: 28461,
            packets: Some(i as u64),
            bytes: Some(i as u64 * 90),
            ..Default::default()
        })
        .collect::<Vec<_>>()
        .into();
    s.cilium = Some(CiliumInfo {
        layout: "1.18".into(),
        roots: vec!["/sys/fs/bpf".into()],
        ct_total: Some(1_482_113),
        ..Default::default()
    });
    let mut a = App::with_snapshot(s, &opts());
    goto(&mut a, "conntrack");
    let start = Instant::now();
    let text = screen(&a, 120, 40);
    let took = start.elapsed();
    let limit = if cfg!(debug_assertions) {
        Duration::from_secs(5)
    } else {
        Duration::from_millis(500)
    };
    assert!(took < limit, "one frame took {took:?}");
    assert!(text.contains("showing 524288 of 1482113"), "{text}");
    let start = Instant::now();
    a.update(Action::Down);
    assert!(start.elapsed() < limit);
    // ↓ moves the cursor in the order `update` kept: nothing is filtered, sorted or hashed
    // again, whatever the table's size; a frame formats only the rows on screen.
    let order = |a: &App| a.listing.as_ref().unwrap().order.clone();
    let kept = order(&a);
    for _ in 0..100 {
        a.update(Action::Down);
        screen(&a, 120, 40);
    }
    assert!(std::sync::Arc::ptr_eq(&kept, &order(&a)));
    assert_eq!(a.shown().selected, 101);
    assert_eq!(a.view().selected.as_ref(), kept.key(101).as_ref());
    a.update(Action::PageDown);
    assert!(std::sync::Arc::ptr_eq(&kept, &order(&a)));
    // A new sort is a new order, with the selection kept on its row.
    let row = a.view().selected.clone();
    a.update(Action::SortNext);
    assert!(!std::sync::Arc::ptr_eq(&kept, &order(&a)));
    assert_eq!(a.view().selected, row);
    let l = a.listing.as_ref().unwrap();
    assert_eq!(l.order.key(l.selected), row);
}
