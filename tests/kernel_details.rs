//! Drill-down data on a real kernel: program calls and disassembly, map page dumps.
//! Needs root (CAP_BPF, CAP_SYS_ADMIN, CAP_SYSLOG for kallsyms). Without it the tests print a
//! skip notice and pass, unless `DPSCOPE_REQUIRE_PRIV=1`, where they fail.

use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

use dpscope::bpf::kallsyms::Kallsyms;
use dpscope::bpf::mapdump::dump_page;
use dpscope::bpf::xlated::{program_calls, program_detail};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags, MapHandle, MapType};

mod skel {
    include!(concat!(env!("OUT_DIR"), "/detail_fixture.skel.rs"));
}
use skel::DetailFixtureSkelBuilder;

/// True when privileged tests can run; panics when they must but cannot.
fn privileged() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        if std::env::var("DPSCOPE_REQUIRE_PRIV").as_deref() == Ok("1") {
            panic!("DPSCOPE_REQUIRE_PRIV=1 but not running as root");
        }
        eprintln!("skip: needs root (set DPSCOPE_REQUIRE_PRIV=1 to make this a failure)");
    }
    root
}

fn prog_id(fd: BorrowedFd<'_>) -> u32 {
    // SAFETY: bpf_prog_info is plain old data; all-zero is valid.
    let mut info: libbpf_sys::bpf_prog_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libbpf_sys::bpf_prog_info>() as u32;
    // SAFETY: `info`/`len` are valid for writes; `len` is the size of `info`.
    let rc = unsafe { libbpf_sys::bpf_prog_get_info_by_fd(fd.as_raw_fd(), &mut info, &mut len) };
    assert_eq!(rc, 0, "bpf_prog_get_info_by_fd");
    info.id
}

fn map_id<M: MapCore>(m: &M) -> u32 {
    m.info().expect("map info").info.id
}

macro_rules! load_fixture {
    ($storage:ident, $skel:ident) => {
        let mut $storage = MaybeUninit::uninit();
        let open = DetailFixtureSkelBuilder::default()
            .open(&mut $storage)
            .expect("open detail fixture");
        let $skel = open.load().expect("load detail fixture");
    };
}

fn key_bytes(ip: u32, port: u16, proto: u8, delta: i8) -> Vec<u8> {
    let mut k = Vec::new();
    k.extend_from_slice(&ip.to_ne_bytes());
    k.extend_from_slice(&port.to_ne_bytes());
    k.push(proto);
    k.push(delta as u8);
    k
}

fn value_bytes(packets: u64, score: i32, label: &str, verdict: u32, ports: [u16; 3]) -> Vec<u8> {
    let mut v = vec![0u8; 48];
    v[0..8].copy_from_slice(&packets.to_ne_bytes());
    v[8..12].copy_from_slice(&score.to_ne_bytes());
    v[12..12 + label.len()].copy_from_slice(label.as_bytes());
    v[24..28].copy_from_slice(&verdict.to_ne_bytes());
    let bits: u32 = 5 | (17 << 3) | (1_000_000 << 8);
    v[28..32].copy_from_slice(&bits.to_ne_bytes());
    v[32] = 1;
    for (i, p) in ports.iter().enumerate() {
        v[34 + 2 * i..36 + 2 * i].copy_from_slice(&p.to_ne_bytes());
    }
    v[40..48].copy_from_slice(&0xdead_beefu64.to_ne_bytes());
    v
}

