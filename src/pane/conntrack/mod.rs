//! Conntrack pane: Cilium CT entries (ct4/ct6 TCP, any4/any6 others) as a table. Big tables
//! (half a million entries) stay fast: the order is computed on compact keys (`order`), rows
//! are keyed by a hash of the tuple computed once per snapshot, and only the rows on screen
//! are formatted.

use super::cilium;
use super::format;
use super::table::{col, no_emphasis, Align, Column, Emphasis, Empty, SortKey, Table, TablePane};
use super::{Ctx, RowKey};
use crate::model::{diff, Addr, CtEntry, PaneId, Snapshot};
use crate::text;

pub mod detail;
mod order;
pub mod stream;
pub use order::order;

/// `ct4_global` → `ct4`, `ct_any6_global` → `any6`.
pub fn table_short(t: &str) -> String {
    let t = t.trim_start_matches("cilium_").trim_end_matches("_global");
    t.strip_prefix("ct_").unwrap_or(t).to_string()
}

/// `OUT`, `IN`, `SVC`, with ` rel` for related entries (ICMP errors of a flow).
pub fn direction(e: &CtEntry) -> String {
    if e.related {
        format!("{} rel", e.direction)
    } else {
        e.direction.to_string()
    }
}

/// `10.0.1.23:48526 → 10.96.0.10:53` in the order the connection was made.
pub fn connection(e: &CtEntry) -> String {
    let mut s = String::with_capacity(48);
    write_connection(&mut s, e);
    s
}

/// [`connection`] into a buffer (the filter reuses one for every row).
fn write_connection(out: &mut String, e: &CtEntry) {
    let end = |out: &mut String, a: &Addr, port: u16| {
        let brackets = a.has_colon();
        if brackets {
            out.push('[');
        }
        out.push_str(&a.text());
        out.push_str(if brackets { "]:" } else { ":" });
        push_decimal(out, u64::from(port));
    };
    end(out, &e.src, e.src_port);
    out.push_str(" → ");
    end(out, &e.dst, e.dst_port);
}

/// `n` in decimal, without the formatting machinery (the filter writes numbers of every row).
fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for d in &digits[i..] {
        out.push(char::from(*d));
    }
}

pub fn expires(e: &CtEntry) -> String {
    let mut s = String::with_capacity(16);
    write_expires(&mut s, e);
    s
}

fn write_expires(out: &mut String, e: &CtEntry) {
    if e.expires_in_s < 0 {
        out.push_str("expired ");
    }
    push_decimal(out, e.expires_in_s.unsigned_abs());
    out.push('s');
}

/// `5 10.96.0.10:53/UDP` when the rev-NAT id names a service, the bare id otherwise.
pub fn service(e: &CtEntry, snap: &Snapshot) -> String {
    let fe = snap
        .services
        .iter()
        .find(|s| s.rev_nat_id == e.rev_nat_id)
        .map(super::services::frontend_text);
    service_with(e, fe)
}

fn service_with(e: &CtEntry, fe: Option<String>) -> String {
    if e.rev_nat_id == 0 {
        return format::NONE.into();
    }
    let mut t = match fe {
        Some(f) => format!("{} {f}", e.rev_nat_id),
        None => e.rev_nat_id.to_string(),
    };
    if let Some(b) = e.backend_id.filter(|b| *b != 0) {
        t.push_str(&format!(" be {b}"));
    }
    t
}

/// The source identity; a service entry, which the datapath writes without one, shows none
/// (its SERVICE cell names the service and backend) rather than `0 unknown`.
pub fn src_identity(e: &CtEntry) -> String {
    if e.src_identity == 0 && e.direction == crate::model::Word::SVC {
        format::NONE.into()
    } else {
        cilium::identity_text(e.src_identity)
    }
}

/// FNV-1a over the tuple (addresses as text): a stable row identity that costs no allocation.
pub fn row_key(e: &CtEntry) -> RowKey {
    RowKey::Id(order::row_hash(e))
}

fn num(v: f64) -> SortKey {
    SortKey::Num(Some(v))
}

fn opt(v: Option<u64>) -> SortKey {
    SortKey::Num(v.map(|n| n as f64))
}

pub const EXPIRES_COLUMN: usize = 5;

pub const COLUMNS: &[Column<CtEntry>] = &[
    col(
        "TABLE",
        5,
        3,
        Align::Left,
        |e, _| SortKey::Text(e.table.to_string()),
        |e, _| table_short(&e.table),
    ),
    col(
        "PROTO",
        6,
        1,
        Align::Left,
        |e, _| SortKey::Text(e.protocol.to_string()),
        |e, _| e.protocol.to_string(),
    ),
    col(
        "DIR",
        7,
        0,
        Align::Left,
        |e, _| SortKey::Text(direction(e)),
        |e, _| direction(e),
    ),
    Column {
        header: "CONNECTION",
        width: 33,
        flex: true,
        priority: 0,
        align: Align::Left,
        sort: |e, _| SortKey::Text(cilium::addr_sort_key(&e.src.text())),
        cell: |e, _| connection(e),
        emphasis: no_emphasis,
    },
    col(
        "FLAGS",
        18,
        3,
        Align::Left,
        |e, _| SortKey::Text(e.flags.join(" ")),
        |e, _| e.flags.join(" "),
    ),
    Column {
        header: "EXPIRES",
        width: 11,
        flex: false,
        priority: 0,
        align: Align::Right,
        sort: |e, _| num(e.expires_in_s as f64),
        cell: |e, _| expires(e),
        emphasis: |e, _| {
            if e.expires_in_s < 0 {
                Emphasis::Dim
            } else {
                Emphasis::Normal
            }
        },
    },
    col(
        "SERVICE (REVNAT)",
        24,
        2,
        Align::Left,
        |e, _| num(f64::from(e.rev_nat_id)),
        |e, c| service(e, c.snap),
    ),
    col(
        "SRC IDENTITY",
        14,
        1,
        Align::Left,
        |e, _| num(f64::from(e.src_identity)),
        |e, _| src_identity(e),
    ),
    col(
        "PACKETS",
        8,
        3,
        Align::Right,
        |e, _| opt(e.packets),
        |e, _| cilium::count(e.packets),
    ),
    col(
        "BYTES",
        9,
        1,
        Align::Right,
        |e, _| opt(e.bytes),
        |e, _| cilium::count(e.bytes),
    ),
];

