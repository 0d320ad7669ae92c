//! Drops pane: packets the kernel dropped, by drop reason (from the kernel's BTF), location,
//! interface and 5-tuple, with drops per second; most frequent first.

use super::format;
use super::probe_pane::{self, endpoint};
use super::registry::PaneDef;
use super::table::{no_emphasis, Align, Column, Ctx, SortKey, TableDef, TablePane};
use super::text;
use super::theme::Theme;
use crate::app::probe_rates::drop_rates;
use crate::app::state::{App, RowKey};
use crate::model::{Drop, PaneId, Snapshot};
use ratatui::layout::Rect;
use ratatui::Frame;

/// A drop row with its rate over the last interval.
#[derive(Debug, Clone, PartialEq)]
pub struct DropRow {
    pub d: Drop,
    pub per_s: Option<f64>,
}

use super::table::col;

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

pub const TABLE: TableDef<DropRow> = TableDef {
    columns: COLUMNS,
    key,
    default_sort: RATE_COLUMN,
    default_desc: true,
};

pub fn rows(prev: Option<&Snapshot>, snap: &Snapshot) -> Vec<DropRow> {
    snap.drops
        .iter()
        .cloned()
        .zip(drop_rates(prev, snap))
        .map(|(d, per_s)| DropRow { d, per_s })
        .collect()
}

fn keys(app: &App) -> Vec<RowKey> {
    let rows = rows(app.prev.as_deref(), &app.snapshot);
    super::table::keys(&TABLE, &rows, &Ctx::of(app), app.view())
}

fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let (empty, warn) = probe_pane::empty_text(app, "drops", text::NO_DROPS);
    let rows = rows(app.prev.as_deref(), &app.snapshot);
    let legend = probe_pane::pressure(&app.snapshot, "drops");
    TablePane {
        def: &TABLE,
        rows: &rows,
        ctx: &Ctx::of(app),
        view: app.view(),
        name: "Drops",
        empty: &empty,
        empty_warn: warn,
        sortable: true,
        legend: &legend,
    }
    .draw(frame, area, theme);
}

fn plain(
    snap: &Snapshot,
    prev: Option<&Snapshot>,
    view: &crate::app::state::TableView,
) -> super::plain::PlainTable {
    super::plain::from_snapshot(&TABLE, &rows(prev, snap), snap, prev, view)
}

pub const PANE: PaneDef = PaneDef {
    groups: super::registry::no_groups,
    id: PaneId::Drops,
    title: "Drops",
    count: |s| s.drops.len(),
    columns: COLUMNS.len(),
    default_sort: RATE_COLUMN,
    default_desc: true,
    keys,
    open: super::registry::opens_nothing,
    draw,
    plain,
    json: |s, w| super::registry::json(w, &s.drops),
    probes: &["drops"],
};
