//! Real-kernel tests of the tail-call graph: Cilium-shaped programs (tests/bpf/cilium_tail.bpf.c)
//! in prog arrays with Cilium's names and real sizes, the entry program attached by tcx to a
//! veth, read back by `dpscope::bpf::cilium::collect` and rooted by `model::tailgraph::forest`.
//!
//! * the graph starts at the veth, its hook and entry program, and walks the slots;
//! * an unpinned call map whose kernel name is cut (`cilium_calls_01`) belongs to endpoint
//!   1717, read from the entry program's config, and the policy hop resolves to slot 1717;
//! * a call site whose index register is set on one branch only is "not known statically",
//!   never a called-but-empty slot; nothing is a cycle unless it reaches itself;
//! * three releases' call maps side by side (main 49 slots, 1.17 50, 1.18 48) are each named
//!   by their own numbering, and the pane shows each array's layout;
//! * the pane, `show tailcalls` and the DOT export draw the same rooted tree.

mod common;

use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;

use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::MapCore;

use common::{Bpffs, LinkFd, Netns, VethPair};
use dpscope::bpf::xlated::Insn;
use dpscope::model::tailgraph::{forest, walk, By, Graph, Item, Node};
use dpscope::model::{MapInfo, PaneId, Program, Snapshot, TailCallMap};

mod cilium_tail {
    include!(concat!(env!("OUT_DIR"), "/cilium_tail.skel.rs"));
}

/// The same object, for loading with libbpf directly.
const FIXTURE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/cilium_tail.bpf.o"));

/// A map created from userspace; the kernel keeps the first 15 characters of its name.
fn create_map(t: u32, name: &str, ks: u32, vs: u32, max: u32) -> OwnedFd {
    let flags = if t == libbpf_sys::BPF_MAP_TYPE_LPM_TRIE {
        libbpf_sys::BPF_F_NO_PREALLOC
    } else {
        0
    };
    let opts = libbpf_sys::bpf_map_create_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_map_create_opts>() as _,
        map_flags: flags,
        ..Default::default()
    };
    let kname: String = name.chars().take(15).collect();
    let c = std::ffi::CString::new(kname).unwrap();
    // SAFETY: name is NUL-terminated, opts sized and initialised.
    let fd = unsafe { libbpf_sys::bpf_map_create(t, c.as_ptr(), ks, vs, max, &opts) };
    assert!(
        fd >= 0,
        "create {name}: {}",
        std::io::Error::from_raw_os_error(-fd)
    );
    // SAFETY: a fresh fd we own.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

fn pinned_map(dir: &Path, t: u32, name: &str, ks: u32, vs: u32, max: u32) -> OwnedFd {
    let fd = create_map(t, name, ks, vs, max);
    let c = std::ffi::CString::new(dir.join(name).to_string_lossy().into_owned()).unwrap();
    // SAFETY: valid fd and NUL-terminated path.
    let rc = unsafe { libbpf_sys::bpf_obj_pin(fd.as_raw_fd(), c.as_ptr()) };
    assert_eq!(rc, 0, "pin {name}");
    fd
}

fn insert(map: BorrowedFd<'_>, idx: u32, prog: BorrowedFd<'_>) {
    let v = prog.as_raw_fd() as u32;
    // SAFETY: 4-byte key and value for a prog array we created.
    let rc = unsafe {
        libbpf_sys::bpf_map_update_elem(
            map.as_raw_fd(),
            &idx as *const u32 as _,
            &v as *const u32 as _,
            0,
        )
    };
    assert_eq!(rc, 0, "insert tail program at {idx}");
}

fn map_id(fd: BorrowedFd<'_>) -> u32 {
    let mut info = libbpf_sys::bpf_map_info::default();
    let mut len = std::mem::size_of::<libbpf_sys::bpf_map_info>() as u32;
    // SAFETY: a map fd and a bpf_map_info without buffers.
    let rc = unsafe {
        libbpf_sys::bpf_obj_get_info_by_fd(fd.as_raw_fd(), &mut info as *mut _ as *mut _, &mut len)
    };
    assert_eq!(rc, 0);
    info.id
}

