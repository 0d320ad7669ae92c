//! Programs pane: every loaded BPF program with live rates; default sort CPU %.

use super::format;
use super::rates::overall_avg_ns;
use super::table::{col, Align, Column, Emphasis, Empty, SortKey, Table, TablePane};
use super::{RowKey, Target};
use crate::model::{diff, PaneId, Program};
use crate::text;

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
        format!("{}{n}", text::OWN_MARK)
    } else {
        n.to_string()
    }
}

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
        |p, c| num(c.derived.rates.get(p.id).map(|r| r.events_per_s)),
        |p, c| format::per_sec(c.derived.rates.get(p.id).map(|r| r.events_per_s)),
    ),
    col(
        "AVG",
        9,
        1,
        Align::Right,
        |p, c| num(c.derived.rates.get(p.id).and_then(|r| r.avg_ns)),
        |p, c| format::nanos(c.derived.rates.get(p.id).and_then(|r| r.avg_ns)),
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
        |p, c| num(c.derived.rates.get(p.id).map(|r| r.cpu_pct)),
        |p, c| format::percent(c.derived.rates.get(p.id).map(|r| r.cpu_pct)),
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

pub const TABLE: Table<Program> = Table {
    columns: COLUMNS,
    key: |p| RowKey::Id(p.id.into()),
    default_sort: CPU_COLUMN,
    default_desc: true,
    diff: Some((PaneId::Programs, diff::program_key)),
};

pub static PANE: TablePane<Program> = TablePane {
    open: |key| match key {
        RowKey::Id(id) => u32::try_from(*id).ok().map(Target::Program),
        RowKey::Path(_) => None,
    },
    empty: Empty::Text(text::NO_PROGRAMS),
    legend: |c| {
        let own = c.snap.programs.iter().filter(|x| x.dpscope_owned).count();
        if own > 0 {
            text::own_last(own)
        } else {
            String::new()
        }
    },
    order: Some(|pane, c, view, _| super::table::own_last(pane, c, view, |x| x.dpscope_owned)),
    ..TablePane::new(
        PaneId::Programs,
        "Programs",
        |c| &c.snap.programs,
        TABLE,
        |s, w| super::json(w, &s.programs),
    )
};
