//! The demo scenario (tests/demo_scenario, which `examples/demo_node.rs` records into
//! `assets/demo.json`) on the real kernel: no pane of what it records may be empty, and none
//! unavailable for a reason other than the ones listed here; the story it tells must be what
//! dpscope collected (the deny drops real packets, the tail calls start at the pod's veth, the
//! stale filter is flagged, the transfer retransmits, Landlock denies, the snapshots differ).
//!
//! A second test checks the committed `assets/demo.json` the same way, without privileges.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod demo_scenario;

use demo_scenario::{
    Options, ALLOWED_PORT, DENIED_PORT, ENDPOINT, LOSSY_PORT, POD_IDENTITY, UNLISTED_PORT,
    XDP_ABORT_PORT,
};
use dpscope::model::tailgraph::{forest, walk, Item};
use dpscope::model::{PaneId, Snapshot};
use dpscope::pane::ctx::Derived;
use dpscope::pane::probe_rates::RetransGroup;
use dpscope::pane::Ctx;

/// What each pane of the demo shows: at least this many rows in the last snapshot, or (where
/// the scenario itself cannot fill a pane on this kind of kernel) the reason it is unavailable.
/// Every pane is listed; a pane added to dpscope fails here until the demo shows it.
///
/// None is expected to be unavailable: BPF LSM programs cannot load on this kernel (the
/// `lsm` probe reports "refused"), but the Denials pane then runs on the syscall-exit
/// fallback and shows the Landlock denials; the Node pane says why the LSM probe is off.
const PANES: &[(PaneId, usize, Option<&str>)] = &[
    (PaneId::Programs, 20, None),
    (PaneId::Maps, 20, None),
    // lxc tcx; xdp, tcx and two tc filters on the stale hook.
    (PaneId::Attachments, 5, None),
    (PaneId::Drops, 4, None),
    (PaneId::Retransmits, 2, None),
    (PaneId::Denials, 2, None),
    (PaneId::Services, 4, None),
    (PaneId::Conntrack, 5, None),
    (PaneId::Policy, 6, None),
    (PaneId::Tailcalls, 1, None),
    (PaneId::Identities, 5, None),
    (PaneId::Endpoints, 3, None),
    (PaneId::Metrics, 3, None),
    (PaneId::Flows, 1, None),
    (PaneId::XdpErrors, 1, None),
    (PaneId::Node, 1, None),
];

/// Why the own LSM probe may be off here (the Node pane says it; no pane is unavailable).
const LSM_OFF: &str = "BPF LSM programs refused";

fn counts(snap: &Snapshot, prev: Option<&Snapshot>) -> Vec<(PaneId, usize)> {
    let derived = Derived::compute(prev, snap, RetransGroup::default());
    let ctx = Ctx::standalone(snap, prev, &derived);
    PaneId::ALL
        .iter()
        .map(|&id| (id, dpscope::pane::get(id).count(&ctx)))
        .collect()
}

/// Every pane has its rows, or is unavailable for its listed reason, and nothing else is
/// unavailable.
fn check_panes(snaps: &[Snapshot]) {
    let last = snaps.last().unwrap();
    let prev = snaps.get(snaps.len().wrapping_sub(2));
    let counts = counts(last, prev);
    let mut short = Vec::new();
    for &(id, n) in &counts {
        let (_, min, reason) = PANES
            .iter()
            .find(|(p, _, _)| *p == id)
            .unwrap_or_else(|| panic!("pane {id:?} has no expectation in this test"));
        let why = last.unavailable_reason(id.name());
        match reason {
            Some(r) if !why.is_some_and(|w| w.contains(r)) => short.push(format!(
                "{id:?}: expected unavailable because {r}, got {why:?} with {n} rows"
            )),
            None if why.is_some() => short.push(format!("{id:?} is unavailable: {why:?}")),
            None if n < *min => short.push(format!("{id:?}: {n} rows, want at least {min}")),
            _ => {}
        }
    }
    assert!(short.is_empty(), "{short:#?}\nrows per pane: {counts:?}");
    let unexpected: Vec<_> = last
        .node
        .unavailable
        .iter()
        .filter(|u| {
            !PANES
                .iter()
                .any(|(p, _, r)| p.name() == u.pane && r.is_some_and(|r| u.reason.contains(r)))
        })
        .collect();
    assert!(unexpected.is_empty(), "unavailable: {unexpected:?}");
    for p in &last.node.probes {
        let expected_off = p.name == "lsm" && p.detail.contains(LSM_OFF);
        assert!(
            p.loaded || expected_off || p.detail.contains("not needed"),
            "probe {} not loaded: {}",
            p.name,
            p.detail
        );
    }
}