fn program(fd: BorrowedFd<'_>, name: &str) -> Program {
    let mut p = common::program_model(fd, name, "sched_cls");
    p.map_ids = dpscope::bpf::cilium::read::prog_by_id(p.id, false)
        .expect("prog info")
        .map_ids;
    p
}

/// Evidence of a release under a root: its policy map value size and ipcache name.
fn release_maps(globals: &Path, policy_value: u32, ipcache_v2: bool) -> Vec<OwnedFd> {
    use libbpf_sys::BPF_MAP_TYPE_LPM_TRIE as LPM;
    let (ipc, ipc_vs) = if ipcache_v2 {
        ("cilium_ipcache_v2", 24)
    } else {
        ("cilium_ipcache", 12)
    };
    vec![
        pinned_map(
            globals,
            LPM,
            "cilium_policy_v2_00412",
            12,
            policy_value,
            16384,
        ),
        pinned_map(globals, LPM, ipc, 24, ipc_vs, 512000),
    ]
}

/// The call site of `insns` has its index register (r3) set before a conditional branch and
/// again on one side of it only, the branch joining at or before the call: the shape whose
/// index is not known statically.
fn index_set_on_one_branch(insns: &[u8]) -> bool {
    let n = insns.len() / 8;
    let at = |i: usize| Insn::at(insns, i).unwrap();
    let sets_r3 = |i: usize| {
        let x = at(i);
        (x.code == 0xb7 || x.code == 0xb4) && x.dst == 3
    };
    let Some(call) = (0..n).find(|&i| {
        let x = at(i);
        x.code == 0x85 && x.src == 0 && x.imm == 12
    }) else {
        return false;
    };
    (0..call).any(|j| {
        let x = at(j);
        let conditional = x.code & 0x07 == 0x05 && !matches!(x.code & 0xf0, 0x00 | 0x80 | 0x90);
        let target = j as i64 + 1 + i64::from(x.off);
        conditional
            && target > j as i64 + 1
            && target <= call as i64
            && (0..j).any(sets_r3)
            && (j + 1..target as usize).any(sets_r3)
            && !(target as usize..call).any(sets_r3)
    })
}

/// `depth·kind name...` per line of the tree, with names from the graph.
fn outline(snap: &Snapshot, nodes: &[Node]) -> Vec<String> {
    let g = Graph::new(&snap.tailcalls, &snap.programs);
    let map = |id: u32| {
        g.map(id)
            .map_or_else(|| format!("map {id}"), |m| m.map_name.clone())
    };
    let prog = |id: u32| {
        if id == 0 {
            "EMPTY".to_string()
        } else {
            g.prog_name(id).unwrap_or("?").to_string()
        }
    };
    let mut out = Vec::new();
    walk(nodes, &mut |depth, _, n| {
        let line = match &n.item {
            Item::Interface { name, .. } => format!("iface {name}"),
            Item::Hook { hook, .. } => format!("hook {hook}"),
            Item::Entry {
                prog_id, endpoint, ..
            } => format!("entry {} endpoint {endpoint:?}", prog(*prog_id)),
            Item::Array {
                map_id,
                called_at,
                remaining,
            } => format!("array {} at {called_at:?} rest {remaining}", map(*map_id)),
            Item::Slot { index, prog_id, .. } => format!("slot {index} {}", prog(*prog_id)),
            Item::Jump {
                map_id,
                index,
                prog_id,
            } => format!("jump {}[{index:?}] {}", map(*map_id), prog(*prog_id)),
            Item::Keyed {
                map_id,
                index,
                by,
                prog_id,
                ..
            } => format!(
                "keyed {}[{index:?}] {by:?} {}",
                map(*map_id),
                prog(*prog_id)
            ),
            Item::Unattached => "unattached".into(),
            Item::Truncated => "truncated".into(),
        };
        let cycle = if n.cycle { " CYCLE" } else { "" };
        out.push(format!("{}{line}{cycle}", "  ".repeat(depth)));
    });
    out
}

