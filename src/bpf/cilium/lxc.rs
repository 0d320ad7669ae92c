//! Local endpoints `cilium_lxc` (cilium-maps.md §3.10).

use super::bytes::*;
use super::layout::Layout;
use crate::model::Endpoint;

fn flag_names(f: u32, layout: Layout) -> Vec<String> {
    let mut known: Vec<(u32, &str)> = vec![(1, "host")];
    if layout >= Layout::V1_17 {
        known.push((2, "at-hostns"));
    }
    if layout == Layout::Main {
        known.push((4, "no-snat-v4"));
        known.push((8, "no-snat-v6"));
    }
    let mask = known.iter().fold(0, |a, (m, _)| a | m);
    let mut out: Vec<String> = known
        .iter()
        .filter(|(m, _)| f & m != 0)
        .map(|(_, n)| n.to_string())
        .collect();
    if f & !mask != 0 {
        out.push(format!("unknown(0x{:x})", f & !mask));
    }
    out
}

pub fn decode_entry(key: &[u8], value: &[u8], layout: Layout) -> Result<Endpoint> {
    exact("lxc key", key, 20)?;
    exact("lxc value", value, 48)?;
    let address = match u8_at(key, 16) {
        1 => ip4(key, 0).to_string(),
        2 => ip6(key, 0).to_string(),
        f => return Err(invalid("lxc key", format!("unknown family {f}"))),
    };
    let cluster_id = if layout == Layout::V1_14 {
        u16::from(u8_at(key, 18))
    } else {
        le16(key, 18)
    };
    Ok(Endpoint {
        address,
        endpoint_id: le16(value, 6),
        identity: le32(value, 32),
        ifindex: le32(value, 0),
        mac: mac(value, 16),
        node_mac: mac(value, 24),
        flags: flag_names(le32(value, 8), layout),
        parent_ifindex: (layout >= Layout::V1_17).then(|| le32(value, 36)),
        cluster_id,
        layout: Some(layout.label().into()),
        raw: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::cilium::bytes::testutil::fuzz_pairs;

    #[test]
    fn endpoint_and_host_entries() {
        let mut k = vec![10, 244, 1, 23];
        k.extend([0u8; 12]);
        k.extend([1, 0]);
        k.extend(0u16.to_le_bytes());
        let mut v = vec![0u8; 48];
        v[0..4].copy_from_slice(&12u32.to_le_bytes());
        v[6..8].copy_from_slice(&403u16.to_le_bytes());
        v[16..22].copy_from_slice(&[0x5e, 0x7d, 0x1a, 0x22, 0x0b, 0x9c]);
        v[24..30].copy_from_slice(&[0xa2, 0x33, 0x4c, 0x10, 0x6f, 0xe1]);
        v[32..36].copy_from_slice(&28461u32.to_le_bytes());
        v[36..40].copy_from_slice(&3u32.to_le_bytes());
        let e = decode_entry(&k, &v, Layout::V1_18).unwrap();
        assert_eq!(e.address, "10.244.1.23");
        assert_eq!((e.endpoint_id, e.identity, e.ifindex), (403, 28461, 12));
        assert_eq!(e.mac, "5E:7D:1A:22:0B:9C");
        assert_eq!(e.node_mac, "A2:33:4C:10:6F:E1");
        assert_eq!(e.parent_ifindex, Some(3));
        assert!(e.flags.is_empty());
        assert_eq!(
            decode_entry(&k, &v, Layout::V1_16).unwrap().parent_ifindex,
            None
        );
        v[8..12].copy_from_slice(&0x13u32.to_le_bytes());
        assert_eq!(
            decode_entry(&k, &v, Layout::Main).unwrap().flags,
            vec!["host", "at-hostns", "unknown(0x10)"]
        );
        assert_eq!(
            decode_entry(&k, &v, Layout::V1_16).unwrap().flags,
            vec!["host", "unknown(0x12)"]
        );
        let mut k6 = vec![0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 2, 0];
        k6.extend(4u16.to_le_bytes());
        let e = decode_entry(&k6, &v, Layout::Main).unwrap();
        assert_eq!((e.address.as_str(), e.cluster_id), ("fd00::12", 4));
        // 1.14: cluster id is a u8 at 18 followed by padding.
        let mut k14 = k6.clone();
        k14[18] = 7;
        k14[19] = 0xff;
        assert_eq!(decode_entry(&k14, &v, Layout::V1_14).unwrap().cluster_id, 7);
        assert_eq!(
            decode_entry(&k14, &v, Layout::V1_15).unwrap().cluster_id,
            0xff07
        );
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(decode_entry(&[0; 20], &[0; 48], Layout::Main).is_err()); // family 0
        assert!(decode_entry(&[0; 19], &[0; 48], Layout::Main).is_err());
        let mut k = [0u8; 20];
        k[16] = 1;
        assert!(decode_entry(&k, &[0; 47], Layout::Main).is_err());
        assert!(decode_entry(&k, &[0; 49], Layout::Main).is_err());
    }

    #[test]
    fn garbage_never_panics() {
        fuzz_pairs(0x1c, &[20, 48], |k, v| {
            for l in Layout::ALL {
                let _ = decode_entry(k, v, l);
            }
        });
    }
}
