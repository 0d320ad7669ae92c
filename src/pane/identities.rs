//! Identities pane: the ipcache — IP prefix → security identity (reserved names resolved),
//! tunnel endpoint, encryption key and flags, as `cilium-dbg bpf ipcache list` shows them.

use super::cilium;
use super::format;
use super::table::{col, no_emphasis, Align, Column, Empty, SortKey, Table, TablePane};
use super::RowKey;
use crate::model::{IdentityEntry, PaneId};

pub fn tunnel(e: &IdentityEntry) -> String {
    match e.tunnel_endpoint.as_deref() {
        None | Some("") | Some("0.0.0.0") | Some("::") => format::NONE.into(),
        Some(t) => t.to_string(),
    }
}

pub fn flags(e: &IdentityEntry) -> String {
    if e.flags.is_empty() {
        "<none>".into()
    } else {
        e.flags.join(",")
    }
}

fn name(e: &IdentityEntry) -> String {
    match &e.identity_name {
        Some(n) if !n.is_empty() => n.clone(),
        _ => {
            let n = cilium::identity_name(e.identity);
            if n.is_empty() {
                format::NONE.into()
            } else {
                n
            }
        }
    }
}

pub const COLUMNS: &[Column<IdentityEntry>] = &[
    Column {
        header: "PREFIX",
        width: 22,
        flex: true,
        priority: 0,
        align: Align::Left,
        sort: |e, _| SortKey::Text(cilium::addr_sort_key(&e.prefix)),
        cell: |e, _| e.prefix.clone(),
        emphasis: no_emphasis,
    },
    col(
        "IDENTITY",
        9,
        0,
        Align::Right,
        |e, _| SortKey::Num(Some(f64::from(e.identity))),
        |e, _| e.identity.to_string(),
    ),
    col(
        "NAME",
        16,
        0,
        Align::Left,
        |e, _| SortKey::Text(name(e)),
        |e, _| name(e),
    ),
    col(
        "TUNNEL ENDPOINT",
        16,
        1,
        Align::Left,
        |e, _| SortKey::Text(cilium::addr_sort_key(&tunnel(e))),
        |e, _| tunnel(e),
    ),
    col(
        "KEY",
        3,
        2,
        Align::Right,
        |e, _| SortKey::Num(Some(f64::from(e.encrypt_key))),
        |e, _| e.encrypt_key.to_string(),
    ),
    col(
        "FLAGS",
        20,
        1,
        Align::Left,
        |e, _| SortKey::Text(flags(e)),
        |e, _| flags(e),
    ),
];

pub const TABLE: Table<IdentityEntry> = Table {
    columns: COLUMNS,
    key: |e| RowKey::Path(e.prefix.clone()),
    default_sort: 0,
    default_desc: false,
    diff: None,
};

pub static PANE: TablePane<IdentityEntry> = TablePane {
    name: "Identities (ipcache)",
    empty: Empty::Cilium,
    legend: |c| cilium::layout_suffix(c.snap, "identities"),
    ..TablePane::new(
        PaneId::Identities,
        "Identities",
        |c| &c.snap.identities,
        TABLE,
        |s, w| super::json(w, &s.identities),
    )
};
