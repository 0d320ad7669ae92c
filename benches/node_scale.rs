//! Benchmark: dpscope on a node with 1,000 programs, 300 maps and a 1,000,000-entry hash map,
//! then on a Cilium-shaped node (benches/common/cilium_node.rs: two releases' maps, six
//! 65,536-slot prog arrays, 200 call maps, array-of-maps, maglev, NAT and a full CT table).
//!
//! Run as root: `cargo bench --bench node_scale`. Prints Markdown tables; results are recorded
//! in docs/benchmarks.md. Measures the collector's cold and warm refresh (per phase), the live
//! UI's CPU over 20 s (utime + stime from /proc/PID/stat, UI in tmux), the CLI side by side
//! with bpftool on the same state, and the peak RSS of a one-shot snapshot.
//! `DPSCOPE_BENCH_CILIUM_ONLY=1` runs only the Cilium-shaped part; `DPSCOPE_BENCH_HOLD=SECS`
//! builds the Cilium-shaped node, prints the `--bpffs` arguments and keeps it up that long
//! (for profiling by hand), measuring nothing.
//! `DPSCOPE_BENCH_BEFORE=/path/to/older/dpscope` measures an older build's CLI and live UI on
//! the same Cilium state in the same run, for the before/after record.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dpscope::bpf::collector::{Collector, Config, Request, Want};
use dpscope::model::PaneId;
use std::ffi::CString;
use std::os::fd::{FromRawFd, OwnedFd};
mod common;

use common::{first_frame, median, time_cmd};
use std::time::{Duration, Instant};

const PROGS: usize = 1000;
const SMALL_MAPS: usize = 300;
const BIG_ENTRIES: u32 = 1_000_000;

