//! Attachments collector: per interface of the calling thread's network namespace, which BPF
//! programs run on XDP, legacy tc (cls_bpf), tcx and netkit, in which order; plus every BPF
//! link with a human-readable target. Stacked and likely-stale programs are flagged.
//!
//! Read-only: nothing here attaches, detaches or changes anything.

use std::collections::{HashMap, HashSet};

use crate::model::{Attachment, LinkInfo, Program};

pub mod links;
pub mod netlink;
pub mod stacking;

pub use stacking::{flag_stacking, ProgMeta};

/// What one attachments collection produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Collected {
    /// Sorted by ifindex, hook run order, position.
    pub attachments: Vec<Attachment>,
    pub links: Vec<LinkInfo>,
    /// Non-fatal problems (vanished objects, permission errors...).
    pub warnings: Vec<String>,
}

/// Collect attachments and links. `programs` (from the programs collector) supplies full
/// names, load times and loaders; programs missing from it get their kernel name looked up
/// here, and are never judged stale.
pub fn collect(programs: &[Program]) -> Collected {
    Hooks::read().finish(programs)
}

/// The hooks and links as the kernel reports them, before their programs are named: a
/// collection that lists only the attached programs asks for [`Hooks::prog_ids`] in between.
pub struct Hooks {
    rows: Vec<Attachment>,
    raw: Vec<links::RawLink>,
    pairs: Vec<(u32, String)>,
    local_links: HashSet<(u32, u32)>,
    local_xdp: HashSet<(u32, u32)>,
    warnings: Vec<String>,
}

