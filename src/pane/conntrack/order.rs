//! The conntrack pane's row order, fast enough for half a million rows.
//!
//! It is the generic table's order (`Table::order`: rows whose cells contain the filter,
//! sorted on the column, ties broken by row key, `None` last in both directions) computed on
//! compact keys: integers for numbers and addresses, ranks for the few distinct words and flag
//! sets, and row keys from one FNV pass that shares the hash of the common prefix. The row
//! keys are computed once per snapshot (kept in the app's `Memo`); `App::update` keeps the
//! order until the snapshot or the view's shape changes, so a key that only moves the
//! selection sorts nothing.

use super::{
    direction, push_decimal, service_with, table_short, write_connection, write_expires, COLUMNS,
    TABLE,
};
use crate::model::{Addr, CtEntry, CtFlags, Snapshot, Word};
use crate::pane::cilium;
use crate::pane::order::{Memo, Order};
use crate::pane::table::TablePane;
use crate::pane::{Ctx, RowKey, TableView};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::net::IpAddr;
use std::sync::Arc;

/// Visible rows in order, computed afresh (the generic table's order, faster).
pub fn order(rows: &[CtEntry], ctx: &Ctx, view: &TableView) -> Vec<usize> {
    compute(rows, ctx, view, &row_hashes(rows))
        .into_iter()
        .map(|i| i as usize)
        .collect()
}

/// The pane's order: [`order`] as row indices, with the rows' keys, which are hashed once per
/// snapshot and kept in `memo` (the order builds no key: a line's key is its row's hash).
pub fn ordered(pane: &TablePane<CtEntry>, ctx: &Ctx, view: &TableView, memo: &mut Memo) -> Order {
    let rows = (pane.rows)(ctx);
    let memo = memo.of(ctx.seq);
    let hashes = match &memo.conntrack_keys {
        Some(h) if h.len() == rows.len() => h.clone(),
        _ => {
            let h = Arc::new(row_hashes(rows));
            memo.conntrack_keys = Some(h.clone());
            h
        }
    };
    let order = compute(rows, ctx, view, &hashes);
    Order::by_id(hashes, order)
}

fn compute(rows: &[CtEntry], ctx: &Ctx, view: &TableView, hashes: &[u64]) -> Vec<u32> {
    let (col, desc) = TABLE.sort(view);
    let changes_only = ctx.baseline.is_some_and(|b| b.changes_only);
    let mut m = Matcher::new(ctx.snap, &view.filter);
    // Row indices as u32 (a CT map holds at most 2^32 entries; more rows than that would be
    // cut, never wrapped).
    let visible: Vec<u32> = rows
        .iter()
        .take(u32::MAX as usize)
        .enumerate()
        .filter(|(_, e)| m.keep(e))
        .filter(|(_, e)| !changes_only || TABLE.passes_changes_only(e, ctx))
        .map(|(i, _)| i as u32)
        .collect();
    let mut order = sorted(rows, &visible, hashes, col, desc).unwrap_or_else(|| {
        // Addresses that are not IPs (hand-edited files) sort as the generic table sorts text.
        TABLE
            .order(rows, ctx, view)
            .into_iter()
            .filter_map(|i| u32::try_from(i).ok())
            .collect()
    });
    if !view.marked.is_empty() {
        // Marked rows (`m`) first, keeping the sort order: as the generic table does.
        let marked = |i: &u32| {
            let key = RowKey::Id(hashes.get(*i as usize).copied().unwrap_or(0));
            view.marked.contains(&key)
        };
        order.sort_by_key(|i| !marked(i));
    }
    order
}

/// One group of sorted rows: (sort key, row key hash, row), the sort key inverted for a
/// descending sort. As small as the column's key allows (16 bytes for ranks and IPv4
/// addresses, 24 for counters): half a million of them are sorted on each `s`.
struct Group<K>(Vec<(K, u64, u32)>);

impl<K: Ord + Copy + std::ops::Not<Output = K>> Group<K> {
    fn new(capacity: usize) -> Group<K> {
        Group(Vec::with_capacity(capacity))
    }

