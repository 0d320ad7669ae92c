//! Benchmark: per-packet cost of dpscope's tcx flow probe and kfree_skb drop probe, measured
//! by the kernel's BPF stats (run_time_ns / run_cnt), side by side with an empty tcx program on
//! the same hook in the same run, under a veth UDP load generator (every packet is dropped with
//! NO_SOCKET, so each one runs the empty program, the flow probe and the drop probe once).
//!
//! The load runs twice, IPv4 then IPv6 (the probes keep the two families in separate maps with
//! keys of different lengths), each with its own table. A third IPv4 run, with dpscope's probes
//! gone, measures the floor of any keyed in-kernel aggregation next to the empty program: a
//! kfree_skb program doing one LRU hash lookup with a 4-byte key and two atomic adds
//! (`test_lru_floor` in tests/bpf/probe_helpers.bpf.c).
//!
//! Run as root: `cargo bench --bench probe_cost`. Prints Markdown tables; results are recorded
//! in docs/benchmarks.md.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;

use dpscope::bpf::collector::Config;
use dpscope::bpf::probes::Probes;
use libbpf_rs::ObjectBuilder;
use std::net::UdpSocket;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::time::Instant;

static HELPERS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/probe_helpers.bpf.o"));
const PACKETS: usize = 200_000;
const ROUNDS: usize = 5;

fn stats(id: u32) -> (u64, u64, String) {
    // SAFETY: plain syscall wrapper.
    let fd = unsafe { libbpf_sys::bpf_prog_get_fd_by_id(id) };
    assert!(fd >= 0, "prog {id} gone");
    // SAFETY: fresh fd we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut info = libbpf_sys::bpf_prog_info::default();
    let mut len = std::mem::size_of::<libbpf_sys::bpf_prog_info>() as u32;
    // SAFETY: info has no output buffers; len is its size.
    let rc = unsafe { libbpf_sys::bpf_prog_get_info_by_fd(fd.as_raw_fd(), &mut info, &mut len) };
    assert_eq!(rc, 0);
    let name: String = info
        .name
        .iter()
        .take_while(|c| **c != 0)
        .map(|c| *c as u8 as char)
        .collect();
    (info.run_cnt, info.run_time_ns, name)
}

