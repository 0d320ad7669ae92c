//! Metrics pane: Cilium's forward and drop counters (`cilium_metrics`) by reason, direction and
//! datapath location, with per-interval rates so a rising drop reason stands out; sorted by
//! packet rate by default.

use super::cilium;
use super::format;
use super::rates::{metric_key, MetricRate};
use super::table::{col, no_emphasis, Align, Column, Emphasis, Empty, SortKey, Table, TablePane};
use super::{Ctx, RowKey};
use crate::model::{MetricEntry, PaneId};
use crate::text;

/// Drop reasons are 130 and up (and the legacy 2); the rest are forwarding/status reasons.
pub fn is_drop(m: &MetricEntry) -> bool {
    m.reason >= 130 || m.reason == 2
}

pub fn reason(m: &MetricEntry) -> String {
    if m.reason_name.is_empty() {
        format!("reason {}", m.reason)
    } else {
        m.reason_name.clone()
    }
}

fn rate<'a>(m: &MetricEntry, c: &'a Ctx) -> Option<&'a MetricRate> {
    c.derived.rates.metrics.get(&metric_key(m))
}

/// A drop reason counting up in the last interval.
pub fn rising_drop(m: &MetricEntry, c: &Ctx) -> bool {
    is_drop(m) && rate(m, c).is_some_and(|r| r.packets_per_s > 0.0)
}

fn location(m: &MetricEntry) -> String {
    match (&m.file, m.line) {
        (Some(f), Some(l)) => format!("{f}:{l}"),
        (Some(f), None) => f.clone(),
        (None, Some(l)) => format!(":{l}"),
        (None, None) => format::NONE.into(),
    }
}

fn warn_rising(m: &MetricEntry, c: &Ctx) -> Emphasis {
    if rising_drop(m, c) {
        Emphasis::Warn
    } else {
        Emphasis::Normal
    }
}

pub const RATE_COLUMN: usize = 3;

pub const COLUMNS: &[Column<MetricEntry>] = &[
    Column {
        header: "REASON",
        width: 26,
        flex: true,
        priority: 0,
        align: Align::Left,
        sort: |m, _| SortKey::Text(reason(m)),
        cell: |m, _| reason(m),
        emphasis: warn_rising,
    },
    Column {
        header: "KIND",
        width: 7,
        flex: false,
        priority: 1,
        align: Align::Left,
        sort: |m, _| SortKey::Text(if is_drop(m) { "drop" } else { "forward" }.into()),
        cell: |m, c| {
            if rising_drop(m, c) {
                "drop !".into()
            } else if is_drop(m) {
                "drop".into()
            } else {
                "forward".into()
            }
        },
        emphasis: warn_rising,
    },
    col(
        "DIRECTION",
        9,
        0,
        Align::Left,
        |m, _| SortKey::Text(m.direction.clone()),
        |m, _| m.direction.clone(),
    ),
    Column {
        header: "PKTS/S",
        width: 8,
        flex: false,
        priority: 0,
        align: Align::Right,
        sort: |m, c| SortKey::Num(rate(m, c).map(|r| r.packets_per_s)),
        cell: |m, c| format::per_sec(rate(m, c).map(|r| r.packets_per_s)),
        emphasis: warn_rising,
    },
    Column {
        header: "BYTES/S",
        width: 11,
        flex: false,
        priority: 2,
        align: Align::Right,
        sort: |m, c| SortKey::Num(rate(m, c).map(|r| r.bytes_per_s)),
        cell: |m, c| {
            rate(m, c).map_or_else(
                || format::NONE.into(),
                |r| format!("{}/s", format::bytes(r.bytes_per_s as u64)),
            )
        },
        emphasis: no_emphasis,
    },
    col(
        "PACKETS",
        9,
        0,
        Align::Right,
        |m, _| SortKey::Num(Some(m.packets as f64)),
        |m, _| m.packets.to_string(),
    ),
    col(
        "BYTES",
        10,
        1,
        Align::Right,
        |m, _| SortKey::Num(Some(m.bytes as f64)),
        |m, _| m.bytes.to_string(),
    ),
    col(
        "LOCATION",
        18,
        2,
        Align::Left,
        |m, _| SortKey::Text(location(m)),
        |m, _| location(m),
    ),
];

pub fn row_key(m: &MetricEntry) -> RowKey {
    RowKey::Path(format!("{}/{}/{}", m.reason, m.direction, location(m)))
}

pub const TABLE: Table<MetricEntry> = Table {
    columns: COLUMNS,
    key: row_key,
    default_sort: RATE_COLUMN,
    default_desc: true,
    diff: None,
};

/// `· ! rising drop reason · Cilium 1.18 layout`.
fn legend(c: &Ctx) -> String {
    let layout = cilium::layout_suffix(c.snap, "metrics");
    if c.snap.metrics.iter().any(|m| rising_drop(m, c)) {
        format!("· {} {layout}", text::RISING_LEGEND)
    } else {
        layout
    }
}

pub static PANE: TablePane<MetricEntry> = TablePane {
    name: "Metrics (cilium_metrics)",
    empty: Empty::Cilium,
    legend,
    ..TablePane::new(
        PaneId::Metrics,
        "Metrics",
        |c| &c.snap.metrics,
        TABLE,
        |s, w| super::json(w, &s.metrics),
    )
};
