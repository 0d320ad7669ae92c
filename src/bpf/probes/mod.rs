//! dpscope's own probes: load what `Config::probe_enabled` allows, record a `ProbeStatus` for
//! each, and fold what they counted into the snapshot.
//!
//! Safety rules (docs/probes.md): every probe only observes. Tracing probes attach through BPF
//! links held by file descriptor (never pinned), so the kernel detaches and frees them when
//! dpscope exits, even on SIGKILL. The tc flow probe always returns TCX_NEXT; the XDP counter is
//! attached only on request, only where no XDP program is, and always returns XDP_PASS.

pub mod decode;
pub mod drops;
pub mod flows;
pub mod netns;
pub mod retransmits;
pub mod sockdiag;
pub mod table;
pub mod xdp_health;

use crate::bpf::collector::Config;
use crate::model::{ProbeStatus, Snapshot, Unavailable};
use libbpf_rs::{Link, MapCore, MapFlags, Object, ObjectBuilder};
use std::os::fd::AsFd;

/// Names accepted by `--probe`.
pub const PROBE_NAMES: &[&str] = &["retransmits", "drops", "xdp_health", "flows"];

/// A loaded BPF object with its links. Field order matters: links drop before the object.
pub struct Loaded {
    pub links: Vec<Link>,
    pub obj: Object,
    pub prog_ids: Vec<u32>,
    /// How packet headers are read by the objects that parse skbs (probes/parse_skb.h).
    pub headers: HeaderReads,
}

/// How a tracing probe reads packet header bytes (probes/parse_skb.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderReads {
    /// Direct fault-safe loads through `bpf_rdonly_cast` (kernel 6.2 and later), or the object
    /// parses no skb.
    Direct,
    /// `bpf_probe_read_kernel` copies: the fallback when the kernel refuses the direct loads.
    Copied,
}

/// The load-time switch of probes/parse_skb.h, alone in its own section.
const HEADER_SWITCH_MAP: &str = ".rodata.dps_hdr";
/// The hash constants of probes/dps_table.h, alone in their own section: randomised per load.
const HASH_KEYS_MAP: &str = ".rodata.dps_hash";

impl Loaded {
    /// Open and load an embedded object. `want(prog_name)` decides which programs load. An
    /// object that parses skbs loads with direct header loads and, if the kernel refuses them,
    /// again with `bpf_probe_read_kernel` copies.
    pub fn open(bytes: &'static [u8], want: impl Fn(&str) -> bool) -> Result<Loaded, String> {
        match Self::open_with(bytes, &want, HeaderReads::Direct) {
            Ok(l) => Ok(l),
            Err((e, false)) => Err(e),
            Err((e, true)) => Self::open_with(bytes, &want, HeaderReads::Copied)
                .map_err(|(e2, _)| format!("{e}; with bpf_probe_read_kernel header reads: {e2}")),
        }
    }

    /// Load with the given header reads. The error says whether the object has the switch
    /// (only then is the other way worth a try).
    pub fn open_with(
        bytes: &'static [u8],
        want: &dyn Fn(&str) -> bool,
        headers: HeaderReads,
    ) -> Result<Loaded, (String, bool)> {
        let mut open = ObjectBuilder::default()
            .open_memory(bytes)
            .map_err(|e| (format!("open object: {e}"), false))?;
        for mut p in open.progs_mut() {
            let name = p.name().to_string_lossy().into_owned();
            p.set_autoload(want(&name));
        }
        let mut has_switch = false;
        for mut m in open.maps_mut() {
            if m.name() == HASH_KEYS_MAP {
                if let Some(v) = m.initial_value_mut() {
                    randomise_hash_keys(v);
                }
                continue;
            }
            if m.name() != HEADER_SWITCH_MAP {
                continue;
            }
            has_switch = true;
            if let Some(b) = m.initial_value_mut().and_then(|v| v.first_mut()) {
                *b = u8::from(headers == HeaderReads::Copied);
            }
        }
        if headers == HeaderReads::Copied && !has_switch {
            return Err(("object has no header-read switch".into(), false));
        }
        let obj = open
            .load()
            .map_err(|e| (format!("load: {e}"), has_switch))?;
        let prog_ids = obj
            .progs()
            .filter(|p| p.autoload())
            .map(|p| crate::bpf::iters::prog_id_of(p.as_fd()))
            .filter(|id| *id != 0)
            .collect();
        Ok(Loaded {
            links: Vec::new(),
            obj,
            prog_ids,
            headers,
        })
    }

