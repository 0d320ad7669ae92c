//! Cilium datapath maps: find them under `<bpffs>/tc/globals/` for every bpffs root, pick a
//! decoder per map from a registry (name pattern + key size + value size + name variant),
//! detect the Cilium release layout, and decode them into the Cilium panes of the snapshot.
//!
//! Decoders are pure (bytes → model types, total on any input); this module does the I/O and
//! never writes to a map. Formats: /work/shared/cilium-maps.md.

pub mod bytes;
pub mod conntrack;
pub mod ct_stream;
pub mod ipcache;
pub mod layout;
pub mod lb;
pub mod lxc;
pub mod metrics;
pub mod policy;
pub mod read;
pub mod registry;
pub mod tailcall;

use crate::model::{
    Attachment, CtEntry, Endpoint, IdentityEntry, MapInfo, MetricEntry, PaneId, PolicyEntry,
    Program, Service, TailCallMap, Unavailable, Word,
};
use conntrack::{ClockMode, Now};
use layout::Layout;
use registry::{Lookup, MapKind};
use std::collections::{BTreeMap, HashMap};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// Entries read per map at most; beyond that the pane says "showing N of M".
pub const DEFAULT_CAP: usize = 1_000_000;

/// Everything the Cilium decoders contribute to a snapshot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Collected {
    pub tailcalls: Vec<TailCallMap>,
    pub services: Vec<Service>,
    pub conntrack: Vec<CtEntry>,
    pub identities: Vec<IdentityEntry>,
    pub endpoints: Vec<Endpoint>,
    pub policy: Vec<PolicyEntry>,
    pub metrics: Vec<MetricEntry>,
    pub unavailable: Vec<Unavailable>,
    pub warnings: Vec<String>,
    /// Detected layout with the reason (`1.18 (policy value 8 B)`), or `None`.
    pub layout: Option<String>,
    /// Entries in the CT maps when a read stopped at the cap (the pane says "showing N of M").
    pub ct_total: Option<u64>,
}

/// Knobs for [`collect_with`].
#[derive(Debug, Clone)]
pub struct Options {
    pub cap: usize,
    /// CT expiry clock; `None` detects it (seconds since boot vs `jiffies >> 8`).
    pub clock: Option<ClockMode>,
    /// Which parts to read (a refresh reads only what the open pane needs).
    pub tables: Tables,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cap: DEFAULT_CAP,
            clock: clock_from_env(),
            tables: Tables::ALL,
        }
    }
}

/// Which Cilium parts a collection reads. Map contents cost in proportion to their entries:
/// the conntrack tables (up to 524,288 entries each) only when someone looks at them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tables {
    /// Every prog array as a tail-call graph.
    pub tailcalls: bool,
    /// Services, identities, endpoints, policy and metrics.
    pub small: bool,
    /// The CT maps.
    pub conntrack: bool,
}

impl Tables {
    pub const ALL: Tables = Tables {
        tailcalls: true,
        small: true,
        conntrack: true,
    };
    pub const NONE: Tables = Tables {
        tailcalls: false,
        small: false,
        conntrack: false,
    };

    pub fn any(&self) -> bool {
        self.tailcalls || self.small || self.conntrack
    }
}

/// What a collection can reuse: the slots the maps phase already read, and facts of the
/// programs in tail-call slots from earlier refreshes (a loaded program never changes).
#[derive(Debug, Default)]
pub struct Reuse<'a> {
    /// Populated slots of prog arrays by map id (`maps::SlotTable`); arrays missing here are
    /// read slot by slot.
    pub slots: Option<&'a crate::bpf::maps::SlotTable>,
    pub progs: ProgFacts,
    /// What each pin under `tc/globals` is, from earlier refreshes.
    pub pins: PinMaps,
}

/// What each file under `<root>/tc/globals` is (a map's info, or not a map), by inode number,
/// kept between refreshes: a pin is opened again only when read. bpffs inode numbers come
/// from the kernel's global `get_next_ino()`, so a number names one pinned object (a
/// replaced pin is a new inode).
#[derive(Debug, Default)]
pub struct PinMaps {
    known: HashMap<u64, Option<libbpf_sys::bpf_map_info>>,
}

/// A pinned map's descriptor, opened when first used (a refresh reads few of the pinned maps
/// it lists) and checked to still be the map the pin named when it was listed.
pub(crate) struct PinFd {
    path: PathBuf,
    /// The map's info when it was listed: the pin must still name this map.
    info: libbpf_sys::bpf_map_info,
    fd: std::cell::OnceCell<Result<OwnedFd, i32>>,
}

