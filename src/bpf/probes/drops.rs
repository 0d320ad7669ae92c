//! The `drops` probe: `skb:kfree_skb` (tp_btf) aggregated in the kernel per (reason, location,
//! netns, ifindex, 5-tuple). Reason names come from the running kernel's BTF enum
//! `skb_drop_reason`; locations from kallsyms.

use super::decode::{self, protocol_name, tuple_of};
use super::table::{self, Table};
use super::{fill_pressure_counted, netns, HeaderReads, Loaded};
use crate::bytes::{self, Plain};
use crate::model::{Drop, IdentityEntry, ProbeStatus};
use std::collections::HashMap;
use std::mem::size_of;

static OBJ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/drops.bpf.o"));

skeleton!("drops");
use skel::types::{drop_key4, drop_key6, drop_slot4, drop_slot6, drop_w4, drop_w6};

// SAFETY: generated repr(C) mirrors of C structs whose fields are all integers and arrays of
// integers (probes/drops.bpf.c, probes/dpscope.h): any bytes are a valid value.
unsafe impl Plain for drop_key4 {}
// SAFETY: as above.
unsafe impl Plain for drop_key6 {}

/// IPv4 rows (and drops whose headers were not parsed) and IPv6 rows live in separate tables: a
/// short key makes hashing and comparing cheaper per drop (docs/benchmarks.md). Both are inline
/// open-addressed tables in mmapable arrays (probes/dps_table.h), read in place.
const MAP4: &str = "dps_drops4";
const MAP6: &str = "dps_drops6";
const STATS: &str = "dps_drops_stats";
/// Slots of each in-kernel table (probes/dps_table.h).
pub const MAX_ENTRIES: u32 = table::SLOTS;
/// `struct drop_key4` (36 bytes) and `struct drop_key6` (60 bytes); count and bytes: 16 bytes.
pub const KEY4_SIZE: usize = size_of::<drop_key4>();
pub const KEY6_SIZE: usize = size_of::<drop_key6>();
pub const VAL_SIZE: usize = 16;
/// `struct drop_slot4` / `drop_slot6` in u64 words, and their keys (zero padded to words).
const SLOT4_WORDS: usize = size_of::<drop_slot4>() / 8;
const KEY4_WORDS: usize = size_of::<drop_w4>() / 8;
const SLOT6_WORDS: usize = size_of::<drop_slot6>() / 8;
const KEY6_WORDS: usize = size_of::<drop_w6>() / 8;

pub struct DropProbe {
    /// The mappings go before the object (field order is drop order).
    t4: Table,
    t6: Table,
    pub loaded: Loaded,
    reasons: HashMap<u32, String>,
    epoch: u32,
}

/// One decoded map entry (before names are resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDrop {
    pub reason: u32,
    pub ifindex: u32,
    pub location: u64,
    pub netns: u32,
    pub tuple: decode::Tuple,
    pub count: u64,
    pub bytes: u64,
}

/// `struct drop_where` (the key's first part) and the decoded tuple; `v` is count and bytes.
fn decode_with(w: &skel::types::drop_where, tuple: decode::Tuple, v: &[u8]) -> Option<RawDrop> {
    if v.len() < VAL_SIZE {
        return None;
    }
    Some(RawDrop {
        reason: w.reason,
        ifindex: w.ifindex,
        netns: w.netns,
        location: u64::from(w.loc_lo) | u64::from(w.loc_hi) << 32,
        tuple,
        count: bytes::ne_u64(v, 0),
        bytes: bytes::ne_u64(v, 8),
    })
}

/// A row of `dps_drops4` (the key as the slot holds it, padding allowed).
pub fn decode_entry4(k: &[u8], v: &[u8]) -> Option<RawDrop> {
    let k: drop_key4 = bytes::read(k)?;
    decode_with(&k.w, tuple_of!(tuple4, k.t), v)
}

