//! rtnetlink enumeration: interfaces with their XDP program ids (one `RTM_GETLINK` dump instead
//! of one dump per interface), ingress/clsact qdiscs and legacy tc (cls_bpf) filters.
//!
//! Two halves: a pure, total parser of rtnetlink dump replies (`parse_dump`, unit-tested with
//! byte fixtures; garbage gives an error, never a panic) and a small blocking socket client
//! (`RtnlClient`) bound to the calling thread's network namespace. The netlink framing under
//! both (headers, message and attribute walks, the socket and its dump loop) is `bpf::nl`.

use std::collections::HashMap;

use crate::bpf::nl::{self, attrs, Step};
pub use crate::bpf::nl::{NlError, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLM_F_DUMP, NLM_F_REQUEST};

// ---- constants (uapi linux/rtnetlink.h, pkt_sched.h, pkt_cls.h) ----

pub const RTM_NEWLINK: u16 = 16;
pub const RTM_GETLINK: u16 = 18;
pub const RTM_NEWQDISC: u16 = 36;
pub const RTM_GETQDISC: u16 = 38;
pub const RTM_NEWTFILTER: u16 = 44;
pub const RTM_GETTFILTER: u16 = 46;

pub const IFLA_IFNAME: u16 = 3;
pub const IFLA_LINKINFO: u16 = 18;
pub const IFLA_XDP: u16 = 43;
pub const IFLA_INFO_KIND: u16 = 1;
pub const IFLA_XDP_ATTACHED: u16 = 2;
pub const IFLA_XDP_PROG_ID: u16 = 4;
pub const IFLA_XDP_DRV_PROG_ID: u16 = 5;
pub const IFLA_XDP_SKB_PROG_ID: u16 = 6;
pub const IFLA_XDP_HW_PROG_ID: u16 = 7;
/// `IFLA_XDP_ATTACHED` values.
pub const XDP_ATTACHED_DRV: u8 = 1;
pub const XDP_ATTACHED_SKB: u8 = 2;
pub const XDP_ATTACHED_HW: u8 = 3;

pub const TCA_KIND: u16 = 1;
pub const TCA_OPTIONS: u16 = 2;
pub const TCA_CHAIN: u16 = 11;

pub const TCA_BPF_NAME: u16 = 7;
pub const TCA_BPF_FLAGS: u16 = 8;
pub const TCA_BPF_TAG: u16 = 10;
pub const TCA_BPF_ID: u16 = 11;
pub const TCA_BPF_FLAG_ACT_DIRECT: u32 = 1;

/// Parent of the ingress/clsact qdisc itself (`ffff:fff1`).
pub const TC_H_INGRESS: u32 = 0xFFFF_FFF1;
/// Filter parent for the ingress direction of clsact/ingress (`ffff:fff2`).
pub const TC_H_CLSACT_INGRESS: u32 = 0xFFFF_FFF2;
/// Filter parent for the egress direction of clsact (`ffff:fff3`).
pub const TC_H_CLSACT_EGRESS: u32 = 0xFFFF_FFF3;

const TCMSG_LEN: usize = 20;
const IFINFOMSG_LEN: usize = 16;

/// cls_bpf specific options of one filter (`TCA_OPTIONS` of kind `bpf`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BpfFilterOpts {
    pub prog_id: Option<u32>,
    /// `TCA_BPF_NAME`: what the loader called it (iproute2: `file.o:[section]`).
    pub name: Option<String>,
    pub flags: Option<u32>,
    pub tag: Option<[u8; 8]>,
}

impl BpfFilterOpts {
    pub fn direct_action(&self) -> bool {
        self.flags.unwrap_or(0) & TCA_BPF_FLAG_ACT_DIRECT != 0
    }
}

/// One `tcmsg` of a dump (qdisc or filter), with the attributes dpscope uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TcMsg {
    pub msg_type: u16,
    pub ifindex: i32,
    pub handle: u32,
    pub parent: u32,
    /// Filters: `pref << 16 | protocol` (protocol in network order).
    pub info: u32,
    pub kind: Option<String>,
    pub chain: Option<u32>,
    pub bpf: Option<BpfFilterOpts>,
}

impl TcMsg {
    /// tc filter preference (priority).
    pub fn pref(&self) -> u32 {
        self.info >> 16
    }
}

/// XDP program ids of one interface, per mode (0 = none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct XdpIds {
    pub drv: u32,
    pub skb: u32,
    pub hw: u32,
}