pub const TABLE: Table<CtEntry> = Table {
    columns: COLUMNS,
    key: row_key,
    default_sort: EXPIRES_COLUMN,
    default_desc: false,
    diff: Some((PaneId::Conntrack, diff::ct_key)),
};

/// `showing N of M (read capped)` when the collector stopped at its cap.
pub fn capped_note(snap: &Snapshot) -> Option<String> {
    let total = snap.cilium.as_ref().and_then(|c| c.ct_total)?;
    (total > snap.conntrack.len() as u64).then(|| text::capped(snap.conntrack.len(), total))
}

/// `read 3s ago` when the table was read before this snapshot (it is re-read less often
/// than every refresh).
pub fn age_note(snap: &Snapshot) -> Option<String> {
    let read = snap.cilium.as_ref().and_then(|c| c.ct_read_ns)?;
    let ms = snap.monotonic_ns.saturating_sub(read) / 1_000_000;
    Some(text::table_age(ms))
}

/// `· read 3s ago · showing N of M (read capped) · Cilium 1.18 layout`.
fn legend(c: &Ctx) -> String {
    // No CT maps: the pane says why; an age or a layout would describe a table that is not there.
    if c.snap.unavailable_reason("conntrack").is_some() {
        return String::new();
    }
    let layout = cilium::layout_suffix(c.snap, "conntrack");
    let mut out = String::new();
    for n in [age_note(c.snap), capped_note(c.snap)]
        .into_iter()
        .flatten()
    {
        out.push_str(&format!("· {n} "));
    }
    out.push_str(&layout);
    out
}

/// Enter on a row opens the entry in full.
fn open(key: &RowKey) -> Option<super::Target> {
    match key {
        RowKey::Id(h) => Some(super::Target::Conntrack(*h)),
        RowKey::Path(_) => None,
    }
}

pub static PANE: TablePane<CtEntry> = TablePane {
    empty: Empty::Cilium,
    open,
    legend,
    order: Some(order::ordered),
    ..TablePane::new(
        PaneId::Conntrack,
        "Conntrack",
        |c| &c.snap.conntrack,
        TABLE,
        |s, w| super::json(w, &s.conntrack),
    )
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legend_says_how_old_the_table_is() {
        let mut s = Snapshot::empty();
        assert_eq!(age_note(&s), None);
        s.monotonic_ns = 10_000_000_000;
        s.cilium = Some(crate::model::CiliumInfo {
            ct_read_ns: Some(6_500_000_000),
            ..Default::default()
        });
        assert_eq!(age_note(&s).as_deref(), Some("read 3s ago"));
        s.cilium.as_mut().unwrap().ct_read_ns = Some(9_900_000_000);
        assert_eq!(age_note(&s).as_deref(), Some("read just now"));
    }

    #[test]
    fn text_forms() {
        assert_eq!(table_short("ct4_global"), "ct4");
        assert_eq!(table_short("ct_any6_global"), "any6");
        assert_eq!(table_short("cilium_ct_any4_global"), "any4");
        let e = CtEntry {
            direction: "OUT".into(),
            related: true,
            src: "fd00::1".into(),
            src_port: 1,
            dst: "10.0.0.1".into(),
            dst_port: 80,
            expires_in_s: -3,
            ..Default::default()
        };
        assert_eq!(direction(&e), "OUT rel");
        assert_eq!(connection(&e), "[fd00::1]:1 → 10.0.0.1:80");
        assert_eq!(expires(&e), "expired 3s");
        let svc = CtEntry {
            direction: crate::model::Word::SVC,
            ..Default::default()
        };
        assert_eq!(src_identity(&svc), format::NONE);
        assert_eq!(src_identity(&CtEntry::default()), cilium::identity_text(0));
        assert_ne!(row_key(&e), row_key(&CtEntry::default()));
        for (v, want) in [
            (0, "0s"),
            (42, "42s"),
            (-1, "expired 1s"),
            (i64::MAX, "9223372036854775807s"),
            (i64::MIN, "expired 9223372036854775808s"),
        ] {
            let e = CtEntry {
                expires_in_s: v,
                ..Default::default()
            };
            assert_eq!(expires(&e), want);
        }
        let e = CtEntry {
            src: "fd00::1".into(),
            src_port: 65535,
            dst: "host:x".into(),
            ..Default::default()
        };
        assert_eq!(connection(&e), "[fd00::1]:65535 → [host:x]:0");
        assert_eq!(
            connection(&CtEntry::default()),
            format!(
                "{} → {}",
                cilium::host_port("", 0),
                cilium::host_port("", 0)
            )
        );
    }
}
