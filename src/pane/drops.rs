//! Drops pane: packets the kernel dropped, by drop reason (from the kernel's BTF), location,
//! interface and 5-tuple, with drops per second; most frequent first.

use super::format;
use super::probe::{self, endpoint};
use super::probe_rates::drop_rates;
use super::table::{col, no_emphasis, Align, Column, Empty, SortKey, Table, TablePane};
use super::RowKey;
use crate::model::{diff, Drop, PaneId, Snapshot};
use crate::text;

/// A drop row with its rate over the last interval.
#[derive(Debug, Clone, PartialEq)]
pub struct DropRow {
    pub d: Drop,
    pub per_s: Option<f64>,
}

fn iface(d: &Drop) -> String {
    match (d.ifname.is_empty(), d.ifindex) {
        (false, _) => d.ifname.clone(),
        (true, 0) => "-".into(),
        (true, i) => format!("if{i}"),
    }
}

fn with_identity(ep: String, id: Option<u32>) -> String {
    match id {
        Some(i) => format!("{ep} ({i})"),
        None => ep,
    }
}

pub const COLUMNS: &[Column<DropRow>] = &[
    col(
        "REASON",
        16,
        0,
        Align::Left,
        |r, _| SortKey::Text(r.d.reason_name.clone()),
        |r, _| r.d.reason_name.clone(),
    ),
    col(
        "DROPS/S",
        8,
        0,
        Align::Right,
        |r, _| SortKey::Num(Some(r.per_s.unwrap_or(0.0) * 1e9 + r.d.count as f64)),
        |r, _| format::per_sec(r.per_s),
    ),
    col(
        "COUNT",
        7,
        0,
        Align::Right,
        |r, _| SortKey::Num(Some(r.d.count as f64)),
        |r, _| format::si(r.d.count as f64),
    ),
    col(
        "PROTO",
        5,
        1,
        Align::Left,
        |r, _| SortKey::Text(r.d.protocol.clone()),
        |r, _| r.d.protocol.clone(),
    ),
    Column {
        header: "SOURCE",
        width: 21,
        flex: true,
        priority: 1,
        align: Align::Left,
        sort: |r, _| SortKey::Text(r.d.src.clone()),
        cell: |r, _| with_identity(endpoint(&r.d.src, r.d.src_port), r.d.src_identity),
        emphasis: no_emphasis,
    },
    Column {
        header: "DESTINATION",
        width: 21,
        flex: true,
        priority: 1,
        align: Align::Left,
        sort: |r, _| SortKey::Text(r.d.dst.clone()),
        cell: |r, _| with_identity(endpoint(&r.d.dst, r.d.dst_port), r.d.dst_identity),
        emphasis: no_emphasis,
    },
    col(
        "IFACE",
        10,
        2,
        Align::Left,
        |r, _| SortKey::Text(iface(&r.d)),
        |r, _| iface(&r.d),
    ),
    col(
        "LOCATION",
        26,
        3,
        Align::Left,
        |r, _| SortKey::Text(r.d.location.clone()),
        |r, _| r.d.location.clone(),
    ),
];

pub const RATE_COLUMN: usize = 1;

fn key(r: &DropRow) -> RowKey {
    let d = &r.d;
    RowKey::Path(format!(
        "{}|{}|{}|{}|{}|{}|{}|{}|{}",
        d.reason, d.location, d.netns, d.ifindex, d.protocol, d.src, d.src_port, d.dst, d.dst_port
    ))
}

pub const TABLE: Table<DropRow> = Table {
    columns: COLUMNS,
    key,
    default_sort: RATE_COLUMN,
    default_desc: true,
    diff: Some((PaneId::Drops, |r| diff::drop_key(&r.d))),
};

/// Every drop with its rate against `prev` (`Derived::drops`).
pub fn rows(prev: Option<&Snapshot>, snap: &Snapshot) -> Vec<DropRow> {
    snap.drops
        .iter()
        .cloned()
        .zip(drop_rates(prev, snap))
        .map(|(d, per_s)| DropRow { d, per_s })
        .collect()
}

pub static PANE: TablePane<DropRow> = TablePane {
    empty: Empty::Text(text::NO_DROPS),
    legend: |c| probe::pressure(c.snap, "drops"),
    probes: &["drops"],
    ..TablePane::new(
        PaneId::Drops,
        "Drops",
        |c| &c.derived.drops,
        TABLE,
        |s, w| super::json(w, &s.drops),
    )
};