impl PinFd {
    fn opened(path: &Path, info: libbpf_sys::bpf_map_info, fd: OwnedFd) -> PinFd {
        let cell = std::cell::OnceCell::new();
        let _ = cell.set(Ok(fd));
        PinFd {
            path: path.to_path_buf(),
            info,
            fd: cell,
        }
    }

    fn later(path: &Path, info: libbpf_sys::bpf_map_info) -> PinFd {
        PinFd {
            path: path.to_path_buf(),
            info,
            fd: std::cell::OnceCell::new(),
        }
    }

    /// The descriptor (opened now if it was not yet).
    pub(crate) fn get(&self) -> std::io::Result<&OwnedFd> {
        let r = self.fd.get_or_init(|| self.open());
        r.as_ref()
            .map_err(|e| std::io::Error::from_raw_os_error(*e))
    }

    /// Open the pin read-only; `ESTALE` when it no longer names the map it was listed as
    /// (the pin was replaced: a program or another map).
    fn open(&self) -> Result<OwnedFd, i32> {
        use std::os::fd::FromRawFd;
        let c = std::ffi::CString::new(self.path.as_os_str().as_encoded_bytes())
            .map_err(|_| libc::EINVAL)?;
        let opts = libbpf_sys::bpf_obj_get_opts {
            sz: std::mem::size_of::<libbpf_sys::bpf_obj_get_opts>() as _,
            file_flags: libbpf_sys::BPF_F_RDONLY,
            ..Default::default()
        };
        // SAFETY: c is NUL-terminated, opts is sized and initialised.
        let fd = unsafe { libbpf_sys::bpf_obj_get_opts(c.as_ptr(), &opts) };
        if fd < 0 {
            // Program pins reject BPF_F_RDONLY: not a map any more.
            return Err(if -fd == libc::ENOENT {
                libc::ENOENT
            } else {
                libc::ESTALE
            });
        }
        // SAFETY: a fresh fd owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut now = libbpf_sys::bpf_map_info::default();
        // SAFETY: bpf_map_info has no buffer pointers; for a non-map object the kernel fills
        // another info layout, which the comparison below rejects.
        unsafe { crate::bpf::sys::info_by_fd(&fd, &mut now) }
            .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
        let k = &self.info;
        let same = (
            now.id,
            now.type_,
            now.key_size,
            now.value_size,
            now.max_entries,
        ) == (k.id, k.type_, k.key_size, k.value_size, k.max_entries);
        if same {
            Ok(fd)
        } else {
            Err(libc::ESTALE)
        }
    }
}

/// Kernel name, map ids and tail-call sites of programs by id, kept between refreshes.
#[derive(Debug, Default)]
pub struct ProgFacts {
    facts: HashMap<u32, ProgFact>,
}

#[derive(Debug, Clone)]
struct ProgFact {
    kernel_name: String,
    map_ids: Vec<u32>,
    sites: Vec<crate::bpf::tail_sites::Site>,
}

/// `DPSCOPE_CILIUM_CLOCK=ktime|jiffies|jiffies:<HZ>` overrides clock detection.
fn clock_from_env() -> Option<ClockMode> {
    let v = std::env::var("DPSCOPE_CILIUM_CLOCK").ok()?;
    parse_clock(&v)
}

pub fn parse_clock(v: &str) -> Option<ClockMode> {
    match v.split_once(':') {
        None if v == "ktime" => Some(ClockMode::Ktime),
        None if v == "jiffies" => Some(ClockMode::Jiffies { hz: 0 }),
        Some(("jiffies", hz)) => hz.parse().ok().map(|hz| ClockMode::Jiffies { hz }),
        _ => None,
    }
}

/// Collect every Cilium pane from the maps pinned under `roots` (plus every prog array in
/// `maps` for tail calls).
pub fn collect(
    roots: &[PathBuf],
    programs: &[Program],
    maps: &[MapInfo],
    attachments: &[Attachment],
) -> Collected {
    collect_with(roots, programs, maps, attachments, &Options::default())
}

struct Found {
    /// Index of the bpffs root it was found under.
    root: usize,
    name: String,
    path: PathBuf,
    fd: PinFd,
    info: libbpf_sys::bpf_map_info,
    lookup: Lookup,
}

const CILIUM_PANES: [PaneId; 6] = [
    PaneId::Services,
    PaneId::Conntrack,
    PaneId::Identities,
    PaneId::Endpoints,
    PaneId::Policy,
    PaneId::Metrics,
];

