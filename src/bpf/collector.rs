//! The collector: builds `Snapshot`s on its own thread and answers detail requests.
//!
//! It owns every cache that makes a refresh cheap (immutable program facts, map counts, BTF,
//! kallsyms) and the BPF stats fd. It never touches the terminal; the app only sees snapshots.

use super::{
    attach, bpffs, denials, kallsyms, mapdump, maps, node, procs, programs, stats, symbolizer,
    xlated,
};
use crate::model::{CtEntry, Details, PaneId, Snapshot, Unavailable, SCHEMA};
use std::path::PathBuf;
use std::sync::mpsc as std_mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the app may ask of the collector. The collector never receives UI state otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Collect now instead of waiting for the interval.
    Refresh,
    /// Capture the disassembly of this program into the following snapshots' `details`.
    ProgramDetail(u32),
    /// Capture a page of this map's entries into the following snapshots' `details`.
    MapPage {
        map_id: u32,
        offset: u64,
        limit: usize,
    },
    /// Stop capturing details (the user went back).
    ClearDetails,
    /// This pane is open now: read what it needs (the CT maps only while conntrack is open).
    Pane(PaneId),
    /// Pause or resume periodic collection.
    Pause(bool),
    /// Append every following snapshot to a recording at `path` (created, with its directory).
    StartRecording {
        path: PathBuf,
        compact: bool,
    },
    StopRecording,
}

/// Message from the collector thread.
#[derive(Debug)]
pub enum Update {
    Snapshot(Box<Snapshot>),
    /// A fatal collector error (the app shows it and keeps the last snapshot).
    Error(String),
    /// The live recording (`R`) started, wrote a line, stopped or failed.
    Recording(RecordingStatus),
}

/// State of the live recording, as the collector thread reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingStatus {
    pub path: PathBuf,
    pub lines: usize,
    /// Still appending (false: stopped by the user or by an error).
    pub active: bool,
    pub error: Option<String>,
}

/// The live recording, owned by the collector thread: snapshots are written where they are
/// made, so the UI thread never serialises (or clones) a big snapshot.
struct LiveRecording {
    path: PathBuf,
    w: crate::model::recording::Writer<
        crate::sanitize::JsonSafe<std::io::BufWriter<std::fs::File>>,
    >,
}

impl LiveRecording {
    fn start(path: &std::path::Path, compact: bool) -> Result<LiveRecording, String> {
        // Created new in the checked dump directory, under sudo as the invoking user.
        let file = crate::safe_fs::create_in_dump_dir(path)?;
        Ok(LiveRecording {
            path: path.to_path_buf(),
            w: crate::model::recording::Writer::new(
                crate::sanitize::JsonSafe::new(std::io::BufWriter::new(file)),
                compact,
            ),
        })
    }

    fn status(&self, active: bool, error: Option<String>) -> RecordingStatus {
        RecordingStatus {
            path: self.path.clone(),
            lines: self.w.lines(),
            active,
            error,
        }
    }
}

/// How the collector runs. Built by `main` from the command line.
#[derive(Debug, Clone)]
pub struct Config {
    /// bpffs roots searched for pinned objects.
    pub bpffs_roots: Vec<PathBuf>,
    /// Enable BPF run-time stats with the `BPF_ENABLE_STATS` fd while running.
    pub stats: bool,
    /// Live refresh interval.
    pub interval: Duration,
    /// Capture program disassembly and a first page of every map (for `snapshot --details`).
    pub all_details: bool,
    /// Read every program's instructions for the helpers/kfuncs it calls (one instruction
    /// fetch per new program, and a load of the kernel-side symbolizer to name the call
    /// targets; `show` of other panes skips it).
    pub program_calls: bool,
    /// Make the first collection cheap (no helper lists) so the first frame comes quickly;
    /// later collections fill the lists in.
    pub fast_first: bool,
    /// One collection and exit (`show`): nothing is kept for a next refresh (the program
    /// iterator, which only spares later refreshes, is not loaded).
    pub one_shot: bool,
    /// Load dpscope's own probes (`--no-probes` turns this off).
    pub probes: bool,
    /// Why `probes` is off when it was not `--no-probes` (`show PANE` of a pane that shows
    /// no probe data loads none); the Node pane prints it as the probes' reason.
    pub probes_off_why: Option<String>,
    /// Only these own probes (`--probe NAME`, repeatable); empty = all.
    pub only_probes: Vec<String>,
    /// Interfaces that get the tc flow probe (`--tc-iface`).
    pub tc_ifaces: Vec<String>,
    /// Interfaces that get the XDP counter probe (`--xdp-iface`), only where no XDP program is.
    pub xdp_ifaces: Vec<String>,
    /// What a collection reads beyond the object lists (`show PANE` reads only what it needs;
    /// the live UI follows the open pane with `Request::Pane`).
    pub want: Want,
}

