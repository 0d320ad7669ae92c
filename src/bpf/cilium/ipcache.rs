//! IP cache `cilium_ipcache` (≤1.17, 12-byte value) and `cilium_ipcache_v2` (1.18+, 24-byte
//! value): prefix → security identity and tunnel endpoint (cilium-maps.md §3.8, §3.9).

use super::bytes::*;
use super::layout::Layout;
use crate::model::identity;
use crate::model::IdentityEntry;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpcacheKey {
    pub prefix: String,
    pub cluster_id: u16,
    pub v6: bool,
}

pub fn decode_key(b: &[u8], layout: Layout) -> Result<IpcacheKey> {
    exact("ipcache key", b, 24)?;
    let plen = le32(b, 0);
    let family = u8_at(b, 7);
    let (v6, max) = match family {
        1 => (false, 32),
        2 => (true, 128),
        f => return Err(invalid("ipcache key", format!("unknown family {f}"))),
    };
    let bits = plen
        .checked_sub(32)
        .filter(|b| *b <= max)
        .ok_or_else(|| invalid("ipcache key", format!("prefixlen {plen} out of range")))?;
    let addr = if v6 {
        ip6(b, 8).to_string()
    } else {
        ip4(b, 8).to_string()
    };
    let cluster_id = if layout == Layout::V1_14 {
        u16::from(u8_at(b, 6))
    } else {
        le16(b, 4)
    };
    let mut prefix = format!("{addr}/{bits}");
    if cluster_id != 0 {
        prefix.push_str(&format!("@{cluster_id}"));
    }
    Ok(IpcacheKey {
        prefix,
        cluster_id,
        v6,
    })
}

fn flag_names(f: u8, layout: Layout) -> Vec<String> {
    let known: &[(u8, &str)] = match layout {
        Layout::V1_14 | Layout::V1_15 => &[],
        Layout::V1_16 | Layout::V1_17 => &[(1, "skiptunnel")],
        Layout::V1_18 => &[(1, "skiptunnel"), (2, "hastunnel"), (4, "ipv6tunnel")],
        Layout::Main => &[
            (1, "skiptunnel"),
            (2, "hastunnel"),
            (4, "ipv6tunnel"),
            (8, "remotecluster"),
        ],
    };
    let mut out: Vec<String> = known
        .iter()
        .filter(|(m, _)| f & m != 0)
        .map(|(_, n)| n.to_string())
        .collect();
    let mask: u8 = known.iter().map(|(m, _)| m).fold(0, |a, m| a | m);
    if f & !mask != 0 {
        out.push(format!("unknown(0x{:02x})", f & !mask));
    }
    out
}