/// The story the demo tells, as dpscope collected it.
fn check_story(snaps: &[Snapshot], lxc_host: &str, stale_host: &str, pod_ip: &str, host_ip: &str) {
    let last = snaps.last().unwrap();
    // Tail calls: interface → hook → entry (endpoint 403) → … → cilium_call_policy[403].
    let tree = forest(last);
    let root = tree
        .iter()
        .find(|n| matches!(&n.item, Item::Interface { name, .. } if name == lxc_host))
        .unwrap_or_else(|| panic!("no tail-call root at {lxc_host}: {tree:#?}"));
    let mut entry = false;
    let mut policy_hop = false;
    let mut cycle = false;
    walk(std::slice::from_ref(root), &mut |_, _, n| match &n.item {
        Item::Entry {
            prog_id, endpoint, ..
        } => {
            entry |= last
                .program(*prog_id)
                .is_some_and(|p| p.name == "cil_from_container")
                && *endpoint == Some(u32::from(ENDPOINT));
        }
        Item::Keyed { index, prog_id, .. } => {
            policy_hop |= *index == Some(u32::from(ENDPOINT))
                && last
                    .program(*prog_id)
                    .is_some_and(|p| p.name == "cil_lxc_policy");
        }
        _ => cycle |= n.cycle,
    });
    assert!(entry && policy_hop && !cycle, "{root:#?}");

    // The stale tc filter is flagged on its hook.
    assert!(
        last.attachments
            .iter()
            .any(|a| a.ifname == stale_host && a.hook == "tc_ingress" && a.likely_stale),
        "{:#?}",
        last.attachments
    );

    // The deny entry dropped real packets: the kernel's drop (TC_INGRESS at the pod's veth),
    // the datapath's metrics and the entry's own counters agree that it happened.
    let drop_to = |port: u16| {
        last.drops
            .iter()
            .filter(|d| {
                d.reason_name == "TC_INGRESS"
                    && d.ifname == lxc_host
                    && d.src == pod_ip
                    && d.dst == host_ip
                    && d.dst_port == port
            })
            .map(|d| d.count)
            .sum::<u64>()
    };
    assert!(drop_to(DENIED_PORT) >= 2, "{:#?}", last.drops);
    assert!(drop_to(UNLISTED_PORT) >= 5, "{:#?}", last.drops);
    assert_eq!(
        last.drops
            .iter()
            .filter(|d| d.dst == host_ip && d.dst_port == DENIED_PORT)
            .map(|d| d.src_identity)
            .next(),
        Some(Some(POD_IDENTITY)),
        "drops carry the pod's identity"
    );
    assert!(
        last.drops
            .iter()
            .any(|d| d.reason_name == "NETFILTER_DROP" && d.dst_port == LOSSY_PORT),
        "{:#?}",
        last.drops
    );
    let metric = |reason: u8| {
        last.metrics
            .iter()
            .filter(|m| m.reason == reason)
            .map(|m| m.packets)
            .sum::<u64>()
    };
    assert!(metric(181) >= 2, "DROP_POLICY_DENY: {:#?}", last.metrics);
    assert!(metric(133) >= 5, "DROP_POLICY: {:#?}", last.metrics);
    assert!(metric(0) > 0, "forwarded: {:#?}", last.metrics);
    let deny = last
        .policy
        .iter()
        .find(|p| p.endpoint_id == ENDPOINT && p.verdict.to_lowercase().contains("deny"))
        .unwrap_or_else(|| panic!("no deny entry: {:#?}", last.policy));
    assert!(deny.packets.unwrap_or(0) >= 2, "{deny:?}");

    // Conntrack the datapath wrote for the allowed connection.
    assert!(
        last.conntrack.iter().any(|c| c.src == pod_ip
            && c.dst_port == ALLOWED_PORT
            && c.src_identity == POD_IDENTITY
            && c.packets.unwrap_or(0) > 0),
        "{:#?}",
        last.conntrack
    );

    // Retransmits of the lossy transfer; XDP aborts; the Landlock denial.
    assert!(
        last.retransmits
            .iter()
            .any(|r| r.dst_port == LOSSY_PORT && r.retransmits > 0),
        "{:#?}",
        last.retransmits
    );
    assert!(
        last.xdp_errors
            .iter()
            .any(|x| x.action == "ABORTED" && x.count >= 9),
        "{:#?}",
        last.xdp_errors
    );
    assert!(
        last.flows.iter().any(|f| f.dst_port == LOSSY_PORT),
        "{:#?}",
        last.flows
    );
    assert!(
        last.denials
            .iter()
            .any(|d| d.hook == "file_open" && d.target.ends_with("/secret")),
        "{:#?}",
        last.denials
    );
    let _ = XDP_ABORT_PORT;

    // Over time: the first snapshot has none of the trouble, the last has it all, and a
    // backend went into quarantine between the last two.
    let first = &snaps[0];
    assert!(first.denials.is_empty() && first.retransmits.is_empty());
    let d = dpscope::model::diff::diff(first, last);
    for pane in [
        PaneId::Drops,
        PaneId::Denials,
        PaneId::Conntrack,
        PaneId::Services,
    ] {
        assert!(
            d.pane(pane).is_some_and(|p| !p.changes.is_empty()),
            "no change in {pane:?} from the first snapshot to the last: {}",
            d.to_text()
        );
    }
    let state = |s: &Snapshot| {
        s.services
            .iter()
            .flat_map(|s| &s.backends)
            .find(|b| b.backend_id == 8)
            .map(|b| b.state.clone())
    };
    let before = state(&snaps[snaps.len() - 2]);
    let after = state(last);
    assert!(
        before != after && after.as_deref().is_some_and(|s| s.contains("quarantine")),
        "{before:?} → {after:?}"
    );
}

