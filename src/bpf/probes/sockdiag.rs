//! TCP sockets from NETLINK_SOCK_DIAG (inet_diag with INET_DIAG_INFO): the kernel's own
//! `tcpi_total_retrans` and `tcpi_segs_out` per socket, and the socket inode (→ owning process).
//! A dump sees the calling thread's network namespace only. Framing and socket: `bpf::nl`.

use crate::bpf::nl::{self, NlError, Step};
use crate::bytes::ne_u32 as u32_at;
use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

/// One TCP socket as sock_diag reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSock {
    pub family: u8,
    pub src: String,
    pub src_port: u16,
    pub dst: String,
    pub dst_port: u16,
    pub state: u8,
    pub inode: u32,
    pub total_retrans: Option<u32>,
    pub segs_out: Option<u32>,
}

/// Key used to match probe flows to sockets.
pub type SockKey = (String, u16, String, u16);

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const INET_DIAG_INFO: u16 = 2;
const REQ_LEN: usize = 56;
const MSG_LEN: usize = 72;
/// Offsets in `struct tcp_info` (include/uapi/linux/tcp.h).
const TCPI_TOTAL_RETRANS: usize = 100;
const TCPI_SEGS_OUT: usize = 136;

/// Every TCP socket (IPv4 and IPv6) of the calling thread's netns.
pub fn dump_tcp() -> Result<Vec<TcpSock>, String> {
    let mut out = Vec::new();
    for family in [libc::AF_INET as u8, libc::AF_INET6 as u8] {
        out.extend(dump_family(family)?);
    }
    Ok(out)
}

/// The request message: nlmsghdr + inet_diag_req_v2 (all states, INET_DIAG_INFO).
pub fn request(family: u8, seq: u32) -> Vec<u8> {
    let mut b = Vec::with_capacity(REQ_LEN);
    b.push(family);
    b.push(libc::IPPROTO_TCP as u8);
    b.push(1 << (INET_DIAG_INFO - 1)); // idiag_ext
    b.push(0);
    b.extend_from_slice(&u32::MAX.to_ne_bytes()); // all states
    b.extend_from_slice(&[0u8; 48]); // inet_diag_sockid: any
    nl::request(
        SOCK_DIAG_BY_FAMILY,
        nl::NLM_F_REQUEST | nl::NLM_F_DUMP,
        seq,
        &b,
    )
}

fn dump_family(family: u8) -> Result<Vec<TcpSock>, String> {
    let sock = nl::Socket::open(nl::SockType::Datagram, nl::SockProtocol::NetlinkSockDiag)
        .map_err(|e| format!("sock_diag socket: {e}"))?;
    let mut socks = Vec::new();
    let r = sock.dump(&request(family, 1), |datagram| {
        match parse(datagram, &mut socks) {
            Parsed::More => Ok(false),
            Parsed::Done => Ok(true),
            Parsed::Error(e) => Err(e),
        }
    });
    match r {
        Ok(()) => Ok(socks),
        Err(nl::DumpError::Send(e)) => Err(format!("sock_diag send: {e}")),
        Err(nl::DumpError::Recv(e)) => Err(format!("sock_diag recv: {e}")),
        Err(nl::DumpError::Closed) => Err("sock_diag: socket closed".into()),
        Err(nl::DumpError::Endless) => Err("sock_diag: dump did not end".into()),
        Err(nl::DumpError::Reply(e)) => Err(e),
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    More,
    Done,
    Error(String),
}

/// Parse one datagram of netlink messages, appending sockets. A partial header at the end of
/// the datagram is ignored; a message whose length runs past it is an error.
pub fn parse(b: &[u8], out: &mut Vec<TcpSock>) -> Parsed {
    let truncated = || Parsed::Error("sock_diag: truncated message".into());
    for m in nl::messages(b) {
        let m = match m {
            Ok(m) => m,
            Err(NlError::Truncated(_)) => break,
            Err(_) => return truncated(),
        };
        match nl::dump_step(&m) {
            Ok(Step::Done) => return Parsed::Done,
            Ok(Step::Skip) => {}
            Ok(Step::Data) => {
                if let Some(s) = parse_msg(m.body) {
                    out.push(s);
                }
            }
            Err(NlError::Kernel { msg, .. }) => return Parsed::Error(format!("sock_diag: {msg}")),
            Err(_) => return truncated(),
        }
    }
    Parsed::More
}

fn addr(family: u8, b: &[u8]) -> String {
    if family == libc::AF_INET as u8 {
        Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string()
    } else {
        let mut a = [0u8; 16];
        a.copy_from_slice(&b[..16]);
        let v6 = Ipv6Addr::from(a);
        // v4-mapped sockets show as IPv4, as the probe sees them
        match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        }
    }
}