fn create_map(name: &str, max: u32) -> OwnedFd {
    let c = CString::new(name).unwrap();
    // SAFETY: plain syscall wrapper with valid arguments.
    let fd = unsafe {
        libbpf_sys::bpf_map_create(
            libbpf_sys::BPF_MAP_TYPE_HASH,
            c.as_ptr(),
            4,
            8,
            max,
            std::ptr::null(),
        )
    };
    assert!(fd >= 0, "map create failed: {fd}");
    // SAFETY: fresh fd.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

fn fill(fd: &OwnedFd, n: u32) {
    use std::os::fd::AsRawFd;
    let chunk = 65_536u32;
    let mut start = 0u32;
    while start < n {
        let cnt = chunk.min(n - start);
        let keys: Vec<u32> = (start..start + cnt).collect();
        let vals: Vec<u64> = keys.iter().map(|k| *k as u64 * 3).collect();
        let mut count = cnt;
        let opts = libbpf_sys::bpf_map_batch_opts {
            sz: std::mem::size_of::<libbpf_sys::bpf_map_batch_opts>() as _,
            elem_flags: 0,
            flags: 0,
        };
        // SAFETY: buffers hold `cnt` keys and values of the map's sizes.
        let r = unsafe {
            libbpf_sys::bpf_map_update_batch(
                fd.as_raw_fd(),
                keys.as_ptr() as _,
                vals.as_ptr() as _,
                &mut count,
                &opts,
            )
        };
        assert_eq!(r, 0, "batch update failed");
        start += cnt;
    }
}

fn load_prog(name: &str, map_fd: i32) -> OwnedFd {
    // r1 = map (ld_imm64 pseudo map fd); r0 = 0; exit
    let insns = [
        libbpf_sys::bpf_insn {
            code: 0x18,
            _bitfield_align_1: [],
            _bitfield_1: libbpf_sys::bpf_insn::new_bitfield_1(1, 1),
            off: 0,
            imm: map_fd,
        },
        libbpf_sys::bpf_insn {
            code: 0,
            _bitfield_align_1: [],
            _bitfield_1: libbpf_sys::bpf_insn::new_bitfield_1(0, 0),
            off: 0,
            imm: 0,
        },
        libbpf_sys::bpf_insn {
            code: 0xb7,
            _bitfield_align_1: [],
            _bitfield_1: libbpf_sys::bpf_insn::new_bitfield_1(0, 0),
            off: 0,
            imm: 0,
        },
        libbpf_sys::bpf_insn {
            code: 0x95,
            _bitfield_align_1: [],
            _bitfield_1: libbpf_sys::bpf_insn::new_bitfield_1(0, 0),
            off: 0,
            imm: 0,
        },
    ];
    let n = CString::new(name).unwrap();
    let lic = CString::new("GPL").unwrap();
    // SAFETY: valid instruction array and strings for the duration of the call.
    let fd = unsafe {
        libbpf_sys::bpf_prog_load(
            libbpf_sys::BPF_PROG_TYPE_SOCKET_FILTER,
            n.as_ptr(),
            lic.as_ptr(),
            insns.as_ptr(),
            insns.len() as _,
            std::ptr::null_mut(),
        )
    };
    assert!(fd >= 0, "prog load failed: {fd}");
    // SAFETY: fresh fd.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

fn phases(s: &dpscope::model::Snapshot) -> String {
    s.node
        .collect_phases
        .iter()
        .map(|p| format!("{} {:.1}", p.name, p.micros as f64 / 1e3))
        .collect::<Vec<_>>()
        .join(", ")
}

fn main() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("node_scale benchmark needs root");
        return;
    }
    libbpf_rs::set_print(None);
    let bin = env!("CARGO_BIN_EXE_dpscope");
    if std::env::var_os("DPSCOPE_BENCH_CILIUM_ONLY").is_some() {
        cilium_node(bin);
        return;
    }
    let t = Instant::now();
    let big = create_map("bench_big_hash", BIG_ENTRIES);
    fill(&big, BIG_ENTRIES);
    let small: Vec<OwnedFd> = (0..SMALL_MAPS)
        .map(|i| {
            let m = create_map(&format!("bench_m{i}"), 1024);
            fill(&m, (i as u32 % 100) + 1);
            m
        })
        .collect();
    use std::os::fd::AsRawFd;
    let progs: Vec<OwnedFd> = (0..PROGS)
        .map(|i| load_prog(&format!("bench_p{i}"), small[i % SMALL_MAPS].as_raw_fd()))
        .collect();
    let setup = t.elapsed();

    let cfg = Config {
        bpffs_roots: vec![],
        ..Config::default()
    };
    let t = Instant::now();
    let mut c = Collector::new(cfg);
    let s = c.collect();
    let cold = t.elapsed();
    let cold_phases = phases(&s);
    let big_info = s
        .maps
        .iter()
        .find(|m| m.kernel_name == "bench_big_hash")
        .cloned();
    let mut warm = vec![];
    let mut warm_phases = String::new();
    for _ in 0..5 {
        let t = Instant::now();
        let w = c.collect();
        warm.push(t.elapsed());
        warm_phases = phases(&w);
    }
    let warm = median(warm);
    let mut ff = vec![];
    for _ in 0..5 {
        if let Some(d) = first_frame(bin, &[]) {
            ff.push(d);
        }
    }

    let runs = 5;
    let (d_maps, d_maps_b, d_rss) = time_cmd(bin, &["show", "maps", "--json"], runs);
    let (b_maps, b_maps_b, b_rss) = time_cmd("bpftool", &["map", "show", "-j"], runs);
    let (d_progs, _, d_prss) = time_cmd(bin, &["show", "programs", "--json"], runs);
    let (b_progs, _, b_prss) = time_cmd("bpftool", &["prog", "show", "-j"], runs);
    let (d_snap, d_snap_b, d_snap_rss) = time_cmd(bin, &["snapshot", "--duration", "0"], runs);

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "## node_scale ({} programs, {} maps, one hash map of {} entries)\n",
        s.programs.len(),
        s.maps.len(),
        BIG_ENTRIES
    );
    println!("setup (load + fill): {:.1} s\n", setup.as_secs_f64());
    println!("| measurement | dpscope | bpftool |");
    println!("|---|---|---|");
    if !ff.is_empty() {
        println!(
            "| live UI: process start → first frame with data (median of {}, tmux 120x40) | {:.0} ms | |",
            ff.len(),
            ms(median(ff))
        );
    }
    println!("| collector: first refresh (cold caches, helper lists for 1,000 new programs) | {:.0} ms | |", ms(cold));
    println!(
        "| collector: steady refresh (median of 5) | {:.0} ms | |",
        ms(warm)
    );
    println!(
        "| `show maps --json` vs `map show -j` (median of {runs}) | {:.0} ms, {} KB out, {} MB peak RSS | {:.0} ms, {} KB out, {} MB peak RSS |",
        ms(d_maps), d_maps_b / 1024, d_rss / 1024, ms(b_maps), b_maps_b / 1024, b_rss / 1024
    );
    println!(
        "| `show programs --json` vs `prog show -j` (median of {runs}) | {:.0} ms, {} MB peak RSS | {:.0} ms, {} MB peak RSS |",
        ms(d_progs), d_prss / 1024, ms(b_progs), b_prss / 1024
    );
    println!(
        "| `snapshot --duration 0` (median of {runs}) | {:.0} ms, {} KB, {} MB peak RSS | |",
        ms(d_snap),
        d_snap_b / 1024,
        d_snap_rss / 1024
    );
    println!("\ncold refresh phases (ms): {cold_phases}");
    println!("steady refresh phases (ms): {warm_phases}");
    if let Some(m) = big_info {
        println!(
            "1M-entry map as counted in the first refresh: entries {:?}, partial {}",
            m.entries, m.entries_partial
        );
    }
    drop(progs);
    drop(small);
    drop(big);
    cilium_node(bin);
}

