//! Userspace side of the inline aggregation table (probes/dps_table.h): a `BPF_F_MMAPABLE`
//! array of slots, mapped read-only into dpscope and read in place (no syscall per row).
//!
//! Slot layout (all words native-endian): `u32 state` (generation << 2 | EMPTY 0, BUSY 1,
//! READY 2), `u32 epoch`, the key as `key_words` u64 words, `u64 count`, `u64 bytes`, for
//! tables with flags (`counters` = 3) `u64 flags` (an OR of flag bits), padding up to
//! `slot_words`. A slot is read seqlock-style: state, key and counters, then the state
//! again; a slot whose state changed in between (it was being re-claimed) is skipped this
//! time. The same key can sit in two slots (two CPUs inserted it at once): rows with equal
//! keys are summed (their flags ORed).

use nix::sys::mman;
use std::collections::HashMap;
use std::os::fd::AsFd;
use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicU64, Ordering};

/// The map holding a probe object's eviction clock (`dps_*_epoch`, alone in its section).
const EPOCH: &str = ".data.dps_epoch";

/// Start the next eviction epoch of `loaded`'s tables: rows hit after this read count as newer
/// than the ones hit before it (probes/dps_table.h). A failed update only makes eviction less
/// precise.
pub fn next_epoch(loaded: &super::Loaded, epoch: &mut u32) {
    use libbpf_rs::{MapCore, MapFlags};
    *epoch = epoch.wrapping_add(1);
    if let Some(m) = loaded.map(EPOCH) {
        let _ = m.update(&0u32.to_ne_bytes(), &epoch.to_ne_bytes(), MapFlags::ANY);
    }
}

/// Slots per table (`DPS_TABLE_SIZE`).
pub const SLOTS: u32 = 16384;
const KIND: u32 = 3;
const READY: u32 = 2;

/// A read-only shared mapping of one table map.
pub struct Table {
    ptr: NonNull<AtomicU64>,
    len: usize,
    slot_words: usize,
    key_words: usize,
    counters: usize,
}

// SAFETY: the mapping belongs to the process, not to a thread; it is only read, through
// atomics, and unmapped once (in Drop) by whichever thread owns the Table.
unsafe impl Send for Table {}

/// What one read of a table found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TableRead {
    /// (key bytes, count, bytes, flags), one per distinct key with a non-zero count; flags
    /// are 0 in tables without them.
    pub rows: Vec<(Vec<u8>, u64, u64, u64)>,
    /// Slots in use (READY), duplicates included: the table's fill.
    pub live: usize,
}

impl Table {
    /// Map `m` (an array of `SLOTS` slots of `slot_words` u64 words, keys of `key_words`,
    /// `counters` counter words: 2, or 3 with flags).
    pub fn map(
        m: &libbpf_rs::Map<'_>,
        slot_words: usize,
        key_words: usize,
        counters: usize,
    ) -> Result<Table, String> {
        use libbpf_rs::MapCore;
        let name = m.name().to_string_lossy().into_owned();
        let (vs, n) = (m.value_size() as usize, m.max_entries());
        if vs != slot_words * 8
            || n != SLOTS
            || !(2..=3).contains(&counters)
            || key_words + 1 + counters > slot_words
        {
            return Err(format!(
                "{name}: value size {vs} × {n} entries, expected {} × {SLOTS}",
                slot_words * 8
            ));
        }
        let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
            .ok()
            .flatten()
            .and_then(|p| usize::try_from(p).ok())
            .unwrap_or(4096)
            .max(1);
        let len = (vs * n as usize).div_ceil(page) * page;
        let size = std::num::NonZeroUsize::new(len).ok_or_else(|| format!("mmap {name}: empty"))?;
        // SAFETY: a new shared read-only mapping of the map's values (BPF_F_MMAPABLE arrays
        // map their values from offset 0, page aligned); the fd is valid for the call, and the
        // mapping keeps the map alive on its own. Nothing else aliases the new mapping.
        let p = unsafe {
            mman::mmap(
                None,
                size,
                mman::ProtFlags::PROT_READ,
                mman::MapFlags::MAP_SHARED,
                m.as_fd(),
                0,
            )
        }
        .map_err(|e| format!("mmap {name}: {}", std::io::Error::from(e)))?;
        let ptr = p.cast::<AtomicU64>();
        Ok(Table {
            ptr,
            len,
            slot_words,
            key_words,
            counters,
        })
    }

    /// The table's rows now.
    pub fn read(&self) -> TableRead {
        // SAFETY: the mapping is `len` bytes, page aligned (so 8-byte aligned) and lives as long
        // as self; the kernel writes it concurrently, which atomics allow.
        let words = unsafe {
            std::slice::from_raw_parts(self.ptr.as_ptr() as *const AtomicU64, self.len / 8)
        };
        scan(words, self.slot_words, self.key_words, self.counters)
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `map`, once; no reference into it outlives
        // `read` (rows are copied out).
        let _ = unsafe { mman::munmap(self.ptr.cast(), self.len) };
    }
}

