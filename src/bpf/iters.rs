//! dpscope's read-only BPF iterators (probes/iters.bpf.c), loaded once per process:
//! exact entry counts of every hash map and the populated slots of every prog array and
//! array-of-maps in one read, and which processes hold which BPF objects open in one read.
//! When they cannot load (old kernel, no BTF), the collectors fall back to key walks,
//! slot-by-slot lookups and a /proc walk.

use crate::model::ProcRef;
use libbpf_rs::ObjectBuilder;
use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};

static OBJ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/iters.bpf.o"));

/// Loaded iterators: their links (each holds its program, which holds its maps).
pub struct Iters {
    /// The map iterator (`None` when not asked for).
    counts: Option<OwnedFd>,
    /// The owner iterator (`None` when not asked for).
    owners: Option<OwnedFd>,
    /// The program iterator (`None` when not asked for, or refused by this kernel: programs
    /// are then read by descriptor, as without iterators).
    progs: Option<OwnedFd>,
    /// Which maps each program uses (`None` when not asked for).
    prog_maps: Option<OwnedFd>,
    /// Kernel ids of the iterator programs (shown as dpscope's own in the Programs pane).
    pub prog_ids: Vec<u32>,
    /// The programs' descriptors, kept so that this process shows as their holder (the
    /// Programs pane's PROCESS column), as it does for every other object it loaded.
    _prog_fds: Vec<OwnedFd>,
}

const NOT_LOADED: &str = "iterator not loaded";

/// Size of one record of the map iterator (`map_count` or `map_slot`).
const COUNT_REC: usize = 16;
const REC_COUNT: u16 = 1;
const REC_SLOT: u16 = 2;
/// `map_count.flags`: not every populated slot was reported (more than fit one map's output).
const COUNT_SLOTS_CUT: u16 = 1;
/// `map_count.flags`: the map's slots were walked (its slot records, possibly none, came first).
const COUNT_SLOTS_WALKED: u16 = 2;

/// What one read of the map iterator says: entry counts of every map, and for prog arrays and
/// array-of-maps the populated slots (index → program id / inner map id), ascending by index.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MapScan {
    pub counts: HashMap<u32, i64>,
    /// Complete slot lists only: a map whose slots did not all fit the iterator's output is
    /// absent here (its count is still exact) and is read slot by slot instead.
    pub slots: HashMap<u32, Vec<(u32, u32)>>,
}
/// Size of one `owner` record: kind, id, pid, comm[16], pad.
const OWNER_REC: usize = 32;

/// Processes holding each object open, by object id.
#[derive(Debug, Default, Clone)]
pub struct Owners {
    pub progs: HashMap<u32, Vec<ProcRef>>,
    pub maps: HashMap<u32, Vec<ProcRef>>,
    pub links: HashMap<u32, Vec<ProcRef>>,
}

/// Size of one `prog_stat` record: id, flags, load_time, tag[8], run_cnt, run_time_ns, misses.
const PROG_REC: usize = 48;
/// `prog_stat.flags`: the counters could not be read in the kernel.
const STAT_UNREAD: u32 = 1;
/// `prog_stat.flags`: a `prog_maps` record (program id, up to 10 map ids, 0 = none).
const STAT_MAPS: u32 = 2;

/// What the program iterator says about one program: enough to tell a program seen before
/// (id, load time, tag) and its run-time counters as `bpf_prog_info` reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProgStat {
    pub load_time_ns: u64,
    pub tag: [u8; 8],
    pub run_cnt: u64,
    pub run_time_ns: u64,
    pub recursion_misses: u64,
}

/// Which of the iterators to load. Each one's CO-RE relocations cost a search of the kernel
/// BTF for their types: a one-shot `show` loads only what its pane reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    /// Map counts and fd-array slots.
    pub counts: bool,
    /// Which processes hold which objects.
    pub owners: bool,
    /// Every program's counters (worth it when a process collects more than once).
    pub progs: bool,
    /// Which maps each program uses (`show maps` without opening every program).
    pub prog_maps: bool,
}

/// How the iterator object is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loader {
    /// By a loader program the kernel runs (super::light): the kernel resolves attach targets
    /// and CO-RE relocations against its own BTF. No parse of the kernel BTF in this process.
    Kernel,
    /// By libbpf in this process (parses the kernel BTF; works on kernels before 5.18).
    Libbpf,
}

