//! Real-kernel test of the Cilium decoders: inside a private bpffs, `tc/globals/` gets maps
//! with Cilium's exact names, types, key/value sizes and max entries (created from userspace
//! and filled by the test), plus Cilium-named tail programs in `cilium_calls_00403` and
//! `cilium_call_policy` with `cil_from_container` attached by tcx to a veth. Then
//! `dpscope::bpf::cilium::collect` must decode exactly what was written, for the 1.17 and the
//! 1.18 layouts.

// Expected rows are compared as tuples: clearer than named types here.
#![allow(clippy::type_complexity)]

mod common;

use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use libbpf_rs::skel::{OpenSkel, SkelBuilder};

use common::{Bpffs, LinkFd, Netns, VethPair};
use dpscope::model::{Attachment, MapInfo, Program};

mod cilium_fixture {
    include!(concat!(env!("OUT_DIR"), "/cilium_fixture.skel.rs"));
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ver {
    V117,
    V118,
    Main,
}

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
    // SAFETY: fresh fd we own.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

fn pin(fd: &OwnedFd, path: &Path) {
    let c = std::ffi::CString::new(path.to_string_lossy().into_owned()).unwrap();
    // SAFETY: valid fd and NUL-terminated path.
    let rc = unsafe { libbpf_sys::bpf_obj_pin(fd.as_raw_fd(), c.as_ptr()) };
    assert_eq!(rc, 0, "pin {}", path.display());
}

fn put(fd: &OwnedFd, k: &[u8], v: &[u8]) {
    // SAFETY: buffers sized for the map by the caller.
    let rc = unsafe {
        libbpf_sys::bpf_map_update_elem(fd.as_raw_fd(), k.as_ptr() as _, v.as_ptr() as _, 0)
    };
    assert_eq!(rc, 0, "update: {}", std::io::Error::from_raw_os_error(-rc));
}

/// A per-CPU value: `per_cpu[i]` on CPU i (zero elsewhere).
fn percpu(per_cpu: &[(u64, u64)]) -> Vec<u8> {
    let n = dpscope::bpf::maps::possible_cpus();
    let mut v = vec![0u8; 16 * n];
    for (i, (a, b)) in per_cpu.iter().enumerate().take(n) {
        v[i * 16..i * 16 + 8].copy_from_slice(&a.to_le_bytes());
        v[i * 16 + 8..i * 16 + 16].copy_from_slice(&b.to_le_bytes());
    }
    v
}

struct Maps {
    fds: Vec<OwnedFd>,
}

impl Maps {
    fn make(&mut self, dir: &Path, t: u32, name: &str, ks: u32, vs: u32, max: u32) -> usize {
        let fd = create_map(t, name, ks, vs, max);
        pin(&fd, &dir.join(name));
        self.fds.push(fd);
        self.fds.len() - 1
    }
}

fn svc_key4(ip: [u8; 4], port: u16, slot: u16, proto: u8, scope: u8) -> Vec<u8> {
    let mut k = ip.to_vec();
    k.extend(port.to_be_bytes());
    k.extend(slot.to_le_bytes());
    k.extend([proto, scope, 0, 0]);
    k
}
fn svc_val(union: u32, count: u16, revnat: u16, flags: u16, qcount: u16) -> Vec<u8> {
    let mut v = union.to_le_bytes().to_vec();
    v.extend(count.to_le_bytes());
    v.extend(revnat.to_be_bytes());
    v.extend([flags as u8, (flags >> 8) as u8]);
    v.extend(qcount.to_le_bytes());
    v
}
fn backend4(ip: [u8; 4], port: u16, proto: u8, state: u8) -> Vec<u8> {
    let mut v = ip.to_vec();
    v.extend(port.to_be_bytes());
    v.extend([proto, state, 0, 0, 0, 0]);
    v
}
fn v6(last: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0xfd;
    a[15] = last;
    a
}
fn ct_key4(d: [u8; 4], s: [u8; 4], dport: u16, sport: u16, proto: u8, flags: u8) -> Vec<u8> {
    let mut k = d.to_vec();
    k.extend(s);
    k.extend(dport.to_be_bytes());
    k.extend(sport.to_be_bytes());
    k.extend([proto, flags]);
    k
}
fn ct_key6(d: [u8; 16], s: [u8; 16], dport: u16, sport: u16, proto: u8, flags: u8) -> Vec<u8> {
    let mut k = d.to_vec();
    k.extend(s);
    k.extend(dport.to_be_bytes());
    k.extend(sport.to_be_bytes());
    k.extend([proto, flags]);
    k
}
#[allow(clippy::too_many_arguments)]
fn ct_val(
    id8: u64,
    packets: u64,
    bytes: u64,
    lifetime: u32,
    flags: u16,
    revnat: u16,
    at40: u16,
    seen: u8,
    src_id: u32,
) -> Vec<u8> {
    let mut v = vec![0u8; 56];
    v[8..16].copy_from_slice(&id8.to_le_bytes());
    v[16..24].copy_from_slice(&packets.to_le_bytes());
    v[24..32].copy_from_slice(&bytes.to_le_bytes());
    v[32..36].copy_from_slice(&lifetime.to_le_bytes());
    v[36..38].copy_from_slice(&flags.to_le_bytes());
    v[38..40].copy_from_slice(&revnat.to_be_bytes());
    v[40..42].copy_from_slice(&at40.to_le_bytes());
    v[42] = seen;
    v[43] = seen;
    v[44..48].copy_from_slice(&src_id.to_le_bytes());
    v
}
fn ipc_key(bits: u32, family: u8, addr: &[u8]) -> Vec<u8> {
    let mut k = (bits + 32).to_le_bytes().to_vec();
    k.extend([0, 0, 0, family]);
    let mut a = [0u8; 16];
    a[..addr.len()].copy_from_slice(addr);
    k.extend(a);
    k
}
fn ipc_val(ver: Ver, id: u32, tunnel: [u8; 4], key: u8, flags: u8) -> Vec<u8> {
    let mut v = id.to_le_bytes().to_vec();
    v.extend(tunnel);
    match ver {
        Ver::V117 => v.extend([0, 0, key, flags]),
        Ver::V118 | Ver::Main => {
            v.extend([0u8; 14]);
            v.extend([key, flags]);
        }
    }
    v
}
fn pol_key(q: u32, id: u32, egress: bool, proto: u8, port: u16) -> Vec<u8> {
    let mut k = (40 + q).to_le_bytes().to_vec();
    k.extend(id.to_le_bytes());
    k.extend([egress as u8, proto]);
    k.extend(port.to_be_bytes());
    k
}
fn pol_val(ver: Ver, proxy: u16, deny: bool, q: u8, packets: u64, bytes: u64) -> Vec<u8> {
    let mut v = proxy.to_be_bytes().to_vec();
    v.extend([deny as u8 | (q << 3), 0, 0, 0, 0, 0]);
    match ver {
        Ver::V117 => {
            v.extend(packets.to_le_bytes());
            v.extend(bytes.to_le_bytes());
        }
        Ver::V118 => {}
        // precedence, cookie
        Ver::Main => {
            v.truncate(4);
            v.extend(u32::MAX.to_le_bytes());
            v.extend(42u32.to_le_bytes());
        }
    }
    v
}
fn stats_key(ep: u16, q: u8, id: u32, egress: bool, proto: u8, port: u16) -> Vec<u8> {
    let mut k = ep.to_le_bytes().to_vec();
    k.extend([0, q]);
    k.extend(id.to_le_bytes());
    k.extend([egress as u8, proto]);
    k.extend(port.to_be_bytes());
    k
}
fn metrics_key(reason: u8, dir: u8, line: u16, file: u8) -> Vec<u8> {
    let mut k = vec![reason, dir];
    k.extend(line.to_le_bytes());
    k.extend([file, 0, 0, 0]);
    k
}

fn mono_s() -> u32 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u32
}

