//! Enumeration of every BPF link, with a human-readable target.
//!
//! `bpf_link_info` is read as raw bytes and decoded by the pure `parse_link_info` (offsets of
//! the uapi layout), so decoding is unit-tested and independent of bindgen's anonymous unions.

use std::collections::HashMap;
use std::ffi::CStr;
use std::os::fd::{FromRawFd, OwnedFd};

use crate::model::LinkInfo;

pub const LINK_RAW_TRACEPOINT: u32 = 1;
pub const LINK_TRACING: u32 = 2;
pub const LINK_CGROUP: u32 = 3;
pub const LINK_ITER: u32 = 4;
pub const LINK_NETNS: u32 = 5;
pub const LINK_XDP: u32 = 6;
pub const LINK_PERF_EVENT: u32 = 7;
pub const LINK_KPROBE_MULTI: u32 = 8;
pub const LINK_STRUCT_OPS: u32 = 9;
pub const LINK_NETFILTER: u32 = 10;
pub const LINK_TCX: u32 = 11;
pub const LINK_UPROBE_MULTI: u32 = 12;
pub const LINK_NETKIT: u32 = 13;
pub const LINK_SOCKMAP: u32 = 14;

const PERF_UPROBE: u32 = 1;
const PERF_URETPROBE: u32 = 2;
const PERF_KPROBE: u32 = 3;
const PERF_KRETPROBE: u32 = 4;
const PERF_TRACEPOINT: u32 = 5;
const PERF_EVENT: u32 = 6;

/// bpftool's name of a link type.
pub fn link_type_name(t: u32) -> String {
    match t {
        LINK_RAW_TRACEPOINT => "raw_tracepoint",
        LINK_TRACING => "tracing",
        LINK_CGROUP => "cgroup",
        LINK_ITER => "iter",
        LINK_NETNS => "netns",
        LINK_XDP => "xdp",
        LINK_PERF_EVENT => "perf_event",
        LINK_KPROBE_MULTI => "kprobe_multi",
        LINK_STRUCT_OPS => "struct_ops",
        LINK_NETFILTER => "netfilter",
        LINK_TCX => "tcx",
        LINK_UPROBE_MULTI => "uprobe_multi",
        LINK_NETKIT => "netkit",
        LINK_SOCKMAP => "sockmap",
        other => return format!("type {other}"),
    }
    .to_string()
}

/// libbpf's name of an attach type (`tcx_ingress`, `cgroup_inet_ingress`, ...).
pub fn attach_type_name(t: u32) -> String {
    // SAFETY: libbpf returns a pointer to a static string, or NULL for unknown values.
    let p = unsafe { libbpf_sys::libbpf_bpf_attach_type_str(t) };
    if p.is_null() {
        return format!("attach type {t}");
    }
    // SAFETY: non-NULL pointers from libbpf point at static NUL-terminated strings.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// The decoded, type-specific part of `bpf_link_info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkDetail {
    RawTracepoint {
        name: String,
    },
    Tracing {
        attach_type: u32,
        target_obj_id: u32,
        target_btf_id: u32,
    },
    Cgroup {
        cgroup_id: u64,
        attach_type: u32,
    },
    Iter {
        target: String,
        map_id: u32,
    },
    Netns {
        ino: u32,
        attach_type: u32,
    },
    Xdp {
        ifindex: u32,
    },
    PerfEvent {
        kind: u32,
        name: String,
        offset: u32,
        addr: u64,
        config: u64,
    },
    KprobeMulti {
        count: u32,
    },
    StructOps {
        map_id: u32,
    },
    Netfilter {
        pf: u32,
        hooknum: u32,
        priority: i32,
        flags: u32,
    },
    Tcx {
        ifindex: u32,
        attach_type: u32,
    },
    UprobeMulti {
        count: u32,
        pid: u32,
    },
    Netkit {
        ifindex: u32,
        attach_type: u32,
    },
    Sockmap {
        map_id: u32,
        attach_type: u32,
    },
    Unknown,
}

/// The common header and detail of one link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLink {
    pub link_type: u32,
    pub id: u32,
    pub prog_id: u32,
    pub detail: LinkDetail,
}

use crate::bytes::{ne_u32 as u32_at, ne_u64 as u64_at};

