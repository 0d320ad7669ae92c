//! Pure decoding of the probes' map records (layouts in probes/*.bpf.c) and small name tables.
//! No I/O: everything here is unit-tested on byte fixtures.

use std::net::{Ipv4Addr, Ipv6Addr};

pub const AF_INET: u8 = 2;
pub const AF_INET6: u8 = 10;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Tuple {
    pub family: u8,
    pub protocol: u8,
    pub sport: u16,
    pub dport: u16,
    pub src: String,
    pub dst: String,
}

/// An address of a tuple as text: IPv4 from the first 4 bytes, IPv6 from 16 (IPv4-mapped
/// addresses shown as IPv4: dual-stack sockets talking IPv4 show as IPv4, as sock_diag
/// matching expects); empty for family 0 (headers not parsed) or bytes that do not fit.
fn addr_text(family: u8, a: &[u8]) -> String {
    match (family, a.len()) {
        (AF_INET, 4..) => Ipv4Addr::new(a[0], a[1], a[2], a[3]).to_string(),
        (AF_INET6, 16) => {
            let v6 = Ipv6Addr::from(crate::bytes::array::<16>(a, 0).unwrap_or_default());
            match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => v6.to_string(),
            }
        }
        _ => String::new(),
    }
}

/// A `struct dps_tuple` (probes/dpscope.h: addresses as 16 bytes, IPv4 in the first 4), from
/// the fields of any skeleton's copy of it.
pub fn tuple(family: u8, protocol: u8, ports: [u16; 2], src: &[u8; 16], dst: &[u8; 16]) -> Tuple {
    Tuple {
        family,
        protocol,
        sport: ports[0],
        dport: ports[1],
        src: addr_text(family, src),
        dst: addr_text(family, dst),
    }
}

/// A `struct dps_tuple4` (the same first 8 bytes, IPv4 addresses as network-order `__u32`s).
pub fn tuple4(family: u8, protocol: u8, ports: [u16; 2], src: u32, dst: u32) -> Tuple {
    Tuple {
        family,
        protocol,
        sport: ports[0],
        dport: ports[1],
        src: addr_text(family, &src.to_ne_bytes()),
        dst: addr_text(family, &dst.to_ne_bytes()),
    }
}

/// `decode::tuple` / `decode::tuple4` of a skeleton's `dps_tuple` / `dps_tuple4` value.
macro_rules! tuple_of {
    (tuple, $t:expr) => {{
        let t = &$t;
        $crate::bpf::probes::decode::tuple(
            t.family,
            t.protocol,
            [t.sport, t.dport],
            &t.saddr,
            &t.daddr,
        )
    }};
    (tuple4, $t:expr) => {{
        let t = &$t;
        $crate::bpf::probes::decode::tuple4(
            t.family,
            t.protocol,
            [t.sport, t.dport],
            t.saddr,
            t.daddr,
        )
    }};
}
pub(crate) use tuple_of;

/// Protocol names as the snapshot contract spells them.
pub fn protocol_name(p: u8) -> String {
    match p {
        6 => "TCP".into(),
        17 => "UDP".into(),
        1 => "ICMP".into(),
        58 => "ICMPv6".into(),
        132 => "SCTP".into(),
        0 => "ANY".into(),
        n => n.to_string(),
    }
}

pub fn family_name(f: u8) -> String {
    match f {
        AF_INET => "4".into(),
        AF_INET6 => "6".into(),
        _ => String::new(),
    }
}

/// TCP states (include/net/tcp_states.h).
pub fn tcp_state_name(s: u32) -> String {
    const NAMES: [&str; 13] = [
        "",
        "ESTABLISHED",
        "SYN_SENT",
        "SYN_RECV",
        "FIN_WAIT1",
        "FIN_WAIT2",
        "TIME_WAIT",
        "CLOSE",
        "CLOSE_WAIT",
        "LAST_ACK",
        "LISTEN",
        "CLOSING",
        "NEW_SYN_RECV",
    ];
    NAMES
        .get(s as usize)
        .map(|n| n.to_string())
        .unwrap_or_else(|| s.to_string())
}

/// TCP flag bits of header byte 13, in wire order.
pub fn tcp_flag_names(bits: u32) -> Vec<String> {
    const F: [(u32, &str); 8] = [
        (0x02, "SYN"),
        (0x10, "ACK"),
        (0x08, "PSH"),
        (0x01, "FIN"),
        (0x04, "RST"),
        (0x20, "URG"),
        (0x40, "ECE"),
        (0x80, "CWR"),
    ];
    F.iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| n.to_string())
        .collect()
}

/// XDP action names; 100 is the probe's code for a failed redirect.
pub fn xdp_action_name(a: u32) -> String {
    match a {
        0 => "ABORTED".into(),
        1 => "DROP".into(),
        2 => "PASS".into(),
        3 => "TX".into(),
        4 => "REDIRECT".into(),
        100 => "REDIRECT_ERR".into(),
        n => format!("action {n}"),
    }
}

/// Drop reason names from the BTF enum `skb_drop_reason`: strip the prefix.
pub fn reason_name(raw: &str) -> String {
    raw.strip_prefix("SKB_DROP_REASON_")
        .unwrap_or(raw)
        .to_string()
}