fn program(fd: std::os::fd::BorrowedFd<'_>, name: &str) -> Program {
    let mut p = common::program_model(fd, name, "sched_cls");
    p.map_ids = dpscope::bpf::cilium::read::prog_by_id(p.id, false)
        .expect("prog info")
        .map_ids;
    p
}

fn run(ver: Ver) {
    use libbpf_sys::*;
    let ns = Netns::new();
    let veth = VethPair::new(&ns);
    let fs = Bpffs::new();
    let globals = fs.join("tc/globals");
    std::fs::create_dir_all(&globals).expect("mkdir tc/globals");
    let mut m = Maps { fds: vec![] };
    let ifx = veth.host_ifindex();

    // ---- services ----
    let s4 = m.make(
        &globals,
        BPF_MAP_TYPE_HASH,
        "cilium_lb4_services_v2",
        12,
        12,
        65536,
    );
    let s6 = m.make(
        &globals,
        BPF_MAP_TYPE_HASH,
        "cilium_lb6_services_v2",
        24,
        12,
        65536,
    );
    let b4 = m.make(
        &globals,
        BPF_MAP_TYPE_HASH,
        "cilium_lb4_backends_v3",
        4,
        12,
        65536,
    );
    let b6 = m.make(
        &globals,
        BPF_MAP_TYPE_HASH,
        "cilium_lb6_backends_v3",
        4,
        24,
        65536,
    );
    let dns = [10, 96, 0, 10];
    put(
        &m.fds[s4],
        &svc_key4(dns, 53, 0, 17, 0),
        &svc_val(1 << 24, 1, 3, 0, 1),
    );
    put(
        &m.fds[s4],
        &svc_key4(dns, 53, 1, 17, 0),
        &svc_val(7, 0, 3, 0, 0),
    );
    put(
        &m.fds[s4],
        &svc_key4(dns, 53, 2, 17, 0),
        &svc_val(8, 0, 3, 0, 0),
    );
    let np = [172, 18, 0, 2];
    let np_flags = 0x2 | 0x4 | 0x10 | 0x40;
    put(
        &m.fds[s4],
        &svc_key4(np, 30080, 0, 6, 1),
        &svc_val((2 << 24) | 10800, 2, 0x0102, np_flags, 0),
    );
    put(
        &m.fds[s4],
        &svc_key4(np, 30080, 1, 6, 1),
        &svc_val(9, 0, 0x0102, np_flags, 0),
    );
    put(
        &m.fds[s4],
        &svc_key4(np, 30080, 2, 6, 1),
        &svc_val(99, 0, 0x0102, np_flags, 0),
    );
    put(
        &m.fds[b4],
        &7u32.to_le_bytes(),
        &backend4([10, 244, 1, 17], 53, 17, 0),
    );
    put(
        &m.fds[b4],
        &8u32.to_le_bytes(),
        &backend4([10, 244, 1, 18], 53, 17, 1),
    );
    put(
        &m.fds[b4],
        &9u32.to_le_bytes(),
        &backend4([172, 18, 0, 3], 6443, 6, 0),
    );
    let mut k6 = v6(0x10).to_vec();
    k6.extend(80u16.to_be_bytes());
    k6.extend([0, 0, 6, 0, 0, 0]);
    put(&m.fds[s6], &k6, &svc_val(0, 1, 4, 0, 0));
    k6[18] = 1;
    put(&m.fds[s6], &k6, &svc_val(10, 0, 4, 0, 0));
    let mut bv6 = v6(0xaa).to_vec();
    bv6.extend(8080u16.to_be_bytes());
    bv6.extend([6, 2, 0, 0, 0, 0]);
    put(&m.fds[b6], &10u32.to_le_bytes(), &bv6);

    // ---- conntrack ----
    let now = mono_s();
    let c4 = m.make(
        &globals,
        BPF_MAP_TYPE_LRU_HASH,
        "cilium_ct4_global",
        14,
        56,
        524288,
    );
    let ca4 = m.make(
        &globals,
        BPF_MAP_TYPE_LRU_HASH,
        "cilium_ct_any4_global",
        14,
        56,
        262144,
    );
    let c6 = m.make(
        &globals,
        BPF_MAP_TYPE_LRU_HASH,
        "cilium_ct6_global",
        38,
        56,
        524288,
    );
    let ca6 = m.make(
        &globals,
        BPF_MAP_TYPE_LRU_HASH,
        "cilium_ct_any6_global",
        38,
        56,
        262144,
    );
    // Pod A 10.244.1.23:48526 → B 10.244.2.17:80, stored daddr=A saddr=B dport=b sport=a.
    put(
        &m.fds[c4],
        &ct_key4([10, 244, 1, 23], [10, 244, 2, 17], 80, 48526, 6, 0),
        &ct_val(0, 5, 300, now + 100, 0x13, 5, 12, 0x1b, 28461),
    );
    // Service entry: daddr=VIP saddr=client dport=client port sport=service port.
    put(
        &m.fds[ca4],
        &ct_key4(dns, [10, 244, 1, 23], 40000, 53, 17, 4),
        &ct_val(7, 1, 80, now + 60, 0x10, 3, 0, 0, 28461),
    );
    put(
        &m.fds[ca4],
        &ct_key4([10, 244, 1, 23], [10, 0, 0, 9], 0, 0, 1, 1 | 2),
        &ct_val(0, 0, 0, now + 30, 0x0800, 0, 0, 0, 2),
    );
    put(
        &m.fds[c6],
        &ct_key6(v6(1), v6(2), 443, 5555, 6, 1),
        &ct_val(0, 9, 900, now + 8000, 0x10, 0, 0, 0x12, 6),
    );
    put(
        &m.fds[ca6],
        &ct_key6(v6(3), v6(4), 53, 6000, 17, 0),
        &ct_val(0, 2, 150, now + 50, 0, 0, 0, 0, 28461),
    );

    // ---- ipcache ----
    let (ipc_name, ipc_vs) = match ver {
        Ver::V117 => ("cilium_ipcache", 12),
        Ver::V118 | Ver::Main => ("cilium_ipcache_v2", 24),
    };
    let ipc = m.make(
        &globals,
        BPF_MAP_TYPE_LPM_TRIE,
        ipc_name,
        24,
        ipc_vs,
        512000,
    );
    put(
        &m.fds[ipc],
        &ipc_key(32, 1, &[10, 244, 1, 23]),
        &ipc_val(ver, 28461, [0; 4], 0, 0),
    );
    let tunnel_flag = if ver == Ver::V117 { 0 } else { 2 };
    put(
        &m.fds[ipc],
        &ipc_key(24, 1, &[10, 244, 2, 0]),
        &ipc_val(ver, 40110, [172, 18, 0, 4], 3, tunnel_flag),
    );
    put(
        &m.fds[ipc],
        &ipc_key(0, 1, &[]),
        &ipc_val(ver, 2, [0; 4], 0, 1),
    );
    put(
        &m.fds[ipc],
        &ipc_key(64, 2, &v6(0)[..8]),
        &ipc_val(ver, 16777217, [0; 4], 0, 0),
    );

    // ---- endpoints ----
    let lxc = m.make(&globals, BPF_MAP_TYPE_HASH, "cilium_lxc", 20, 48, 65535);
    let mut lk = vec![10, 244, 1, 23];
    lk.extend([0u8; 12]);
    lk.extend([1, 0, 0, 0]);
    let mut lv = vec![0u8; 48];
    lv[0..4].copy_from_slice(&ifx.to_le_bytes());
    lv[6..8].copy_from_slice(&403u16.to_le_bytes());
    lv[16..22].copy_from_slice(&[0x5e, 0x7d, 0x1a, 0x22, 0x0b, 0x9c]);
    lv[24..30].copy_from_slice(&[0xa2, 0x33, 0x4c, 0x10, 0x6f, 0xe1]);
    lv[32..36].copy_from_slice(&28461u32.to_le_bytes());
    put(&m.fds[lxc], &lk, &lv);
    let mut hk = vec![172, 18, 0, 3];
    hk.extend([0u8; 12]);
    hk.extend([1, 0, 0, 0]);
    let mut hv = vec![0u8; 48];
    hv[8] = 1;
    put(&m.fds[lxc], &hk, &hv);

    // ---- policy ----
    let pvs = match ver {
        Ver::V117 => 24,
        Ver::V118 => 8,
        Ver::Main => 12,
    };
    let pol = m.make(
        &globals,
        BPF_MAP_TYPE_LPM_TRIE,
        "cilium_policy_v2_00403",
        12,
        pvs,
        16384,
    );
    put(
        &m.fds[pol],
        &pol_key(0, 0, false, 0, 0),
        &pol_val(ver, 0, false, 0, 110, 9240),
    );
    put(
        &m.fds[pol],
        &pol_key(24, 2, true, 6, 443),
        &pol_val(ver, 0, true, 24, 3, 180),
    );
    put(
        &m.fds[pol],
        &pol_key(21, 28461, false, 6, 8080),
        &pol_val(ver, 15001, false, 21, 7, 700),
    );
    put(
        &m.fds[pol],
        &pol_key(24, 102, true, 17, 53),
        &pol_val(ver, 0, false, 24, 0, 0),
    );
    if ver != Ver::V117 {
        let st = m.make(
            &globals,
            BPF_MAP_TYPE_LRU_PERCPU_HASH,
            "cilium_policystats",
            12,
            16,
            65536,
        );
        put(
            &m.fds[st],
            &stats_key(403, 0, 0, false, 0, 0),
            &percpu(&[(100, 9000), (10, 240)]),
        );
        put(
            &m.fds[st],
            &stats_key(403, 21, 28461, false, 6, 8080),
            &percpu(&[(7, 700)]),
        );
    }

    // ---- metrics ----
    let met = m.make(
        &globals,
        BPF_MAP_TYPE_PERCPU_HASH,
        "cilium_metrics",
        8,
        16,
        1024,
    );
    put(
        &m.fds[met],
        &metrics_key(0, 2, 1389, 2),
        &percpu(&[(100, 1000), (11, 110)]),
    );
    put(
        &m.fds[met],
        &metrics_key(133, 2, 1390, 2),
        &percpu(&[(14, 1036)]),
    );
    put(
        &m.fds[met],
        &metrics_key(181, 1, 77, 110),
        &percpu(&[(1, 60), (2, 120)]),
    );

    // ---- tail calls ----
    let mut obj = MaybeUninit::uninit();
    let mut open = cilium_fixture::CiliumFixtureSkelBuilder::default()
        .open(&mut obj)
        .expect("open fixture");
    let size = match ver {
        Ver::V117 => 50,
        Ver::V118 => 48,
        Ver::Main => 49,
    };
    open.maps
        .cilium_calls
        .set_max_entries(size)
        .expect("max entries");
    let mut skel = open.load().expect("load cilium fixture");
    skel.maps
        .cilium_calls
        .pin(globals.join("cilium_calls_00403"))
        .expect("pin calls");
    skel.maps
        .cilium_call_policy
        .pin(globals.join("cilium_call_policy"))
        .expect("pin call policy");
    let p = &skel.progs;
    let (ct_egress_slot, drop_prog, drop_name, policy_prog, policy_name) = match ver {
        Ver::V117 => (
            29u32,
            &p.__send_drop_notify,
            "__send_drop_notify",
            &p.handle_policy,
            "handle_policy",
        ),
        Ver::V118 | Ver::Main => (
            30u32,
            &p.tail_drop_notify,
            "tail_drop_notify",
            &p.cil_lxc_policy,
            "cil_lxc_policy",
        ),
    };
    let calls_fd = skel.maps.cilium_calls.as_fd();
    let pol_fd = skel.maps.cilium_call_policy.as_fd();
    let insert = |map: std::os::fd::BorrowedFd<'_>, idx: u32, prog: std::os::fd::BorrowedFd<'_>| {
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
    };
    insert(calls_fd, 7, p.tail_handle_ipv4.as_fd());
    insert(calls_fd, ct_egress_slot, p.tail_ipv4_ct_egress.as_fd());
    insert(calls_fd, 1, drop_prog.as_fd());
    insert(pol_fd, 403, policy_prog.as_fd());
    let link = LinkFd::create(p.cil_from_container.as_fd(), ifx, BPF_TCX_INGRESS, 0);

    // A non-Cilium prog array: decoded generically.
    let jmp = create_map(BPF_MAP_TYPE_PROG_ARRAY, "dps_jmp", 4, 4, 8);
    insert(jmp.as_fd(), 2, p.tail_drop_notify.as_fd());
    let mut jinfo = libbpf_sys::bpf_map_info::default();
    let mut jlen = std::mem::size_of::<libbpf_sys::bpf_map_info>() as u32;
    // SAFETY: zeroed info without buffers, len is its size.
    unsafe { libbpf_sys::bpf_map_get_info_by_fd(jmp.as_raw_fd(), &mut jinfo, &mut jlen) };

    let programs: Vec<Program> = vec![
        program(p.cil_from_container.as_fd(), "cil_from_container"),
        program(p.tail_handle_ipv4.as_fd(), "tail_handle_ipv4"),
        program(p.tail_ipv4_ct_egress.as_fd(), "tail_ipv4_ct_egress"),
        program(drop_prog.as_fd(), drop_name),
        program(policy_prog.as_fd(), policy_name),
        program(p.tail_drop_notify.as_fd(), "tail_drop_notify"),
    ];
    let entry_id = programs[0].id;
    let attachments = vec![Attachment {
        ifindex: ifx,
        ifname: veth.host.clone(),
        hook: "tcx_ingress".into(),
        prog_id: entry_id,
        prog_name: "cil_from_container".into(),
        link_id: Some(link.id()),
        ..Default::default()
    }];
    let maps = vec![MapInfo {
        id: jinfo.id,
        name: "dps_jmp".into(),
        kernel_name: "dps_jmp".into(),
        map_type: "prog_array".into(),
        key_size: 4,
        value_size: 4,
        max_entries: 8,
        ..Default::default()
    }];

    let c = dpscope::bpf::cilium::collect(
        std::slice::from_ref(&fs.path),
        &programs,
        &maps,
        &attachments,
    );
    let label = match ver {
        Ver::V117 => "1.17",
        Ver::V118 => "1.18",
        Ver::Main => "1.19/main",
    };
    assert!(
        c.layout.as_deref().unwrap().starts_with(label),
        "{:?}",
        c.layout
    );
    assert!(c.unavailable.is_empty(), "{:?}", c.unavailable);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);

    // Services.
    assert_eq!(c.services.len(), 3, "{:#?}", c.services);
    let dns_svc = c
        .services
        .iter()
        .find(|s| s.frontend == "10.96.0.10:53/UDP")
        .unwrap();
    assert_eq!(
        (dns_svc.svc_type.as_str(), dns_svc.rev_nat_id),
        ("ClusterIP", 3)
    );
    assert_eq!(dns_svc.flags, vec!["non-routable"]);
    assert_eq!((dns_svc.backend_count, dns_svc.quarantined_count), (1, 1));
    assert_eq!(dns_svc.lb_algorithm.as_deref(), Some("random"));
    let got: Vec<(u16, u32, Option<&str>, Option<u16>, &str)> = dns_svc
        .backends
        .iter()
        .map(|b| {
            (
                b.slot,
                b.backend_id,
                b.address.as_deref(),
                b.port,
                b.state.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (1, 7, Some("10.244.1.17"), Some(53), "active"),
            (2, 8, Some("10.244.1.18"), Some(53), "terminating"),
        ]
    );
    let np_svc = c
        .services
        .iter()
        .find(|s| s.frontend == "172.18.0.2:30080/TCP/i")
        .unwrap();
    assert_eq!(
        (
            np_svc.svc_type.as_str(),
            np_svc.rev_nat_id,
            np_svc.scope.as_str()
        ),
        ("NodePort", 0x0102, "internal")
    );
    assert_eq!(np_svc.flags, vec!["Local", "sessionAffinity"]);
    assert_eq!(
        (np_svc.affinity_timeout_s, np_svc.lb_algorithm.as_deref()),
        (Some(10800), Some("maglev"))
    );
    assert_eq!(np_svc.backends[0].address.as_deref(), Some("172.18.0.3"));
    assert_eq!(np_svc.backends[0].port, Some(6443));
    assert_eq!(
        (
            np_svc.backends[1].backend_id,
            np_svc.backends[1].state.as_str()
        ),
        (99, "missing")
    );
    let v6_svc = c
        .services
        .iter()
        .find(|s| s.frontend == "[fd00::10]:80/TCP")
        .unwrap();
    assert_eq!(v6_svc.backends[0].address.as_deref(), Some("fd00::aa"));
    assert_eq!(
        (v6_svc.backends[0].port, v6_svc.backends[0].state.as_str()),
        (Some(8080), "quarantined")
    );

    // Conntrack.
    assert_eq!(c.conntrack.len(), 5, "{:#?}", c.conntrack);
    let near = |got: i64, want: i64| (got - want).abs() <= 2;
    let out = c
        .conntrack
        .iter()
        .find(|e| e.table == "ct4_global")
        .unwrap();
    assert_eq!(
        (out.protocol.as_ref(), out.direction.as_ref(), out.related),
        ("TCP", "OUT", false)
    );
    assert_eq!(
        (
            out.src.to_string().as_str(),
            out.src_port,
            out.dst.to_string().as_str(),
            out.dst_port
        ),
        ("10.244.1.23", 48526, "10.244.2.17", 80)
    );
    assert_eq!(out.flags, vec!["RxClosing", "TxClosing", "SeenNonSyn"]);
    assert_eq!(out.tx_flags_seen, vec!["FIN", "SYN", "PSH", "ACK"]);
    assert!(near(out.expires_in_s, 100), "{}", out.expires_in_s);
    assert_eq!(
        (out.rev_nat_id, out.src_identity, out.packets, out.bytes),
        (5, 28461, Some(5), Some(300))
    );
    assert_eq!(out.ifindex, if ver == Ver::V117 { Some(12) } else { None });
    // main: offset 40 holds the NAT port in network order (bytes 0c 00 → 3072).
    assert_eq!(
        out.nat_port,
        if ver == Ver::Main { Some(3072) } else { None }
    );
    let svc = c.conntrack.iter().find(|e| e.direction == "SVC").unwrap();
    assert_eq!(
        (svc.table.as_ref(), svc.protocol.as_ref()),
        ("ct_any4_global", "UDP")
    );
    assert_eq!(
        (
            svc.src.to_string().as_str(),
            svc.src_port,
            svc.dst.to_string().as_str(),
            svc.dst_port
        ),
        ("10.244.1.23", 40000, "10.96.0.10", 53)
    );
    assert_eq!((svc.backend_id, svc.rev_nat_id), (Some(7), 3));
    assert!(near(svc.expires_in_s, 60));
    let rel = c.conntrack.iter().find(|e| e.related).unwrap();
    assert_eq!(
        (rel.direction.as_ref(), rel.protocol.as_ref()),
        ("IN", "ICMP")
    );
    assert_eq!(rel.flags, vec!["Unknown=0x0800"]);
    let in6 = c
        .conntrack
        .iter()
        .find(|e| e.table == "ct6_global")
        .unwrap();
    assert_eq!(
        (
            in6.direction.as_ref(),
            in6.src.to_string().as_str(),
            in6.src_port,
            in6.dst.to_string().as_str(),
            in6.dst_port
        ),
        ("IN", "fd00::1", 5555, "fd00::2", 443)
    );
    assert_eq!(in6.rx_flags_seen, vec!["SYN", "ACK"]);
    assert!(near(in6.expires_in_s, 8000));
    let out6 = c
        .conntrack
        .iter()
        .find(|e| e.table == "ct_any6_global")
        .unwrap();
    assert_eq!(
        (
            out6.src.to_string().as_str(),
            out6.src_port,
            out6.dst.to_string().as_str(),
            out6.dst_port
        ),
        ("fd00::3", 6000, "fd00::4", 53)
    );

    // Identities.
    let mut ids: Vec<(String, u32, Option<String>, Option<String>, Vec<String>, u8)> = c
        .identities
        .iter()
        .map(|e| {
            (
                e.prefix.clone(),
                e.identity,
                e.identity_name.clone(),
                e.tunnel_endpoint.clone(),
                e.flags.clone(),
                e.encrypt_key,
            )
        })
        .collect();
    ids.sort();
    let tunnel_flags = if ver != Ver::V117 {
        vec!["hastunnel".to_string()]
    } else {
        vec![]
    };
    assert_eq!(
        ids,
        vec![
            (
                "0.0.0.0/0".into(),
                2,
                Some("world".into()),
                None,
                vec!["skiptunnel".to_string()],
                0
            ),
            ("10.244.1.23/32".into(), 28461, None, None, vec![], 0),
            (
                "10.244.2.0/24".into(),
                40110,
                None,
                Some("172.18.0.4".into()),
                tunnel_flags,
                3
            ),
            (
                "fd00::/64".into(),
                16777217,
                Some("local (CIDR)".into()),
                None,
                vec![],
                0
            ),
        ]
    );

    // Endpoints.
    let mut eps = c.endpoints.clone();
    eps.sort_by(|a, b| a.address.cmp(&b.address));
    assert_eq!(eps.len(), 2);
    assert_eq!(
        (
            eps[0].address.as_str(),
            eps[0].endpoint_id,
            eps[0].identity,
            eps[0].ifindex
        ),
        ("10.244.1.23", 403, 28461, ifx)
    );
    assert_eq!(
        (eps[0].mac.as_str(), eps[0].node_mac.as_str()),
        ("5E:7D:1A:22:0B:9C", "A2:33:4C:10:6F:E1")
    );
    assert_eq!(
        (eps[1].address.as_str(), eps[1].flags.clone()),
        ("172.18.0.3", vec!["host".to_string()])
    );

    // Policy: deny first, then ingress before egress, then identity.
    let rows: Vec<(
        &str,
        &str,
        u32,
        &str,
        u16,
        u16,
        u16,
        Option<u64>,
        Option<u64>,
    )> = c
        .policy
        .iter()
        .map(|e| {
            (
                e.verdict.as_str(),
                e.direction.as_ref(),
                e.identity,
                e.protocol.as_ref(),
                e.port_low,
                e.port_high,
                e.proxy_port,
                e.packets,
                e.bytes,
            )
        })
        .collect();
    let (any_ctr, range_ctr, deny_ctr, dns_ctr) = match ver {
        Ver::V117 => (
            (Some(110), Some(9240)),
            (Some(7), Some(700)),
            (Some(3), Some(180)),
            (Some(0), Some(0)),
        ),
        Ver::V118 | Ver::Main => (
            (Some(110), Some(9240)),
            (Some(7), Some(700)),
            (None, None),
            (None, None),
        ),
    };
    assert_eq!(
        rows,
        vec![
            ("deny", "egress", 2, "TCP", 443, 443, 0, deny_ctr.0, deny_ctr.1),
            ("allow", "ingress", 0, "ANY", 0, 0, 0, any_ctr.0, any_ctr.1),
            (
                "allow",
                "ingress",
                28461,
                "TCP",
                8080,
                8087,
                15001,
                range_ctr.0,
                range_ctr.1
            ),
            ("allow", "egress", 102, "UDP", 53, 53, 0, dns_ctr.0, dns_ctr.1),
        ]
    );
    assert!(c.policy.iter().all(|e| e.endpoint_id == 403));
    if ver == Ver::Main {
        assert!(c
            .policy
            .iter()
            .all(|e| e.precedence == Some(u32::MAX) && e.cookie == Some(42)));
    }
    assert_eq!(c.policy[0].identity_name.as_deref(), Some("world"));
    assert_eq!(c.policy[3].identity_name.as_deref(), Some("kube-dns"));

    // Metrics: per-CPU values summed, file names from the release's table.
    let mets: Vec<(&str, &str, u64, u64, Option<&str>, Option<u32>)> = c
        .metrics
        .iter()
        .map(|e| {
            (
                e.reason_name.as_str(),
                e.direction.as_ref(),
                e.packets,
                e.bytes,
                e.file.as_deref(),
                e.line,
            )
        })
        .collect();
    let h110 = match ver {
        Ver::V117 => "l3.h",
        Ver::V118 => "local_delivery.h",
        Ver::Main => "trace.h",
    };
    assert_eq!(
        mets,
        vec![
            (
                "Policy denied",
                "EGRESS",
                14,
                1036,
                Some("bpf_lxc.c"),
                Some(1390)
            ),
            (
                "Policy denied by denylist",
                "INGRESS",
                3,
                180,
                Some(h110),
                Some(77)
            ),
            (
                "Success",
                "EGRESS",
                111,
                1110,
                Some("bpf_lxc.c"),
                Some(1389)
            ),
        ]
    );

    // Tail calls.
    let calls = c
        .tailcalls
        .iter()
        .find(|t| t.map_name == "cilium_calls_00403")
        .unwrap();
    assert_eq!(
        calls.owner.as_deref(),
        Some(format!("cil_from_container on {} (tcx_ingress)", veth.host).as_str())
    );
    assert_eq!(calls.owner_prog_ids, vec![entry_id]);
    assert_eq!(calls.layout.as_deref(), Some(label));
    assert_eq!(calls.max_entries, size);
    let slots: Vec<(u32, Option<&str>, &str, bool)> = calls
        .slots
        .iter()
        .map(|s| {
            (
                s.index,
                s.slot_name.as_deref(),
                s.prog_name.as_str(),
                s.empty,
            )
        })
        .collect();
    // tail_handle_ipv4's one call site takes 29 or 30 (clang merged the two calls): its index
    // is not known statically, so neither the empty 29 nor the empty 30 is "called".
    let expect = match ver {
        Ver::V117 => vec![
            (1, Some("DROP_NOTIFY"), "__send_drop_notify", false),
            (7, Some("IPV4_FROM_LXC"), "tail_handle_ipv4", false),
            (29, Some("IPV4_CT_EGRESS"), "tail_ipv4_ct_egress", false),
        ],
        Ver::V118 | Ver::Main => vec![
            (1, Some("DROP_NOTIFY"), "tail_drop_notify", false),
            (7, Some("IPV4_FROM_LXC"), "tail_handle_ipv4", false),
            (30, Some("IPV4_CT_EGRESS"), "tail_ipv4_ct_egress", false),
        ],
    };
    assert_eq!(slots, expect);
    assert_eq!(calls.endpoint_id, Some(403));
    let ipv4 = calls.slots.iter().find(|s| s.index == 7).unwrap();
    assert!(
        !ipv4.cycle,
        "tail_handle_ipv4 calls into its own call map, but nothing calls it back"
    );
    let pol_map = c
        .tailcalls
        .iter()
        .find(|t| t.map_name == "cilium_call_policy")
        .unwrap();
    assert_eq!(pol_map.slots.len(), 1);
    assert_eq!(
        (
            pol_map.slots[0].index,
            pol_map.slots[0].slot_name.as_deref(),
            pol_map.slots[0].prog_name.as_str()
        ),
        (403, Some("endpoint 403 ingress policy"), policy_name)
    );
    let ct_eg = calls
        .slots
        .iter()
        .find(|s| s.prog_name == "tail_ipv4_ct_egress")
        .unwrap();
    assert!(ct_eg.calls_maps.contains(&pol_map.map_id));
    let generic = c
        .tailcalls
        .iter()
        .find(|t| t.map_name == "dps_jmp")
        .unwrap();
    assert_eq!((generic.kind.as_str(), generic.slots.len()), ("generic", 1));
    assert_eq!(
        (generic.slots[0].index, generic.slots[0].slot_name.clone()),
        (2, None)
    );
    // The DOT export is rooted where packets enter: the veth, its hook, the entry program.
    let snap = dpscope::model::Snapshot {
        programs: programs.clone(),
        attachments: attachments.clone(),
        tailcalls: c.tailcalls.clone(),
        ..dpscope::model::Snapshot::empty()
    };
    let dot = dpscope::pane::tailcalls::dot(&snap);
    assert!(dot.contains("7 IPV4_FROM_LXC"), "{dot}");
    assert!(
        dot.contains(&format!(
            "\"if{}\" -> \"prog{entry_id}\" [label=\"tcx ingress\", style=bold]",
            veth.host_ifindex()
        )),
        "{dot}"
    );

    drop(link);
    drop(skel);
}