pub fn collect_with(
    roots: &[PathBuf],
    programs: &[Program],
    maps: &[MapInfo],
    attachments: &[Attachment],
    opts: &Options,
) -> Collected {
    collect_reusing(
        roots,
        programs,
        maps,
        attachments,
        opts,
        &mut Reuse::default(),
    )
}

/// [`collect_with`], reusing what this refresh and earlier ones already read.
pub fn collect_reusing(
    roots: &[PathBuf],
    programs: &[Program],
    maps: &[MapInfo],
    attachments: &[Attachment],
    opts: &Options,
    reuse: &mut Reuse,
) -> Collected {
    let mut c = Collected::default();
    let found = scan_roots_cached(roots, &mut c.warnings, Some(&mut reuse.pins));
    let searched = roots
        .iter()
        .map(|r| r.join("tc/globals").display().to_string())
        .collect::<Vec<_>>()
        .join(", ");

    let detected = layout::detect(&evidence(found.iter()));
    // Each root on its own too: during an upgrade two releases' maps sit side by side.
    let root_layouts: Vec<Option<Layout>> = (0..roots.len())
        .map(|i| layout::detect(&evidence(found.iter().filter(|f| f.root == i))).map(|d| d.0))
        .collect();
    c.layout = detected
        .as_ref()
        .map(|(l, why)| format!("{} ({why})", l.label()));
    // Sizes match but nothing tells the release apart: decode as the newest and say so.
    let assumed = detected.is_none();
    let (lay, lay_label) = match &detected {
        Some((l, _)) => (*l, l.label().to_string()),
        None => (
            Layout::Main,
            format!(
                "{} (assumed: no map tells the release)",
                Layout::Main.label()
            ),
        ),
    };

    let cilium_found = found.iter().any(|f| f.lookup != Lookup::NotCilium);
    if opts.tables.tailcalls {
        c.tailcalls = collect_tailcalls(
            &found,
            programs,
            maps,
            attachments,
            &root_layouts,
            reuse,
            &mut c.warnings,
        );
    }
    if !cilium_found {
        let reason = format!("no Cilium maps found under {searched}");
        for pane in CILIUM_PANES {
            c.unavailable.push(Unavailable {
                pane: pane.name().into(),
                reason: reason.clone(),
            });
        }
        if c.tailcalls.is_empty() && opts.tables.tailcalls {
            c.unavailable.push(Unavailable {
                pane: "tailcalls".into(),
                reason: format!("{reason}, and no prog_array maps are loaded"),
            });
        }
        return c;
    }

    let now = if opts.tables.conntrack {
        now(&found, lay, opts)
    } else {
        Now {
            mode: ClockMode::Ktime,
            mono_s: 0,
            jiffies: None,
        }
    };
    let mut by_kind: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut svc_entries: Vec<(bool, lb::SvcKey, lb::SvcValue)> = Vec::new();
    let mut backends: HashMap<u32, lb::Backend> = HashMap::new();
    let mut policy_rows: Vec<(PolicyEntry, policy::StatsKey)> = Vec::new();
    let mut stats: HashMap<policy::StatsKey, (u64, u64)> = HashMap::new();
    let mut have_stats = false;

    for f in &found {
        let kind = match &f.lookup {
            Lookup::Known(k) => *k,
            Lookup::Mismatch(k) => {
                c.warnings.push(format!(
                    "{}: key {} B / value {} B match no known Cilium layout; showing raw entries",
                    f.name, f.info.key_size, f.info.value_size
                ));
                raw_entries(f, *k, opts.cap.min(10_000), &mut c);
                *by_kind.entry(k.pane()).or_default() += 1;
                continue;
            }
            Lookup::NotCilium => continue,
        };
        if matches!(kind, MapKind::Calls | MapKind::NodeMapV2) {
            continue;
        }
        *by_kind.entry(kind.pane()).or_default() += 1;
        if let MapKind::Ct { v6 } = kind {
            if !opts.tables.conntrack {
                continue;
            }
            // The decoder's static label unless the release was assumed.
            let label = assumed.then(|| Word::from(lay_label.as_str()));
            let ct = CtRead {
                v6,
                layout: lay,
                label: label.as_ref(),
                now: &now,
                cap: opts.cap,
            };
            read_ct(f, &ct, maps, &mut c);
            continue;
        }
        if !opts.tables.small {
            continue;
        }
        let dump = match f.fd.get().and_then(|fd| read::dump(fd, &f.info, opts.cap)) {
            Ok(d) => d,
            Err(e) => {
                c.warnings
                    .push(format!("{}: cannot read: {e}", f.path.display()));
                continue;
            }
        };
        if dump.truncated {
            c.warnings.push(format!(
                "{}: showing {} of {} entries (cap)",
                f.name,
                dump.len(),
                map_total(maps, f).map_or_else(|| "more".into(), |n| n.to_string())
            ));
        }
        let mut errors = 0usize;
        let mut first_err = None;
        let mut note = |r: Result<(), bytes::DecodeError>| {
            if let Err(e) = r {
                errors += 1;
                first_err.get_or_insert(e.to_string());
            }
        };
        for (k, v) in dump.iter() {
            match kind {
                MapKind::Services { v6 } => note(
                    lb::decode_svc_key(k, v6)
                        .and_then(|sk| Ok((sk, lb::decode_svc_value(v, lay)?)))
                        .map(|(sk, sv)| svc_entries.push((v6, sk, sv))),
                ),
                MapKind::Backends { v6 } => note(lb::decode_backend(k, v, v6, lay).map(|b| {
                    backends.insert(b.id, b);
                })),
                MapKind::Ipcache => note(ipcache::decode_entry(k, v, lay).map(|mut e| {
                    e.layout = Some(lay_label.clone());
                    c.identities.push(e)
                })),
                MapKind::Lxc => note(lxc::decode_entry(k, v, lay).map(|mut e| {
                    e.layout = Some(lay_label.clone());
                    c.endpoints.push(e)
                })),
                MapKind::Policy { v2 } => {
                    let ep = policy::endpoint_id_from_name(&f.name).unwrap_or(0);
                    match policy::ValueLayout::pick(v2, f.info.value_size) {
                        Some(pl) => note(
                            policy::decode_entry(ep, k, v, pl).map(|row| policy_rows.push(row)),
                        ),
                        None => note(Err(bytes::invalid("policy", "no layout"))),
                    }
                }
                MapKind::PolicyStats => {
                    have_stats = true;
                    note(policy::decode_stats_key(k).and_then(|sk| {
                        let (p, b) = policy::decode_stats_value(v)?;
                        let e = stats.entry(sk).or_insert((0, 0));
                        e.0 = e.0.wrapping_add(p);
                        e.1 = e.1.wrapping_add(b);
                        Ok(())
                    }))
                }
                MapKind::Metrics => note(metrics::decode_entry(k, v, lay).map(|mut e| {
                    e.layout = Some(lay_label.clone());
                    c.metrics.push(e)
                })),
                MapKind::Ct { .. } | MapKind::Calls | MapKind::NodeMapV2 => {}
            }
        }
        if errors > 0 {
            c.warnings.push(format!(
                "{}: {errors} entries could not be decoded (first: {})",
                f.name,
                first_err.unwrap_or_default()
            ));
        }
    }

    // The tables were reserved for the maps' sizes: give back what the entries did not use.
    c.conntrack.shrink_to_fit();

    // Services: v4 and v6 separately (frontend keys differ in family anyway).
    for v6 in [false, true] {
        let e: Vec<(lb::SvcKey, lb::SvcValue)> = svc_entries
            .iter()
            .filter(|x| x.0 == v6)
            .map(|x| (x.1.clone(), x.2.clone()))
            .collect();
        let mut s = lb::build_services(&e, &backends, lay);
        for svc in &mut s {
            svc.layout = Some(lay_label.clone());
        }
        c.services.extend(s);
    }
    if have_stats || lay >= Layout::V1_18 {
        policy::apply_stats(&mut policy_rows, &stats);
    }
    c.policy = policy_rows.into_iter().map(|r| r.0).collect();
    c.policy.sort_by(policy::cli_order);
    c.metrics.sort_by(|a, b| {
        (&a.reason_name, &a.direction, a.line, &a.file).cmp(&(
            &b.reason_name,
            &b.direction,
            b.line,
            &b.file,
        ))
    });

    for (pane, what) in [
        ("services", "cilium_lb{4,6}_services_v2"),
        (
            "conntrack",
            "cilium_ct{4,6}_global / cilium_ct_any{4,6}_global",
        ),
        ("identities", "cilium_ipcache / cilium_ipcache_v2"),
        ("endpoints", "cilium_lxc"),
        ("policy", "cilium_policy_NNNNN / cilium_policy_v2_NNNNN"),
        ("metrics", "cilium_metrics"),
    ] {
        if !by_kind.contains_key(pane) {
            c.unavailable.push(Unavailable {
                pane: pane.into(),
                reason: format!("no {what} map found under {searched}"),
            });
        }
    }
    c
}