fn main() {
    if !common::require_priv("probe_cost") {
        return;
    }
    // SAFETY: plain syscall wrapper; the fd keeps stats on until dropped.
    let sfd = unsafe { libbpf_sys::bpf_enable_stats(libbpf_sys::BPF_STATS_RUN_TIME) };
    assert!(sfd >= 0, "bpf_enable_stats: {sfd}");
    // SAFETY: fresh fd we own.
    let _stats = unsafe { OwnedFd::from_raw_fd(sfd) };

    let a = common::Netns::new();
    let b = common::Netns::new();
    let (a_if, b_if) = (common::unique_name("ba"), common::unique_name("bb"));
    common::run(
        "ip",
        &[
            "link", "add", &a_if, "netns", &a.name, "type", "veth", "peer", "name", &b_if, "netns",
            &b.name,
        ],
    );
    for (ns, ifc, ip, ip6) in [
        (&a.name, &a_if, "10.250.77.1/24", "fd00:250:77::1/64"),
        (&b.name, &b_if, "10.250.77.2/24", "fd00:250:77::2/64"),
    ] {
        common::run("ip", &["-n", ns, "addr", "add", ip, "dev", ifc]);
        common::run("ip", &["-n", ns, "addr", "add", ip6, "dev", ifc, "nodad"]);
        common::run("ip", &["-n", ns, "link", "set", ifc, "up"]);
    }
    let b_idx = common::in_netns(&b.name, || common::ifindex(&b_if).unwrap());

    // Baseline: an empty tcx program on b's ingress.
    let obj = ObjectBuilder::default()
        .open_memory(HELPERS)
        .unwrap()
        .load()
        .unwrap();
    let empty = obj.progs().find(|p| p.name() == "test_tcx_empty").unwrap();
    let empty_id = common::prog_info(empty.as_fd()).0;
    let empty_fd = empty.as_fd().as_raw_fd();
    let _empty_link = common::in_netns(&b.name, || {
        // SAFETY: the program fd stays open (owned by `obj`) for the whole call.
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(empty_fd) };
        common::LinkFd::create(fd, b_idx, libbpf_sys::BPF_TCX_INGRESS, 0)
    });
    let cfg = Config {
        only_probes: vec!["drops".into(), "flows".into()],
        tc_ifaces: vec![format!("{}/{}", b.name, b_if)],
        ..Default::default()
    };
    let probes = Probes::new(&cfg);
    let ids = probes.prog_ids();
    let mut targets: Vec<(String, u32)> = vec![("empty tcx program (baseline)".into(), empty_id)];
    for id in &ids {
        let (_, _, name) = stats(*id);
        if name == "dpscope_flow_in" || name == "dpscope_drops" {
            targets.push((name, *id));
        }
    }
    assert_eq!(targets.len(), 3, "probes loaded: {ids:?}");

    for (family, from, to) in [
        ("IPv4", "10.250.77.1:0", "10.250.77.2:9"),
        ("IPv6", "[fd00:250:77::1]:0", "[fd00:250:77::2]:9"),
    ] {
        println!("\n{family} load\n");
        measure(&a.name, &targets, from, to);
    }
    drop(probes);

    // The floor, alone on kfree_skb (dpscope's probes are gone).
    let floor = obj
        .progs_mut()
        .find(|p| p.name() == "test_lru_floor")
        .unwrap();
    let floor_id = common::prog_info(floor.as_fd()).0;
    let _floor_link = floor.attach().unwrap();
    let floor_targets = vec![
        ("empty tcx program (baseline)".to_string(), empty_id),
        (
            "floor: LRU lookup (4-byte key) + 2 atomic adds on kfree_skb".to_string(),
            floor_id,
        ),
    ];
    println!("\nIPv4 load, dpscope's probes unloaded\n");
    measure(&a.name, &floor_targets, "10.250.77.1:0", "10.250.77.2:9");
}

/// ROUNDS rounds of PACKETS datagrams `from` → `to` (a port with no socket); prints the table.
fn measure(ns: &str, targets: &[(String, u32)], from: &str, to: &str) {
    println!("| program | runs | ns/run (median of {ROUNDS} rounds) | rounds |");
    println!("|---|---:|---:|---|");
    let mut results: Vec<Vec<f64>> = vec![Vec::new(); targets.len()];
    let mut runs = vec![0u64; targets.len()];
    let mut pps = Vec::new();
    for _ in 0..ROUNDS {
        let before: Vec<(u64, u64, String)> = targets.iter().map(|t| stats(t.1)).collect();
        let t0 = Instant::now();
        common::in_netns(ns, || {
            let s = UdpSocket::bind(from).unwrap();
            let payload = [0u8; 18];
            for _ in 0..PACKETS {
                // errors (ICMP-unreachable feedback as ECONNREFUSED) are expected and ignored
                let _ = s.send_to(&payload, to);
            }
        });
        pps.push(PACKETS as f64 / t0.elapsed().as_secs_f64());
        std::thread::sleep(std::time::Duration::from_millis(200));
        for (i, t) in targets.iter().enumerate() {
            let after = stats(t.1);
            let (dc, dt) = (after.0 - before[i].0, after.1 - before[i].1);
            runs[i] += dc;
            results[i].push(dt as f64 / dc.max(1) as f64);
        }
    }
    for (i, (name, _)) in targets.iter().enumerate() {
        let mut r = results[i].clone();
        r.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let rounds: Vec<String> = results[i].iter().map(|v| format!("{v:.0}")).collect();
        println!(
            "| {name} | {} | {:.0} | {} |",
            runs[i],
            r[r.len() / 2],
            rounds.join(", ")
        );
    }
    pps.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "\nload: {PACKETS} UDP packets per round over a veth pair, ~{:.0} packets/s",
        pps[pps.len() / 2]
    );
}
