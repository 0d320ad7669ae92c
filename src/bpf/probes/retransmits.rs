//! The `retransmits` probe: `tcp:tcp_retransmit_skb`, `tcp:tcp_send_reset` and
//! `tcp:tcp_receive_reset` (tp_btf) aggregated in the kernel per flow (netns, family, addresses,
//! ports). Userspace adds, for live sockets, the kernel's own counters from sock_diag and the
//! owning process and cgroup.

use super::decode::{self, tuple_of};
use super::sockdiag::{self, SockKey, TcpSock};
use super::{fill_pressure, netns, Loaded};
use crate::bytes::{self, Plain};
use crate::model::{ProbeStatus, Retransmit};
use std::collections::HashMap;
use std::time::{Duration, Instant};

static OBJ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/retransmits.bpf.o"));

skeleton!("retransmits");
use skel::types::{rtx_key, rtx_val};

// SAFETY: generated repr(C) mirrors of C structs whose fields are all integers and arrays of
// integers (probes/retransmits.bpf.c, probes/dpscope.h): any bytes are a valid value.
unsafe impl Plain for rtx_key {}
// SAFETY: as above.
unsafe impl Plain for rtx_val {}

const MAP: &str = "dps_rtx";
const STATS: &str = "dps_rtx_stats";
pub const MAX_ENTRIES: u32 = 16384;
/// `struct rtx_key` (44 bytes) and `struct rtx_val` (48 bytes).
pub const KEY_SIZE: usize = std::mem::size_of::<rtx_key>();
pub const VAL_SIZE: usize = std::mem::size_of::<rtx_val>();

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRtx {
    pub netns: u32,
    pub tuple: decode::Tuple,
    pub retransmits: u64,
    pub failed: u64,
    pub resets_sent: u64,
    pub resets_received: u64,
    pub last_ns: u64,
    pub state: u32,
}

pub fn decode_entry(k: &[u8], v: &[u8]) -> Option<RawRtx> {
    let (k, v): (rtx_key, rtx_val) = (bytes::read(k)?, bytes::read(v)?);
    Some(RawRtx {
        netns: k.netns,
        tuple: tuple_of!(tuple, k.t),
        retransmits: v.retransmits,
        failed: v.failed,
        resets_sent: v.resets_sent,
        resets_received: v.resets_received,
        last_ns: v.last_ns,
        state: v.state,
    })
}

/// Socket inode → owning process, from the refresh's /proc walk (`procs::Pass`; rebuilt at
/// most every few seconds, only when an inode is unknown).
#[derive(Debug, Default)]
pub struct SocketOwners {
    by_inode: HashMap<u32, (u32, String, Option<String>)>,
    scanned: Option<Instant>,
}

impl SocketOwners {
    pub fn get(
        &mut self,
        inode: u32,
        procs: &mut crate::bpf::procs::Pass,
    ) -> Option<(u32, String, Option<String>)> {
        if inode == 0 {
            return None;
        }
        if !self.by_inode.contains_key(&inode)
            && self
                .scanned
                .is_none_or(|t| t.elapsed() > Duration::from_secs(3))
        {
            self.scan(procs);
        }
        self.by_inode.get(&inode).cloned()
    }

    fn scan(&mut self, procs: &mut crate::bpf::procs::Pass) {
        self.scanned = Some(Instant::now());
        self.by_inode.clear();
        for p in procs.fds().iter().filter(|p| !p.sockets.is_empty()) {
            let comm = std::fs::read_to_string(p.dir.join("comm"))
                .map(|s| s.trim().to_string())
                .unwrap_or_default();
            let cg = std::fs::read_to_string(p.dir.join("cgroup"))
                .ok()
                .and_then(|s| cgroup_path(&s));
            for ino in &p.sockets {
                self.by_inode
                    .entry(*ino)
                    .or_insert_with(|| (p.pid, comm.clone(), cg.clone()));
            }
        }
    }
}

/// The unified (v2) cgroup path from /proc/PID/cgroup, else the first hierarchy's.
pub fn cgroup_path(text: &str) -> Option<String> {
    let mut first = None;
    for l in text.lines() {
        let mut parts = l.splitn(3, ':');
        let (id, _ctrl, path) = (parts.next()?, parts.next()?, parts.next()?);
        if id == "0" {
            return Some(path.to_string());
        }
        first.get_or_insert_with(|| path.to_string());
    }
    first
}

pub struct RetransmitProbe {
    pub loaded: Loaded,
    owners: SocketOwners,
}

impl RetransmitProbe {
    pub fn load() -> Result<RetransmitProbe, String> {
        let mut loaded = Loaded::open(OBJ, |_| true).map_err(|e| {
            format!("cannot load the TCP retransmit/reset probe (needs BTF and tp_btf): {e}")
        })?;
        loaded.attach_all_tracing()?;
        Ok(RetransmitProbe {
            loaded,
            owners: SocketOwners::default(),
        })
    }

