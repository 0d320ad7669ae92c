//! Which processes hold BPF programs and maps open: a walk of /proc/*/fd + fdinfo.
//!
//! bpftool uses a BPF task_file iterator for this; the /proc walk needs no BPF program of its
//! own, works under any LSM that allows reading /proc, and degrades to "unknown" (empty lists)
//! when /proc is not readable. Only bpf anon-inode fds have their fdinfo read.

use super::sys::parse_fdinfo_field;
use crate::model::ProcRef;

pub use super::iters::Owners;

/// Walk /proc. Processes that exit mid-walk are skipped silently.
pub fn scan(proc_root: &std::path::Path) -> Owners {
    let mut owners = Owners::default();
    let Ok(rd) = std::fs::read_dir(proc_root) else {
        return owners;
    };
    for ent in rd.flatten() {
        let name = ent.file_name();
        let Some(pid) = name.to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let pdir = ent.path();
        let Ok(fds) = std::fs::read_dir(pdir.join("fd")) else {
            continue;
        };
        let mut comm: Option<String> = None;
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let kind = match target.to_str() {
                Some("anon_inode:bpf-prog") => Kind::Prog,
                Some("anon_inode:bpf-map") => Kind::Map,
                _ => continue,
            };
            let Ok(text) = std::fs::read_to_string(pdir.join("fdinfo").join(fd.file_name())) else {
                continue;
            };
            let field = match kind {
                Kind::Prog => "prog_id",
                Kind::Map => "map_id",
            };
            let Some(id) = parse_fdinfo_field(&text, field) else {
                continue;
            };
            let comm = comm
                .get_or_insert_with(|| {
                    std::fs::read_to_string(pdir.join("comm"))
                        .map(|s| s.trim_end().to_string())
                        .unwrap_or_default()
                })
                .clone();
            let table = match kind {
                Kind::Prog => &mut owners.progs,
                Kind::Map => &mut owners.maps,
            };
            let list = table.entry(id as u32).or_default();
            if !list.iter().any(|p| p.pid == pid) {
                list.push(ProcRef { pid, comm });
            }
        }
    }
    for list in owners.progs.values_mut().chain(owners.maps.values_mut()) {
        list.sort();
    }
    owners
}

enum Kind {
    Prog,
    Map,
}