/// What a collection reads beyond the lists of programs, maps, pins and attachments: map
/// contents cost in proportion to their entries, so each is read only when shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Want {
    /// Entry counts of every map (one read of dpscope's map iterator, which brings the
    /// fd arrays' slots along).
    pub map_counts: bool,
    /// Which processes hold which objects (programs', maps' and links' `pids`).
    pub owners: bool,
    /// Cilium's maps: tail-call graph, small tables, conntrack.
    pub cilium: super::cilium::Tables,
    /// The list of every program. Without it a collection reads only the programs the
    /// attachments name (`show attachments`), and the maps' users come from the program
    /// iterator (`show maps`): no descriptor per program.
    pub programs: bool,
    /// The list of maps (info and memory of every map).
    pub maps: bool,
    /// Pinned objects under the bpffs roots.
    pub pins: bool,
    /// Interface hooks and BPF links.
    pub attachments: bool,
}

impl Want {
    /// Everything (`snapshot`, `record`, export).
    pub const ALL: Want = Want {
        map_counts: true,
        owners: true,
        cilium: super::cilium::Tables::ALL,
        programs: true,
        maps: true,
        pins: true,
        attachments: true,
    };

    /// What `show PANE` prints and nothing else: `show node` reads no map contents.
    pub fn for_pane(p: PaneId) -> Want {
        use super::cilium::Tables;
        let none = Want {
            map_counts: false,
            owners: false,
            cilium: Tables::NONE,
            programs: true,
            maps: true,
            pins: true,
            attachments: true,
        };
        match p {
            // Programs carry their map ids and owners; no map, pin or hook is read.
            PaneId::Programs => Want {
                owners: true,
                maps: false,
                pins: false,
                attachments: false,
                ..none
            },
            // Hooks and links with their programs' names: only the attached programs are read,
            // and their loaders (owners) only when programs are stacked.
            PaneId::Attachments => Want {
                owners: false,
                programs: false,
                maps: false,
                pins: false,
                ..none
            },
            // Maps with counts, pin paths, users and owners (users from the program iterator:
            // no program is opened).
            PaneId::Maps => Want {
                map_counts: true,
                owners: true,
                programs: false,
                attachments: false,
                ..none
            },
            PaneId::Tailcalls => Want {
                map_counts: true,
                cilium: Tables {
                    tailcalls: true,
                    ..Tables::NONE
                },
                ..none
            },
            PaneId::Conntrack => Want {
                map_counts: true,
                cilium: Tables {
                    conntrack: true,
                    ..Tables::NONE
                },
                ..none
            },
            PaneId::Services
            | PaneId::Identities
            | PaneId::Endpoints
            | PaneId::Policy
            | PaneId::Metrics => Want {
                cilium: Tables {
                    small: true,
                    ..Tables::NONE
                },
                ..none
            },
            _ => none,
        }
    }

    /// The live UI with pane `open`: every list and small table (they cost milliseconds), the
    /// big tables only while their pane is open.
    pub fn live(open: PaneId) -> Want {
        Want {
            cilium: super::cilium::Tables {
                conntrack: open == PaneId::Conntrack,
                ..super::cilium::Tables::ALL
            },
            ..Want::ALL
        }
    }
}

/// Iterator reads made by the thread that loaded the iterators (`show maps`), for the
/// collection to use instead of reading again.
#[derive(Default)]
struct EarlyReads {
    scan: Option<Result<super::iters::MapScan, String>>,
    owners: Option<Result<super::iters::Owners, String>>,
    prog_maps: Option<Result<super::iters::ProgMaps, String>>,
}

/// A conntrack re-read costs this many times its own time in waiting, at least: the table's
/// age grows to a few seconds on a full node, and the live UI stays under a tenth of a core.
const CT_REREAD_FACTOR: u32 = 20;

/// While a recording (`R`) runs, the CT table is re-read at most this often (pane open or
/// not; `r` reads it at once): each new table is written to the recording whole, about 250 MB
/// of JSON and a second of one core on a full node (docs/benchmarks.md).
pub const RECORDING_CT_EVERY: Duration = Duration::from_secs(30);

/// The CT table as last read, passed on to snapshots until it is read again.
struct CtKept {
    table: Arc<Vec<CtEntry>>,
    total: Option<u64>,
    read_ns: u64,
    read_at: Instant,
    /// What the read and decode took.
    cost: Duration,
}

/// The wait before the next collection: the interval, or, when a collection took longer, the
/// collection's own time (so at most half the time is spent collecting; no pile-up).
pub fn next_wait(interval: Duration, took: Duration) -> (Duration, bool) {
    if took > interval {
        (took, true)
    } else {
        (interval, false)
    }
}

impl Config {
    /// Whether the own probe `name` should be loaded.
    pub fn probe_enabled(&self, name: &str) -> bool {
        self.probes && (self.only_probes.is_empty() || self.only_probes.iter().any(|p| p == name))
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bpffs_roots: default_bpffs_roots(),
            stats: true,
            interval: Duration::from_secs(1),
            all_details: false,
            program_calls: true,
            fast_first: false,
            one_shot: false,
            probes: true,
            probes_off_why: None,
            only_probes: vec![],
            tc_ifaces: vec![],
            xdp_ifaces: vec![],
            want: Want::ALL,
        }
    }
}

