//! dpscope's enumeration agrees with bpftool's for every program and map on the machine.

use dpscope::bpf::collector::{Collector, Config};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use std::collections::{HashMap, HashSet};
use std::mem::MaybeUninit;
use std::process::Command;

mod agree {
    include!(concat!(env!("OUT_DIR"), "/agree.skel.rs"));
}

mod common;

fn bpftool_json(what: &str) -> Vec<serde_json::Value> {
    let out = Command::new("bpftool")
        .args([what, "show", "-j"])
        .output()
        .expect("bpftool runs (installed by scripts/setup.sh)");
    assert!(
        out.status.success(),
        "bpftool {what} show failed: {:?}",
        out
    );
    serde_json::from_slice(&out.stdout).expect("bpftool prints JSON")
}

fn collect() -> dpscope::model::Snapshot {
    let cfg = Config {
        bpffs_roots: vec![],
        stats: false,
        ..Config::default()
    };
    Collector::new(cfg).collect()
}

#[test]
fn programs_and_maps_agree_with_bpftool() {
    if !common::require_priv("loading BPF objects") {
        return;
    }
    let mut obj = MaybeUninit::uninit();
    let open = agree::AgreeSkelBuilder::default()
        .open(&mut obj)
        .expect("open fixture");
    let skel = open.load().expect("load fixture");
    let _ = &skel;

    let before = collect();
    let tool_progs = bpftool_json("prog");
    let tool_maps = bpftool_json("map");
    let after = collect();

    // Objects created or destroyed by concurrent tests between the reads are tolerated: an id
    // bpftool saw must be in one of our two enumerations.
    let ours_p: HashMap<u32, &dpscope::model::Program> = before
        .programs
        .iter()
        .chain(after.programs.iter())
        .map(|p| (p.id, p))
        .collect();
    let ours_m: HashMap<u32, &dpscope::model::MapInfo> = before
        .maps
        .iter()
        .chain(after.maps.iter())
        .map(|m| (m.id, m))
        .collect();

    let mut checked_fixture = HashSet::new();
    for tp in &tool_progs {
        let id = tp["id"].as_u64().unwrap() as u32;
        let p = ours_p
            .get(&id)
            .unwrap_or_else(|| panic!("bpftool shows program {id}, dpscope does not"));
        assert_eq!(
            tp["type"].as_str().unwrap(),
            p.prog_type,
            "type of prog {id}"
        );
        assert_eq!(tp["tag"].as_str().unwrap(), p.tag, "tag of prog {id}");
        if let Some(name) = tp["name"].as_str() {
            assert_eq!(name, p.name, "name of prog {id}");
        }
        if p.name.starts_with("agree_") {
            checked_fixture.insert(p.name.clone());
        }
    }
    for tm in &tool_maps {
        let id = tm["id"].as_u64().unwrap() as u32;
        let m = ours_m
            .get(&id)
            .unwrap_or_else(|| panic!("bpftool shows map {id}, dpscope does not"));
        assert_eq!(tm["type"].as_str().unwrap(), m.map_type, "type of map {id}");
        if let Some(name) = tm["name"].as_str() {
            assert_eq!(name, m.kernel_name, "name of map {id}");
        }
        assert_eq!(
            tm["bytes_key"].as_u64().unwrap() as u32,
            m.key_size,
            "key size of map {id}"
        );
        assert_eq!(
            tm["bytes_value"].as_u64().unwrap() as u32,
            m.value_size,
            "value size of map {id}"
        );
        assert_eq!(
            tm["max_entries"].as_u64().unwrap() as u32,
            m.max_entries,
            "max entries of map {id}"
        );
        if let Some(mem) = tm["bytes_memlock"].as_u64() {
            assert_eq!(mem, m.memory_bytes, "memlock of map {id}");
        }
        if m.kernel_name.starts_with("agree_") {
            checked_fixture.insert(m.kernel_name.clone());
        }
    }
    // The fixture's objects were really compared, including the full (BTF) program name.
    for want in [
        "agree_xdp_program_with_a_long_name",
        "agree_tc",
        "agree_tp",
        "agree_hash",
        "agree_pcpu",
        "agree_progs",
        "agree_rb",
    ] {
        assert!(
            checked_fixture.contains(want),
            "fixture object {want} not compared: {checked_fixture:?}"
        );
    }
    // The long program name is truncated by the kernel and restored from BTF.
    let long = before
        .programs
        .iter()
        .find(|p| p.name == "agree_xdp_program_with_a_long_name")
        .expect("fixture XDP program listed");
    assert_eq!(long.kernel_name, "agree_xdp_progr");
    assert!(
        long.map_ids.len() >= 2,
        "map ids of the XDP program: {:?}",
        long.map_ids
    );
    // Map users are derived from program map ids.
    let hash = before
        .maps
        .iter()
        .find(|m| m.kernel_name == "agree_hash")
        .unwrap();
    assert!(hash.prog_ids.contains(&long.id));
    assert_eq!(hash.entries, Some(0));
    let pcpu = before
        .maps
        .iter()
        .find(|m| m.kernel_name == "agree_pcpu")
        .unwrap();
    assert_eq!(pcpu.entries, Some(8), "arrays are always full");
    drop(skel);
}
