//! Benchmark: dpscope on a node with 1,000 programs, 300 maps and a 1,000,000-entry hash map.
//!
//! Run as root: `cargo bench --bench node_scale`. Prints a Markdown table; results are recorded
//! in docs/benchmarks.md. Measures the collector's cold and warm refresh, the CLI side by side
//! with bpftool on the same state, and the peak RSS of a one-shot snapshot.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dpscope::bpf::collector::{Collector, Config};
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
}