/// A container or pod id in a cgroup path, if it names one: the last 64-hex-digit id
/// (`docker-<id>.scope`, `cri-containerd-<id>.scope`, `.../crio-<id>`), else a pod UID
/// (`kubepods-...-pod<uid>.slice`, `_` turned back into `-`).
pub fn container_from_cgroup(path: &str) -> Option<String> {
    let is_hex = |s: &str| s.len() == 64 && s.bytes().all(|c| c.is_ascii_hexdigit());
    for seg in path.rsplit('/') {
        let seg = seg.trim_end_matches(".scope");
        let last = seg.rsplit(['-', ':']).next().unwrap_or(seg);
        if is_hex(last) {
            return Some(last[..12].to_string());
        }
    }
    for seg in path.rsplit('/') {
        if let Some(i) = seg.rfind("pod") {
            let uid = seg[i + 3..].trim_end_matches(".slice").replace('_', "-");
            if uid.len() >= 32 && uid.bytes().all(|c| c.is_ascii_hexdigit() || c == b'-') {
                return Some(format!("pod {uid}"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuples_decode_v4_and_v6() {
        let a16 = |s: &[u8]| {
            let mut a = [0u8; 16];
            a[..s.len()].copy_from_slice(s);
            a
        };
        let t = tuple(
            2,
            6,
            [40000, 443],
            &a16(&[10, 1, 2, 3]),
            &a16(&[10, 9, 8, 7]),
        );
        assert_eq!(
            (t.src.as_str(), t.sport, t.dst.as_str(), t.dport),
            ("10.1.2.3", 40000, "10.9.8.7", 443)
        );
        assert_eq!(protocol_name(t.protocol), "TCP");
        let mut s6 = [0u8; 16];
        s6[0] = 0xfd;
        s6[15] = 0x12;
        let t = tuple(10, 17, [53, 5353], &s6, &s6);
        assert_eq!(t.src, "fd00::12");
        assert_eq!(protocol_name(t.protocol), "UDP");
        let mut mapped = [0u8; 16];
        mapped[10] = 0xff;
        mapped[11] = 0xff;
        mapped[12..].copy_from_slice(&[10, 0, 0, 5]);
        assert_eq!(tuple(10, 6, [1, 2], &mapped, &mapped).src, "10.0.0.5");
        let t = tuple(0, 0, [0, 0], &[0; 16], &[0; 16]);
        assert_eq!((t.src.as_str(), t.family), ("", 0));
    }

    #[test]
    fn tuples4_decode() {
        let a = |b: [u8; 4]| u32::from_ne_bytes(b);
        let t = tuple4(2, 17, [5353, 53], a([10, 1, 2, 3]), a([10, 9, 8, 7]));
        assert_eq!(
            (t.src.as_str(), t.sport, t.dst.as_str(), t.dport, t.protocol),
            ("10.1.2.3", 5353, "10.9.8.7", 53, 17)
        );
        // family 0: headers not parsed, no addresses even if bytes are set
        assert_eq!(tuple4(0, 17, [1, 2], a([10, 1, 2, 3]), 0).src, "");
        // an IPv6 family cannot be shown from 4 bytes
        assert_eq!(tuple4(10, 17, [1, 2], a([10, 1, 2, 3]), 0).src, "");
    }

    #[test]
    fn names() {
        assert_eq!(reason_name("SKB_DROP_REASON_NO_SOCKET"), "NO_SOCKET");
        assert_eq!(
            reason_name("SKB_DROP_REASON_NOT_SPECIFIED"),
            "NOT_SPECIFIED"
        );
        assert_eq!(tcp_state_name(1), "ESTABLISHED");
        assert_eq!(tcp_state_name(99), "99");
        assert_eq!(tcp_flag_names(0x12), vec!["SYN", "ACK"]);
        assert_eq!(xdp_action_name(0), "ABORTED");
        assert_eq!(xdp_action_name(100), "REDIRECT_ERR");
        assert_eq!(protocol_name(0), "ANY");
        assert_eq!(protocol_name(47), "47");
    }

    #[test]
    fn containers_from_cgroup_paths() {
        let id = "4f1d2c3b4a5968778695a4b3c2d1e0f94f1d2c3b4a5968778695a4b3c2d1e0f9";
        assert_eq!(
            container_from_cgroup(&format!("/system.slice/docker-{id}.scope")),
            Some("4f1d2c3b4a59".into())
        );
        assert_eq!(
            container_from_cgroup(&format!(
                "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1a2b3c4d_1111_2222_3333_444455556666.slice/cri-containerd-{id}.scope"
            )),
            Some("4f1d2c3b4a59".into())
        );
        assert_eq!(
            container_from_cgroup(
                "/kubepods.slice/kubepods-pod1a2b3c4d_1111_2222_3333_444455556666.slice"
            ),
            Some("pod 1a2b3c4d-1111-2222-3333-444455556666".into())
        );
        assert_eq!(container_from_cgroup("/user.slice/session-2.scope"), None);
    }
}