#[test]
fn the_demo_scenario_fills_every_pane() {
    if !common::require_priv("the_demo_scenario_fills_every_pane") {
        return;
    }
    let started = std::time::Instant::now();
    let (mut snaps, built) = demo_scenario::run(Options::quick());
    for s in &mut snaps {
        demo_scenario::scope(s, &built);
    }
    eprintln!("scenario: {:?}", started.elapsed());
    assert!(snaps.len() >= 4, "{} snapshots", snaps.len());
    // Recorded and read back the way `replay` reads assets/demo.json.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.json");
    let mut buf = Vec::new();
    let mut w = dpscope::model::recording::Writer::new(&mut buf, true);
    for s in &snaps {
        w.write(s).unwrap();
    }
    drop(w);
    std::fs::write(&path, &buf).unwrap();
    let loaded = dpscope::model::io::load(&path).expect("the recording loads");
    let back = loaded.snapshots;
    assert_eq!(back.len(), snaps.len());
    check_panes(&back);
    check_story(
        &back,
        &built.lxc_host,
        &built.stale_host,
        &demo_scenario::pod_ip(),
        &demo_scenario::host_ip(),
    );
    assert!(
        back.last()
            .unwrap()
            .denials
            .iter()
            .any(|d| d.pid == built.landlock_pid),
        "the Landlock shell's own denial"
    );
    // Nothing is left behind.
    for ns in &built.netns {
        assert!(!common::Netns::exists(ns), "netns {ns} left behind");
    }
    for dev in [&built.lxc_host, &built.stale_host] {
        assert!(common::ifindex(dev).is_none(), "{dev} left behind");
    }
    assert!(!common::Bpffs::is_mounted(std::path::Path::new(
        &built.bpffs
    )));
    assert!(!built.landlock_secret.exists(), "scratch files left behind");
}

/// The committed demo shows every pane (no privileges needed).
#[test]
fn the_committed_demo_fills_every_pane() {
    let path = format!("{}/assets/demo.json", env!("CARGO_MANIFEST_DIR"));
    let loaded = dpscope::model::io::load(std::path::Path::new(&path)).expect("demo loads");
    let snaps = loaded.snapshots;
    assert!(snaps.len() >= 4, "{} snapshots", snaps.len());
    check_panes(&snaps);
    let last = snaps.last().unwrap();
    let lxc = last
        .attachments
        .iter()
        .find(|a| a.prog_name == "cil_from_container")
        .map(|a| a.ifname.clone())
        .expect("cil_from_container attached");
    let stale = last
        .attachments
        .iter()
        .find(|a| a.likely_stale)
        .map(|a| a.ifname.clone())
        .expect("a stale filter");
    // The committed demo's addresses: the endpoint's, and the host's /32 (identity 1).
    let pod = last
        .endpoints
        .iter()
        .find(|e| e.endpoint_id == ENDPOINT)
        .map(|e| e.address.clone())
        .expect("endpoint 403");
    let host = last
        .identities
        .iter()
        .find(|i| i.identity == 1 && i.prefix.ends_with("/32"))
        .map(|i| i.prefix.trim_end_matches("/32").to_string())
        .expect("the host's identity");
    check_story(&snaps, &lxc, &stale, &pod, &host);
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size < 4 << 20, "assets/demo.json is {size} bytes");
}

