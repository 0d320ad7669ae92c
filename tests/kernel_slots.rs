//! Prog arrays and array-of-maps of Cilium's sizes, sparsely populated, read three ways: by
//! dpscope's map iterator (the kernel walks the slots), by the map list's fallback (slot by
//! slot from userspace, when the iterator cannot load) and by a plain slot-by-slot reference
//! read. All three must name exactly the populated slots (index → program id / inner map id)
//! and give the same entry count. Every object is an fd owned by the test: dropping it (also
//! on a failed assertion) frees it in the kernel; nothing is pinned.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::maps::map_id;

use dpscope::bpf::iters::Iters;
use dpscope::bpf::maps::{id_slots, MapCache};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

fn create_map(ty: u32, name: &str, max: u32, inner: Option<&OwnedFd>) -> OwnedFd {
    let c = CString::new(name).expect("name");
    let opts = libbpf_sys::bpf_map_create_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_map_create_opts>() as _,
        inner_map_fd: inner.map_or(0, |f| f.as_raw_fd() as u32),
        ..Default::default()
    };
    // SAFETY: valid name and options for the duration of the call.
    let fd = unsafe { libbpf_sys::bpf_map_create(ty, c.as_ptr(), 4, 4, max, &opts) };
    assert!(
        fd >= 0,
        "create {name}: {}",
        std::io::Error::from_raw_os_error(-fd)
    );
    // SAFETY: a fresh descriptor we own.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// A socket filter `r0 = 0; exit`.
fn load_prog(name: &str) -> OwnedFd {
    common::maps::load_prog_using(libbpf_sys::BPF_PROG_TYPE_SOCKET_FILTER, name, &[])
}

fn put(map: &OwnedFd, index: u32, fd: &OwnedFd) {
    let v = fd.as_raw_fd() as u32;
    // SAFETY: 4-byte key and value (an fd, as fd arrays take from userspace).
    let r = unsafe {
        libbpf_sys::bpf_map_update_elem(
            map.as_raw_fd(),
            &index as *const u32 as *const _,
            &v as *const u32 as *const _,
            0,
        )
    };
    assert_eq!(r, 0, "update slot {index}");
}

fn prog_id(fd: &OwnedFd) -> u32 {
    dpscope::bpf::iters::prog_id_of(std::os::fd::AsFd::as_fd(fd))
}

/// The iterator, the fallback and the reference agree on `map` (its populated slots are
/// `want`, ascending by index).
fn check_three_ways(map: &OwnedFd, max: u32, want: &[(u32, u32)], what: &str) {
    let id = map_id(map);
    let reference = id_slots(map, max);
    assert_eq!(reference, want, "{what}: slot-by-slot reference read");

    let iters = Iters::load().expect("dpscope's iterators load on this kernel");
    let scan = iters.scan_maps().expect("read the map iterator");
    assert_eq!(
        scan.counts.get(&id),
        Some(&(want.len() as i64)),
        "{what}: iterator count"
    );
    if want.len() <= 2000 {
        assert_eq!(
            scan.slots.get(&id).map(Vec::as_slice),
            Some(want),
            "{what}: iterator slots"
        );
    } else {
        // More than one map's output can carry: the count is exact, the slots are left to
        // the fallback.
        assert!(
            !scan.slots.contains_key(&id),
            "{what}: a cut slot list is not used"
        );
    }

    for (label, scan) in [("with the iterator", Some(&scan)), ("fallback", None)] {
        let mut warnings = vec![];
        let found = MapCache::default().collect(true, scan, &mut warnings);
        let m = found
            .maps
            .iter()
            .find(|m| m.id == id)
            .unwrap_or_else(|| panic!("{what} {label}: map {id} listed"));
        assert_eq!(
            m.entries,
            Some(want.len() as u64),
            "{what} {label}: entries"
        );
        assert!(!m.entries_partial, "{what} {label}: exact count");
        assert_eq!(
            found.slots.get(&id).map(Vec::as_slice),
            Some(want),
            "{what} {label}: slots shared with the tail-call graph"
        );
    }
}

#[test]
fn sparse_prog_array_of_65536_slots_reports_exactly_its_populated_slots() {
    if !common::require_priv("sparse_prog_array_of_65536_slots_reports_exactly_its_populated_slots")
    {
        return;
    }
    // cilium_call_policy: 65,536 slots keyed by endpoint id, one program per endpoint.
    let arr = create_map(
        libbpf_sys::BPF_MAP_TYPE_PROG_ARRAY,
        "cilium_call_pol",
        65_536,
        None,
    );
    let indexes = [
        0u32, 1, 403, 511, 512, 1717, 4095, 4096, 32_767, 40_000, 65_534, 65_535,
    ];
    let progs: Vec<OwnedFd> = indexes
        .iter()
        .map(|i| load_prog(&format!("slot_t_{i}")))
        .collect();
    let mut want = vec![];
    for (i, p) in indexes.iter().zip(&progs) {
        put(&arr, *i, p);
        want.push((*i, prog_id(p)));
    }
    check_three_ways(&arr, 65_536, &want, "prog array, 12 of 65,536");

    // An empty array: a count of 0, no slots.
    let empty = create_map(
        libbpf_sys::BPF_MAP_TYPE_PROG_ARRAY,
        "cilium_calls_00",
        49,
        None,
    );
    check_three_ways(&empty, 49, &[], "empty prog array");
}

#[test]
fn prog_array_with_more_slots_than_one_read_carries_falls_back_to_the_same_answer() {
    if !common::require_priv(
        "prog_array_with_more_slots_than_one_read_carries_falls_back_to_the_same_answer",
    ) {
        return;
    }
    let arr = create_map(
        libbpf_sys::BPF_MAP_TYPE_PROG_ARRAY,
        "slot_t_many",
        65_536,
        None,
    );
    let a = load_prog("slot_t_a");
    let b = load_prog("slot_t_b");
    let mut want = vec![];
    for i in (0..65_536u32).step_by(26).take(2_500) {
        let p = if i % 4 == 0 { &a } else { &b };
        put(&arr, i, p);
        want.push((i, prog_id(p)));
    }
    check_three_ways(&arr, 65_536, &want, "prog array, 2,500 of 65,536");
}

#[test]
fn array_of_maps_reports_its_inner_map_ids() {
    if !common::require_priv("array_of_maps_reports_its_inner_map_ids") {
        return;
    }
    // cilium_per_cluster_ct_tcp4: array-of-maps of 256, one inner map per cluster id.
    let template = create_map(libbpf_sys::BPF_MAP_TYPE_ARRAY, "slot_t_inner", 1, None);
    let outer = create_map(
        libbpf_sys::BPF_MAP_TYPE_ARRAY_OF_MAPS,
        "cilium_per_clus",
        256,
        Some(&template),
    );
    let clusters = [1u32, 2, 7, 128, 255];
    let inner: Vec<OwnedFd> = clusters
        .iter()
        .map(|c| {
            create_map(
                libbpf_sys::BPF_MAP_TYPE_ARRAY,
                &format!("slot_t_c{c}"),
                1,
                None,
            )
        })
        .collect();
    let mut want = vec![];
    for (c, m) in clusters.iter().zip(&inner) {
        put(&outer, *c, m);
        want.push((*c, map_id(m)));
    }
    check_three_ways(&outer, 256, &want, "array-of-maps, 5 of 256");
}