/// A row of `dps_drops6`.
pub fn decode_entry6(k: &[u8], v: &[u8]) -> Option<RawDrop> {
    let k: drop_key6 = bytes::read(k)?;
    decode_with(&k.w, tuple_of!(tuple, k.t), v)
}

/// `skb_drop_reason` values → names without the `SKB_DROP_REASON_` prefix, from vmlinux BTF.
pub fn reason_names() -> Result<HashMap<u32, String>, String> {
    use libbpf_rs::btf::types::Enum;
    let mut kernel = crate::bpf::btf_cache::KernelBtf::new();
    let btf = kernel.vmlinux()?;
    let e: Enum<'_> = btf
        .type_by_name("skb_drop_reason")
        .ok_or_else(|| "vmlinux BTF has no enum skb_drop_reason".to_string())?;
    Ok(e.iter()
        .filter_map(|m| {
            let name = m.name?.to_string_lossy();
            Some((m.value as u32, decode::reason_name(&name)))
        })
        .collect())
}

impl DropProbe {
    pub fn load() -> Result<DropProbe, String> {
        let loaded = Loaded::open(OBJ, |_| true);
        Self::attach(loaded)
    }

    /// Load with the given header reads only (tests exercise the fallback on new kernels).
    pub fn load_with(headers: HeaderReads) -> Result<DropProbe, String> {
        Self::attach(Loaded::open_with(OBJ, &|_| true, headers).map_err(|(e, _)| e))
    }

    fn attach(loaded: Result<Loaded, String>) -> Result<DropProbe, String> {
        let mut loaded = loaded
            .map_err(|e| format!("cannot load the kfree_skb probe (needs BTF and tp_btf): {e}"))?;
        let table = |name: &str, slot_words: usize, key_words: usize| {
            let m = loaded
                .map(name)
                .ok_or_else(|| format!("object has no map {name}"))?;
            Table::map(&m, slot_words, key_words, 2)
        };
        let t4 = table(MAP4, SLOT4_WORDS, KEY4_WORDS)?;
        let t6 = table(MAP6, SLOT6_WORDS, KEY6_WORDS)?;
        loaded.attach_all_tracing()?;
        let reasons = reason_names().unwrap_or_default();
        Ok(DropProbe {
            t4,
            t6,
            loaded,
            reasons,
            epoch: 1,
        })
    }

    /// Rows for the snapshot, and the probe's status.
    pub fn read(&mut self, names: &mut netns::Resolver) -> (Vec<Drop>, ProbeStatus) {
        let (r4, r6) = (self.t4.read(), self.t6.read());
        table::next_epoch(&self.loaded, &mut self.epoch);
        let live = r4.live + r6.live;
        let val = |count: u64, bytes: u64| [count.to_ne_bytes(), bytes.to_ne_bytes()].concat();
        let raws: Vec<RawDrop> = r4
            .rows
            .iter()
            .filter_map(|(k, c, b, _)| decode_entry4(k, &val(*c, *b)))
            .chain(
                r6.rows
                    .iter()
                    .filter_map(|(k, c, b, _)| decode_entry6(k, &val(*c, *b))),
            )
            .collect();
        let wanted: Vec<(u32, u32)> = raws.iter().map(|r| (r.netns, r.ifindex)).collect();
        let ifnames = names.ifnames(&wanted);
        let syms = crate::bpf::kallsyms::Kallsyms::global();
        let rows = raws
            .into_iter()
            .map(|r| Drop {
                reason: r.reason,
                reason_name: self
                    .reasons
                    .get(&r.reason)
                    .cloned()
                    .unwrap_or_else(|| r.reason.to_string()),
                location: location(syms, r.location),
                ifindex: r.ifindex,
                ifname: ifnames
                    .get(&(r.netns, r.ifindex))
                    .cloned()
                    .unwrap_or_default(),
                protocol: if r.tuple.family == 0 {
                    String::new()
                } else {
                    protocol_name(r.tuple.protocol)
                },
                src: r.tuple.src,
                src_port: r.tuple.sport,
                dst: r.tuple.dst,
                dst_port: r.tuple.dport,
                count: r.count,
                bytes: r.bytes,
                netns: r.netns,
                src_identity: None,
                dst_identity: None,
            })
            .collect::<Vec<_>>();
        let mut st = ProbeStatus {
            name: "drops".into(),
            loaded: true,
            attached: true,
            detail: format!(
                "tp_btf/kfree_skb; {} drop reasons named from BTF; IPv4 {}/{MAX_ENTRIES}, IPv6 \
                 {}/{MAX_ENTRIES} rows{}",
                self.reasons.len(),
                r4.live,
                r6.live,
                headers_note(self.loaded.headers)
            ),
            prog_ids: self.loaded.prog_ids.clone(),
            ..Default::default()
        };
        fill_pressure_counted(&mut st, self.loaded.stats(STATS), live, 2 * MAX_ENTRIES);
        (rows, st)
    }
}