/// Entries in the map as the snapshot's map list counted them, if it did.
fn map_total(maps: &[MapInfo], f: &Found) -> Option<u64> {
    maps.iter()
        .find(|m| m.id == f.info.id)
        .and_then(|m| m.entries)
}

/// How to decode one CT map.
struct CtRead<'a> {
    v6: bool,
    layout: Layout,
    /// Layout label for every entry when the release was assumed (else the decoder's own).
    label: Option<&'a Word>,
    now: &'a Now,
    cap: usize,
}

/// Decode a CT map into `c.conntrack` while it is read: entries go from the kernel's batch
/// buffers straight into the table, which is reserved once for the map's size (a table grown
/// by doubling would copy itself and peak at twice its size).
fn read_ct(f: &Found, ct: &CtRead, maps: &[MapInfo], c: &mut Collected) {
    let table = ct_table_name(f.name.trim_start_matches("cilium_"));
    let expected = map_total(maps, f).map_or(f.info.max_entries as usize, |n| n as usize);
    let before = c.conntrack.len();
    c.conntrack.reserve_exact(expected.min(ct.cap));
    let mut errors = 0usize;
    let mut first_err = None;
    let rows = &mut c.conntrack;
    let walk = f.fd.get().and_then(|fd| {
        read::for_each(
            fd,
            &f.info,
            ct.cap,
            &mut |k, v| match conntrack::decode_entry(&table, k, v, ct.v6, ct.layout, ct.now) {
                Ok(mut e) => {
                    if e.protocol != Word::ANY {
                        if let Some(l) = ct.label {
                            e.layout = Some(l.clone());
                        }
                        rows.push(e);
                    }
                }
                Err(e) => {
                    errors += 1;
                    first_err.get_or_insert_with(|| e.to_string());
                }
            },
        )
    });
    let walk = match walk {
        Ok(w) => w,
        Err(e) => {
            // A walk that failed part way shows nothing rather than an arbitrary part.
            c.conntrack.truncate(before);
            c.warnings
                .push(format!("{}: cannot read: {e}", f.path.display()));
            return;
        }
    };
    if walk.truncated {
        let total = map_total(maps, f);
        c.warnings.push(format!(
            "{}: showing {} of {} entries (cap)",
            f.name,
            walk.len,
            total.map_or_else(|| "more".into(), |n| n.to_string())
        ));
        *c.ct_total.get_or_insert(0) += total.unwrap_or(walk.len as u64);
    }
    if errors > 0 {
        c.warnings.push(format!(
            "{}: {errors} entries could not be decoded (first: {})",
            f.name,
            first_err.unwrap_or_default()
        ));
    }
}

