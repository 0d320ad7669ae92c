//! One conntrack entry in full (Enter on a Conntrack row): every field the entry holds, the
//! identities at both ends with their names, and the service and backend it was balanced to.

use super::{connection, direction, expires, service, table_short};
use crate::model::{CtEntry, IdentityEntry, Snapshot};
use crate::pane::{cilium, format};
use std::net::IpAddr;

/// A last-report time in the datapath's clock, as the entry holds it, and how far before
/// the expiry value it is (`17400 (expiry − 32)`); `never` when unset.
fn report(at: u32, lifetime: u32) -> String {
    if at == 0 {
        return "never".into();
    }
    if lifetime == 0 {
        return at.to_string();
    }
    let d = i64::from(lifetime) - i64::from(at);
    if d >= 0 {
        format!("{at} (expiry − {d})")
    } else {
        format!("{at} (expiry + {})", d.unsigned_abs())
    }
}

/// Does `ip` fall in `prefix` (`10.0.1.0/24`, `fd00::1/128`, or a bare address)?
fn contains(prefix: &str, ip: IpAddr) -> Option<u8> {
    let (net, len) = prefix.split_once('/').unwrap_or((prefix, ""));
    let net: IpAddr = net.parse().ok()?;
    let (bits, max): (u128, u8) = match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => ((u32::from(n) ^ u32::from(a)).into(), 32),
        (IpAddr::V6(n), IpAddr::V6(a)) => (u128::from(n) ^ u128::from(a), 128),
        _ => return None,
    };
    let len: u8 = if len.is_empty() {
        max
    } else {
        len.parse().ok()?
    };
    if len > max {
        return None;
    }
    // The first `len` of the `max` bits agree.
    let shift = u32::from(max - len);
    let agree = shift >= 128 || (bits >> shift) == 0;
    agree.then_some(len)
}

/// The ipcache entry that holds `ip`: the longest prefix that contains it.
pub fn ipcache_entry(snap: &Snapshot, ip: IpAddr) -> Option<&IdentityEntry> {
    snap.identities
        .iter()
        .filter_map(|e| contains(&e.prefix, ip).map(|len| (len, e)))
        .max_by_key(|(len, _)| *len)
        .map(|(_, e)| e)
}

/// `28461`, `2 world`, or the name the ipcache entry carries.
fn identity_with_name(id: u32, entry: Option<&IdentityEntry>) -> String {
    match entry.and_then(|e| e.identity_name.as_deref()) {
        Some(n) if !n.is_empty() => format!("{id} {n}"),
        _ => cilium::identity_text(id),
    }
}

/// The backend a service entry chose, with its address when the backend map has it.
fn backend(e: &CtEntry, snap: &Snapshot) -> String {
    let Some(id) = e.backend_id.filter(|b| *b != 0) else {
        return format::NONE.into();
    };
    // Backend ids are node-wide; the entry's own service is asked first.
    let known =
        |b: &&crate::model::ServiceBackend| u64::from(b.backend_id) == id && b.address.is_some();
    let own = snap
        .services
        .iter()
        .filter(|s| s.rev_nat_id == e.rev_nat_id)
        .flat_map(|s| s.backends.iter())
        .find(known);
    let found = own.or_else(|| {
        snap.services
            .iter()
            .flat_map(|s| s.backends.iter())
            .find(known)
    });
    match found {
        Some(b) => format!("{id} {}", crate::pane::services::backend_text(b)),
        None => id.to_string(),
    }
}

/// `0x0013`, or `-` for flags kept as text.
fn hex16(v: Option<u16>) -> String {
    v.map_or_else(|| format::NONE.into(), |b| format!("{b:#06x}"))
}

fn flags_seen(f: &crate::model::TcpFlags) -> String {
    let words = f.join(" ");
    let hex = f
        .bits()
        .map_or_else(|| format::NONE.into(), |b| format!("{b:#04x}"));
    if words.is_empty() {
        format!("{hex} (none)")
    } else {
        format!("{hex} {words}")
    }
}