    /// Attach every loaded tracing program (tp_btf) through links.
    pub fn attach_all_tracing(&mut self) -> Result<(), String> {
        for p in self.obj.progs_mut() {
            if !p.autoload() {
                continue;
            }
            let name = p.name().to_string_lossy().into_owned();
            let link = p.attach().map_err(|e| format!("attach {name}: {e}"))?;
            self.links.push(link);
        }
        Ok(())
    }

    pub fn map(&self, name: &str) -> Option<libbpf_rs::Map<'_>> {
        self.obj.maps().find(|m| m.name() == name)
    }

    /// Every (key, value) of a hash map, at most `cap` entries: batch lookups (a few syscalls
    /// for the whole map), or one `get_next_key` + lookup per entry where batches are refused.
    pub fn entries(&self, name: &str, cap: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        let Some(m) = self.map(name) else {
            return Vec::new();
        };
        if let Some(out) = batch_entries(&m, cap) {
            return out;
        }
        let mut out = Vec::new();
        for k in m.keys().take(cap) {
            // An entry can vanish between "next key" and lookup (LRU eviction): skip it.
            if let Ok(Some(v)) = m.lookup(&k, MapFlags::ANY) {
                out.push((k, v));
            }
        }
        out
    }

    /// Sum over CPUs of the per-CPU stats array (`enum dps_stat` in probes/dpscope.h).
    pub fn stats(&self, name: &str) -> MapStats {
        let mut s = MapStats::default();
        let Some(m) = self.map(name) else {
            return s;
        };
        let sum = |idx: u32| -> u64 {
            m.lookup_percpu(&idx.to_ne_bytes(), MapFlags::ANY)
                .ok()
                .flatten()
                .map(|cpus| cpus.iter().map(|v| crate::bytes::ne_u64(v, 0)).sum())
                .unwrap_or(0)
        };
        s.events = sum(0);
        s.inserted = sum(1);
        s.failed = sum(2);
        s.evicted = sum(3);
        s
    }
}

/// Odd random 64-bit multipliers for the table hash (probes/dps_table.h), so that which keys
/// collide cannot be worked out in advance. Keeps the compiled-in constants if the kernel
/// gives no randomness.
fn randomise_hash_keys(v: &mut [u8]) {
    use std::io::Read;
    let mut rnd = vec![0u8; v.len()];
    // The kernel's random pool (what getrandom(2) reads); nix has no getrandom wrapper.
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut rnd));
    if read.is_err() {
        return;
    }
    for (dst, src) in v.chunks_exact_mut(8).zip(rnd.chunks_exact(8)) {
        let mut w = [0u8; 8];
        w.copy_from_slice(src);
        dst.copy_from_slice(&(u64::from_ne_bytes(w) | 1).to_ne_bytes());
    }
}

/// A whole (non-per-CPU) hash map by `BPF_MAP_LOOKUP_BATCH`; `None` when the kernel refuses
/// the first batch (the caller walks the keys instead).
fn batch_entries(m: &libbpf_rs::Map<'_>, cap: usize) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    let (ks, vs) = (m.key_size() as usize, m.value_size() as usize);
    if ks == 0 || vs == 0 {
        return None;
    }
    let mut cursor = crate::bpf::batch::Cursor::new(ks, vs, 4096);
    let mut c = crate::bpf::batch::Chunk::default();
    let mut out = Vec::new();
    loop {
        if cursor.next(m.as_fd(), &mut c).is_err() {
            // Refused at once (not supported here): the caller walks the keys instead. Later:
            // keep what was read.
            return if cursor.at_start() { None } else { Some(out) };
        }
        for i in 0..c.count {
            if out.len() >= cap {
                return Some(out);
            }
            let (k, v) = c.entry(i, ks, vs);
            if k.len() == ks && v.len() == vs {
                out.push((k.to_vec(), v.to_vec()));
            }
        }
        if c.last {
            return Some(out); // the walk is complete
        }
    }
}

/// Counters every probe keeps about its own aggregation map.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MapStats {
    pub events: u64,
    pub inserted: u64,
    pub failed: u64,
    /// Rows evicted, counted by the probe itself (probes/dps_table.h); 0 for LRU hash maps.
    pub evicted: u64,
}

/// Fill the pressure fields of a status for LRU hash maps: entries now, evictions
/// (inserted − live; the kernel evicts without telling).
pub fn fill_pressure(st: &mut ProbeStatus, stats: MapStats, entries: usize, max: u32) {
    st.events = stats.events;
    st.map_entries = Some(entries as u64);
    st.map_max_entries = max;
    st.evicted = stats.inserted.saturating_sub(entries as u64);
    st.failed_inserts = stats.failed;
}

/// The same for probes whose tables count their own evictions (probes/dps_table.h).
pub fn fill_pressure_counted(st: &mut ProbeStatus, stats: MapStats, entries: usize, max: u32) {
    fill_pressure(st, stats, entries, max);
    st.evicted = stats.evicted;
}

