//! Enumerates every BPF map and counts entries within a time budget.
//!
//! Counting is the expensive part (a hash map has no "count" syscall): hash-like maps are
//! walked with batch lookups (falling back to `get_next_key`), arrays are full by definition,
//! and a per-map budget bounds the work. A count cut short is reported as partial, and big maps
//! are recounted less often (cached with the time of their last count).
//!
//! Prog arrays and array-of-maps are read once per refresh: their populated slots (index →
//! program / inner map id) give the entry count here and are handed on to the tail-call graph
//! ([`SlotTable`]). dpscope's map iterator reports them in the same kernel pass as the hash
//! counts; without it they are looked up slot by slot, big arrays at most every
//! `BIG_ARRAY_RESWEEP`.

use super::names;
use super::sys::{self, ObjKind};
use crate::model::MapInfo;
use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// How long one map may be walked per refresh.
pub const COUNT_BUDGET: Duration = Duration::from_millis(150);
/// Maps above this many entries are recounted at most every `BIG_MAP_RECOUNT`.
const BIG_MAP: u32 = 100_000;
const BIG_MAP_RECOUNT: Duration = Duration::from_secs(5);
/// Without the iterator, fd arrays above this many slots are swept at most every
/// `BIG_ARRAY_RESWEEP` (a 65,536-slot prog array is 65,536 lookups).
const BIG_ARRAY: u32 = 4096;
const BIG_ARRAY_RESWEEP: Duration = Duration::from_secs(5);

/// Populated slots of prog arrays and array-of-maps by map id, ascending by index: read once
/// per refresh, shared by the entry counts and the tail-call graph.
pub type SlotTable = HashMap<u32, Slots>;
/// (index, program id / inner map id) of the populated slots of one array.
pub type Slots = Vec<(u32, u32)>;

/// What the maps phase found.
#[derive(Debug, Default)]
pub struct Found {
    pub maps: Vec<MapInfo>,
    pub slots: SlotTable,
}

#[derive(Debug, Clone)]
struct CountCache {
    counted_at: Instant,
    entries: Option<u64>,
    partial: bool,
}

/// What never changes about a map (its info), and its memory as last read with the entry
/// count it was read at.
#[derive(Debug, Clone, Copy)]
struct Known {
    info: libbpf_sys::bpf_map_info,
    memlock: u64,
    /// The entry count `memlock` was read at; `None`: read it again next time.
    memlock_for: Option<Option<u64>>,
}

/// Whether a map's memory (fdinfo `memlock`, the kernel's `map_mem_usage`) is a function of
/// its type, sizes and entry count, so that a kept value stays right while the count does not
/// move. Maps without a count are re-read, except types whose memory is fixed at creation.
fn memlock_stable(map_type: u32, entries: Option<u64>) -> bool {
    use libbpf_sys as s;
    entries.is_some()
        || matches!(
            map_type,
            s::BPF_MAP_TYPE_RINGBUF
                | s::BPF_MAP_TYPE_USER_RINGBUF
                | s::BPF_MAP_TYPE_PERF_EVENT_ARRAY
                | s::BPF_MAP_TYPE_QUEUE
                | s::BPF_MAP_TYPE_STACK
                | s::BPF_MAP_TYPE_BLOOM_FILTER
                | s::BPF_MAP_TYPE_STACK_TRACE
                | s::BPF_MAP_TYPE_CGROUP_ARRAY
        )
}

#[derive(Default)]
pub struct MapCache {
    /// Static info and memory of the maps seen, by id (map ids are not reused until the
    /// 31-bit id space wraps).
    known: HashMap<u32, Known>,
    counts: HashMap<(u32, u32), CountCache>,
    /// Fallback slot sweeps of big fd arrays, with their time.
    swept: HashMap<(u32, u32), (Instant, Slots)>,
    /// Maps whose memory [`MapCache::prefetch`] read for the coming collection.
    fresh: std::collections::HashSet<u32>,
}

