//! Pinned objects under the bpffs roots: which map/program/link ids are pinned where.

use super::sys::{self, parse_fdinfo_field};
use std::collections::HashMap;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Depth limit of the walk (Cilium pins at depth 3: tc/globals/<map>).
const MAX_DEPTH: usize = 8;
/// Upper bound on pins examined per root, so a pathological bpffs cannot stall a refresh.
const MAX_PINS: usize = 200_000;

#[derive(Debug, Default, Clone)]
pub struct Pins {
    pub maps: HashMap<u32, Vec<String>>,
    pub progs: HashMap<u32, Vec<String>>,
    pub links: HashMap<u32, Vec<String>>,
    /// Roots that exist and are bpffs mounts (or directories on one).
    pub roots_found: Vec<String>,
    pub warnings: Vec<String>,
}

const BPF_FS_MAGIC: i64 = 0xcafe4a11;

/// Is `path` on a bpf filesystem?
pub fn is_bpffs(path: &Path) -> bool {
    nix::sys::statfs::statfs(path)
        .map(|s| s.filesystem_type().0 == BPF_FS_MAGIC)
        .unwrap_or(false)
}

pub fn scan(roots: &[PathBuf]) -> Pins {
    let mut pins = Pins::default();
    for root in roots {
        if !root.exists() {
            continue;
        }
        if !is_bpffs(root) {
            pins.warnings
                .push(format!("{} is not a bpffs mount: skipped", root.display()));
            continue;
        }
        pins.roots_found.push(root.display().to_string());
        let mut budget = MAX_PINS;
        walk(root, 0, &mut pins, &mut budget);
        if budget == 0 {
            pins.warnings.push(format!(
                "{}: more than {MAX_PINS} pins, the rest not examined",
                root.display()
            ));
        }
    }
    for list in pins
        .maps
        .values_mut()
        .chain(pins.progs.values_mut())
        .chain(pins.links.values_mut())
    {
        list.sort();
        list.dedup();
    }
    pins
}

fn walk(dir: &Path, depth: usize, pins: &mut Pins, budget: &mut usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for ent in entries {
        if *budget == 0 {
            return;
        }
        let Ok(ft) = ent.file_type() else { continue };
        let path = ent.path();
        if ft.is_dir() {
            walk(&path, depth + 1, pins, budget);
        } else if ft.is_file() {
            *budget -= 1;
            examine(&path, pins);
        }
    }
}

fn examine(path: &Path, pins: &mut Pins) {
    let Ok(c) = CString::new(path.as_os_str().as_encoded_bytes()) else {
        return;
    };
    // SAFETY: c is a valid NUL-terminated path; returns a new fd or a negative errno.
    let fd = unsafe { libbpf_sys::bpf_obj_get(c.as_ptr()) };
    if fd < 0 {
        return;
    }
    // SAFETY: freshly created fd owned by us.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let Ok(target) = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())) else {
        return;
    };
    let Ok(info) = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd())) else {
        return;
    };
    let (table, field) = match target.to_str() {
        Some("anon_inode:bpf-map") => (&mut pins.maps, "map_id"),
        Some("anon_inode:bpf-prog") => (&mut pins.progs, "prog_id"),
        Some("anon_inode:bpf_link") | Some("anon_inode:bpf-link") => (&mut pins.links, "link_id"),
        _ => return,
    };
    if let Some(id) = parse_fdinfo_field(&info, field) {
        table
            .entry(id as u32)
            .or_default()
            .push(path.display().to_string());
    }
    let _ = sys::ObjKind::Map; // keep the module's shared vocabulary in view
}
