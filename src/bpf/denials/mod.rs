//! LSM denials: what the kernel refused, who asked, and which security module said no.
//!
//! Two kernel-side modes, chosen per `Config::probe_enabled`:
//! * `lsm` (probes/denials_lsm.bpf.c): fexit programs on the `bpf_lsm_<hook>` functions that
//!   see the final verdict of the BPF LSM programs on each hook (only where `bpf` is in
//!   /sys/kernel/security/lsm). Not `lsm/*` observers: the trampoline stops at the first BPF LSM
//!   program that denies, so an `lsm/*` program attached after it never sees the denial;
//! * `syscall_denials` (probes/denials_syscalls.bpf.c): the fallback, syscall enter/exit
//!   tracepoints that see every EPERM/EACCES whatever module refused it.
//!
//! Both aggregate in the kernel per (hook, tgid, comm, target). The optional audit listener
//! (`audit`) names the module from AVC/AppArmor/Landlock audit records (`attribution`).

pub mod attribution;
pub mod audit;
pub mod lsm;
pub mod record;
pub mod syscalls;
#[cfg(feature = "vmtest")]
pub mod vmtest;

use crate::bpf::attach::links::CgroupCache;
use crate::bpf::collector::{clocks, rfc3339_from_ns, Config};
use crate::model::{Denial, LinkInfo, ProbeStatus, Snapshot, Unavailable};
use libbpf_rs::{Link, MapCore, MapFlags, Object, ObjectBuilder};
use std::os::fd::AsFd;

/// Rows read per collection at most (the kernel map holds 10240).
pub const MAX_ROWS: usize = 10240;

/// One loaded denial object with its links. Field order matters: links drop first.
pub struct Loaded {
    _links: Vec<Link>,
    obj: Object,
    pub prog_ids: Vec<u32>,
    /// Programs attached (by name) and the ones that failed to attach, with why.
    pub attached: Vec<String>,
    pub failed: Vec<String>,
}

impl Loaded {
    /// Open `bytes` with only the programs `keep` accepts set to load.
    fn open_only(bytes: &[u8], keep: &dyn Fn(&str) -> bool) -> Result<Object, String> {
        let mut open = ObjectBuilder::default()
            .open_memory(bytes)
            .map_err(|e| format!("open: {e}"))?;
        for mut p in open.progs_mut() {
            let name = p.name().to_string_lossy().into_owned();
            p.set_autoload(keep(&name));
        }
        open.load().map_err(|e| format!("load: {e}"))
    }

    /// Load `bytes` and attach every program; an error when nothing at all attaches. When the
    /// whole object is refused, each program is tried alone and the ones this kernel accepts
    /// are kept (a hook or helper missing on an older kernel costs one program, not all).
    pub fn load(bytes: &[u8]) -> Result<Loaded, String> {
        let mut failed = Vec::new();
        let obj = match Self::open_only(bytes, &|_| true) {
            Ok(o) => o,
            Err(whole) => {
                let names: Vec<String> = ObjectBuilder::default()
                    .open_memory(bytes)
                    .map_err(|e| format!("open: {e}"))?
                    .progs()
                    .map(|p| p.name().to_string_lossy().into_owned())
                    .collect();
                let mut ok = Vec::new();
                for n in &names {
                    match Self::open_only(bytes, &|x| x == n) {
                        Ok(_) => ok.push(n.clone()),
                        Err(e) => failed.push(format!("{n}: {e}")),
                    }
                }
                if ok.is_empty() {
                    return Err(whole);
                }
                Self::open_only(bytes, &|x| ok.iter().any(|o| o == x))?
            }
        };
        let mut links = Vec::new();
        let mut prog_ids = Vec::new();
        let mut attached = Vec::new();
        for prog in obj.progs_mut() {
            if !prog.autoload() {
                continue;
            }
            let name = prog.name().to_string_lossy().into_owned();
            prog_ids.push(crate::bpf::iters::prog_id_of(prog.as_fd()));
            match prog.attach() {
                Ok(l) => {
                    links.push(l);
                    attached.push(name);
                }
                Err(e) => failed.push(format!("{name}: {e}")),
            }
        }
        if links.is_empty() {
            return Err(format!("no program attached ({})", failed.join("; ")));
        }
        Ok(Loaded {
            _links: links,
            obj,
            prog_ids,
            attached,
            failed,
        })
    }

    /// Every aggregated row in the kernel map.
    pub fn read(&self) -> Result<Vec<record::Record>, String> {
        let map = self
            .obj
            .maps()
            .find(|m| m.name() == "denials")
            .ok_or_else(|| "object has no denials map".to_string())?;
        let mut out = Vec::new();
        for key in map.keys().take(MAX_ROWS) {
            if let Ok(Some(val)) = map.lookup(&key, MapFlags::ANY) {
                if let Some(r) = record::parse(&key, &val) {
                    out.push(r);
                }
            }
        }
        Ok(out)
    }