/// Prog arrays and array-of-maps: fd arrays whose slots name a program or a map by id.
pub fn has_id_slots(map_type: u32) -> bool {
    super::iters::slots_by_kernel(map_type)
}

/// What kind of entry count a map type supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Countable {
    /// Walk keys (hash-like maps).
    Keys,
    /// Fixed-size array: always `max_entries` entries.
    Full,
    /// Array whose slots may be empty (prog_array, map-in-map, devmap...): look up each slot.
    Slots,
    /// No meaningful count from userspace (ring buffers, perf arrays, storages...).
    No,
}

pub fn countable(map_type: u32) -> Countable {
    use libbpf_sys as s;
    match map_type {
        s::BPF_MAP_TYPE_HASH
        | s::BPF_MAP_TYPE_PERCPU_HASH
        | s::BPF_MAP_TYPE_LRU_HASH
        | s::BPF_MAP_TYPE_LRU_PERCPU_HASH
        | s::BPF_MAP_TYPE_LPM_TRIE
        | s::BPF_MAP_TYPE_HASH_OF_MAPS
        | s::BPF_MAP_TYPE_DEVMAP_HASH
        | s::BPF_MAP_TYPE_SOCKHASH => Countable::Keys,
        s::BPF_MAP_TYPE_ARRAY | s::BPF_MAP_TYPE_PERCPU_ARRAY => Countable::Full,
        s::BPF_MAP_TYPE_PROG_ARRAY
        | s::BPF_MAP_TYPE_ARRAY_OF_MAPS
        | s::BPF_MAP_TYPE_DEVMAP
        | s::BPF_MAP_TYPE_CPUMAP
        | s::BPF_MAP_TYPE_XSKMAP
        | s::BPF_MAP_TYPE_SOCKMAP => Countable::Slots,
        _ => Countable::No,
    }
}

impl MapCache {
    /// Opens every map now for its info and memory, for the next [`MapCache::collect`] to use
    /// without opening them again: `show maps` does this while another thread has the kernel
    /// verify its iterators. Maps that vanish meanwhile are skipped; errors are left to
    /// `collect`, which opens what is not known.
    pub fn prefetch(&mut self) {
        let (ids, _) = sys::all_ids(ObjKind::Map);
        for id in ids {
            let Ok(fd) = sys::fd_by_id(ObjKind::Map, id) else {
                continue;
            };
            let mut info = libbpf_sys::bpf_map_info::default();
            // SAFETY: bpf_map_info for a map fd, no buffers.
            if unsafe { sys::info_by_fd(&fd, &mut info) }.is_err() {
                continue;
            }
            let memlock = sys::fdinfo_memlock(&fd).unwrap_or(0);
            self.known.insert(
                id,
                Known {
                    info,
                    memlock,
                    memlock_for: None,
                },
            );
            self.fresh.insert(id);
        }
    }