impl Parts {
    pub const ALL: Parts = Parts {
        counts: true,
        owners: true,
        progs: true,
        prog_maps: true,
    };
}

impl Iters {
    /// Every iterator.
    pub fn load() -> Result<Iters, String> {
        Self::load_parts(Parts::ALL)
    }

    /// The iterators in `parts` (at least one): through the kernel-side loader, or libbpf's
    /// ordinary load when that cannot run (older kernel; its errors are also better worded).
    pub fn load_parts(parts: Parts) -> Result<Iters, String> {
        Self::load_via(parts, Loader::Kernel).or_else(|_| Self::load_via(parts, Loader::Libbpf))
    }

    /// The iterators in `parts`, loaded one way only.
    pub fn load_via(parts: Parts, loader: Loader) -> Result<Iters, String> {
        match Self::load_with(parts, loader) {
            Ok(i) => Ok(i),
            // The program iterator needs more of the kernel than the others (per-CPU map
            // lookups, pointer arithmetic of a privileged loader): without it, the rest.
            Err(e) if !parts.progs || !(parts.counts || parts.owners || parts.prog_maps) => Err(e),
            Err(_) => Self::load_with(
                Parts {
                    progs: false,
                    ..parts
                },
                loader,
            ),
        }
    }

    fn load_with(parts: Parts, loader: Loader) -> Result<Iters, String> {
        let wanted = |name: Option<&str>| match name {
            Some("dpscope_map_counts") => parts.counts,
            Some("dpscope_owners") => parts.owners,
            Some("dpscope_prog_stats") => parts.progs,
            Some("dpscope_prog_maps") => parts.prog_maps,
            _ => true,
        };
        if loader == Loader::Kernel {
            return Self::load_light(&|n: &str| wanted(Some(n)), parts);
        }
        let mut open = ObjectBuilder::default()
            .open_memory(OBJ)
            .map_err(|e| format!("open: {e}"))?;
        for mut p in open.progs_mut() {
            if !wanted(p.name().to_str()) {
                p.set_autoload(false);
            }
        }
        let obj = open.load().map_err(|e| {
            format!("cannot load dpscope's iterators (needs kernel 6.6+ with BTF): {e}")
        })?;
        let mut counts = None;
        let mut owners = None;
        let mut progs = None;
        let mut prog_maps = None;
        let mut prog_ids = Vec::new();
        let mut prog_fds = Vec::new();
        for prog in obj.progs_mut() {
            if !wanted(prog.name().to_str()) {
                continue;
            }
            let link = prog
                .attach()
                .map_err(|e| format!("attach {}: {e}", prog.name().to_string_lossy()))?;
            prog_ids.push(prog_id_of(prog.as_fd()));
            if let Ok(fd) = prog.as_fd().try_clone_to_owned() {
                prog_fds.push(fd);
            }
            // Our own descriptor of the link keeps it (and its program) alive once libbpf's
            // objects are dropped.
            let link = link
                .as_fd()
                .try_clone_to_owned()
                .map_err(|e| format!("keep link: {e}"))?;
            match prog.name().to_str() {
                Some("dpscope_map_counts") => counts = Some(link),
                Some("dpscope_owners") => owners = Some(link),
                Some("dpscope_prog_stats") => progs = Some(link),
                Some("dpscope_prog_maps") => prog_maps = Some(link),
                _ => {}
            }
        }
        drop(obj);
        Iters {
            counts,
            owners,
            progs,
            prog_maps,
            prog_ids,
            _prog_fds: prog_fds,
        }
        .complete(parts, false)
    }

    /// Through the kernel-side loader (super::light).
    fn load_light(wanted: &dyn Fn(&str) -> bool, parts: Parts) -> Result<Iters, String> {
        let mut loaded = super::light::load(OBJ, wanted)?;
        let mut prog_ids = Vec::new();
        let mut prog_fds = Vec::new();
        let mut link = |name: &str| -> Result<Option<OwnedFd>, String> {
            let Some(prog) = loaded.take_prog(name) else {
                return Ok(None);
            };
            prog_ids.push(prog_id_of(prog.as_fd()));
            let link = super::light::attach_iter(&prog)?;
            prog_fds.push(prog);
            Ok(Some(link))
        };
        let counts = link("dpscope_map_counts")?;
        let owners = link("dpscope_owners")?;
        let progs = link("dpscope_prog_stats")?;
        let prog_maps = link("dpscope_prog_maps")?;
        Iters {
            counts,
            owners,
            progs,
            prog_maps,
            prog_ids,
            _prog_fds: prog_fds,
        }
        .complete(parts, true)
    }