/// The screens README.md shows are the demo's: the block after each
/// `<!-- demo screen: keys=K,K size=WxH lines=A-B -->` is what `dpscope replay assets/demo.json`
/// draws at that size after those keys (a character, `Enter`, `Tab` or `Esc` each), lines A to B
/// of it (1-based; all when left out).
/// On a mismatch the test prints the block as it should read.
#[test]
fn readme_screens_are_the_demos() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use dpscope::app::{App, UiOptions};
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let loaded =
        dpscope::model::io::load(std::path::Path::new(&format!("{root}/assets/demo.json")))
            .expect("demo loads");
    let lines: Vec<&str> = readme.lines().collect();
    let mut checked = 0;
    let mut wrong: Vec<(usize, usize, String)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(spec) = line
            .strip_prefix("<!-- demo screen:")
            .and_then(|s| s.strip_suffix("-->"))
        else {
            continue;
        };
        let field = |name: &str| {
            spec.split_whitespace()
                .find_map(|f| f.strip_prefix(&format!("{name}=")))
                .map(str::to_string)
        };
        let keys = field("keys").unwrap_or_default();
        let size = field("size").expect("size=WxH");
        let (w, h) = size.split_once('x').expect("WxH");
        let (w, h): (u16, u16) = (w.parse().unwrap(), h.parse().unwrap());
        let mut app = App::replay(
            "assets/demo.json".into(),
            loaded.snapshots.clone(),
            &[],
            &UiOptions::default(),
        );
        for k in keys.split(',').filter(|k| !k.is_empty()) {
            let code = match k {
                "Enter" => KeyCode::Enter,
                "Tab" => KeyCode::Tab,
                "Esc" => KeyCode::Esc,
                _ => KeyCode::Char(k.chars().next().unwrap()),
            };
            app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
        }
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| {
            dpscope::views::draw(f, &app);
        })
        .unwrap();
        let buf = t.backend().buffer();
        let screen: Vec<String> = (0..h)
            .map(|y| {
                let s: String = (0..w).map(|x| buf[(x, y)].symbol()).collect();
                s.trim_end().to_string()
            })
            .collect();
        let (a, b) = field("lines")
            .and_then(|r| {
                let (a, b) = r.split_once('-')?;
                Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?))
            })
            .unwrap_or((1, h as usize));
        let mut want: Vec<&str> = screen[a - 1..b].iter().map(String::as_str).collect();
        // A block does not end in blank lines (the screen's last line is the message line).
        while want.last() == Some(&"") {
            want.pop();
        }
        assert_eq!(
            lines.get(i + 1).copied(),
            Some("```"),
            "a block follows {line}"
        );
        let got: Vec<&str> = lines[i + 2..]
            .iter()
            .take_while(|l| **l != "```")
            .map(|l| l.trim_end())
            .collect();
        if got != want {
            wrong.push((i + 2, got.len(), want.join("\n")));
        }
        checked += 1;
    }
    assert!(checked >= 2, "{checked} demo screens found in README.md");
    if wrong.is_empty() {
        return;
    }
    // After regenerating the demo: DPSCOPE_BLESS_README=1 writes the screens into README.md.
    if std::env::var("DPSCOPE_BLESS_README").as_deref() == Ok("1") {
        let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        for (at, len, text) in wrong.iter().rev() {
            out.splice(*at..at + len, text.lines().map(str::to_string));
        }
        std::fs::write(format!("{root}/README.md"), out.join("\n") + "\n").unwrap();
        return;
    }
    let why: Vec<String> = wrong
        .iter()
        .map(|(at, _, text)| format!("README.md line {} should read:\n{text}", at + 1))
        .collect();
    panic!(
        "README.md's screens differ from the demo's (DPSCOPE_BLESS_README=1 rewrites them):\n{}",
        why.join("\n\n")
    );
}

/// Text captures README.md labels `<!-- demo show: PANE -->`: every line of the block after it
/// is a line of `dpscope show PANE --from assets/demo.json`.
#[test]
fn readme_show_captures_are_the_demos() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let lines: Vec<&str> = readme.lines().collect();
    let mut checked = 0;
    for (i, line) in lines.iter().enumerate() {
        let Some(pane) = line
            .strip_prefix("<!-- demo show:")
            .and_then(|s| s.strip_suffix("-->"))
            .map(str::trim)
        else {
            continue;
        };
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_dpscope"))
            .args(["show", pane, "--from", &format!("{root}/assets/demo.json")])
            .output()
            .expect("run dpscope show");
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        let shown: Vec<&str> = text.lines().map(str::trim_end).collect();
        assert_eq!(
            lines.get(i + 1).copied(),
            Some("```"),
            "a block follows {line}"
        );
        for l in lines[i + 2..].iter().take_while(|l| **l != "```") {
            assert!(
                shown.contains(&l.trim_end()),
                "README.md: {l:?} is not a line of `dpscope show {pane}` of the demo:\n{text}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 2, "{checked} lines checked");
}