    /// Enumerate all maps; `count` = false skips entry counting (cheap refresh). With `scan`
    /// (one read of dpscope's map iterator), hash maps are counted exactly and the slots of
    /// fd arrays come from the kernel; without it they are counted and swept from userspace.
    pub fn collect(
        &mut self,
        count: bool,
        scan: Option<&super::iters::MapScan>,
        warnings: &mut Vec<String>,
    ) -> Found {
        let scan = scan.filter(|_| count);
        // With the iterator's read, the maps alive now are the ones it visited: a map seen
        // before needs no descriptor (its info never changes), only new maps are opened.
        // Without it, every map is listed and opened by id.
        let mut denied = 0usize;
        let mut opened: Vec<(Option<OwnedFd>, libbpf_sys::bpf_map_info)> = Vec::new();
        let listed: Vec<u32> = match scan {
            Some(k) => {
                let mut ids: Vec<u32> = k.counts.keys().copied().collect();
                ids.sort_unstable();
                ids
            }
            None => {
                let (ids, err) = sys::all_ids(ObjKind::Map);
                if let Some(e) = err {
                    warnings.push(format!("listing maps stopped early: {e}"));
                }
                ids
            }
        };
        for id in listed {
            if scan.is_some() {
                if let Some(k) = self.known.get(&id) {
                    opened.push((None, k.info));
                    continue;
                }
            }
            let fd = match sys::fd_by_id(ObjKind::Map, id) {
                Ok(fd) => fd,
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
                Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
                    denied += 1;
                    continue;
                }
                Err(e) => {
                    warnings.push(format!("map {id}: {e}"));
                    continue;
                }
            };
            let mut info = libbpf_sys::bpf_map_info::default();
            // SAFETY: bpf_map_info for a map fd, no buffers.
            if let Err(e) = unsafe { sys::info_by_fd(&fd, &mut info) } {
                if e.raw_os_error() != Some(libc::ENOENT) {
                    warnings.push(format!("map {id}: {e}"));
                }
                continue;
            }
            opened.push((Some(fd), info));
        }
        let mut out = Vec::with_capacity(opened.len());
        let mut slots = SlotTable::new();
        let mut seen = std::collections::HashSet::new();
        let mut alive = std::collections::HashSet::new();
        for (mut fd, info) in opened {
            let id = info.id;
            let key = (id, info.max_entries);
            seen.insert(key);
            // A descriptor only when something below reads the map itself; a map that went
            // away since it was listed is left out.
            let open = |fd: &mut Option<OwnedFd>| -> Option<OwnedFd> {
                if let Some(f) = fd.take() {
                    return Some(f);
                }
                sys::fd_by_id(ObjKind::Map, id).ok()
            };
            let from_kernel = scan
                .filter(|_| super::iters::counted_by_kernel(info.type_))
                .and_then(|k| k.counts.get(&id))
                .filter(|n| **n >= 0);
            let id_slots = has_id_slots(info.type_);
            let (entries, partial) = if id_slots && count {
                // The iterator's list, else a sweep (also when the list did not fit).
                let list = match scan.and_then(|k| k.slots.get(&id)) {
                    Some(l) => l.clone(),
                    None => {
                        let Some(f) = open(&mut fd) else { continue };
                        let l = self.sweep(&f, &info);
                        fd = Some(f);
                        l
                    }
                };
                let n = from_kernel.map_or(list.len() as u64, |n| (*n).max(0) as u64);
                slots.insert(id, list);
                (Some(n), false)
            } else if let Some(n) = from_kernel {
                (Some((*n).max(0) as u64), false)
            } else if count && countable(info.type_) == Countable::Full {
                (Some(info.max_entries as u64), false)
            } else if count && countable(info.type_) == Countable::No {
                (None, false)
            } else if count {
                match self.cached_count(&info) {
                    Some(c) => c,
                    None => {
                        let Some(f) = open(&mut fd) else { continue };
                        let c = self.count(&f, &info);
                        fd = Some(f);
                        c
                    }
                }
            } else {
                self.counts
                    .get(&key)
                    .map(|c| (c.entries, c.partial))
                    .unwrap_or((None, false))
            };
            // memlock is the map's memory now; it changes only with its entries (elements
            // allocated on insert), so it is read again only when the count moved.
            let memory_bytes = match self.known.get(&id) {
                Some(k) if k.memlock_for == Some(entries) || self.fresh.contains(&id) => k.memlock,
                _ => {
                    let Some(f) = open(&mut fd) else { continue };
                    let m = sys::fdinfo_memlock(&f).unwrap_or(0);
                    fd = Some(f);
                    m
                }
            };
            drop(fd);
            alive.insert(id);
            self.known.insert(
                id,
                Known {
                    info,
                    memlock: memory_bytes,
                    memlock_for: memlock_stable(info.type_, entries).then_some(entries),
                },
            );
            let kernel_name = names::c_name(&info.name);
            out.push(MapInfo {
                id,
                name: kernel_name.clone(),
                kernel_name,
                map_type: names::map_type(info.type_),
                key_size: info.key_size,
                value_size: info.value_size,
                max_entries: info.max_entries,
                map_flags: info.map_flags,
                entries,
                entries_partial: partial,
                memory_bytes,
                pinned: vec![],
                btf_id: info.btf_id,
                btf_key_type_id: info.btf_key_type_id,
                btf_value_type_id: info.btf_value_type_id,
                prog_ids: vec![],
                pids: vec![],
                dpscope_owned: false,
            });
        }
        if denied > 0 {
            warnings.push(format!(
                "{denied} maps not readable: permission denied (needs CAP_SYS_ADMIN)"
            ));
        }
        self.fresh.clear();
        self.counts.retain(|k, _| seen.contains(k));
        self.swept.retain(|k, _| seen.contains(k));
        self.known.retain(|id, _| alive.contains(id));
        Found { maps: out, slots }
    }

    /// Slots of an fd array read from userspace; big arrays are re-swept at most every
    /// `BIG_ARRAY_RESWEEP` (the list in between is the last sweep's).
    fn sweep(&mut self, fd: &OwnedFd, info: &libbpf_sys::bpf_map_info) -> Vec<(u32, u32)> {
        let key = (info.id, info.max_entries);
        if info.max_entries > BIG_ARRAY {
            if let Some((at, list)) = self.swept.get(&key) {
                if at.elapsed() < BIG_ARRAY_RESWEEP {
                    return list.clone();
                }
            }
        }
        let list = id_slots(fd, info.max_entries);
        if info.max_entries > BIG_ARRAY {
            self.swept.insert(key, (Instant::now(), list.clone()));
        }
        list
    }

    /// The last count of a big map while it is recent enough (see `BIG_MAP_RECOUNT`).
    fn cached_count(&self, info: &libbpf_sys::bpf_map_info) -> Option<(Option<u64>, bool)> {
        let c = self.counts.get(&(info.id, info.max_entries))?;
        (info.max_entries > BIG_MAP && c.counted_at.elapsed() < BIG_MAP_RECOUNT)
            .then_some((c.entries, c.partial))
    }

    fn count(&mut self, fd: &OwnedFd, info: &libbpf_sys::bpf_map_info) -> (Option<u64>, bool) {
        let key = (info.id, info.max_entries);
        let (entries, partial) = count_entries(fd, info, COUNT_BUDGET);
        self.counts.insert(
            key,
            CountCache {
                counted_at: Instant::now(),
                entries,
                partial,
            },
        );
        (entries, partial)
    }
}