/// Where a link type wants a name buffer: (offset of the pointer, offset of the length).
pub fn name_slot(info: &[u8]) -> Option<(usize, usize)> {
    match u32_at(info, 0) {
        LINK_RAW_TRACEPOINT | LINK_ITER => Some((16, 24)),
        LINK_PERF_EVENT => match u32_at(info, 16) {
            PERF_UPROBE | PERF_URETPROBE | PERF_KPROBE | PERF_KRETPROBE | PERF_TRACEPOINT => {
                Some((24, 32))
            }
            _ => None,
        },
        _ => None,
    }
}

/// Decode `bpf_link_info` bytes (as filled by the kernel); `name` is the string read through
/// the name buffer, if any. Short buffers read as zeros: total, never panics.
pub fn parse_link_info(b: &[u8], name: Option<&str>) -> RawLink {
    let link_type = u32_at(b, 0);
    let name = name.unwrap_or_default().to_string();
    let u = 16; // the union starts 8-byte aligned after type, id, prog_id
    let detail = match link_type {
        LINK_RAW_TRACEPOINT => LinkDetail::RawTracepoint { name },
        LINK_TRACING => LinkDetail::Tracing {
            attach_type: u32_at(b, u),
            target_obj_id: u32_at(b, u + 4),
            target_btf_id: u32_at(b, u + 8),
        },
        LINK_CGROUP => LinkDetail::Cgroup {
            cgroup_id: u64_at(b, u),
            attach_type: u32_at(b, u + 8),
        },
        LINK_ITER => LinkDetail::Iter {
            target: name,
            map_id: u32_at(b, u + 12),
        },
        LINK_NETNS => LinkDetail::Netns {
            ino: u32_at(b, u),
            attach_type: u32_at(b, u + 4),
        },
        LINK_XDP => LinkDetail::Xdp {
            ifindex: u32_at(b, u),
        },
        LINK_PERF_EVENT => LinkDetail::PerfEvent {
            kind: u32_at(b, u),
            name,
            offset: u32_at(b, u + 20),
            addr: u64_at(b, u + 24),
            config: u64_at(b, u + 8),
        },
        LINK_KPROBE_MULTI => LinkDetail::KprobeMulti {
            count: u32_at(b, u + 8),
        },
        LINK_STRUCT_OPS => LinkDetail::StructOps {
            map_id: u32_at(b, u),
        },
        LINK_NETFILTER => LinkDetail::Netfilter {
            pf: u32_at(b, u),
            hooknum: u32_at(b, u + 4),
            priority: u32_at(b, u + 8) as i32,
            flags: u32_at(b, u + 12),
        },
        LINK_TCX => LinkDetail::Tcx {
            ifindex: u32_at(b, u),
            attach_type: u32_at(b, u + 4),
        },
        LINK_UPROBE_MULTI => LinkDetail::UprobeMulti {
            count: u32_at(b, u + 36),
            pid: u32_at(b, u + 44),
        },
        LINK_NETKIT => LinkDetail::Netkit {
            ifindex: u32_at(b, u),
            attach_type: u32_at(b, u + 4),
        },
        LINK_SOCKMAP => LinkDetail::Sockmap {
            map_id: u32_at(b, u),
            attach_type: u32_at(b, u + 4),
        },
        _ => LinkDetail::Unknown,
    };
    RawLink {
        link_type,
        id: u32_at(b, 4),
        prog_id: u32_at(b, 8),
        detail,
    }
}

/// `ipv4 prerouting prio -100` (+ `defrag`).
pub fn netfilter_target(pf: u32, hooknum: u32, priority: i32, flags: u32) -> String {
    let family = match pf {
        1 => "inet".to_string(),
        2 => "ipv4".to_string(),
        3 => "arp".to_string(),
        5 => "netdev".to_string(),
        7 => "bridge".to_string(),
        10 => "ipv6".to_string(),
        n => format!("pf {n}"),
    };
    let hook = match hooknum {
        0 => "prerouting".to_string(),
        1 => "input".to_string(),
        2 => "forward".to_string(),
        3 => "output".to_string(),
        4 => "postrouting".to_string(),
        n => format!("hook {n}"),
    };
    let mut s = format!("{family} {hook} prio {priority}");
    if flags & 1 != 0 {
        s.push_str(" defrag");
    }
    s
}

