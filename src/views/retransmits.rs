//! Retransmits pane: TCP retransmit hotspots per flow, destination or process (key `o`), with
//! rate per second, ratio to segments sent and resets; hottest first.

use super::format;
use super::probe_pane;
use super::registry::PaneDef;
use super::table::{no_emphasis, Align, Column, Ctx, Emphasis, SortKey, TableDef, TablePane};
use super::text;
use super::theme::Theme;
use crate::app::probe_rates::{retransmit_rows, RetransGroup, RetransRow};
use crate::app::state::{App, RowKey};
use crate::model::{PaneId, Snapshot};
use ratatui::layout::Rect;
use ratatui::Frame;

/// Ratio above which a row is flagged.
pub const RATIO_WARN: f64 = 0.01;

use super::table::col;

fn ratio(r: &RetransRow) -> String {
    match r.ratio {
        None => format::NONE.to_string(),
        Some(v) if v >= RATIO_WARN => format!("{:.1}% !", v * 100.0),
        // below 1 %: two decimals, so 12 of 40 000 does not read as 0
        Some(v) => format!("{:.2}%  ", v * 100.0),
    }
}

pub const COLUMNS: &[Column<RetransRow>] = &[
    Column {
        header: "FLOW / GROUP",
        width: 30,
        flex: true,
        priority: 0,
        align: Align::Left,
        sort: |r, _| SortKey::Text(r.what.clone()),
        cell: |r, _| r.what.clone(),
        emphasis: no_emphasis,
    },
    col(
        "RETX/S",
        8,
        0,
        Align::Right,
        // Rate first; equal (or no) rates by total, so `show` without a previous snapshot still
        // lists the hottest flows first.
        |r, _| SortKey::Num(Some(r.per_s.unwrap_or(0.0) * 1e9 + r.retransmits as f64)),
        |r, _| format::per_sec(r.per_s),
    ),
    col(
        "RETX",
        7,
        0,
        Align::Right,
        |r, _| SortKey::Num(Some(r.retransmits as f64)),
        |r, _| format::si(r.retransmits as f64),
    ),
    Column {
        header: "RATIO",
        width: 8,
        flex: false,
        priority: 1,
        align: Align::Right,
        sort: |r, _| SortKey::Num(r.ratio),
        cell: |r, _| ratio(r),
        emphasis: |r, _| {
            if r.ratio.is_some_and(|v| v >= RATIO_WARN) {
                Emphasis::Warn
            } else {
                Emphasis::Normal
            }
        },
    },
    col(
        "SEGS OUT",
        8,
        3,
        Align::Right,
        |r, _| SortKey::Num(r.segments_out.map(|v| v as f64)),
        |r, _| {
            r.segments_out
                .map(|v| format::si(v as f64))
                .unwrap_or_else(|| format::NONE.to_string())
        },
    ),
    col(
        "RST TX",
        6,
        2,
        Align::Right,
        |r, _| SortKey::Num(Some(r.resets_sent as f64)),
        |r, _| r.resets_sent.to_string(),
    ),
    col(
        "RST RX",
        6,
        2,
        Align::Right,
        |r, _| SortKey::Num(Some(r.resets_received as f64)),
        |r, _| r.resets_received.to_string(),
    ),
    col(
        "STATE",
        11,
        3,
        Align::Left,
        |r, _| SortKey::Text(r.state.clone()),
        |r, _| r.state.clone(),
    ),
    col(
        "PROCESS",
        22,
        1,
        Align::Left,
        |r, _| SortKey::Text(r.process.clone()),
        |r, _| r.process.clone(),
    ),
    col(
        "CONTAINER",
        12,
        4,
        Align::Left,
        |r, _| SortKey::Text(r.container.clone()),
        |r, _| r.container.clone(),
    ),
];

/// Hottest first: retransmits per second, then total (tie-break by key).
pub const RATE_COLUMN: usize = 1;

pub const TABLE: TableDef<RetransRow> = TableDef {
    columns: COLUMNS,
    key: |r| RowKey::Path(r.key.clone()),
    default_sort: RATE_COLUMN,
    default_desc: true,
};

fn rows(app: &App) -> Vec<RetransRow> {
    retransmit_rows(app.prev.as_deref(), &app.snapshot, app.retrans_group)
}

fn keys(app: &App) -> Vec<RowKey> {
    super::table::keys(&TABLE, &rows(app), &Ctx::of(app), app.view())
}

fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let (empty, warn) = probe_pane::empty_text(app, "retransmits", text::NO_RETRANSMITS);
    let rows = rows(app);
    let pressure = probe_pane::pressure(&app.snapshot, "retransmits");
    let grouped = text::grouped_by(app.retrans_group.label());
    let legend = probe_pane::join_legend(&[&grouped, &pressure]);
    TablePane {
        def: &TABLE,
        rows: &rows,
        ctx: &Ctx::of(app),
        view: app.view(),
        name: "Retransmits",
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
    _view: &crate::app::state::TableView,
) -> super::plain::PlainTable {
    let rates = crate::app::rates::compute(prev, snap);
    let rows = retransmit_rows(prev, snap, RetransGroup::Flow);
    super::plain::from_def(
        &TABLE,
        &rows,
        &Ctx {
            snap,
            rates: &rates,
            baseline: None,
            presentation: false,
        },
    )
}

pub const PANE: PaneDef = PaneDef {
    groups: super::registry::no_groups,
    id: PaneId::Retransmits,
    title: "Retransmits",
    count: |s| s.retransmits.len(),
    columns: COLUMNS.len(),
    default_sort: RATE_COLUMN,
    default_desc: true,
    keys,
    open: super::registry::opens_nothing,
    draw,
    plain,
    json: |s, w| super::registry::json(w, &s.retransmits),
    probes: &["retransmits"],
};