#[test]
fn program_calls_and_disassembly() {
    if !privileged() {
        return;
    }
    load_fixture!(storage, skel);
    let id = prog_id(skel.progs.detail_main.as_fd());
    let flows = map_id(&skel.maps.detail_flows);
    let syms = Kallsyms::load();
    assert!(syms.is_available(), "{:?}", syms.unavailable_reason());

    let calls = program_calls(id, &syms).expect("program_calls");
    eprintln!("calls: {calls:?}");
    for h in ["bpf_skb_store_bytes", "bpf_redirect"] {
        assert!(calls.helpers.iter().any(|x| x == h), "{h} in {calls:?}");
    }
    assert!(calls.kfuncs.is_empty(), "{calls:?}");
    assert_eq!(calls.note, None);

    let detail = program_detail(id, &syms);
    assert_eq!(detail.id, id);
    assert_eq!(detail.insns_unavailable, None);
    for l in &detail.insns {
        eprintln!("{l}");
    }
    let has = |needle: &str| detail.insns.iter().any(|l| l.contains(needle));
    assert!(has(": call bpf_skb_store_bytes#"));
    assert!(has(": call bpf_redirect#"));
    assert!(has(": call bpf_tail_call#12"));
    assert!(has(&format!(" = map[id:{flows}]")));
    assert!(detail.insns.iter().any(|l| l.ends_with(": exit")));
    assert!(!has("bad insn"));
    assert!(detail.insns[0].starts_with("    0: "));

    compare_with_bpftool(id, &detail.insns);

    // A program with globals, atomics, byte swaps, divisions and a subprogram call.
    let ops = prog_id(skel.progs.detail_ops.as_fd());
    let d = program_detail(ops, &syms);
    for l in &d.insns {
        eprintln!("{l}");
    }
    assert_eq!(d.insns_unavailable, None);
    assert!(d.insns.iter().any(|l| l.contains("][0]+")), "global access");
    assert!(
        d.insns.iter().any(|l| l.contains(": call pc+")),
        "subprog call"
    );
    assert!(!d.insns.iter().any(|l| l.contains("bad insn")));
    compare_with_bpftool(ops, &d.insns);
    let c = program_calls(ops, &syms).expect("program_calls ops");
    assert!(c.helpers.is_empty(), "{c:?}");

    let gone = program_detail(u32::MAX, &syms);
    assert!(gone.insns.is_empty());
    assert!(gone.insns_unavailable.is_some());
}

/// Our disassembly must match `bpftool prog dump xlated` line for line (minus bpftool's
/// `(op) ` prefix and source lines), when bpftool is installed. Older bpftool prints the
/// kernel-internal per-CPU address move as a plain `rX = rY`; that line is not compared.
fn compare_with_bpftool(id: u32, ours: &[String]) {
    let out = match std::process::Command::new("bpftool")
        .args(["prog", "dump", "xlated", "id", &id.to_string()])
        .output()
    {
        Ok(o) if o.status.success() => o,
        _ => {
            eprintln!("bpftool not usable: disassembly not compared");
            return;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let theirs: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let (idx, rest) = l.trim().split_once(": ")?;
            idx.parse::<usize>().ok()?;
            let rest = match rest.strip_prefix('(') {
                Some(r) => r.split_once(") ").map_or(rest, |(_, t)| t),
                None => rest,
            };
            Some(format!("{idx}: {rest}"))
        })
        .collect();
    let ours: Vec<String> = ours.iter().map(|l| l.trim().to_string()).collect();
    assert_eq!(
        ours.len(),
        theirs.len(),
        "ours {ours:#?}\nbpftool {theirs:#?}"
    );
    for (a, b) in ours.iter().zip(&theirs) {
        if a.contains("&(void __percpu *)") {
            continue;
        }
        assert_eq!(a, b);
    }
}