    /// (calls seen, denials recorded) summed over CPUs: proof the programs ran.
    pub fn counters(&self) -> (u64, u64) {
        let Some(map) = self.obj.maps().find(|m| m.name() == "denial_stats") else {
            return (0, 0);
        };
        let sum = |idx: u32| -> u64 {
            map.lookup_percpu(&idx.to_ne_bytes(), MapFlags::ANY)
                .ok()
                .flatten()
                .map(|cpus| {
                    cpus.iter()
                        .filter(|v| v.len() >= 8)
                        .map(|v| crate::bytes::ne_u64(v, 0))
                        .sum()
                })
                .unwrap_or(0)
        };
        (sum(0), sum(1))
    }
}

/// Which kernel-side mode is running.
enum Mode {
    Lsm(lsm::LsmProbe),
    Syscalls(syscalls::SyscallProbe),
    Off,
}

/// The denial probes of one collector: created in `Collector::new`, read on every collection.
pub struct DenialProbes {
    mode: Mode,
    /// Status of `lsm` and `syscall_denials` as decided at start.
    statuses: Vec<ProbeStatus>,
    /// Why the pane is empty when no mode runs.
    unavailable: Option<String>,
    audit: audit::AuditState,
    joiner: attribution::Joiner,
    cgroups: CgroupCache,
}

/// Whether `bpf` is among the active LSMs.
pub fn bpf_lsm_active(lsms: &[String]) -> bool {
    lsms.iter().any(|l| l == "bpf")
}