    /// `self` if it has every iterator `parts` asks for (the counters' only when
    /// `with_progs`: libbpf's load may go without them, see `load_via`).
    fn complete(self, parts: Parts, with_progs: bool) -> Result<Iters, String> {
        let missing = (parts.counts && self.counts.is_none())
            || (parts.owners && self.owners.is_none())
            || (with_progs && parts.progs && self.progs.is_none())
            || (parts.prog_maps && self.prog_maps.is_none());
        if missing {
            return Err("iterator object is missing a program".into());
        }
        Ok(self)
    }

    fn read_all(link: &OwnedFd) -> Result<Vec<u8>, String> {
        super::light::read_iter(link)
    }

    /// map id → element count for every map alive now, and the populated slots of every prog
    /// array and array-of-maps, in one read.
    pub fn scan_maps(&self) -> Result<MapScan, String> {
        let link = self.counts.as_ref().ok_or(NOT_LOADED)?;
        Ok(parse_scan(&Self::read_all(link)?))
    }

    /// Which processes hold which BPF objects.
    pub fn owners(&self) -> Result<Owners, String> {
        let link = self.owners.as_ref().ok_or(NOT_LOADED)?;
        Ok(parse_owners(&Self::read_all(link)?))
    }

    /// Every program's id, load time, tag and run-time counters, in one read; `None` when the
    /// program iterator is not loaded.
    pub fn prog_stats(&self) -> Option<Result<ProgStats, String>> {
        let link = self.progs.as_ref()?;
        Some(Self::read_all(link).map(|b| parse_prog_stats(&b)))
    }

    /// Which maps every program uses (program id → map ids, as `bpf_prog_info.map_ids`
    /// lists them), in one read; `None` when the program iterator is not loaded.
    pub fn prog_maps(&self) -> Option<Result<ProgMaps, String>> {
        let link = self.prog_maps.as_ref()?;
        Some(Self::read_all(link).map(|b| parse_prog_maps(&b)))
    }
}

/// Every program the iterator visited, by id: its facts, or `None` when the kernel could not
/// read its counters (it is read by descriptor).
pub type ProgStats = HashMap<u32, Option<ProgStat>>;

/// Parse the program iterator's records; a trailing partial record is ignored.
pub fn parse_prog_stats(buf: &[u8]) -> ProgStats {
    let u64_at = |r: &[u8], at: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&r[at..at + 8]);
        u64::from_ne_bytes(b)
    };
    let mut out = HashMap::with_capacity(buf.len() / PROG_REC);
    for r in buf.chunks_exact(PROG_REC) {
        let id = u32::from_ne_bytes([r[0], r[1], r[2], r[3]]);
        let flags = u32::from_ne_bytes([r[4], r[5], r[6], r[7]]);
        if flags & STAT_MAPS != 0 {
            continue;
        }
        if flags & STAT_UNREAD != 0 {
            out.insert(id, None);
            continue;
        }
        let mut tag = [0u8; 8];
        tag.copy_from_slice(&r[16..24]);
        out.insert(
            id,
            Some(ProgStat {
                load_time_ns: u64_at(r, 8),
                tag,
                run_cnt: u64_at(r, 24),
                run_time_ns: u64_at(r, 32),
                recursion_misses: u64_at(r, 40),
            }),
        );
    }
    out
}

/// Program id → the ids of the maps it uses, in the kernel's order.
pub type ProgMaps = HashMap<u32, Vec<u32>>;

