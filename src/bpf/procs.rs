//! One walk of /proc per refresh, shared by everything that needs one in that refresh: which
//! processes hold BPF programs and maps open (`owners`, the fallback of dpscope's task_file
//! iterator), which process owns a socket (the retransmits probe) and where to open each
//! network namespace (the probes' namespace resolver).
//!
//! bpftool uses a BPF task_file iterator for the owners; the /proc walk needs no BPF program of
//! its own, works under any LSM that allows reading /proc, and degrades to "unknown" (empty
//! lists) when /proc is not readable. Only bpf anon-inode fds have their fdinfo read.
//! Processes that exit mid-walk are skipped silently.

use super::sys::parse_fdinfo_field;
use crate::model::ProcRef;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

pub use super::iters::Owners;

/// A BPF object fd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BpfFd {
    Prog,
    Map,
}

/// The fds of one process that dpscope looks at: BPF objects and sockets.
#[derive(Debug, Clone)]
pub struct ProcFds {
    pub pid: u32,
    /// `/proc/PID`.
    pub dir: PathBuf,
    /// BPF object fds: (fd number as named in `fd/`, kind).
    pub bpf: Vec<(OsString, BpfFd)>,
    /// Socket inodes (`socket:[N]`).
    pub sockets: Vec<u32>,
}

/// The walk of one refresh. Lazy, in two halves: the fd links (`fds`: a readlink per fd of
/// every process) and the network namespaces (`netns`: a stat per process). Each half is
/// walked at most once per `Pass`; make a new `Pass` for every refresh.
#[derive(Debug)]
pub struct Pass {
    root: PathBuf,
    fds: Option<Vec<ProcFds>>,
    netns: Option<Vec<(PathBuf, u32)>>,
}

impl Default for Pass {
    fn default() -> Pass {
        Pass::new(Path::new("/proc"))
    }
}

fn pids(root: &Path) -> impl Iterator<Item = (u32, PathBuf)> {
    std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let pid = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((pid, e.path()))
        })
}

impl Pass {
    pub fn new(root: &Path) -> Pass {
        Pass {
            root: root.to_path_buf(),
            fds: None,
            netns: None,
        }
    }

    /// Every process with at least one BPF or socket fd, in /proc's order.
    pub fn fds(&mut self) -> &[ProcFds] {
        let root = &self.root;
        self.fds.get_or_insert_with(|| walk_fds(root))
    }

    /// `(path of /proc/PID/ns/net, its inode)` of every process, in /proc's order.
    pub fn netns(&mut self) -> &[(PathBuf, u32)] {
        let root = &self.root;
        self.netns.get_or_insert_with(|| {
            use std::os::unix::fs::MetadataExt;
            pids(root)
                .filter_map(|(_, dir)| {
                    let p = dir.join("ns/net");
                    let ino = std::fs::metadata(&p).ok()?.ino() as u32;
                    Some((p, ino))
                })
                .collect()
        })
    }
}

fn walk_fds(root: &Path) -> Vec<ProcFds> {
    let mut out = Vec::new();
    for (pid, dir) in pids(root) {
        let Ok(fds) = std::fs::read_dir(dir.join("fd")) else {
            continue;
        };
        let mut p = ProcFds {
            pid,
            dir,
            bpf: Vec::new(),
            sockets: Vec::new(),
        };
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let Some(t) = target.to_str() else {
                continue;
            };
            match t {
                "anon_inode:bpf-prog" => p.bpf.push((fd.file_name(), BpfFd::Prog)),
                "anon_inode:bpf-map" => p.bpf.push((fd.file_name(), BpfFd::Map)),
                _ => {
                    if let Some(ino) = t
                        .strip_prefix("socket:[")
                        .and_then(|r| r.strip_suffix(']'))
                        .and_then(|n| n.parse::<u32>().ok())
                    {
                        p.sockets.push(ino);
                    }
                }
            }
        }
        if !p.bpf.is_empty() || !p.sockets.is_empty() {
            out.push(p);
        }
    }
    out
}

/// Which processes hold BPF programs and maps open, from the pass's fd walk.
pub fn owners(pass: &mut Pass) -> Owners {
    let mut owners = Owners::default();
    for p in pass.fds() {
        let mut comm: Option<String> = None;
        for (fd, kind) in &p.bpf {
            let Ok(text) = std::fs::read_to_string(p.dir.join("fdinfo").join(fd)) else {
                continue;
            };
            let field = match kind {
                BpfFd::Prog => "prog_id",
                BpfFd::Map => "map_id",
            };
            let Some(id) = parse_fdinfo_field(&text, field) else {
                continue;
            };
            let comm = comm
                .get_or_insert_with(|| {
                    std::fs::read_to_string(p.dir.join("comm"))
                        .map(|s| s.trim_end().to_string())
                        .unwrap_or_default()
                })
                .clone();
            let table = match kind {
                BpfFd::Prog => &mut owners.progs,
                BpfFd::Map => &mut owners.maps,
            };
            let list = table.entry(id as u32).or_default();
            if !list.iter().any(|r| r.pid == p.pid) {
                list.push(ProcRef { pid: p.pid, comm });
            }
        }
    }
    for list in owners.progs.values_mut().chain(owners.maps.values_mut()) {
        list.sort();
    }
    owners
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pass_finds_own_sockets_bpf_fds_and_namespace() {
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::MetadataExt;
        let link = std::fs::read_link(format!("/proc/self/fd/{}", sock.as_raw_fd())).unwrap();
        let ino: u32 = link
            .to_str()
            .and_then(|t| t.strip_prefix("socket:["))
            .and_then(|t| t.strip_suffix(']'))
            .and_then(|t| t.parse().ok())
            .unwrap();
        let me = std::process::id();
        let mut pass = Pass::default();
        let mine = pass.fds().iter().find(|p| p.pid == me).cloned().unwrap();
        assert!(mine.sockets.contains(&ino));
        let own_ns = std::fs::metadata("/proc/self/ns/net").unwrap().ino() as u32;
        assert!(pass
            .netns()
            .iter()
            .any(|(p, i)| *i == own_ns && p.ends_with("ns/net")));
        // A second ask is the same walk, not a new one.
        let a = pass.fds().as_ptr();
        assert_eq!(a, pass.fds().as_ptr());
        // A root that is not /proc gives nothing, not an error.
        let d = tempfile::tempdir().unwrap();
        let mut empty = Pass::new(d.path());
        assert!(empty.fds().is_empty() && empty.netns().is_empty());
        assert!(owners(&mut empty).progs.is_empty());
    }
}
