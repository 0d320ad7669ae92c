//! Programs pane: every loaded BPF program with live rates; default sort CPU %.

use super::format;
use super::registry::PaneDef;
use super::table::{Align, Column, Ctx, Emphasis, SortKey, TableDef, TablePane};
use super::text;
use super::theme::Theme;
use crate::app::rates::overall_avg_ns;
use crate::app::state::{App, RowKey};
use crate::app::update::Target;
use crate::model::{PaneId, Program, Snapshot};
use ratatui::layout::Rect;
use ratatui::Frame;

fn num(v: Option<f64>) -> SortKey {
    SortKey::Num(v)
}

fn name(p: &Program) -> String {
    let n = if p.name.is_empty() {
        &p.kernel_name
    } else {
        &p.name
    };
    let n = if n.is_empty() {
        "(unnamed)"
    } else {
        n.as_str()
    };
    if p.dpscope_owned {
        format!("{}{n}", super::text::OWN_MARK)
    } else {
        n.to_string()
    }
}

use super::table::col;

pub const COLUMNS: &[Column<Program>] = &[
    col(
        "ID",
        6,
        0,
        Align::Right,
        |p, _| num(Some(p.id.into())),
        |p, _| p.id.to_string(),
    ),
    col(
        "TYPE",
        11,
        1,
        Align::Left,
        |p, _| SortKey::Text(p.prog_type.clone()),
        |p, _| p.prog_type.clone(),
    ),
    Column {
        header: "NAME",
        width: 30,
        flex: true,
        priority: 0,
        align: Align::Left,
        sort: |p, _| SortKey::Text(name(p)),
        cell: |p, _| name(p),
        emphasis: |p, _| {
            if p.dpscope_owned {
                Emphasis::Dim
            } else {
                Emphasis::Normal
            }
        },
    },
    col(
        "EVENTS/S",
        9,
        0,
        Align::Right,
        |p, c| num(c.rates.get(p.id).map(|r| r.events_per_s)),
        |p, c| format::per_sec(c.rates.get(p.id).map(|r| r.events_per_s)),
    ),
    col(
        "AVG",
        9,
        1,
        Align::Right,
        |p, c| num(c.rates.get(p.id).and_then(|r| r.avg_ns)),
        |p, c| format::nanos(c.rates.get(p.id).and_then(|r| r.avg_ns)),
    ),
    col(
        "AVG ALL",
        9,
        3,
        Align::Right,
        |p, _| num(overall_avg_ns(p)),
        |p, _| format::nanos(overall_avg_ns(p)),
    ),
    col(
        "CPU",
        7,
        0,
        Align::Right,
        |p, c| num(c.rates.get(p.id).map(|r| r.cpu_pct)),
        |p, c| format::percent(c.rates.get(p.id).map(|r| r.cpu_pct)),
    ),
    col(
        "RUNS",
        8,
        3,
        Align::Right,
        |p, _| num(Some(p.run_cnt as f64)),
        |p, _| format::si(p.run_cnt as f64),
    ),
    col(
        "PROCESS",
        20,
        2,
        Align::Left,
        |p, _| SortKey::Text(format::procs(&p.pids)),
        |p, _| format::procs(&p.pids),
    ),
    col(
        "MAPS",
        5,
        3,
        Align::Right,
        |p, _| num(Some(p.map_ids.len() as f64)),
        |p, _| p.map_ids.len().to_string(),
    ),
    col(
        "AGE",
        6,
        2,
        Align::Right,
        |p, c| {
            num(Some(
                c.snap.boottime_ns.saturating_sub(p.load_time_ns) as f64
            ))
        },
        |p, c| format::age_since(p.load_time_ns, c.snap.boottime_ns),
    ),
    col(
        "TAG",
        16,
        4,
        Align::Left,
        |p, _| SortKey::Text(p.tag.clone()),
        |p, _| p.tag.clone(),
    ),
    col(
        "XLATED",
        7,
        4,
        Align::Right,
        |p, _| num(Some(p.xlated_size.into())),
        |p, _| format::bytes(p.xlated_size.into()),
    ),
    col(
        "JITED",
        7,
        4,
        Align::Right,
        |p, _| num(Some(p.jited_size.into())),
        |p, _| format::bytes(p.jited_size.into()),
    ),
];

pub const CPU_COLUMN: usize = 6;

pub const TABLE: TableDef<Program> = TableDef {
    columns: COLUMNS,
    key: |p| RowKey::Id(p.id.into()),
    default_sort: CPU_COLUMN,
    default_desc: true,
};

fn keys(app: &App) -> Vec<RowKey> {
    super::table::keys(&TABLE, &app.snapshot.programs, &Ctx::of(app), app.view())
}

fn open(_: &App, key: &RowKey) -> Option<Target> {
    match key {
        RowKey::Id(id) => u32::try_from(*id).ok().map(Target::Program),
        RowKey::Path(_) => None,
    }
}

fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let empty = match app.snapshot.unavailable_reason("programs") {
        Some(r) => text::unavailable("programs", r),
        None if app.waiting => text::WAITING.to_string(),
        None => text::NO_PROGRAMS.to_string(),
    };
    TablePane {
        def: &TABLE,
        rows: &app.snapshot.programs,
        ctx: &Ctx::of(app),
        view: app.view(),
        name: "Programs",
        empty: &empty,
        empty_warn: app.snapshot.unavailable_reason("programs").is_some(),
        sortable: true,
        legend: if app.snapshot.programs.iter().any(|x| x.dpscope_owned) {
            text::OWN_LEGEND
        } else {
            ""
        },
    }
    .draw(frame, area, theme);
}

fn plain(
    snap: &Snapshot,
    prev: Option<&Snapshot>,
    view: &crate::app::state::TableView,
) -> super::plain::PlainTable {
    super::plain::from_snapshot(&TABLE, &snap.programs, snap, prev, view)
}

pub const PANE: PaneDef = PaneDef {
    id: PaneId::Programs,
    title: "Programs",
    count: |s| s.programs.len(),
    columns: COLUMNS.len(),
    default_sort: CPU_COLUMN,
    default_desc: true,
    keys,
    open,
    draw,
    groups: super::registry::no_groups,
    plain,
    json: |s, w| super::registry::json(w, &s.programs),
    probes: &[],
};
