//! Forward/drop counters `cilium_metrics` (PERCPU_HASH; the reader sums the CPUs)
//! (cilium-maps.md §3.14, §4.5).

use super::bytes::*;
use super::layout::Layout;
use crate::model::MetricEntry;

pub fn reason_text(code: u8) -> String {
    let s = match code {
        0 => "Success",
        2 => "Invalid packet",
        3 => "Interface",
        4 => "Interface Decrypted",
        5 => "LB, sock cgroup: No backend slot entry found",
        6 => "LB, sock cgroup: No backend entry found",
        7 => "LB, sock cgroup: Reverse entry update failed",
        8 => "LB, sock cgroup: Reverse entry stale",
        9 => "Fragmented packet",
        10 => "Fragmented packet entry update failed",
        11 => "Missed tail call to custom program",
        12 => "Interface Decrypting",
        13 => "Interface Encrypting",
        14 => "LB: sock cgroup: Reverse entry delete succeeded",
        15 => "MTU error message",
        130 => "Invalid source mac",
        131 => "Invalid destination mac",
        132 => "Invalid source ip",
        133 => "Policy denied",
        134 => "Invalid packet",
        135 => "CT: Truncated or invalid header",
        136 => "Fragmentation needed",
        137 => "CT: Unknown L4 protocol",
        138 => "CT: Can't create entry from packet",
        139 => "Unsupported L3 protocol",
        140 => "Missed tail call",
        141 => "Error writing to packet",
        142 => "Unknown L4 protocol",
        143 => "Unknown ICMPv4 code",
        144 => "Unknown ICMPv4 type",
        145 => "Unknown ICMPv6 code",
        146 => "Unknown ICMPv6 type",
        147 => "Error retrieving tunnel key",
        148 => "Error retrieving tunnel options",
        149 => "Invalid Geneve option",
        150 => "Unknown L3 target address",
        151 => "Stale or unroutable IP",
        152 => "No matching local container found",
        153 => "Error while correcting L3 checksum",
        154 => "Error while correcting L4 checksum",
        155 => "CT: Map insertion failed",
        156 => "Invalid IPv6 extension header",
        157 => "IP fragmentation not supported",
        158 => "Service backend not found",
        160 => "No tunnel/encapsulation endpoint (datapath BUG!)",
        161 => "NAT 46/64 not enabled",
        162 => "Reached EDT rate-limiting drop horizon",
        163 => "Unknown connection tracking state",
        164 => "Local host is unreachable",
        165 => "No configuration available to perform policy decision",
        166 => "Unsupported L2 protocol",
        167 => "No mapping for NAT masquerade",
        168 => "Unsupported protocol for NAT masquerade",
        169 => "FIB lookup failed",
        170 => "Encapsulation traffic is prohibited",
        171 => "Invalid identity",
        172 => "Unknown sender",
        173 => "NAT not needed",
        174 => "Is a ClusterIP",
        175 => "First logical datagram fragment not found",
        176 => "Forbidden ICMPv6 message",
        177 => "Denied by LB src range check",
        178 => "Socket lookup failed",
        179 => "Socket assign failed",
        180 => "Proxy redirection not supported for protocol",
        181 => "Policy denied by denylist",
        182 => "VLAN traffic disallowed by VLAN filter",
        183 => "Incorrect VNI from VTEP",
        184 => "Failed to update or lookup TC buffer",
        185 => "No SID was found for the IP address",
        186 => "SRv6 state was removed during tail call",
        187 => "L3 translation from IPv4 to IPv6 failed (NAT46)",
        188 => "L3 translation from IPv6 to IPv4 failed (NAT64)",
        189 => "Authentication required",
        190 => "No conntrack map found",
        191 => "No nat map found",
        192 => "Invalid ClusterID",
        193 => "Unsupported packet protocol for DSR encapsulation",
        194 => "No egress gateway found",
        195 => "Traffic is unencrypted",
        196 => "TTL exceeded",
        197 => "No node ID found",
        198 => "Rate limited",
        199 => "IGMP handled",
        200 => "IGMP subscribed",
        201 => "Multicast handled",
        202 => "Host datapath not ready",
        203 => "Endpoint policy program not available",
        204 => "No Egress IP configured",
        205 => "Punt to proxy",
        // The Go helper prints unknown codes as "<code>, 0".
        n => return format!("{n}, 0"),
    };
    s.to_string()
}

pub fn direction_text(d: u8) -> &'static str {
    match d {
        1 => "INGRESS",
        2 => "EGRESS",
        3 => "SERVICE",
        _ => "UNKNOWN",
    }
}