    fn put(&mut self, key: K, desc: bool, hash: u64, i: u32) {
        self.0.push((if desc { !key } else { key }, hash, i));
    }

    /// The rows in order, after `out`'s.
    fn sort_into(mut self, out: &mut Vec<u32>) {
        self.0.sort_unstable();
        out.extend(self.0.into_iter().map(|(_, _, i)| i));
    }
}

/// Sort `visible` on column `col`; `None` when the column needs the generic (text) order.
fn sorted(
    rows: &[CtEntry],
    visible: &[u32],
    hashes: &[u64],
    col: usize,
    desc: bool,
) -> Option<Vec<u32>> {
    let hash = |i: u32| hashes.get(i as usize).copied().unwrap_or(0);
    let row = |i: u32| &rows[i as usize];
    let mut out = Vec::with_capacity(visible.len());
    // One key per row (`n`th visible, row `i`), one group.
    let by = |key: &dyn Fn(&CtEntry) -> u64, out: &mut Vec<u32>| {
        one_group(visible, hashes, desc, |_, i| key(row(i)), out)
    };
    let by_rank =
        |r: Vec<u32>, out: &mut Vec<u32>| one_group(visible, hashes, desc, |n, _| r[n], out);
    // Rows fall into groups that keep their place in both directions (numbers before `None`;
    // IPv4 before IPv6 as their text keys `4…` < `6…`); keys are inverted for descending.
    match COLUMNS.get(col)?.header {
        // Signed → unsigned keeping the order.
        "EXPIRES" => by(&|e| e.expires_in_s as u64 ^ (1 << 63), &mut out),
        "SERVICE (REVNAT)" => by(&|e| u64::from(e.rev_nat_id), &mut out),
        "SRC IDENTITY" => by(&|e| u64::from(e.src_identity), &mut out),
        "PACKETS" | "BYTES" => {
            let packets = COLUMNS.get(col)?.header == "PACKETS";
            let mut some: Group<u64> = Group::new(visible.len());
            let mut none = Vec::new();
            for &i in visible {
                let e = row(i);
                match if packets { e.packets } else { e.bytes } {
                    Some(v) => some.put(v, desc, hash(i), i),
                    None => none.push((hash(i), i)),
                }
            }
            some.sort_into(&mut out);
            none.sort_unstable();
            out.extend(none.into_iter().map(|(_, i)| i));
        }
        "CONNECTION" => {
            let mut v4: Group<u32> = Group::new(visible.len());
            let mut v6: Group<u128> = Group::new(0);
            for &i in visible {
                match row(i).src.ip()? {
                    IpAddr::V4(a) => v4.put(u32::from(a), desc, hash(i), i),
                    IpAddr::V6(a) => v6.put(u128::from(a), desc, hash(i), i),
                }
            }
            if desc {
                v6.sort_into(&mut out);
                v4.sort_into(&mut out);
            } else {
                v4.sort_into(&mut out);
                v6.sort_into(&mut out);
            }
        }
        "TABLE" => by_rank(
            ranks(rows, visible, |e| e.table.clone(), |e| e.table.to_string()),
            &mut out,
        ),
        "PROTO" => by_rank(
            ranks(
                rows,
                visible,
                |e| e.protocol.clone(),
                |e| e.protocol.to_string(),
            ),
            &mut out,
        ),
        "DIR" => by_rank(
            ranks(
                rows,
                visible,
                |e| (e.direction.clone(), e.related),
                direction,
            ),
            &mut out,
        ),
        "FLAGS" => by_rank(
            ranks(rows, visible, |e| e.flags.clone(), |e| e.flags.join(" ")),
            &mut out,
        ),
        _ => return None,
    }
    Some(out)
}