/// Everything link targets are resolved against.
pub struct Resolver<'a> {
    /// Interfaces of the calling netns.
    pub ifnames: &'a HashMap<u32, String>,
    /// (ifindex, link id) pairs seen by per-interface queries in this netns (tcx, netkit).
    pub local_links: &'a std::collections::HashSet<(u32, u32)>,
    /// (ifindex, prog id) pairs of XDP programs seen in this netns.
    pub local_xdp: &'a std::collections::HashSet<(u32, u32)>,
    pub own_netns_ino: Option<u64>,
    pub prog_types: &'a HashMap<u32, String>,
}

impl Resolver<'_> {
    fn iface(&self, ifindex: u32, seen_here: bool) -> String {
        match self.ifnames.get(&ifindex) {
            Some(n) if seen_here => n.clone(),
            Some(n) => format!("ifindex {ifindex} ({n} here, but the hook is in another netns?)"),
            None => format!("ifindex {ifindex} (other netns)"),
        }
    }
}

/// Human target and attach type of a link. `btf_name` resolves (btf object id, type id).
pub fn describe(
    l: &RawLink,
    r: &Resolver<'_>,
    cgroup_path: &mut dyn FnMut(u64) -> Option<String>,
    btf_name: &mut dyn FnMut(u32, u32) -> Option<String>,
) -> (String, String) {
    match &l.detail {
        LinkDetail::RawTracepoint { name } => (name.clone(), String::new()),
        LinkDetail::Tracing {
            attach_type,
            target_obj_id,
            target_btf_id,
        } => {
            let ext = r.prog_types.get(&l.prog_id).is_some_and(|t| t == "ext");
            let target = if ext {
                format!("prog {target_obj_id} btf type {target_btf_id}")
            } else {
                match btf_name(*target_obj_id, *target_btf_id) {
                    Some(n) => n,
                    None => format!("btf {target_obj_id} type {target_btf_id}"),
                }
            };
            (target, attach_type_name(*attach_type))
        }
        LinkDetail::Cgroup {
            cgroup_id,
            attach_type,
        } => (
            cgroup_path(*cgroup_id).unwrap_or_else(|| format!("cgroup id {cgroup_id}")),
            attach_type_name(*attach_type),
        ),
        LinkDetail::Iter { target, map_id } => {
            let mut t = if target.is_empty() {
                "iter".to_string()
            } else {
                format!("iter {target}")
            };
            if *map_id != 0 {
                t.push_str(&format!(" map {map_id}"));
            }
            (t, String::new())
        }
        LinkDetail::Netns { ino, attach_type } => {
            let mine = r.own_netns_ino == Some(u64::from(*ino));
            let t = if mine {
                format!("netns ino {ino} (this netns)")
            } else {
                format!("netns ino {ino}")
            };
            (t, attach_type_name(*attach_type))
        }
        LinkDetail::Xdp { ifindex } => {
            let here = r.local_xdp.contains(&(*ifindex, l.prog_id));
            (r.iface(*ifindex, here), "xdp".into())
        }
        LinkDetail::Tcx {
            ifindex,
            attach_type,
        }
        | LinkDetail::Netkit {
            ifindex,
            attach_type,
        } => {
            let here = r.local_links.contains(&(*ifindex, l.id));
            (r.iface(*ifindex, here), attach_type_name(*attach_type))
        }
        LinkDetail::PerfEvent {
            kind,
            name,
            offset,
            addr,
            config,
        } => {
            let t = match *kind {
                PERF_TRACEPOINT => format!("tracepoint {name}"),
                PERF_KPROBE | PERF_KRETPROBE => {
                    let k = if *kind == PERF_KPROBE {
                        "kprobe"
                    } else {
                        "kretprobe"
                    };
                    if name.is_empty() {
                        format!("{k} 0x{addr:x}")
                    } else if *offset != 0 {
                        format!("{k} {name}+{offset}")
                    } else {
                        format!("{k} {name}")
                    }
                }
                PERF_UPROBE | PERF_URETPROBE => {
                    let k = if *kind == PERF_UPROBE {
                        "uprobe"
                    } else {
                        "uretprobe"
                    };
                    format!("{k} {name}+0x{offset:x}")
                }
                PERF_EVENT => format!("perf event config 0x{config:x}"),
                _ => "perf event".into(),
            };
            (t, String::new())
        }
        LinkDetail::KprobeMulti { count } => (format!("{count} kernel functions"), String::new()),
        LinkDetail::UprobeMulti { count, pid } => {
            let mut t = format!("{count} uprobes");
            if *pid != 0 {
                t.push_str(&format!(" pid {pid}"));
            }
            (t, String::new())
        }
        LinkDetail::StructOps { map_id } => (format!("struct_ops map {map_id}"), String::new()),
        LinkDetail::Netfilter {
            pf,
            hooknum,
            priority,
            flags,
        } => (
            netfilter_target(*pf, *hooknum, *priority, *flags),
            String::new(),
        ),
        LinkDetail::Sockmap {
            map_id,
            attach_type,
        } => (
            format!("sockmap map {map_id}"),
            attach_type_name(*attach_type),
        ),
        LinkDetail::Unknown => (String::new(), String::new()),
    }
}