#[test]
fn cilium_1_18_maps_decode_exactly() {
    if !common::require_priv("cilium_1_18_maps_decode_exactly") {
        return;
    }
    run(Ver::V118);
}

#[test]
fn cilium_main_maps_decode_exactly() {
    if !common::require_priv("cilium_main_maps_decode_exactly") {
        return;
    }
    run(Ver::Main);
}

#[test]
fn cilium_1_17_maps_decode_exactly() {
    if !common::require_priv("cilium_1_17_maps_decode_exactly") {
        return;
    }
    run(Ver::V117);
}

/// A Cilium-named map whose sizes match no layout is shown raw with a note; a big CT table is
/// read with batch lookups up to the cap and says "showing N of M".
#[test]
fn unknown_layout_is_raw_and_big_tables_are_capped() {
    if !common::require_priv("unknown_layout_is_raw_and_big_tables_are_capped") {
        return;
    }
    use libbpf_sys::*;
    let fs = Bpffs::new();
    let globals = fs.join("tc/globals");
    std::fs::create_dir_all(&globals).expect("mkdir tc/globals");
    let mut m = Maps { fds: vec![] };
    let odd = m.make(&globals, BPF_MAP_TYPE_HASH, "cilium_lxc", 20, 64, 16);
    put(&m.fds[odd], &[1u8; 20], &[2u8; 64]);
    let ct = m.make(
        &globals,
        BPF_MAP_TYPE_LRU_HASH,
        "cilium_ct4_global",
        14,
        56,
        524288,
    );
    let now = mono_s();
    for i in 0..5000u32 {
        let b = i.to_be_bytes();
        put(
            &m.fds[ct],
            &ct_key4([10, b[1], b[2], b[3]], [10, 0, 0, 1], 80, 1024, 6, 0),
            &ct_val(0, 1, 60, now + 100, 0x10, 0, 0, 0, 28461),
        );
    }
    let opts = dpscope::bpf::cilium::Options {
        cap: 1000,
        clock: None,
    };
    let c =
        dpscope::bpf::cilium::collect_with(std::slice::from_ref(&fs.path), &[], &[], &[], &opts);
    assert_eq!(c.endpoints.len(), 1);
    assert_eq!(
        c.endpoints[0].layout.as_deref(),
        Some("layout unknown (key 20 B, value 64 B)")
    );
    assert_eq!(
        c.endpoints[0].raw.as_deref(),
        Some(format!("key={} value={}", "01".repeat(20), "02".repeat(64)).as_str())
    );
    assert!(c
        .warnings
        .iter()
        .any(|w| w.starts_with("cilium_lxc: key 20 B / value 64 B match no known Cilium layout")));
    assert_eq!(c.conntrack.len(), 1000);
    assert!(
        c.warnings
            .iter()
            .any(|w| w.starts_with("cilium_ct4_global: showing 1000 of")),
        "{:?}",
        c.warnings
    );
    // Only CT and a broken lxc map: the release cannot be told, and the pane says what was assumed.
    assert_eq!(c.layout, None);
    assert!(c.conntrack[0]
        .layout
        .as_deref()
        .unwrap()
        .contains("assumed"));
    // Panes whose maps are absent say so.
    assert!(c.unavailable.iter().any(|u| u.pane == "services"
        && u.reason
            .starts_with("no cilium_lb{4,6}_services_v2 map found under")));
}