/// One ipcache entry. The value size picks the v1 (12 B) or v2 (24 B) value layout.
pub fn decode_entry(key: &[u8], value: &[u8], layout: Layout) -> Result<IdentityEntry> {
    let k = decode_key(key, layout)?;
    let (identity, tunnel, encrypt_key, flags, node_id) = match value.len() {
        24 => {
            let f = u8_at(value, 23);
            let t = if f & 4 != 0 {
                let a = ip6(value, 4);
                (!a.is_unspecified()).then(|| a.to_string())
            } else {
                let a = ip4(value, 4);
                (!a.is_unspecified()).then(|| a.to_string())
            };
            (
                le32(value, 0),
                t,
                u8_at(value, 22),
                flag_names(f, layout),
                None,
            )
        }
        12 => {
            let a = ip4(value, 4);
            let t = (!a.is_unspecified()).then(|| a.to_string());
            let node = (layout == Layout::V1_14).then(|| le16(value, 8));
            let f = if layout >= Layout::V1_16 {
                u8_at(value, 11)
            } else {
                0
            };
            (
                le32(value, 0),
                t,
                u8_at(value, 10),
                flag_names(f, layout),
                node,
            )
        }
        n => {
            return Err(DecodeError::Size {
                what: "ipcache value",
                expected: if layout >= Layout::V1_18 { 24 } else { 12 },
                got: n,
            })
        }
    };
    Ok(IdentityEntry {
        prefix: k.prefix,
        identity,
        identity_name: identity::describe(identity).map(str::to_string),
        tunnel_endpoint: tunnel,
        flags,
        encrypt_key,
        cluster_id: k.cluster_id,
        node_id,
        layout: Some(layout.label().into()),
        raw: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::cilium::bytes::testutil::fuzz_pairs;

    pub fn key(plen_bits: u32, cluster: u16, family: u8, addr: &[u8]) -> Vec<u8> {
        let mut k = (plen_bits + 32).to_le_bytes().to_vec();
        k.extend(cluster.to_le_bytes());
        k.extend([0, family]);
        let mut a = [0u8; 16];
        a[..addr.len()].copy_from_slice(addr);
        k.extend(a);
        k
    }

    #[test]
    fn v2_values_with_tunnels() {
        let k = key(32, 0, 1, &[10, 244, 2, 17]);
        let mut v = 40110u32.to_le_bytes().to_vec();
        v.extend([172, 18, 0, 4]);
        v.extend([0u8; 14]);
        v.extend([3, 0x02]);
        let e = decode_entry(&k, &v, Layout::V1_18).unwrap();
        assert_eq!(e.prefix, "10.244.2.17/32");
        assert_eq!((e.identity, e.encrypt_key), (40110, 3));
        assert_eq!(e.tunnel_endpoint.as_deref(), Some("172.18.0.4"));
        assert_eq!(e.flags, vec!["hastunnel"]);
        // IPv6 tunnel endpoint and remote cluster flag (main only).
        let k = key(64, 5, 2, &[0xfd, 0, 0, 0, 0, 0, 0, 1]);
        let mut v = 2u32.to_le_bytes().to_vec();
        let mut t = [0u8; 16];
        t[0] = 0xfd;
        t[15] = 4;
        v.extend(t);
        v.extend([0, 0, 0, 0x0e]);
        let e = decode_entry(&k, &v, Layout::Main).unwrap();
        assert_eq!(e.prefix, "fd00:0:0:1::/64@5");
        assert_eq!(e.identity_name.as_deref(), Some("world"));
        assert_eq!(e.tunnel_endpoint.as_deref(), Some("fd00::4"));
        assert_eq!(e.flags, vec!["hastunnel", "ipv6tunnel", "remotecluster"]);
        let e = decode_entry(&k, &v, Layout::V1_18).unwrap();
        assert_eq!(e.flags, vec!["hastunnel", "ipv6tunnel", "unknown(0x08)"]);
        // Well-known and scoped identities in Cilium's spelling (the panes' table).
        for (id, name) in [
            (106u32, "eks-coredns"),
            (104, "coredns"),
            (0x0100_0004, "local (CIDR)"),
        ] {
            let mut v = id.to_le_bytes().to_vec();
            v.extend([0u8; 20]);
            let e = decode_entry(&k, &v, Layout::Main).unwrap();
            assert_eq!(e.identity_name.as_deref(), Some(name));
        }
    }

    #[test]
    fn v1_values_per_release() {
        let k = key(0, 0, 1, &[]);
        let mut v = 2u32.to_le_bytes().to_vec();
        v.extend([0, 0, 0, 0]);
        v.extend(7u16.to_le_bytes());
        v.extend([1, 1]);
        let e = decode_entry(&k, &v, Layout::V1_17).unwrap();
        assert_eq!(e.prefix, "0.0.0.0/0");
        assert_eq!((e.tunnel_endpoint.clone(), e.node_id), (None, None));
        assert_eq!(e.flags, vec!["skiptunnel"]);
        let e = decode_entry(&k, &v, Layout::V1_15).unwrap();
        assert!(e.flags.is_empty());
        let e = decode_entry(&k, &v, Layout::V1_14).unwrap();
        assert_eq!(e.node_id, Some(7));
        // 1.14 keeps a u8 cluster id at offset 6.
        let mut k14 = key(24, 0, 1, &[10, 0, 1, 0]);
        k14[6] = 9;
        assert_eq!(
            decode_entry(&k14, &v, Layout::V1_14).unwrap().prefix,
            "10.0.1.0/24@9"
        );
        // 1.15+ read a u16 at offset 4; byte 6 is padding there.
        assert_eq!(
            decode_entry(&k14, &v, Layout::V1_15).unwrap().prefix,
            "10.0.1.0/24"
        );
    }

    #[test]
    fn bad_input_is_an_error() {
        let v = [0u8; 12];
        assert!(decode_entry(&key(32, 0, 3, &[1]), &v, Layout::V1_17).is_err());
        assert!(decode_entry(&key(33, 0, 1, &[1]), &v, Layout::V1_17).is_err());
        let mut k = key(0, 0, 1, &[]);
        k[0] = 5; // prefixlen 5 < 32
        assert!(decode_entry(&k, &v, Layout::V1_17).is_err());
        assert!(decode_entry(&key(8, 0, 1, &[1]), &[0; 13], Layout::V1_17).is_err());
        assert!(decode_entry(&[0; 23], &v, Layout::V1_17).is_err());
    }

    #[test]
    fn garbage_never_panics() {
        fuzz_pairs(0x1bca, &[12, 24], |k, v| {
            for l in Layout::ALL {
                let _ = decode_entry(k, v, l);
            }
        });
    }
}