const INFO_LEN: usize = std::mem::size_of::<libbpf_sys::bpf_link_info>();

#[repr(C, align(8))]
struct InfoBuf([u8; INFO_LEN]);

fn get_info(fd: &OwnedFd, buf: &mut InfoBuf) -> Result<(), std::io::Error> {
    use std::os::fd::AsRawFd;
    let mut len = INFO_LEN as u32;
    // SAFETY: buf is 8-byte aligned and exactly sizeof(struct bpf_link_info) bytes, which is
    // what the pointer type promises; len tells the kernel that size. Any name pointer inside
    // was set by the caller to a live buffer of the stated length.
    let rc = unsafe {
        libbpf_sys::bpf_link_get_info_by_fd(
            fd.as_raw_fd(),
            buf.0.as_mut_ptr().cast::<libbpf_sys::bpf_link_info>(),
            &mut len,
        )
    };
    if rc < 0 {
        return Err(std::io::Error::from_raw_os_error(-rc));
    }
    Ok(())
}

/// Read one link's info (two passes when the type carries a name string).
pub fn read_link(id: u32) -> Result<RawLink, std::io::Error> {
    // SAFETY: plain syscall wrapper; a negative result is an error code.
    let fd = unsafe { libbpf_sys::bpf_link_get_fd_by_id(id) };
    if fd < 0 {
        return Err(std::io::Error::from_raw_os_error(-fd));
    }
    // SAFETY: fd is a new descriptor owned by nobody else; OwnedFd closes it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut buf = InfoBuf([0u8; INFO_LEN]);
    get_info(&fd, &mut buf)?;
    let Some((ptr_off, len_off)) = name_slot(&buf.0) else {
        return Ok(parse_link_info(&buf.0, None));
    };
    let mut name = vec![0u8; 512];
    let mut buf2 = InfoBuf([0u8; INFO_LEN]);
    buf2.0[..4].copy_from_slice(&buf.0[..4]);
    buf2.0[ptr_off..ptr_off + 8].copy_from_slice(&(name.as_mut_ptr() as u64).to_ne_bytes());
    buf2.0[len_off..len_off + 4].copy_from_slice(&(name.len() as u32).to_ne_bytes());
    if get_info(&fd, &mut buf2).is_err() {
        // The name is optional: keep the first answer.
        return Ok(parse_link_info(&buf.0, None));
    }
    let end = name.iter().position(|&c| c == 0).unwrap_or(name.len());
    let s = String::from_utf8_lossy(&name[..end]).into_owned();
    Ok(parse_link_info(&buf2.0, Some(&s)))
}

/// All link ids, continuing past ids that vanish or fail.
pub fn read_all_links(warnings: &mut Vec<String>) -> Vec<RawLink> {
    let mut out = Vec::new();
    let mut id = 0u32;
    for _ in 0..1_000_000 {
        let mut next = 0u32;
        // SAFETY: next is a valid out pointer for the call.
        let rc = unsafe { libbpf_sys::bpf_link_get_next_id(id, &mut next) };
        if rc < 0 {
            let e = std::io::Error::from_raw_os_error(-rc);
            if -rc != libc::ENOENT {
                warnings.push(format!("links: enumeration stopped after id {id}: {e}"));
            }
            break;
        }
        id = next;
        match read_link(id) {
            Ok(l) => out.push(l),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {} // vanished meanwhile
            Err(e) if matches!(e.raw_os_error(), Some(libc::EPERM | libc::EACCES)) => {
                warnings.push(format!(
                    "links: cannot open link {id}: {e} (needs CAP_SYS_ADMIN)"
                ));
                break;
            }
            Err(e) => warnings.push(format!("link {id}: {e}")),
        }
    }
    out
}

