//! Exact entry counts of every hash map in one read, from dpscope's `bpf_map` iterator
//! (probes/map_counts.bpf.c). Falls back to key walks (see `maps`) when it cannot load.

use libbpf_rs::{Iter, Link, Object, ObjectBuilder};
use std::collections::HashMap;
use std::io::Read;
use std::os::fd::AsFd;

static OBJ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/map_counts.bpf.o"));

/// Loaded iterator. Drop order matters: the link before the object.
pub struct MapCounter {
    link: Link,
    _obj: Object,
    /// Kernel id of the iterator program (shown as dpscope's own in the Programs pane).
    pub prog_id: u32,
}

/// One record per map, as the BPF program writes it.
const REC: usize = 16;

impl MapCounter {
    pub fn load() -> Result<MapCounter, String> {
        let open = ObjectBuilder::default()
            .open_memory(OBJ)
            .map_err(|e| format!("open: {e}"))?;
        let obj = open.load().map_err(|e| explain(&e.to_string()))?;
        let prog = obj
            .progs_mut()
            .next()
            .ok_or_else(|| "object has no program".to_string())?;
        let link = prog.attach().map_err(|e| format!("attach iterator: {e}"))?;
        let prog_id = prog_id_of(prog.as_fd());
        Ok(MapCounter {
            link,
            _obj: obj,
            prog_id,
        })
    }

    /// map id → element count, for every map alive now.
    pub fn read(&self) -> Result<HashMap<u32, i64>, String> {
        let mut it = Iter::new(&self.link).map_err(|e| format!("create iterator: {e}"))?;
        let mut buf = Vec::with_capacity(64 * 1024);
        it.read_to_end(&mut buf)
            .map_err(|e| format!("read iterator: {e}"))?;
        Ok(parse(&buf))
    }
}

/// Kernel id of a program fd (0 when the info query fails).
pub fn prog_id_of(fd: std::os::fd::BorrowedFd<'_>) -> u32 {
    use std::os::fd::AsRawFd;
    let mut info = libbpf_sys::bpf_prog_info::default();
    let mut len = std::mem::size_of::<libbpf_sys::bpf_prog_info>() as u32;
    // SAFETY: info is a bpf_prog_info with no buffers set; fd is a program fd.
    let ret = unsafe {
        libbpf_sys::bpf_obj_get_info_by_fd(fd.as_raw_fd(), &mut info as *mut _ as *mut _, &mut len)
    };
    if ret == 0 {
        info.id
    } else {
        0
    }
}

fn explain(e: &str) -> String {
    format!("cannot load the map-count iterator (needs kernel 6.6+ with BTF and bpf_map_sum_elem_count): {e}")
}

/// Parse the iterator's records; a trailing partial record is ignored.
pub fn parse(buf: &[u8]) -> HashMap<u32, i64> {
    buf.chunks_exact(REC)
        .map(|r| {
            let id = u32::from_ne_bytes([r[0], r[1], r[2], r[3]]);
            let count = i64::from_ne_bytes([r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]]);
            (id, count)
        })
        .collect()
}

/// Map types whose kernel element counters are maintained (the htab family).
pub fn counted_by_kernel(map_type: u32) -> bool {
    matches!(
        map_type,
        libbpf_sys::BPF_MAP_TYPE_HASH
            | libbpf_sys::BPF_MAP_TYPE_PERCPU_HASH
            | libbpf_sys::BPF_MAP_TYPE_LRU_HASH
            | libbpf_sys::BPF_MAP_TYPE_LRU_PERCPU_HASH
            | libbpf_sys::BPF_MAP_TYPE_HASH_OF_MAPS
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_parse_and_partial_tail_is_ignored() {
        let mut b = Vec::new();
        for (id, ty, n) in [(7u32, 1u32, 3i64), (9, 9, 1_000_000)] {
            b.extend_from_slice(&id.to_ne_bytes());
            b.extend_from_slice(&ty.to_ne_bytes());
            b.extend_from_slice(&n.to_ne_bytes());
        }
        b.extend_from_slice(&[1, 2, 3]);
        let m = parse(&b);
        assert_eq!(m.len(), 2);
        assert_eq!(m[&7], 3);
        assert_eq!(m[&9], 1_000_000);
        assert!(parse(&[]).is_empty());
    }
}
