//! Flows pane: top talkers per interface and direction from the opt-in tc/XDP flow probe.

use super::format;
use super::probe_pane::{self, endpoint};
use super::registry::PaneDef;
use super::table::{no_emphasis, Align, Column, Ctx, SortKey, TableDef, TablePane};
use super::text;
use super::theme::Theme;
use crate::app::state::{App, RowKey};
use crate::model::{Flow, PaneId, Snapshot};
use ratatui::layout::Rect;
use ratatui::Frame;

use super::table::col;

pub const COLUMNS: &[Column<Flow>] = &[
    col(
        "IFACE",
        10,
        0,
        Align::Left,
        |f, _| SortKey::Text(f.ifname.clone()),
        |f, _| f.ifname.clone(),
    ),
    col(
        "DIR",
        7,
        1,
        Align::Left,
        |f, _| SortKey::Text(f.direction.clone()),
        |f, _| f.direction.clone(),
    ),
    col(
        "PROTO",
        5,
        1,
        Align::Left,
        |f, _| SortKey::Text(f.protocol.clone()),
        |f, _| f.protocol.clone(),
    ),
    Column {
        header: "SOURCE",
        width: 21,
        flex: true,
        priority: 0,
        align: Align::Left,
        sort: |f, _| SortKey::Text(f.src.clone()),
        cell: |f, _| endpoint(&f.src, f.src_port),
        emphasis: no_emphasis,
    },
    Column {
        header: "DESTINATION",
        width: 21,
        flex: true,
        priority: 0,
        align: Align::Left,
        sort: |f, _| SortKey::Text(f.dst.clone()),
        cell: |f, _| endpoint(&f.dst, f.dst_port),
        emphasis: no_emphasis,
    },
    col(
        "PACKETS",
        8,
        1,
        Align::Right,
        |f, _| SortKey::Num(Some(f.packets as f64)),
        |f, _| format::si(f.packets as f64),
    ),
    col(
        "BYTES",
        9,
        0,
        Align::Right,
        |f, _| SortKey::Num(Some(f.bytes as f64)),
        |f, _| format::bytes(f.bytes),
    ),
    col(
        "FLAGS",
        15,
        3,
        Align::Left,
        |f, _| SortKey::Text(f.tcp_flags.join(",")),
        |f, _| f.tcp_flags.join(","),
    ),
];

pub const BYTES_COLUMN: usize = 6;

pub const TABLE: TableDef<Flow> = TableDef {
    columns: COLUMNS,
    key: |f| {
        RowKey::Path(format!(
            "{}|{}|{}|{}|{}|{}|{}",
            f.ifname, f.direction, f.protocol, f.src, f.src_port, f.dst, f.dst_port
        ))
    },
    default_sort: BYTES_COLUMN,
    default_desc: true,
};

fn keys(app: &App) -> Vec<RowKey> {
    super::table::keys(&TABLE, &app.snapshot.flows, &Ctx::of(app), app.view())
}

fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let (empty, warn) = probe_pane::empty_text(app, "flows", text::NO_FLOWS);
    let legend = probe_pane::pressure(&app.snapshot, "flows");
    TablePane {
        def: &TABLE,
        rows: &app.snapshot.flows,
        ctx: &Ctx::of(app),
        view: app.view(),
        name: "Flows",
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
    super::plain::from_snapshot(&TABLE, &snap.flows, snap, prev, view)
}

pub const PANE: PaneDef = PaneDef {
    groups: super::registry::no_groups,
    id: PaneId::Flows,
    title: "Flows",
    count: |s| s.flows.len(),
    columns: COLUMNS.len(),
    default_sort: BYTES_COLUMN,
    default_desc: true,
    keys,
    open: super::registry::opens_nothing,
    draw,
    plain,
    json: |s, w| super::registry::json(w, &s.flows),
    probes: &["flows"],
};
