//! XDP health pane: exceptions (aborted / illegal actions) and redirect errors of the node's
//! XDP programs, per interface and program.

use super::format;
use super::probe_pane;
use super::registry::PaneDef;
use super::table::{no_emphasis, Align, Column, Ctx, SortKey, TableDef, TablePane};
use super::text;
use super::theme::Theme;
use crate::app::state::{App, RowKey};
use crate::model::{PaneId, Snapshot, XdpEvent};
use ratatui::layout::Rect;
use ratatui::Frame;

use super::table::col;

pub const COLUMNS: &[Column<XdpEvent>] = &[
    col(
        "IFACE",
        12,
        0,
        Align::Left,
        |x, _| SortKey::Text(x.ifname.clone()),
        |x, _| {
            if x.ifname.is_empty() {
                format!("if{}", x.ifindex)
            } else {
                x.ifname.clone()
            }
        },
    ),
    col(
        "PROG",
        6,
        1,
        Align::Right,
        |x, _| SortKey::Num(Some(x.prog_id.into())),
        |x, _| x.prog_id.to_string(),
    ),
    Column {
        header: "NAME",
        width: 20,
        flex: true,
        priority: 1,
        align: Align::Left,
        sort: |x, _| SortKey::Text(x.prog_name.clone()),
        cell: |x, _| x.prog_name.clone(),
        emphasis: no_emphasis,
    },
    col(
        "EVENT",
        13,
        0,
        Align::Left,
        |x, _| SortKey::Text(x.action.clone()),
        |x, _| x.action.clone(),
    ),
    col(
        "ERRNO",
        6,
        2,
        Align::Right,
        |x, _| SortKey::Num(Some(x.err.into())),
        |x, _| {
            if x.err == 0 {
                String::new()
            } else {
                x.err.to_string()
            }
        },
    ),
    col(
        "COUNT",
        8,
        0,
        Align::Right,
        |x, _| SortKey::Num(Some(x.count as f64)),
        |x, _| format::si(x.count as f64),
    ),
];

pub const COUNT_COLUMN: usize = 5;

pub const TABLE: TableDef<XdpEvent> = TableDef {
    columns: COLUMNS,
    key: |x| {
        RowKey::Path(format!(
            "{}|{}|{}|{}|{}",
            x.netns, x.ifindex, x.prog_id, x.action, x.err
        ))
    },
    default_sort: COUNT_COLUMN,
    default_desc: true,
};

fn keys(app: &App) -> Vec<RowKey> {
    super::table::keys(&TABLE, &app.snapshot.xdp_errors, &Ctx::of(app), app.view())
}

fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let (empty, warn) = probe_pane::empty_text(app, "xdp_errors", text::NO_XDP_ERRORS);
    let legend = probe_pane::pressure(&app.snapshot, "xdp_health");
    TablePane {
        def: &TABLE,
        rows: &app.snapshot.xdp_errors,
        ctx: &Ctx::of(app),
        view: app.view(),
        name: "XDP health",
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
    super::plain::from_snapshot(&TABLE, &snap.xdp_errors, snap, prev, view)
}

pub const PANE: PaneDef = PaneDef {
    groups: super::registry::no_groups,
    id: PaneId::XdpErrors,
    title: "XDP",
    count: |s| s.xdp_errors.len(),
    columns: COLUMNS.len(),
    default_sort: COUNT_COLUMN,
    default_desc: true,
    keys,
    open: super::registry::opens_nothing,
    draw,
    plain,
    json: |s, w| super::registry::json(w, &s.xdp_errors),
    probes: &["xdp_health"],
};
