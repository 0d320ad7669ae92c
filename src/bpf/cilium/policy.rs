//! Per-endpoint policy maps `cilium_policy_NNNNN` (1.14–1.16) / `cilium_policy_v2_NNNNN`
//! (1.17+, three value layouts under one name) and `cilium_policystats` (1.18+)
//! (cilium-maps.md §3.11–§3.13).

use super::bytes::*;
use crate::model::identity;
use crate::model::PolicyEntry;
use std::cmp::Ordering;
use std::collections::HashMap;

/// The four `policy_entry` layouts, chosen by map name and value size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueLayout {
    /// `cilium_policy_`, 24 B: deny/wildcard bits, counters in the entry.
    V1_14,
    /// `cilium_policy_v2_`, 24 B: lpm length, proxy priority, counters in the entry.
    V1_17,
    /// 8 B: counters in `cilium_policystats`.
    V1_18,
    /// 12 B: precedence and cookie.
    Main,
}

impl ValueLayout {
    pub fn pick(v2_name: bool, value_size: u32) -> Option<ValueLayout> {
        match (v2_name, value_size) {
            (false, 24) => Some(ValueLayout::V1_14),
            (true, 24) => Some(ValueLayout::V1_17),
            (true, 8) => Some(ValueLayout::V1_18),
            (true, 12) => Some(ValueLayout::Main),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ValueLayout::V1_14 => "1.14–1.16",
            ValueLayout::V1_17 => "1.17",
            ValueLayout::V1_18 => "1.18",
            ValueLayout::Main => "1.19/main",
        }
    }
}

/// What a `cilium_policystats` key and a policy entry have in common.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatsKey {
    pub endpoint_id: u16,
    pub prefix_len: u8,
    pub identity: u32,
    pub egress: bool,
    pub proto: u8,
    pub dport: u16,
}

fn port_mask(q: u8) -> u16 {
    match q {
        0..=8 => 0,
        q => (!(0xffffu32 >> u32::from(q - 8).min(16)) & 0xffff) as u16,
    }
}

/// Endpoint id from `cilium_policy_v2_00403` / `cilium_policy_00403` / `..._reserved_1`.
pub fn endpoint_id_from_name(name: &str) -> Option<u16> {
    name.rsplit('_').next()?.parse().ok()
}

pub fn auth_name(a: u8) -> String {
    match a {
        0 => "disabled".into(),
        1 => "spire".into(),
        2 => "test-always-fail".into(),
        n => format!("Unknown-auth-type-{n}"),
    }
}

/// One policy entry; packets/bytes are filled from the entry itself where it has them.
pub fn decode_entry(
    endpoint_id: u16,
    key: &[u8],
    value: &[u8],
    layout: ValueLayout,
) -> Result<(PolicyEntry, StatsKey)> {
    exact("policy key", key, 12)?;
    let want = match layout {
        ValueLayout::V1_14 | ValueLayout::V1_17 => 24,
        ValueLayout::V1_18 => 8,
        ValueLayout::Main => 12,
    };
    exact("policy value", value, want)?;
    let plen = le32(key, 0);
    let q = plen
        .checked_sub(40)
        .filter(|q| *q == 0 || (8..=24).contains(q))
        .ok_or_else(|| invalid("policy key", format!("prefixlen {plen} is not 40, 48..64")))?
        as u8;
    let identity = le32(key, 4);
    let egress = u8_at(key, 8) & 1 != 0;
    let proto = if q == 0 { 0 } else { u8_at(key, 9) };
    let dport = be16(key, 10) & port_mask(q);
    let (port_low, port_high) = if q <= 8 {
        (0, 0)
    } else {
        (dport, dport | !port_mask(q))
    };
    let b2 = u8_at(value, 2);
    let b3 = u8_at(value, 3);
    let mut note = None;
    let (auth, priority, precedence, cookie, counters) = match layout {
        ValueLayout::V1_14 => (b3, None, None, None, true),
        ValueLayout::V1_17 => (b3 & 0x7f, Some(u8_at(value, 4)), None, None, true),
        ValueLayout::V1_18 => (b3 & 0x7f, Some(u8_at(value, 4)), None, None, false),
        ValueLayout::Main => (
            b3 & 0x7f,
            None,
            Some(le32(value, 4)),
            Some(le32(value, 8)),
            false,
        ),
    };
    if layout != ValueLayout::V1_14 && b2 >> 3 != q {
        note = Some(format!(
            "invalid entry: lpm_prefix_length {} != prefix {q}",
            b2 >> 3
        ));
    }
    let e = PolicyEntry {
        endpoint_id,
        verdict: if b2 & 1 != 0 { "deny" } else { "allow" }.into(),
        direction: if egress { "egress" } else { "ingress" }.into(),
        identity,
        identity_name: identity::policy_name(identity).map(str::to_string),
        protocol: proto_name(proto),
        port_low,
        port_high,
        proxy_port: be16(value, 0),
        packets: counters.then(|| le64(value, 8)),
        bytes: counters.then(|| le64(value, 16)),
        auth_type: auth_name(auth),
        prefix_len: q,
        precedence,
        cookie,
        proxy_port_priority: priority,
        layout: Some(layout.label().into()),
        raw: note,
    };
    let sk = StatsKey {
        endpoint_id,
        prefix_len: q,
        identity,
        egress,
        proto,
        dport,
    };
    Ok((e, sk))
}