/// One probe: loaded or the reason it is not.
enum Slot<T> {
    On(T),
    Off(String),
}

fn slot<T>(
    cfg: &Config,
    name: &str,
    load: impl FnOnce() -> Result<T, String>,
    off_reason: Option<String>,
) -> Slot<T> {
    if !cfg.probes {
        return Slot::Off(cfg.not_selected_why());
    }
    if !cfg.probe_enabled(name) {
        return Slot::Off(format!(
            "not selected (--probe {} given)",
            cfg.only_probes.join(", --probe ")
        ));
    }
    if let Some(r) = off_reason {
        return Slot::Off(r);
    }
    match load() {
        Ok(t) => Slot::On(t),
        Err(e) => Slot::Off(e),
    }
}

/// dpscope's own probes, owned by the collector thread.
pub struct Probes {
    drops: Slot<drops::DropProbe>,
    retransmits: Slot<retransmits::RetransmitProbe>,
    xdp_health: Slot<xdp_health::XdpHealthProbe>,
    flows: Slot<flows::FlowProbe>,
    names: netns::Resolver,
}

impl Probes {
    /// Load and attach what the config allows. Never fails: a probe that cannot load records why.
    pub fn new(cfg: &Config) -> Probes {
        let no_flow_iface = (cfg.tc_ifaces.is_empty() && cfg.xdp_ifaces.is_empty()).then(|| {
            "opt-in: give --tc-iface IFACE (or --xdp-iface IFACE) to count flows on an interface"
                .to_string()
        });
        Probes {
            drops: slot(cfg, "drops", drops::DropProbe::load, None),
            retransmits: slot(cfg, "retransmits", retransmits::RetransmitProbe::load, None),
            xdp_health: slot(cfg, "xdp_health", xdp_health::XdpHealthProbe::load, None),
            flows: slot(
                cfg,
                "flows",
                || flows::FlowProbe::load(&cfg.tc_ifaces, &cfg.xdp_ifaces),
                no_flow_iface,
            ),
            names: netns::Resolver::default(),
        }
    }

    /// Kernel ids of every program the probes loaded.
    pub fn prog_ids(&self) -> Vec<u32> {
        let mut ids = Vec::new();
        if let Slot::On(p) = &self.drops {
            ids.extend(&p.loaded.prog_ids);
        }
        if let Slot::On(p) = &self.retransmits {
            ids.extend(&p.loaded.prog_ids);
        }
        if let Slot::On(p) = &self.xdp_health {
            ids.extend(&p.loaded.prog_ids);
        }
        if let Slot::On(p) = &self.flows {
            ids.extend(&p.loaded.prog_ids);
        }
        ids
    }

    /// Read every probe's maps into the snapshot (collector thread only). Call after the
    /// snapshot's programs are filled (XDP rows take program names from there).
    pub fn collect(&mut self, snap: &mut Snapshot) {
        self.collect_with(snap, crate::bpf::procs::Pass::default());
    }

    /// `collect` with the refresh's walk of /proc (namespaces and socket owners come from it,
    /// walked at most once whoever asks first).
    pub fn collect_with(&mut self, snap: &mut Snapshot, procs: crate::bpf::procs::Pass) {
        // Namespace names (a walk of /proc) only for probes that report namespaces: `show`
        // of a pane without probes walks nothing.
        let names_needed = matches!(self.drops, Slot::On(_))
            || matches!(self.retransmits, Slot::On(_))
            || matches!(self.xdp_health, Slot::On(_));
        if names_needed {
            self.names.begin(procs);
        }
        let mut statuses = Vec::new();
        let mut off: Vec<(&str, &str, String)> = Vec::new();
        match &mut self.drops {
            Slot::On(p) => {
                let (rows, st) = p.read(&mut self.names);
                snap.drops = rows;
                statuses.push(st);
            }
            Slot::Off(r) => off.push(("drops", "drops", r.clone())),
        }
        match &mut self.retransmits {
            Slot::On(p) => {
                let (rows, st) = p.read(&mut self.names);
                snap.retransmits = rows;
                statuses.push(st);
            }
            Slot::Off(r) => off.push(("retransmits", "retransmits", r.clone())),
        }
        match &mut self.xdp_health {
            Slot::On(p) => {
                let (rows, st) = p.read(&mut self.names);
                snap.xdp_errors = rows;
                statuses.push(st);
            }
            Slot::Off(r) => off.push(("xdp_errors", "xdp_health", r.clone())),
        }
        match &mut self.flows {
            Slot::On(p) => {
                let (rows, st) = p.read();
                snap.flows = rows;
                statuses.push(st);
            }
            Slot::Off(r) => off.push(("flows", "flows", r.clone())),
        }
        for (pane, name, why) in off {
            statuses.push(ProbeStatus {
                name: name.into(),
                detail: why.clone(),
                ..Default::default()
            });
            snap.node.unavailable.push(Unavailable {
                pane: pane.into(),
                reason: format!("probe {name} is off: {why}"),
            });
        }
        snap.node.probes.extend(statuses);
        // Cilium hook: addresses → security identities, when the snapshot already has them
        // (no-op otherwise; the Cilium collector can also call it after filling identities).
        drops::annotate_identities(&mut snap.drops, &snap.identities);
        for x in &mut snap.xdp_errors {
            if let Some(p) = snap.programs.iter().find(|p| p.id == x.prog_id) {
                x.prog_name = if p.name.is_empty() {
                    p.kernel_name.clone()
                } else {
                    p.name.clone()
                };
            }
        }
    }
}

