//! A Cilium-shaped node for the benchmarks, with Cilium's exact map names, types and sizes
//! (../shared/cilium-maps.md), as during an upgrade: two releases' maps side by side, each in
//! its own private bpffs (`main`: calls arrays of 49 slots, policy value 12 B; `1.18`: 48
//! slots, policy value 8 B).
//!
//! * 6 prog arrays of 65,536 slots (`cilium_call_policy`, `cilium_egresscall_policy` of each
//!   object: two pinned per root, two of a second object unpinned), 40 populated each;
//! * 200 `cilium_calls_<EPID>` prog arrays (100 per root), 4 slots populated each;
//! * 6 array-of-maps of 256 (`cilium_per_cluster_ct_{tcp4,any4,tcp6,any6}`,
//!   `cilium_per_cluster_snat_v{4,6}_external`), 2 clusters each;
//! * `cilium_lb{4,6}_maglev` hash-of-maps of 65,536 with 20 services of 16,381-slot tables;
//! * `cilium_snat_v{4,6}_external` LRU hashes of 524,288 (5,000 entries each);
//! * `cilium_ct4_global` LRU of 524,288, full (524,288 entries), `cilium_ct_any4_global` of
//!   262,144; in the main root;
//! * small tables: `cilium_lxc`, `cilium_policy_v2_<EPID>`, `cilium_ipcache_v2`,
//!   `cilium_lb4_services_v2`, `cilium_lb4_backends_v3`, `cilium_metrics`.
//!
//! Everything is an fd held here or a pin in a private mount: dropping the node frees it all.

// Fixture code: a failed assumption is a failed benchmark setup.
#![allow(clippy::too_many_arguments, clippy::undocumented_unsafe_blocks)]

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

pub const BIG_ARRAY: u32 = 65_536;
pub const CT_ENTRIES: u32 = 524_288;
const ENDPOINTS: u32 = 40;
const CALLS_PER_ROOT: u32 = 100;

struct Mount(PathBuf);
impl Drop for Mount {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct CiliumNode {
    pub roots: Vec<PathBuf>,
    pub programs: usize,
    pub maps: usize,
    // Fields drop in order: fds first, then the mounts (pins go with them).
    fds: Vec<OwnedFd>,
    _mounts: Vec<Mount>,
}

fn create(
    ty: u32,
    name: &str,
    key: u32,
    value: u32,
    max: u32,
    flags: u32,
    inner: Option<&OwnedFd>,
) -> OwnedFd {
    let c = CString::new(&name[..name.len().min(15)]).unwrap();
    let opts = libbpf_sys::bpf_map_create_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_map_create_opts>() as _,
        map_flags: flags,
        inner_map_fd: inner.map_or(0, |f| f.as_raw_fd() as u32),
        ..Default::default()
    };
    // SAFETY: valid name and options for the duration of the call.
    let fd = unsafe { libbpf_sys::bpf_map_create(ty, c.as_ptr(), key, value, max, &opts) };
    assert!(
        fd >= 0,
        "create {name}: {}",
        std::io::Error::from_raw_os_error(-fd)
    );
    // SAFETY: a fresh descriptor.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

fn pin(fd: &OwnedFd, path: &Path) {
    let c = CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a map fd and a valid path.
    let r = unsafe { libbpf_sys::bpf_obj_pin(fd.as_raw_fd(), c.as_ptr()) };
    assert_eq!(r, 0, "pin {}", path.display());
}

fn put(fd: &OwnedFd, k: &[u8], v: &[u8]) {
    // SAFETY: key and value buffers have the map's sizes.
    let r = unsafe {
        libbpf_sys::bpf_map_update_elem(fd.as_raw_fd(), k.as_ptr() as _, v.as_ptr() as _, 0)
    };
    assert_eq!(r, 0, "update");
}

/// Write `n` keys and values in one `BPF_MAP_UPDATE_BATCH`.
pub fn put_batch(fd: &OwnedFd, keys: &[u8], vals: &[u8], n: u32) {
    let mut count = n;
    let opts = libbpf_sys::bpf_map_batch_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_map_batch_opts>() as _,
        ..Default::default()
    };
    // SAFETY: buffers hold n keys and n values of the map's sizes.
    let r = unsafe {
        libbpf_sys::bpf_map_update_batch(
            fd.as_raw_fd(),
            keys.as_ptr() as _,
            vals.as_ptr() as _,
            &mut count,
            &opts,
        )
    };
    assert_eq!(r, 0, "batch update");
}

