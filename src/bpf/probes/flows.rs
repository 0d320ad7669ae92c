//! The opt-in `flows` probe: on interfaces named with `--tc-iface` a tcx program on ingress and
//! egress counts packets, bytes and TCP flags per 5-tuple and direction; `--xdp-iface` counts
//! ingress only, from the same tcx ingress observer, and never takes the interface's XDP hook
//! (an XDP link of an observer would make the node's own agent fail to attach its XDP program).
//! The tcx programs always return TCX_NEXT. Links are BPF link fds, never pinned: closing them
//! (dpscope exiting, even on SIGKILL) detaches the programs.
//!
//! Interfaces are `IFACE` (dpscope's own network namespace) or `NETNS/IFACE` (a name under
//! /run/netns): the attach runs on a thread that joined that namespace.
//!
//! Rows are keyed by ifindex, and ifindexes are per namespace (every pod's `eth0` may be
//! ifindex 2): an interface whose ifindex is already counted for another namespace is refused
//! with the reason rather than mixed into the other one's rows.

use super::decode::{self, protocol_name, tuple_of};
use super::table::{self, Table};
use super::{fill_pressure_counted, Loaded};
use crate::bytes::{self, Plain};
use crate::model::{Flow, ProbeStatus};
use std::collections::HashMap;
use std::mem::size_of;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

static OBJ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/flows.bpf.o"));

skeleton!("flows");
use skel::types::{flow_key, flow_key4, flow_slot4, flow_slot6, flow_w4, flow_w6};

// SAFETY: generated repr(C) mirrors of C structs whose fields are all integers and arrays of
// integers (probes/flows.bpf.c, probes/dpscope.h): any bytes are a valid value.
unsafe impl Plain for flow_key4 {}
// SAFETY: as above.
unsafe impl Plain for flow_key {}

/// IPv4 rows (and packets whose headers were not parsed) and IPv6 rows live in separate
/// tables: a short key makes hashing and comparing cheaper per packet (docs/benchmarks.md).
/// Both are inline open-addressed tables in mmapable arrays (probes/dps_table.h), read in place.
const MAP4: &str = "dps_flows4";
const MAP6: &str = "dps_flows6";
const STATS: &str = "dps_flows_stats";
/// Slots of each in-kernel table (probes/dps_table.h).
pub const MAX_ENTRIES: u32 = table::SLOTS;
/// `struct flow_key4` (24 bytes) and `struct flow_key` (48 bytes); packets, bytes, TCP flags: 24.
pub const KEY4_SIZE: usize = size_of::<flow_key4>();
pub const KEY6_SIZE: usize = size_of::<flow_key>();
pub const VAL_SIZE: usize = 24;
/// `struct flow_slot4` / `flow_slot6` in u64 words, their keys, and their counter words.
const SLOT4_WORDS: usize = size_of::<flow_slot4>() / 8;
const KEY4_WORDS: usize = size_of::<flow_w4>() / 8;
const SLOT6_WORDS: usize = size_of::<flow_slot6>() / 8;
const KEY6_WORDS: usize = size_of::<flow_w6>() / 8;
const COUNTERS: usize = 3;
const XDP_FLAGS_SKB_MODE: u32 = 1 << 1;
const XDP_FLAGS_DRV_MODE: u32 = 1 << 2;