#[test]
fn btf_entries_decode_and_page() {
    if !privileged() {
        return;
    }
    load_fixture!(storage, skel);
    let m = &skel.maps.detail_flows;
    for i in 0..5u32 {
        m.update(
            &key_bytes(167_772_161 + i, 80, 6, -1),
            &value_bytes(42 + i as u64, -7, "web", 2, [80, 443, 8080]),
            MapFlags::ANY,
        )
        .expect("update");
    }
    let id = map_id(m);
    let all = dump_page(id, 0, 100);
    assert_eq!(all.error, None);
    assert_eq!(all.format, "btf");
    assert_eq!(all.entries.len(), 5);
    assert!(!all.more);
    let e = all
        .entries
        .iter()
        .find(|e| e.key == "{ip: 167772161, port: 80, proto: 6, delta: -1}")
        .expect("first key decoded");
    assert_eq!(
        e.value,
        "{packets: 42, score: -7, label: \"web\", verdict: DETAIL_DENY, flags: 5, level: 17, \
         big: 1000000, seen: true, ports: [80, 443, 8080], ptr: 0xdeadbeef}"
    );
    assert!(e.per_cpu.is_empty());

    // Paging: pages of 2 cover the same 5 keys, in order, with `more` until the end.
    let mut keys = Vec::new();
    for (off, n, more) in [
        (0u64, 2usize, true),
        (2, 2, true),
        (4, 1, false),
        (5, 0, false),
    ] {
        let p = dump_page(id, off, 2);
        assert_eq!(p.offset, off);
        assert_eq!(p.error, None);
        assert_eq!(p.entries.len(), n, "offset {off}");
        assert_eq!(p.more, more, "offset {off}");
        keys.extend(p.entries.into_iter().map(|e| e.key));
    }
    let all_keys: Vec<String> = all.entries.iter().map(|e| e.key.clone()).collect();
    assert_eq!(keys, all_keys);
    assert_eq!(dump_page(id, 1000, 10).entries.len(), 0);
    // Exactly a page: `more` is false.
    assert!(!dump_page(id, 0, 5).more);
    assert!(dump_page(id, 0, 4).more);
}

#[test]
fn per_cpu_sums_and_prog_array_slots() {
    if !privileged() {
        return;
    }
    load_fixture!(storage, skel);
    let ncpus = libbpf_rs::num_possible_cpus().expect("cpus");
    let counters = |h: u64, m: u64, s: u32| {
        let mut b = Vec::new();
        b.extend_from_slice(&h.to_ne_bytes());
        b.extend_from_slice(&m.to_ne_bytes());
        b.extend_from_slice(&s.to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes());
        b
    };
    let per: Vec<Vec<u8>> = (0..ncpus as u64)
        .map(|c| counters(10 + c, 100 * (c + 1), 1))
        .collect();
    let pcpu = &skel.maps.detail_pcpu;
    pcpu.update_percpu(&2u32.to_ne_bytes(), &per, MapFlags::ANY)
        .expect("update_percpu");
    let d = dump_page(map_id(pcpu), 0, 10);
    assert_eq!(d.error, None);
    assert_eq!(d.format, "btf");
    assert_eq!(d.entries.len(), 4, "array has 4 slots");
    let e = &d.entries[2];
    assert_eq!(e.key, "2");
    let n = ncpus as u64;
    let hits: u64 = (0..n).map(|c| 10 + c).sum();
    let misses: u64 = (0..n).map(|c| 100 * (c + 1)).sum();
    assert_eq!(
        e.value,
        format!("{{hits: {hits}, misses: {misses}, small: {n}, pad: 0}}")
    );
    assert_eq!(e.per_cpu.len(), ncpus);
    for (c, s) in e.per_cpu.iter().enumerate() {
        let c = c as u64;
        assert_eq!(
            s,
            &format!(
                "{{hits: {}, misses: {}, small: 1, pad: 0}}",
                10 + c,
                100 * (c + 1)
            )
        );
    }
    assert_eq!(d.entries[0].value, "{hits: 0, misses: 0, small: 0, pad: 0}");

    // prog_array: one filled slot of four.
    let tail_fd = skel.progs.detail_tail.as_fd();
    let tail_id = prog_id(tail_fd);
    let jmp = &skel.maps.detail_jmp;
    jmp.update(
        &1u32.to_ne_bytes(),
        &tail_fd.as_raw_fd().to_ne_bytes(),
        MapFlags::ANY,
    )
    .expect("fill prog_array slot");
    let d = dump_page(map_id(jmp), 0, 10);
    assert_eq!(d.error, None);
    assert_eq!(d.format, "prog_array");
    assert_eq!(d.entries.len(), 1, "{d:?}");
    assert_eq!(d.entries[0].key, "1");
    assert_eq!(d.entries[0].value, format!("prog {tail_id} detail_tail"));
    assert!(!d.more);
}

