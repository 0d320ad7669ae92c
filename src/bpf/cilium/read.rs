//! Read-only access to pinned maps and programs: open by pin path, dump with batch lookups
//! (falling back to `get_next_key`), sum per-CPU values. Nothing here ever writes to a map.

use crate::bpf::sys;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

/// What `bpf_obj_get` found at a pin path.
pub enum Pinned {
    Map(OwnedFd, libbpf_sys::bpf_map_info),
    Other,
}

fn neg(ret: i32) -> io::Error {
    if ret < 0 {
        io::Error::from_raw_os_error(-ret)
    } else {
        io::Error::last_os_error()
    }
}

/// Open a pinned object read-only; only maps are returned with their info.
pub fn open_pinned(path: &Path) -> io::Result<Pinned> {
    let c = CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let opts = libbpf_sys::bpf_obj_get_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_obj_get_opts>() as _,
        file_flags: libbpf_sys::BPF_F_RDONLY,
        ..Default::default()
    };
    // SAFETY: c is NUL-terminated, opts is sized and initialised.
    let mut fd = unsafe { libbpf_sys::bpf_obj_get_opts(c.as_ptr(), &opts) };
    if fd < 0 {
        // Program pins reject BPF_F_RDONLY; retry plainly to learn what it is.
        // SAFETY: as above.
        fd = unsafe { libbpf_sys::bpf_obj_get(c.as_ptr()) };
    }
    if fd < 0 {
        return Err(neg(fd));
    }
    // SAFETY: a fresh fd owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let fdinfo = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd()))
        .unwrap_or_default();
    if sys::parse_fdinfo_field(&fdinfo, "map_type").is_none() {
        return Ok(Pinned::Other);
    }
    let mut info = libbpf_sys::bpf_map_info::default();
    // SAFETY: fd is a map (fdinfo says so) and bpf_map_info has no buffer pointers.
    unsafe { sys::info_by_fd(&fd, &mut info) }?;
    Ok(Pinned::Map(fd, info))
}

pub fn is_percpu(map_type: u32) -> bool {
    matches!(
        map_type,
        libbpf_sys::BPF_MAP_TYPE_PERCPU_HASH
            | libbpf_sys::BPF_MAP_TYPE_LRU_PERCPU_HASH
            | libbpf_sys::BPF_MAP_TYPE_PERCPU_ARRAY
    )
}

/// All (key, value) pairs of a map, at most `cap`; per-CPU values summed lane by lane (u64).
/// Stored flat (keys in one buffer, values in another): a 500k-entry table is two allocations,
/// not a million.
#[derive(Debug, Default)]
pub struct Dump {
    keys: Vec<u8>,
    vals: Vec<u8>,
    ks: usize,
    vs: usize,
    len: usize,
    /// Stopped at the cap: more entries exist.
    pub truncated: bool,
}

impl Dump {
    fn new(info: &libbpf_sys::bpf_map_info) -> Dump {
        Dump {
            ks: info.key_size as usize,
            vs: info.value_size as usize,
            ..Default::default()
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Entries as (key, value) slices.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        let (ks, vs) = (self.ks, self.vs);
        (0..self.len).map(move |i| {
            (
                self.keys.get(i * ks..(i + 1) * ks).unwrap_or(&[]),
                self.vals.get(i * vs..(i + 1) * vs).unwrap_or(&[]),
            )
        })
    }

    /// Append one entry; `raw` is the value as the kernel returned it (per-CPU lanes summed here).
    fn push(&mut self, info: &libbpf_sys::bpf_map_info, key: &[u8], raw: &[u8], ncpu: usize) {
        let mut k = key.to_vec();
        k.resize(self.ks, 0);
        self.keys.extend_from_slice(&k[..self.ks]);
        if is_percpu(info.type_) {
            let mut v = sum_percpu(raw, self.vs, ncpu);
            v.resize(self.vs, 0);
            self.vals.extend_from_slice(&v);
        } else {
            let n = raw.len().min(self.vs);
            self.vals.extend_from_slice(&raw[..n]);
            self.vals.resize(self.vals.len() + (self.vs - n), 0);
        }
        self.len += 1;
    }
}

/// Sum `ncpu` copies of a per-CPU value (each padded to a multiple of 8) into one value.
pub fn sum_percpu(raw: &[u8], value_size: usize, ncpu: usize) -> Vec<u8> {
    let stride = value_size.div_ceil(8) * 8;
    let mut out = raw
        .get(..value_size)
        .map(|s| s.to_vec())
        .unwrap_or_default();
    if out.len() != value_size {
        return vec![0; value_size];
    }
    for lane in 0..value_size / 8 {
        let mut sum = 0u64;
        for cpu in 0..ncpu {
            let off = cpu * stride + lane * 8;
            if let Some(b) = raw.get(off..off + 8) {
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                sum = sum.wrapping_add(u64::from_le_bytes(a));
            }
        }
        out[lane * 8..lane * 8 + 8].copy_from_slice(&sum.to_le_bytes());
    }
    out
}

pub fn dump(fd: &OwnedFd, info: &libbpf_sys::bpf_map_info, cap: usize) -> io::Result<Dump> {
    let batchable = !matches!(
        info.type_,
        libbpf_sys::BPF_MAP_TYPE_LPM_TRIE | libbpf_sys::BPF_MAP_TYPE_PROG_ARRAY
    );
    if batchable {
        match dump_batch(fd, info, cap) {
            Ok(d) => return Ok(d),
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EINVAL) | Some(libc::ENOTSUP) | Some(524) | Some(libc::EPERM)
                ) => {}
            Err(e) => return Err(e),
        }
    }
    dump_next_key(fd, info, cap)
}

