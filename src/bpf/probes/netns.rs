//! Network namespaces by inode: where to find one (a /run/netns name or a process), running a
//! closure inside one on a short-lived thread (only that thread changes namespace), and
//! interface names per namespace.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// inode → a path that opens that namespace; cached, refreshed at most every few seconds.
#[derive(Debug, Default)]
pub struct Resolver {
    /// This refresh's walk of /proc (`begin`), shared with the socket owners of the
    /// retransmits probe.
    procs: crate::bpf::procs::Pass,
    paths: HashMap<u32, PathBuf>,
    /// Names from /run/netns (for display).
    names: HashMap<u32, String>,
    own: u32,
    scanned: Option<Instant>,
    /// (netns, ifindex) → shown name; dropped with every rescan (ifindexes get reused).
    ifname_cache: HashMap<(u32, u32), String>,
}

const RESCAN: Duration = Duration::from_secs(5);

/// Inode of the namespace file at `path`.
pub fn inode_of(path: &Path) -> Option<u32> {
    std::fs::metadata(path).ok().map(|m| m.ino() as u32)
}

/// Inode of the calling thread's network namespace.
pub fn current() -> u32 {
    inode_of(Path::new("/proc/thread-self/ns/net")).unwrap_or(0)
}

impl Resolver {
    /// Start a refresh with a fresh walk of /proc (see `begin`).
    pub fn refresh(&mut self) {
        self.begin(crate::bpf::procs::Pass::default());
    }

    /// Start a refresh: `procs` is this refresh's walk of /proc (perhaps already walked by
    /// the collector), used by every rescan until the next `begin`.
    pub fn begin(&mut self, procs: crate::bpf::procs::Pass) {
        self.procs = procs;
        self.rescan();
    }

    /// This refresh's walk of /proc.
    pub fn procs(&mut self) -> &mut crate::bpf::procs::Pass {
        &mut self.procs
    }

    /// Rescan when stale (cheap enough at one pass over /proc every few seconds).
    fn rescan(&mut self) {
        if self.scanned.is_some_and(|t| t.elapsed() < RESCAN) {
            return;
        }
        self.scanned = Some(Instant::now());
        self.own = current();
        self.ifname_cache.clear();
        self.paths.clear();
        self.names.clear();
        if let Ok(rd) = std::fs::read_dir("/run/netns") {
            for e in rd.flatten() {
                if let Some(ino) = inode_of(&e.path()) {
                    self.paths.insert(ino, e.path());
                    self.names
                        .insert(ino, e.file_name().to_string_lossy().into_owned());
                }
            }
        }
        for (p, ino) in self.procs.netns() {
            self.paths.entry(*ino).or_insert_with(|| p.clone());
        }
    }

    /// The namespace dpscope runs in.
    pub fn own(&self) -> u32 {
        self.own
    }

    pub fn name(&self, ino: u32) -> Option<&str> {
        self.names.get(&ino).map(|s| s.as_str())
    }

    pub fn path(&mut self, ino: u32) -> Option<PathBuf> {
        if !self.paths.contains_key(&ino) {
            // Unknown: rescan now (the /proc walk itself happens at most once a refresh).
            self.scanned = None;
            self.rescan();
        }
        self.paths.get(&ino).cloned()
    }

    /// Run `f` inside namespace `ino` (directly when it is ours). None when it cannot be entered.
    pub fn run_in<T: Send>(&mut self, ino: u32, f: impl FnOnce() -> T + Send) -> Option<T> {
        if ino == 0 || ino == self.own {
            return Some(f());
        }
        let path = self.path(ino)?;
        run_in_path(&path, f).ok()
    }

    /// `ifname` for (netns, ifindex) pairs, resolved one namespace at a time (one short thread
    /// per foreign namespace), cached until the next rescan.
    pub fn ifnames(&mut self, wanted: &[(u32, u32)]) -> HashMap<(u32, u32), String> {
        let mut out = HashMap::new();
        let mut by_ns: HashMap<u32, Vec<u32>> = HashMap::new();
        for key @ (ns, idx) in wanted {
            if *idx == 0 {
                continue;
            }
            match self.ifname_cache.get(key) {
                Some(n) => {
                    out.insert(*key, n.clone());
                }
                None => {
                    let v = by_ns.entry(*ns).or_default();
                    if !v.contains(idx) {
                        v.push(*idx);
                    }
                }
            }
        }
        for (ns, idxs) in by_ns {
            let names = self
                .run_in(ns, || {
                    idxs.iter().map(|i| (*i, if_name(*i))).collect::<Vec<_>>()
                })
                .unwrap_or_default();
            let prefix = if ns == 0 || ns == self.own {
                String::new()
            } else {
                match self.name(ns) {
                    Some(n) => format!("{n}/"),
                    None => format!("ns{ns}/"),
                }
            };
            for (i, n) in names {
                let shown = match n {
                    Some(n) => format!("{prefix}{n}"),
                    None => format!("{prefix}if{i}"),
                };
                self.ifname_cache.insert((ns, i), shown.clone());
                out.insert((ns, i), shown);
            }
        }
        out
    }
}

/// Run `f` on a new thread that first joins the network namespace at `path`.
pub fn run_in_path<T: Send>(path: &Path, f: impl FnOnce() -> T + Send) -> Result<T, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("open {}: {e}", path.display()))?;
    std::thread::scope(|s| {
        s.spawn(move || {
            // setns changes only this thread, which ends when f returns.
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
                .map_err(|e| format!("setns: {}", std::io::Error::from(e)))?;
            Ok(f())
        })
        .join()
        .map_err(|_| "thread inside the namespace panicked".to_string())?
    })
}

/// Interface name of an ifindex in the calling thread's namespace.
pub fn if_name(ifindex: u32) -> Option<String> {
    nix::net::if_::if_indextoname(ifindex)
        .ok()
        .map(|s| s.to_string_lossy().into_owned())
}

/// ifindex of an interface name in the calling thread's namespace.
pub fn if_index(name: &str) -> Option<u32> {
    // A name with an interior NUL is no interface (nix refuses it as EINVAL).
    let i = nix::net::if_::if_nametoindex(name).ok()?;
    (i != 0).then_some(i)
}
