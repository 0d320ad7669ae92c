//! Maps pane: every map with pressure (entries ÷ max, `!` above 80 %), memory and users.

use super::format;
use super::table::{col, no_emphasis, Align, Column, Emphasis, Empty, SortKey, Table, TablePane};
use super::{Ctx, RowKey, Target};
use crate::model::{diff, MapInfo, PaneId};
use crate::text;

/// Pressure above which a map is flagged.
pub const PRESSURE_WARN: f64 = 0.8;

fn num(v: Option<f64>) -> SortKey {
    SortKey::Num(v)
}

pub fn entries(m: &MapInfo) -> String {
    match m.entries {
        None => format::NONE.to_string(),
        Some(n) if m.entries_partial => format!("≥{n}"),
        Some(n) => n.to_string(),
    }
}

pub fn pressure(m: &MapInfo) -> String {
    match m.pressure() {
        None => format::NONE.to_string(),
        Some(p) => {
            let ge = if m.entries_partial { "≥" } else { "" };
            let mark = if p > PRESSURE_WARN { " !" } else { "  " };
            format!("{ge}{:.0}%{mark}", p * 100.0)
        }
    }
}

fn pressure_emphasis(m: &MapInfo, _: &Ctx) -> Emphasis {
    match m.pressure() {
        Some(p) if p > PRESSURE_WARN => Emphasis::Warn,
        _ => Emphasis::Normal,
    }
}

pub fn name(m: &MapInfo) -> String {
    let n = if m.name.is_empty() {
        &m.kernel_name
    } else {
        &m.name
    };
    let n = if n.is_empty() {
        "(unnamed)"
    } else {
        n.as_str()
    };
    if m.dpscope_owned {
        format!("{}{n}", text::OWN_MARK)
    } else {
        n.to_string()
    }
}

pub const COLUMNS: &[Column<MapInfo>] = &[
    col(
        "ID",
        6,
        0,
        Align::Right,
        |m, _| num(Some(m.id.into())),
        |m, _| m.id.to_string(),
    ),
    col(
        "TYPE",
        12,
        1,
        Align::Left,
        |m, _| SortKey::Text(m.map_type.clone()),
        |m, _| m.map_type.clone(),
    ),
    Column {
        header: "NAME",
        width: 18,
        flex: true,
        priority: 0,
        align: Align::Left,
        sort: |m, _| SortKey::Text(name(m)),
        cell: |m, _| name(m),
        emphasis: no_emphasis,
    },
    col(
        "KEY",
        4,
        3,
        Align::Right,
        |m, _| num(Some(m.key_size.into())),
        |m, _| m.key_size.to_string(),
    ),
    col(
        "VALUE",
        5,
        3,
        Align::Right,
        |m, _| num(Some(m.value_size.into())),
        |m, _| m.value_size.to_string(),
    ),
    col(
        "MAX",
        8,
        2,
        Align::Right,
        |m, _| num(Some(m.max_entries.into())),
        |m, _| m.max_entries.to_string(),
    ),
    col(
        "ENTRIES",
        8,
        1,
        Align::Right,
        |m, _| num(m.entries.map(|e| e as f64)),
        |m, _| entries(m),
    ),
    Column {
        header: "USE",
        width: 6,
        flex: false,
        priority: 0,
        align: Align::Right,
        sort: |m, _| num(m.pressure()),
        cell: |m, _| pressure(m),
        emphasis: pressure_emphasis,
    },
    col(
        "MEMORY",
        10,
        0,
        Align::Right,
        |m, _| num(Some(m.memory_bytes as f64)),
        |m, _| format::bytes(m.memory_bytes),
    ),
    col(
        "PROGS",
        9,
        3,
        Align::Left,
        |m, _| num(Some(m.prog_ids.len() as f64)),
        |m, _| format::ids(&m.prog_ids),
    ),
    col(
        "PINNED",
        30,
        4,
        Align::Left,
        |m, _| SortKey::Text(m.pinned.first().cloned().unwrap_or_default()),
        |m, _| match m.pinned.as_slice() {
            [] => format::NONE.to_string(),
            [one] => one.clone(),
            [first, rest @ ..] => format!("{first} +{}", rest.len()),
        },
    ),
];

pub const MEMORY_COLUMN: usize = 8;

pub const TABLE: Table<MapInfo> = Table {
    columns: COLUMNS,
    key: |m| RowKey::Id(m.id.into()),
    default_sort: MEMORY_COLUMN,
    default_desc: true,
    diff: Some((PaneId::Maps, diff::map_key)),
};

pub static PANE: TablePane<MapInfo> = TablePane {
    open: |key| match key {
        RowKey::Id(id) => u32::try_from(*id).ok().map(Target::Map),
        RowKey::Path(_) => None,
    },
    empty: Empty::Text(text::NO_MAPS),
    legend: |c| {
        let own = c.snap.maps.iter().filter(|x| x.dpscope_owned).count();
        if own > 0 {
            text::own_last(own)
        } else {
            String::new()
        }
    },
    order: Some(|pane, c, view, _| super::table::own_last(pane, c, view, |x| x.dpscope_owned)),
    ..TablePane::new(
        PaneId::Maps,
        "Maps",
        |c| &c.snap.maps,
        TABLE,
        |s, w| super::json(w, &s.maps),
    )
};