/// Count a map's entries, giving up after `budget` (then the count is a lower bound).
pub fn count_entries(
    fd: &OwnedFd,
    info: &libbpf_sys::bpf_map_info,
    budget: Duration,
) -> (Option<u64>, bool) {
    match countable(info.type_) {
        Countable::Full => (Some(info.max_entries as u64), false),
        Countable::No => (None, false),
        Countable::Slots => count_slots(fd, info, budget),
        Countable::Keys => {
            let batchable = info.type_ != libbpf_sys::BPF_MAP_TYPE_LPM_TRIE
                && info.type_ != libbpf_sys::BPF_MAP_TYPE_SOCKHASH
                && info.type_ != libbpf_sys::BPF_MAP_TYPE_DEVMAP_HASH;
            if batchable {
                if let Some(r) = count_batch(fd, info, budget) {
                    return r;
                }
            }
            count_next_key(fd, info.key_size as usize, budget)
        }
    }
}

fn count_next_key(fd: &OwnedFd, key_size: usize, budget: Duration) -> (Option<u64>, bool) {
    let start = Instant::now();
    let mut cur = vec![0u8; key_size.max(1)];
    let mut next = vec![0u8; key_size.max(1)];
    let mut n = 0u64;
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
        if ret != 0 {
            // ENOENT: end of map. Anything else: report what we have as partial.
            let end = ret == -libc::ENOENT
                || std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOENT);
            return (Some(n), !end);
        }
        n += 1;
        first = false;
        std::mem::swap(&mut cur, &mut next);
        if n.is_multiple_of(4096) && start.elapsed() > budget {
            return (Some(n), true);
        }
    }
}