/// What a set of pinned maps says about the release (layout::detect's input).
fn evidence<'a>(found: impl Iterator<Item = &'a Found>) -> layout::Evidence {
    let mut ev = layout::Evidence::default();
    for f in found {
        match &f.lookup {
            Lookup::Known(MapKind::Policy { v2: false })
            | Lookup::Mismatch(MapKind::Policy { v2: false }) => {
                ev.policy_v1_value = Some(f.info.value_size)
            }
            Lookup::Known(MapKind::Policy { v2: true })
            | Lookup::Mismatch(MapKind::Policy { v2: true }) => {
                ev.policy_v2_value = Some(f.info.value_size)
            }
            Lookup::Known(MapKind::Ipcache) => {
                if f.info.value_size == 24 {
                    ev.has_ipcache_v2 = true
                } else {
                    ev.has_ipcache_v1 = true
                }
            }
            Lookup::Known(MapKind::PolicyStats) => ev.has_policystats = true,
            Lookup::Known(MapKind::NodeMapV2) => ev.has_node_map_v2 = true,
            Lookup::Known(MapKind::Calls) if f.name.starts_with("cilium_calls_") => {
                ev.call_sizes.push(f.info.max_entries)
            }
            _ => {}
        }
    }
    ev
}

fn scan_roots(roots: &[PathBuf], warnings: &mut Vec<String>) -> Vec<Found> {
    scan_roots_cached(roots, warnings, None)
}

