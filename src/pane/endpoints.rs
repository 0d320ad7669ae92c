//! Endpoints pane: `cilium_lxc` — local endpoint addresses → endpoint id, identity, interface
//! (ifindex resolved through the attachments), MACs; host entries marked `(localhost)`.

use super::cilium;
use super::format;
use super::table::{col, no_emphasis, Align, Column, Emphasis, Empty, SortKey, Table, TablePane};
use super::{Ctx, RowKey};
use crate::model::{Endpoint, PaneId, Snapshot};

pub fn is_host(e: &Endpoint) -> bool {
    e.flags.iter().any(|f| f == "host")
}

/// Interface name of an ifindex, from the attachments seen on the node.
pub fn ifname(snap: &Snapshot, ifindex: u32) -> String {
    if ifindex == 0 {
        return format::NONE.into();
    }
    snap.attachments
        .iter()
        .find(|a| a.ifindex == ifindex && !a.ifname.is_empty())
        .map_or_else(|| format!("if{ifindex}"), |a| a.ifname.clone())
}

fn flags(e: &Endpoint) -> String {
    if is_host(e) {
        let rest: Vec<&str> = e
            .flags
            .iter()
            .filter(|f| *f != "host")
            .map(String::as_str)
            .collect();
        let mut t = "(localhost)".to_string();
        if !rest.is_empty() {
            t.push(' ');
            t.push_str(&rest.join(","));
        }
        t
    } else if e.flags.is_empty() {
        format::NONE.into()
    } else {
        e.flags.join(",")
    }
}

/// Host entries carry no endpoint id, identity or interface: `-` rather than zeros, as the
/// CLI prints only `(localhost)` for them.
fn host_blank(e: &Endpoint, v: String) -> String {
    if is_host(e) && v.starts_with('0') {
        format::NONE.into()
    } else {
        v
    }
}

fn host_dim(e: &Endpoint, _: &Ctx) -> Emphasis {
    if is_host(e) {
        Emphasis::Dim
    } else {
        Emphasis::Normal
    }
}

pub const COLUMNS: &[Column<Endpoint>] = &[
    Column {
        header: "ADDRESS",
        width: 18,
        flex: true,
        priority: 0,
        align: Align::Left,
        sort: |e, _| SortKey::Text(cilium::addr_sort_key(&e.address)),
        cell: |e, _| e.address.clone(),
        emphasis: no_emphasis,
    },
    col(
        "EP ID",
        6,
        0,
        Align::Right,
        |e, _| SortKey::Num(Some(f64::from(e.endpoint_id))),
        |e, _| host_blank(e, e.endpoint_id.to_string()),
    ),
    col(
        "IDENTITY",
        14,
        0,
        Align::Left,
        |e, _| SortKey::Num(Some(f64::from(e.identity))),
        |e, _| host_blank(e, cilium::identity_text(e.identity)),
    ),
    col(
        "IFINDEX",
        7,
        2,
        Align::Right,
        |e, _| SortKey::Num(Some(f64::from(e.ifindex))),
        |e, _| host_blank(e, e.ifindex.to_string()),
    ),
    col(
        "INTERFACE",
        15,
        1,
        Align::Left,
        |e, c| SortKey::Text(ifname(c.snap, e.ifindex)),
        |e, c| ifname(c.snap, e.ifindex),
    ),
    col(
        "MAC",
        17,
        3,
        Align::Left,
        |e, _| SortKey::Text(e.mac.clone()),
        |e, _| e.mac.clone(),
    ),
    col(
        "NODE MAC",
        17,
        4,
        Align::Left,
        |e, _| SortKey::Text(e.node_mac.clone()),
        |e, _| e.node_mac.clone(),
    ),
    Column {
        header: "FLAGS",
        width: 12,
        flex: false,
        priority: 1,
        align: Align::Left,
        sort: |e, _| SortKey::Text(flags(e)),
        cell: |e, _| flags(e),
        emphasis: host_dim,
    },
];

pub const TABLE: Table<Endpoint> = Table {
    columns: COLUMNS,
    key: |e| RowKey::Path(e.address.clone()),
    default_sort: 1,
    default_desc: false,
    diff: None,
};

pub static PANE: TablePane<Endpoint> = TablePane {
    name: "Endpoints (cilium_lxc)",
    empty: Empty::Cilium,
    legend: |c| cilium::layout_suffix(c.snap, "endpoints"),
    ..TablePane::new(
        PaneId::Endpoints,
        "Endpoints",
        |c| &c.snap.endpoints,
        TABLE,
        |s, w| super::json(w, &s.endpoints),
    )
};