/// Cgroup id → path (relative to the cgroup2 mount), by walking /sys/fs/cgroup inode numbers.
/// Cached across calls; rescanned at most once per `CgroupCache` on a miss.
pub struct CgroupCache {
    rescanned: bool,
}

static CGROUP_PATHS: std::sync::Mutex<Option<HashMap<u64, String>>> = std::sync::Mutex::new(None);

impl CgroupCache {
    pub fn new() -> Self {
        CgroupCache { rescanned: false }
    }

    pub fn path(&mut self, id: u64) -> Option<String> {
        let mut guard = CGROUP_PATHS.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = guard.as_ref().and_then(|m| m.get(&id)) {
            return Some(p.clone());
        }
        if self.rescanned {
            return None;
        }
        self.rescanned = true;
        let map = scan_cgroups(std::path::Path::new("/sys/fs/cgroup"));
        let hit = map.get(&id).cloned();
        *guard = Some(map);
        hit
    }
}

impl Default for CgroupCache {
    fn default() -> Self {
        Self::new()
    }
}

fn scan_cgroups(root: &std::path::Path) -> HashMap<u64, String> {
    use std::os::unix::fs::MetadataExt;
    let mut map = HashMap::new();
    let mut stack = vec![root.to_path_buf()];
    let mut budget = 100_000usize;
    while let Some(dir) = stack.pop() {
        if budget == 0 {
            break;
        }
        budget -= 1;
        if let Ok(md) = std::fs::metadata(&dir) {
            let rel = dir
                .strip_prefix(root)
                .map(|p| format!("/{}", p.display()))
                .unwrap_or_else(|_| dir.display().to_string());
            map.insert(md.ino(), rel);
        }
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            }
        }
    }
    map
}

/// BTF objects by id, loaded lazily and freed on drop; module BTF is split over vmlinux.
pub struct BtfCache {
    vmlinux: *mut libbpf_sys::btf,
    by_id: HashMap<u32, *mut libbpf_sys::btf>,
}

impl BtfCache {
    pub fn new() -> Self {
        BtfCache {
            vmlinux: std::ptr::null_mut(),
            by_id: HashMap::new(),
        }
    }

    fn load(&mut self, obj_id: u32) -> *mut libbpf_sys::btf {
        if let Some(p) = self.by_id.get(&obj_id) {
            return *p;
        }
        // SAFETY: libbpf allocates a new btf object or returns NULL/an error pointer.
        let mut p = unsafe { libbpf_sys::btf__load_from_kernel_by_id(obj_id) };
        if libbpf_ptr_err(p) {
            if self.vmlinux.is_null() {
                // SAFETY: as above.
                let v = unsafe { libbpf_sys::btf__load_vmlinux_btf() };
                self.vmlinux = if libbpf_ptr_err(v) {
                    std::ptr::null_mut()
                } else {
                    v
                };
            }
            p = if self.vmlinux.is_null() {
                std::ptr::null_mut()
            } else {
                // SAFETY: vmlinux is a valid btf object kept alive until self drops, which
                // outlives the split btf (freed first in Drop).
                unsafe { libbpf_sys::btf__load_from_kernel_by_id_split(obj_id, self.vmlinux) }
            };
            if libbpf_ptr_err(p) {
                p = std::ptr::null_mut();
            }
        }
        self.by_id.insert(obj_id, p);
        p
    }