/// A `cilium_policystats` key (the value is summed per CPU by the reader).
pub fn decode_stats_key(key: &[u8]) -> Result<StatsKey> {
    exact("policystats key", key, 12)?;
    let q = u8_at(key, 3);
    if q > 24 {
        return Err(invalid("policystats key", format!("prefix {q} > 24")));
    }
    Ok(StatsKey {
        endpoint_id: le16(key, 0),
        prefix_len: q,
        identity: le32(key, 4),
        egress: u8_at(key, 8) & 1 != 0,
        proto: if q == 0 { 0 } else { u8_at(key, 9) },
        dport: be16(key, 10) & port_mask(q),
    })
}

/// `packets, bytes` from a summed per-CPU `{u64 packets; u64 bytes}` value.
pub fn decode_stats_value(v: &[u8]) -> Result<(u64, u64)> {
    exact("policystats value", v, 16)?;
    Ok((le64(v, 0), le64(v, 8)))
}

/// Fill counters of 1.18+ entries from the stats map; entries without stats stay `None`.
pub fn apply_stats(entries: &mut [(PolicyEntry, StatsKey)], stats: &HashMap<StatsKey, (u64, u64)>) {
    for (e, k) in entries.iter_mut() {
        if let Some((p, b)) = stats.get(k) {
            e.packets = Some(*p);
            e.bytes = Some(*b);
        }
    }
}