/// Said in the status detail when the probe runs on the slower fallback.
pub fn headers_note(h: HeaderReads) -> &'static str {
    match h {
        HeaderReads::Direct => "",
        HeaderReads::Copied => "; headers copied with bpf_probe_read_kernel (direct loads refused)",
    }
}

fn location(syms: &crate::bpf::kallsyms::Kallsyms, addr: u64) -> String {
    match syms.lookup_with_offset(addr) {
        Some((name, 0)) => name.to_string(),
        Some((name, off)) => format!("{name}+{off:#x}"),
        None if addr == 0 => String::new(),
        None => format!("{addr:#x}"),
    }
}

/// Cilium hook: fill `src_identity`/`dst_identity` from the snapshot's ipcache entries
/// (longest-prefix match on `prefix`). Called by the Cilium collector once identities are known.
pub fn annotate_identities(drops: &mut [Drop], identities: &[IdentityEntry]) {
    if identities.is_empty() {
        return;
    }
    let lookup = |addr: &str| -> Option<u32> {
        let ip: std::net::IpAddr = addr.parse().ok()?;
        identities
            .iter()
            .filter_map(|e| {
                let (net, len) = e.prefix.split_once('/').unwrap_or((&e.prefix, ""));
                let net: std::net::IpAddr = net.parse().ok()?;
                let max = if net.is_ipv4() { 32 } else { 128 };
                let len: u32 = if len.is_empty() {
                    max
                } else {
                    len.parse().ok()?
                };
                prefix_contains(net, len, ip).then_some((len, e.identity))
            })
            .max_by_key(|(len, _)| *len)
            .map(|(_, id)| id)
    };
    for d in drops {
        d.src_identity = lookup(&d.src);
        d.dst_identity = lookup(&d.dst);
    }
}