#[test]
fn graph_is_rooted_at_the_veth_with_the_endpoint_from_config() {
    if !common::require_priv("graph_is_rooted_at_the_veth_with_the_endpoint_from_config") {
        return;
    }
    use libbpf_sys::*;
    let ns = Netns::new();
    let veth = VethPair::new(&ns);
    let fs = Bpffs::new();
    let globals = fs.join("tc/globals");
    std::fs::create_dir_all(&globals).expect("mkdir tc/globals");
    let _release = release_maps(&globals, 12, true);
    let ifx = veth.host_ifindex();

    // Endpoint 1717's call map, unpinned (its pin replaced), so only the kernel name is left:
    // `cilium_calls_01`. Loaded with libbpf directly: a skeleton insists on its own map names.
    let calls = create_map(BPF_MAP_TYPE_PROG_ARRAY, "cilium_calls_01717", 4, 4, 49);
    let mut open = libbpf_rs::ObjectBuilder::default()
        .open_memory(FIXTURE)
        .expect("open fixture");
    for mut m in open.maps_mut() {
        match m.name().to_str() {
            Some("cilium_calls") => m.reuse_fd(calls.as_fd()).expect("reuse calls map"),
            Some(".rodata.config") => {
                // __config_endpoint_id is the section's only variable, at offset 0.
                let v = m.initial_value_mut().expect("config section");
                v[..2].copy_from_slice(&1717u16.to_le_bytes());
            }
            _ => {}
        }
    }
    let mut obj = open.load().expect("load fixture");
    for mut m in obj.maps_mut() {
        if m.name().to_str() == Some("cilium_call_policy") {
            m.pin(globals.join("cilium_call_policy"))
                .expect("pin call policy");
        }
    }
    // Duplicated fds: libbpf's handles borrow the object only for as long as they live.
    let prog_fds: std::collections::HashMap<String, OwnedFd> = obj
        .progs()
        .map(|p| {
            let name = p.name().to_string_lossy().into_owned();
            (name, p.as_fd().try_clone_to_owned().expect("dup prog fd"))
        })
        .collect();
    let prog_fd = |name: &str| -> BorrowedFd<'_> {
        prog_fds
            .get(name)
            .unwrap_or_else(|| panic!("no program {name}"))
            .as_fd()
    };
    let policy_fd = obj
        .maps()
        .find(|m| m.name().to_str() == Some("cilium_call_policy"))
        .expect("policy map")
        .as_fd()
        .try_clone_to_owned()
        .expect("dup map fd");
    let policy = policy_fd.as_fd();
    insert(calls.as_fd(), 7, prog_fd("tail_handle_ipv4"));
    insert(calls.as_fd(), 13, prog_fd("tail_ipv4_to_endpoint"));
    insert(calls.as_fd(), 26, prog_fd("tail_handle_ipv4_cont"));
    insert(calls.as_fd(), 30, prog_fd("tail_ipv4_ct_egress"));
    insert(calls.as_fd(), 48, prog_fd("tail_policy_denied_ipv4"));
    insert(policy, 1717, prog_fd("cil_lxc_policy"));
    // Another endpoint's policy program: not on this endpoint's path.
    insert(policy, 2, prog_fd("tail_handle_ipv6_cont"));
    let link = LinkFd::create(prog_fd("cil_from_container"), ifx, BPF_TCX_INGRESS, 0);

    let programs: Vec<Program> = [
        "cil_from_container",
        "tail_handle_ipv4",
        "tail_ipv4_ct_egress",
        "tail_handle_ipv4_cont",
        "tail_handle_ipv6_cont",
        "cil_lxc_policy",
        "tail_ipv4_to_endpoint",
        "tail_policy_denied_ipv4",
    ]
    .iter()
    .map(|n| program(prog_fd(n), n))
    .collect();
    let prog_id = |name: &str| programs.iter().find(|x| x.name == name).unwrap().id;

    // The fixture really has the shape under test: tail_handle_ipv4's index register is set
    // on one branch only (the kernel's translated code, not just clang's).
    let x = dpscope::bpf::xlated::fetch_xlated(prog_id("tail_handle_ipv4")).expect("xlated");
    assert!(
        index_set_on_one_branch(&x),
        "fixture: tail_handle_ipv4 should set r3 on one branch only"
    );

    // Attachments as dpscope's own collector reads them from the kernel.
    let attachments: Vec<_> = dpscope::bpf::attach::collect(&programs)
        .attachments
        .into_iter()
        .filter(|a| a.ifindex == ifx)
        .collect();
    assert_eq!(attachments.len(), 1, "{attachments:?}");
    assert_eq!(attachments[0].hook, "tcx_ingress");
    let calls_id = map_id(calls.as_fd());
    let maps = vec![MapInfo {
        id: calls_id,
        name: "cilium_calls_01".into(),
        kernel_name: "cilium_calls_01".into(),
        map_type: "prog_array".into(),
        key_size: 4,
        value_size: 4,
        max_entries: 49,
        ..Default::default()
    }];
    let c = dpscope::bpf::cilium::collect(
        std::slice::from_ref(&fs.path),
        &programs,
        &maps,
        &attachments,
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let m: &TailCallMap = c.tailcalls.iter().find(|t| t.map_id == calls_id).unwrap();
    assert_eq!(m.map_name, "cilium_calls_01");
    assert_eq!(m.endpoint_id, Some(1717), "not 1 from the cut kernel name");
    assert_eq!(
        m.endpoint_source.as_deref(),
        Some(
            format!(
                "__config_endpoint_id of cil_from_container #{}",
                prog_id("cil_from_container")
            )
            .as_str()
        )
    );
    // Unpinned: the numbering comes from the array alone (49 slots, programs where main puts them).
    assert_eq!(m.layout.as_deref(), Some("1.19/main"));
    assert_eq!(
        m.layout_reason.as_deref(),
        Some("49 slots (CILIUM_CALL_SIZE of 1.15 and 1.19/main); tail_ipv4_ct_egress in slot 30")
    );
    let slots: Vec<(u32, Option<&str>, &str, bool, bool)> = m
        .slots
        .iter()
        .map(|s| {
            (
                s.index,
                s.slot_name.as_deref(),
                s.prog_name.as_str(),
                s.empty,
                s.cycle,
            )
        })
        .collect();
    assert_eq!(
        slots,
        vec![
            // Called at exactly 1 by tail_ipv4_to_endpoint, and empty: worth flagging.
            (1, Some("DROP_NOTIFY"), "", true, false),
            (7, Some("IPV4_FROM_LXC"), "tail_handle_ipv4", false, false),
            (
                13,
                Some("IPV4_TO_ENDPOINT"),
                "tail_ipv4_to_endpoint",
                false,
                false
            ),
            (
                26,
                Some("IPV4_FROM_LXC_CONT"),
                "tail_handle_ipv4_cont",
                false,
                false
            ),
            (
                30,
                Some("IPV4_CT_EGRESS"),
                "tail_ipv4_ct_egress",
                false,
                false
            ),
            (
                48,
                Some("IPV4_POLICY_DENIED"),
                "tail_policy_denied_ipv4",
                false,
                false
            ),
        ],
        "no phantom empty slot 29 and no cycle"
    );
    let ipv4_site: Vec<Option<u32>> = m
        .sites
        .iter()
        .filter(|s| s.prog_id == prog_id("tail_handle_ipv4"))
        .map(|s| s.index)
        .collect();
    assert_eq!(ipv4_site, vec![None], "index not known statically");

    let snap = Snapshot {
        programs: programs.clone(),
        attachments: attachments.clone(),
        tailcalls: c.tailcalls.clone(),
        ..Snapshot::empty()
    };
    let got = outline(&snap, &forest(&snap));
    let want = vec![
        format!("iface {}", veth.host),
        "  hook tcx_ingress".into(),
        "    entry cil_from_container endpoint Some(1717)".into(),
        "      array cilium_calls_01 at [Some(7)] rest false".into(),
        "        slot 1 EMPTY".into(),
        "        slot 7 tail_handle_ipv4".into(),
        "          jump cilium_calls_01[None] EMPTY".into(),
        "        slot 13 tail_ipv4_to_endpoint".into(),
        "          jump cilium_calls_01[Some(1)] EMPTY".into(),
        "        slot 26 tail_handle_ipv4_cont".into(),
        "          keyed cilium_call_policy[Some(1717)] ThisEndpoint cil_lxc_policy".into(),
        "            jump cilium_calls_01[Some(13)] tail_ipv4_to_endpoint".into(),
        "        slot 30 tail_ipv4_ct_egress".into(),
        "          jump cilium_calls_01[Some(26)] tail_handle_ipv4_cont".into(),
        "        slot 48 tail_policy_denied_ipv4".into(),
        "unattached".into(),
        "  array cilium_call_policy at [] rest true".into(),
        "    slot 2 tail_handle_ipv6_cont".into(),
    ];
    assert_eq!(got, want, "\n{}", got.join("\n"));
    assert!(matches!(
        Graph::new(&snap.tailcalls, &snap.programs)
            .resolve_keyed(prog_id("tail_handle_ipv4_cont"), None),
        (Some(1717), By::ThisEndpoint)
    ));

    // The pane and `show tailcalls` draw that tree, rooted at the veth: the policy hop is this
    // endpoint's slot, the computed index says so, the empty slot is called at a fixed index,
    // and nothing is a cycle.
    let t = dpscope::pane::plain::pane_table(PaneId::Tailcalls, &snap, None);
    let rows: Vec<String> = t
        .rows
        .iter()
        .map(|r| format!("{}|{}", r[0], r[2]))
        .collect();
    let p = |n: &str| prog_id(n);
    let policy_id = map_id(policy);
    let want = vec![
        format!("{} (ifindex {ifx})|", veth.host),
        "  tcx ingress|".into(),
        format!(
            "    cil_from_container #{} · endpoint 1717|",
            p("cil_from_container")
        ),
        format!("      cilium_calls_01 (map {calls_id}) · 1.19/main layout · 5 of 49 slots|"),
        "        1 DROP_NOTIFY|∅ called but empty".into(),
        format!(
            "        7 IPV4_FROM_LXC  tail_handle_ipv4 #{}|",
            p("tail_handle_ipv4")
        ),
        "          cilium_calls_01[?]|index not known statically".into(),
        format!(
            "        13 IPV4_TO_ENDPOINT  tail_ipv4_to_endpoint #{}|",
            p("tail_ipv4_to_endpoint")
        ),
        "          [1] DROP_NOTIFY|∅ called but empty".into(),
        format!(
            "        26 IPV4_FROM_LXC_CONT  tail_handle_ipv4_cont #{}|",
            p("tail_handle_ipv4_cont")
        ),
        format!(
            "          cilium_call_policy[1717] → cil_lxc_policy #{}|this endpoint",
            p("cil_lxc_policy")
        ),
        format!(
            "            cilium_calls_01[13] IPV4_TO_ENDPOINT → tail_ipv4_to_endpoint #{}|",
            p("tail_ipv4_to_endpoint")
        ),
        format!(
            "        30 IPV4_CT_EGRESS  tail_ipv4_ct_egress #{}|",
            p("tail_ipv4_ct_egress")
        ),
        format!(
            "          [26] IPV4_FROM_LXC_CONT → tail_handle_ipv4_cont #{}|",
            p("tail_handle_ipv4_cont")
        ),
        format!(
            "        48 IPV4_POLICY_DENIED  tail_policy_denied_ipv4 #{}|",
            p("tail_policy_denied_ipv4")
        ),
        "prog arrays no attach point reaches|".into(),
        format!("  cilium_call_policy (map {policy_id}) · other endpoints · 2 of 65535 slots|"),
        format!(
            "    ep 2  tail_handle_ipv6_cont #{}|",
            p("tail_handle_ipv6_cont")
        ),
    ];
    assert_eq!(rows, want, "\n{}", rows.join("\n"));
    let dot = dpscope::pane::tailcalls::dot(&snap);
    for edge in [
        format!(
            "\"if{ifx}\" -> \"prog{}\" [label=\"tcx ingress\", style=bold]",
            p("cil_from_container")
        ),
        format!(
            "\"prog{}\" -> \"prog{}\" [label=\"cilium_call_policy[1717]\", style=dashed]",
            p("tail_handle_ipv4_cont"),
            p("cil_lxc_policy")
        ),
    ] {
        assert!(dot.contains(&edge), "{edge} not in\n{dot}");
    }
    assert!(!dot.contains("color=red"), "no cycle: {dot}");

    drop(link);
    drop(prog_fds);
    drop(obj);
}