/// Batch lookups move thousands of entries per syscall; `None` when the map does not support them.
fn count_batch(
    fd: &OwnedFd,
    info: &libbpf_sys::bpf_map_info,
    budget: Duration,
) -> Option<(Option<u64>, bool)> {
    let start = Instant::now();
    let ks = info.key_size as usize;
    let percpu = matches!(
        info.type_,
        libbpf_sys::BPF_MAP_TYPE_PERCPU_HASH | libbpf_sys::BPF_MAP_TYPE_LRU_PERCPU_HASH
    );
    let vs = if percpu {
        // Per-CPU values come back rounded up to 8 bytes, one per possible CPU.
        (info.value_size as usize).div_ceil(8) * 8 * libbpf_rs::num_possible_cpus().unwrap_or(1)
    } else {
        info.value_size as usize
    };
    let mut cursor = super::batch::Cursor::new(ks, vs.max(1), 8192);
    let mut c = super::batch::Chunk::default();
    let mut total = 0u64;
    loop {
        let first = cursor.at_start();
        if let Err(e) = cursor.next(fd.as_fd(), &mut c) {
            let errno = e.raw_os_error().unwrap_or(0);
            if first && (errno == libc::EINVAL || errno == libc::ENOTSUP || errno == 524) {
                return None; // not supported for this map: caller falls back
            }
            return Some((Some(total), true));
        }
        total += c.count as u64;
        if c.last {
            return Some((Some(total), false));
        }
        if start.elapsed() > budget {
            return Some((Some(total), true));
        }
    }
}

fn count_slots(
    fd: &OwnedFd,
    info: &libbpf_sys::bpf_map_info,
    budget: Duration,
) -> (Option<u64>, bool) {
    let start = Instant::now();
    // Slot lookups return an id (prog/map) or fd-ish value of at most 8 bytes; devmap/cpumap
    // values can be larger, so size the buffer by the map's value size.
    let mut val = vec![0u8; (info.value_size as usize).max(8)];
    let mut n = 0u64;
    for i in 0..info.max_entries {
        let k = i.to_ne_bytes();
        // SAFETY: key is 4 bytes (array index), value buffer ≥ value_size.
        let ret = unsafe {
            libbpf_sys::bpf_map_lookup_elem(
                fd.as_raw_fd(),
                k.as_ptr() as *const _,
                val.as_mut_ptr() as *mut _,
            )
        };
        if ret == 0 {
            n += 1;
        } else if ret != -libc::ENOENT {
            // Lookups not allowed from userspace for this type (e.g. xskmap, sockmap on some kernels).
            if i == 0 {
                return (None, false);
            }
        }
        if i % 1024 == 1023 && start.elapsed() > budget {
            return (Some(n), true);
        }
    }
    (Some(n), false)
}

/// Populated slots of a prog array or array-of-maps, looked up one by one from userspace
/// (the fallback of dpscope's map iterator; the reference the iterator is tested against):
/// index → program id / inner map id, ascending. Batch lookups cannot do this: they stop at
/// the first empty slot of an fd array.
pub fn id_slots(fd: &OwnedFd, max_entries: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    for i in 0..max_entries {
        let mut id = 0u32;
        // SAFETY: 4-byte key and 4-byte value buffers, as for every prog array and
        // array-of-maps (userspace lookups return the program / inner map id).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countable_kinds() {
        assert_eq!(countable(libbpf_sys::BPF_MAP_TYPE_HASH), Countable::Keys);
        assert_eq!(countable(libbpf_sys::BPF_MAP_TYPE_ARRAY), Countable::Full);
        assert_eq!(
            countable(libbpf_sys::BPF_MAP_TYPE_PROG_ARRAY),
            Countable::Slots
        );
        assert_eq!(countable(libbpf_sys::BPF_MAP_TYPE_RINGBUF), Countable::No);
    }
}