/// One interface of a `RTM_GETLINK` dump.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkMsg {
    pub ifindex: u32,
    pub ifname: String,
    /// `IFLA_INFO_KIND` (`veth`, `netkit`, `vxlan`...), when the device has one.
    pub kind: Option<String>,
    pub xdp: XdpIds,
}

/// The messages of one `recv` of a dump, and whether the dump ended in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DumpChunk {
    pub msgs: Vec<TcMsg>,
    pub links: Vec<LinkMsg>,
    pub done: bool,
}

fn rd_u32(b: &[u8], off: usize) -> Result<u32, NlError> {
    b.get(off..off + 4)
        .and_then(|s| s.try_into().ok())
        .map(u32::from_ne_bytes)
        .ok_or(NlError::Truncated(off))
}

/// A NUL-terminated (or not) string attribute.
fn attr_str(p: &[u8]) -> String {
    let end = p.iter().position(|&c| c == 0).unwrap_or(p.len());
    String::from_utf8_lossy(&p[..end]).into_owned()
}

fn parse_bpf_opts(buf: &[u8]) -> Result<BpfFilterOpts, NlError> {
    let mut o = BpfFilterOpts::default();
    for a in attrs(buf) {
        let (ty, p) = a?;
        match ty {
            TCA_BPF_ID => o.prog_id = Some(rd_u32(p, 0)?),
            TCA_BPF_NAME => o.name = Some(attr_str(p)),
            TCA_BPF_FLAGS => o.flags = Some(rd_u32(p, 0)?),
            TCA_BPF_TAG => {
                o.tag = p.get(..8).and_then(|t| t.try_into().ok());
            }
            _ => {}
        }
    }
    Ok(o)
}

fn parse_tcmsg(msg_type: u16, body: &[u8]) -> Result<TcMsg, NlError> {
    if body.len() < TCMSG_LEN {
        return Err(NlError::Truncated(body.len()));
    }
    let mut m = TcMsg {
        msg_type,
        ifindex: rd_u32(body, 4)? as i32,
        handle: rd_u32(body, 8)?,
        parent: rd_u32(body, 12)?,
        info: rd_u32(body, 16)?,
        ..Default::default()
    };
    let mut options: Option<&[u8]> = None;
    for a in attrs(&body[TCMSG_LEN..]) {
        let (ty, p) = a?;
        match ty {
            TCA_KIND => m.kind = Some(attr_str(p)),
            TCA_CHAIN => m.chain = Some(rd_u32(p, 0)?),
            TCA_OPTIONS => options = Some(p),
            _ => {}
        }
    }
    // TCA_OPTIONS is kind-specific: only decode it for cls_bpf.
    if let (Some(opts), Some("bpf")) = (options, m.kind.as_deref()) {
        m.bpf = Some(parse_bpf_opts(opts)?);
    }
    Ok(m)
}

fn parse_xdp(buf: &[u8]) -> Result<XdpIds, NlError> {
    let mut x = XdpIds::default();
    let mut attached = 0u8;
    let mut single = 0u32;
    for a in attrs(buf) {
        let (ty, p) = a?;
        match ty {
            IFLA_XDP_ATTACHED => attached = p.first().copied().unwrap_or(0),
            IFLA_XDP_PROG_ID => single = rd_u32(p, 0)?,
            IFLA_XDP_DRV_PROG_ID => x.drv = rd_u32(p, 0)?,
            IFLA_XDP_SKB_PROG_ID => x.skb = rd_u32(p, 0)?,
            IFLA_XDP_HW_PROG_ID => x.hw = rd_u32(p, 0)?,
            _ => {}
        }
    }
    // Kernels always send the per-mode ids; the single id is a fallback for very old ones.
    if x == XdpIds::default() && single != 0 {
        match attached {
            XDP_ATTACHED_DRV => x.drv = single,
            XDP_ATTACHED_SKB => x.skb = single,
            XDP_ATTACHED_HW => x.hw = single,
            _ => {}
        }
    }
    Ok(x)
}