#[test]
fn hex_map_in_map_and_unreadable_maps() {
    if !privileged() {
        return;
    }
    let opts = libbpf_sys::bpf_map_create_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_map_create_opts>() as _,
        ..Default::default()
    };
    // No BTF: hex.
    let plain = MapHandle::create(MapType::Hash, Some("dt_plain"), 4, 4, 8, &opts).expect("hash");
    plain
        .update(&[10, 0, 0, 1], &[1, 2, 3, 4], MapFlags::ANY)
        .expect("update");
    let d = dump_page(map_id(&plain), 0, 10);
    assert_eq!(d.error, None);
    assert_eq!(d.format, "hex");
    assert_eq!(d.entries.len(), 1);
    assert_eq!(d.entries[0].key, "0a 00 00 01");
    assert_eq!(d.entries[0].value, "01 02 03 04");

    // array_of_maps: values are inner map ids.
    let inner = MapHandle::create(MapType::Array, Some("dt_inner"), 4, 8, 1, &opts).expect("inner");
    let outer_opts = libbpf_sys::bpf_map_create_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_map_create_opts>() as _,
        inner_map_fd: inner.as_fd().as_raw_fd() as u32,
        ..Default::default()
    };
    let outer = MapHandle::create(MapType::ArrayOfMaps, Some("dt_outer"), 4, 4, 3, &outer_opts)
        .expect("outer");
    outer
        .update(
            &2u32.to_ne_bytes(),
            &inner.as_fd().as_raw_fd().to_ne_bytes(),
            MapFlags::ANY,
        )
        .expect("fill outer");
    let d = dump_page(map_id(&outer), 0, 10);
    assert_eq!(d.error, None);
    assert_eq!(d.format, "map_in_map");
    assert_eq!(d.entries.len(), 1);
    assert_eq!(d.entries[0].key, "2");
    assert_eq!(
        d.entries[0].value,
        format!("map {} dt_inner", map_id(&inner))
    );

    // Ring buffers cannot be listed: a plain reason, no entries.
    let rb =
        MapHandle::create(MapType::RingBuf, Some("dt_rb"), 0, 0, 4096, &opts).expect("ringbuf");
    let d = dump_page(map_id(&rb), 0, 10);
    assert!(d.entries.is_empty());
    assert!(
        d.error.as_deref().unwrap_or("").contains("ring buffer"),
        "{d:?}"
    );

    let gone = dump_page(u32::MAX, 0, 10);
    assert!(gone
        .error
        .as_deref()
        .unwrap_or("")
        .contains("cannot open map"));
}

#[test]
fn million_entry_map_first_page_is_fast() {
    if !privileged() {
        return;
    }
    load_fixture!(storage, skel);
    let big = &skel.maps.detail_big;
    const N: u32 = 1_000_000;
    let t = Instant::now();
    let keys: Vec<u8> = (0..N).flat_map(|k| k.to_ne_bytes()).collect();
    let values: Vec<u8> = (0..N).flat_map(|k| (2 * k as u64).to_ne_bytes()).collect();
    for chunk in 0..10usize {
        let n = (N / 10) as usize;
        big.update_batch(
            &keys[chunk * n * 4..(chunk + 1) * n * 4],
            &values[chunk * n * 8..(chunk + 1) * n * 8],
            n as u32,
            MapFlags::ANY,
            MapFlags::ANY,
        )
        .expect("update_batch");
    }
    eprintln!("filled {N} entries in {:?}", t.elapsed());
    let id = map_id(big);

    let t = Instant::now();
    let d = dump_page(id, 0, 100);
    let took = t.elapsed();
    eprintln!("first page of 100 in {took:?}");
    assert_eq!(d.error, None);
    assert_eq!(d.format, "btf");
    assert_eq!(d.entries.len(), 100);
    assert!(d.more);
    assert!(took < Duration::from_millis(50), "took {took:?}");
    for e in &d.entries {
        let k: u64 = e.key.parse().expect("decimal key");
        let v: u64 = e.value.parse().expect("decimal value");
        assert_eq!(v, 2 * k);
    }

    // The last page: offset near the end, `more` false.
    let t = Instant::now();
    let d = dump_page(id, u64::from(N) - 30, 100);
    eprintln!("last page in {:?}", t.elapsed());
    assert_eq!(d.error, None);
    assert_eq!(d.entries.len(), 30);
    assert!(!d.more);
}
