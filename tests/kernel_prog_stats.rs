//! dpscope's program iterator (probes/iters.bpf.c `dpscope_prog_stats`) against the kernel's
//! own answer: a program run a known number of times reports the same id, load time, tag,
//! run count, run time and recursion misses as `bpf_obj_get_info_by_fd`, and the programs
//! collector gives the same program from the iterator's read as from a descriptor. The map
//! iterator counts an LPM trie's elements. Every object is an fd owned by the test.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dpscope::bpf::iters::Iters;
use dpscope::bpf::programs::ProgramCache;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A socket filter `r0 = 0; exit` named `name`.
fn load_prog(name: &str) -> OwnedFd {
    let insn = |code: u8, imm: i32| libbpf_sys::bpf_insn {
        code,
        _bitfield_align_1: [],
        _bitfield_1: libbpf_sys::bpf_insn::new_bitfield_1(0, 0),
        off: 0,
        imm,
    };
    let insns = [insn(0xb7, 0), insn(0x95, 0)];
    let n = CString::new(name).unwrap();
    let lic = CString::new("GPL").unwrap();
    // SAFETY: valid instructions and strings for the duration of the call.
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
    assert!(fd >= 0, "load {name}: {fd}");
    // SAFETY: a fresh descriptor we own.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

fn info(fd: &OwnedFd) -> libbpf_sys::bpf_prog_info {
    let mut info = libbpf_sys::bpf_prog_info::default();
    let mut len = std::mem::size_of::<libbpf_sys::bpf_prog_info>() as u32;
    // SAFETY: a program fd and a bpf_prog_info without buffers.
    let r = unsafe {
        libbpf_sys::bpf_obj_get_info_by_fd(fd.as_raw_fd(), &mut info as *mut _ as *mut _, &mut len)
    };
    assert_eq!(r, 0, "prog info");
    info
}

/// Run the program `times` times with BPF_PROG_TEST_RUN (counted while stats are on).
fn run(fd: &OwnedFd, times: u32) {
    let data = [0u8; 64];
    let mut opts = libbpf_sys::bpf_test_run_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_test_run_opts>() as _,
        data_in: data.as_ptr() as *const _,
        data_size_in: data.len() as u32,
        repeat: times as i32,
        ..Default::default()
    };
    // SAFETY: a program fd and options whose buffer outlives the call.
    let r = unsafe { libbpf_sys::bpf_prog_test_run_opts(fd.as_raw_fd(), &mut opts) };
    assert_eq!(r, 0, "test run");
}

#[test]
fn program_iterator_reports_what_prog_info_reports() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    // SAFETY: plain syscall wrapper; the fd keeps run-time stats on while it is open.
    let stats = unsafe { libbpf_sys::bpf_enable_stats(libbpf_sys::BPF_STATS_RUN_TIME) };
    assert!(stats >= 0, "enable stats: {stats}");
    // SAFETY: a fresh descriptor we own.
    let _stats = unsafe { OwnedFd::from_raw_fd(stats) };
    let name = format!("dps_ps{}", std::process::id() % 100_000);
    let prog = load_prog(&name);
    run(&prog, 37);

    let iters = Iters::load().expect("iterators load");
    let read = iters
        .prog_stats()
        .expect("the program iterator loads on this kernel")
        .expect("program iterator read");
    let kernel = info(&prog);
    let mine = read
        .get(&kernel.id)
        .copied()
        .flatten()
        .expect("the iterator reports the program with its counters");
    assert_eq!(mine.load_time_ns, kernel.load_time);
    assert_eq!(mine.tag, kernel.tag);
    assert_eq!(mine.run_cnt, kernel.run_cnt);
    assert!(mine.run_cnt >= 37, "run count {}", mine.run_cnt);
    assert_eq!(mine.run_time_ns, kernel.run_time_ns);
    assert_eq!(mine.recursion_misses, kernel.recursion_misses);

    // Every program the kernel lists by id is in the iterator's read, and the other way
    // round (programs loaded or freed meanwhile aside: ours are stable).
    let (ids, _) = dpscope::bpf::sys::all_ids(dpscope::bpf::sys::ObjKind::Prog);
    assert!(ids.contains(&kernel.id));
    assert!(read.contains_key(&kernel.id));

    // The collector: from descriptors (cold), then from the iterator's read (warm), the
    // same program; after more runs the warm read has the new counters.
    let mut cache = ProgramCache::default();
    let mut warnings = vec![];
    let cold = cache.collect(None, None, &mut warnings);
    let cold_p = cold.iter().find(|p| p.id == kernel.id).cloned().unwrap();
    let warm = cache.collect(None, Some(&read), &mut warnings);
    assert_eq!(warm.iter().find(|p| p.id == kernel.id), Some(&cold_p));
    run(&prog, 5);
    let again = iters.prog_stats().unwrap().unwrap();
    let warm = cache.collect(None, Some(&again), &mut warnings);
    let p = warm.iter().find(|p| p.id == kernel.id).unwrap();
    assert_eq!(p.run_cnt, cold_p.run_cnt + 5);
    assert_eq!(p.name, name);
    assert_eq!(p.tag, cold_p.tag);
    assert_eq!(p.run_cnt, info(&prog).run_cnt);
}

