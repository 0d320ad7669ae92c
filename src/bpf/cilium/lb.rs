//! Service load-balancing maps: `cilium_lb{4,6}_services_v2` (frontends and backend slots) and
//! `cilium_lb{4,6}_backends_v3` (cilium-maps.md §3.1–§3.3, §4.3).

use super::bytes::*;
use super::layout::Layout;
use crate::model::{Service, ServiceBackend};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// A decoded `lb4_key` / `lb6_key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvcKey {
    pub address: IpAddr,
    pub port: u16,
    pub slot: u16,
    pub proto: u8,
    /// 0 external, 1 internal.
    pub scope: u8,
}

/// A decoded `lb4_service` / `lb6_service` (12 B in every release).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvcValue {
    /// backend id (slot > 0) / affinity timeout + algorithm / L7 proxy port (slot 0).
    pub union: u32,
    pub count: u16,
    pub rev_nat: u16,
    pub flags: u16,
    pub qcount: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    pub id: u32,
    pub address: IpAddr,
    pub port: u16,
    pub proto: u8,
    pub state: u8,
    pub cluster_id: u16,
    pub zone: u8,
}

pub fn decode_svc_key(b: &[u8], v6: bool) -> Result<SvcKey> {
    let (n, a) = if v6 { (24, 16) } else { (12, 4) };
    exact("lb service key", b, n)?;
    let address = if v6 {
        IpAddr::V6(ip6(b, 0))
    } else {
        IpAddr::V4(ip4(b, 0))
    };
    Ok(SvcKey {
        address,
        port: be16(b, a),
        slot: le16(b, a + 2),
        proto: u8_at(b, a + 4),
        scope: u8_at(b, a + 5),
    })
}

pub fn decode_svc_value(b: &[u8], layout: Layout) -> Result<SvcValue> {
    exact("lb service value", b, 12)?;
    Ok(SvcValue {
        union: le32(b, 0),
        count: le16(b, 4),
        // Service ID is stored in network order (a historical quirk).
        rev_nat: be16(b, 6),
        flags: u16::from(u8_at(b, 8)) | (u16::from(u8_at(b, 9)) << 8),
        qcount: if layout >= Layout::V1_17 {
            le16(b, 10)
        } else {
            0
        },
    })
}

pub fn decode_backend(key: &[u8], value: &[u8], v6: bool, layout: Layout) -> Result<Backend> {
    exact("lb backend key", key, 4)?;
    let (n, a) = if v6 { (24, 16) } else { (12, 4) };
    exact("lb backend value", value, n)?;
    let address = if v6 {
        IpAddr::V6(ip6(value, 0))
    } else {
        IpAddr::V4(ip4(value, 0))
    };
    Ok(Backend {
        id: le32(key, 0),
        address,
        port: be16(value, a),
        proto: u8_at(value, a + 2),
        state: u8_at(value, a + 3),
        cluster_id: if layout == Layout::V1_14 {
            u16::from(u8_at(value, a + 4))
        } else {
            le16(value, a + 4)
        },
        zone: if layout >= Layout::V1_16 {
            u8_at(value, a + 6)
        } else {
            0
        },
    })
}

pub fn backend_state(s: u8) -> &'static str {
    match s {
        1 => "terminating",
        2 => "quarantined",
        3 => "maintenance",
        // Go treats every other value as active.
        _ => "active",
    }
}

/// Service type and the CLI's flag words (type first, then the rest, in the CLI's order).
pub fn flag_text(flags: u16, master: bool, layout: Layout) -> (String, Vec<String>) {
    let bit = |n: u16| flags & (1 << n) != 0;
    let ty = if bit(0) {
        "ExternalIPs"
    } else if bit(1) {
        "NodePort"
    } else if bit(5) {
        "LoadBalancer"
    } else if bit(3) {
        "HostPort"
    } else if bit(8) {
        "LocalRedirect"
    } else {
        "ClusterIP"
    };
    let mut out = Vec::new();
    if bit(2) {
        out.push("Local".to_string());
    }
    if bit(12) {
        out.push("InternalLocal".into());
    }
    if bit(13) {
        out.push("two-scopes".into());
    }
    if bit(4) {
        out.push("sessionAffinity".into());
    }
    if !bit(6) {
        out.push("non-routable".into());
    }
    let v117 = layout >= Layout::V1_17;
    if bit(7) {
        out.push("check source-range".into());
        if v117 && master && bit(14) {
            out.push("deny".into());
        }
    }
    if bit(9) {
        out.push("46x64".into());
    }
    if bit(10) {
        out.push("l7-load-balancer".into());
    }
    if bit(11) {
        if bit(3) || layout < Layout::V1_18 {
            out.push("loopback".into());
        } else {
            out.push("delegate-if-local".into());
        }
    }
    if v117 && !master && bit(14) {
        out.push("quarantined".into());
    }
    if v117 && bit(15) {
        out.push("dsr".into());
    }
    if !v117 && flags & 0xC000 != 0 {
        out.push(format!("unknown(0x{:04x})", flags & 0xC000));
    }
    (ty.to_string(), out)
}