/// `IFACE@drv` asks for native (driver) XDP; the default and `@skb` are generic (skb) mode.
/// Returns (interface spec, attach flags, mode label).
pub fn split_xdp_mode(spec: &str) -> Result<(&str, u32, &'static str), String> {
    match spec.rsplit_once('@') {
        None => Ok((spec, XDP_FLAGS_SKB_MODE, "skb")),
        Some((s, "skb")) => Ok((s, XDP_FLAGS_SKB_MODE, "skb")),
        Some((s, "drv")) => Ok((s, XDP_FLAGS_DRV_MODE, "drv")),
        Some((_, m)) => Err(format!("unknown XDP mode {m:?} (use @skb or @drv)")),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFlow {
    pub ifindex: u32,
    pub direction: u8,
    pub tuple: decode::Tuple,
    pub packets: u64,
    pub bytes: u64,
    pub tcp_flags: u32,
}

/// The key's ifindex and direction, the decoded tuple, and `v`: packets, bytes, TCP flags.
fn decode_with(ifindex: u32, direction: u8, tuple: decode::Tuple, v: &[u8]) -> Option<RawFlow> {
    if v.len() < VAL_SIZE {
        return None;
    }
    Some(RawFlow {
        ifindex,
        direction,
        tuple,
        packets: bytes::ne_u64(v, 0),
        bytes: bytes::ne_u64(v, 8),
        tcp_flags: bytes::ne_u64(v, 16) as u32,
    })
}

/// A row of `dps_flows4` (`v`: packets, bytes, TCP flags).
pub fn decode_entry4(k: &[u8], v: &[u8]) -> Option<RawFlow> {
    let k: flow_key4 = bytes::read(k)?;
    decode_with(k.ifindex, k.direction, tuple_of!(tuple4, k.t), v)
}

/// A row of `dps_flows6`.
pub fn decode_entry6(k: &[u8], v: &[u8]) -> Option<RawFlow> {
    let k: flow_key = bytes::read(k)?;
    decode_with(k.ifindex, k.direction, tuple_of!(tuple, k.t), v)
}

pub fn direction_name(d: u8) -> &'static str {
    match d {
        0 => "ingress",
        1 => "egress",
        _ => "xdp",
    }
}

/// Split `NETNS/IFACE` (interface names cannot contain '/').
pub fn split_iface(spec: &str) -> (Option<&str>, &str) {
    match spec.split_once('/') {
        Some((ns, ifc)) => (Some(ns), ifc),
        None => (None, spec),
    }
}

/// Where the attach runs: our namespace or /run/netns/NAME.
fn in_ns<T: Send>(ns: Option<&str>, f: impl FnOnce() -> T + Send) -> Result<T, String> {
    match ns {
        None => Ok(f()),
        Some(n) => super::netns::run_in_path(&std::path::Path::new("/run/netns").join(n), f),
    }
}

/// `bpf_link_create(prog, ifindex, attach_type)` with `flags` / relative placement.
fn link_create(
    prog_fd: i32,
    ifindex: u32,
    attach_type: u32,
    flags: u32,
) -> Result<OwnedFd, String> {
    let opts = libbpf_sys::bpf_link_create_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_link_create_opts>() as _,
        flags,
        ..Default::default()
    };
    // SAFETY: prog_fd is a loaded program fd kept open by the Object for this call; opts is
    // sized and initialised.
    let fd = unsafe { libbpf_sys::bpf_link_create(prog_fd, ifindex as i32, attach_type, &opts) };
    if fd < 0 {
        return Err(std::io::Error::from_raw_os_error(-fd).to_string());
    }
    // SAFETY: fd is a fresh link descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The spec already counted under `ifindex` from another namespace, if any: rows carry only
/// the ifindex, so the two could not be told apart.
fn clash(names: &HashMap<u32, (u32, String)>, ifindex: u32, netns: u32) -> Option<&str> {
    names
        .get(&ifindex)
        .filter(|(ns, _)| *ns != netns)
        .map(|(_, spec)| spec.as_str())
}

/// Refusal text for an interface whose ifindex is already counted for `other`.
fn clash_reason(ifindex: u32, other: &str) -> String {
    format!(
        "ifindex {ifindex} is already counted for {other} in another namespace (flow rows are \
         keyed by ifindex)"
    )
}

pub struct FlowProbe {
    /// The mappings go before the object (field order is drop order).
    t4: Table,
    t6: Table,
    pub loaded: Loaded,
    epoch: u32,
    /// Link fds (closing one detaches its program).
    links: Vec<OwnedFd>,
    /// ifindex → (namespace inode, interface spec as given).
    names: HashMap<u32, (u32, String)>,
    attached: Vec<String>,
    problems: Vec<String>,
}

impl FlowProbe {
    pub fn load(tc_ifaces: &[String], xdp_ifaces: &[String]) -> Result<FlowProbe, String> {
        let loaded = Loaded::open(OBJ, |_| !(tc_ifaces.is_empty() && xdp_ifaces.is_empty()))
            .map_err(|e| format!("cannot load the flow probe: {e}"))?;
        let table = |name: &str, slot_words: usize, key_words: usize| {
            let m = loaded
                .map(name)
                .ok_or_else(|| format!("object has no map {name}"))?;
            Table::map(&m, slot_words, key_words, COUNTERS)
        };
        let t4 = table(MAP4, SLOT4_WORDS, KEY4_WORDS)?;
        let t6 = table(MAP6, SLOT6_WORDS, KEY6_WORDS)?;
        let mut p = FlowProbe {
            t4,
            t6,
            loaded,
            epoch: 1,
            links: Vec::new(),
            names: HashMap::new(),
            attached: Vec::new(),
            problems: Vec::new(),
        };
        let fd_of = |name: &str| {
            p.loaded
                .obj
                .progs()
                .find(|x| x.name() == name)
                .map(|x| x.as_fd().as_raw_fd())
        };
        let (fin, feg) = (fd_of("dpscope_flow_in"), fd_of("dpscope_flow_eg"));
        for spec in tc_ifaces {
            let (ns, ifc) = split_iface(spec);
            let (Some(fin), Some(feg)) = (fin, feg) else {
                p.problems.push(format!("{spec}: tcx programs not loaded"));
                continue;
            };
            let names = &p.names;
            let r = in_ns(ns, || -> Result<(u32, u32, Vec<OwnedFd>), String> {
                let idx =
                    super::netns::if_index(ifc).ok_or_else(|| "no such interface".to_string())?;
                let ino = super::netns::current();
                if let Some(other) = clash(names, idx, ino) {
                    return Err(clash_reason(idx, other));
                }
                // At the head of each tcx chain (BPF_F_BEFORE, no anchor): the probe sees every
                // packet before the node's programs decide, and TCX_NEXT hands it on unchanged.
                let a = link_create(
                    fin,
                    idx,
                    libbpf_sys::BPF_TCX_INGRESS,
                    libbpf_sys::BPF_F_BEFORE,
                )
                .map_err(|e| format!("tcx ingress: {e}"))?;
                let b = link_create(
                    feg,
                    idx,
                    libbpf_sys::BPF_TCX_EGRESS,
                    libbpf_sys::BPF_F_BEFORE,
                )
                .map_err(|e| format!("tcx egress: {e}"))?;
                Ok((idx, ino, vec![a, b]))
            })
            .and_then(|r| r);
            match r {
                Ok((idx, ino, links)) => {
                    p.links.extend(links);
                    p.names.insert(idx, (ino, spec.clone()));
                    p.attached.push(format!("tcx {spec}"));
                }
                Err(e) => p.problems.push(format!("{spec}: {e}")),
            }
        }
        // `--xdp-iface`: ingress only, from a tcx observer at the head of the ingress chain, never
        // from the XDP hook itself. An XDP link (or program) of ours would make the node's own
        // agent fail to attach its XDP program ("Can't replace active BPF XDP link") for as long
        // as dpscope runs; a tcx link blocks nobody. The cost: packets the node's XDP program
        // drops never reach tcx, so they are not counted here (they show in xdp_errors and drops).
        for full in xdp_ifaces {
            let (spec, _, mode) = match split_xdp_mode(full) {
                Ok(v) => v,
                Err(e) => {
                    p.problems.push(format!("{full}: {e}"));
                    continue;
                }
            };
            let (ns, ifc) = split_iface(spec);
            let Some(fin) = fin else {
                p.problems.push(format!("{spec}: tcx program not loaded"));
                continue;
            };
            let names = &p.names;
            let r = in_ns(ns, || -> Result<(u32, u32, OwnedFd), String> {
                let idx =
                    super::netns::if_index(ifc).ok_or_else(|| "no such interface".to_string())?;
                let ino = super::netns::current();
                if let Some(other) = clash(names, idx, ino) {
                    return Err(clash_reason(idx, other));
                }
                let l = link_create(
                    fin,
                    idx,
                    libbpf_sys::BPF_TCX_INGRESS,
                    libbpf_sys::BPF_F_BEFORE,
                )
                .map_err(|e| format!("tcx ingress: {e}"))?;
                Ok((idx, ino, l))
            })
            .and_then(|r| r);
            match r {
                Ok((idx, ino, l)) => {
                    p.links.push(l);
                    p.names.insert(idx, (ino, spec.to_string()));
                    let ignored = if full.contains('@') {
                        format!(", @{mode} ignored")
                    } else {
                        String::new()
                    };
                    p.attached.push(format!(
                        "tcx-ingress {spec} (for --xdp-iface: the XDP hook stays free for the node's datapath{ignored})"
                    ));
                }
                Err(e) => p.problems.push(format!("{spec}: {e}")),
            }
        }
        if p.links.is_empty() {
            return Err(format!("attached nowhere: {}", p.problems.join("; ")));
        }
        Ok(p)
    }

    pub fn read(&mut self) -> (Vec<Flow>, ProbeStatus) {
        let (r4, r6) = (self.t4.read(), self.t6.read());
        table::next_epoch(&self.loaded, &mut self.epoch);
        let val = |(_, packets, bytes, flags): &(Vec<u8>, u64, u64, u64)| {
            [
                packets.to_ne_bytes(),
                bytes.to_ne_bytes(),
                flags.to_ne_bytes(),
            ]
            .concat()
        };
        let rows = r4
            .rows
            .iter()
            .filter_map(|r| decode_entry4(&r.0, &val(r)))
            .chain(r6.rows.iter().filter_map(|r| decode_entry6(&r.0, &val(r))))
            .map(|r| Flow {
                ifindex: r.ifindex,
                ifname: self
                    .names
                    .get(&r.ifindex)
                    .map(|(_, spec)| spec.clone())
                    .unwrap_or_else(|| format!("if{}", r.ifindex)),
                direction: direction_name(r.direction).into(),
                protocol: protocol_name(r.tuple.protocol),
                src: r.tuple.src,
                src_port: r.tuple.sport,
                dst: r.tuple.dst,
                dst_port: r.tuple.dport,
                packets: r.packets,
                bytes: r.bytes,
                tcp_flags: if r.tuple.protocol == 6 {
                    decode::tcp_flag_names(r.tcp_flags)
                } else {
                    Vec::new()
                },
            })
            .collect();
        let mut detail = format!(
            "attached: {}; IPv4 {}/{MAX_ENTRIES}, IPv6 {}/{MAX_ENTRIES} rows",
            self.attached.join(", "),
            r4.live,
            r6.live
        );
        if !self.problems.is_empty() {
            detail.push_str(&format!("; not attached: {}", self.problems.join("; ")));
        }
        let mut st = ProbeStatus {
            name: "flows".into(),
            loaded: true,
            attached: !self.links.is_empty(),
            detail,
            prog_ids: self.loaded.prog_ids.clone(),
            ..Default::default()
        };
        fill_pressure_counted(
            &mut st,
            self.loaded.stats(STATS),
            r4.live + r6.live,
            2 * MAX_ENTRIES,
        );
        (rows, st)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_types_match_the_object() {
        use crate::bpf::probes::layout::assert_sizes;
        use skel::types::{dps_tuple, dps_tuple4};
        use std::mem::offset_of;
        assert_sizes(
            OBJ,
            &[
                ("dps_tuple4", size_of::<dps_tuple4>()),
                ("dps_tuple", size_of::<dps_tuple>()),
                ("flow_key4", KEY4_SIZE),
                ("flow_key", KEY6_SIZE),
                ("flow_w4", KEY4_WORDS * 8),
                ("flow_w6", KEY6_WORDS * 8),
                ("flow_slot4", SLOT4_WORDS * 8),
                ("flow_slot6", SLOT6_WORDS * 8),
            ],
        );
        assert_eq!((KEY4_SIZE, KEY6_SIZE), (24, 48));
        // table::scan reads the state word, the key words, then packets, bytes and flags.
        assert_eq!(offset_of!(flow_slot4, key), 8);
        assert_eq!(offset_of!(flow_slot4, packets), 8 + KEY4_WORDS * 8);
        assert_eq!(offset_of!(flow_slot4, bytes), 16 + KEY4_WORDS * 8);
        assert_eq!(offset_of!(flow_slot4, tcp_flags), 24 + KEY4_WORDS * 8);
        assert_eq!(offset_of!(flow_slot6, key), 8);
        assert_eq!(offset_of!(flow_slot6, packets), 8 + KEY6_WORDS * 8);
        assert_eq!(offset_of!(flow_slot6, bytes), 16 + KEY6_WORDS * 8);
        assert_eq!(offset_of!(flow_slot6, tcp_flags), 24 + KEY6_WORDS * 8);
        assert_eq!(VAL_SIZE, COUNTERS * 8);
    }

    #[test]
    fn entry_decodes_and_specs_split() {
        let mut v = vec![0u8; VAL_SIZE];
        v[0..8].copy_from_slice(&3u64.to_ne_bytes());
        v[8..16].copy_from_slice(&180u64.to_ne_bytes());
        v[16..24].copy_from_slice(&0x12u64.to_ne_bytes());

        let mut k = vec![0u8; KEY4_SIZE];
        k[0..4].copy_from_slice(&5u32.to_ne_bytes());
        k[4] = 1;
        k[8] = 2;
        k[9] = 6;
        k[10..12].copy_from_slice(&1234u16.to_ne_bytes());
        k[12..14].copy_from_slice(&80u16.to_ne_bytes());
        k[16..20].copy_from_slice(&[10, 1, 1, 1]);
        k[20..24].copy_from_slice(&[10, 1, 1, 2]);
        let r = decode_entry4(&k, &v).unwrap();
        assert_eq!(
            (r.ifindex, direction_name(r.direction), r.packets, r.bytes),
            (5, "egress", 3, 180)
        );
        assert_eq!((r.tuple.src.as_str(), r.tuple.dport), ("10.1.1.1", 80));
        assert_eq!(r.tuple.dst, "10.1.1.2");
        assert_eq!(decode::tcp_flag_names(r.tcp_flags), vec!["SYN", "ACK"]);
        assert!(decode_entry4(&k[..20], &v).is_none());
        assert!(decode_entry4(&k, &v[..16]).is_none());

        let mut k = vec![0u8; KEY6_SIZE];
        k[0..4].copy_from_slice(&5u32.to_ne_bytes());
        k[8] = 10;
        k[9] = 17;
        k[10..12].copy_from_slice(&53u16.to_ne_bytes());
        k[16] = 0xfd;
        k[31] = 1;
        k[32] = 0xfd;
        k[47] = 2;
        let r = decode_entry6(&k, &v).unwrap();
        assert_eq!(
            (
                direction_name(r.direction),
                r.tuple.src.as_str(),
                r.tuple.dst.as_str()
            ),
            ("ingress", "fd00::1", "fd00::2")
        );
        assert!(decode_entry6(&k[..KEY4_SIZE], &v).is_none());
        assert_eq!(split_iface("ns1/veth0"), (Some("ns1"), "veth0"));
        assert_eq!(split_iface("eth0"), (None, "eth0"));
        assert_eq!(
            split_xdp_mode("eth0"),
            Ok(("eth0", XDP_FLAGS_SKB_MODE, "skb"))
        );
        assert_eq!(
            split_xdp_mode("ns/eth0@drv"),
            Ok(("ns/eth0", XDP_FLAGS_DRV_MODE, "drv"))
        );
        assert!(split_xdp_mode("eth0@hw").is_err());
    }

    #[test]
    fn same_ifindex_in_another_namespace_clashes() {
        let mut names = HashMap::new();
        names.insert(2, (4026532000, "pod1/eth0".to_string()));
        // the same interface again (tcx and XDP on one device): no clash
        assert_eq!(clash(&names, 2, 4026532000), None);
        assert_eq!(clash(&names, 2, 4026532111), Some("pod1/eth0"));
        assert_eq!(clash(&names, 3, 4026532111), None);
        assert!(clash_reason(2, "pod1/eth0").contains("already counted for pod1/eth0"));
    }
}