/// Source file of a metrics entry: the id table differs per release.
pub fn file_name(id: u8, layout: Layout) -> String {
    const OBJ: [&str; 7] = [
        "bpf_host.c",
        "bpf_lxc.c",
        "bpf_overlay.c",
        "bpf_xdp.c",
        "bpf_sock.c",
        "bpf_network.c",
        "bpf_wireguard.c",
    ];
    const H116: &[&str] = &[
        "arp.h",
        "drop.h",
        "srv6.h",
        "icmp6.h",
        "nodeport.h",
        "lb.h",
        "mcast.h",
        "ipv4.h",
        "conntrack.h",
        "l3.h",
        "trace.h",
        "encap.h",
        "encrypt.h",
    ];
    const H117: &[&str] = &[
        "arp.h",
        "drop.h",
        "srv6.h",
        "icmp6.h",
        "nodeport.h",
        "lb.h",
        "mcast.h",
        "ipv4.h",
        "conntrack.h",
        "l3.h",
        "trace.h",
        "encap.h",
        "encrypt.h",
        "host_firewall.h",
        "nodeport_egress.h",
    ];
    const H118: &[&str] = &[
        "arp.h",
        "drop.h",
        "srv6.h",
        "icmp6.h",
        "nodeport.h",
        "lb.h",
        "mcast.h",
        "ipv4.h",
        "conntrack.h",
        "local_delivery.h",
        "trace.h",
        "encap.h",
        "encrypt.h",
        "host_firewall.h",
        "nodeport_egress.h",
        "ipv6.h",
        "classifiers.h",
    ];
    const HMAIN: &[&str] = &[
        "drop.h",
        "srv6.h",
        "icmp6.h",
        "nodeport.h",
        "lb.h",
        "mcast.h",
        "ipv4.h",
        "conntrack.h",
        "local_delivery.h",
        "trace.h",
        "encap.h",
        "host_firewall.h",
        "nodeport_egress.h",
        "ipv6.h",
        "classifiers.h",
    ];
    let objs = if layout >= Layout::V1_17 { 7 } else { 6 };
    let headers = match layout {
        Layout::V1_14 | Layout::V1_15 | Layout::V1_16 => H116,
        Layout::V1_17 => H117,
        Layout::V1_18 => H118,
        Layout::Main => HMAIN,
    };
    let found = match id {
        1..=7 if usize::from(id) <= objs => OBJ.get(usize::from(id) - 1),
        101..=255 => headers.get(usize::from(id) - 101),
        _ => None,
    };
    found
        .map(|s| s.to_string())
        .unwrap_or_else(|| format!("unknown({id})"))
}

/// One metrics entry; `value` is the per-CPU sum (16 B: count, bytes).
pub fn decode_entry(key: &[u8], value: &[u8], layout: Layout) -> Result<MetricEntry> {
    exact("metrics key", key, 8)?;
    exact("metrics value", value, 16)?;
    let reason = u8_at(key, 0);
    let has_loc = layout >= Layout::V1_16;
    Ok(MetricEntry {
        reason,
        reason_name: reason_text(reason),
        direction: direction_text(u8_at(key, 1) & 0x3).into(),
        packets: le64(value, 0),
        bytes: le64(value, 8),
        file: has_loc.then(|| file_name(u8_at(key, 4), layout)),
        line: has_loc.then(|| u32::from(le16(key, 2))),
        layout: Some(layout.label().into()),
        raw: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::cilium::bytes::testutil::fuzz_pairs;

    fn key(reason: u8, dir: u8, line: u16, file: u8) -> Vec<u8> {
        let mut k = vec![reason, dir];
        k.extend(line.to_le_bytes());
        k.extend([file, 0, 0, 0]);
        k
    }
    fn val(p: u64, b: u64) -> Vec<u8> {
        let mut v = p.to_le_bytes().to_vec();
        v.extend(b.to_le_bytes());
        v
    }

    #[test]
    fn reasons_directions_and_files() {
        let e = decode_entry(&key(133, 2, 1390, 2), &val(14, 1036), Layout::V1_17).unwrap();
        assert_eq!(
            (e.reason_name.as_str(), e.direction.as_str()),
            ("Policy denied", "EGRESS")
        );
        assert_eq!(
            (e.packets, e.bytes, e.line, e.file.as_deref()),
            (14, 1036, Some(1390), Some("bpf_lxc.c"))
        );
        // Upper dir bits are padding.
        let e = decode_entry(&key(0, 0xfd, 1, 110), &val(1, 1), Layout::V1_18).unwrap();
        assert_eq!(e.direction, "INGRESS");
        assert_eq!(e.file.as_deref(), Some("local_delivery.h"));
        assert_eq!(file_name(110, Layout::V1_17), "l3.h");
        assert_eq!(file_name(101, Layout::Main), "drop.h");
        assert_eq!(file_name(101, Layout::V1_16), "arp.h");
        assert_eq!(file_name(7, Layout::V1_16), "unknown(7)");
        assert_eq!(file_name(7, Layout::V1_17), "bpf_wireguard.c");
        assert_eq!(file_name(116, Layout::Main), "unknown(116)");
        assert_eq!(file_name(117, Layout::V1_18), "classifiers.h");
        assert_eq!(file_name(0, Layout::Main), "unknown(0)");
        // 1.14/1.15 keys carry no location.
        let e = decode_entry(&key(181, 1, 99, 1), &val(1, 1), Layout::V1_15).unwrap();
        assert_eq!((e.line, e.file), (None, None));
        assert_eq!(e.reason_name, "Policy denied by denylist");
        assert_eq!(reason_text(159), "159, 0");
        assert_eq!(direction_text(3), "SERVICE");
        assert_eq!(direction_text(0), "UNKNOWN");
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(decode_entry(&[0; 7], &[0; 16], Layout::Main).is_err());
        assert!(decode_entry(&[0; 8], &[0; 17], Layout::Main).is_err());
    }

    #[test]
    fn garbage_never_panics() {
        fuzz_pairs(0x3e7, &[8, 16], |k, v| {
            for l in Layout::ALL {
                let _ = decode_entry(k, v, l);
            }
        });
    }
}