fn frontend(k: &SvcKey, layout: Layout) -> String {
    let mut s = host_port(&k.address.to_string(), k.port);
    if layout >= Layout::V1_16 || k.proto != 0 {
        s.push('/');
        s.push_str(&proto_name(k.proto));
    }
    if k.scope == 1 {
        s.push_str("/i");
    }
    s
}

/// Group service map entries by frontend and attach backends (a slot naming a backend the
/// backend map lacks shows as state `missing`).
pub fn build_services(
    entries: &[(SvcKey, SvcValue)],
    backends: &HashMap<u32, Backend>,
    layout: Layout,
) -> Vec<Service> {
    type Fk = (IpAddr, u16, u8, u8);
    let mut groups: BTreeMap<Fk, Vec<&(SvcKey, SvcValue)>> = BTreeMap::new();
    for e in entries {
        let k = &e.0;
        groups
            .entry((k.address, k.port, k.proto, k.scope))
            .or_default()
            .push(e);
    }
    let mut out = Vec::new();
    for (_, mut slots) in groups {
        slots.sort_by_key(|e| e.0.slot);
        let Some(first) = slots.first() else {
            continue;
        };
        let (key, master) = (&first.0, &first.1);
        let has_master = key.slot == 0;
        let (svc_type, mut flags) = flag_text(master.flags, true, layout);
        if !has_master {
            flags.push("no master entry".into());
        }
        let affinity = (master.flags & (1 << 4) != 0 && has_master).then(|| {
            if layout >= Layout::V1_17 {
                master.union & 0x00FF_FFFF
            } else {
                master.union
            }
        });
        let lb_algorithm =
            (has_master && layout >= Layout::V1_17).then(|| match master.union >> 24 {
                0 => "default".to_string(),
                1 => "random".to_string(),
                2 => "maglev".to_string(),
                n => format!("unknown({n})"),
            });
        let l7 = (has_master && master.flags & (1 << 10) != 0)
            .then(|| u16::from_be((master.union & 0xFFFF) as u16));
        let mut svc = Service {
            frontend: frontend(key, layout),
            address: key.address.to_string(),
            port: key.port,
            protocol: proto_name(key.proto),
            scope: if key.scope == 1 {
                "internal".into()
            } else {
                "external".into()
            },
            rev_nat_id: master.rev_nat,
            svc_type,
            flags,
            backend_count: if has_master { master.count } else { 0 },
            quarantined_count: if has_master { master.qcount } else { 0 },
            affinity_timeout_s: affinity,
            lb_algorithm,
            l7_proxy_port: l7,
            raw_flags: master.flags,
            layout: Some(layout.label().into()),
            ..Default::default()
        };
        for (k, v) in slots
            .iter()
            .map(|e| (&e.0, &e.1))
            .filter(|(k, _)| k.slot > 0)
        {
            let id = v.union;
            let b = match backends.get(&id) {
                Some(b) => ServiceBackend {
                    slot: k.slot,
                    backend_id: id,
                    address: Some(b.address.to_string()),
                    port: Some(b.port),
                    protocol: Some(proto_name(b.proto)),
                    state: backend_state(b.state).into(),
                    cluster_id: b.cluster_id,
                    zone: b.zone,
                },
                None => ServiceBackend {
                    slot: k.slot,
                    backend_id: id,
                    state: "missing".into(),
                    ..Default::default()
                },
            };
            svc.backends.push(b);
        }
        out.push(svc);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::cilium::bytes::testutil::fuzz_pairs;

    pub fn svc_key4(ip: [u8; 4], port: u16, slot: u16, proto: u8, scope: u8) -> Vec<u8> {
        let mut k = ip.to_vec();
        k.extend(port.to_be_bytes());
        k.extend(slot.to_le_bytes());
        k.extend([proto, scope, 0, 0]);
        k
    }
    pub fn svc_val(union: u32, count: u16, revnat: u16, flags: u16, qcount: u16) -> Vec<u8> {
        let mut v = union.to_le_bytes().to_vec();
        v.extend(count.to_le_bytes());
        v.extend(revnat.to_be_bytes());
        v.extend([flags as u8, (flags >> 8) as u8]);
        v.extend(qcount.to_le_bytes());
        v
    }
    fn backend4(ip: [u8; 4], port: u16, proto: u8, state: u8, cluster: u16, zone: u8) -> Vec<u8> {
        let mut v = ip.to_vec();
        v.extend(port.to_be_bytes());
        v.extend([proto, state]);
        v.extend(cluster.to_le_bytes());
        v.extend([zone, 0]);
        v
    }

    #[test]
    fn service_key_and_value_byte_orders() {
        let k = decode_svc_key(&svc_key4([10, 96, 0, 1], 443, 2, 6, 1), false).unwrap();
        assert_eq!(k.address.to_string(), "10.96.0.1");
        assert_eq!((k.port, k.slot, k.proto, k.scope), (443, 2, 6, 1));
        // rev NAT 0x0102 stored big-endian: bytes 01 02.
        let raw = svc_val(0x0200_0000 | 30, 3, 0x0102, 0x0010, 1);
        assert_eq!(&raw[6..8], &[1, 2]);
        let v = decode_svc_value(&raw, Layout::V1_18).unwrap();
        assert_eq!(
            (v.count, v.rev_nat, v.flags, v.qcount),
            (3, 0x0102, 0x10, 1)
        );
        // qcount does not exist before 1.17.
        assert_eq!(decode_svc_value(&raw, Layout::V1_16).unwrap().qcount, 0);
    }

    #[test]
    fn ipv6_service_key() {
        let mut k = vec![0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10];
        k.extend(53u16.to_be_bytes());
        k.extend(0u16.to_le_bytes());
        k.extend([17, 0, 0, 0]);
        let k = decode_svc_key(&k, true).unwrap();
        assert_eq!(k.address.to_string(), "fd00::10");
        assert_eq!(frontend(&k, Layout::Main), "[fd00::10]:53/UDP");
    }

    #[test]
    fn backends_per_layout() {
        let raw = backend4([172, 18, 0, 3], 6443, 6, 1, 0x0102, 7);
        let b = decode_backend(&9u32.to_le_bytes(), &raw, false, Layout::V1_17).unwrap();
        assert_eq!(b.address.to_string(), "172.18.0.3");
        assert_eq!(
            (b.id, b.port, b.proto, b.state, b.cluster_id, b.zone),
            (9, 6443, 6, 1, 0x0102, 7)
        );
        let b = decode_backend(&9u32.to_le_bytes(), &raw, false, Layout::V1_14).unwrap();
        assert_eq!((b.cluster_id, b.zone), (2, 0));
        let b = decode_backend(&9u32.to_le_bytes(), &raw, false, Layout::V1_15).unwrap();
        assert_eq!((b.cluster_id, b.zone), (0x0102, 0));
        let mut v6 = vec![0u8; 24];
        v6[15] = 1;
        v6[16..18].copy_from_slice(&80u16.to_be_bytes());
        v6[19] = 3;
        let b = decode_backend(&1u32.to_le_bytes(), &v6, true, Layout::Main).unwrap();
        assert_eq!((b.address.to_string().as_str(), b.port), ("::1", 80));
        assert_eq!(backend_state(b.state), "maintenance");
        assert_eq!(backend_state(2), "quarantined");
        assert_eq!(backend_state(9), "active");
    }

    #[test]
    fn flag_words_follow_the_cli() {
        let (t, f) = flag_text(0, true, Layout::Main);
        assert_eq!(
            (t.as_str(), f),
            ("ClusterIP", vec!["non-routable".to_string()])
        );
        let (t, f) = flag_text(0x2 | 0x4 | 0x10 | 0x40, true, Layout::Main);
        assert_eq!(t, "NodePort");
        assert_eq!(f, vec!["Local", "sessionAffinity"]);
        let (t, f) = flag_text(0x20 | 0x40 | 0x80 | 0x4000 | 0x8000, true, Layout::V1_17);
        assert_eq!(t, "LoadBalancer");
        assert_eq!(f, vec!["check source-range", "deny", "dsr"]);
        let (_, f) = flag_text(0x40 | 0x4000, false, Layout::V1_18);
        assert_eq!(f, vec!["quarantined"]);
        let (_, f) = flag_text(0x40 | 0x0800, true, Layout::V1_18);
        assert_eq!(f, vec!["delegate-if-local"]);
        let (t, f) = flag_text(0x40 | 0x0800 | 0x8, true, Layout::V1_18);
        assert_eq!((t.as_str(), f), ("HostPort", vec!["loopback".to_string()]));
        let (_, f) = flag_text(0x40 | 0x0800, true, Layout::V1_16);
        assert_eq!(f, vec!["loopback"]);
        // Bits 14/15 mean nothing before 1.17.
        let (_, f) = flag_text(0x40 | 0xC000, true, Layout::V1_15);
        assert_eq!(f, vec!["unknown(0xc000)"]);
        let (t, f) = flag_text(0x1 | 0x200 | 0x400 | 0x1000 | 0x2000, true, Layout::Main);
        assert_eq!(t, "ExternalIPs");
        assert_eq!(
            f,
            vec![
                "InternalLocal",
                "two-scopes",
                "non-routable",
                "46x64",
                "l7-load-balancer"
            ]
        );
    }

    #[test]
    fn services_group_slots_and_flag_missing_backends() {
        let e = |k: Vec<u8>, v: Vec<u8>| {
            (
                decode_svc_key(&k, false).unwrap(),
                decode_svc_value(&v, Layout::Main).unwrap(),
            )
        };
        let entries = vec![
            e(
                svc_key4([10, 96, 0, 10], 53, 2, 17, 0),
                svc_val(8, 0, 3, 0, 0),
            ),
            e(
                svc_key4([10, 96, 0, 10], 53, 0, 17, 0),
                svc_val(0x0100_0000, 1, 3, 0, 1),
            ),
            e(
                svc_key4([10, 96, 0, 10], 53, 1, 17, 0),
                svc_val(7, 0, 3, 0, 0),
            ),
            e(
                svc_key4([10, 96, 0, 1], 443, 0, 6, 1),
                svc_val(0, 0, 1, 0x40, 0),
            ),
        ];
        let mut backends = HashMap::new();
        let b = decode_backend(
            &7u32.to_le_bytes(),
            &backend4([10, 244, 1, 17], 53, 17, 0, 0, 0),
            false,
            Layout::Main,
        )
        .unwrap();
        backends.insert(7, b);
        let s = build_services(&entries, &backends, Layout::Main);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].frontend, "10.96.0.1:443/TCP/i");
        assert_eq!(s[0].flags, Vec::<String>::new());
        let dns = &s[1];
        assert_eq!(dns.frontend, "10.96.0.10:53/UDP");
        assert_eq!(
            (dns.rev_nat_id, dns.backend_count, dns.quarantined_count),
            (3, 1, 1)
        );
        assert_eq!(dns.lb_algorithm.as_deref(), Some("random"));
        assert_eq!(dns.backends.len(), 2);
        assert_eq!(dns.backends[0].address.as_deref(), Some("10.244.1.17"));
        assert_eq!(dns.backends[0].state, "active");
        assert_eq!(
            (dns.backends[1].backend_id, dns.backends[1].state.as_str()),
            (8, "missing")
        );
        assert_eq!(dns.backends[1].address, None);
    }

    #[test]
    fn wrong_sizes_are_errors() {
        assert!(decode_svc_key(&[0; 11], false).is_err());
        assert!(decode_svc_key(&[0; 13], false).is_err());
        assert!(decode_svc_key(&[0; 12], true).is_err());
        assert!(decode_svc_value(&[], Layout::Main).is_err());
        assert!(decode_backend(&[0; 4], &[0; 24], false, Layout::Main).is_err());
        assert!(decode_backend(&[0; 3], &[0; 12], false, Layout::Main).is_err());
    }

    #[test]
    fn garbage_never_panics() {
        fuzz_pairs(0x1b_5eed, &[4, 12, 24], |k, v| {
            for l in Layout::ALL {
                let _ = decode_svc_key(k, false);
                let _ = decode_svc_key(k, true);
                if let (Ok(sk), Ok(sv)) = (decode_svc_key(k, false), decode_svc_value(v, l)) {
                    let _ = build_services(&[(sk, sv)], &HashMap::new(), l);
                    let _ = flag_text(le16(v, 0), true, l);
                }
                let _ = decode_backend(k, v, false, l);
                let _ = decode_backend(k, v, true, l);
            }
        });
    }
}