    /// Name of type `type_id` in BTF object `obj_id`.
    pub fn name(&mut self, obj_id: u32, type_id: u32) -> Option<String> {
        let btf = self.load(obj_id);
        if btf.is_null() {
            return None;
        }
        // SAFETY: btf is a valid object owned by this cache; libbpf bounds-checks type_id and
        // returns NULL when out of range.
        let t = unsafe { libbpf_sys::btf__type_by_id(btf, type_id) };
        if t.is_null() {
            return None;
        }
        // SAFETY: t points into btf's type data, valid while btf lives.
        let off = unsafe { (*t).name_off };
        // SAFETY: libbpf bounds-checks the offset and returns NULL when invalid.
        let n = unsafe { libbpf_sys::btf__name_by_offset(btf, off) };
        if n.is_null() {
            return None;
        }
        // SAFETY: non-NULL names point at NUL-terminated strings inside btf's string section.
        let s = unsafe { CStr::from_ptr(n) }.to_string_lossy().into_owned();
        (!s.is_empty()).then_some(s)
    }
}

impl Default for BtfCache {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for BtfCache {
    fn drop(&mut self) {
        for (_, p) in self.by_id.drain() {
            if !p.is_null() {
                // SAFETY: p was returned by libbpf, is owned by us and freed exactly once.
                unsafe { libbpf_sys::btf__free(p) };
            }
        }
        if !self.vmlinux.is_null() {
            // SAFETY: as above; split objects referencing it were freed just before.
            unsafe { libbpf_sys::btf__free(self.vmlinux) };
        }
    }
}

/// libbpf returns NULL (libbpf 1.x) or, in legacy mode, an error-encoded pointer.
fn libbpf_ptr_err<T>(p: *mut T) -> bool {
    p.is_null() || (p as usize) >= (-4095isize) as usize
}

/// Turn raw links into model rows.
pub fn to_model(
    raw: &[RawLink],
    r: &Resolver<'_>,
    prog_name: &dyn Fn(u32) -> String,
) -> Vec<LinkInfo> {
    let mut cg = CgroupCache::new();
    let mut btf = BtfCache::new();
    raw.iter()
        .map(|l| {
            let (target, attach_type) =
                describe(l, r, &mut |id| cg.path(id), &mut |o, t| btf.name(o, t));
            LinkInfo {
                id: l.id,
                link_type: link_type_name(l.link_type),
                prog_id: l.prog_id,
                prog_name: prog_name(l.prog_id),
                target,
                attach_type,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn info(t: u32, id: u32, prog: u32, union: &[u32]) -> Vec<u8> {
        let mut b = vec![0u8; INFO_LEN];
        b[0..4].copy_from_slice(&t.to_ne_bytes());
        b[4..8].copy_from_slice(&id.to_ne_bytes());
        b[8..12].copy_from_slice(&prog.to_ne_bytes());
        for (i, v) in union.iter().enumerate() {
            b[16 + 4 * i..20 + 4 * i].copy_from_slice(&v.to_ne_bytes());
        }
        b
    }

    struct Ctx {
        ifnames: HashMap<u32, String>,
        links: HashSet<(u32, u32)>,
        xdp: HashSet<(u32, u32)>,
        types: HashMap<u32, String>,
    }

    fn ctx() -> Ctx {
        Ctx {
            ifnames: [(2, "eth0".to_string()), (7, "veth7".to_string())].into(),
            links: [(7, 30)].into(),
            xdp: [(2, 5)].into(),
            types: [(9, "ext".to_string())].into(),
        }
    }

    fn desc(c: &Ctx, l: &RawLink) -> (String, String) {
        let r = Resolver {
            ifnames: &c.ifnames,
            local_links: &c.links,
            local_xdp: &c.xdp,
            own_netns_ino: Some(4026531840),
            prog_types: &c.types,
        };
        describe(
            l,
            &r,
            &mut |id| (id == 77).then(|| "/system.slice/x.service".to_string()),
            &mut |o, t| (o == 1 && t == 100).then(|| "tcp_sendmsg".to_string()),
        )
    }

    #[test]
    fn tcx_link_targets() {
        let c = ctx();
        let l = parse_link_info(&info(LINK_TCX, 30, 4, &[7, 46]), None);
        assert_eq!(l.id, 30);
        assert_eq!(l.prog_id, 4);
        assert_eq!(
            l.detail,
            LinkDetail::Tcx {
                ifindex: 7,
                attach_type: 46
            }
        );
        assert_eq!(desc(&c, &l), ("veth7".into(), "tcx_ingress".into()));
        // Same ifindex, but the link is not on our interface: another netns.
        let l = parse_link_info(&info(LINK_TCX, 31, 4, &[7, 47]), None);
        assert!(desc(&c, &l).0.contains("another netns"));
        let l = parse_link_info(&info(LINK_TCX, 32, 4, &[99, 47]), None);
        assert_eq!(desc(&c, &l).0, "ifindex 99 (other netns)");
        assert_eq!(desc(&c, &l).1, "tcx_egress");
    }

    #[test]
    fn xdp_cgroup_netfilter_tracing() {
        let c = ctx();
        let l = parse_link_info(&info(LINK_XDP, 1, 5, &[2]), None);
        assert_eq!(desc(&c, &l).0, "eth0");
        let l = parse_link_info(&info(LINK_CGROUP, 2, 5, &[77, 0, 0]), None);
        assert_eq!(desc(&c, &l).0, "/system.slice/x.service");
        assert_eq!(desc(&c, &l).1, "cgroup_inet_ingress");
        let l = parse_link_info(&info(LINK_CGROUP, 2, 5, &[78, 0, 1]), None);
        assert_eq!(
            desc(&c, &l),
            ("cgroup id 78".into(), "cgroup_inet_egress".into())
        );
        let l = parse_link_info(
            &info(LINK_NETFILTER, 3, 5, &[2, 0, (-100i32) as u32, 1]),
            None,
        );
        assert_eq!(desc(&c, &l).0, "ipv4 prerouting prio -100 defrag");
        let l = parse_link_info(&info(LINK_TRACING, 4, 5, &[24, 1, 100]), None);
        assert_eq!(desc(&c, &l).0, "tcp_sendmsg");
        let l = parse_link_info(&info(LINK_TRACING, 4, 5, &[24, 1, 101]), None);
        assert_eq!(desc(&c, &l).0, "btf 1 type 101");
        let l = parse_link_info(&info(LINK_TRACING, 4, 9, &[24, 12, 3]), None);
        assert_eq!(desc(&c, &l).0, "prog 12 btf type 3");
        let l = parse_link_info(&info(LINK_NETNS, 5, 5, &[4026531840, 17]), None);
        assert!(desc(&c, &l).0.contains("this netns"));
    }

    #[test]
    fn named_links() {
        let c = ctx();
        let b = info(LINK_RAW_TRACEPOINT, 6, 5, &[]);
        assert_eq!(name_slot(&b), Some((16, 24)));
        let l = parse_link_info(&b, Some("sched_switch"));
        assert_eq!(desc(&c, &l).0, "sched_switch");
        let b = info(LINK_PERF_EVENT, 7, 5, &[PERF_TRACEPOINT]);
        assert_eq!(name_slot(&b), Some((24, 32)));
        let l = parse_link_info(&b, Some("skb:kfree_skb"));
        assert_eq!(desc(&c, &l).0, "tracepoint skb:kfree_skb");
        let b = info(LINK_PERF_EVENT, 7, 5, &[PERF_EVENT]);
        assert_eq!(name_slot(&b), None);
        let l = parse_link_info(&info(LINK_ITER, 8, 5, &[0, 0, 0, 3]), Some("bpf_map_elem"));
        assert_eq!(desc(&c, &l).0, "iter bpf_map_elem map 3");
        assert_eq!(name_slot(&info(LINK_TCX, 1, 1, &[])), None);
    }

    #[test]
    fn cgroup_scan_maps_inodes_to_paths() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let b = dir.path().join("a").join("b");
        std::fs::create_dir_all(&b).expect("mkdir");
        let map = scan_cgroups(dir.path());
        let ino = |p: &std::path::Path| std::fs::metadata(p).expect("stat").ino();
        assert_eq!(map.get(&ino(&b)).map(String::as_str), Some("/a/b"));
        assert_eq!(map.get(&ino(dir.path())).map(String::as_str), Some("/"));
        assert_eq!(map.len(), 3);
    }

    #[test]
    fn short_or_garbage_info_is_total() {
        for n in 0..INFO_LEN {
            let b = info(LINK_PERF_EVENT, 1, 1, &[PERF_KPROBE, 1, 2, 3, 4, 5, 6, 7]);
            let _ = parse_link_info(&b[..n], None);
            let _ = name_slot(&b[..n]);
        }
        let l = parse_link_info(&[0xff; 3], None);
        assert_eq!(l.detail, LinkDetail::Unknown);
        assert_eq!(link_type_name(99), "type 99");
    }
}