#[test]
fn map_iterator_counts_lpm_trie_elements() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let name = CString::new(format!("dps_lpm{}", std::process::id() % 100_000)).unwrap();
    let opts = libbpf_sys::bpf_map_create_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_map_create_opts>() as _,
        map_flags: libbpf_sys::BPF_F_NO_PREALLOC,
        ..Default::default()
    };
    // SAFETY: valid name and options for the duration of the call.
    let fd = unsafe {
        libbpf_sys::bpf_map_create(
            libbpf_sys::BPF_MAP_TYPE_LPM_TRIE,
            name.as_ptr(),
            8,
            4,
            1024,
            &opts,
        )
    };
    assert!(fd >= 0, "create lpm trie: {fd}");
    // SAFETY: a fresh descriptor we own.
    let map = unsafe { OwnedFd::from_raw_fd(fd) };
    for (prefix, addr) in [
        (8u32, [10u8, 0, 0, 0]),
        (16, [10, 1, 0, 0]),
        (32, [10, 1, 2, 3]),
    ] {
        let mut k = prefix.to_ne_bytes().to_vec();
        k.extend_from_slice(&addr);
        let v = 7u32.to_ne_bytes();
        // SAFETY: key and value buffers of the map's sizes.
        let r = unsafe {
            libbpf_sys::bpf_map_update_elem(map.as_raw_fd(), k.as_ptr() as _, v.as_ptr() as _, 0)
        };
        assert_eq!(r, 0, "update");
    }
    let mut minfo = libbpf_sys::bpf_map_info::default();
    let mut len = std::mem::size_of::<libbpf_sys::bpf_map_info>() as u32;
    // SAFETY: a map fd and a bpf_map_info without buffers.
    let r = unsafe {
        libbpf_sys::bpf_obj_get_info_by_fd(
            map.as_raw_fd(),
            &mut minfo as *mut _ as *mut _,
            &mut len,
        )
    };
    assert_eq!(r, 0);
    let iters = Iters::load().expect("iterators load");
    let scan = iters.scan_maps().expect("map iterator read");
    assert_eq!(scan.counts.get(&minfo.id), Some(&3));
    // The map list takes it from there (no key walk) and says so exactly.
    let mut cache = dpscope::bpf::maps::MapCache::default();
    let mut warnings = vec![];
    let found = cache.collect(true, Some(&scan), &mut warnings);
    let m = found.maps.iter().find(|m| m.id == minfo.id).unwrap();
    assert_eq!(m.entries, Some(3));
    assert!(!m.entries_partial);
}