/// Checks that the record types the readers decode through agree with the compiled objects.
#[cfg(test)]
pub(crate) mod layout {
    /// The size of struct or union `name` in the BTF of the BPF object `obj` (the bytes
    /// dpscope loads), or None when the object has no such type.
    pub fn btf_size(obj: &[u8], name: &str) -> Option<usize> {
        use libbpf_rs::btf::{types::Composite, Btf, HasSize};
        let btf = Btf::from_raw("probe", obj).ok()??;
        let c: Composite<'_> = btf.type_by_name(name)?;
        Some(c.size())
    }

    /// Every `(C name, Rust size)` of `records` has the same size in `obj`'s BTF.
    pub fn assert_sizes(obj: &[u8], records: &[(&str, usize)]) {
        for (name, rust) in records {
            assert_eq!(
                btf_size(obj, name),
                Some(*rust),
                "struct {name}: the object's BTF and its Rust reader disagree in size"
            );
        }
    }

    #[test]
    fn a_struct_and_a_wrong_size_disagree() {
        let obj: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/drops.bpf.o"));
        assert_eq!(btf_size(obj, "dps_tuple4"), Some(16));
        assert_eq!(btf_size(obj, "no_such_struct"), None);
        let wrong = std::panic::catch_unwind(|| assert_sizes(obj, &[("dps_tuple4", 17)]));
        assert!(wrong.is_err());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_probes_say_why_and_load_nothing() {
        let cfg = Config {
            probes: false,
            ..Default::default()
        };
        let mut p = Probes::new(&cfg);
        assert!(p.prog_ids().is_empty());
        let mut s = Snapshot::empty();
        p.collect(&mut s);
        let names: Vec<&str> = s.node.probes.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["drops", "retransmits", "xdp_health", "flows"]);
        assert!(s.node.probes.iter().all(|p| !p.loaded && !p.attached));
        assert_eq!(
            s.unavailable_reason("drops"),
            Some("probe drops is off: own probes disabled with --no-probes")
        );
        assert!(s.unavailable_reason("xdp_errors").is_some());

        let only = Config {
            only_probes: vec!["drops".into()],
            ..Default::default()
        };
        let mut s = Snapshot::empty();
        // selection is decided before loading: nothing here needs privileges
        let mut p = Probes {
            drops: Slot::Off("test".into()),
            retransmits: slot(&only, "retransmits", || Err("never".to_string()), None),
            xdp_health: Slot::Off("test".into()),
            flows: slot(&only, "flows", || Err("never".to_string()), None),
            names: netns::Resolver::default(),
        };
        p.collect(&mut s);
        assert_eq!(
            s.unavailable_reason("retransmits"),
            Some("probe retransmits is off: not selected (--probe drops given)")
        );
    }

    #[test]
    fn pressure_is_inserted_minus_live() {
        let mut st = ProbeStatus::default();
        let stats = MapStats {
            events: 100,
            inserted: 40,
            failed: 2,
            evicted: 0,
        };
        fill_pressure(&mut st, stats, 16, 16);
        assert_eq!(
            (st.events, st.map_entries, st.evicted, st.failed_inserts),
            (100, Some(16), 24, 2)
        );
        // tables that count evictions: the count, not a difference
        let stats = MapStats {
            evicted: 7,
            ..stats
        };
        fill_pressure_counted(&mut st, stats, 33, 16);
        assert_eq!((st.map_entries, st.evicted), (Some(33), 7));
    }

    #[test]
    fn hash_keys_are_odd() {
        let mut v = vec![0u8; 9 * 8];
        randomise_hash_keys(&mut v);
        assert!(
            v.chunks_exact(8)
                .all(|w| u64::from_ne_bytes(w.try_into().unwrap()) & 1 == 1),
            "{v:?}"
        );
    }
}