impl Hooks {
    /// Every attached program's id (hooks and links), ascending, without duplicates.
    pub fn prog_ids(&self) -> Vec<u32> {
        let mut ids: Vec<u32> = self
            .rows
            .iter()
            .map(|r| r.prog_id)
            .chain(self.raw.iter().map(|l| l.prog_id))
            .filter(|id| *id != 0)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Whether some interface runs more than one program in one direction: only then do the
    /// stacking flags name who loaded each program (which needs the owner processes).
    pub fn stacked(&self) -> bool {
        let mut seen = HashSet::new();
        self.rows
            .iter()
            .any(|r| !seen.insert((r.ifindex, stacking::direction(&r.hook))))
    }

    /// Reads the hooks of every interface of this namespace and every BPF link.
    pub fn read() -> Hooks {
        let mut warnings = Vec::new();
        let mut rtnl = match netlink::RtnlClient::open() {
            Ok(c) => Some(c),
            Err(e) => {
                warnings.push(format!("cannot open rtnetlink socket: {e}"));
                None
            }
        };
        let ifaces = interfaces_with_xdp(rtnl.as_mut(), &mut warnings);

        let mut rows: Vec<Attachment> = Vec::new();
        let mut local_links: HashSet<(u32, u32)> = HashSet::new();
        let mut local_xdp: HashSet<(u32, u32)> = HashSet::new();

        for l in &ifaces {
            let (ifindex, ifname) = (l.ifindex, l.ifname.as_str());
            for r in xdp_rows_from_query(ifindex, ifname, l.xdp.drv, l.xdp.skb, l.xdp.hw) {
                local_xdp.insert((r.ifindex, r.prog_id));
                rows.push(r);
            }
            let mut hooks = vec![
                ("tcx_ingress", libbpf_sys::BPF_TCX_INGRESS),
                ("tcx_egress", libbpf_sys::BPF_TCX_EGRESS),
            ];
            // Only netkit devices have netkit hooks; unknown kinds are asked anyway.
            if l.kind.as_deref().is_none_or(|k| k == "netkit") {
                hooks.push(("netkit_primary", libbpf_sys::BPF_NETKIT_PRIMARY));
                hooks.push(("netkit_peer", libbpf_sys::BPF_NETKIT_PEER));
            }
            for (hook, attach_type) in hooks {
                for r in mprog_rows(ifindex, ifname, hook, attach_type, &mut warnings) {
                    if let Some(l) = r.link_id {
                        local_links.insert((r.ifindex, l));
                    }
                    rows.push(r);
                }
            }
        }
        let pairs: Vec<(u32, String)> = ifaces
            .iter()
            .map(|l| (l.ifindex, l.ifname.clone()))
            .collect();
        if let Some(c) = rtnl.as_mut() {
            rows.extend(tc_rows(c, &pairs, &mut warnings));
        }

        // Links.
        let raw = links::read_all_links(&mut warnings);
        Hooks {
            rows,
            raw,
            pairs,
            local_links,
            local_xdp,
            warnings,
        }
    }

    /// Names the programs (full names, load times and loaders from `programs`), flags
    /// stacking and sorts.
    pub fn finish(self, programs: &[Program]) -> Collected {
        let Hooks {
            mut rows,
            raw,
            pairs,
            local_links,
            local_xdp,
            mut warnings,
        } = self;
        let mut names = ProgNames::new(programs);
        let ifmap: HashMap<u32, String> = pairs.into_iter().collect();
        let prog_types: HashMap<u32, String> = programs
            .iter()
            .map(|p| (p.id, p.prog_type.clone()))
            .collect();
        let resolver = links::Resolver {
            ifnames: &ifmap,
            local_links: &local_links,
            local_xdp: &local_xdp,
            own_netns_ino: own_netns_ino(),
            prog_types: &prog_types,
        };
        for l in &raw {
            names.ensure(l.prog_id);
        }
        let link_rows = links::to_model(&raw, &resolver, &|id| names.get(id));

        // XDP attached through a link: give the row its link id.
        for r in rows.iter_mut().filter(|r| r.hook == "xdp") {
            r.link_id = raw
                .iter()
                .find(|l| {
                    l.prog_id == r.prog_id
                        && l.detail == links::LinkDetail::Xdp { ifindex: r.ifindex }
                })
                .map(|l| l.id);
        }

        for r in rows.iter_mut() {
            names.ensure(r.prog_id);
            let n = names.get(r.prog_id);
            if !n.is_empty() {
                r.prog_name = n;
            }
            stacking::annotate_row(r);
        }
        let meta: HashMap<u32, ProgMeta> = programs
            .iter()
            .map(|p| (p.id, ProgMeta::from_program(p)))
            .collect();
        stacking::flag_stacking(&mut rows, &meta);
        rows.sort_by(|a, b| {
            (
                a.ifindex,
                stacking::hook_rank(&a.hook),
                a.position,
                mode_rank(a),
            )
                .cmp(&(
                    b.ifindex,
                    stacking::hook_rank(&b.hook),
                    b.position,
                    mode_rank(b),
                ))
        });

        let mut seen = HashSet::new();
        warnings.retain(|w| seen.insert(w.clone()));
        Collected {
            attachments: rows,
            links: link_rows,
            warnings,
        }
    }
}

fn mode_rank(a: &Attachment) -> u8 {
    match a.mode.as_deref() {
        Some("hw") => 0,
        Some("drv") => 1,
        Some("skb") => 2,
        _ => 3,
    }
}

/// Program names by id: full names from `programs`, else the kernel name looked up by id.
struct ProgNames {
    names: HashMap<u32, String>,
}

impl ProgNames {
    fn new(programs: &[Program]) -> Self {
        let names = programs
            .iter()
            .map(|p| {
                let n = if p.name.is_empty() {
                    p.kernel_name.clone()
                } else {
                    p.name.clone()
                };
                (p.id, n)
            })
            .collect();
        ProgNames { names }
    }

    fn ensure(&mut self, id: u32) {
        if id == 0 || self.names.contains_key(&id) {
            return;
        }
        let n = kernel_prog_name(id).unwrap_or_default();
        self.names.insert(id, n);
    }