impl Config {
    /// Why a probe that `--probe`/`--no-probes`/`show` left out is not loaded.
    pub fn not_selected_why(&self) -> String {
        if self.probes {
            "not selected (--probe / --no-probes)".into()
        } else {
            self.probes_off_why
                .clone()
                .unwrap_or_else(|| "own probes disabled with --no-probes".into())
        }
    }
}

pub fn default_bpffs_roots() -> Vec<PathBuf> {
    vec![
        PathBuf::from("/sys/fs/bpf"),
        PathBuf::from("/run/cilium/bpffs"),
    ]
}

/// Entries captured per map page.
pub const MAP_PAGE: usize = 200;

pub struct Collector {
    cfg: Config,
    programs: programs::ProgramCache,
    maps: maps::MapCache,
    _stats: Option<stats::StatsGuard>,
    stats_state: stats::StatsState,
    detail_prog: Option<u32>,
    detail_map: Option<(u32, u64, usize)>,
    collections: u64,
    /// dpscope's iterators (map counts, owners), loaded at the first collection.
    iters: Option<super::iters::Iters>,
    iters_error: Option<String>,
    /// dpscope's own probes.
    probes: Option<super::probes::Probes>,
    /// Facts of the programs in tail-call slots (read once per program).
    tail_progs: super::cilium::ProgFacts,
    /// What each pin under `tc/globals` is (opened again only when read).
    cilium_pins: super::cilium::PinMaps,
    /// What collections read now (`Config::want`, then the open pane's).
    want: Want,
    /// What each pinned file is, by inode (pins are opened once).
    pin_cache: bpffs::PinCache,
    /// The CT table between re-reads (only while wanted).
    ct: Option<CtKept>,
    /// The next collection re-reads the CT maps whatever their age (`r`, a pane switch).
    ct_force: bool,
    /// A live recording (`R`) is appending: its lines carry the CT table whatever pane is
    /// open (re-read at most every [`RECORDING_CT_EVERY`]).
    recording: bool,
    /// LSM denial probes (BPF LSM or the syscall-exit fallback) and the audit listener.
    denials: Option<denials::DenialProbes>,
}

/// Missing privileges for live collection, named.
pub fn check_privileges() -> Result<(), String> {
    if nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    // Not root: probe the one call every pane needs.
    match super::sys::next_id(super::sys::ObjKind::Prog, 0) {
        Ok(_) => Ok(()),
        Err(e) => Err(format!(
            "cannot enumerate BPF programs ({e}): run as root, or grant CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN (CAP_NET_ADMIN for attachments)"
        )),
    }
}

impl Collector {
    pub fn new(cfg: Config) -> Collector {
        let cfg_want = cfg.want;
        let (guard, state) = if stats::sysctl_enabled() {
            (None, stats::StatsState::Sysctl)
        } else if cfg.stats {
            match stats::StatsGuard::enable() {
                Ok(g) => (Some(g), stats::StatsState::Ours),
                Err(e) => (None, stats::StatsState::Off(e)),
            }
        } else {
            (
                None,
                stats::StatsState::Off("disabled with --no-stats".into()),
            )
        };
        // Own probes (each load parses the kernel BTF: ~100 ms or more) load now, so that they
        // observe while a one-shot command waits `--duration`; in live mode (`fast_first`) they
        // load after the first snapshot so the first frame is not held up.
        let (probes, denials) = if cfg.fast_first {
            (None, None)
        } else {
            (
                Some(super::probes::Probes::new(&cfg)),
                Some(denials::DenialProbes::new(&cfg)),
            )
        };
        Collector {
            denials,
            cfg,
            probes,
            programs: programs::ProgramCache::default(),
            maps: maps::MapCache::default(),
            _stats: guard,
            stats_state: state,
            detail_prog: None,
            detail_map: None,
            collections: 0,
            iters: None,
            iters_error: None,
            tail_progs: Default::default(),
            cilium_pins: Default::default(),
            want: cfg_want,
            ct: None,
            ct_force: false,
            recording: false,
            pin_cache: Default::default(),
        }
    }

    pub fn handle(&mut self, req: &Request) {
        match req {
            Request::ProgramDetail(id) => self.detail_prog = Some(*id),
            Request::MapPage {
                map_id,
                offset,
                limit,
            } => self.detail_map = Some((*map_id, *offset, *limit)),
            Request::ClearDetails => {
                self.detail_prog = None;
                self.detail_map = None;
            }
            Request::Pane(p) => {
                let want = Want::live(*p);
                if want.cilium.conntrack && !self.want.cilium.conntrack {
                    self.ct_force = true;
                }
                self.want = want;
            }
            Request::Refresh => self.ct_force = true,
            Request::Pause(_) | Request::StartRecording { .. } | Request::StopRecording => {}
        }
    }

    /// A live recording started or stopped: while it runs, every snapshot carries the CT
    /// table (read at once at the start, then at most every [`RECORDING_CT_EVERY`]).
    pub fn set_recording(&mut self, on: bool) {
        if on && !self.recording && !self.want.cilium.conntrack {
            self.ct_force = true;
        }
        self.recording = on;
    }