#[test]
fn two_releases_side_by_side_are_each_named_by_their_own_array() {
    if !common::require_priv("two_releases_side_by_side_are_each_named_by_their_own_array") {
        return;
    }
    // main's root first, then 1.17's (the order of the report), then 1.18's.
    let new_fs = Bpffs::new();
    let old_fs = Bpffs::new();
    let mid_fs = Bpffs::new();
    let mut new_obj = MaybeUninit::uninit();
    let mut old_obj = MaybeUninit::uninit();
    let mut mid_obj = MaybeUninit::uninit();
    let mut keep = Vec::new();
    let mut programs = Vec::new();
    let mut skels = Vec::new();
    let mut ids = Vec::new();
    // (root, object, 1.17's numbering, CILIUM_CALL_SIZE, policy value size, ipcache v2)
    for (fs, obj, old, size, policy_value, v2) in [
        (&new_fs, &mut new_obj, false, 49, 12, true),
        (&old_fs, &mut old_obj, true, 50, 24, false),
        (&mid_fs, &mut mid_obj, false, 48, 8, true),
    ] {
        let globals = fs.join("tc/globals");
        std::fs::create_dir_all(&globals).expect("mkdir tc/globals");
        keep.extend(release_maps(&globals, policy_value, v2));
        let mut open = cilium_tail::CiliumTailSkelBuilder::default()
            .open(obj)
            .expect("open fixture");
        open.maps
            .cilium_calls
            .set_max_entries(size)
            .expect("max entries");
        open.maps
            .rodata_config_data
            .as_deref_mut()
            .expect("config section")
            .__config_endpoint_id = 412;
        let mut skel = open.load().expect("load fixture");
        skel.maps
            .cilium_calls
            .pin(globals.join("cilium_calls_00412"))
            .expect("pin calls");
        let p = &skel.progs;
        let calls = skel.maps.cilium_calls.as_fd();
        ids.push(map_id(calls));
        let slots = if old {
            vec![
                (1, &p.__send_drop_notify, "__send_drop_notify"),
                (7, &p.tail_handle_ipv4, "tail_handle_ipv4"),
                (25, &p.tail_handle_ipv4_cont, "tail_handle_ipv4_cont"),
                (26, &p.tail_handle_ipv6_cont, "tail_handle_ipv6_cont"),
                (29, &p.tail_ipv4_ct_egress, "tail_ipv4_ct_egress"),
            ]
        } else {
            vec![
                (1, &p.tail_drop_notify, "tail_drop_notify"),
                (7, &p.tail_handle_ipv4, "tail_handle_ipv4"),
                (26, &p.tail_handle_ipv4_cont, "tail_handle_ipv4_cont"),
                (30, &p.tail_ipv4_ct_egress, "tail_ipv4_ct_egress"),
            ]
        };
        for (idx, prog, name) in slots {
            insert(calls, idx, prog.as_fd());
            programs.push(program(prog.as_fd(), name));
        }
        skels.push(skel);
    }
    let c = dpscope::bpf::cilium::collect(
        &[
            new_fs.path.clone(),
            old_fs.path.clone(),
            mid_fs.path.clone(),
        ],
        &programs,
        &[],
        &[],
    );
    let named = |root: &Path| -> (Option<String>, Vec<(u32, String)>) {
        let m = c
            .tailcalls
            .iter()
            .find(|t| {
                t.pinned.as_deref()
                    == Some(
                        root.join("tc/globals/cilium_calls_00412")
                            .to_string_lossy()
                            .as_ref(),
                    )
            })
            .expect("call map of the root");
        (
            m.layout.clone(),
            m.slots
                .iter()
                .map(|s| (s.index, s.slot_name.clone().unwrap_or_default()))
                .collect(),
        )
    };
    let n = |v: &[(u32, &str)]| -> Vec<(u32, String)> {
        v.iter().map(|(i, s)| (*i, s.to_string())).collect()
    };
    assert_eq!(
        named(&new_fs.path),
        (
            Some("1.19/main".into()),
            n(&[
                (1, "DROP_NOTIFY"),
                (7, "IPV4_FROM_LXC"),
                (26, "IPV4_FROM_LXC_CONT"),
                (30, "IPV4_CT_EGRESS"),
            ])
        )
    );
    assert_eq!(
        named(&old_fs.path),
        (
            Some("1.17".into()),
            n(&[
                (1, "DROP_NOTIFY"),
                (7, "IPV4_FROM_LXC"),
                (25, "IPV4_FROM_LXC_CONT"),
                (26, "IPV6_FROM_LXC_CONT"),
                (29, "IPV4_CT_EGRESS"),
            ])
        )
    );
    assert_eq!(
        named(&mid_fs.path),
        (
            Some("1.18".into()),
            n(&[
                (1, "DROP_NOTIFY"),
                (7, "IPV4_FROM_LXC"),
                (26, "IPV4_FROM_LXC_CONT"),
                (30, "IPV4_CT_EGRESS"),
            ])
        )
    );

    // The pane shows each array with its own layout and size, its slots in its numbering.
    let snap = Snapshot {
        programs: programs.clone(),
        tailcalls: c.tailcalls.clone(),
        ..Snapshot::empty()
    };
    let t = dpscope::pane::plain::pane_table(PaneId::Tailcalls, &snap, None);
    let rows: Vec<&str> = t.rows.iter().map(|r| r[0].as_str()).collect();
    for (id, layout, used, size) in [
        (ids[0], "1.19/main", 4, 49),
        (ids[1], "1.17", 5, 50),
        (ids[2], "1.18", 4, 48),
    ] {
        let line =
            format!("  cilium_calls_00412 (map {id}) · {layout} layout · {used} of {size} slots");
        assert!(
            rows.contains(&line.as_str()),
            "{line} not in\n{}",
            rows.join("\n")
        );
    }
    // The lines under an array, up to the next line at its depth.
    let block = |id: u32| -> Vec<&str> {
        let at = rows
            .iter()
            .position(|r| r.contains(&format!("(map {id})")))
            .unwrap();
        rows[at + 1..]
            .iter()
            .take_while(|r| r.starts_with("    "))
            .copied()
            .collect()
    };
    let slot = |id: u32, line: &str| {
        assert!(
            block(id).iter().any(|r| r.starts_with(line)),
            "{line} not under map {id}:\n{}",
            rows.join("\n")
        )
    };
    slot(ids[1], "    25 IPV4_FROM_LXC_CONT  tail_handle_ipv4_cont #");
    slot(ids[1], "    26 IPV6_FROM_LXC_CONT  tail_handle_ipv6_cont #");
    slot(ids[0], "    26 IPV4_FROM_LXC_CONT  tail_handle_ipv4_cont #");
    slot(ids[2], "    30 IPV4_CT_EGRESS  tail_ipv4_ct_egress #");
    drop(skels);
}