    fn get(&self, id: u32) -> String {
        self.names.get(&id).cloned().unwrap_or_default()
    }
}

/// The kernel's (15-character) name of a program, by id.
fn kernel_prog_name(id: u32) -> Option<String> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    // SAFETY: plain syscall wrapper; negative results are errors.
    let fd = unsafe { libbpf_sys::bpf_prog_get_fd_by_id(id) };
    if fd < 0 {
        return None;
    }
    // SAFETY: fd is new and exclusively ours.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut info = libbpf_sys::bpf_prog_info::default();
    let mut len = std::mem::size_of::<libbpf_sys::bpf_prog_info>() as u32;
    // SAFETY: info is a zeroed bpf_prog_info (no output buffers requested), len its size.
    let rc = unsafe { libbpf_sys::bpf_prog_get_info_by_fd(fd.as_raw_fd(), &mut info, &mut len) };
    if rc < 0 {
        return None;
    }
    let bytes: Vec<u8> = info
        .name
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Interfaces of the calling thread's network namespace with their XDP program ids: one
/// `RTM_GETLINK` dump; if that fails, `if_nameindex` plus one `bpf_xdp_query` per interface.
fn interfaces_with_xdp(
    rtnl: Option<&mut netlink::RtnlClient>,
    warnings: &mut Vec<String>,
) -> Vec<netlink::LinkMsg> {
    if let Some(c) = rtnl {
        match c.dump_links() {
            Ok(mut l) => {
                l.sort_by_key(|l| l.ifindex);
                return l;
            }
            Err(e) => warnings.push(format!("interface dump failed, falling back: {e}")),
        }
    }
    interfaces(warnings)
        .into_iter()
        .map(|(ifindex, ifname)| {
            let xdp = xdp_query(ifindex, &ifname, warnings);
            netlink::LinkMsg {
                ifindex,
                ifname,
                kind: None,
                xdp,
            }
        })
        .collect()
}

/// Interfaces (ifindex, name) of the calling thread's network namespace, by ifindex.
pub fn interfaces(warnings: &mut Vec<String>) -> Vec<(u32, String)> {
    let list = match nix::net::if_::if_nameindex() {
        Ok(l) => l,
        Err(e) => {
            warnings.push(format!(
                "interfaces: if_nameindex failed: {}",
                std::io::Error::from(e)
            ));
            return Vec::new();
        }
    };
    let mut out: Vec<(u32, String)> = list
        .iter()
        .map(|i| (i.index(), i.name().to_string_lossy().into_owned()))
        .collect();
    out.sort();
    out
}

fn own_netns_ino() -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/thread-self/ns/net")
        .or_else(|_| std::fs::metadata("/proc/self/ns/net"))
        .ok()
        .map(|m| m.ino())
}

fn errno_text(rc: i32) -> String {
    std::io::Error::from_raw_os_error(rc.saturating_neg()).to_string()
}

/// Map XDP query results to rows (pure).
pub fn xdp_rows_from_query(
    ifindex: u32,
    ifname: &str,
    drv: u32,
    skb: u32,
    hw: u32,
) -> Vec<Attachment> {
    [("drv", drv), ("skb", skb), ("hw", hw)]
        .into_iter()
        .filter(|(_, id)| *id != 0)
        .map(|(mode, id)| Attachment {
            ifindex,
            ifname: ifname.to_string(),
            hook: "xdp".into(),
            prog_id: id,
            mode: Some(mode.into()),
            position: 0,
            ..Default::default()
        })
        .collect()
}

fn xdp_query(ifindex: u32, ifname: &str, warnings: &mut Vec<String>) -> netlink::XdpIds {
    let mut opts = libbpf_sys::bpf_xdp_query_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_xdp_query_opts>() as _,
        ..Default::default()
    };
    // SAFETY: opts is a properly sized, zero-initialised options struct with sz set.
    let rc = unsafe { libbpf_sys::bpf_xdp_query(ifindex as i32, 0, &mut opts) };
    if rc < 0 {
        if rc != -libc::ENODEV {
            warnings.push(format!("xdp query on {ifname}: {}", errno_text(rc)));
        }
        return netlink::XdpIds::default();
    }
    netlink::XdpIds {
        drv: opts.drv_prog_id,
        skb: opts.skb_prog_id,
        hw: opts.hw_prog_id,
    }
}

