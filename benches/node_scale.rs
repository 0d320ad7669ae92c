//! Benchmark: dpscope on a node with 1,000 programs, 300 maps and a 1,000,000-entry hash map.
//!
//! Run as root: `cargo bench --bench node_scale`. Prints a Markdown table; results are recorded
//! in docs/benchmarks.md. Measures the collector's cold and warm refresh, the CLI side by side
//! with bpftool on the same state, and the peak RSS of a one-shot snapshot.

use dpscope::bpf::collector::{Collector, Config};
use std::ffi::CString;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::Command;
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

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time_cmd(cmd: &str, args: &[&str], runs: usize) -> (Duration, usize, i64) {
    let mut times = vec![];
    let mut bytes = 0;
    let mut max_rss_kb = 0i64;
    for _ in 0..runs {
        let t = Instant::now();
        let child = Command::new(cmd)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        let pid = child.id() as i32;
        let out = child.wait_with_output_rusage(pid);
        times.push(t.elapsed());
        bytes = out.0;
        max_rss_kb = max_rss_kb.max(out.1);
    }
    (median(times), bytes, max_rss_kb)
}

trait WaitRusage {
    fn wait_with_output_rusage(self, pid: i32) -> (usize, i64);
}
impl WaitRusage for std::process::Child {
    fn wait_with_output_rusage(mut self, pid: i32) -> (usize, i64) {
        use std::io::Read;
        let mut buf = Vec::new();
        if let Some(mut o) = self.stdout.take() {
            let _ = o.read_to_end(&mut buf);
        }
        let mut status = 0;
        // SAFETY: zeroed rusage is a valid out-buffer.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: pid is our child; wait4 reaps it and fills ru.
        unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        (buf.len(), ru.ru_maxrss)
    }
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
        stats: true,
        ..Config::default()
    };
    let t = Instant::now();
    let mut c = Collector::new(cfg);
    let s = c.collect();
    let cold = t.elapsed();
    let big_info = s
        .maps
        .iter()
        .find(|m| m.kernel_name == "bench_big_hash")
        .cloned();
    let mut warm = vec![];
    for _ in 0..5 {
        let t = Instant::now();
        let _ = c.collect();
        warm.push(t.elapsed());
    }
    let warm = median(warm);

    let runs = 5;
    let (d_maps, d_maps_b, d_rss) = time_cmd(bin, &["show", "maps", "--json"], runs);
    let (b_maps, b_maps_b, b_rss) = time_cmd("bpftool", &["map", "show", "-j"], runs);
    let (d_progs, _, _) = time_cmd(bin, &["show", "programs", "--json"], runs);
    let (b_progs, _, _) = time_cmd("bpftool", &["prog", "show", "-j"], runs);
    let (d_snap, d_snap_b, d_snap_rss) = time_cmd(bin, &["snapshot", "--duration", "0"], runs);

    println!(
        "## node_scale ({} programs, {} maps, one hash map of {} entries)\n",
        s.programs.len(),
        s.maps.len(),
        BIG_ENTRIES
    );
    println!("setup (load + fill): {:.1} s\n", setup.as_secs_f64());
    println!("| measurement | dpscope | bpftool |");
    println!("|---|---|---|");
    println!(
        "| collector: first refresh (cold caches, counts every map) | {:.0} ms | |",
        cold.as_secs_f64() * 1e3
    );
    println!(
        "| collector: steady refresh (median of 5) | {:.0} ms | |",
        warm.as_secs_f64() * 1e3
    );
    println!("| `show maps --json` / `map show -j` (median of {runs}, wall) | {:.0} ms ({} KB out, {} MB max RSS) | {:.0} ms ({} KB out, {} MB max RSS) |",
        d_maps.as_secs_f64() * 1e3, d_maps_b / 1024, d_rss / 1024, b_maps.as_secs_f64() * 1e3, b_maps_b / 1024, b_rss / 1024);
    println!(
        "| `show programs --json` / `prog show -j` (median of {runs}) | {:.0} ms | {:.0} ms |",
        d_progs.as_secs_f64() * 1e3,
        b_progs.as_secs_f64() * 1e3
    );
    println!(
        "| `snapshot --duration 0` (median of {runs}) | {:.0} ms ({} KB, {} MB max RSS) | |",
        d_snap.as_secs_f64() * 1e3,
        d_snap_b / 1024,
        d_snap_rss / 1024
    );
    if let Some(m) = big_info {
        println!(
            "\nbig map as counted in the first refresh: entries {:?} partial {} (budget {} ms)",
            m.entries,
            m.entries_partial,
            dpscope::bpf::maps::COUNT_BUDGET.as_millis()
        );
    }
    drop(progs);
    drop(small);
    drop(big);
}
