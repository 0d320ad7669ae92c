//! Maps created, pinned and filled from userspace, as Cilium's agent does: the fixtures that
//! give tests Cilium's exact map names, types and sizes, and the byte forms of its LB entries.

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

/// A map created from userspace; the kernel keeps the first 15 characters of its name.
pub fn create_map(t: u32, name: &str, ks: u32, vs: u32, max: u32) -> OwnedFd {
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

/// Pins `fd` at `path` (inside a test's private bpffs).
pub fn pin(fd: impl AsFd, path: &Path) {
    let c = std::ffi::CString::new(path.to_string_lossy().into_owned()).unwrap();
    // SAFETY: valid fd and NUL-terminated path.
    let rc = unsafe { libbpf_sys::bpf_obj_pin(fd.as_fd().as_raw_fd(), c.as_ptr()) };
    assert_eq!(rc, 0, "pin {}", path.display());
}

/// Writes one entry; `k` and `v` are the map's key and value sizes.
pub fn put(fd: impl AsFd, k: &[u8], v: &[u8]) {
    // SAFETY: buffers sized for the map by the caller.
    let rc = unsafe {
        libbpf_sys::bpf_map_update_elem(fd.as_fd().as_raw_fd(), k.as_ptr() as _, v.as_ptr() as _, 0)
    };
    assert_eq!(rc, 0, "update: {}", std::io::Error::from_raw_os_error(-rc));
}

/// `struct lb4_key`: address, port (network order), backend slot, proto, scope.
pub fn svc_key4(ip: [u8; 4], port: u16, slot: u16, proto: u8, scope: u8) -> Vec<u8> {
    let mut k = ip.to_vec();
    k.extend(port.to_be_bytes());
    k.extend(slot.to_le_bytes());
    k.extend([proto, scope, 0, 0]);
    k
}

/// `struct lb4_service` / `lb6_service`: backend id or count union, count, rev-NAT (network
/// order), flags, quarantined count.
pub fn svc_val(union: u32, count: u16, revnat: u16, flags: u16, qcount: u16) -> Vec<u8> {
    let mut v = union.to_le_bytes().to_vec();
    v.extend(count.to_le_bytes());
    v.extend(revnat.to_be_bytes());
    v.extend([flags as u8, (flags >> 8) as u8]);
    v.extend(qcount.to_le_bytes());
    v
}

/// `struct lb4_backend`: address, port (network order), proto, state.
pub fn backend4(ip: [u8; 4], port: u16, proto: u8, state: u8) -> Vec<u8> {
    let mut v = ip.to_vec();
    v.extend(port.to_be_bytes());
    v.extend([proto, state, 0, 0, 0, 0]);
    v
}

/// fd00::`last`.
pub fn v6(last: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0xfd;
    a[15] = last;
    a
}

/// A program of type `ty` that loads the address of each map in `maps` (so the kernel records
/// them as its maps) and returns 0.
pub fn load_prog_using(ty: u32, name: &str, maps: &[OwnedFd]) -> OwnedFd {
    let insn = |code: u8, dst: u8, src: u8, imm: i32| libbpf_sys::bpf_insn {
        code,
        _bitfield_align_1: [],
        _bitfield_1: libbpf_sys::bpf_insn::new_bitfield_1(dst, src),
        off: 0,
        imm,
    };
    let mut insns = Vec::new();
    for m in maps {
        // r1 = map (BPF_LD | BPF_DW | BPF_IMM with BPF_PSEUDO_MAP_FD), two slots.
        insns.push(insn(0x18, 1, 1, m.as_raw_fd()));
        insns.push(insn(0, 0, 0, 0));
    }
    insns.push(insn(0xb7, 0, 0, 0));
    insns.push(insn(0x95, 0, 0, 0));
    let n = std::ffi::CString::new(name).unwrap();
    let lic = std::ffi::CString::new("GPL").unwrap();
    // SAFETY: valid instructions and strings for the duration of the call.
    let fd = unsafe {
        libbpf_sys::bpf_prog_load(
            ty,
            n.as_ptr(),
            lic.as_ptr(),
            insns.as_ptr(),
            insns.len() as _,
            std::ptr::null_mut(),
        )
    };
    assert!(
        fd >= 0,
        "load {name}: {}",
        std::io::Error::from_raw_os_error(-fd)
    );
    // SAFETY: a fresh descriptor we own.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// The kernel id of a map descriptor.
pub fn map_id(fd: &OwnedFd) -> u32 {
    let mut info = libbpf_sys::bpf_map_info::default();
    let mut len = std::mem::size_of::<libbpf_sys::bpf_map_info>() as u32;
    // SAFETY: a map fd and a bpf_map_info without buffers.
    let r = unsafe {
        libbpf_sys::bpf_obj_get_info_by_fd(fd.as_raw_fd(), &mut info as *mut _ as *mut _, &mut len)
    };
    assert_eq!(r, 0, "bpf_obj_get_info_by_fd");
    info.id
}