/// Parse the map-use records of the program iterator's output (every program it visited has
/// an entry, empty when it uses no map); a trailing partial record is ignored.
pub fn parse_prog_maps(buf: &[u8]) -> ProgMaps {
    let u32_at = |r: &[u8], at: usize| u32::from_ne_bytes([r[at], r[at + 1], r[at + 2], r[at + 3]]);
    let mut out: ProgMaps = HashMap::with_capacity(buf.len() / PROG_REC);
    for r in buf.chunks_exact(PROG_REC) {
        let id = u32_at(r, 0);
        let maps = out.entry(id).or_default();
        if u32_at(r, 4) & STAT_MAPS == 0 {
            continue;
        }
        maps.extend(
            (8..PROG_REC)
                .step_by(4)
                .map(|at| u32_at(r, at))
                .filter(|m| *m != 0),
        );
    }
    out
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

/// Parse the map iterator's records; a trailing partial record is ignored. Slot records come
/// before their map's count record.
pub fn parse_scan(buf: &[u8]) -> MapScan {
    let mut scan = MapScan::default();
    let mut walked = std::collections::HashSet::new();
    for r in buf.chunks_exact(COUNT_REC) {
        let id = u32::from_ne_bytes([r[0], r[1], r[2], r[3]]);
        let kind = u16::from_ne_bytes([r[4], r[5]]);
        let flags = u16::from_ne_bytes([r[6], r[7]]);
        match kind {
            REC_COUNT => {
                let count =
                    i64::from_ne_bytes([r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]]);
                scan.counts.insert(id, count);
                if flags & COUNT_SLOTS_CUT == 0 && flags & COUNT_SLOTS_WALKED != 0 {
                    walked.insert(id);
                }
            }
            REC_SLOT => {
                let index = u32::from_ne_bytes([r[8], r[9], r[10], r[11]]);
                let value = u32::from_ne_bytes([r[12], r[13], r[14], r[15]]);
                scan.slots.entry(id).or_default().push((index, value));
            }
            _ => {}
        }
    }
    // Only walked maps whose every slot was reported keep a list (an empty one when no slot
    // is populated); slot records without their count record (a cut-off read) are dropped.
    for id in &walked {
        scan.slots.entry(*id).or_default();
    }
    scan.slots.retain(|id, _| walked.contains(id));
    for s in scan.slots.values_mut() {
        s.sort_unstable();
    }
    scan
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

/// Map types the iterator counts exactly: the htab family (kernel element counters), LPM
/// tries (their element count) and the fd arrays whose slots it walks. A negative count
/// (not readable on this kernel) is no count.
pub fn counted_by_kernel(map_type: u32) -> bool {
    matches!(
        map_type,
        libbpf_sys::BPF_MAP_TYPE_HASH
            | libbpf_sys::BPF_MAP_TYPE_LPM_TRIE
            | libbpf_sys::BPF_MAP_TYPE_PERCPU_HASH
            | libbpf_sys::BPF_MAP_TYPE_LRU_HASH
            | libbpf_sys::BPF_MAP_TYPE_LRU_PERCPU_HASH
            | libbpf_sys::BPF_MAP_TYPE_HASH_OF_MAPS
            | libbpf_sys::BPF_MAP_TYPE_PROG_ARRAY
            | libbpf_sys::BPF_MAP_TYPE_ARRAY_OF_MAPS
    )
}

/// Map types whose populated slots the iterator reports (index → program / inner map id).
pub fn slots_by_kernel(map_type: u32) -> bool {
    matches!(
        map_type,
        libbpf_sys::BPF_MAP_TYPE_PROG_ARRAY | libbpf_sys::BPF_MAP_TYPE_ARRAY_OF_MAPS
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(id: u32, n: i64, flags: u16) -> Vec<u8> {
        let mut b = id.to_ne_bytes().to_vec();
        b.extend_from_slice(&REC_COUNT.to_ne_bytes());
        b.extend_from_slice(&flags.to_ne_bytes());
        b.extend_from_slice(&n.to_ne_bytes());
        b
    }

    fn slot(id: u32, index: u32, value: u32) -> Vec<u8> {
        let mut b = id.to_ne_bytes().to_vec();
        b.extend_from_slice(&REC_SLOT.to_ne_bytes());
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&index.to_ne_bytes());
        b.extend_from_slice(&value.to_ne_bytes());
        b
    }

    #[test]
    fn count_records_parse_and_partial_tail_is_ignored() {
        let mut b = count(7, 3, 0);
        b.extend(count(9, 1_000_000, 0));
        b.extend_from_slice(&[1, 2, 3]);
        let m = parse_scan(&b);
        assert_eq!(m.counts.len(), 2);
        assert_eq!(m.counts[&7], 3);
        assert_eq!(m.counts[&9], 1_000_000);
        assert!(m.slots.is_empty());
        assert_eq!(parse_scan(&[]), MapScan::default());
    }

    #[test]
    fn slot_records_belong_to_the_count_that_follows() {
        let mut b = slot(5, 400, 77);
        b.extend(slot(5, 3, 70));
        b.extend(count(5, 2, COUNT_SLOTS_WALKED));
        // Cut: the count is exact, the slot list is not used.
        b.extend(slot(6, 1, 80));
        b.extend(count(6, 5000, COUNT_SLOTS_CUT | COUNT_SLOTS_WALKED));
        // An empty prog array: a count of 0 and an empty list; an empty hash map: no list.
        b.extend(count(8, 0, COUNT_SLOTS_WALKED));
        b.extend(count(9, 0, 0));
        // Slot records whose count record never came (read cut off).
        b.extend(slot(11, 0, 90));
        let m = parse_scan(&b);
        assert_eq!(m.slots[&5], vec![(3, 70), (400, 77)]);
        assert_eq!(m.counts[&6], 5000);
        assert!(!m.slots.contains_key(&6));
        assert_eq!(m.slots[&8], vec![]);
        assert!(!m.slots.contains_key(&11));
        assert!(!m.slots.contains_key(&9));
        assert_eq!(m.counts.len(), 4);
    }

    #[test]
    fn prog_stat_records_parse_and_unread_ones_have_no_counters() {
        let rec = |id: u32, flags: u32, load: u64, cnt: u64| {
            let mut b = id.to_ne_bytes().to_vec();
            b.extend_from_slice(&flags.to_ne_bytes());
            b.extend_from_slice(&load.to_ne_bytes());
            b.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
            b.extend_from_slice(&cnt.to_ne_bytes());
            b.extend_from_slice(&(cnt * 100).to_ne_bytes());
            b.extend_from_slice(&2u64.to_ne_bytes());
            b
        };
        let mut b = rec(4, 0, 1_000, 7);
        b.extend(rec(5, STAT_UNREAD, 2_000, 0));
        b.extend(rec(6, 0, 3_000, 0));
        b.extend_from_slice(&[9; 20]);
        let p = parse_prog_stats(&b);
        assert_eq!(p.len(), 3);
        assert_eq!(
            p[&4],
            Some(ProgStat {
                load_time_ns: 1_000,
                tag: [1, 2, 3, 4, 5, 6, 7, 8],
                run_cnt: 7,
                run_time_ns: 700,
                recursion_misses: 2,
            })
        );
        assert_eq!(p[&6].map(|s| s.run_cnt), Some(0));
        assert_eq!(p[&5], None);
    }

    #[test]
    fn map_use_records_follow_their_program_and_do_not_disturb_the_counters() {
        let stat = |id: u32| {
            let mut b = id.to_ne_bytes().to_vec();
            b.extend_from_slice(&0u32.to_ne_bytes());
            b.extend_from_slice(&[0u8; 40]);
            b
        };
        let maps = |id: u32, ids: &[u32]| {
            let mut b = id.to_ne_bytes().to_vec();
            b.extend_from_slice(&STAT_MAPS.to_ne_bytes());
            for i in 0..10 {
                b.extend_from_slice(&ids.get(i).copied().unwrap_or(0).to_ne_bytes());
            }
            b
        };
        let mut b = stat(4);
        b.extend(maps(4, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
        b.extend(maps(4, &[11, 12]));
        b.extend(stat(5));
        b.extend(stat(6));
        b.extend(maps(6, &[7]));
        b.extend_from_slice(&[9; 20]);
        let m = parse_prog_maps(&b);
        assert_eq!(m[&4], (1..=12).collect::<Vec<u32>>());
        assert_eq!(m[&5], Vec::<u32>::new());
        assert_eq!(m[&6], vec![7]);
        let s = parse_prog_stats(&b);
        assert_eq!(s.len(), 3);
        assert!(s.values().all(|v| v.is_some_and(|v| v.run_cnt == 0)));
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