fn active_lsms() -> Vec<String> {
    std::fs::read_to_string("/sys/kernel/security/lsm")
        .map(|s| {
            s.trim()
                .split(',')
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn status(name: &str, loaded: bool, attached: bool, detail: String) -> ProbeStatus {
    ProbeStatus {
        name: name.into(),
        loaded,
        attached,
        detail,
        ..Default::default()
    }
}

impl DenialProbes {
    pub fn new(cfg: &Config) -> DenialProbes {
        let lsms = active_lsms();
        let mut statuses = Vec::new();
        let mut mode = Mode::Off;
        let mut lsm_why: Option<String> = None;
        if !cfg.probe_enabled("lsm") {
            lsm_why = Some(cfg.not_selected_why());
        } else if lsms.is_empty() {
            lsm_why =
                Some("active LSMs unknown (securityfs not mounted): BPF LSM not tried".into());
        } else if !bpf_lsm_active(&lsms) {
            lsm_why = Some(format!(
                "BPF LSM not active (/sys/kernel/security/lsm = {}; boot with lsm=...,bpf)",
                lsms.join(",")
            ));
        } else {
            match lsm::LsmProbe::load() {
                Ok(p) => {
                    statuses.push(status(
                        "lsm",
                        true,
                        true,
                        format!(
                            "BPF LSM observer on {} (fexit on bpf_lsm_* hooks: sees the verdict of the BPF LSM programs){}",
                            p.loaded.attached.join(", "),
                            if p.loaded.failed.is_empty() {
                                String::new()
                            } else {
                                format!("; not attached: {}", p.loaded.failed.join("; "))
                            }
                        ),
                    ));
                    mode = Mode::Lsm(p);
                }
                Err(e) => lsm_why = Some(format!("BPF LSM programs refused: {e}")),
            }
        }
        if let Some(why) = &lsm_why {
            statuses.push(status("lsm", false, false, why.clone()));
        }
        if matches!(mode, Mode::Off) {
            if cfg.probe_enabled("syscall_denials") {
                match syscalls::SyscallProbe::load() {
                    Ok(p) => {
                        statuses.push(status(
                            "syscall_denials",
                            true,
                            true,
                            format!(
                                "fallback: EPERM/EACCES at syscall exit ({}){}",
                                p.syscalls().join(", "),
                                if p.loaded.failed.is_empty() {
                                    String::new()
                                } else {
                                    format!("; not attached: {}", p.loaded.failed.join("; "))
                                }
                            ),
                        ));
                        mode = Mode::Syscalls(p);
                    }
                    Err(e) => statuses.push(status(
                        "syscall_denials",
                        false,
                        false,
                        format!("syscall tracepoints refused: {e}"),
                    )),
                }
            } else {
                statuses.push(status(
                    "syscall_denials",
                    false,
                    false,
                    cfg.not_selected_why(),
                ));
            }
        } else {
            statuses.push(status(
                "syscall_denials",
                false,
                false,
                "not needed: the BPF LSM probe is loaded".into(),
            ));
        }
        let unavailable = match &mode {
            Mode::Off => Some(
                statuses
                    .iter()
                    .map(|s| format!("{}: {}", s.name, s.detail))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            _ => None,
        };
        let audit = if matches!(mode, Mode::Off) {
            audit::AuditState::Off("no denial probe loaded".into())
        } else if !cfg.probe_enabled("audit") {
            audit::AuditState::Off(cfg.not_selected_why())
        } else {
            audit::AuditState::start()
        };
        DenialProbes {
            mode,
            statuses,
            unavailable,
            audit,
            joiner: attribution::Joiner::default(),
            cgroups: CgroupCache::new(),
        }
    }

    /// Kernel ids of the programs this loaded (dpscope's own).
    pub fn own_prog_ids(&self) -> Vec<u32> {
        match &self.mode {
            Mode::Lsm(p) => p.loaded.prog_ids.clone(),
            Mode::Syscalls(p) => p.loaded.prog_ids.clone(),
            Mode::Off => vec![],
        }
    }

    /// `lsm` or `syscall_exit` mode name, None when off.
    pub fn source(&self) -> Option<&'static str> {
        match &self.mode {
            Mode::Lsm(_) => Some("bpf_lsm"),
            Mode::Syscalls(_) => Some("syscall_exit"),
            Mode::Off => None,
        }
    }

    /// One line for the Node pane: which mode runs and why.
    pub fn mode_note(&self) -> String {
        let why_not_lsm = self
            .statuses
            .iter()
            .find(|s| s.name == "lsm" && !s.loaded)
            .map(|s| s.detail.clone())
            .unwrap_or_default();
        match &self.mode {
            Mode::Lsm(_) => "BPF LSM mode: fexit observers on the bpf_lsm_* hooks see what BPF LSM programs refused (an earlier LSM's denial ends the hook before BPF LSM runs: --probe syscall_denials sees every module's)".into(),
            Mode::Syscalls(_) => format!("syscall-exit fallback (sees every module's EPERM/EACCES); BPF LSM probe off: {why_not_lsm}"),
            Mode::Off => format!(
                "off: {}",
                self.unavailable.clone().unwrap_or_default()
            ),
        }
    }

    /// Fill `snap.denials`, the probe statuses and, when off, the pane's unavailable reason.
    /// Needs `snap.links` (the likely deniers) already collected.
    pub fn collect(&mut self, snap: &mut Snapshot) {
        let (loaded, source) = match &self.mode {
            Mode::Lsm(p) => (Some(&p.loaded), "bpf_lsm"),
            Mode::Syscalls(p) => (Some(&p.loaded), "syscall_exit"),
            Mode::Off => (None, ""),
        };
        let mut statuses = self.statuses.clone();
        if let Some(l) = loaded {
            let (calls, denied) = l.counters();
            if let Some(s) = statuses.iter_mut().find(|s| s.loaded) {
                s.detail
                    .push_str(&format!("; {calls} calls seen, {denied} denials counted"));
                // The Node pane's cost row (ns/run × runs/s) reads these programs' stats.
                s.prog_ids = l.prog_ids.clone();
            }
            match l.read() {
                Ok(recs) => {
                    let own = self.own_prog_ids();
                    let (_, boot, real) = clocks();
                    let mut rows = Vec::with_capacity(recs.len());
                    for r in recs {
                        rows.push(to_denial(
                            &r,
                            source,
                            boot,
                            real,
                            &snap.links,
                            &own,
                            &mut |id| self.cgroups.path(id),
                        ));
                    }
                    self.joiner.add(self.audit.drain());
                    self.joiner.attribute(&mut rows);
                    snap.denials = rows;
                }
                Err(e) => snap
                    .node
                    .warnings
                    .push(format!("denials: cannot read the kernel map: {e}")),
            }
        }
        statuses.push(status(
            "audit",
            self.audit.running(),
            self.audit.running(),
            self.audit.detail(),
        ));
        snap.node.denials_mode = self.mode_note();
        snap.node.probes.extend(statuses);
        if let Some(why) = &self.unavailable {
            snap.node.unavailable.push(Unavailable {
                pane: "denials".into(),
                reason: why.clone(),
            });
        }
    }
}

/// BPF LSM programs on `hook` (from tracing links of attach type lsm_mac), minus `own`.
pub fn lsm_programs_on(hook: &str, links: &[LinkInfo], own: &[u32]) -> Vec<String> {
    let target = format!("bpf_lsm_{hook}");
    let mut v: Vec<String> = links
        .iter()
        .filter(|l| {
            l.link_type == "tracing"
                && l.target == target
                && (l.attach_type == "lsm_mac" || l.attach_type.is_empty())
                && !own.contains(&l.prog_id)
        })
        .map(|l| {
            if l.prog_name.is_empty() {
                format!("prog {}", l.prog_id)
            } else {
                format!("{} (prog {})", l.prog_name, l.prog_id)
            }
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

fn to_denial(
    r: &record::Record,
    source: &str,
    boot: u64,
    real: i128,
    links: &[LinkInfo],
    own: &[u32],
    cgroup_path: &mut dyn FnMut(u64) -> Option<String>,
) -> Denial {
    let wall = |ns: u64| rfc3339_from_ns(real - boot.saturating_sub(ns) as i128);
    let hook = record::hook_name(r.hook);
    let cgroup = (r.cgroup_id != 0)
        .then(|| cgroup_path(r.cgroup_id).unwrap_or_else(|| format!("cgroup id {}", r.cgroup_id)));
    let lsm_programs = if source == "bpf_lsm" {
        lsm_programs_on(hook, links, own)
    } else {
        vec![]
    };
    let denied_by = attribution::bpf_lsm_denier(source, &lsm_programs);
    Denial {
        hook: hook.into(),
        pid: r.tgid,
        comm: r.comm.clone(),
        container: cgroup.as_deref().and_then(attribution::container_of),
        cgroup,
        target: record::target_text(r.hook, r.kind, &r.target),
        errno: r.errno,
        source: source.into(),
        count: r.count,
        first_seen: wall(r.first_ns),
        last_seen: wall(r.last_ns),
        syscall: (r.syscall != 0 || source == "syscall_exit")
            .then(|| record::syscall_name(r.syscall).map(str::to_string))
            .flatten(),
        denied_by,
        lsm_programs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_become_rows_with_wall_times_names_and_deniers() {
        let mut target = vec![0u8; record::TARGET_LEN];
        target[..10].copy_from_slice(b"/etc/issue");
        let r = record::Record {
            hook: 2,
            tgid: 40,
            comm: "cat".into(),
            count: 3,
            first_ns: 1_000_000_000,
            last_ns: 5_000_000_000,
            cgroup_id: 9,
            tid: 41,
            errno: 13,
            syscall: 257,
            kind: record::TARGET_PATH,
            target,
        };
        // boot = 10 s, realtime = 1_700_000_010 s: first seen 9 s before, last 5 s before.
        let real = 1_700_000_010_000_000_000i128;
        let d = to_denial(
            &r,
            "syscall_exit",
            10_000_000_000,
            real,
            &[],
            &[],
            &mut |id| {
                (id == 9).then(|| "/system.slice/docker-0123456789abcdef0123.scope".to_string())
            },
        );
        assert_eq!(
            (d.hook.as_str(), d.pid, d.comm.as_str()),
            ("file_open", 40, "cat")
        );
        assert_eq!((d.target.as_str(), d.errno, d.count), ("/etc/issue", 13, 3));
        assert_eq!(d.first_seen, "2023-11-14T22:13:21Z");
        assert_eq!(d.last_seen, "2023-11-14T22:13:25Z");
        #[cfg(target_arch = "x86_64")]
        assert_eq!(d.syscall.as_deref(), Some("openat"));
        assert_eq!(d.container.as_deref(), Some("container 0123456789ab"));
        assert_eq!(d.denied_by, None);
        assert!(d.lsm_programs.is_empty());

        let links = vec![LinkInfo {
            id: 1,
            link_type: "tracing".into(),
            prog_id: 7,
            prog_name: "deny_open".into(),
            target: "bpf_lsm_file_open".into(),
            attach_type: "lsm_mac".into(),
        }];
        let d = to_denial(
            &r,
            "bpf_lsm",
            10_000_000_000,
            real,
            &links,
            &[],
            &mut |_| None,
        );
        assert_eq!(d.cgroup.as_deref(), Some("cgroup id 9"));
        assert_eq!(
            d.denied_by.as_deref(),
            Some("BPF LSM program deny_open (prog 7)")
        );
    }

    #[test]
    fn lsm_programs_are_the_tracing_links_on_the_hook() {
        let l = |id: u32, name: &str, target: &str| LinkInfo {
            id,
            link_type: "tracing".into(),
            prog_id: id,
            prog_name: name.into(),
            target: target.into(),
            attach_type: "lsm_mac".into(),
        };
        let links = vec![
            l(1, "deny_connect", "bpf_lsm_socket_connect"),
            l(2, "dp_lsm_connect", "bpf_lsm_socket_connect"),
            l(3, "other", "bpf_lsm_file_open"),
            LinkInfo {
                attach_type: "trace_fexit".into(),
                ..l(4, "someone_observing", "bpf_lsm_socket_connect")
            },
        ];
        assert_eq!(
            lsm_programs_on("socket_connect", &links, &[2]),
            vec!["deny_connect (prog 1)".to_string()]
        );
        assert!(lsm_programs_on("bpf", &links, &[]).is_empty());
        assert!(bpf_lsm_active(&["landlock".into(), "bpf".into()]));
        assert!(!bpf_lsm_active(&["landlock".into()]));
    }
}
