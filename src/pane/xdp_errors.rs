//! XDP health pane: exceptions (aborted / illegal actions) and redirect errors of the node's
//! XDP programs, per interface and program.

use super::format;
use super::probe;
use super::table::{col, no_emphasis, Align, Column, Empty, SortKey, Table, TablePane};
use super::RowKey;
use crate::model::{PaneId, XdpEvent};
use crate::text;

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

pub const TABLE: Table<XdpEvent> = Table {
    columns: COLUMNS,
    key: |x| {
        RowKey::Path(format!(
            "{}|{}|{}|{}|{}",
            x.netns, x.ifindex, x.prog_id, x.action, x.err
        ))
    },
    default_sort: COUNT_COLUMN,
    default_desc: true,
    diff: None,
};

pub static PANE: TablePane<XdpEvent> = TablePane {
    name: "XDP health",
    empty: Empty::Text(text::NO_XDP_ERRORS),
    legend: |c| probe::pressure(c.snap, "xdp_health"),
    probes: &["xdp_health"],
    ..TablePane::new(
        PaneId::XdpErrors,
        "XDP",
        |c| &c.snap.xdp_errors,
        TABLE,
        |s, w| super::json(w, &s.xdp_errors),
    )
};