/// Cilium's pinned maps under each root's `tc/globals`. With `cache`, a pin seen in an
/// earlier refresh (same inode) is not opened: its info is kept and its descriptor is opened
/// when the map is read.
fn scan_roots_cached(
    roots: &[PathBuf],
    warnings: &mut Vec<String>,
    mut cache: Option<&mut PinMaps>,
) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    let mut seen_ids = std::collections::HashSet::new();
    let mut seen_inos = std::collections::HashSet::new();
    for (root_index, root) in roots.iter().enumerate() {
        let dir = root.join("tc/globals");
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<(PathBuf, u64)> = rd
            .filter_map(|e| {
                let e = e.ok()?;
                Some((e.path(), std::os::unix::fs::DirEntryExt::ino(&e)))
            })
            .collect();
        paths.sort();
        for (path, ino) in paths {
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_string)
            else {
                continue;
            };
            seen_inos.insert(ino);
            let kept = cache.as_ref().and_then(|c| c.known.get(&ino).copied());
            let (fd, info) = match kept {
                Some(Some(info)) => (PinFd::later(&path, info), info),
                Some(None) => continue,
                None => match read::open_pinned(&path) {
                    Ok(read::Pinned::Map(fd, info)) => {
                        if let Some(c) = cache.as_deref_mut() {
                            c.known.insert(ino, Some(info));
                        }
                        (PinFd::opened(&path, info, fd), info)
                    }
                    Ok(read::Pinned::Other) => {
                        if let Some(c) = cache.as_deref_mut() {
                            c.known.insert(ino, None);
                        }
                        continue;
                    }
                    Err(e) => {
                        warnings.push(format!("{}: {e}", path.display()));
                        continue;
                    }
                },
            };
            // The same map pinned under two roots (bind mounts) is read once.
            if !seen_ids.insert(info.id) {
                continue;
            }
            let lookup = registry::lookup(&name, info.type_, info.key_size, info.value_size);
            out.push(Found {
                root: root_index,
                name,
                path,
                fd,
                info,
                lookup,
            });
        }
    }
    if let Some(c) = cache {
        c.known.retain(|ino, _| seen_inos.contains(ino));
    }
    out
}

fn mono_secs() -> u64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map_or(0, |ts| ts.tv_sec().max(0) as u64)
}

/// Current jiffies from the `timestamp` line of /proc/schedstat.
fn jiffies_now() -> Option<u64> {
    let t = std::fs::read_to_string("/proc/schedstat").ok()?;
    t.lines()
        .find_map(|l| l.strip_prefix("timestamp "))
        .and_then(|v| v.trim().parse().ok())
}

/// "Now" for CT expiry: configured clock, else detected from a sample of lifetimes.
fn now(found: &[Found], lay: Layout, opts: &Options) -> Now {
    let mono_s = mono_secs();
    let jiffies = jiffies_now();
    let mode = match opts.clock {
        Some(ClockMode::Jiffies { hz: 0 }) => ClockMode::Jiffies {
            hz: conntrack::guess_hz(jiffies.unwrap_or(0), mono_s),
        },
        Some(m) => m,
        None => {
            let mut sample = Vec::new();
            for f in found {
                if matches!(f.lookup, Lookup::Known(MapKind::Ct { .. })) {
                    if let Ok(d) = f.fd.get().and_then(|fd| read::dump(fd, &f.info, 256)) {
                        sample.extend(
                            d.iter()
                                .filter(|(_, v)| v.len() == 56)
                                .map(|(_, v)| bytes::le32(v, 32)),
                        );
                    }
                }
            }
            let _ = lay;
            conntrack::detect_clock(&sample, mono_s, jiffies)
        }
    };
    Now {
        mode,
        mono_s,
        jiffies,
    }
}

/// Entries of a map whose name is Cilium's but whose sizes match no layout: shown raw.
fn raw_entries(f: &Found, kind: MapKind, cap: usize, c: &mut Collected) {
    let Ok(d) = f.fd.get().and_then(|fd| read::dump(fd, &f.info, cap)) else {
        return;
    };
    if d.truncated {
        c.warnings.push(format!(
            "{}: showing the first {} raw entries",
            f.name,
            d.len()
        ));
    }
    let label = Some(format!(
        "layout unknown (key {} B, value {} B)",
        f.info.key_size, f.info.value_size
    ));
    for (k, v) in d.iter() {
        let raw = Some(format!("key={} value={}", bytes::hex(k), bytes::hex(v)));
        match kind {
            MapKind::Services { .. } | MapKind::Backends { .. } => c.services.push(Service {
                frontend: f.name.clone(),
                layout: label.clone(),
                raw,
                ..Default::default()
            }),
            MapKind::Ct { .. } => c.conntrack.push(CtEntry {
                table: ct_table_name(f.name.trim_start_matches("cilium_")),
                layout: label.clone().map(Into::into),
                raw: raw.map(Into::into),
                ..Default::default()
            }),
            MapKind::Ipcache => c.identities.push(IdentityEntry {
                layout: label.clone(),
                raw,
                ..Default::default()
            }),
            MapKind::Lxc => c.endpoints.push(Endpoint {
                layout: label.clone(),
                raw,
                ..Default::default()
            }),
            MapKind::Policy { .. } | MapKind::PolicyStats => c.policy.push(PolicyEntry {
                endpoint_id: policy::endpoint_id_from_name(&f.name).unwrap_or(0),
                layout: label.clone(),
                raw,
                ..Default::default()
            }),
            MapKind::Metrics => c.metrics.push(MetricEntry {
                layout: label.clone(),
                raw,
                ..Default::default()
            }),
            MapKind::Calls | MapKind::NodeMapV2 => {}
        }
    }
}

