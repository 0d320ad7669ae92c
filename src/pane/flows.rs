//! Flows pane: top talkers per interface and direction from the opt-in tc/XDP flow probe.

use super::format;
use super::probe::{self, endpoint};
use super::table::{col, no_emphasis, Align, Column, Empty, SortKey, Table, TablePane};
use super::RowKey;
use crate::model::{Flow, PaneId};
use crate::text;

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

pub const TABLE: Table<Flow> = Table {
    columns: COLUMNS,
    key: |f| {
        RowKey::Path(format!(
            "{}|{}|{}|{}|{}|{}|{}",
            f.ifname, f.direction, f.protocol, f.src, f.src_port, f.dst, f.dst_port
        ))
    },
    default_sort: BYTES_COLUMN,
    default_desc: true,
    diff: None,
};

pub static PANE: TablePane<Flow> = TablePane {
    empty: Empty::Text(text::NO_FLOWS),
    legend: |c| probe::pressure(c.snap, "flows"),
    probes: &["flows"],
    ..TablePane::new(
        PaneId::Flows,
        "Flows",
        |c| &c.snap.flows,
        TABLE,
        |s, w| super::json(w, &s.flows),
    )
};
