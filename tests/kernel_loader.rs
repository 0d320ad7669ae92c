//! dpscope's iterators loaded two ways on the real kernel: by the kernel-side loader (a syscall
//! program that lets the kernel resolve attach targets and CO-RE relocations, so that a
//! one-shot `show` does not parse the kernel BTF) and by libbpf's ordinary load. Both must
//! load here and read exactly the same: entry counts and populated slots of a Cilium-sized
//! prog array, which process holds which map, and a program's run counters. Neither may leave
//! a descriptor behind. Every object is an fd owned by the test (freed on drop, also when an
//! assertion fails); nothing is pinned.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::maps::{create_map, map_id, put};
use dpscope::bpf::iters::{Iters, Loader, Parts};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

/// What each open descriptor of this process is (`fd → link target`).
fn open_fds() -> std::collections::BTreeMap<String, String> {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .map(|e| {
            let target = std::fs::read_link(e.path()).unwrap_or_default();
            (
                e.file_name().to_string_lossy().into_owned(),
                target.display().to_string(),
            )
        })
        .filter(|(_, t)| !t.is_empty())
        .collect()
}

/// The tests of this file count this process's descriptors: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn the_kernel_side_loader_reads_what_libbpf_reads() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !common::require_priv("the_kernel_side_loader_reads_what_libbpf_reads") {
        return;
    }
    let tag = std::process::id() % 100_000;
    // Cilium's global policy prog array: 65,536 slots, a few populated.
    let calls = create_map(
        libbpf_sys::BPF_MAP_TYPE_PROG_ARRAY,
        &format!("dps_ld_pa{tag}"),
        4,
        4,
        65_536,
    );
    let prog = common::maps::load_prog_using(
        libbpf_sys::BPF_PROG_TYPE_SOCKET_FILTER,
        &format!("dps_ld_p{tag}"),
        &[],
    );
    for slot in [3u32, 403, 65_535] {
        put(
            &calls,
            &slot.to_ne_bytes(),
            &(prog.as_raw_fd() as u32).to_ne_bytes(),
        );
    }
    let hash = create_map(
        libbpf_sys::BPF_MAP_TYPE_HASH,
        &format!("dps_ld_h{tag}"),
        4,
        8,
        1024,
    );
    for k in 0..77u32 {
        put(&hash, &k.to_ne_bytes(), &[0u8; 8]);
    }
    let (calls_id, hash_id) = (map_id(&calls), map_id(&hash));
    let prog_id = dpscope::bpf::iters::prog_id_of(prog.as_fd());
    let me = std::process::id();

    let before = open_fds();
    let mut reads = Vec::new();
    for loader in [Loader::Kernel, Loader::Libbpf] {
        let iters = Iters::load_via(Parts::ALL, loader)
            .unwrap_or_else(|e| panic!("{loader:?} loads the iterators on this kernel: {e}"));
        assert_eq!(
            iters.prog_ids.len(),
            4,
            "{loader:?}: map, owner, program and program-map iterators"
        );
        let scan = iters.scan_maps().expect("map iterator read");
        assert_eq!(
            scan.counts.get(&hash_id),
            Some(&77),
            "{loader:?}: hash count"
        );
        assert_eq!(scan.counts.get(&calls_id), Some(&3), "{loader:?}: slots");
        assert_eq!(
            scan.slots.get(&calls_id).map(Vec::as_slice),
            Some(&[(3, prog_id), (403, prog_id), (65_535, prog_id)][..]),
            "{loader:?}: populated slots"
        );
        let owners = iters.owners().expect("owner iterator read");
        for (what, id, table) in [
            ("hash map", hash_id, &owners.maps),
            ("prog array", calls_id, &owners.maps),
            ("program", prog_id, &owners.progs),
        ] {
            assert!(
                table
                    .get(&id)
                    .is_some_and(|ps| ps.iter().any(|p| p.pid == me)),
                "{loader:?}: this test holds the {what}: {:?}",
                table.get(&id)
            );
        }
        for id in &iters.prog_ids {
            assert!(
                owners
                    .progs
                    .get(id)
                    .is_some_and(|ps| ps.iter().any(|p| p.pid == me)),
                "{loader:?}: this process holds its own iterator program {id}"
            );
        }
        let stats = iters
            .prog_stats()
            .expect("program iterator loaded")
            .expect("program iterator read");
        let mine = stats
            .get(&prog_id)
            .copied()
            .flatten()
            .expect("the program's counters");
        // Our maps and program as each loader's iterators saw them (ids of the iterators'
        // own objects differ between the two loads and are left out).
        let ours = |m: &std::collections::HashMap<u32, Vec<dpscope::model::ProcRef>>, id: u32| {
            m.get(&id).map(|v| v.iter().filter(|p| p.pid == me).count())
        };
        reads.push((
            scan.counts.get(&hash_id).copied(),
            scan.slots.get(&calls_id).cloned(),
            ours(&owners.maps, hash_id),
            ours(&owners.progs, prog_id),
            mine,
        ));
        drop(iters);
        let after = open_fds();
        let left: Vec<_> = after
            .iter()
            .filter(|(fd, what)| before.get(*fd) != Some(*what))
            .collect();
        assert!(
            left.is_empty(),
            "{loader:?}: no descriptor left behind once the iterators are dropped: {left:?}"
        );
    }
    assert_eq!(reads[0], reads[1], "kernel-side loader vs libbpf");
}