/// `visible` sorted on `key(n, i)` of its `n`th row `i` into `out`, ties by row key hash.
fn one_group<K: Ord + Copy + std::ops::Not<Output = K>>(
    visible: &[u32],
    hashes: &[u64],
    desc: bool,
    key: impl Fn(usize, u32) -> K,
    out: &mut Vec<u32>,
) {
    let mut g = Group::new(visible.len());
    for (n, &i) in visible.iter().enumerate() {
        g.put(
            key(n, i),
            desc,
            hashes.get(i as usize).copied().unwrap_or(0),
            i,
        );
    }
    g.sort_into(out);
}

/// The rank of each visible row's text (lower-cased, as the generic table compares text),
/// formatting each distinct value once: tables, protocols, directions and flag sets have a
/// handful of values in half a million rows.
fn ranks<K: Hash + Eq>(
    rows: &[CtEntry],
    visible: &[u32],
    key: impl Fn(&CtEntry) -> K,
    text: impl Fn(&CtEntry) -> String,
) -> Vec<u32> {
    let mut ids: FastMap<K, usize> = FastMap::default();
    let mut texts: Vec<String> = Vec::new();
    let row_ids: Vec<usize> = visible
        .iter()
        .map(|&i| {
            let e = &rows[i as usize];
            *ids.entry(key(e)).or_insert_with(|| {
                texts.push(text(e).to_lowercase());
                texts.len() - 1
            })
        })
        .collect();
    let mut by_text: Vec<usize> = (0..texts.len()).collect();
    by_text.sort_by(|a, b| texts[*a].cmp(&texts[*b]));
    let mut rank = vec![0u32; texts.len()];
    let mut r = 0;
    for (n, &id) in by_text.iter().enumerate() {
        if n > 0 && texts[id] != texts[by_text[n - 1]] {
            r += 1;
        }
        rank[id] = r;
    }
    row_ids.into_iter().map(|id| rank[id]).collect()
}

// ---- the filter ----

/// Does a row match the filter? The same test as the generic table (any cell's lower-cased
/// text contains the lower-cased needle; `!` inverts) with each distinct table, protocol,
/// direction, flag set, service and identity tested once, and the per-row cells written into
/// one reused buffer.
struct Matcher {
    needle: String,
    invert: bool,
    /// The needle could be in a per-row cell of a row whose addresses are IPs (those cells
    /// hold only digits, hex, `.:[] →-` and `expired`, `s`): when not, they are not formatted.
    per_row: bool,
    frontends: HashMap<u16, String>,
    tables: FastMap<Word, bool>,
    protocols: FastMap<Word, bool>,
    directions: FastMap<(Word, bool), bool>,
    flags: FastMap<CtFlags, bool>,
    services: FastMap<(u16, Option<u64>), bool>,
    identities: FastMap<u32, bool>,
    buf: String,
}

fn cached<K: Hash + Eq + Clone>(
    seen: &mut FastMap<K, bool>,
    k: &K,
    test: impl FnOnce() -> bool,
) -> bool {
    if let Some(hit) = seen.get(k) {
        return *hit;
    }
    let hit = test();
    seen.insert(k.clone(), hit);
    hit
}

impl Matcher {
    fn new(snap: &Snapshot, filter: &str) -> Matcher {
        let (invert, needle) = match filter.strip_prefix('!') {
            Some(rest) => (true, rest.to_lowercase()),
            None => (false, filter.to_lowercase()),
        };
        // The first service with a rev-NAT id names it (as `service` finds it).
        let frontends = snap
            .services
            .iter()
            .rev()
            .map(|s| (s.rev_nat_id, crate::pane::services::frontend_text(s)))
            .collect();
        let per_row = needle
            .chars()
            .all(|c| c.is_ascii_hexdigit() || ".:[] →-xpirs".contains(c));
        Matcher {
            needle,
            invert,
            per_row,
            frontends,
            tables: FastMap::default(),
            protocols: FastMap::default(),
            directions: FastMap::default(),
            flags: FastMap::default(),
            services: FastMap::default(),
            identities: FastMap::default(),
            buf: String::with_capacity(64),
        }
    }

    fn keep(&mut self, e: &CtEntry) -> bool {
        self.needle.is_empty() || self.hit(e) != self.invert
    }