/// Map an mprog (tcx/netkit) query to rows in run order (pure).
pub fn mprog_rows_from_query(
    ifindex: u32,
    ifname: &str,
    hook: &str,
    prog_ids: &[u32],
    link_ids: &[u32],
) -> Vec<Attachment> {
    prog_ids
        .iter()
        .enumerate()
        .map(|(i, &id)| Attachment {
            ifindex,
            ifname: ifname.to_string(),
            hook: hook.to_string(),
            prog_id: id,
            position: i as u32,
            link_id: link_ids.get(i).copied().filter(|&l| l != 0),
            ..Default::default()
        })
        .collect()
}

fn mprog_rows(
    ifindex: u32,
    ifname: &str,
    hook: &str,
    attach_type: libbpf_sys::bpf_attach_type,
    warnings: &mut Vec<String>,
) -> Vec<Attachment> {
    const MAX: usize = 64;
    let mut prog_ids = [0u32; MAX];
    let mut link_ids = [0u32; MAX];
    let mut opts = libbpf_sys::bpf_prog_query_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_prog_query_opts>() as _,
        prog_ids: prog_ids.as_mut_ptr(),
        link_ids: link_ids.as_mut_ptr(),
        ..Default::default()
    };
    opts.__bindgen_anon_1.count = MAX as u32;
    // SAFETY: opts is sized and zeroed; prog_ids/link_ids point at arrays of MAX u32s that
    // outlive the call, and count tells the kernel that capacity.
    let rc = unsafe { libbpf_sys::bpf_prog_query_opts(ifindex as i32, attach_type, &mut opts) };
    // SAFETY: both union members are the same u32.
    let count = unsafe { opts.__bindgen_anon_1.count } as usize;
    if rc == -libc::ENOSPC {
        warnings.push(format!(
            "{hook} on {ifname}: {count} programs, showing the first {MAX}"
        ));
        return mprog_rows_from_query(ifindex, ifname, hook, &prog_ids, &link_ids);
    }
    if rc < 0 {
        // EINVAL: attach type unknown to this kernel; ENXIO: not a netkit device; ENODEV:
        // the interface vanished. None of them is worth a warning.
        if ![
            libc::EINVAL,
            libc::ENXIO,
            libc::ENODEV,
            libc::EOPNOTSUPP,
            libc::ENOENT,
        ]
        .contains(&-rc)
        {
            let msg = if matches!(-rc, libc::EPERM | libc::EACCES) {
                // Same for every interface: say it once (duplicates are dropped in collect).
                format!("tcx/netkit query: {}", errno_text(rc))
            } else {
                format!("{hook} query on {ifname}: {}", errno_text(rc))
            };
            warnings.push(msg);
        }
        return Vec::new();
    }
    let n = count.min(MAX);
    mprog_rows_from_query(ifindex, ifname, hook, &prog_ids[..n], &link_ids[..n])
}

/// Build tc rows for one direction's filter dump (pure): position follows run order.
pub fn tc_rows_from_filters(
    ifindex: u32,
    ifname: &str,
    hook: &str,
    filters: &[netlink::TcMsg],
) -> Vec<Attachment> {
    netlink::bpf_filters(filters)
        .into_iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let b = f.bpf.as_ref()?;
            let mut warnings = Vec::new();
            if let Some(c) = f.chain.filter(|&c| c != 0) {
                warnings.push(format!(
                    "in chain {c}: runs only when a goto_chain leads there"
                ));
            }
            Some(Attachment {
                ifindex,
                ifname: ifname.to_string(),
                hook: hook.to_string(),
                prog_id: b.prog_id?,
                prog_name: b.name.clone().unwrap_or_default(),
                priority: Some(f.pref()),
                handle: Some(f.handle),
                direct_action: Some(b.direct_action()),
                position: i as u32,
                warnings,
                ..Default::default()
            })
        })
        .collect()
}