fn value_stride(info: &libbpf_sys::bpf_map_info, ncpu: usize) -> usize {
    let vs = info.value_size as usize;
    if is_percpu(info.type_) {
        vs.div_ceil(8) * 8 * ncpu
    } else {
        vs
    }
}

fn dump_batch(fd: &OwnedFd, info: &libbpf_sys::bpf_map_info, cap: usize) -> io::Result<Dump> {
    let ks = info.key_size as usize;
    let ncpu = crate::bpf::maps::possible_cpus();
    let vstride = value_stride(info, ncpu);
    let mut chunk: u32 = 1024;
    let mut out = Dump::new(info);
    let mut in_tok = vec![0u8; ks.max(8)];
    let mut out_tok = vec![0u8; ks.max(8)];
    let mut first = true;
    let opts = libbpf_sys::bpf_map_batch_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_map_batch_opts>() as _,
        ..Default::default()
    };
    loop {
        let mut keys = vec![0u8; ks * chunk as usize];
        let mut vals = vec![0u8; vstride * chunk as usize];
        let mut count = chunk;
        let in_ptr = if first {
            std::ptr::null_mut()
        } else {
            in_tok.as_mut_ptr() as *mut _
        };
        // SAFETY: key/value buffers hold `chunk` entries of the map's (per-CPU) sizes, tokens
        // are at least key_size (≥ the kernel's batch token), count is in/out.
        let ret = unsafe {
            libbpf_sys::bpf_map_lookup_batch(
                fd.as_raw_fd(),
                in_ptr,
                out_tok.as_mut_ptr() as *mut _,
                keys.as_mut_ptr() as *mut _,
                vals.as_mut_ptr() as *mut _,
                &mut count,
                &opts,
            )
        };
        let err = (ret < 0).then(|| neg(ret));
        if let Some(e) = &err {
            if e.raw_os_error() == Some(libc::ENOSPC) && count == 0 && chunk < (1 << 20) {
                // One bucket holds more entries than the chunk: grow and retry.
                chunk *= 4;
                continue;
            }
            if e.raw_os_error() != Some(libc::ENOENT) {
                return Err(io::Error::from_raw_os_error(
                    e.raw_os_error().unwrap_or(libc::EIO),
                ));
            }
        }
        for i in 0..count as usize {
            if out.len() >= cap {
                out.truncated = true;
                return Ok(out);
            }
            let k = keys.get(i * ks..(i + 1) * ks).unwrap_or(&[]);
            let v = vals.get(i * vstride..(i + 1) * vstride).unwrap_or(&[]);
            out.push(info, k, v, ncpu);
        }
        if err.is_some() {
            // ENOENT: the walk is complete.
            return Ok(out);
        }
        first = false;
        std::mem::swap(&mut in_tok, &mut out_tok);
    }
}