fn state_of(w: u64) -> u32 {
    let b = w.to_ne_bytes();
    u32::from_ne_bytes([b[0], b[1], b[2], b[3]])
}

/// Read every slot of `words` (whole slots of `slot_words`, `counters` counter words after
/// the key: 2, or 3 with flags); sum rows with equal keys and OR their flags.
pub fn scan(
    words: &[AtomicU64],
    slot_words: usize,
    key_words: usize,
    counters: usize,
) -> TableRead {
    let mut out = TableRead::default();
    let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
    if !(2..=3).contains(&counters) || slot_words < key_words + 1 + counters {
        return out;
    }
    for slot in words.chunks_exact(slot_words) {
        let st = state_of(slot[0].load(Ordering::Acquire));
        if st & KIND != READY {
            continue;
        }
        out.live += 1;
        let mut key = Vec::with_capacity(key_words * 8);
        for w in &slot[1..=key_words] {
            key.extend_from_slice(&w.load(Ordering::Relaxed).to_ne_bytes());
        }
        let count = slot[key_words + 1].load(Ordering::Relaxed);
        let bytes = slot[key_words + 2].load(Ordering::Relaxed);
        let flags = if counters > 2 {
            slot[key_words + 3].load(Ordering::Relaxed)
        } else {
            0
        };
        fence(Ordering::Acquire);
        if state_of(slot[0].load(Ordering::Relaxed)) != st || count == 0 {
            continue; // re-claimed while read, or claimed and not counted yet
        }
        match index.get(&key) {
            Some(&i) => {
                let r = &mut out.rows[i];
                r.1 += count;
                r.2 += bytes;
                r.3 |= flags;
            }
            None => {
                index.insert(key.clone(), out.rows.len());
                out.rows.push((key, count, bytes, flags));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(state: u32, epoch: u32, key: &[u64], count: u64, bytes: u64, words: usize) -> Vec<u64> {
        let mut head = [0u8; 8];
        head[..4].copy_from_slice(&state.to_ne_bytes());
        head[4..].copy_from_slice(&epoch.to_ne_bytes());
        let mut v = vec![u64::from_ne_bytes(head)];
        v.extend_from_slice(key);
        v.push(count);
        v.push(bytes);
        v.resize(words, 0);
        v
    }

    #[test]
    fn ready_slots_become_rows_and_equal_keys_are_summed() {
        let gen = |g: u32, kind: u32| g << 2 | kind;
        let mut raw = Vec::new();
        raw.extend(slot(gen(1, READY), 5, &[1, 2], 3, 300, 6));
        raw.extend(slot(0, 0, &[0, 0], 0, 0, 6)); // empty
        raw.extend(slot(gen(2, 1), 5, &[9, 9], 7, 700, 6)); // busy: being written
        raw.extend(slot(gen(1, READY), 5, &[1, 2], 2, 200, 6)); // same key, second slot
        raw.extend(slot(gen(3, READY), 5, &[4, 0], 1, 60, 6));
        raw.extend(slot(gen(4, READY), 5, &[5, 0], 0, 0, 6)); // claimed, not counted yet
        let words: Vec<AtomicU64> = raw.into_iter().map(AtomicU64::new).collect();
        let r = scan(&words, 6, 2, 2);
        assert_eq!(r.live, 4);
        let key = |a: u64, b: u64| [a.to_ne_bytes(), b.to_ne_bytes()].concat();
        assert_eq!(r.rows, vec![(key(1, 2), 5, 500, 0), (key(4, 0), 1, 60, 0)]);
        // a slot layout that cannot hold the key reads nothing
        assert_eq!(scan(&words, 3, 2, 2), TableRead::default());
        assert_eq!(scan(&words, 6, 2, 4), TableRead::default());
    }

    #[test]
    fn flags_are_read_and_ored_across_duplicate_slots() {
        let gen = |g: u32| g << 2 | READY;
        let mut raw = Vec::new();
        let mut with_flags = |key: &[u64], count: u64, bytes: u64, flags: u64| {
            let mut s = slot(gen(1), 1, key, count, bytes, 6);
            s[1 + key.len() + 2] = flags;
            raw.extend(s);
        };
        with_flags(&[7, 8], 2, 120, 0x02); // SYN
        with_flags(&[9, 9], 1, 60, 0x10);
        with_flags(&[7, 8], 3, 180, 0x11); // same key: ACK|FIN
        let words: Vec<AtomicU64> = raw.into_iter().map(AtomicU64::new).collect();
        let r = scan(&words, 6, 2, 3);
        let key = |a: u64, b: u64| [a.to_ne_bytes(), b.to_ne_bytes()].concat();
        assert_eq!(
            r.rows,
            vec![(key(7, 8), 5, 300, 0x13), (key(9, 9), 1, 60, 0x10)]
        );
        // the same slots read without flags
        assert_eq!(scan(&words, 6, 2, 2).rows[0], (key(7, 8), 5, 300, 0));
    }
}