fn tc_rows(
    client: &mut netlink::RtnlClient,
    ifaces: &[(u32, String)],
    warnings: &mut Vec<String>,
) -> Vec<Attachment> {
    let qdiscs = match client.dump(netlink::RTM_GETQDISC, 0, 0) {
        Ok(m) => netlink::ingress_qdiscs(&m),
        Err(e) => {
            warnings.push(format!("tc: qdisc dump failed: {e}"));
            return Vec::new();
        }
    };
    let mut rows = Vec::new();
    for (ifindex, ifname) in ifaces {
        let Some(kind) = qdiscs.get(&(*ifindex as i32)) else {
            continue;
        };
        let mut dirs = vec![("tc_ingress", netlink::TC_H_CLSACT_INGRESS)];
        // The plain `ingress` qdisc has no egress block (asking would return ingress again).
        if kind == "clsact" {
            dirs.push(("tc_egress", netlink::TC_H_CLSACT_EGRESS));
        }
        for (hook, parent) in dirs {
            match client.dump(netlink::RTM_GETTFILTER, *ifindex as i32, parent) {
                Ok(m) => rows.extend(tc_rows_from_filters(*ifindex, ifname, hook, &m)),
                Err(e) => warnings.push(format!("tc filter dump on {ifname} {hook}: {e}")),
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xdp_several_modes_give_several_rows() {
        let r = xdp_rows_from_query(3, "eth0", 10, 11, 0);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].mode.as_deref(), Some("drv"));
        assert_eq!(r[1].mode.as_deref(), Some("skb"));
        assert!(xdp_rows_from_query(3, "eth0", 0, 0, 0).is_empty());
    }

    #[test]
    fn mprog_rows_keep_order_and_links() {
        let r = mprog_rows_from_query(3, "eth0", "tcx_ingress", &[7, 5, 9], &[100, 0, 101]);
        let ids: Vec<_> = r
            .iter()
            .map(|a| (a.prog_id, a.position, a.link_id))
            .collect();
        assert_eq!(
            ids,
            vec![(7, 0, Some(100)), (5, 1, None), (9, 2, Some(101))]
        );
    }

    fn filter(pref: u32, handle: u32, chain: u32, prog_id: u32, flags: u32) -> netlink::TcMsg {
        netlink::TcMsg {
            msg_type: netlink::RTM_NEWTFILTER,
            ifindex: 4,
            handle,
            parent: netlink::TC_H_CLSACT_EGRESS,
            info: pref << 16 | 0x0300,
            kind: Some("bpf".into()),
            chain: Some(chain),
            bpf: Some(netlink::BpfFilterOpts {
                prog_id: Some(prog_id),
                name: Some(format!("obj.o:[p{prog_id}]")),
                flags: Some(flags),
                tag: None,
            }),
        }
    }

    #[test]
    fn tc_rows_follow_run_order() {
        let msgs = vec![
            filter(30, 1, 0, 3, 1),
            filter(10, 2, 0, 2, 0),
            filter(10, 1, 0, 1, 1),
            filter(1, 1, 4, 9, 1),
        ];
        let r = tc_rows_from_filters(4, "eth1", "tc_egress", &msgs);
        let got: Vec<_> = r
            .iter()
            .map(|a| (a.prog_id, a.position, a.priority, a.handle, a.direct_action))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, 0, Some(10), Some(1), Some(true)),
                (2, 1, Some(10), Some(2), Some(false)),
                (3, 2, Some(30), Some(1), Some(true)),
                (9, 3, Some(1), Some(1), Some(true)),
            ]
        );
        assert_eq!(r[0].prog_name, "obj.o:[p1]");
        assert!(r[3].warnings[0].starts_with("in chain 4"));
        assert!(r
            .iter()
            .all(|a| a.hook == "tc_egress" && a.ifname == "eth1"));
    }

    #[test]
    fn collect_runs_without_privileges_or_panics() {
        // Whatever the environment, collect must return (warnings at worst).
        let c = collect(&[]);
        for w in &c.warnings {
            assert!(!w.is_empty());
        }
    }
}