    pub fn read(&mut self, names: &mut netns::Resolver) -> (Vec<Retransmit>, ProbeStatus) {
        let entries = self.loaded.entries(MAP, MAX_ENTRIES as usize);
        let raws: Vec<RawRtx> = entries
            .iter()
            .filter_map(|(k, v)| decode_entry(k, v))
            .collect();
        // Live sockets of every namespace that has flows, from sock_diag inside it.
        let mut socks: HashMap<u32, HashMap<SockKey, TcpSock>> = HashMap::new();
        let mut diag_err = None;
        for ns in raws
            .iter()
            .map(|r| r.netns)
            .collect::<std::collections::BTreeSet<_>>()
        {
            match names.run_in(ns, sockdiag::dump_tcp) {
                Some(Ok(s)) => {
                    socks.insert(ns, sockdiag::index(s));
                }
                Some(Err(e)) => diag_err = Some(e),
                None => {}
            }
        }
        let rows = raws
            .into_iter()
            .map(|r| {
                let key = (
                    r.tuple.src.clone(),
                    r.tuple.sport,
                    r.tuple.dst.clone(),
                    r.tuple.dport,
                );
                let live = socks.get(&r.netns).and_then(|m| m.get(&key));
                let owner = live.and_then(|s| self.owners.get(s.inode, names.procs()));
                let cgroup = owner.as_ref().and_then(|o| o.2.clone());
                Retransmit {
                    src: r.tuple.src,
                    src_port: r.tuple.sport,
                    dst: r.tuple.dst,
                    dst_port: r.tuple.dport,
                    retransmits: r.retransmits,
                    segments_out: live.and_then(|s| s.segs_out).map(u64::from),
                    pid: owner.as_ref().map(|o| o.0),
                    comm: owner.as_ref().map(|o| o.1.clone()),
                    container: cgroup.as_deref().and_then(decode::container_from_cgroup),
                    cgroup,
                    state: decode::tcp_state_name(
                        live.map(|s| u32::from(s.state)).unwrap_or(r.state),
                    ),
                    netns: r.netns,
                    family: decode::family_name(r.tuple.family),
                    kernel_total_retrans: live.and_then(|s| s.total_retrans).map(u64::from),
                    failed: r.failed,
                    resets_sent: r.resets_sent,
                    resets_received: r.resets_received,
                    last_ns: r.last_ns,
                }
            })
            .collect();
        let mut st = ProbeStatus {
            name: "retransmits".into(),
            loaded: true,
            attached: true,
            detail: match diag_err {
                None => "tp_btf/tcp_retransmit_skb, tcp_send_reset, tcp_receive_reset; sock_diag for live sockets".into(),
                Some(e) => format!("tp_btf/tcp_retransmit_skb, tcp_send_reset, tcp_receive_reset; sock_diag failed: {e}"),
            },
            prog_ids: self.loaded.prog_ids.clone(),
            ..Default::default()
        };
        fill_pressure(
            &mut st,
            self.loaded.stats(STATS),
            entries.len(),
            MAX_ENTRIES,
        );
        (rows, st)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_types_match_the_object() {
        crate::bpf::probes::layout::assert_sizes(
            OBJ,
            &[("rtx_key", KEY_SIZE), ("rtx_val", VAL_SIZE)],
        );
        assert_eq!((KEY_SIZE, VAL_SIZE), (44, 48));
    }

    #[test]
    fn entry_decodes() {
        let mut k = vec![0u8; KEY_SIZE];
        k[0..4].copy_from_slice(&42u32.to_ne_bytes());
        k[4] = 2;
        k[5] = 6;
        k[6..8].copy_from_slice(&40000u16.to_ne_bytes());
        k[8..10].copy_from_slice(&443u16.to_ne_bytes());
        k[12..16].copy_from_slice(&[10, 0, 0, 1]);
        k[28..32].copy_from_slice(&[10, 0, 0, 2]);
        let mut v = vec![0u8; VAL_SIZE];
        v[0..8].copy_from_slice(&9u64.to_ne_bytes());
        v[24..32].copy_from_slice(&1u64.to_ne_bytes());
        v[40..44].copy_from_slice(&1u32.to_ne_bytes());
        let r = decode_entry(&k, &v).unwrap();
        assert_eq!(
            (r.netns, r.retransmits, r.resets_received, r.state),
            (42, 9, 1, 1)
        );
        assert_eq!((r.tuple.src.as_str(), r.tuple.sport), ("10.0.0.1", 40000));
        assert_eq!((r.tuple.dst.as_str(), r.tuple.dport), ("10.0.0.2", 443));
    }

    #[test]
    fn cgroup_paths() {
        assert_eq!(
            cgroup_path("0::/system.slice/x.scope\n"),
            Some("/system.slice/x.scope".into())
        );
        assert_eq!(cgroup_path("12:cpu:/a\n11:memory:/b\n"), Some("/a".into()));
        assert_eq!(cgroup_path(""), None);
    }
}