fn collect_tailcalls(
    found: &[Found],
    programs: &[Program],
    maps: &[MapInfo],
    attachments: &[Attachment],
    root_layouts: &[Option<Layout>],
    reuse: &mut Reuse,
    warnings: &mut Vec<String>,
) -> Vec<TailCallMap> {
    let shared = reuse.slots;
    // Each array's slots are read once per refresh: the maps phase's, else slot by slot.
    let slots_of = |id: u32, fd: &PinFd, max: u32| match shared.and_then(|t| t.get(&id)) {
        Some(s) => s.clone(),
        None => fd
            .get()
            .map(|fd| crate::bpf::maps::id_slots(fd, max))
            .unwrap_or_default(),
    };
    let mut arrays: BTreeMap<u32, tailcall::ProgArray> = BTreeMap::new();
    // Pinned under tc/globals: full Cilium names from the pin path.
    for f in found {
        if f.info.type_ == libbpf_sys::BPF_MAP_TYPE_PROG_ARRAY {
            arrays.insert(
                f.info.id,
                tailcall::ProgArray {
                    map_id: f.info.id,
                    name: f.name.clone(),
                    max_entries: f.info.max_entries,
                    pinned: Some(f.path.display().to_string()),
                    slots: slots_of(f.info.id, &f.fd, f.info.max_entries),
                    root_layout: root_layouts.get(f.root).copied().flatten(),
                },
            );
        }
    }
    // Every other prog array the node has, by id.
    for m in maps.iter().filter(|m| m.map_type == "prog_array") {
        if arrays.contains_key(&m.id) {
            continue;
        }
        let slots = match shared.and_then(|t| t.get(&m.id)) {
            Some(s) => s.clone(),
            None => match crate::bpf::sys::fd_by_id(crate::bpf::sys::ObjKind::Map, m.id) {
                Ok(fd) => crate::bpf::maps::id_slots(&fd, m.max_entries),
                Err(e) => {
                    if e.raw_os_error() != Some(libc::ENOENT) {
                        warnings.push(format!("prog array {}: {e}", m.id));
                    }
                    continue;
                }
            },
        };
        let name = m
            .pinned
            .first()
            .and_then(|p| Path::new(p).file_name())
            .and_then(|n| n.to_str())
            .map(str::to_string)
            .unwrap_or_else(|| m.name.clone());
        arrays.insert(
            m.id,
            tailcall::ProgArray {
                map_id: m.id,
                name,
                max_entries: m.max_entries,
                pinned: m.pinned.first().cloned(),
                slots,
                root_layout: None,
            },
        );
    }
    if arrays.is_empty() {
        reuse.progs.facts.clear();
        return Vec::new();
    }
    let arrays: Vec<tailcall::ProgArray> = arrays.into_values().collect();
    let array_ids: std::collections::HashSet<u32> = arrays.iter().map(|a| a.map_id).collect();
    // Programs in slots that the snapshot does not list (or lists without map ids).
    let known: HashMap<u32, &Program> = programs.iter().map(|p| (p.id, p)).collect();
    let mut extra = tailcall::Extra::default();
    let mut wanted: Vec<u32> = arrays
        .iter()
        .flat_map(|a| a.slots.iter().map(|s| s.1))
        .collect();
    wanted.extend(
        programs
            .iter()
            .filter(|p| p.map_ids.iter().any(|m| array_ids.contains(m)))
            .map(|p| p.id),
    );
    wanted.sort_unstable();
    wanted.dedup();
    // Facts of programs no longer wanted are dropped; new ones are read once.
    let cache = &mut reuse.progs.facts;
    cache.retain(|id, _| wanted.binary_search(id).is_ok());
    for id in wanted {
        let fact = match cache.get(&id) {
            Some(f) => f.clone(),
            None => match read::prog_by_id(id, true) {
                Ok(d) => {
                    let f = ProgFact {
                        sites: crate::bpf::tail_sites::sites(&d.xlated),
                        kernel_name: d.kernel_name,
                        map_ids: d.map_ids,
                    };
                    cache.insert(id, f.clone());
                    f
                }
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
                Err(e) => {
                    warnings.push(format!("program {id}: {e}"));
                    continue;
                }
            },
        };
        if !fact.sites.is_empty() {
            extra.sites.insert(id, fact.sites);
        }
        let missing_maps = known.get(&id).is_none_or(|p| p.map_ids.is_empty());
        if missing_maps {
            let name = known
                .get(&id)
                .map(|p| p.name.clone())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| fact.kernel_name.clone());
            extra.programs.insert(
                id,
                tailcall::ProgNames {
                    name,
                    kernel_name: fact.kernel_name,
                    map_ids: fact.map_ids,
                },
            );
        }
    }
    extra.endpoints = config_endpoints(&arrays, programs, &extra.programs);
    // Programs given with map ids win; others come from `extra`.
    let listed: Vec<Program> = programs
        .iter()
        .filter(|p| !extra.programs.contains_key(&p.id))
        .cloned()
        .collect();
    tailcall::build(&arrays, &listed, attachments, &extra)
}