/// A full-size TCP CT table (524,288 entries, Cilium's default) is read completely.
#[test]
fn full_size_ct_table_is_read_completely() {
    if !common::require_priv("full_size_ct_table_is_read_completely") {
        return;
    }
    use libbpf_sys::*;
    let fs = Bpffs::new();
    let globals = fs.join("tc/globals");
    std::fs::create_dir_all(&globals).expect("mkdir tc/globals");
    let mut m = Maps { fds: vec![] };
    let n = 524_288u32;
    let ct = m.make(
        &globals,
        BPF_MAP_TYPE_HASH,
        "cilium_ct4_global_x",
        14,
        56,
        n,
    );
    // A plain hash of the same shape is filled first (LRU maps evict while filling up),
    // then pinned under Cilium's name.
    let now = mono_s();
    let keys: Vec<u8> = (0..n)
        .flat_map(|i| {
            let b = i.to_be_bytes();
            ct_key4([10, b[1], b[2], b[3]], [10, 0, 0, 1], 80, 1024, 6, 0)
        })
        .collect();
    let vals: Vec<u8> = (0..n)
        .flat_map(|_| ct_val(0, 1, 60, now + 100, 0x10, 0, 0, 0, 28461))
        .collect();
    let mut count = n;
    let opts = bpf_map_batch_opts {
        sz: std::mem::size_of::<bpf_map_batch_opts>() as _,
        ..Default::default()
    };
    // SAFETY: n keys of 14 B and n values of 56 B.
    let rc = unsafe {
        bpf_map_update_batch(
            m.fds[ct].as_raw_fd(),
            keys.as_ptr() as _,
            vals.as_ptr() as _,
            &mut count,
            &opts,
        )
    };
    assert_eq!((rc, count), (0, n));
    std::fs::remove_file(globals.join("cilium_ct4_global_x")).expect("unpin");
    pin(&m.fds[ct], &globals.join("cilium_ct4_global"));
    let started = std::time::Instant::now();
    let c = dpscope::bpf::cilium::collect(std::slice::from_ref(&fs.path), &[], &[], &[]);
    eprintln!("read and decoded {n} CT entries in {:?}", started.elapsed());
    // The registry wants an LRU hash for this name: a plain hash is shown raw, capped.
    assert_eq!(c.conntrack.len(), 10_000);
    assert!(c
        .warnings
        .iter()
        .any(|w| w == "cilium_ct4_global: showing the first 10000 raw entries"));
    let lru = m.make(
        &globals,
        BPF_MAP_TYPE_LRU_HASH,
        "cilium_ct_any4_global",
        14,
        56,
        n,
    );
    // SAFETY: as above.
    let rc = unsafe {
        bpf_map_update_batch(
            m.fds[lru].as_raw_fd(),
            keys.as_ptr() as _,
            vals.as_ptr() as _,
            &mut count,
            &opts,
        )
    };
    assert_eq!(rc, 0);
    let started = std::time::Instant::now();
    let c = dpscope::bpf::cilium::collect(std::slice::from_ref(&fs.path), &[], &[], &[]);
    eprintln!(
        "read and decoded {} LRU CT entries in {:?}",
        c.conntrack.len(),
        started.elapsed()
    );
    let any: Vec<_> = c
        .conntrack
        .iter()
        .filter(|e| e.table == "ct_any4_global")
        .collect();
    // An LRU map may evict a few entries while it fills up; nearly all must be there.
    assert!(any.len() > (n as usize) * 9 / 10, "{}", any.len());
    assert!(
        !c.warnings
            .iter()
            .any(|w| w.contains("cilium_ct_any4_global")),
        "{:?}",
        c.warnings
    );
}