    fn hit(&mut self, e: &CtEntry) -> bool {
        let needle = self.needle.as_str();
        let has = |text: &str| text.to_lowercase().contains(needle);
        if cached(&mut self.tables, &e.table, || has(&table_short(&e.table)))
            || cached(&mut self.protocols, &e.protocol, || has(&e.protocol))
            || cached(
                &mut self.directions,
                &(e.direction.clone(), e.related),
                || has(&direction(e)),
            )
        {
            return true;
        }
        // Per-row cells. Addresses print in lower case already (only text kept from a file
        // may need lower-casing), and so do expiries and counters.
        let plain = |a: &Addr| a.ip().is_some();
        let ips = plain(&e.src) && plain(&e.dst);
        let buf = &mut self.buf;
        if self.per_row || !ips {
            buf.clear();
            write_connection(buf, e);
            if if ips { buf.contains(needle) } else { has(buf) } {
                return true;
            }
        }
        if cached(&mut self.flags, &e.flags, || has(&e.flags.join(" "))) {
            return true;
        }
        let fe = &self.frontends;
        if cached(&mut self.services, &(e.rev_nat_id, e.backend_id), || {
            has(&service_with(e, fe.get(&e.rev_nat_id).cloned()))
        }) || cached(&mut self.identities, &e.src_identity, || {
            has(&cilium::identity_text(e.src_identity))
        }) {
            return true;
        }
        if !self.per_row {
            return false;
        }
        buf.clear();
        write_expires(buf, e);
        if buf.contains(needle) {
            return true;
        }
        [e.packets, e.bytes].iter().any(|v| {
            buf.clear();
            match v {
                Some(n) => push_decimal(buf, *n),
                None => buf.push_str(crate::pane::format::NONE),
            }
            buf.contains(needle)
        })
    }
}