fn prefix_contains(net: std::net::IpAddr, len: u32, ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr::{V4, V6};
    match (net, ip) {
        (V4(n), V4(i)) if len <= 32 => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            u32::from(n) & mask == u32::from(i) & mask
        }
        (V6(n), V6(i)) if len <= 128 => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_types_match_the_object() {
        use crate::bpf::probes::layout::assert_sizes;
        use skel::types::{dps_tuple, dps_tuple4, drop_where};
        use std::mem::offset_of;
        assert_sizes(
            OBJ,
            &[
                ("drop_where", size_of::<drop_where>()),
                ("dps_tuple4", size_of::<dps_tuple4>()),
                ("dps_tuple", size_of::<dps_tuple>()),
                ("drop_key4", KEY4_SIZE),
                ("drop_key6", KEY6_SIZE),
                ("drop_w4", KEY4_WORDS * 8),
                ("drop_w6", KEY6_WORDS * 8),
                ("drop_slot4", SLOT4_WORDS * 8),
                ("drop_slot6", SLOT6_WORDS * 8),
            ],
        );
        assert_eq!((KEY4_SIZE, KEY6_SIZE), (36, 60));
        // table::scan reads the state word, the key words, then count and bytes.
        assert_eq!(offset_of!(drop_slot4, key), 8);
        assert_eq!(offset_of!(drop_slot4, count), 8 + KEY4_WORDS * 8);
        assert_eq!(offset_of!(drop_slot4, bytes), 16 + KEY4_WORDS * 8);
        assert_eq!(offset_of!(drop_slot6, key), 8);
        assert_eq!(offset_of!(drop_slot6, count), 8 + KEY6_WORDS * 8);
        assert_eq!(offset_of!(drop_slot6, bytes), 16 + KEY6_WORDS * 8);
        assert_eq!(VAL_SIZE, 16);
    }

    fn where_bytes(k: &mut [u8]) {
        k[0..4].copy_from_slice(&3u32.to_ne_bytes());
        k[4..8].copy_from_slice(&7u32.to_ne_bytes());
        k[8..12].copy_from_slice(&4026531840u32.to_ne_bytes());
        k[12..16].copy_from_slice(&0x8100_0010u32.to_ne_bytes());
        k[16..20].copy_from_slice(&0xffff_ffffu32.to_ne_bytes());
    }

    #[test]
    fn entries_decode_v4_and_v6() {
        let mut v = vec![0u8; VAL_SIZE];
        v[0..8].copy_from_slice(&5u64.to_ne_bytes());
        v[8..16].copy_from_slice(&500u64.to_ne_bytes());

        let mut k = vec![0u8; KEY4_SIZE];
        where_bytes(&mut k);
        k[20] = 2;
        k[21] = 17;
        k[22..24].copy_from_slice(&5000u16.to_ne_bytes());
        k[24..26].copy_from_slice(&53u16.to_ne_bytes());
        k[28..32].copy_from_slice(&[10, 0, 0, 1]);
        k[32..36].copy_from_slice(&[10, 0, 0, 2]);
        let d = decode_entry4(&k, &v).unwrap();
        assert_eq!(
            (d.reason, d.ifindex, d.netns, d.location, d.count, d.bytes),
            (3, 7, 4026531840, 0xffff_ffff_8100_0010, 5, 500)
        );
        assert_eq!(
            (d.tuple.src.as_str(), d.tuple.dst.as_str()),
            ("10.0.0.1", "10.0.0.2")
        );
        assert_eq!(
            (d.tuple.sport, d.tuple.dport, d.tuple.protocol),
            (5000, 53, 17)
        );
        assert!(decode_entry4(&k[..10], &v).is_none());
        assert!(decode_entry4(&k, &v[..8]).is_none());

        let mut k = vec![0u8; KEY6_SIZE];
        where_bytes(&mut k);
        k[20] = 10;
        k[21] = 6;
        k[22..24].copy_from_slice(&443u16.to_ne_bytes());
        k[24..26].copy_from_slice(&40000u16.to_ne_bytes());
        k[28] = 0xfd;
        k[43] = 1;
        k[44] = 0xfd;
        k[59] = 2;
        let d = decode_entry6(&k, &v).unwrap();
        assert_eq!(d.location, 0xffff_ffff_8100_0010);
        assert_eq!(
            (d.tuple.src.as_str(), d.tuple.dst.as_str()),
            ("fd00::1", "fd00::2")
        );
        assert_eq!((d.tuple.sport, d.tuple.dport), (443, 40000));
        assert!(decode_entry6(&k[..KEY4_SIZE], &v).is_none());
    }

    #[test]
    fn identities_by_longest_prefix() {
        let ids = vec![
            IdentityEntry {
                prefix: "10.0.0.0/8".into(),
                identity: 2,
                ..Default::default()
            },
            IdentityEntry {
                prefix: "10.0.1.12/32".into(),
                identity: 4242,
                ..Default::default()
            },
        ];
        let mut d = vec![Drop {
            src: "10.0.1.12".into(),
            dst: "192.168.1.1".into(),
            ..Default::default()
        }];
        annotate_identities(&mut d, &ids);
        assert_eq!((d[0].src_identity, d[0].dst_identity), (Some(4242), None));
    }
}
