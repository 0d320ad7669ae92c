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
    syscall_cost();
    if std::env::var_os("DPSCOPE_BENCH_SYSCALLS_ONLY").is_some() {
        return;
    }

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

/// Successful openat calls per second the syscall load aims at.
const OPENAT_PER_S: u64 = 100_000;
const SYSCALL_ROUNDS: usize = 5;

/// The denial fallback (`syscall_denials`: tracepoints on the exits of execve, open*,
/// connect, bind, ptrace, bpf and mount) under a syscall-heavy load: a thread opening and
/// closing a file 100,000 times a second (every openat succeeds), next to an empty tracepoint
/// program on the same syscall (`test_tp_empty` on sys_exit_openat), in the same run, by the
/// kernel's BPF stats. Prints the cost per successful openat of every own program that runs on
/// it, as ns and as a multiple of the empty program, and each own program's node-wide CPU %.
///
/// `DPSCOPE_BENCH_OLD_DENIALS=FILE.bpf.o` also loads and attaches another build of the probe
/// object (the previous one, for a before/after in the same run).
fn syscall_cost() {
    let obj = ObjectBuilder::default()
        .open_memory(HELPERS)
        .unwrap()
        .load()
        .unwrap();
    let empty = obj
        .progs_mut()
        .find(|p| p.name() == "test_tp_empty")
        .unwrap();
    let empty_id = common::prog_info(empty.as_fd()).0;
    let _empty_link = empty.attach().unwrap();

    let cfg = Config {
        only_probes: vec!["syscall_denials".into()],
        ..Default::default()
    };
    let denials = dpscope::bpf::denials::DenialProbes::new(&cfg);
    let own = denials.own_prog_ids();
    assert!(!own.is_empty(), "the denial fallback did not load");
    let mut targets: Vec<(String, u32)> =
        vec![("empty tracepoint program (baseline)".into(), empty_id)];
    for id in &own {
        targets.push((stats(*id).2, *id));
    }
    // The previous build, if given: its programs as they were.
    let mut _old = None;
    if let Some(path) = std::env::var_os("DPSCOPE_BENCH_OLD_DENIALS") {
        let o = ObjectBuilder::default()
            .open_file(&path)
            .unwrap()
            .load()
            .unwrap();
        let mut links = vec![];
        for p in o.progs_mut() {
            let id = common::prog_info(p.as_fd()).0;
            targets.push((
                format!("previous build: {}", p.name().to_string_lossy()),
                id,
            ));
            links.push(p.attach().unwrap());
        }
        _old = Some((o, links));
    }

    let file = std::ffi::CString::new("/proc/self/stat").unwrap();
    let mut per_round: Vec<Vec<(u64, u64)>> = vec![vec![]; targets.len()];
    let mut rates = vec![];
    let mut walls = vec![];
    for _ in 0..SYSCALL_ROUNDS {
        let before: Vec<(u64, u64, String)> = targets.iter().map(|t| stats(t.1)).collect();
        let t0 = Instant::now();
        let mut calls = 0u64;
        // One second of openat + close, paced to OPENAT_PER_S.
        while t0.elapsed().as_secs_f64() < 1.0 {
            let due = (t0.elapsed().as_secs_f64() * OPENAT_PER_S as f64) as u64;
            if calls >= due {
                std::hint::spin_loop();
                continue;
            }
            // SAFETY: a NUL-terminated path; the fd is closed at once.
            let fd = unsafe { libc::openat(libc::AT_FDCWD, file.as_ptr(), libc::O_RDONLY) };
            assert!(fd >= 0, "openat");
            // SAFETY: fd was just opened by us.
            unsafe { libc::close(fd) };
            calls += 1;
        }
        let wall = t0.elapsed();
        rates.push(calls as f64 / wall.as_secs_f64());
        walls.push(wall.as_nanos() as u64);
        for (i, t) in targets.iter().enumerate() {
            let after = stats(t.1);
            per_round[i].push((after.0 - before[i].0, after.1 - before[i].1));
        }
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    let wall_ns: u64 = walls.iter().sum();
    println!("\nsyscall load: openat + close, ~{:.0} openat/s (target {OPENAT_PER_S}), {SYSCALL_ROUNDS} rounds of 1 s\n", median(rates));
    println!("| program | runs | ns/run (median of rounds) | per successful openat | × empty | node-wide CPU % |");
    println!("|---|---:|---:|---:|---:|---:|");
    let empty_runs: u64 = per_round[0].iter().map(|r| r.0).sum();
    let empty_ns = median(
        per_round[0]
            .iter()
            .map(|r| r.1 as f64 / r.0.max(1) as f64)
            .collect(),
    );
    for (i, (name, _)) in targets.iter().enumerate() {
        let runs: u64 = per_round[i].iter().map(|r| r.0).sum();
        let time: u64 = per_round[i].iter().map(|r| r.1).sum();
        let ns = median(
            per_round[i]
                .iter()
                .map(|r| r.1 as f64 / r.0.max(1) as f64)
                .collect(),
        );
        // What this program adds to each openat of the load (0 for programs on other syscalls).
        let per_openat = if name.contains("openat") || i == 0 {
            median(
                per_round[i]
                    .iter()
                    .zip(&per_round[0])
                    .map(|(r, e)| r.1 as f64 / e.0.max(1) as f64)
                    .collect(),
            )
        } else {
            0.0
        };
        let cpu = time as f64 / wall_ns as f64 * 100.0;
        println!(
            "| `{name}` | {runs} | {ns:.0} | {per_openat:.0} ns | {:.2} | {cpu:.3} % |",
            per_openat / empty_ns
        );
    }
    let own_total: u64 = per_round[1..1 + own.len()]
        .iter()
        .flatten()
        .map(|r| r.1)
        .sum();
    println!(
        "\nall of dpscope's denial programs together: {:.3} % of one CPU during the load ({empty_runs} openat calls)",
        own_total as f64 / wall_ns as f64 * 100.0
    );
    drop(denials);
}
