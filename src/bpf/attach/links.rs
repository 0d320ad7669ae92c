//! Enumeration of every BPF link, with a human-readable target.
//!
//! libbpf-rs decodes `bpf_link_info` (`query::LinkInfo`, with the second call that fetches a
//! tracepoint, iterator or probe name); dpscope walks the ids itself, so a refused id becomes a
//! warning instead of a silently short list, and turns the decoded info into the small
//! `LinkDetail` that `describe` (pure, unit-tested) words the way bpftool does.

use std::collections::HashMap;
use std::ffi::CStr;
use std::os::fd::{AsFd, OwnedFd};

use libbpf_rs::query::{self, IterType, LinkTypeInfo, PerfEventType};
use libbpf_rs::ProgramAttachType;
use libbpf_sys as sys;

use crate::bpf::sys::{fd_by_id, info_by_fd, next_id, ObjKind};
use crate::model::LinkInfo;

/// A C string from libbpf's static name tables, or None for a value it does not know.
fn libbpf_name(p: *const std::ffi::c_char) -> Option<String> {
    // SAFETY: libbpf's `*_str` functions return NULL or a pointer to a static NUL-terminated
    // string.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// bpftool's (libbpf's) name of a link type.
pub fn link_type_name(t: u32) -> String {
    // SAFETY: a table lookup in libbpf; any value is allowed.
    libbpf_name(unsafe { sys::libbpf_bpf_link_type_str(t) }).unwrap_or_else(|| format!("type {t}"))
}

/// An attach type libbpf-rs did not know (newer than libbpf-rs): no number to show.
const ATTACH_UNKNOWN: u32 = ProgramAttachType::Unknown as u32;

/// libbpf's name of an attach type (`tcx_ingress`, `cgroup_inet_ingress`, ...).
pub fn attach_type_name(t: u32) -> String {
    if t == ATTACH_UNKNOWN {
        return "attach type unknown".into();
    }
    // SAFETY: a table lookup in libbpf; any value is allowed.
    libbpf_name(unsafe { sys::libbpf_bpf_attach_type_str(t) })
        .unwrap_or_else(|| format!("attach type {t}"))
}

/// The type-specific part of a link, as `describe` needs it.
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
    /// `kind` is a `BPF_PERF_EVENT_*` value.
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

fn os(s: Option<&std::ffi::OsStr>) -> String {
    s.map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// dpscope's `LinkDetail` and the link type number of libbpf-rs's decoded link info; None
/// for a link type libbpf-rs does not know (the caller reads the type itself).
pub fn detail_of(info: &LinkTypeInfo) -> Option<(u32, LinkDetail)> {
    use LinkDetail as D;
    let at = |a: &ProgramAttachType| a.clone() as u32;
    Some(match info {
        LinkTypeInfo::RawTracepoint(i) => (
            sys::BPF_LINK_TYPE_RAW_TRACEPOINT,
            D::RawTracepoint {
                name: i.name.clone(),
            },
        ),
        LinkTypeInfo::Tracing(i) => (
            sys::BPF_LINK_TYPE_TRACING,
            D::Tracing {
                attach_type: at(&i.attach_type),
                target_obj_id: i.target_obj_id,
                target_btf_id: i.target_btf_id,
            },
        ),
        LinkTypeInfo::Cgroup(i) => (
            sys::BPF_LINK_TYPE_CGROUP,
            D::Cgroup {
                cgroup_id: i.cgroup_id,
                attach_type: at(&i.attach_type),
            },
        ),
        LinkTypeInfo::Iter(i) => (
            sys::BPF_LINK_TYPE_ITER,
            D::Iter {
                target: os(Some(&i.target_name)),
                map_id: match i.iter_type {
                    IterType::Map { map_id } => map_id,
                    _ => 0,
                },
            },
        ),
        LinkTypeInfo::NetNs(i) => (
            sys::BPF_LINK_TYPE_NETNS,
            D::Netns {
                ino: i.ino,
                attach_type: at(&i.attach_type),
            },
        ),
        LinkTypeInfo::Xdp(i) => (sys::BPF_LINK_TYPE_XDP, D::Xdp { ifindex: i.ifindex }),
        LinkTypeInfo::StructOps(i) => (
            sys::BPF_LINK_TYPE_STRUCT_OPS,
            D::StructOps { map_id: i.map_id },
        ),
        LinkTypeInfo::Netfilter(i) => (
            sys::BPF_LINK_TYPE_NETFILTER,
            D::Netfilter {
                pf: i.protocol_family,
                hooknum: i.hooknum,
                priority: i.priority,
                flags: i.flags,
            },
        ),
        LinkTypeInfo::KprobeMulti(i) => (
            sys::BPF_LINK_TYPE_KPROBE_MULTI,
            D::KprobeMulti { count: i.count },
        ),
        LinkTypeInfo::UprobeMulti(i) => (
            sys::BPF_LINK_TYPE_UPROBE_MULTI,
            D::UprobeMulti {
                count: i.count,
                pid: i.pid,
            },
        ),
        LinkTypeInfo::Tcx(i) => (
            sys::BPF_LINK_TYPE_TCX,
            D::Tcx {
                ifindex: i.ifindex,
                attach_type: at(&i.attach_type),
            },
        ),
        LinkTypeInfo::Netkit(i) => (
            sys::BPF_LINK_TYPE_NETKIT,
            D::Netkit {
                ifindex: i.ifindex,
                attach_type: at(&i.attach_type),
            },
        ),
        LinkTypeInfo::SockMap(i) => (
            sys::BPF_LINK_TYPE_SOCKMAP,
            D::Sockmap {
                map_id: i.map_id,
                attach_type: at(&i.attach_type),
            },
        ),
        LinkTypeInfo::PerfEvent(i) => (sys::BPF_LINK_TYPE_PERF_EVENT, perf_detail(&i.event_type)),
        LinkTypeInfo::Unknown => return None,
    })
}

fn perf_detail(e: &PerfEventType) -> LinkDetail {
    let (kind, name, offset, addr, config) = match e {
        PerfEventType::Tracepoint { name, .. } => {
            (sys::BPF_PERF_EVENT_TRACEPOINT, os(name.as_deref()), 0, 0, 0)
        }
        PerfEventType::Kprobe {
            func_name,
            is_retprobe,
            addr,
            offset,
            ..
        } => (
            if *is_retprobe {
                sys::BPF_PERF_EVENT_KRETPROBE
            } else {
                sys::BPF_PERF_EVENT_KPROBE
            },
            os(func_name.as_deref()),
            *offset,
            *addr,
            0,
        ),
        PerfEventType::Uprobe {
            file_name,
            is_retprobe,
            offset,
            ..
        } => (
            if *is_retprobe {
                sys::BPF_PERF_EVENT_URETPROBE
            } else {
                sys::BPF_PERF_EVENT_UPROBE
            },
            os(file_name.as_deref()),
            *offset,
            0,
            0,
        ),
        PerfEventType::Event { config, .. } => {
            (sys::BPF_PERF_EVENT_EVENT, String::new(), 0, 0, *config)
        }
        PerfEventType::Unknown(k) => (*k, String::new(), 0, 0, 0),
    };
    LinkDetail::PerfEvent {
        kind,
        name,
        offset,
        addr,
        config,
    }
}

/// The kernel's first answer for a link, without the buffers libbpf-rs passes in its second
/// call: used when that call fails (a name that does not fit, say), so the link keeps its
/// type, program and the fields that need no buffer, and for link types libbpf-rs does not
/// know (shown by number).
fn first_answer(fd: &OwnedFd) -> std::io::Result<RawLink> {
    let mut info = sys::bpf_link_info::default();
    // SAFETY: a zeroed bpf_link_info has no buffer pointers for the kernel to write through.
    unsafe { info_by_fd(fd, &mut info)? };
    let u = &info.__bindgen_anon_1;
    // SAFETY: every member of the union is plain integers (no invalid values); the kernel
    // filled the member of `type_`, the others read as zeros or overlapping integers.
    let detail = unsafe {
        match info.type_ {
            sys::BPF_LINK_TYPE_RAW_TRACEPOINT => LinkDetail::RawTracepoint {
                name: String::new(),
            },
            sys::BPF_LINK_TYPE_ITER => LinkDetail::Iter {
                target: String::new(),
                map_id: u.iter.__bindgen_anon_1.map.map_id,
            },
            sys::BPF_LINK_TYPE_PERF_EVENT => {
                let p = &u.perf_event;
                let (offset, addr, config) = match p.type_ {
                    sys::BPF_PERF_EVENT_KPROBE | sys::BPF_PERF_EVENT_KRETPROBE => {
                        let k = &p.__bindgen_anon_1.kprobe;
                        (k.offset, k.addr, 0)
                    }
                    sys::BPF_PERF_EVENT_UPROBE | sys::BPF_PERF_EVENT_URETPROBE => {
                        (p.__bindgen_anon_1.uprobe.offset, 0, 0)
                    }
                    sys::BPF_PERF_EVENT_EVENT => (0, 0, p.__bindgen_anon_1.event.config),
                    _ => (0, 0, 0),
                };
                LinkDetail::PerfEvent {
                    kind: p.type_,
                    name: String::new(),
                    offset,
                    addr,
                    config,
                }
            }
            sys::BPF_LINK_TYPE_KPROBE_MULTI => LinkDetail::KprobeMulti {
                count: u.kprobe_multi.count,
            },
            sys::BPF_LINK_TYPE_UPROBE_MULTI => LinkDetail::UprobeMulti {
                count: u.uprobe_multi.count,
                pid: u.uprobe_multi.pid,
            },
            _ => LinkDetail::Unknown,
        }
    };
    Ok(RawLink {
        link_type: info.type_,
        id: info.id,
        prog_id: info.prog_id,
        detail,
    })
}

/// Read one link's info.
pub fn read_link(id: u32) -> Result<RawLink, std::io::Error> {
    let fd = fd_by_id(ObjKind::Link, id)?;
    match query::LinkInfo::from_fd(fd.as_fd()) {
        Ok(info) => match detail_of(&info.info) {
            Some((link_type, mut detail)) => {
                // Iterators over a map other than bpf_map_elem/bpf_sk_storage_map (sockmap)
                // still report the map: libbpf-rs leaves it out.
                if let (LinkDetail::Iter { map_id: m @ 0, .. }, LinkTypeInfo::Iter(i)) =
                    (&mut detail, &info.info)
                {
                    if matches!(i.iter_type, IterType::Unknown) {
                        if let Ok(RawLink {
                            detail: LinkDetail::Iter { map_id, .. },
                            ..
                        }) = first_answer(&fd)
                        {
                            *m = map_id;
                        }
                    }
                }
                Ok(RawLink {
                    link_type,
                    id: info.id,
                    prog_id: info.prog_id,
                    detail,
                })
            }
            None => first_answer(&fd),
        },
        // The second (name) call failed, or the first did: ask once more without buffers.
        Err(_) => first_answer(&fd),
    }
}

/// All link ids, continuing past ids that vanish or fail.
pub fn read_all_links(warnings: &mut Vec<String>) -> Vec<RawLink> {
    let mut out = Vec::new();
    let mut id = 0u32;
    for _ in 0..1_000_000 {
        id = match next_id(ObjKind::Link, id) {
            Ok(Some(next)) => next,
            Ok(None) => break,
            Err(e) => {
                warnings.push(format!("links: enumeration stopped after id {id}: {e}"));
                break;
            }
        };
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
                sys::BPF_PERF_EVENT_TRACEPOINT => format!("tracepoint {name}"),
                sys::BPF_PERF_EVENT_KPROBE | sys::BPF_PERF_EVENT_KRETPROBE => {
                    let k = if *kind == sys::BPF_PERF_EVENT_KPROBE {
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
                sys::BPF_PERF_EVENT_UPROBE | sys::BPF_PERF_EVENT_URETPROBE => {
                    let k = if *kind == sys::BPF_PERF_EVENT_UPROBE {
                        "uprobe"
                    } else {
                        "uretprobe"
                    };
                    format!("{k} {name}+0x{offset:x}")
                }
                sys::BPF_PERF_EVENT_EVENT => format!("perf event config 0x{config:x}"),
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

/// Turn raw links into model rows.
pub fn to_model(
    raw: &[RawLink],
    r: &Resolver<'_>,
    prog_name: &dyn Fn(u32) -> String,
) -> Vec<LinkInfo> {
    let mut cg = CgroupCache::new();
    let mut btf = crate::bpf::btf_cache::KernelBtf::new();
    raw.iter()
        .map(|l| {
            let (target, attach_type) =
                describe(l, r, &mut |id| cg.path(id), &mut |o, t| btf.type_name(o, t));
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

    fn link(link_type: u32, id: u32, prog_id: u32, detail: LinkDetail) -> RawLink {
        RawLink {
            link_type,
            id,
            prog_id,
            detail,
        }
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
    fn libbpf_rs_link_info_becomes_the_detail() {
        use libbpf_rs::query::{PerfEventLinkInfo, TcxLinkInfo};
        let tcx = LinkTypeInfo::Tcx(TcxLinkInfo {
            ifindex: 7,
            attach_type: ProgramAttachType::TcxIngress,
            _non_exhaustive: (),
        });
        assert_eq!(
            detail_of(&tcx),
            Some((
                sys::BPF_LINK_TYPE_TCX,
                LinkDetail::Tcx {
                    ifindex: 7,
                    attach_type: sys::BPF_TCX_INGRESS
                }
            ))
        );
        let kretprobe = LinkTypeInfo::PerfEvent(PerfEventLinkInfo {
            event_type: PerfEventType::Kprobe {
                func_name: Some("tcp_sendmsg".into()),
                is_retprobe: true,
                addr: 0xffff_0010,
                offset: 4,
                missed: 0,
                cookie: 0,
            },
            _non_exhaustive: (),
        });
        let (t, d) = detail_of(&kretprobe).unwrap();
        assert_eq!(link_type_name(t), "perf_event");
        assert_eq!(desc(&ctx(), &link(t, 1, 1, d)).0, "kretprobe tcp_sendmsg+4");
        assert_eq!(detail_of(&LinkTypeInfo::Unknown), None);
    }

    #[test]
    fn tcx_link_targets() {
        let c = ctx();
        let tcx = |id, ifindex, attach_type| {
            link(
                sys::BPF_LINK_TYPE_TCX,
                id,
                4,
                LinkDetail::Tcx {
                    ifindex,
                    attach_type,
                },
            )
        };
        let l = tcx(30, 7, 46);
        assert_eq!(desc(&c, &l), ("veth7".into(), "tcx_ingress".into()));
        // Same ifindex, but the link is not on our interface: another netns.
        assert!(desc(&c, &tcx(31, 7, 47)).0.contains("another netns"));
        let l = tcx(32, 99, 47);
        assert_eq!(desc(&c, &l).0, "ifindex 99 (other netns)");
        assert_eq!(desc(&c, &l).1, "tcx_egress");
    }

    #[test]
    fn xdp_cgroup_netfilter_tracing() {
        use LinkDetail as D;
        let c = ctx();
        let d = |detail| desc(&c, &link(0, 2, 5, detail));
        assert_eq!(d(D::Xdp { ifindex: 2 }).0, "eth0");
        let cg = |cgroup_id, attach_type| D::Cgroup {
            cgroup_id,
            attach_type,
        };
        assert_eq!(
            d(cg(77, 0)),
            (
                "/system.slice/x.service".into(),
                "cgroup_inet_ingress".into()
            )
        );
        assert_eq!(
            d(cg(78, 1)),
            ("cgroup id 78".into(), "cgroup_inet_egress".into())
        );
        let nf = D::Netfilter {
            pf: 2,
            hooknum: 0,
            priority: -100,
            flags: 1,
        };
        assert_eq!(d(nf).0, "ipv4 prerouting prio -100 defrag");
        let tr = |target_btf_id| D::Tracing {
            attach_type: 24,
            target_obj_id: 1,
            target_btf_id,
        };
        assert_eq!(d(tr(100)).0, "tcp_sendmsg");
        assert_eq!(d(tr(101)).0, "btf 1 type 101");
        let ext = D::Tracing {
            attach_type: 24,
            target_obj_id: 12,
            target_btf_id: 3,
        };
        assert_eq!(desc(&c, &link(2, 4, 9, ext)).0, "prog 12 btf type 3");
        let ns = D::Netns {
            ino: 4026531840,
            attach_type: 17,
        };
        assert!(d(ns).0.contains("this netns"));
        assert_eq!(attach_type_name(ATTACH_UNKNOWN), "attach type unknown");
        assert_eq!(attach_type_name(999), "attach type 999");
    }

    #[test]
    fn named_links() {
        use LinkDetail as D;
        let c = ctx();
        let d = |detail| desc(&c, &link(0, 6, 5, detail)).0;
        let raw_tp = D::RawTracepoint {
            name: "sched_switch".into(),
        };
        assert_eq!(d(raw_tp), "sched_switch");
        let perf = |kind, name: &str, addr| D::PerfEvent {
            kind,
            name: name.into(),
            offset: 0,
            addr,
            config: 0,
        };
        assert_eq!(
            d(perf(sys::BPF_PERF_EVENT_TRACEPOINT, "skb:kfree_skb", 0)),
            "tracepoint skb:kfree_skb"
        );
        // a name that could not be read: the first answer's address
        assert_eq!(
            d(perf(sys::BPF_PERF_EVENT_KPROBE, "", 0xabc)),
            "kprobe 0xabc"
        );
        let iter = D::Iter {
            target: "bpf_map_elem".into(),
            map_id: 3,
        };
        assert_eq!(d(iter), "iter bpf_map_elem map 3");
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
    fn link_type_names_are_libbpfs() {
        assert_eq!(link_type_name(sys::BPF_LINK_TYPE_TCX), "tcx");
        assert_eq!(
            link_type_name(sys::BPF_LINK_TYPE_RAW_TRACEPOINT),
            "raw_tracepoint"
        );
        assert_eq!(link_type_name(sys::BPF_LINK_TYPE_SOCKMAP), "sockmap");
        assert_eq!(link_type_name(99), "type 99");
    }
}