    /// One full collection.
    pub fn collect(&mut self) -> Snapshot {
        let started = Instant::now();
        let mut warnings = Vec::new();
        let mut snap = Snapshot::empty();
        snap.node = node::collect();
        if !std::path::Path::new("/sys/kernel/security/lsm").exists() {
            warnings.push(
                "active LSMs unknown: securityfs is not mounted at /sys/kernel/security".into(),
            );
        }

        // Helper lists of the programs not seen before: their call targets are named at once,
        // in the kernel (super::symbolizer, loaded for that and dropped), not from
        // /proc/kallsyms (~70 ms of kernel time), which stays the fallback.
        let mut calls_error: Option<String> = None;
        let mut calls =
            |progs: &[(u32, Vec<u8>)]| -> std::collections::HashMap<u32, (Vec<String>, Vec<String>)> {
                match xlated::programs_calls(progs, &mut |offsets| {
                    symbolizer::call_table(offsets).map(|(t, _)| t)
                }) {
                    Ok(found) => found
                        .into_iter()
                        .map(|(id, c)| (id, (c.helpers, c.kfuncs)))
                        .collect(),
                    Err(e) => {
                        calls_error = Some(e);
                        Default::default()
                    }
                }
            };
        let mut phases = Vec::new();
        let mut lap = started;
        let mut phase = |name: &str| {
            phases.push(crate::model::Phase {
                name: name.to_string(),
                micros: lap.elapsed().as_micros() as u64,
            });
            lap = Instant::now();
        };
        phase("node");
        let mut want = self.want;
        // The table's age between re-reads: slower while recording, where each new table is
        // written whole (hundreds of MB of JSON on a full node), pane open or not.
        let ct_every = if self.recording {
            self.cfg.interval.max(RECORDING_CT_EVERY)
        } else {
            self.cfg.interval
        };
        want.cilium.conntrack |= self.recording;
        let later = self.collections > 0 || !self.cfg.fast_first;
        // `show maps` names each map's users from the program iterator, opening no program.
        let users_from_iter = want.maps && !want.programs;
        let need_iters = want.map_counts || want.owners || users_from_iter;
        // Loaded before the programs are listed, so that the first snapshot already lists
        // them (as dpscope's own): a recording's first and last snapshot differ only in what
        // changed on the node.
        let mut pins_early = None;
        let mut early = EarlyReads::default();
        if need_iters && self.iters.is_none() && self.iters_error.is_none() {
            let parts = super::iters::Parts {
                counts: want.map_counts,
                owners: want.owners,
                progs: !self.cfg.one_shot,
                prog_maps: users_from_iter,
            };
            // `show maps` lists no program, so nothing it prints depends on when dpscope's own
            // programs appear: the kernel verifies the iterators on another thread (most of
            // their load) while this one opens every map and pin.
            let parallel = self.cfg.one_shot && users_from_iter && want.pins;
            // That thread also makes the iterators' reads, which follow the load.
            let loading = parallel
                .then(|| {
                    std::thread::Builder::new()
                        .name("dpscope-iters".into())
                        .spawn(move || {
                            super::iters::Iters::load_parts(parts).map(|i| {
                                let reads = EarlyReads {
                                    scan: parts.counts.then(|| i.scan_maps()),
                                    owners: parts.owners.then(|| i.owners()),
                                    prog_maps: i.prog_maps(),
                                };
                                (i, reads)
                            })
                        })
                        .ok()
                })
                .flatten();
            let loaded = match loading {
                Some(h) => {
                    self.maps.prefetch();
                    pins_early = Some(bpffs::scan_cached(
                        &self.cfg.bpffs_roots,
                        &mut self.pin_cache,
                    ));
                    h.join()
                        .unwrap_or_else(|_| Err("the iterator load panicked".to_string()))
                        .map(|(i, reads)| {
                            early = reads;
                            i
                        })
                }
                None => super::iters::Iters::load_parts(parts),
            };
            match loaded {
                Ok(i) => self.iters = Some(i),
                Err(e) => self.iters_error = Some(e),
            }
        }
        phase("iterators");
        if later && self.probes.is_none() {
            // Always present once loaded: with --no-probes it loads nothing and reports every
            // probe as off.
            self.probes = Some(super::probes::Probes::new(&self.cfg));
            self.denials = Some(denials::DenialProbes::new(&self.cfg));
            phase("probes load");
        }
        let want_calls = self.cfg.program_calls && later;
        self.collections += 1;
        // One read of the program iterator once programs are known: a program seen before
        // needs no descriptor (a first collection opens every program anyway).
        let prog_stats = match self
            .iters
            .as_ref()
            .filter(|_| self.programs.is_warm())
            .and_then(|i| i.prog_stats())
        {
            Some(Ok(s)) => Some(s),
            Some(Err(e)) => {
                warnings.push(format!("program iterator: {e}"));
                None
            }
            None => None,
        };
        // Without the program list, only the attached programs are read: the hooks first.
        let mut hooks = (want.attachments && !want.programs).then(attach::Hooks::read);
        let mut progs = if want.programs {
            // Helper lists are named at the end (below).
            self.programs
                .list(want_calls, prog_stats.as_ref(), &mut warnings)
        } else if let Some(h) = &hooks {
            self.programs.collect_ids(&h.prog_ids(), &mut warnings)
        } else {
            Vec::new()
        };
        drop(prog_stats);
        phase("programs");
        // One read of the map iterator: hash counts and fd-array slots, shared below by the
        // map list and the tail-call graph.
        let scan = match early
            .scan
            .take()
            .filter(|_| want.map_counts && want.maps)
            .or_else(|| {
                self.iters
                    .as_ref()
                    .filter(|_| want.map_counts && want.maps)
                    .map(|i| i.scan_maps())
            }) {
            Some(Ok(s)) => Some(s),
            Some(Err(e)) => {
                warnings.push(format!("map-count iterator: {e}"));
                None
            }
            None => None,
        };
        let found = if want.maps {
            self.maps
                .collect(want.map_counts, scan.as_ref(), &mut warnings)
        } else {
            Default::default()
        };
        drop(scan);
        let slots = found.slots;
        let mut map_list = found.maps;
        phase("maps");
        let pins = match pins_early.take() {
            Some(p) => p,
            None if want.pins => bpffs::scan_cached(&self.cfg.bpffs_roots, &mut self.pin_cache),
            None => Default::default(),
        };
        warnings.extend(pins.warnings.iter().cloned());
        phase("pins");
        // One walk of /proc for this refresh, whoever needs it: owners here (when the
        // iterator cannot tell), namespaces and socket owners in the probes.
        let mut proc_pass = procs::Pass::default();
        // `show attachments` names the loaders only of stacked programs: the owner iterator is
        // loaded when a hook runs more than one program.
        let lazy_owners = !want.owners && hooks.as_ref().is_some_and(|h| h.stacked());
        if lazy_owners && self.iters.is_none() && self.iters_error.is_none() {
            let parts = super::iters::Parts {
                counts: false,
                owners: true,
                progs: false,
                prog_maps: false,
            };
            match super::iters::Iters::load_parts(parts) {
                Ok(i) => self.iters = Some(i),
                Err(e) => self.iters_error = Some(e),
            }
        }
        let owners = match early
            .owners
            .take()
            .or_else(|| self.iters.as_ref().map(|i| i.owners()))
        {
            _ if !want.owners && !lazy_owners => super::iters::Owners::default(),
            Some(Ok(o)) => o,
            Some(Err(e)) => {
                warnings.push(format!("owner iterator: {e}; walking /proc instead"));
                procs::owners(&mut proc_pass)
            }
            None => procs::owners(&mut proc_pass),
        };
        phase("owners");

        let mut own_progs: Vec<u32> = self
            .iters
            .as_ref()
            .map(|i| i.prog_ids.clone())
            .unwrap_or_default();
        if let Some(p) = &self.probes {
            own_progs.extend(p.prog_ids());
        }
        if let Some(d) = &self.denials {
            own_progs.extend(d.own_prog_ids());
        }
        let (mono, boot, real) = clocks();
        for p in &mut progs {
            if p.load_time_ns > 0 && p.load_time_ns <= boot {
                let wall = real - (boot - p.load_time_ns) as i128;
                p.load_time = Some(rfc3339_from_ns(wall));
            }
            p.pids = owners.progs.get(&p.id).cloned().unwrap_or_default();
            // dpscope's own programs are the ones it loaded, not everything this process holds
            // (tests and the demo run the collector inside the process that loaded fixtures).
            p.dpscope_owned = own_progs.contains(&p.id);
        }
        let mut users: std::collections::HashMap<u32, Vec<u32>> = Default::default();
        if users_from_iter {
            let read = match early
                .prog_maps
                .take()
                .or_else(|| self.iters.as_ref().and_then(|i| i.prog_maps()))
            {
                Some(Ok(m)) => Some(m),
                Some(Err(e)) => {
                    warnings.push(format!("program iterator: {e}"));
                    None
                }
                None => None,
            };
            // Without the iterator, from every program's info as the full list does.
            let read = read.unwrap_or_else(|| {
                self.programs
                    .collect(None, None, &mut warnings)
                    .into_iter()
                    .map(|p| (p.id, p.map_ids))
                    .collect()
            });
            for (prog, maps) in read {
                for m in maps {
                    users.entry(m).or_default().push(prog);
                }
            }
            for u in users.values_mut() {
                u.sort_unstable();
                u.dedup();
            }
        } else {
            for p in &progs {
                for m in &p.map_ids {
                    users.entry(*m).or_default().push(p.id);
                }
            }
        }
        for m in &mut map_list {
            if let Some(paths) = pins.maps.get(&m.id) {
                m.pinned = paths.clone();
                if let Some(base) = paths
                    .first()
                    .and_then(|p| std::path::Path::new(p).file_name())
                {
                    m.name = base.to_string_lossy().into_owned();
                }
            }
            m.prog_ids = users.remove(&m.id).unwrap_or_default();
            m.pids = owners.maps.get(&m.id).cloned().unwrap_or_default();
            m.dpscope_owned = (m.prog_ids.iter().all(|id| own_progs.contains(id))
                && !m.prog_ids.is_empty())
                || super::light::is_loader_map(m.id);
        }

        if want.attachments {
            let att = hooks
                .take()
                .unwrap_or_else(attach::Hooks::read)
                .finish(&progs);
            warnings.extend(att.warnings);
            snap.attachments = att.attachments;
            snap.links = att.links;
        }
        phase("attachments");
        if let Some(d) = &mut self.denials {
            d.collect(&mut snap);
        }
        phase("denials");

        // Cilium's pinned maps (and every prog_array as a tail-call graph).
        let mut reuse = super::cilium::Reuse {
            slots: want.map_counts.then_some(&slots),
            progs: std::mem::take(&mut self.tail_progs),
            pins: std::mem::take(&mut self.cilium_pins),
        };
        // The CT maps: read when wanted and the kept table is old enough (see
        // CT_REREAD_FACTOR), else the kept table is passed on; dropped when not wanted.
        let mut tables = want.cilium;
        if !tables.conntrack {
            self.ct = None;
        }
        let reread = tables.conntrack
            && (self.ct_force
                || self.ct.as_ref().is_none_or(|k| {
                    k.read_at.elapsed() >= ct_every.max(k.cost * CT_REREAD_FACTOR)
                }));
        tables.conntrack = reread;
        self.ct_force = false;
        let cil_started = Instant::now();
        // A pane that shows nothing of Cilium's (`show programs`) lists no pinned map.
        let cil = if want.cilium.any() {
            super::cilium::collect_reusing(
                &self.cfg.bpffs_roots,
                &progs,
                &map_list,
                &snap.attachments,
                &super::cilium::Options {
                    tables,
                    ..Default::default()
                },
                &mut reuse,
            )
        } else {
            Default::default()
        };
        self.tail_progs = reuse.progs;
        self.cilium_pins = reuse.pins;
        let (ct_table, ct_total, ct_read_ns) = if reread {
            let kept = CtKept {
                table: Arc::new(cil.conntrack),
                total: cil.ct_total,
                read_ns: mono,
                read_at: Instant::now(),
                cost: cil_started.elapsed(),
            };
            let out = (kept.table.clone(), kept.total, Some(kept.read_ns));
            self.ct = Some(kept);
            out
        } else {
            match &self.ct {
                Some(k) => (k.table.clone(), k.total, Some(k.read_ns)),
                None => (Arc::new(cil.conntrack), cil.ct_total, None),
            }
        };
        snap.tailcalls = cil.tailcalls;
        snap.services = cil.services;
        snap.conntrack = ct_table;
        snap.identities = cil.identities;
        snap.endpoints = cil.endpoints;
        snap.policy = cil.policy;
        snap.metrics = cil.metrics;
        if cil.layout.is_some() || ct_read_ns.is_some() {
            snap.cilium = Some(crate::model::CiliumInfo {
                layout: cil.layout.unwrap_or_default(),
                roots: cilium_roots(&self.cfg.bpffs_roots),
                ct_total,
                ct_read_ns,
            });
        }
        snap.node.unavailable.extend(cil.unavailable);
        warnings.extend(cil.warnings);
        phase("cilium");

        snap.details = self.details(&progs, &map_list);
        phase("details");
        // Helper lists last, once every object is listed: the symbolizer's maps outlive it
        // until a grace period of sleepable programs ends, and must not show up in this
        // snapshot's map list as somebody else's.
        if want_calls {
            self.programs.name_calls(&mut progs, &mut calls);
            phase("helper names");
        }
        snap.node.collect_phases = phases;
        snap.node.map_memory_bytes = map_list.iter().map(|m| m.memory_bytes).sum();
        snap.node.bpffs_roots = pins.roots_found.clone();
        match &self.stats_state {
            stats::StatsState::Ours => {
                snap.node.stats_enabled = true;
                snap.node.stats_source = "dpscope".into();
            }
            stats::StatsState::Sysctl => {
                snap.node.stats_enabled = true;
                snap.node.stats_source = "sysctl".into();
            }
            stats::StatsState::Off(why) => {
                snap.node.stats_enabled = false;
                snap.node.stats_source = why.clone();
            }
        }
        snap.node.probes.push(crate::model::ProbeStatus {
            name: "iterators".into(),
            loaded: self.iters.is_some(),
            attached: self.iters.is_some(),
            detail: match &self.iters_error {
                Some(e) => format!("{e}; counting map keys and walking /proc instead"),
                None => "bpf_map and task_file iterators: exact hash-map counts, prog-array and array-of-maps slots, and object owners in one read each".into(),
            },
            prog_ids: self
                .iters
                .as_ref()
                .map(|i| i.prog_ids.clone())
                .unwrap_or_default(),
            ..Default::default()
        });
        if let Some(e) = calls_error {
            warnings.push(format!(
                "kallsyms unavailable, helper names not resolved: {e}"
            ));
        }
        if want.pins && pins.roots_found.is_empty() {
            snap.node.unavailable.push(Unavailable {
                pane: "pins".into(),
                reason: format!(
                    "no bpffs mounted at {}",
                    self.cfg
                        .bpffs_roots
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        snap.programs = progs;
        snap.maps = map_list;
        if let Some(p) = &mut self.probes {
            p.collect_with(&mut snap, proc_pass);
        } else if self.cfg.probes {
            for pane in ["drops", "retransmits", "denials", "flows", "xdp_errors"] {
                snap.node.unavailable.push(Unavailable {
                    pane: pane.into(),
                    reason: "dpscope's probes are loading (next refresh)".into(),
                });
            }
        }
        snap.node.warnings = warnings;
        snap.node.interval_ms = self.cfg.interval.as_millis() as u64;
        let took = started.elapsed();
        snap.node.collect_ms = took.as_millis() as u64;
        let (wait, stretched) = next_wait(self.cfg.interval, took);
        snap.node.stretched_ms = stretched.then_some(wait.as_millis() as u64);
        snap.monotonic_ns = mono;
        snap.boottime_ns = boot;
        snap.taken_at = rfc3339_from_ns(real);
        snap.schema = SCHEMA.to_string();
        snap
    }

    fn details(
        &mut self,
        progs: &[crate::model::Program],
        map_list: &[crate::model::MapInfo],
    ) -> Details {
        let mut d = Details::default();
        let want_prog = |id: u32| self.cfg.all_details || self.detail_prog == Some(id);
        for p in progs.iter().filter(|p| want_prog(p.id)) {
            match syms_or_reason() {
                Ok(s) => d.programs.push(xlated::program_detail(p.id, s)),
                Err(why) => d.programs.push(crate::model::ProgramDetail {
                    id: p.id,
                    insns: vec![],
                    insns_unavailable: Some(why),
                }),
            }
        }
        if self.cfg.all_details {
            for m in map_list {
                d.maps.push(mapdump::dump_page(m.id, 0, MAP_PAGE));
            }
        } else if let Some((id, off, limit)) = self.detail_map {
            d.maps.push(mapdump::dump_page(id, off, limit));
        }
        d
    }
}

/// The bpffs roots that hold Cilium's `tc/globals` directory.
fn cilium_roots(roots: &[PathBuf]) -> Vec<String> {
    roots
        .iter()
        .filter(|r| r.join("tc/globals").is_dir())
        .map(|r| r.display().to_string())
        .collect()
}

/// Whether `snap` carries the CT table as read from the kernel (the live UI reads the CT maps
/// only while the Conntrack pane is open or a recording runs).
pub fn has_conntrack(snap: &Snapshot) -> bool {
    snap.cilium.as_ref().is_some_and(|c| c.ct_read_ns.is_some())
}

/// Complete a snapshot the live UI collected without the CT table (its pane closed) by reading
/// the CT maps under `roots` now, for a file that must carry everything (`Ctrl-s`). Returns
/// the entries added; a snapshot that has its table, or a node without CT maps, is left as
/// it is (its `node.unavailable` already says why). `ct_read_ns` is the time of this read,
/// after the snapshot's own time: the file says the table is newer than the rest.
pub fn add_conntrack(snap: &mut Snapshot, roots: &[PathBuf]) -> usize {
    use super::cilium::{self, Tables};
    if has_conntrack(snap) {
        return 0;
    }
    let cil = cilium::collect_with(
        roots,
        &[],
        &snap.maps,
        &[],
        &cilium::Options {
            tables: Tables {
                conntrack: true,
                ..Tables::NONE
            },
            ..Default::default()
        },
    );
    if cil.unavailable.iter().any(|u| u.pane == "conntrack") {
        return 0;
    }
    let (mono, _, _) = clocks();
    let n = cil.conntrack.len();
    snap.conntrack = Arc::new(cil.conntrack);
    let info = snap.cilium.get_or_insert_with(|| crate::model::CiliumInfo {
        layout: cil.layout.unwrap_or_default(),
        roots: cilium_roots(roots),
        ..Default::default()
    });
    info.ct_total = cil.ct_total;
    info.ct_read_ns = Some(mono);
    // The collection's own warnings (a map of unknown layout) are in the snapshot already.
    for w in cil.warnings {
        if !snap.node.warnings.contains(&w) {
            snap.node.warnings.push(w);
        }
    }
    n
}

/// Every kernel symbol, BPF programs' included (disassembly names subprograms).
fn syms_or_reason() -> Result<&'static kallsyms::Kallsyms, String> {
    available(kallsyms::Kallsyms::global())
}

fn available(k: &'static kallsyms::Kallsyms) -> Result<&'static kallsyms::Kallsyms, String> {
    match k.unavailable_reason() {
        None => Ok(k),
        Some(why) => Err(why.to_string()),
    }
}

/// (CLOCK_MONOTONIC ns, CLOCK_BOOTTIME ns, realtime ns since the epoch).
pub fn clocks() -> (u64, u64, i128) {
    use nix::time::{clock_gettime, ClockId};
    let ns = |c: ClockId| {
        clock_gettime(c)
            .map(|t| t.tv_sec() as i128 * 1_000_000_000 + t.tv_nsec() as i128)
            .unwrap_or(0)
    };
    (
        ns(ClockId::CLOCK_MONOTONIC) as u64,
        ns(ClockId::CLOCK_BOOTTIME) as u64,
        ns(ClockId::CLOCK_REALTIME),
    )
}

pub fn rfc3339_from_ns(ns: i128) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(ns)
        .ok()
        .and_then(|t| {
            t.replace_nanosecond(0)
                .ok()?
                .format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Run the collector on a dedicated thread: a snapshot every interval (unless paused), detail
/// requests answered with an immediate snapshot. Ends when the app drops its receiver.
pub fn spawn(
    cfg: Config,
) -> (
    tokio::sync::mpsc::Receiver<Update>,
    std_mpsc::Sender<Request>,
    std::thread::JoinHandle<()>,
) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Update>(2);
    let (req_tx, req_rx) = std_mpsc::channel::<Request>();
    let handle = std::thread::Builder::new()
        .name("dpscope-collector".into())
        .spawn(move || {
            let interval = cfg.interval;
            let mut c = Collector::new(cfg);
            let mut paused = false;
            let mut recording: Option<LiveRecording> = None;
            loop {
                let started = Instant::now();
                let snap = c.collect();
                let (wait_for, _) = next_wait(interval, started.elapsed());
                if let Some(r) = &mut recording {
                    let status = match r.w.write(&snap) {
                        Ok(()) => r.status(true, None),
                        Err(e) => {
                            let why = format!("writing {}: {e}", r.path.display());
                            let s = r.status(false, Some(why));
                            recording = None;
                            c.set_recording(false);
                            s
                        }
                    };
                    if tx.blocking_send(Update::Recording(status)).is_err() {
                        return;
                    }
                }
                if tx.blocking_send(Update::Snapshot(Box::new(snap))).is_err() {
                    return; // app gone
                }
                let deadline = Instant::now() + wait_for;
                // Wait for the interval, answering requests; a detail request collects at once.
                loop {
                    let wait = if paused {
                        Duration::from_secs(3600)
                    } else {
                        deadline.saturating_duration_since(Instant::now())
                    };
                    match req_rx.recv_timeout(wait) {
                        Ok(Request::Pause(p)) => paused = p,
                        Ok(Request::StartRecording { path, compact }) => {
                            match LiveRecording::start(&path, compact) {
                                // The first line is written by the collection that follows now.
                                Ok(r) => {
                                    recording = Some(r);
                                    c.set_recording(true);
                                    break;
                                }
                                Err(e) => {
                                    let status = RecordingStatus {
                                        path,
                                        lines: 0,
                                        active: false,
                                        error: Some(e),
                                    };
                                    if tx.blocking_send(Update::Recording(status)).is_err() {
                                        return;
                                    }
                                }
                            }
                        }
                        Ok(Request::StopRecording) => {
                            c.set_recording(false);
                            if let Some(r) = recording.take() {
                                let status = r.status(false, None);
                                drop(r);
                                if tx.blocking_send(Update::Recording(status)).is_err() {
                                    return;
                                }
                            }
                        }
                        Ok(req) => {
                            c.handle(&req);
                            break;
                        }
                        Err(std_mpsc::RecvTimeoutError::Timeout) => {
                            if !paused {
                                break;
                            }
                        }
                        Err(std_mpsc::RecvTimeoutError::Disconnected) => return,
                    }
                }
            }
        });
    let handle = match handle {
        Ok(h) => h,
        Err(e) => {
            // Could not start a thread: report through the channel from a fallback thread-less path.
            let (tx2, rx2) = tokio::sync::mpsc::channel::<Update>(1);
            let _ = tx2.try_send(Update::Error(format!("cannot start collector thread: {e}")));
            return (rx2, req_tx, std::thread::spawn(|| {}));
        }
    };
    (rx, req_tx, handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_collection_stretches_the_interval() {
        let s = Duration::from_secs(1);
        assert_eq!(next_wait(s, Duration::from_millis(30)), (s, false));
        assert_eq!(
            next_wait(s, Duration::from_millis(1700)),
            (Duration::from_millis(1700), true)
        );
    }

    #[test]
    fn each_pane_wants_only_its_own_reads() {
        let node = Want::for_pane(PaneId::Node);
        assert!(!node.map_counts && !node.owners && !node.cilium.any());
        assert!(node.maps && node.pins && node.attachments);
        let progs = Want::for_pane(PaneId::Programs);
        assert!(progs.owners && !progs.maps && !progs.pins && !progs.attachments);
        let att = Want::for_pane(PaneId::Attachments);
        // Owners only when programs are stacked: read lazily, not wanted up front.
        assert!(att.attachments && !att.owners && !att.maps && !att.pins);
        assert!(!Want::for_pane(PaneId::Maps).attachments);
        assert!(Want::for_pane(PaneId::Maps).map_counts);
        assert!(!Want::for_pane(PaneId::Maps).cilium.any());
        let ct = Want::for_pane(PaneId::Conntrack).cilium;
        assert!(ct.conntrack && !ct.small && !ct.tailcalls);
        assert!(Want::for_pane(PaneId::Tailcalls).cilium.tailcalls);
        assert!(!Want::live(PaneId::Programs).cilium.conntrack);
        assert!(Want::live(PaneId::Programs).cilium.small);
        assert_eq!(Want::live(PaneId::Conntrack), Want::ALL);
    }

    #[test]
    fn rfc3339_formatting() {
        assert_eq!(rfc3339_from_ns(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339_from_ns(1_700_000_000_123_456_789),
            "2023-11-14T22:13:20Z"
        );
    }
}