fn parse_ifinfomsg(body: &[u8]) -> Result<LinkMsg, NlError> {
    if body.len() < IFINFOMSG_LEN {
        return Err(NlError::Truncated(body.len()));
    }
    let mut l = LinkMsg {
        ifindex: rd_u32(body, 4)?,
        ..Default::default()
    };
    for a in attrs(&body[IFINFOMSG_LEN..]) {
        let (ty, p) = a?;
        match ty {
            IFLA_IFNAME => l.ifname = attr_str(p),
            IFLA_XDP => l.xdp = parse_xdp(p)?,
            IFLA_LINKINFO => {
                for a in attrs(p) {
                    let (t, q) = a?;
                    if t == IFLA_INFO_KIND {
                        l.kind = Some(attr_str(q));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(l)
}

/// Parse one datagram of an rtnetlink dump reply (a run of netlink messages). Only
/// `RTM_NEWLINK`/`RTM_NEWQDISC`/`RTM_NEWTFILTER` messages are decoded; `NLMSG_DONE` ends the dump and a
/// negative `NLMSG_ERROR` becomes `NlError::Kernel`. Never panics, whatever the bytes.
pub fn parse_dump(buf: &[u8]) -> Result<DumpChunk, NlError> {
    let mut chunk = DumpChunk::default();
    for m in nl::messages(buf) {
        let m = m?;
        match nl::dump_step(&m)? {
            Step::Done => {
                chunk.done = true;
                return Ok(chunk);
            }
            Step::Skip => {}
            Step::Data => match m.ty {
                RTM_NEWQDISC | RTM_NEWTFILTER => chunk.msgs.push(parse_tcmsg(m.ty, m.body)?),
                RTM_NEWLINK => chunk.links.push(parse_ifinfomsg(m.body)?),
                _ => {}
            },
        }
    }
    Ok(chunk)
}

/// Bytes of an `RTM_GETLINK` dump request: `nlmsghdr` + `ifinfomsg` (all interfaces).
pub fn build_link_dump_request(seq: u32) -> Vec<u8> {
    nl::request(
        RTM_GETLINK,
        NLM_F_REQUEST | NLM_F_DUMP,
        seq,
        &[0u8; IFINFOMSG_LEN],
    )
}

/// Bytes of a dump request: `nlmsghdr` + `tcmsg` (family unspec).
pub fn build_dump_request(msg_type: u16, seq: u32, ifindex: i32, parent: u32) -> Vec<u8> {
    let mut tcmsg = Vec::with_capacity(TCMSG_LEN);
    tcmsg.extend_from_slice(&[0u8; 4]); // family, pad1, pad2
    tcmsg.extend_from_slice(&ifindex.to_ne_bytes());
    tcmsg.extend_from_slice(&0u32.to_ne_bytes()); // handle
    tcmsg.extend_from_slice(&parent.to_ne_bytes());
    tcmsg.extend_from_slice(&0u32.to_ne_bytes()); // info
    nl::request(msg_type, NLM_F_REQUEST | NLM_F_DUMP, seq, &tcmsg)
}

/// Which ingress-type qdisc (`clsact` or `ingress`) each interface has, from a qdisc dump.
pub fn ingress_qdiscs(msgs: &[TcMsg]) -> HashMap<i32, String> {
    msgs.iter()
        .filter(|m| m.msg_type == RTM_NEWQDISC && m.parent == TC_H_INGRESS)
        .filter_map(|m| m.kind.clone().map(|k| (m.ifindex, k)))
        .collect()
}

/// cls_bpf filters of a filter dump, deduplicated and in the order the kernel runs them:
/// chain, then pref, then handle. The per-`tcf_proto` header message (handle 0, no options)
/// is dropped.
pub fn bpf_filters(msgs: &[TcMsg]) -> Vec<TcMsg> {
    let mut out: Vec<TcMsg> = msgs
        .iter()
        .filter(|m| m.msg_type == RTM_NEWTFILTER && m.kind.as_deref() == Some("bpf"))
        .filter(|m| m.bpf.as_ref().is_some_and(|b| b.prog_id.is_some()))
        .cloned()
        .collect();
    out.sort_by_key(|m| (m.chain.unwrap_or(0), m.pref(), m.handle));
    out.dedup_by_key(|m| (m.chain, m.pref(), m.handle, m.parent));
    out
}

/// A blocking NETLINK_ROUTE socket in the calling thread's network namespace (the one current
/// when it was opened).
pub struct RtnlClient {
    sock: nl::Socket,
    seq: u32,
}

impl RtnlClient {
    pub fn open() -> std::io::Result<Self> {
        let sock = nl::Socket::open(nl::SockType::Raw, nl::SockProtocol::NetlinkRoute)?;
        // A failure only means no receive timeout, which is not fatal.
        let _ = sock.set_receive_timeout(std::time::Duration::from_secs(2));
        Ok(RtnlClient { sock, seq: 1 })
    }

    /// Dump qdiscs (`RTM_GETQDISC`) or filters (`RTM_GETTFILTER`) of `ifindex` under `parent`.
    pub fn dump(&mut self, msg_type: u16, ifindex: i32, parent: u32) -> Result<Vec<TcMsg>, String> {
        self.seq = self.seq.wrapping_add(1);
        let req = build_dump_request(msg_type, self.seq, ifindex, parent);
        self.run(&req).map(|c| c.msgs)
    }

    /// Dump every interface of the namespace, with XDP ids.
    pub fn dump_links(&mut self) -> Result<Vec<LinkMsg>, String> {
        self.seq = self.seq.wrapping_add(1);
        let req = build_link_dump_request(self.seq);
        self.run(&req).map(|c| c.links)
    }

    /// Send one dump request and collect every message of the reply.
    fn run(&mut self, req: &[u8]) -> Result<DumpChunk, String> {
        let mut out = DumpChunk::default();
        let r = self.sock.dump(req, |datagram| {
            let chunk = parse_dump(datagram)?;
            out.msgs.extend(chunk.msgs);
            out.links.extend(chunk.links);
            out.done = chunk.done;
            Ok::<bool, NlError>(chunk.done)
        });
        match r {
            Ok(()) => Ok(out),
            Err(nl::DumpError::Send(e)) => Err(format!("netlink send: {e}")),
            Err(nl::DumpError::Recv(e)) => Err(format!("netlink recv: {e}")),
            Err(nl::DumpError::Closed) => Err("netlink socket closed".into()),
            Err(nl::DumpError::Endless) => Err("netlink dump did not end".into()),
            Err(nl::DumpError::Reply(e)) => Err(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(ty: u16, payload: &[u8]) -> Vec<u8> {
        let len = (4 + payload.len()) as u16;
        let mut b = Vec::new();
        b.extend_from_slice(&len.to_ne_bytes());
        b.extend_from_slice(&ty.to_ne_bytes());
        b.extend_from_slice(payload);
        while b.len() % 4 != 0 {
            b.push(0);
        }
        b
    }

    fn nlmsg(ty: u16, body: &[u8]) -> Vec<u8> {
        let len = (16 + body.len()) as u32;
        let mut b = Vec::new();
        b.extend_from_slice(&len.to_ne_bytes());
        b.extend_from_slice(&ty.to_ne_bytes());
        b.extend_from_slice(&2u16.to_ne_bytes()); // NLM_F_MULTI
        b.extend_from_slice(&7u32.to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes());
        b.extend_from_slice(body);
        while b.len() % 4 != 0 {
            b.push(0);
        }
        b
    }

    fn tcmsg(ifindex: i32, handle: u32, parent: u32, info: u32, attrs: &[Vec<u8>]) -> Vec<u8> {
        let mut b = vec![0u8; 4];
        b.extend_from_slice(&ifindex.to_ne_bytes());
        b.extend_from_slice(&handle.to_ne_bytes());
        b.extend_from_slice(&parent.to_ne_bytes());
        b.extend_from_slice(&info.to_ne_bytes());
        for a in attrs {
            b.extend_from_slice(a);
        }
        b
    }

    fn bpf_filter(
        ifindex: i32,
        pref: u32,
        handle: u32,
        prog_id: u32,
        name: &str,
        da: bool,
    ) -> Vec<u8> {
        let mut opts = Vec::new();
        opts.extend(attr(TCA_BPF_ID, &prog_id.to_ne_bytes()));
        let mut n = name.as_bytes().to_vec();
        n.push(0);
        opts.extend(attr(TCA_BPF_NAME, &n));
        opts.extend(attr(TCA_BPF_FLAGS, &(da as u32).to_ne_bytes()));
        opts.extend(attr(TCA_BPF_TAG, &[1, 2, 3, 4, 5, 6, 7, 8]));
        let kind = attr(TCA_KIND, b"bpf\0");
        let opts = attr(TCA_OPTIONS | 0x8000, &opts);
        let chain = attr(TCA_CHAIN, &0u32.to_ne_bytes());
        let info = (pref << 16) | 0x0300; // ETH_P_ALL in network order
        nlmsg(
            RTM_NEWTFILTER,
            &tcmsg(
                ifindex,
                handle,
                TC_H_CLSACT_INGRESS,
                info,
                &[kind, chain, opts],
            ),
        )
    }

    fn done() -> Vec<u8> {
        nlmsg(NLMSG_DONE, &0i32.to_ne_bytes())
    }

    #[test]
    fn parses_bpf_filters_in_run_order() {
        let mut buf = Vec::new();
        // The per-proto header message: kind bpf, handle 0, no options.
        buf.extend(nlmsg(
            RTM_NEWTFILTER,
            &tcmsg(
                4,
                0,
                TC_H_CLSACT_INGRESS,
                20 << 16,
                &[attr(TCA_KIND, b"bpf\0")],
            ),
        ));
        buf.extend(bpf_filter(4, 20, 1, 42, "new.o:[tc]", true));
        buf.extend(bpf_filter(4, 10, 2, 41, "old.o:[tc]", false));
        buf.extend(bpf_filter(4, 10, 1, 40, "old.o:[tc]", true));
        // A non-bpf filter is ignored.
        buf.extend(nlmsg(
            RTM_NEWTFILTER,
            &tcmsg(
                4,
                1,
                TC_H_CLSACT_INGRESS,
                5 << 16,
                &[attr(TCA_KIND, b"u32\0")],
            ),
        ));
        buf.extend(done());
        let chunk = parse_dump(&buf).expect("valid dump");
        assert!(chunk.done);
        assert_eq!(chunk.msgs.len(), 5);
        let f = bpf_filters(&chunk.msgs);
        let ids: Vec<_> = f
            .iter()
            .map(|m| m.bpf.as_ref().and_then(|b| b.prog_id))
            .collect();
        assert_eq!(ids, vec![Some(40), Some(41), Some(42)]);
        assert_eq!(f[0].pref(), 10);
        assert_eq!(f[0].handle, 1);
        assert_eq!(f[2].pref(), 20);
        let b1 = f[1].bpf.as_ref().expect("bpf opts");
        assert!(!b1.direct_action());
        assert_eq!(b1.name.as_deref(), Some("old.o:[tc]"));
        assert_eq!(b1.tag, Some([1, 2, 3, 4, 5, 6, 7, 8]));
        assert!(f[0].bpf.as_ref().is_some_and(|b| b.direct_action()));
    }

    #[test]
    fn parses_qdisc_dump() {
        let mut buf = Vec::new();
        buf.extend(nlmsg(
            RTM_NEWQDISC,
            &tcmsg(
                3,
                0xFFFF_0000,
                TC_H_INGRESS,
                1,
                &[attr(TCA_KIND, b"clsact\0")],
            ),
        ));
        buf.extend(nlmsg(
            RTM_NEWQDISC,
            &tcmsg(3, 0, 0xFFFF_FFFF, 1, &[attr(TCA_KIND, b"noqueue\0")]),
        ));
        buf.extend(nlmsg(
            RTM_NEWQDISC,
            &tcmsg(
                5,
                0xFFFF_0000,
                TC_H_INGRESS,
                1,
                &[attr(TCA_KIND, b"ingress\0")],
            ),
        ));
        let chunk = parse_dump(&buf).expect("valid dump");
        assert!(!chunk.done);
        let q = ingress_qdiscs(&chunk.msgs);
        assert_eq!(q.get(&3).map(String::as_str), Some("clsact"));
        assert_eq!(q.get(&5).map(String::as_str), Some("ingress"));
        assert_eq!(q.len(), 2);
    }

    #[test]
    fn kernel_error_is_reported() {
        let mut body = (-libc::EOPNOTSUPP).to_ne_bytes().to_vec();
        body.extend([0u8; 16]);
        let buf = nlmsg(NLMSG_ERROR, &body);
        match parse_dump(&buf) {
            Err(NlError::Kernel { errno, .. }) => assert_eq!(errno, libc::EOPNOTSUPP),
            other => panic!("unexpected {other:?}"),
        }
        // NLMSG_DONE carrying an error too.
        let buf = nlmsg(NLMSG_DONE, &(-libc::EINVAL).to_ne_bytes());
        assert!(matches!(parse_dump(&buf), Err(NlError::Kernel { .. })));
    }

    #[test]
    fn garbage_never_panics() {
        let good = {
            let mut b = bpf_filter(4, 10, 1, 40, "x", true);
            b.extend(done());
            b
        };
        // Every truncation and every single-byte corruption must give Ok or Err, not a panic.
        for cut in 0..good.len() {
            let _ = parse_dump(&good[..cut]);
        }
        for i in 0..good.len() {
            for v in [0u8, 1, 3, 0x7f, 0xff] {
                let mut b = good.clone();
                b[i] = v;
                let _ = parse_dump(&b);
            }
        }
        // Pseudo-random bytes.
        let mut x: u32 = 0x1234_5678;
        for len in 0..300 {
            let b: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect();
            let _ = parse_dump(&b);
        }
        // A message claiming a length beyond the buffer is an error.
        let mut b = good.clone();
        b[0..4].copy_from_slice(&1000u32.to_ne_bytes());
        assert!(matches!(parse_dump(&b), Err(NlError::BadLength { .. })));
        // A short tcmsg body is an error.
        let b = nlmsg(RTM_NEWTFILTER, &[0u8; 8]);
        assert!(parse_dump(&b).is_err());
        // An attribute that overruns its message.
        let mut t = tcmsg(1, 1, 1, 1, &[]);
        t.extend_from_slice(&200u16.to_ne_bytes());
        t.extend_from_slice(&TCA_KIND.to_ne_bytes());
        assert!(parse_dump(&nlmsg(RTM_NEWTFILTER, &t)).is_err());
    }

    fn link(ifindex: u32, name: &str, kind: Option<&str>, xdp: &[(u16, u32)]) -> Vec<u8> {
        let mut b = vec![0u8; 4];
        b.extend_from_slice(&ifindex.to_ne_bytes());
        b.extend_from_slice(&[0u8; 8]);
        let mut n = name.as_bytes().to_vec();
        n.push(0);
        b.extend(attr(IFLA_IFNAME, &n));
        if let Some(k) = kind {
            b.extend(attr(
                IFLA_LINKINFO | 0x8000,
                &attr(IFLA_INFO_KIND, k.as_bytes()),
            ));
        }
        if !xdp.is_empty() {
            let mut x = Vec::new();
            for (t, v) in xdp {
                if *t == IFLA_XDP_ATTACHED {
                    x.extend(attr(*t, &[*v as u8]));
                } else {
                    x.extend(attr(*t, &v.to_ne_bytes()));
                }
            }
            b.extend(attr(IFLA_XDP | 0x8000, &x));
        }
        nlmsg(RTM_NEWLINK, &b)
    }

    #[test]
    fn parses_link_dump_with_xdp() {
        let mut buf = Vec::new();
        buf.extend(link(1, "lo", None, &[(IFLA_XDP_ATTACHED, 0)]));
        buf.extend(link(
            7,
            "veth0",
            Some("veth"),
            &[
                (IFLA_XDP_ATTACHED, 4),
                (IFLA_XDP_DRV_PROG_ID, 11),
                (IFLA_XDP_SKB_PROG_ID, 12),
            ],
        ));
        buf.extend(link(
            9,
            "nk0",
            Some("netkit"),
            &[(IFLA_XDP_ATTACHED, 2), (IFLA_XDP_PROG_ID, 13)],
        ));
        buf.extend(done());
        let c = parse_dump(&buf).expect("valid");
        assert!(c.done);
        assert_eq!(c.links.len(), 3);
        assert_eq!(c.links[0].ifname, "lo");
        assert_eq!(c.links[0].xdp, XdpIds::default());
        assert_eq!(c.links[1].kind.as_deref(), Some("veth"));
        assert_eq!(
            c.links[1].xdp,
            XdpIds {
                drv: 11,
                skb: 12,
                hw: 0
            }
        );
        assert_eq!(c.links[2].xdp.skb, 13);
        assert_eq!(c.links[2].kind.as_deref(), Some("netkit"));
        for cut in 0..buf.len() {
            let _ = parse_dump(&buf[..cut]);
        }
        let r = build_link_dump_request(3);
        assert_eq!(r.len(), 32);
        assert_eq!(u16::from_ne_bytes([r[4], r[5]]), RTM_GETLINK);
    }

    #[test]
    fn request_layout() {
        let r = build_dump_request(RTM_GETTFILTER, 9, 7, TC_H_CLSACT_EGRESS);
        assert_eq!(r.len(), 36);
        assert_eq!(u32::from_ne_bytes(r[0..4].try_into().unwrap()), 36);
        assert_eq!(
            u16::from_ne_bytes(r[4..6].try_into().unwrap()),
            RTM_GETTFILTER
        );
        assert_eq!(u16::from_ne_bytes(r[6..8].try_into().unwrap()), 0x301);
        assert_eq!(i32::from_ne_bytes(r[20..24].try_into().unwrap()), 7);
        assert_eq!(
            u32::from_ne_bytes(r[28..32].try_into().unwrap()),
            TC_H_CLSACT_EGRESS
        );
    }
}