fn map_info(fd: &OwnedFd) -> libbpf_sys::bpf_map_info {
    let mut info = libbpf_sys::bpf_map_info::default();
    let mut len = std::mem::size_of::<libbpf_sys::bpf_map_info>() as u32;
    // SAFETY: a map fd and a bpf_map_info with no buffers set.
    let rc = unsafe {
        libbpf_sys::bpf_obj_get_info_by_fd(fd.as_raw_fd(), &mut info as *mut _ as *mut _, &mut len)
    };
    assert_eq!(rc, 0);
    info
}

/// Big maps are read on a helper thread while the caller decodes: every entry arrives once,
/// per-CPU values summed, and a cap stops the walk (and the reader) part way.
#[test]
fn big_maps_are_read_whole_or_to_the_cap() {
    if !common::require_priv("big_maps_are_read_whole_or_to_the_cap") {
        return;
    }
    use libbpf_sys::*;
    let n = 20_000u32;
    let plain = create_map(BPF_MAP_TYPE_HASH, "dps_big_hash", 4, 8, 32_768);
    let pcpu = create_map(BPF_MAP_TYPE_PERCPU_HASH, "dps_big_pcpu", 4, 16, 32_768);
    for i in 0..n {
        put(&plain, &i.to_ne_bytes(), &(u64::from(i) * 3).to_ne_bytes());
        put(
            &pcpu,
            &i.to_ne_bytes(),
            &percpu(&[(u64::from(i), 1), (5, 2)]),
        );
    }
    let ncpu = dpscope::bpf::maps::possible_cpus();
    let pcpu_b: u64 = if ncpu > 1 { 3 } else { 1 };
    let pcpu_a = |i: u64| if ncpu > 1 { i + 5 } else { i };
    for cap in [1 << 20, 17_000] {
        let want = (n as usize).min(cap);
        let mut seen = std::collections::HashSet::new();
        let w =
            dpscope::bpf::cilium::read::for_each(&plain, &map_info(&plain), cap, &mut |k, v| {
                let k = u32::from_ne_bytes(k.try_into().unwrap());
                assert_eq!(v, (u64::from(k) * 3).to_ne_bytes());
                assert!(seen.insert(k), "{k} twice");
            })
            .unwrap();
        assert_eq!(
            (w.len, w.truncated, seen.len()),
            (want, cap < n as usize, want)
        );
        let d = dpscope::bpf::cilium::read::dump(&pcpu, &map_info(&pcpu), cap).unwrap();
        assert_eq!((d.len(), d.truncated), (want, cap < n as usize));
        for (k, v) in d.iter() {
            let k = u64::from(u32::from_ne_bytes(k.try_into().unwrap()));
            assert_eq!(v[..8], pcpu_a(k).to_le_bytes());
            assert_eq!(v[8..], pcpu_b.to_le_bytes());
        }
    }
}