/// A socket filter `r0 = 0; exit` (any program type goes in a fresh prog array).
fn load_prog(name: &str) -> OwnedFd {
    let insn = |code: u8| libbpf_sys::bpf_insn {
        code,
        _bitfield_align_1: [],
        _bitfield_1: libbpf_sys::bpf_insn::new_bitfield_1(0, 0),
        off: 0,
        imm: 0,
    };
    let insns = [insn(0xb7), insn(0x95)];
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
    // SAFETY: a fresh descriptor.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

pub fn ct_key(i: u32) -> [u8; 14] {
    let mut k = [0u8; 14];
    k[0..4].copy_from_slice(&[10, 0, (i >> 8) as u8, i as u8]); // daddr
    k[4..8].copy_from_slice(&[10, 1, (i >> 16) as u8, 1]); // saddr
    k[8..10].copy_from_slice(&443u16.to_be_bytes()); // dport
    k[10..12].copy_from_slice(&((i % 60000) as u16 + 1024).to_be_bytes()); // sport
    k[12] = 6; // TCP
    k[13] = (i % 2) as u8; // TUPLE_F_IN / OUT
    k
}

/// What a busy node's TCP entries look like: flags and TCP flags seen set (a table of all-zero
/// flags would hide their decoding cost), a source identity, a rev-NAT id on some.
pub fn ct_value(i: u32) -> [u8; 56] {
    let mut v = [0u8; 56];
    v[16..24].copy_from_slice(&(u64::from(i) * 3).to_ne_bytes()); // packets
    v[24..32].copy_from_slice(&(u64::from(i) * 1500).to_ne_bytes()); // bytes
    v[32..36].copy_from_slice(&(3600 + i % 100).to_ne_bytes()); // lifetime
    let closing = i.is_multiple_of(8);
    let flags: u16 = if closing { 0x13 } else { 0x10 }; // [Rx|Tx]Closing, SeenNonSyn
    v[36..38].copy_from_slice(&flags.to_ne_bytes());
    v[38..40].copy_from_slice(&(if i.is_multiple_of(4) { 5u16 } else { 0 }).to_be_bytes()); // rev_nat
    let seen = if closing { 0x1b } else { 0x1a }; // [FIN] SYN PSH ACK
    v[42] = seen; // tx_flags_seen
    v[43] = seen; // rx_flags_seen
    v[44..48].copy_from_slice(&(28461 + i % 50).to_ne_bytes()); // src_sec_id
    v
}

impl CiliumNode {
    pub fn build() -> CiliumNode {
        let mut node = CiliumNode {
            roots: vec![],
            programs: 0,
            maps: 0,
            fds: vec![],
            _mounts: vec![],
        };
        let tag = std::process::id();
        for (r, (label, calls_size, policy_value)) in [("main", 49u32, 12u32), ("v118", 48, 8)]
            .into_iter()
            .enumerate()
        {
            let dir = std::env::temp_dir().join(format!("dpscope-cilnode-{label}-{tag}"));
            std::fs::create_dir_all(&dir).unwrap();
            nix::mount::mount(
                Some("bpf"),
                &dir,
                Some("bpf"),
                nix::mount::MsFlags::empty(),
                None::<&str>,
            )
            .expect("mount bpffs");
            node._mounts.push(Mount(dir.clone()));
            let g = dir.join("tc/globals");
            std::fs::create_dir_all(&g).unwrap();
            node.roots.push(dir);
            node.build_root(&g, r as u32, calls_size, policy_value);
        }
        node
    }

    fn map(
        &mut self,
        g: Option<&Path>,
        ty: u32,
        name: &str,
        key: u32,
        value: u32,
        max: u32,
        flags: u32,
        inner: Option<&OwnedFd>,
    ) -> usize {
        let fd = create(ty, name, key, value, max, flags, inner);
        if let Some(g) = g {
            pin(&fd, &g.join(name));
        }
        self.fds.push(fd);
        self.maps += 1;
        self.fds.len() - 1
    }

    fn prog(&mut self, name: &str) -> OwnedFd {
        self.programs += 1;
        load_prog(name)
    }

    fn fill_slots(&mut self, array: usize, slots: &[u32], prefix: &str) {
        for s in slots {
            let p = self.prog(&format!("{prefix}{s}"));
            let v = p.as_raw_fd() as u32;
            put(&self.fds[array], &s.to_ne_bytes(), &v.to_ne_bytes());
            self.fds.push(p);
        }
    }

    fn build_root(&mut self, g: &Path, r: u32, calls_size: u32, policy_value: u32) {
        use libbpf_sys as s;
        let eps: Vec<u32> = (0..ENDPOINTS).map(|i| 100 + i * 37 + r * 2000).collect();
        // The global policy prog arrays of each object: pinned in each root, and in the main
        // root a second object's, unpinned (6 of 65,536 slots in all).
        let mut arrays = vec![
            ("cilium_call_policy", true),
            ("cilium_egresscall_policy", true),
        ];
        if r == 0 {
            arrays.extend([
                ("cilium_call_policy", false),
                ("cilium_egresscall_policy", false),
            ]);
        }
        for (name, pinned) in arrays {
            let at = self.map(
                pinned.then_some(g),
                s::BPF_MAP_TYPE_PROG_ARRAY,
                name,
                4,
                4,
                BIG_ARRAY,
                0,
                None,
            );
            self.fill_slots(at, &eps, "cil_pol_");
        }
        // Per-endpoint call maps.
        for i in 0..CALLS_PER_ROOT {
            let name = format!("cilium_calls_{:05}", 1000 + i + r * 1000);
            let at = self.map(
                Some(g),
                s::BPF_MAP_TYPE_PROG_ARRAY,
                &name,
                4,
                4,
                calls_size,
                0,
                None,
            );
            self.fill_slots(at, &[1, 7, 12, 33], "tail_");
        }
        // Small tables.
        let lxc = self.map(
            Some(g),
            s::BPF_MAP_TYPE_HASH,
            "cilium_lxc",
            20,
            48,
            65_535,
            1,
            None,
        );
        for (i, ep) in eps.iter().enumerate() {
            let mut k = [0u8; 20];
            k[0..4].copy_from_slice(&[10, 244, r as u8, i as u8 + 2]);
            let mut v = [0u8; 48];
            v[4..6].copy_from_slice(&(*ep as u16).to_ne_bytes());
            v[8..12].copy_from_slice(&(1000 + i as u32).to_ne_bytes());
            put(&self.fds[lxc], &k, &v);
            let pol = self.map(
                Some(g),
                s::BPF_MAP_TYPE_LPM_TRIE,
                &format!("cilium_policy_v2_{ep:05}"),
                12,
                policy_value,
                16_384,
                s::BPF_F_NO_PREALLOC,
                None,
            );
            for id in [0u32, 1, 2] {
                let mut k = [0u8; 12];
                k[0..4].copy_from_slice(&64u32.to_ne_bytes());
                k[4..8].copy_from_slice(&id.to_ne_bytes());
                put(&self.fds[pol], &k, &vec![0u8; policy_value as usize]);
            }
        }
        let ipc = self.map(
            Some(g),
            s::BPF_MAP_TYPE_LPM_TRIE,
            "cilium_ipcache_v2",
            24,
            24,
            512_000,
            s::BPF_F_NO_PREALLOC,
            None,
        );
        for i in 0..200u32 {
            let mut k = [0u8; 24];
            k[0..4].copy_from_slice(&(32 + 32u32).to_ne_bytes());
            k[6] = 1; // family v4
            k[8..12].copy_from_slice(&[10, 244, (i >> 8) as u8, i as u8]);
            let mut v = [0u8; 24];
            v[0..4].copy_from_slice(&(1000 + i).to_ne_bytes());
            put(&self.fds[ipc], &k, &v);
        }
        let svc = self.map(
            Some(g),
            s::BPF_MAP_TYPE_HASH,
            "cilium_lb4_services_v2",
            12,
            12,
            65_536,
            1,
            None,
        );
        let be = self.map(
            Some(g),
            s::BPF_MAP_TYPE_HASH,
            "cilium_lb4_backends_v3",
            4,
            12,
            65_536,
            1,
            None,
        );
        for i in 0..100u32 {
            for slot in 0..3u16 {
                let mut k = [0u8; 12];
                k[0..4].copy_from_slice(&[10, 96, (i >> 8) as u8, i as u8]);
                k[4..6].copy_from_slice(&80u16.to_be_bytes());
                k[6..8].copy_from_slice(&slot.to_ne_bytes());
                k[8] = 6;
                let mut v = [0u8; 12];
                if slot == 0 {
                    v[4..6].copy_from_slice(&2u16.to_ne_bytes());
                } else {
                    v[0..4].copy_from_slice(&(i * 2 + u32::from(slot)).to_ne_bytes());
                }
                v[6..8].copy_from_slice(&(i as u16 + 1).to_be_bytes());
                put(&self.fds[svc], &k, &v);
            }
            for b in 1..3u32 {
                let mut v = [0u8; 12];
                v[0..4].copy_from_slice(&[10, 244, 1, (i * 2 + b) as u8]);
                v[4..6].copy_from_slice(&8080u16.to_be_bytes());
                put(&self.fds[be], &(i * 2 + b).to_ne_bytes(), &v);
            }
        }
        let met = self.map(
            Some(g),
            s::BPF_MAP_TYPE_PERCPU_HASH,
            "cilium_metrics",
            8,
            16,
            1024,
            0,
            None,
        );
        let ncpu = libbpf_rs::num_possible_cpus().expect("possible CPUs");
        for reason in 0..20u8 {
            let k = [reason, 1, 0, 0, 0, 0, 0, 0];
            put(&self.fds[met], &k, &vec![1u8; 16 * ncpu]);
        }
        if r != 0 {
            return;
        }
        // Per-cluster CT/NAT: array-of-maps of 256, two clusters each.
        for (name, key, value) in [
            ("cilium_per_cluster_ct_tcp4", 14u32, 56u32),
            ("cilium_per_cluster_ct_any4", 14, 56),
            ("cilium_per_cluster_ct_tcp6", 38, 56),
            ("cilium_per_cluster_ct_any6", 38, 56),
            ("cilium_per_cluster_snat_v4_external", 14, 40),
            ("cilium_per_cluster_snat_v6_external", 38, 56),
        ] {
            let template = create(
                s::BPF_MAP_TYPE_LRU_HASH,
                "inner_tmpl",
                key,
                value,
                1024,
                0,
                None,
            );
            let outer = self.map(
                Some(g),
                s::BPF_MAP_TYPE_ARRAY_OF_MAPS,
                name,
                4,
                4,
                256,
                0,
                Some(&template),
            );
            for cluster in [1u32, 2] {
                let inner = create(
                    s::BPF_MAP_TYPE_LRU_HASH,
                    &format!("{name}_{cluster}"),
                    key,
                    value,
                    1024,
                    0,
                    None,
                );
                put(
                    &self.fds[outer],
                    &cluster.to_ne_bytes(),
                    &(inner.as_raw_fd() as u32).to_ne_bytes(),
                );
                self.fds.push(inner);
                self.maps += 1;
            }
        }
        // Maglev: hash-of-maps of 65,536, inner one-slot arrays of 4 * 16,381 bytes.
        for name in ["cilium_lb4_maglev", "cilium_lb6_maglev"] {
            let template = create(
                s::BPF_MAP_TYPE_ARRAY,
                "cilium_maglev_inner",
                4,
                4 * 16_381,
                1,
                0,
                None,
            );
            let outer = self.map(
                Some(g),
                s::BPF_MAP_TYPE_HASH_OF_MAPS,
                name,
                2,
                4,
                BIG_ARRAY,
                1,
                Some(&template),
            );
            for svc in 1..=20u16 {
                let inner = create(
                    s::BPF_MAP_TYPE_ARRAY,
                    "cilium_maglev_inner",
                    4,
                    4 * 16_381,
                    1,
                    0,
                    None,
                );
                put(
                    &self.fds[outer],
                    &svc.to_be_bytes(),
                    &(inner.as_raw_fd() as u32).to_ne_bytes(),
                );
                self.fds.push(inner);
                self.maps += 1;
            }
        }
        // NAT: LRU of 524,288, 5,000 entries each.
        for (name, key, value) in [
            ("cilium_snat_v4_external", 14u32, 40u32),
            ("cilium_snat_v6_external", 38, 56),
        ] {
            let m = self.map(
                Some(g),
                s::BPF_MAP_TYPE_LRU_HASH,
                name,
                key,
                value,
                CT_ENTRIES,
                0,
                None,
            );
            let n = 5000u32;
            let keys: Vec<u8> = (0..n)
                .flat_map(|i| {
                    let mut k = vec![0u8; key as usize];
                    k[0..4].copy_from_slice(&i.to_ne_bytes());
                    k
                })
                .collect();
            put_batch(&self.fds[m], &keys, &vec![0u8; (value * n) as usize], n);
        }
        // Conntrack: a full TCP table and an empty non-TCP one.
        let ct = self.map(
            Some(g),
            s::BPF_MAP_TYPE_LRU_HASH,
            "cilium_ct4_global",
            14,
            56,
            CT_ENTRIES,
            0,
            None,
        );
        for chunk in (0..CT_ENTRIES).collect::<Vec<_>>().chunks(16_384) {
            let keys: Vec<u8> = chunk.iter().flat_map(|&i| ct_key(i)).collect();
            let vals: Vec<u8> = chunk.iter().flat_map(|&i| ct_value(i)).collect();
            put_batch(&self.fds[ct], &keys, &vals, chunk.len() as u32);
        }
        self.map(
            Some(g),
            s::BPF_MAP_TYPE_LRU_HASH,
            "cilium_ct_any4_global",
            14,
            56,
            262_144,
            0,
            None,
        );
    }
}
