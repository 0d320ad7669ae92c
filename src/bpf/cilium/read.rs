//! Read-only access to pinned maps and programs: open by pin path, dump with batch lookups
//! (falling back to `get_next_key`), sum per-CPU values. Nothing here ever writes to a map.

use crate::bpf::batch::{Chunk, Cursor as BatchCursor};
use crate::bpf::sys;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
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
    let fdinfo = sys::fdinfo(&fd).unwrap_or_default();
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

    /// Append one entry of exactly the map's sizes (as [`for_each`] passes them).
    fn push(&mut self, key: &[u8], value: &[u8]) {
        self.keys.extend_from_slice(key);
        self.vals.extend_from_slice(value);
        self.len += 1;
    }
}

/// Sum `ncpu` copies of a per-CPU value (each padded to a multiple of 8) into one value.
pub fn sum_percpu(raw: &[u8], value_size: usize, ncpu: usize) -> Vec<u8> {
    let mut out = Vec::new();
    sum_percpu_into(raw, value_size, ncpu, &mut out);
    out
}

/// [`sum_percpu`] into a buffer that is reused from entry to entry.
fn sum_percpu_into(raw: &[u8], value_size: usize, ncpu: usize, out: &mut Vec<u8>) {
    let stride = value_size.div_ceil(8) * 8;
    out.clear();
    match raw.get(..value_size) {
        Some(first) => out.extend_from_slice(first),
        None => {
            out.resize(value_size, 0);
            return;
        }
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
}

/// How far a walk over a map's entries got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Walk {
    /// Entries passed to the callback.
    pub len: usize,
    /// Stopped at the cap: more entries exist.
    pub truncated: bool,
}

pub fn dump(fd: &OwnedFd, info: &libbpf_sys::bpf_map_info, cap: usize) -> io::Result<Dump> {
    let mut out = Dump {
        ks: info.key_size as usize,
        vs: info.value_size as usize,
        ..Default::default()
    };
    let walk = for_each(fd, info, cap, &mut |k, v| out.push(k, v))?;
    out.truncated = walk.truncated;
    Ok(out)
}

/// Call `f` with every (key, value) of a map, at most `cap`, straight from the kernel's batch
/// buffers (per-CPU values summed first): nothing is accumulated, so a half-million-entry table
/// is decoded as it is read. Keys and values are exactly the map's key and value sizes.
///
/// An error after some entries were passed means the walk is incomplete (the callback has
/// seen part of the map).
pub fn for_each(
    fd: &OwnedFd,
    info: &libbpf_sys::bpf_map_info,
    cap: usize,
    f: &mut dyn FnMut(&[u8], &[u8]),
) -> io::Result<Walk> {
    let batchable = !matches!(
        info.type_,
        libbpf_sys::BPF_MAP_TYPE_LPM_TRIE | libbpf_sys::BPF_MAP_TYPE_PROG_ARRAY
    );
    if batchable {
        let mut seen = 0;
        let mut counted = |k: &[u8], v: &[u8]| {
            seen += 1;
            f(k, v)
        };
        match walk_batch(fd, info, cap, &mut counted) {
            Ok(w) => return Ok(w),
            // Batch ops unsupported for this map: walk it key by key instead.
            Err(e)
                if seen == 0
                    && matches!(
                        e.raw_os_error(),
                        Some(libc::EINVAL) | Some(libc::ENOTSUP) | Some(524) | Some(libc::EPERM)
                    ) => {}
            Err(e) => return Err(e),
        }
    }
    walk_next_key(fd, info, cap, f)
}

fn value_stride(info: &libbpf_sys::bpf_map_info, ncpu: usize) -> usize {
    let vs = info.value_size as usize;
    if is_percpu(info.type_) {
        vs.div_ceil(8) * 8 * ncpu
    } else {
        vs
    }
}

/// Entries asked of the kernel per batch call (grown when one hash bucket holds more).
const BATCH: u32 = 4096;

/// Maps at least this big are read on a helper thread while the caller decodes.
const PIPELINE_MIN_ENTRIES: u32 = 16_384;

/// Hands a chunk's entries to `f`; `false` once the cap is reached.
struct Deliver<'f> {
    ks: usize,
    vs: usize,
    vstride: usize,
    ncpu: usize,
    percpu: bool,
    cap: usize,
    summed: Vec<u8>,
    walk: Walk,
    f: &'f mut dyn FnMut(&[u8], &[u8]),
}

