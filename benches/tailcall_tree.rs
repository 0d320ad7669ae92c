//! The tail-call tree on a big Cilium node, as the pane draws it every frame: N endpoints, each
//! with its entry program attached by tcx to its veth, a 48-slot call map with 14 programs and
//! their call sites, and its policy program in the 65,535-slot `cilium_call_policy`. Pure: no
//! kernel state, no privileges. `cargo bench --bench tailcall_tree`; results in
//! docs/benchmarks.md.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dpscope::app::{Action, App, UiOptions};
use dpscope::model::{
    Attachment, PaneId, Program, Snapshot, TailCallMap, TailCallSite, TailCallSlot,
};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::time::Duration;

const POLICY: u32 = 1;

/// Slot, function, and the slots its code tail-calls (1.18 numbering).
const SLOTS: &[(u32, &str, &[u32])] = &[
    (1, "tail_drop_notify", &[]),
    (6, "tail_handle_arp", &[]),
    (7, "tail_handle_ipv4", &[30]),
    (10, "tail_handle_ipv6", &[33]),
    (11, "tail_ipv4_policy", &[]),
    (12, "tail_ipv6_policy", &[]),
    (13, "tail_ipv4_to_endpoint", &[1]),
    (14, "tail_ipv6_to_endpoint", &[1]),
    (26, "tail_handle_ipv4_cont", &[]),
    (27, "tail_handle_ipv6_cont", &[]),
    (28, "tail_ipv4_ct_ingress", &[]),
    (30, "tail_ipv4_ct_egress", &[26]),
    (31, "tail_ipv6_ct_ingress", &[]),
    (33, "tail_ipv6_ct_egress", &[27]),
];

fn node(endpoints: u32) -> Snapshot {
    let mut s = Snapshot::empty();
    let mut policy = TailCallMap {
        map_id: POLICY,
        map_name: "cilium_call_policy".into(),
        kind: "call_policy".into(),
        max_entries: 65535,
        ..Default::default()
    };
    for e in 0..endpoints {
        let ep = 100 + e;
        let base = 10_000 + e * 100;
        let calls = 1000 + e;
        let entry = base;
        let pol = base + 99;
        s.attachments.push(Attachment {
            ifindex: 100 + e,
            ifname: format!("lxc{e:011x}"),
            hook: "tcx_ingress".into(),
            prog_id: entry,
            ..Default::default()
        });
        let prog = |id: u32, name: &str, maps: Vec<u32>| Program {
            id,
            name: name.into(),
            kernel_name: name.chars().take(15).collect(),
            map_ids: maps,
            ..Default::default()
        };
        s.programs
            .push(prog(entry, "cil_from_container", vec![calls]));
        s.programs.push(prog(pol, "cil_lxc_policy", vec![calls]));
        let mut m = TailCallMap {
            map_id: calls,
            map_name: format!("cilium_calls_{ep:05}"),
            kind: "cilium_calls".into(),
            max_entries: 48,
            endpoint_id: Some(ep),
            layout: Some("1.18".into()),
            sites: vec![
                TailCallSite {
                    prog_id: entry,
                    index: Some(7),
                },
                TailCallSite {
                    prog_id: pol,
                    index: Some(13),
                },
            ],
            ..Default::default()
        };
        for (k, (slot, name, targets)) in SLOTS.iter().enumerate() {
            let id = base + 1 + k as u32;
            let mut maps = vec![calls];
            if *slot == 26 {
                maps = vec![POLICY];
                policy.sites.push(TailCallSite {
                    prog_id: id,
                    index: None,
                });
            }
            s.programs.push(prog(id, name, maps));
            m.slots.push(TailCallSlot {
                index: *slot,
                prog_id: id,
                slot_name: Some(format!("SLOT_{slot}")),
                ..Default::default()
            });
            for t in *targets {
                m.sites.push(TailCallSite {
                    prog_id: id,
                    index: Some(*t),
                });
            }
        }
        policy.slots.push(TailCallSlot {
            index: ep,
            prog_id: pol,
            ..Default::default()
        });
        s.tailcalls.push(m);
    }
    s.tailcalls.push(policy);
    s
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// CPU time of this thread: the build machine is shared, and wall time there counts the
/// other sessions' work too.
fn cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec to fill; CLOCK_THREAD_CPUTIME_ID needs nothing else.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Median CPU time of `runs` calls.
fn time(runs: usize, mut f: impl FnMut()) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let t = cpu();
                f();
                cpu() - t
            })
            .collect(),
    )
}

fn main() {
    println!("CPU time of one call, median of 9 (ms)");
    println!(
        "| endpoints | tree lines | graph | forest | pane tree | frame 120x40 | show tailcalls (text) | DOT |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for n in [10u32, 100, 200, 500] {
        let snap = node(n);
        let lines = {
            let mut flat = Vec::new();
            dpscope::pane::tree::flatten(&dpscope::pane::tailcalls::build(&snap), &mut flat);
            flat.len()
        };
        let graph = time(9, || {
            std::hint::black_box(dpscope::model::tailgraph::Graph::new(
                &snap.tailcalls,
                &snap.programs,
            ));
        });
        let forest = time(9, || {
            std::hint::black_box(dpscope::model::tailgraph::forest(&snap));
        });
        let build = time(9, || {
            std::hint::black_box(dpscope::pane::tailcalls::build(&snap));
        });
        let mut app = App::with_snapshot(snap.clone(), &UiOptions::default());
        app.update(Action::Resize(120, 40));
        app.update(Action::GotoPane(PaneId::Tailcalls));
        let mut term = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
        let frame = time(9, || {
            term.draw(|f| {
                dpscope::views::draw(f, &app);
            })
            .expect("draw");
        });
        let text = time(9, || {
            let t = dpscope::pane::plain::pane_table(PaneId::Tailcalls, &snap, None);
            std::hint::black_box(dpscope::pane::plain::render(
                &t,
                dpscope::pane::plain::Format::Text,
            ));
        });
        let dot = time(9, || {
            std::hint::black_box(dpscope::pane::tailcalls::dot(&snap));
        });
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "| {n} | {lines} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            ms(graph),
            ms(forest),
            ms(build),
            ms(frame),
            ms(text),
            ms(dot)
        );
    }
}