/// Endpoint ids of call arrays whose name does not hold one whole (unpinned, kernel name cut
/// at 15 characters: `cilium_calls_01` may be endpoint 1717): from the config of the
/// programs that use the array from outside it (Cilium's `LXC_ID`, `__config_endpoint_id`).
fn config_endpoints(
    arrays: &[tailcall::ProgArray],
    programs: &[Program],
    extra: &HashMap<u32, tailcall::ProgNames>,
) -> HashMap<u32, (u32, String)> {
    let mut out = HashMap::new();
    let in_slots: std::collections::HashSet<u32> = arrays
        .iter()
        .flat_map(|a| a.slots.iter().map(|s| s.1))
        .collect();
    let mut btfs = crate::bpf::btf_cache::KernelBtf::new();
    for a in arrays {
        let needs = a.pinned.is_none()
            && matches!(
                tailcall::calls_object(&a.name),
                Some("bpf_lxc" | "custom calls" | "bpf_host (host endpoint)")
            )
            && (a.name.len() >= 15 || tailcall::endpoint_from_name(&a.name).is_none());
        if !needs {
            continue;
        }
        let mut owners: Vec<(u32, &str, &[u32])> = programs
            .iter()
            .filter(|p| !extra.contains_key(&p.id))
            .map(|p| {
                let n = if p.name.is_empty() {
                    &p.kernel_name
                } else {
                    &p.name
                };
                (p.id, n.as_str(), p.map_ids.as_slice())
            })
            .chain(
                extra
                    .iter()
                    .map(|(id, n)| (*id, n.name.as_str(), n.map_ids.as_slice())),
            )
            .filter(|(id, _, maps)| maps.contains(&a.map_id) && !in_slots.contains(id))
            .collect();
        owners.sort_by_key(|o| o.0);
        for (id, name, maps) in owners {
            let var = crate::bpf::global_data::find_uint(
                maps,
                crate::bpf::global_data::ENDPOINT_ID_VARS,
                &mut btfs,
            );
            if let Some(v) = var.filter(|v| v.value != 0) {
                if let Ok(ep) = u32::try_from(v.value) {
                    out.insert(a.map_id, (ep, format!("{} of {name} #{id}", v.name)));
                    break;
                }
            }
        }
    }
    out
}

/// `ct4_global` and friends: shared words, so no entry holds a copy of its table's name.
fn ct_table_name(t: &str) -> Word {
    Word::from(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_option_parses() {
        assert_eq!(parse_clock("ktime"), Some(ClockMode::Ktime));
        assert_eq!(
            parse_clock("jiffies:250"),
            Some(ClockMode::Jiffies { hz: 250 })
        );
        assert_eq!(parse_clock("jiffies"), Some(ClockMode::Jiffies { hz: 0 }));
        assert_eq!(parse_clock("nope"), None);
        assert_eq!(parse_clock("jiffies:x"), None);
    }

    #[test]
    fn no_roots_means_every_pane_is_unavailable() {
        let dir = std::env::temp_dir().join(format!("dpscope-nocilium-{}", std::process::id()));
        let c = collect(std::slice::from_ref(&dir), &[], &[], &[]);
        for pane in CILIUM_PANES.iter().chain([PaneId::Tailcalls].iter()) {
            let u = c
                .unavailable
                .iter()
                .find(|u| u.pane == pane.name())
                .unwrap();
            assert!(
                u.reason.starts_with("no Cilium maps found under "),
                "{}",
                u.reason
            );
            assert!(u
                .reason
                .contains(&dir.join("tc/globals").display().to_string()));
        }
        assert!(c.services.is_empty() && c.tailcalls.is_empty());
    }
}
