//! dpscope's read-only BPF iterators (probes/iters.bpf.c), loaded once per process:
//! exact entry counts of every hash map in one read, and which processes hold which BPF
//! objects open in one read. When they cannot load (old kernel, no BTF), the collectors fall
//! back to key walks and a /proc walk.

use crate::model::ProcRef;
use libbpf_rs::{Iter, Link, Object, ObjectBuilder};
use std::collections::HashMap;
use std::io::Read;
use std::os::fd::AsFd;

static OBJ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/iters.bpf.o"));

/// Loaded iterators. Drop order matters: links before the object.
pub struct Iters {
    counts: Link,
    owners: Link,
    _obj: Object,
    /// Kernel ids of the iterator programs (shown as dpscope's own in the Programs pane).
    pub prog_ids: Vec<u32>,
}

/// Size of one `map_count` record.
const COUNT_REC: usize = 16;
/// Size of one `owner` record: kind, id, pid, comm[16], pad.
const OWNER_REC: usize = 32;

/// Processes holding each object open, by object id.
#[derive(Debug, Default, Clone)]
pub struct Owners {
    pub progs: HashMap<u32, Vec<ProcRef>>,
    pub maps: HashMap<u32, Vec<ProcRef>>,
    pub links: HashMap<u32, Vec<ProcRef>>,
}

impl Iters {
    pub fn load() -> Result<Iters, String> {
        let open = ObjectBuilder::default()
            .open_memory(OBJ)
            .map_err(|e| format!("open: {e}"))?;
        let obj = open.load().map_err(|e| {
            format!("cannot load dpscope's iterators (needs kernel 6.6+ with BTF): {e}")
        })?;
        let mut counts = None;
        let mut owners = None;
        let mut prog_ids = Vec::new();
        for prog in obj.progs_mut() {
            let link = prog
                .attach()
                .map_err(|e| format!("attach {}: {e}", prog.name().to_string_lossy()))?;
            prog_ids.push(prog_id_of(prog.as_fd()));
            match prog.name().to_str() {
                Some("dpscope_map_counts") => counts = Some(link),
                Some("dpscope_owners") => owners = Some(link),
                _ => {}
            }
        }
        match (counts, owners) {
            (Some(counts), Some(owners)) => Ok(Iters {
                counts,
                owners,
                _obj: obj,
                prog_ids,
            }),
            _ => Err("iterator object is missing a program".into()),
        }
    }

    fn read_all(link: &Link) -> Result<Vec<u8>, String> {
        let mut it = Iter::new(link).map_err(|e| format!("create iterator: {e}"))?;
        let mut buf = Vec::with_capacity(64 * 1024);
        it.read_to_end(&mut buf)
            .map_err(|e| format!("read iterator: {e}"))?;
        Ok(buf)
    }

    /// map id → element count, for every map alive now.
    pub fn map_counts(&self) -> Result<HashMap<u32, i64>, String> {
        Ok(parse_counts(&Self::read_all(&self.counts)?))
    }

    /// Which processes hold which BPF objects.
    pub fn owners(&self) -> Result<Owners, String> {
        Ok(parse_owners(&Self::read_all(&self.owners)?))
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

/// Parse the count iterator's records; a trailing partial record is ignored.
pub fn parse_counts(buf: &[u8]) -> HashMap<u32, i64> {
    buf.chunks_exact(COUNT_REC)
        .map(|r| {
            let id = u32::from_ne_bytes([r[0], r[1], r[2], r[3]]);
            let count = i64::from_ne_bytes([r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]]);
            (id, count)
        })
        .collect()
}

/// Parse the owner iterator's records into per-object process lists (sorted, deduplicated).
pub fn parse_owners(buf: &[u8]) -> Owners {
    let mut o = Owners::default();
    for r in buf.chunks_exact(OWNER_REC) {
        let kind = u32::from_ne_bytes([r[0], r[1], r[2], r[3]]);
        let id = u32::from_ne_bytes([r[4], r[5], r[6], r[7]]);
        let pid = u32::from_ne_bytes([r[8], r[9], r[10], r[11]]);
        let comm_raw = &r[12..28];
        let end = comm_raw
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(comm_raw.len());
        let comm = String::from_utf8_lossy(&comm_raw[..end]).into_owned();
        let table = match kind {
            1 => &mut o.progs,
            2 => &mut o.maps,
            3 => &mut o.links,
            _ => continue,
        };
        table.entry(id).or_default().push(ProcRef { pid, comm });
    }
    for list in o
        .progs
        .values_mut()
        .chain(o.maps.values_mut())
        .chain(o.links.values_mut())
    {
        list.sort();
        list.dedup();
    }
    o
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
    fn count_records_parse_and_partial_tail_is_ignored() {
        let mut b = Vec::new();
        for (id, ty, n) in [(7u32, 1u32, 3i64), (9, 9, 1_000_000)] {
            b.extend_from_slice(&id.to_ne_bytes());
            b.extend_from_slice(&ty.to_ne_bytes());
            b.extend_from_slice(&n.to_ne_bytes());
        }
        b.extend_from_slice(&[1, 2, 3]);
        let m = parse_counts(&b);
        assert_eq!(m.len(), 2);
        assert_eq!(m[&7], 3);
        assert_eq!(m[&9], 1_000_000);
        assert!(parse_counts(&[]).is_empty());
    }

    fn owner(kind: u32, id: u32, pid: u32, comm: &str) -> Vec<u8> {
        let mut r = Vec::new();
        r.extend_from_slice(&kind.to_ne_bytes());
        r.extend_from_slice(&id.to_ne_bytes());
        r.extend_from_slice(&pid.to_ne_bytes());
        let mut c = [0u8; 16];
        c[..comm.len()].copy_from_slice(comm.as_bytes());
        r.extend_from_slice(&c);
        r.extend_from_slice(&[0; 4]);
        r
    }

    #[test]
    fn owner_records_group_by_object_and_dedupe() {
        let mut b = owner(1, 10, 500, "cilium-agent");
        b.extend(owner(1, 10, 500, "cilium-agent"));
        b.extend(owner(1, 10, 42, "bpftool"));
        b.extend(owner(2, 3, 42, "bpftool"));
        b.extend(owner(3, 8, 1, "systemd"));
        b.extend(owner(9, 1, 1, "unknown-kind"));
        b.extend_from_slice(&[0xff; 7]);
        let o = parse_owners(&b);
        assert_eq!(
            o.progs[&10],
            vec![
                ProcRef {
                    pid: 42,
                    comm: "bpftool".into()
                },
                ProcRef {
                    pid: 500,
                    comm: "cilium-agent".into()
                }
            ]
        );
        assert_eq!(o.maps[&3].len(), 1);
        assert_eq!(o.links[&8][0].comm, "systemd");
        assert_eq!(o.progs.len() + o.maps.len() + o.links.len(), 3);
    }
}
