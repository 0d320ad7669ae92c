//! Smaller faults of the Cilium panes as an SRE reads them: an endpoint labelled by its IPv4
//! address, an endpoint with an empty policy map still listed, the help overlay whole at
//! every size, dpscope's own programs and maps listed after the node's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::screen::screen;
use dpscope::app::{Action, App, UiOptions};
use dpscope::model::{MapInfo, PaneId, Snapshot};

fn fixture(name: &str) -> Snapshot {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    dpscope::model::io::load(&path).unwrap().snapshots.remove(0)
}

fn app_of(s: Snapshot) -> App {
    let opts = UiOptions {
        interval_ms: 1000,
        ..Default::default()
    };
    App::with_snapshot(s, &opts)
}

#[test]
fn endpoints_are_labelled_by_ipv4_and_an_empty_policy_map_is_listed() {
    let mut s = fixture("cilium.json");
    // The IPv6 entry of endpoint 412 first, as the lxc map may list it.
    s.endpoints.sort_by_key(|e| !e.address.contains(':'));
    // Endpoint 733 has a policy map with no entry.
    s.maps.push(MapInfo {
        id: 999,
        name: "cilium_policy_v".into(),
        map_type: "lpm_trie".into(),
        pinned: vec!["/sys/fs/bpf/tc/globals/cilium_policy_v2_00733".into()],
        ..Default::default()
    });
    let mut app = app_of(s);
    app.update(Action::GotoPane(PaneId::Policy));
    let shown = screen(&app, 120, 40);
    assert!(shown.contains("412 10.0.1.23 (10)"), "{shown}");
    assert!(!shown.contains("412 fd00"), "{shown}");
    assert!(shown.contains("733 10.0.1.102 (0)"), "{shown}");
    // Step to it: it says why it is empty.
    app.update(Action::NextGroup);
    let shown = screen(&app, 120, 40);
    assert!(shown.contains("endpoint 733 10.0.1.102"), "{shown}");
    assert!(shown.contains(dpscope::text::NO_POLICY_ENTRIES), "{shown}");
}

#[test]
fn the_help_is_whole_and_reaches_its_end_at_every_size() {
    let mut app = app_of(fixture("rich.json"));
    app.update(Action::ToggleHelp);
    let last = dpscope::app::help::lines(&app.keymap, app.mouse)
        .into_iter()
        .filter_map(|l| match l {
            dpscope::app::help::HelpLine::Key { does, .. } => Some(does),
            _ => None,
        })
        .next_back()
        .unwrap();
    for (w, h) in [(80u16, 24u16), (100, 30), (120, 40), (160, 45), (60, 20)] {
        app.width = w;
        app.height = h;
        app.update(Action::Top);
        app.update(Action::Bottom);
        let shown = screen(&app, w, h);
        // The end of the key table is on screen.
        let tail: String = last.split(' ').take(2).collect::<Vec<_>>().join(" ");
        assert!(
            shown.contains(&tail),
            "{w}x{h}: {last:?} not reached\n{shown}"
        );
        // No description cut at the border: page through; the long filter line is whole.
        app.update(Action::Top);
        let mut seen = String::new();
        for _ in 0..20 {
            seen.push_str(&screen(&app, w, h));
            app.update(Action::PageDown);
        }
        let flat: String = seen
            .replace('│', " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            flat.contains("filter rows (!x: rows without x)"),
            "{w}x{h}\n{seen}"
        );
        app.update(Action::Bottom);
        // One Up from the end moves the view (the scroll stops at the end, not past it).
        app.update(Action::Up);
        let up = screen(&app, w, h);
        if shown.lines().next().is_some_and(|l| l.contains("back")) {
            assert_ne!(up, shown, "{w}x{h}: Up at the end did nothing");
        }
    }
}

#[test]
fn dpscopes_own_programs_and_maps_come_last_and_are_counted() {
    let mut app = app_of(fixture("rich.json"));
    let s = screen(&app, 120, 40);
    let own_first = s.find("◆ dpscope_").unwrap();
    let node_last = s.rfind("sd_devices").unwrap();
    assert!(own_first > node_last, "{s}");
    assert!(s.contains("dpscope's own: 2, listed last"), "{s}");
    app.update(Action::GotoPane(PaneId::Maps));
    let s = screen(&app, 120, 40);
    let own_first = s.find("◆ dpscope_").unwrap();
    assert!(own_first > s.rfind("cilium_calls_00412").unwrap(), "{s}");
}

#[test]
fn dpscopes_own_links_come_after_the_nodes() {
    let mut app = app_of(fixture("rich.json"));
    app.update(Action::GotoPane(PaneId::Attachments));
    let s = screen(&app, 120, 40);
    let other = s
        .find("Other BPF links (4)")
        .expect("the node's links, counted");
    let own = s
        .find("◆ dpscope's own links (1)")
        .expect("dpscope's own links, counted");
    assert!(own > other, "{s}");
    // The node's links are all under their own heading.
    assert!(!s[other..own].contains("dpscope_kfree_skb"), "{s}");
}