/// The entry's fields, name and value, in reading order.
pub fn lines(e: &CtEntry, snap: &Snapshot) -> Vec<(&'static str, String)> {
    let src_entry = e.src.ip().and_then(|ip| ipcache_entry(snap, ip));
    let dst_entry = e.dst.ip().and_then(|ip| ipcache_entry(snap, ip));
    let flags = e.flags.join(" ");
    let mut v = vec![
        ("connection", connection(e)),
        (
            "protocol",
            format!("{} {}", e.protocol, direction(e))
                .trim()
                .to_string(),
        ),
        ("table", table_short(&e.table)),
        ("expires", expires_text(e)),
        ("lifetime", format!("{} (raw clock value)", e.lifetime)),
        (
            "flags",
            format!(
                "{} {}",
                hex16(e.flags_word.or(e.flags.bits().map(|b| b.0))),
                if flags.is_empty() { "(none)" } else { &flags }
            ),
        ),
        ("rx flags seen", flags_seen(&e.rx_flags_seen)),
        ("tx flags seen", flags_seen(&e.tx_flags_seen)),
        ("last rx report", report(e.last_rx_report, e.lifetime)),
        ("last tx report", report(e.last_tx_report, e.lifetime)),
        ("packets", cilium::count(e.packets)),
        ("bytes", cilium::count(e.bytes)),
        (
            "source identity",
            identity_with_name(e.src_identity, src_entry),
        ),
        (
            "destination identity",
            match dst_entry {
                Some(d) => format!(
                    "{} (ipcache {})",
                    identity_with_name(d.identity, Some(d)),
                    d.prefix
                ),
                None => "not in the ipcache".into(),
            },
        ),
        ("service (rev-NAT)", service(e, snap)),
        ("backend", backend(e, snap)),
        (
            "NAT port",
            e.nat_port
                .map_or_else(|| format::NONE.into(), |p| p.to_string()),
        ),
    ];
    if let Some(a) = &e.nat_addr {
        v.push(("NAT address", a.to_string()));
    }
    if let Some(i) = e.ifindex {
        v.push(("ifindex", i.to_string()));
    }
    if let Some(l) = &e.layout {
        v.push(("layout", format!("Cilium {l}")));
    }
    if let Some(r) = &e.raw {
        v.push(("raw", r.to_string()));
    }
    v
}

/// `in 20s (at 17432)`, `expired 3s ago`.
fn expires_text(e: &CtEntry) -> String {
    if e.expires_in_s < 0 {
        format!("{} ago", expires(e))
    } else {
        format!("in {}", expires(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CtFlags, Service, ServiceBackend, TcpFlags};

    #[test]
    fn every_field_is_shown() {
        let mut s = Snapshot::empty();
        s.identities = vec![
            IdentityEntry {
                prefix: "10.0.0.0/8".into(),
                identity: 2,
                ..Default::default()
            },
            IdentityEntry {
                prefix: "10.0.1.23/32".into(),
                identity: 28461,
                identity_name: Some("k8s:app=web".into()),
                ..Default::default()
            },
        ];
        s.services = vec![Service {
            frontend: "10.96.0.10:53/UDP".into(),
            rev_nat_id: 2,
            backends: vec![ServiceBackend {
                slot: 1,
                backend_id: 12,
                address: Some("10.0.1.87".into()),
                port: Some(53),
                protocol: Some("UDP".into()),
                ..Default::default()
            }],
            ..Default::default()
        }];
        let e = CtEntry {
            table: "ct4_global".into(),
            protocol: "TCP".into(),
            direction: "SVC".into(),
            src: "10.0.1.45".into(),
            src_port: 40168,
            dst: "10.0.1.23".into(),
            dst_port: 8080,
            flags: CtFlags::from_bits(0x0013, false),
            expires_in_s: -3,
            lifetime: 17432,
            last_rx_report: 17420,
            last_tx_report: 0,
            rx_flags_seen: TcpFlags::from_bits(0x1b),
            rev_nat_id: 2,
            backend_id: Some(12),
            nat_port: Some(32768),
            src_identity: 40110,
            packets: Some(5),
            bytes: Some(300),
            ..Default::default()
        };
        let l = lines(&e, &s);
        let get = |k: &str| l.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("expires"), Some("expired 3s ago"));
        assert_eq!(get("lifetime"), Some("17432 (raw clock value)"));
        assert_eq!(get("flags"), Some("0x0013 RxClosing TxClosing SeenNonSyn"));
        assert_eq!(get("rx flags seen"), Some("0x1b FIN SYN PSH ACK"));
        assert_eq!(get("tx flags seen"), Some("0x00 (none)"));
        assert_eq!(get("last rx report"), Some("17420 (expiry − 12)"));
        assert_eq!(get("last tx report"), Some("never"));
        assert_eq!(get("backend"), Some("12 10.0.1.87:53/UDP"));
        assert_eq!(get("NAT port"), Some("32768"));
        assert_eq!(get("packets"), Some("5"));
        assert_eq!(get("bytes"), Some("300"));
        assert_eq!(get("source identity"), Some("40110"));
        assert_eq!(
            get("destination identity"),
            Some("28461 k8s:app=web (ipcache 10.0.1.23/32)")
        );
        assert_eq!(get("service (rev-NAT)"), Some("2 10.96.0.10:53/UDP be 12"));
        // The longest prefix wins; outside every prefix, it says so.
        let ip = |a: &str| a.parse::<IpAddr>().unwrap();
        assert_eq!(
            ipcache_entry(&s, ip("10.9.9.9")).map(|e| e.identity),
            Some(2)
        );
        assert!(ipcache_entry(&s, ip("192.168.0.1")).is_none());
        assert!(ipcache_entry(&s, ip("fd00::1")).is_none());
        assert_eq!(contains("0.0.0.0/0", ip("1.2.3.4")), Some(0));
        assert_eq!(contains("fd00::/8", ip("fd12::1")), Some(8));
        assert_eq!(contains("fd00::/16", ip("fd12::1")), None);
    }
}