/// One `inet_diag_msg` with its attributes.
pub fn parse_msg(m: &[u8]) -> Option<TcpSock> {
    if m.len() < MSG_LEN {
        return None;
    }
    let family = m[0];
    let state = m[1];
    let sport = u16::from_be_bytes([m[4], m[5]]);
    let dport = u16::from_be_bytes([m[6], m[7]]);
    let src = addr(family, &m[8..24]);
    let dst = addr(family, &m[24..40]);
    let inode = u32_at(m, 68);
    let mut total_retrans = None;
    let mut segs_out = None;
    for a in nl::attrs(&m[MSG_LEN..]) {
        let Ok((aty, info)) = a else { break };
        if aty == INET_DIAG_INFO {
            if info.len() >= TCPI_TOTAL_RETRANS + 4 {
                total_retrans = Some(u32_at(info, TCPI_TOTAL_RETRANS));
            }
            if info.len() >= TCPI_SEGS_OUT + 4 {
                segs_out = Some(u32_at(info, TCPI_SEGS_OUT));
            }
        }
    }
    Some(TcpSock {
        family,
        src,
        src_port: sport,
        dst,
        dst_port: dport,
        state,
        inode,
        total_retrans,
        segs_out,
    })
}

/// Index sockets by (src, sport, dst, dport).
pub fn index(socks: Vec<TcpSock>) -> HashMap<SockKey, TcpSock> {
    socks
        .into_iter()
        .map(|s| ((s.src.clone(), s.src_port, s.dst.clone(), s.dst_port), s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::ne_u16 as u16_at;

    fn msg(total: u32, segs: u32) -> Vec<u8> {
        let mut m = vec![0u8; MSG_LEN];
        m[0] = libc::AF_INET as u8;
        m[1] = 1;
        m[4..6].copy_from_slice(&40000u16.to_be_bytes());
        m[6..8].copy_from_slice(&443u16.to_be_bytes());
        m[8..12].copy_from_slice(&[10, 0, 0, 1]);
        m[24..28].copy_from_slice(&[10, 0, 0, 2]);
        m[68..72].copy_from_slice(&777u32.to_ne_bytes());
        let mut info = vec![0u8; 232];
        info[TCPI_TOTAL_RETRANS..TCPI_TOTAL_RETRANS + 4].copy_from_slice(&total.to_ne_bytes());
        info[TCPI_SEGS_OUT..TCPI_SEGS_OUT + 4].copy_from_slice(&segs.to_ne_bytes());
        m.extend_from_slice(&((info.len() + 4) as u16).to_ne_bytes());
        m.extend_from_slice(&INET_DIAG_INFO.to_ne_bytes());
        m.extend_from_slice(&info);
        m
    }

    #[test]
    fn request_layout() {
        let r = request(2, 9);
        assert_eq!(r.len(), 72);
        assert_eq!(u32_at(&r, 0), 72);
        assert_eq!(u16_at(&r, 4), 20);
        assert_eq!((r[16], r[17], r[18]), (2, 6, 2));
    }

    #[test]
    fn messages_parse() {
        let body = msg(5, 1000);
        let mut dgram = Vec::new();
        dgram.extend_from_slice(&((body.len() + 16) as u32).to_ne_bytes());
        dgram.extend_from_slice(&20u16.to_ne_bytes());
        dgram.extend_from_slice(&[0u8; 10]);
        dgram.extend_from_slice(&body);
        let mut out = Vec::new();
        assert_eq!(parse(&dgram, &mut out), Parsed::More);
        let s = &out[0];
        assert_eq!(
            (s.src.as_str(), s.src_port, s.dst.as_str(), s.dst_port),
            ("10.0.0.1", 40000, "10.0.0.2", 443)
        );
        assert_eq!(
            (s.inode, s.total_retrans, s.segs_out),
            (777, Some(5), Some(1000))
        );
        let mut done = Vec::new();
        done.extend_from_slice(&16u32.to_ne_bytes());
        done.extend_from_slice(&(libc::NLMSG_DONE as u16).to_ne_bytes());
        done.extend_from_slice(&[0u8; 10]);
        assert_eq!(parse(&done, &mut out), Parsed::Done);
        assert_eq!(parse(&[1, 2, 3], &mut out), Parsed::More);
    }
}