/// CPU % of one core the live UI uses over `secs` seconds (after `warm` seconds), started in a
/// 120x40 tmux terminal with `args`: utime + stime of the process from /proc/PID/stat.
fn live_cpu(bin: &str, args: &[&str], warm: f64, secs: f64) -> Option<f64> {
    let sock = format!("dpscope-cpu-{}", std::process::id());
    let cmd = format!("exec {bin} {}", args.join(" "));
    let ok = std::process::Command::new("tmux")
        .args([
            "-L",
            &sock,
            "new-session",
            "-d",
            "-x",
            "120",
            "-y",
            "40",
            &cmd,
        ])
        .env("TERM", "xterm-256color")
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let pid = std::process::Command::new("tmux")
        .args(["-L", &sock, "list-panes", "-F", "#{pane_pid}"])
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<u32>()
                .ok()
        });
    let ticks = |pid: u32| -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let rest = &stat[stat.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        // Fields 14 and 15 (utime, stime) are at 11 and 12 after the comm.
        Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
    };
    let mut out = None;
    if let (true, Some(pid)) = (ok, pid) {
        std::thread::sleep(Duration::from_secs_f64(warm));
        let t0 = Instant::now();
        let a = ticks(pid);
        std::thread::sleep(Duration::from_secs_f64(secs));
        let b = ticks(pid);
        let wall = t0.elapsed().as_secs_f64();
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        if let (Some(a), Some(b)) = (a, b) {
            out = Some((b - a) as f64 / hz / wall * 100.0);
        }
    }
    let _ = std::process::Command::new("tmux")
        .args(["-L", &sock, "kill-server"])
        .status();
    out
}