/// The CLI's order: deny first, ingress before egress, then identity, then port.
pub fn cli_order(a: &PolicyEntry, b: &PolicyEntry) -> Ordering {
    (
        a.endpoint_id,
        a.verdict != "deny",
        a.direction != "ingress",
        a.identity,
    )
        .cmp(&(
            b.endpoint_id,
            b.verdict != "deny",
            b.direction != "ingress",
            b.identity,
        ))
        .then(a.protocol.cmp(&b.protocol))
        .then(a.port_low.cmp(&b.port_low))
        .then(a.prefix_len.cmp(&b.prefix_len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::cilium::bytes::testutil::fuzz_pairs;

    pub fn key(q: u32, id: u32, egress: bool, proto: u8, port: u16) -> Vec<u8> {
        let mut k = (40 + q).to_le_bytes().to_vec();
        k.extend(id.to_le_bytes());
        k.extend([egress as u8, proto]);
        k.extend(port.to_be_bytes());
        k
    }

    fn value(layout: ValueLayout, proxy: u16, deny: bool, q: u8, auth: u8) -> Vec<u8> {
        let n = match layout {
            ValueLayout::V1_14 | ValueLayout::V1_17 => 24,
            ValueLayout::V1_18 => 8,
            ValueLayout::Main => 12,
        };
        let mut v = vec![0u8; n];
        v[0..2].copy_from_slice(&proxy.to_be_bytes());
        v[2] = deny as u8
            | if layout == ValueLayout::V1_14 {
                0
            } else {
                q << 3
            };
        v[3] = auth;
        if n == 24 {
            v[8..16].copy_from_slice(&110u64.to_le_bytes());
            v[16..24].copy_from_slice(&9240u64.to_le_bytes());
        }
        v
    }

    #[test]
    fn layouts_are_picked_by_name_and_size() {
        assert_eq!(ValueLayout::pick(false, 24), Some(ValueLayout::V1_14));
        assert_eq!(ValueLayout::pick(true, 24), Some(ValueLayout::V1_17));
        assert_eq!(ValueLayout::pick(true, 8), Some(ValueLayout::V1_18));
        assert_eq!(ValueLayout::pick(true, 12), Some(ValueLayout::Main));
        assert_eq!(ValueLayout::pick(false, 8), None);
        assert_eq!(ValueLayout::pick(true, 16), None);
        assert_eq!(endpoint_id_from_name("cilium_policy_v2_00403"), Some(403));
        assert_eq!(endpoint_id_from_name("cilium_policy_01234"), Some(1234));
        assert_eq!(endpoint_id_from_name("cilium_policy_v2_x"), None);
    }

    #[test]
    fn ports_and_ranges_from_the_prefix() {
        for l in [ValueLayout::V1_17, ValueLayout::V1_18, ValueLayout::Main] {
            // 8080/13 covers 8080–8087.
            let (e, sk) = decode_entry(
                403,
                &key(21, 28461, false, 6, 8080),
                &value(l, 0, false, 21, 0),
                l,
            )
            .unwrap();
            assert_eq!((e.port_low, e.port_high, e.prefix_len), (8080, 8087, 21));
            assert_eq!(
                (
                    e.protocol.as_str(),
                    e.direction.as_str(),
                    e.verdict.as_str()
                ),
                ("TCP", "ingress", "allow")
            );
            assert_eq!(sk.dport, 8080);
            assert_eq!(e.raw, None);
            // Exact port, egress deny with proxy port (network order) and auth.
            let (e, _) = decode_entry(
                403,
                &key(24, 2, true, 17, 53),
                &value(l, 15001, true, 24, 0x81),
                l,
            )
            .unwrap();
            assert_eq!((e.port_low, e.port_high, e.proxy_port), (53, 53, 15001));
            assert_eq!(
                (
                    e.verdict.as_str(),
                    e.direction.as_str(),
                    e.auth_type.as_str()
                ),
                ("deny", "egress", "spire")
            );
            assert_eq!(e.identity_name.as_deref(), Some("world"));
            // L3-only wildcard.
            let (e, _) =
                decode_entry(403, &key(0, 0, false, 0, 0), &value(l, 0, false, 0, 0), l).unwrap();
            assert_eq!(
                (e.protocol.as_str(), e.port_low, e.port_high),
                ("ANY", 0, 0)
            );
            assert_eq!(e.identity_name.as_deref(), Some("any"));
            // Protocol only.
            let (e, _) =
                decode_entry(403, &key(8, 0, false, 6, 0), &value(l, 0, false, 8, 0), l).unwrap();
            assert_eq!(
                (e.protocol.as_str(), e.port_low, e.port_high),
                ("TCP", 0, 0)
            );
        }
    }

    #[test]
    fn counters_and_extras_per_layout() {
        let (e, _) = decode_entry(
            1,
            &key(24, 5, false, 6, 80),
            &value(ValueLayout::V1_14, 0, false, 24, 2),
            ValueLayout::V1_14,
        )
        .unwrap();
        assert_eq!((e.packets, e.bytes), (Some(110), Some(9240)));
        assert_eq!(e.auth_type, "test-always-fail");
        let mut v = value(ValueLayout::V1_17, 0, false, 24, 0x05);
        v[4] = 7;
        let (e, _) = decode_entry(1, &key(24, 5, false, 6, 80), &v, ValueLayout::V1_17).unwrap();
        assert_eq!((e.packets, e.proxy_port_priority), (Some(110), Some(7)));
        assert_eq!(e.auth_type, "Unknown-auth-type-5");
        let (e, _) = decode_entry(
            1,
            &key(24, 5, false, 6, 80),
            &value(ValueLayout::V1_18, 0, false, 24, 0),
            ValueLayout::V1_18,
        )
        .unwrap();
        assert_eq!((e.packets, e.bytes), (None, None));
        let mut v = value(ValueLayout::Main, 0, false, 24, 0);
        v[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        v[8..12].copy_from_slice(&77u32.to_le_bytes());
        let (e, _) = decode_entry(1, &key(24, 5, false, 6, 80), &v, ValueLayout::Main).unwrap();
        assert_eq!((e.precedence, e.cookie), (Some(u32::MAX), Some(77)));
        // lpm length that disagrees with the key prefix is flagged, not dropped.
        let (e, _) = decode_entry(
            1,
            &key(16, 5, false, 6, 80),
            &value(ValueLayout::Main, 0, false, 24, 0),
            ValueLayout::Main,
        )
        .unwrap();
        assert!(e.raw.unwrap().contains("invalid"));
    }

    #[test]
    fn stats_join_and_cli_order() {
        let l = ValueLayout::V1_18;
        let mut es = vec![
            decode_entry(9, &key(0, 0, true, 0, 0), &value(l, 0, false, 0, 0), l).unwrap(),
            decode_entry(9, &key(24, 3, false, 6, 80), &value(l, 0, true, 24, 0), l).unwrap(),
            decode_entry(9, &key(0, 0, false, 0, 0), &value(l, 0, false, 0, 0), l).unwrap(),
        ];
        let mut sk = 9u16.to_le_bytes().to_vec();
        sk.extend([0, 0]);
        sk.extend(0u32.to_le_bytes());
        sk.extend([0, 0, 0, 0]);
        let k = decode_stats_key(&sk).unwrap();
        let mut sv = 215u64.to_le_bytes().to_vec();
        sv.extend(31000u64.to_le_bytes());
        let mut stats = HashMap::new();
        stats.insert(k, decode_stats_value(&sv).unwrap());
        apply_stats(&mut es, &stats);
        let mut es: Vec<PolicyEntry> = es.into_iter().map(|e| e.0).collect();
        es.sort_by(cli_order);
        assert_eq!(es[0].verdict, "deny");
        assert_eq!(
            (es[1].direction.as_str(), es[1].packets, es[1].bytes),
            ("ingress", Some(215), Some(31000))
        );
        assert_eq!((es[2].direction.as_str(), es[2].packets), ("egress", None));
    }

    #[test]
    fn bad_input_is_an_error() {
        let v = value(ValueLayout::Main, 0, false, 0, 0);
        assert!(decode_entry(1, &key(4, 0, false, 0, 0), &v, ValueLayout::Main).is_err());
        assert!(decode_entry(1, &key(25, 0, false, 0, 0), &v, ValueLayout::Main).is_err());
        let mut k = key(0, 0, false, 0, 0);
        k[0] = 39;
        assert!(decode_entry(1, &k, &v, ValueLayout::Main).is_err());
        assert!(decode_entry(1, &key(0, 0, false, 0, 0), &v, ValueLayout::V1_18).is_err());
        assert!(decode_entry(1, &[0; 11], &v, ValueLayout::Main).is_err());
        assert!(decode_stats_key(&[0; 13]).is_err());
        assert!(decode_stats_value(&[0; 15]).is_err());
        let mut sk = [0u8; 12];
        sk[3] = 30;
        assert!(decode_stats_key(&sk).is_err());
    }

    #[test]
    fn garbage_never_panics() {
        fuzz_pairs(0x90, &[8, 12, 16, 24], |k, v| {
            for l in [
                ValueLayout::V1_14,
                ValueLayout::V1_17,
                ValueLayout::V1_18,
                ValueLayout::Main,
            ] {
                let _ = decode_entry(1, k, v, l);
            }
            let _ = decode_stats_key(k);
            let _ = decode_stats_value(v);
        });
    }
}