#[test]
fn each_part_loads_alone_through_the_kernel_side_loader() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !common::require_priv("each_part_loads_alone_through_the_kernel_side_loader") {
        return;
    }
    for (parts, counts, owners, progs) in [
        (
            Parts {
                counts: true,
                owners: false,
                progs: false,
                prog_maps: false,
            },
            true,
            false,
            false,
        ),
        (
            Parts {
                counts: false,
                owners: true,
                progs: false,
                prog_maps: false,
            },
            false,
            true,
            false,
        ),
    ] {
        let iters = Iters::load_via(parts, Loader::Kernel).expect("load");
        assert_eq!(iters.prog_ids.len(), 1, "{parts:?}: one program");
        assert!(
            iters.prog_maps().is_none(),
            "{parts:?}: no program-map iterator"
        );
        assert_eq!(iters.scan_maps().is_ok(), counts, "{parts:?}");
        assert_eq!(iters.owners().is_ok(), owners, "{parts:?}");
        assert_eq!(iters.prog_stats().is_some(), progs, "{parts:?}");
    }
}

#[test]
fn the_program_iterator_names_each_programs_maps_as_prog_info_does() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !common::require_priv("the_program_iterator_names_each_programs_maps_as_prog_info_does") {
        return;
    }
    // A program that uses more maps than one record carries (10 per record).
    let tag = std::process::id() % 100_000;
    let maps: Vec<OwnedFd> = (0..13)
        .map(|i| {
            create_map(
                libbpf_sys::BPF_MAP_TYPE_ARRAY,
                &format!("dps_ld_m{tag}_{i}"),
                4,
                8,
                1,
            )
        })
        .collect();
    let prog = common::maps::load_prog_using(
        libbpf_sys::BPF_PROG_TYPE_SOCKET_FILTER,
        &format!("dps_ld_u{tag}"),
        &maps,
    );
    let prog_id = dpscope::bpf::iters::prog_id_of(prog.as_fd());
    let want: Vec<u32> = maps.iter().map(map_id).collect();

    for loader in [Loader::Kernel, Loader::Libbpf] {
        let iters = Iters::load_via(
            Parts {
                counts: false,
                owners: false,
                progs: false,
                prog_maps: true,
            },
            loader,
        )
        .unwrap_or_else(|e| panic!("{loader:?}: {e}"));
        let read = iters
            .prog_maps()
            .expect("program iterator loaded")
            .expect("program iterator read");
        let mut got = read.get(&prog_id).cloned().expect("our program is listed");
        got.sort_unstable();
        let mut w = want.clone();
        w.sort_unstable();
        assert_eq!(got, w, "{loader:?}: the 13 maps of our program");
        // Every program of the node that is still there after the read: the same maps as
        // bpf_prog_info.map_ids (programs of tests running alongside come and go).
        let mut warnings = vec![];
        let listed =
            dpscope::bpf::programs::ProgramCache::default().collect(None, None, &mut warnings);
        let mut compared = 0;
        for p in &listed {
            if let Some(m) = read.get(&p.id) {
                let (mut a, mut b) = (m.clone(), p.map_ids.clone());
                a.sort_unstable();
                b.sort_unstable();
                assert_eq!(a, b, "{loader:?}: maps of program {} ({})", p.id, p.name);
                compared += 1;
            }
        }
        assert!(compared >= 2, "{loader:?}: compared {compared} programs");
    }
}