fn dump_next_key(fd: &OwnedFd, info: &libbpf_sys::bpf_map_info, cap: usize) -> io::Result<Dump> {
    let ks = info.key_size as usize;
    let ncpu = crate::bpf::maps::possible_cpus();
    let vstride = value_stride(info, ncpu);
    let mut out = Dump::new(info);
    let mut cur = vec![0u8; ks];
    let mut next = vec![0u8; ks];
    let mut first = true;
    loop {
        let prev = if first {
            std::ptr::null()
        } else {
            cur.as_ptr() as *const _
        };
        // SAFETY: key buffers are key_size bytes; NULL asks for the first key.
        let ret = unsafe {
            libbpf_sys::bpf_map_get_next_key(fd.as_raw_fd(), prev, next.as_mut_ptr() as *mut _)
        };
        if ret < 0 {
            let e = neg(ret);
            if e.raw_os_error() == Some(libc::ENOENT) {
                return Ok(out);
            }
            if out.is_empty() {
                return Err(e);
            }
            out.truncated = true;
            return Ok(out);
        }
        first = false;
        std::mem::swap(&mut cur, &mut next);
        if out.len() >= cap {
            out.truncated = true;
            return Ok(out);
        }
        let mut v = vec![0u8; vstride];
        // SAFETY: key is key_size bytes, value buffer holds the (per-CPU) value.
        let ret = unsafe {
            libbpf_sys::bpf_map_lookup_elem(
                fd.as_raw_fd(),
                cur.as_ptr() as *const _,
                v.as_mut_ptr() as *mut _,
            )
        };
        if ret < 0 {
            // Deleted since get_next_key (LRU eviction, GC): skip it.
            continue;
        }
        out.push(info, &cur, &v, ncpu);
    }
}

/// Populated slots of a PROG_ARRAY: (index, program id). Lookups return program ids.
pub fn prog_array_slots(fd: &OwnedFd, max_entries: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    for i in 0..max_entries {
        let mut id = 0u32;
        // SAFETY: 4-byte key and 4-byte value buffers, as for every prog array.
        let ret = unsafe {
            libbpf_sys::bpf_map_lookup_elem(
                fd.as_raw_fd(),
                &i as *const u32 as *const _,
                &mut id as *mut u32 as *mut _,
            )
        };
        if ret == 0 && id != 0 {
            out.push((i, id));
        }
    }
    out
}

/// Kernel name, map ids and translated instructions of a program by id.
pub struct ProgDump {
    pub kernel_name: String,
    pub map_ids: Vec<u32>,
    pub xlated: Vec<u8>,
}

pub fn prog_by_id(id: u32, want_xlated: bool) -> io::Result<ProgDump> {
    let fd = sys::fd_by_id(sys::ObjKind::Prog, id)?;
    let mut info = libbpf_sys::bpf_prog_info::default();
    // SAFETY: bpf_prog_info for a prog fd, no buffers set.
    unsafe { sys::info_by_fd(&fd, &mut info) }?;
    let nmaps = info.nr_map_ids as usize;
    let xlen = if want_xlated {
        info.xlated_prog_len as usize
    } else {
        0
    };
    let mut maps = vec![0u32; nmaps];
    let mut x = vec![0u8; xlen];
    let mut info2 = libbpf_sys::bpf_prog_info {
        nr_map_ids: nmaps as u32,
        map_ids: maps.as_mut_ptr() as u64,
        xlated_prog_len: xlen as u32,
        xlated_prog_insns: x.as_mut_ptr() as u64,
        ..Default::default()
    };
    // SAFETY: map_ids points to nr_map_ids u32s, xlated_prog_insns to xlated_prog_len bytes;
    // both buffers outlive the call.
    unsafe { sys::info_by_fd(&fd, &mut info2) }?;
    maps.truncate((info2.nr_map_ids as usize).min(nmaps));
    x.truncate((info2.xlated_prog_len as usize).min(xlen));
    Ok(ProgDump {
        kernel_name: crate::bpf::names::c_name(&info.name),
        map_ids: maps,
        xlated: x,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percpu_values_are_summed_per_lane() {
        let mut raw = Vec::new();
        for cpu in 0..3u64 {
            raw.extend((cpu + 1).to_le_bytes());
            raw.extend((100 * (cpu + 1)).to_le_bytes());
        }
        let v = sum_percpu(&raw, 16, 3);
        assert_eq!(&v[..8], &6u64.to_le_bytes());
        assert_eq!(&v[8..], &600u64.to_le_bytes());
        // Short input never panics.
        assert_eq!(sum_percpu(&raw[..5], 16, 3), vec![0; 16]);
    }
}