fn cilium_node(bin: &str) {
    let t = Instant::now();
    let node = common::cilium_node::CiliumNode::build();
    let setup = t.elapsed();
    let roots: Vec<String> = node.roots.iter().map(|r| r.display().to_string()).collect();
    if let Some(secs) = std::env::var("DPSCOPE_BENCH_HOLD")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        // Keep the node up for profiling by hand (the state is freed when this returns).
        let args: Vec<String> = roots.iter().map(|r| format!("--bpffs {r}")).collect();
        println!(
            "Cilium-shaped node up for {secs} s: dpscope {}",
            args.join(" ")
        );
        std::thread::sleep(Duration::from_secs(secs));
        return;
    }
    let mut root_args: Vec<&str> = vec![];
    for r in &roots {
        root_args.extend(["--bpffs", r.as_str()]);
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;

    // The collector in process, as the live UI runs it (first refresh without helper lists).
    let collector = |want: Want| {
        Collector::new(Config {
            bpffs_roots: node.roots.clone(),
            fast_first: true,
            probes: false,
            want,
            ..Config::default()
        })
    };
    let mut c = collector(Want::live(PaneId::Programs));
    let t = Instant::now();
    let s = c.collect();
    let cold = t.elapsed();
    let cold_phases = phases(&s);
    let _ = c.collect(); // helper lists of new programs: the second refresh
    let mut warm = vec![];
    let mut warm_phases = String::new();
    for _ in 0..7 {
        let t = Instant::now();
        let w = c.collect();
        warm.push(t.elapsed());
        warm_phases = phases(&w);
    }
    let warm = median(warm);
    let tailcalls = s.tailcalls.len();
    let slots: usize = s.tailcalls.iter().map(|t| t.slots.len()).sum();

    // Conntrack open: each re-read, forced.
    c.handle(&Request::Pane(PaneId::Conntrack));
    let mut ct = vec![];
    let mut ct_rows = 0;
    let mut ct_phases = String::new();
    for _ in 0..3 {
        c.handle(&Request::Refresh);
        let t = Instant::now();
        let w = c.collect();
        ct.push(t.elapsed());
        ct_rows = w.conntrack.len();
        ct_phases = phases(&w);
    }
    let ct = median(ct);
    // Between re-reads: the kept table passed on.
    let t = Instant::now();
    let kept = c.collect();
    let ct_kept = t.elapsed();
    drop(kept);
    drop(c);

    // The iterator's one read vs the slot-by-slot sweep of the six big arrays.
    let iters = dpscope::bpf::iters::Iters::load().ok();
    let t = Instant::now();
    let scan = iters.as_ref().and_then(|i| i.scan_maps().ok());
    let scan_t = t.elapsed();
    let big: Vec<(u32, u32)> = s
        .maps
        .iter()
        .filter(|m| m.map_type == "prog_array" && m.max_entries == common::cilium_node::BIG_ARRAY)
        .map(|m| (m.id, m.max_entries))
        .collect();
    let t = Instant::now();
    let mut swept = 0;
    for (id, max) in &big {
        if let Ok(fd) = dpscope::bpf::sys::fd_by_id(dpscope::bpf::sys::ObjKind::Map, *id) {
            swept += dpscope::bpf::maps::id_slots(&fd, *max).len();
        }
    }
    let sweep_t = t.elapsed();
    let from_scan: usize = big
        .iter()
        .filter_map(|(id, _)| scan.as_ref().and_then(|s| s.slots.get(id)).map(Vec::len))
        .sum();
    drop(iters);

    let mut ff = vec![];
    for _ in 0..5 {
        if let Some(d) = first_frame(bin, &root_args) {
            ff.push(d);
        }
    }
    let cpu = live_cpu(bin, &root_args, 3.0, 20.0);
    let mut ct_args = root_args.clone();
    ct_args.extend(["--pane", "conntrack"]);
    let cpu_ct = live_cpu(bin, &ct_args, 3.0, 20.0);

    let runs = 9;
    let with = |a: &[&'static str]| -> Vec<&str> {
        let mut v: Vec<&str> = a.to_vec();
        v.extend(root_args.iter().copied());
        v
    };
    // Each `show` against the bpftool command(s) it replaces: `show attachments` lists the
    // hooks (`net show`) and every link (`link show`), so it is timed against both in turn.
    let shows: [(&[&str], &[&[&str]]); 5] = [
        (&["show", "maps", "--json"], &[&["map", "show", "-j"]]),
        (&["show", "programs", "--json"], &[&["prog", "show", "-j"]]),
        (&["show", "programs"], &[&["prog", "show"]]),
        (
            &["show", "attachments", "--json"],
            &[&["net", "show", "-j"], &["link", "show", "-j"]],
        ),
        (&["show", "node", "--json"], &[]),
    ];
    let before = std::env::var("DPSCOPE_BENCH_BEFORE").ok();
    let mut rows = vec![];
    for (d, b) in shows {
        let (dt, db, drss) = time_cmd(bin, &with(d), runs);
        let bt = (!b.is_empty()).then(|| {
            b.iter()
                .map(|c| time_cmd("bpftool", c, runs))
                .fold((Duration::ZERO, 0, 0), |acc, (t, bytes, rss)| {
                    (acc.0 + t, acc.1 + bytes, acc.2.max(rss))
                })
        });
        let old = before.as_ref().map(|o| time_cmd(o, &with(d), runs));
        let names: Vec<String> = b.iter().map(|c| c.join(" ")).collect();
        rows.push((
            d.join(" "),
            names.join("` + `bpftool "),
            (dt, db, drss),
            bt,
            old,
        ));
    }
    let cpu_before = before
        .as_ref()
        .and_then(|o| live_cpu(o, &root_args, 3.0, 20.0));
    let ff_before = before.as_ref().and_then(|o| first_frame(o, &root_args));

    println!(
        "\n## node_scale, Cilium-shaped ({} programs, {} maps: 6 prog arrays of 65,536, 200 cilium_calls_*, 6 array-of-maps of 256, 2 maglev hash-of-maps of 65,536, 2 NAT LRU of 524,288, cilium_ct4_global full at {} entries)\n",
        s.programs.len(),
        s.maps.len(),
        common::cilium_node::CT_ENTRIES
    );
    println!(
        "setup (load + fill): {:.1} s; tail-call arrays {tailcalls}, populated slots {slots}\n",
        setup.as_secs_f64()
    );
    println!("| measurement | dpscope | bpftool | dpscope before (DPSCOPE_BENCH_BEFORE) |");
    println!("|---|---|---|---|");
    if !ff.is_empty() {
        println!(
            "| live UI: process start → first frame with data (median of {}, tmux 120x40) | {:.0} ms | | {} |",
            ff.len(),
            ms(median(ff)),
            ff_before.map_or(String::new(), |d| format!("{:.0} ms", ms(d)))
        );
    }
    let pct = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.1} %"));
    println!(
        "| live UI, Programs pane: CPU of one core over 20 s (utime+stime, default 1 s interval) | {} | | {} |",
        pct(cpu),
        before.as_ref().map_or(String::new(), |_| pct(cpu_before))
    );
    println!(
        "| live UI, Conntrack pane open on the full table: CPU over 20 s | {} | | |",
        pct(cpu_ct)
    );
    println!(
        "| collector: first refresh (live, no helper lists) | {:.0} ms | | |",
        ms(cold)
    );
    println!(
        "| collector: steady refresh, any pane but Conntrack (median of 7) | {:.1} ms | | |",
        ms(warm)
    );
    println!(
        "| collector: refresh re-reading conntrack ({ct_rows} rows, median of 3) | {:.0} ms | | |",
        ms(ct)
    );
    println!(
        "| collector: refresh with conntrack open, table passed on | {:.1} ms | | |",
        ms(ct_kept)
    );
    println!(
        "| six 65,536-slot prog arrays: slots from one map-iterator read (all maps) vs slot-by-slot sweep | {:.1} ms ({from_scan} slots) | | sweep {:.0} ms ({swept} slots) |",
        ms(scan_t),
        ms(sweep_t)
    );
    for (d, b, (dt, db, drss), bt, old) in rows {
        println!(
            "| `{d}` vs `bpftool {b}` (median of {runs}) | {:.0} ms, {} KB, {} MB RSS | {} | {} |",
            ms(dt),
            db / 1024,
            drss / 1024,
            bt.map_or(String::new(), |(t, bytes, rss)| format!(
                "{:.0} ms, {} KB, {} MB RSS",
                ms(t),
                bytes / 1024,
                rss / 1024
            )),
            old.map_or(String::new(), |(t, _, rss)| format!(
                "{:.0} ms, {} MB RSS",
                ms(t),
                rss / 1024
            ))
        );
    }
    println!("\ncold refresh phases (ms): {cold_phases}");
    println!("steady refresh phases (ms): {warm_phases}");
    println!("conntrack re-read phases (ms): {ct_phases}");
    drop(node);
}
