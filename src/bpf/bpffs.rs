//! Pinned objects under the bpffs roots: which map/program/link ids are pinned where.

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

/// What each pinned file was, by inode number, kept between refreshes: opening a pin and
/// reading its fdinfo costs ~100 µs, and a node has hundreds of pins that rarely change. bpffs
/// inode numbers come from the kernel's global `get_next_ino()` counter, so a number names one
/// pinned object (a rename keeps it, a new pin gets a new one).
#[derive(Debug, Default)]
pub struct PinCache {
    known: HashMap<u64, (Kind, u32)>,
    seen: std::collections::HashSet<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Map,
    Prog,
    Link,
}

pub fn scan(roots: &[PathBuf]) -> Pins {
    scan_cached(roots, &mut PinCache::default())
}

/// [`scan`], opening only pins not seen before (by inode).
pub fn scan_cached(roots: &[PathBuf], cache: &mut PinCache) -> Pins {
    cache.seen.clear();
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
        walk(root, 0, &mut pins, &mut budget, cache);
        if budget == 0 {
            pins.warnings.push(format!(
                "{}: more than {MAX_PINS} pins, the rest not examined",
                root.display()
            ));
        }
    }
    let seen = std::mem::take(&mut cache.seen);
    cache.known.retain(|ino, _| seen.contains(ino));
    cache.seen = seen;
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

fn walk(dir: &Path, depth: usize, pins: &mut Pins, budget: &mut usize, cache: &mut PinCache) {
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
            walk(&path, depth + 1, pins, budget, cache);
        } else if ft.is_file() {
            *budget -= 1;
            let ino = std::os::unix::fs::DirEntryExt::ino(&ent);
            cache.seen.insert(ino);
            let found = match cache.known.get(&ino) {
                Some(k) => Some(*k),
                None => {
                    let k = examine(&path);
                    if let Some(k) = k {
                        cache.known.insert(ino, k);
                    }
                    k
                }
            };
            if let Some((kind, id)) = found {
                let table = match kind {
                    Kind::Map => &mut pins.maps,
                    Kind::Prog => &mut pins.progs,
                    Kind::Link => &mut pins.links,
                };
                table
                    .entry(id)
                    .or_default()
                    .push(path.display().to_string());
            }
        }
    }
}

/// What a pinned file is: its kind and object id (`None`: not a BPF object we list).
fn examine(path: &Path) -> Option<(Kind, u32)> {
    let c = CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
    // SAFETY: c is a valid NUL-terminated path; returns a new fd or a negative errno.
    let fd = unsafe { libbpf_sys::bpf_obj_get(c.as_ptr()) };
    if fd < 0 {
        return None;
    }
    // SAFETY: freshly created fd owned by us.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let target = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).ok()?;
    let kind = match target.to_str() {
        Some("anon_inode:bpf-map") => Kind::Map,
        Some("anon_inode:bpf-prog") => Kind::Prog,
        Some("anon_inode:bpf_link") | Some("anon_inode:bpf-link") => Kind::Link,
        _ => return None,
    };
    // bpf_prog_info, bpf_map_info and bpf_link_info all start with the type and the id: the
    // first 8 bytes of whichever the kernel fills (it picks by the descriptor's kind).
    let mut head = [0u32; 2];
    let mut len = std::mem::size_of_val(&head) as u32;
    // SAFETY: an 8-byte buffer and its length; the kernel copies at most `len` bytes.
    let rc = unsafe {
        libbpf_sys::bpf_obj_get_info_by_fd(
            fd.as_raw_fd(),
            head.as_mut_ptr() as *mut std::os::raw::c_void,
            &mut len,
        )
    };
    (rc == 0 && len == 8).then_some((kind, head[1]))
}