// ---- row keys ----

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// One field of the row key: its bytes, then a separator.
fn eat(mut h: u64, b: &[u8]) -> u64 {
    for x in b {
        h ^= u64::from(*x);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h ^= 0xff;
    h.wrapping_mul(FNV_PRIME)
}

/// The row key's hash over table, protocol, direction and `related`.
fn prefix_hash(e: &CtEntry) -> u64 {
    let h = eat(FNV_OFFSET, e.table.as_bytes());
    let h = eat(h, e.protocol.as_bytes());
    let h = eat(h, e.direction.as_bytes());
    eat(h, &[u8::from(e.related)])
}

/// The rest of the row key: the tuple.
fn tuple_hash(h: u64, e: &CtEntry) -> u64 {
    let h = eat(h, e.src.text().as_bytes());
    let h = eat(h, &e.src_port.to_be_bytes());
    let h = eat(h, e.dst.text().as_bytes());
    eat(h, &e.dst_port.to_be_bytes())
}

/// FNV-1a over the entry's identity (table, protocol, direction, related, tuple as text).
pub fn row_hash(e: &CtEntry) -> u64 {
    tuple_hash(prefix_hash(e), e)
}

/// [`row_hash`] of every row; the prefix is hashed once per distinct (table, protocol,
/// direction, related).
fn row_hashes(rows: &[CtEntry]) -> Vec<u64> {
    let mut prefixes: FastMap<u32, u64> = FastMap::default();
    rows.iter()
        .map(|e| {
            let known = (
                e.table.known_index(),
                e.protocol.known_index(),
                e.direction.known_index(),
            );
            let prefix = match known {
                (Some(t), Some(p), Some(d)) => {
                    let k = u32::from_le_bytes([t, p, d, u8::from(e.related)]);
                    *prefixes.entry(k).or_insert_with(|| prefix_hash(e))
                }
                _ => prefix_hash(e),
            };
            tuple_hash(prefix, e)
        })
        .collect()
}

// ---- a fast hasher for the small maps above ----

/// Multiply-rotate hashing of small integer keys (words, flags, ids): the maps are looked up
/// once per row.
#[derive(Default, Clone, Copy)]
struct FastHasher(u64);

impl FastHasher {
    fn add(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n))
    }
    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n))
    }
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n))
    }
    fn write_u64(&mut self, n: u64) {
        self.add(n)
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64)
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CtEntry, Service};
    use crate::pane::ctx::Derived;
    use crate::pane::order::RowRef;

    /// Rows with every kind of value the sort and filter meet: both families, an address kept
    /// as text, related entries, flag sets, counters missing, services with frontends.
    fn rows() -> (Snapshot, Vec<CtEntry>) {
        let mut s = Snapshot::empty();
        s.services = vec![
            Service {
                frontend: "10.96.0.10:53/UDP".into(),
                rev_nat_id: 2,
                ..Default::default()
            },
            Service {
                address: "fd00::53".into(),
                port: 53,
                protocol: "UDP".into(),
                rev_nat_id: 4,
                ..Default::default()
            },
        ];
        let flags = [
            CtFlags::default(),
            CtFlags::from_bits(0x10, false),
            CtFlags::from_bits(0x13, false),
            CtFlags::from_bits(0x80, true),
            CtFlags::from(vec!["SeenNonSyn", "RxClosing"]),
        ];
        let rows = (0..60)
            .map(|i| CtEntry {
                table: ["ct4_global", "ct_any4_global", "ct6_global", "CT_odd"][i % 4].into(),
                protocol: ["UDP", "TCP", "TCP", "47"][i % 4].into(),
                direction: ["OUT", "IN", "SVC"][i % 3].into(),
                related: i % 7 == 0,
                src: if i % 5 == 0 {
                    format!("fd00::{i:x}").into()
                } else {
                    format!("10.0.{}.{}", i % 3, 200 - i).into()
                },
                src_port: 1000 + (i % 9) as u16,
                dst: if i % 6 == 0 { "fd00::1" } else { "10.0.1.1" }.into(),
                dst_port: 53,
                flags: flags[i % flags.len()].clone(),
                expires_in_s: (i * 7 % 11) as i64 - 2,
                rev_nat_id: (i % 5) as u16,
                backend_id: (i % 10 == 3).then_some(i as u64),
                src_identity: (i % 5) as u32,
                packets: (i % 4 != 0).then_some(i as u64),
                bytes: (i % 4 != 0).then_some(i as u64 * 100 % 370),
                ..Default::default()
            })
            .collect();
        (s, rows)
    }

    fn ctx_of<'a>(s: &'a Snapshot, d: &'a Derived) -> Ctx<'a> {
        Ctx::standalone(s, None, d)
    }

    const FILTERS: &[&str] = &[
        "",
        "udp",
        "!10.96.0.10",
        "2 world",
        "expired",
        "[fd00::",
        "any4",
        "rel",
        "seennonsyn",
        "!tcp",
        "be 3",
        "-",
        "fd00::53",
        "→ 10.0.1.1:53",
        "!",
        "ODD",
        "1",
        "37",
        "s",
        "7s",
        "10.0.2.",
    ];

    /// The fast order agrees with the generic table order on every column, both directions,
    /// with and without filters.
    /// `m` pins rows on top here as in every generic table, and both orders agree.
    #[test]
    fn marked_rows_come_first_in_sort_order() {
        let (s, rows) = rows();
        let rates = Derived::default();
        let ctx = ctx_of(&s, &rates);
        let plain = order(&rows, &ctx, &TableView::default());
        let key = |i: usize| RowKey::Id(row_hash(&rows[i]));
        let (a, b) = (plain[plain.len() - 1], plain[plain.len() / 2]);
        let view = TableView {
            marked: vec![key(a), key(b)],
            ..Default::default()
        };
        let pinned = order(&rows, &ctx, &view);
        assert_eq!(&pinned[..2], &[b, a], "marked rows keep their sort order");
        assert_eq!(pinned.len(), plain.len());
        assert_eq!(pinned, TABLE.order(&rows, &ctx, &view));
    }

    #[test]
    fn fast_order_matches_the_generic_order() {
        let (s, rows) = rows();
        let rates = Derived::default();
        let ctx = ctx_of(&s, &rates);
        for (col, column) in COLUMNS.iter().enumerate() {
            for desc in [false, true] {
                for filter in FILTERS {
                    let view = TableView {
                        sort: Some(col),
                        sort_desc: Some(desc),
                        filter: filter.to_string(),
                        ..Default::default()
                    };
                    assert_eq!(
                        order(&rows, &ctx, &view),
                        TABLE.order(&rows, &ctx, &view),
                        "column {} desc {desc} filter {filter:?}",
                        column.header
                    );
                }
            }
        }
        // Past the last column: the generic table takes the last one.
        let view = TableView {
            sort: Some(99),
            ..Default::default()
        };
        assert_eq!(order(&rows, &ctx, &view), TABLE.order(&rows, &ctx, &view));
    }

    #[test]
    fn text_addresses_fall_back_to_the_generic_order() {
        let (s, mut rows) = rows();
        rows[3].src = "some host".into();
        rows[8].src = "10.0.0.1/24".into();
        let rates = Derived::default();
        let ctx = ctx_of(&s, &rates);
        for desc in [false, true] {
            let view = TableView {
                sort: Some(3),
                sort_desc: Some(desc),
                ..Default::default()
            };
            assert_eq!(order(&rows, &ctx, &view), TABLE.order(&rows, &ctx, &view));
        }
    }

    #[test]
    fn row_hashes_are_the_row_keys() {
        let (_, rows) = rows();
        let h = row_hashes(&rows);
        for (e, h) in rows.iter().zip(h) {
            assert_eq!(super::super::row_key(e), RowKey::Id(h));
            assert_eq!(row_hash(e), h);
        }
        // The key depends on the text of the tuple (as before addresses were stored inline).
        let e = &rows[1];
        let mut h = eat(FNV_OFFSET, b"ct_any4_global");
        h = eat(h, b"TCP");
        h = eat(h, b"IN");
        h = eat(h, &[0]);
        h = eat(h, e.src.to_string().as_bytes());
        h = eat(h, &e.src_port.to_be_bytes());
        h = eat(h, b"10.0.1.1");
        h = eat(h, &53u16.to_be_bytes());
        assert_eq!(row_hash(e), h);
    }

    /// The pane's order is the computed one with the rows' keys; the keys are hashed once
    /// per snapshot and hashed again for another.
    #[test]
    fn pane_order_keeps_row_keys_per_snapshot() {
        let (mut s, rows) = rows();
        s.conntrack = rows.into();
        let d = Derived::default();
        let mut memo = Memo::default();
        let mut view = TableView::default();
        let check = |s: &Snapshot, view: &TableView, memo: &mut Memo, seq: u64| {
            let ctx = Ctx {
                seq,
                ..ctx_of(s, &d)
            };
            let o = ordered(&super::super::PANE, &ctx, view, memo);
            let want = order(&s.conntrack, &ctx, view);
            assert_eq!(
                o.rows().collect::<Vec<_>>(),
                want.iter().map(|&i| RowRef::Row(i)).collect::<Vec<_>>()
            );
            let keys: Vec<RowKey> = want
                .iter()
                .map(|&i| super::super::row_key(&s.conntrack[i]))
                .collect();
            assert_eq!(o.keys(), keys);
        };
        check(&s, &view, &mut memo, 1);
        let kept = memo.conntrack_keys.clone().unwrap();
        view.sort = Some(3);
        view.filter = "udp".into();
        check(&s, &view, &mut memo, 1);
        assert!(
            Arc::ptr_eq(&kept, memo.conntrack_keys.as_ref().unwrap()),
            "same snapshot: kept"
        );
        // Another snapshot with other rows: hashed again.
        let ct = Arc::make_mut(&mut s.conntrack);
        ct[5].src_port = 1;
        ct.truncate(30);
        check(&s, &view, &mut memo, 2);
        assert!(!Arc::ptr_eq(&kept, memo.conntrack_keys.as_ref().unwrap()));
    }
}