impl Deliver<'_> {
    fn chunk(&mut self, c: &Chunk) -> bool {
        let (ks, vstride) = (self.ks, self.vstride);
        for i in 0..c.count {
            if self.walk.len >= self.cap {
                self.walk.truncated = true;
                return false;
            }
            let (k, v) = c.entry(i, ks, vstride);
            if self.percpu {
                sum_percpu_into(v, self.vs, self.ncpu, &mut self.summed);
                (self.f)(k, &self.summed);
            } else {
                (self.f)(k, v);
            }
            self.walk.len += 1;
        }
        true
    }
}

fn walk_batch(
    fd: &OwnedFd,
    info: &libbpf_sys::bpf_map_info,
    cap: usize,
    f: &mut dyn FnMut(&[u8], &[u8]),
) -> io::Result<Walk> {
    let ncpu = libbpf_rs::num_possible_cpus().unwrap_or(1);
    let vstride = value_stride(info, ncpu);
    let mut d = Deliver {
        ks: info.key_size as usize,
        vs: info.value_size as usize,
        vstride,
        ncpu,
        percpu: is_percpu(info.type_),
        cap,
        summed: Vec::new(),
        walk: Walk::default(),
        f,
    };
    let big = info.max_entries >= PIPELINE_MIN_ENTRIES && cap >= PIPELINE_MIN_ENTRIES as usize;
    if big {
        if let Some(r) = walk_batch_pipelined(fd, BatchCursor::new(d.ks, vstride, BATCH), &mut d) {
            return r.map(|()| d.walk);
        }
        // No thread for the reader: read and decode in turn.
    }
    let mut cursor = BatchCursor::new(d.ks, vstride, BATCH);
    let mut c = Chunk::default();
    loop {
        cursor.next(fd.as_fd(), &mut c)?;
        if !d.chunk(&c) || c.last {
            return Ok(d.walk);
        }
    }
}

/// A big map: the kernel copies entries out on a helper thread while this thread decodes the
/// previous batch (the copy-out and the decoding take similar time on a half-million-entry
/// table, so the walk costs about the longer of the two, not their sum).
fn walk_batch_pipelined(
    fd: &OwnedFd,
    mut cursor: BatchCursor,
    d: &mut Deliver,
) -> Option<io::Result<()>> {
    use std::sync::mpsc;
    let (full_tx, full_rx) = mpsc::sync_channel::<io::Result<Chunk>>(2);
    let (empty_tx, empty_rx) = mpsc::channel::<Chunk>();
    std::thread::scope(|s| {
        let reader = std::thread::Builder::new()
            .name("dpscope-mapread".into())
            .spawn_scoped(s, move || loop {
                let mut c = empty_rx.try_recv().unwrap_or_default();
                let r = cursor.next(fd.as_fd(), &mut c);
                let stop = r.is_err() || c.last;
                // A closed channel means the decoder stopped (cap reached): so do we.
                if full_tx.send(r.map(|()| c)).is_err() || stop {
                    return;
                }
            });
        if reader.is_err() {
            return None;
        }
        // Dropped when this closure returns, before the reader is joined: a reader blocked
        // on the full channel then returns.
        let full_rx = full_rx;
        for msg in full_rx.iter() {
            let c = match msg {
                Ok(c) => c,
                Err(e) => return Some(Err(e)),
            };
            if !d.chunk(&c) || c.last {
                break;
            }
            let _ = empty_tx.send(c);
        }
        Some(Ok(()))
    })
}

fn walk_next_key(
    fd: &OwnedFd,
    info: &libbpf_sys::bpf_map_info,
    cap: usize,
    f: &mut dyn FnMut(&[u8], &[u8]),
) -> io::Result<Walk> {
    let ks = info.key_size as usize;
    let vs = info.value_size as usize;
    let ncpu = libbpf_rs::num_possible_cpus().unwrap_or(1);
    let percpu = is_percpu(info.type_);
    let vstride = value_stride(info, ncpu);
    let mut walk = Walk::default();
    let mut cur = vec![0u8; ks];
    let mut next = vec![0u8; ks];
    let mut v = vec![0u8; vstride];
    let mut summed = Vec::new();
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
                return Ok(walk);
            }
            if walk.len == 0 {
                return Err(e);
            }
            walk.truncated = true;
            return Ok(walk);
        }
        first = false;
        std::mem::swap(&mut cur, &mut next);
        if walk.len >= cap {
            walk.truncated = true;
            return Ok(walk);
        }
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
        if percpu {
            sum_percpu_into(&v, vs, ncpu, &mut summed);
            f(&cur, &summed);
        } else {
            f(&cur, &v[..vs.min(v.len())]);
        }
        walk.len += 1;
    }
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
