//! Identities pane: the ipcache — IP prefix → security identity (reserved names resolved),
//! tunnel endpoint, encryption key and flags, as `cilium-dbg bpf ipcache list` shows them.

use super::cilium;
use super::format;
use super::registry::PaneDef;
use super::table::{col, no_emphasis, Align, Column, Ctx, SortKey, TableDef, TablePane};
use super::theme::Theme;
use crate::app::state::{App, RowKey};
use crate::model::{IdentityEntry, PaneId, Snapshot};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::Frame;

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

pub const TABLE: TableDef<IdentityEntry> = TableDef {
    columns: COLUMNS,
    key: |e| RowKey::Path(e.prefix.clone()),
    default_sort: 0,
    default_desc: false,
};

fn keys(app: &App) -> Vec<RowKey> {
    super::table::keys(&TABLE, &app.snapshot.identities, &Ctx::of(app), app.view())
}

fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let snap = &app.snapshot;
    let legend = cilium::layout_suffix(snap);
    if snap.identities.is_empty() {
        let mut title = super::table_title("Identities", 0, 0, &app.view().filter);
        title.push_str(&legend);
        cilium::draw_empty(
            frame,
            area,
            Line::from(title),
            snap,
            "identities",
            app.waiting,
            theme,
        );
        return;
    }
    TablePane {
        def: &TABLE,
        rows: &snap.identities,
        ctx: &Ctx::of(app),
        view: app.view(),
        name: "Identities (ipcache)",
        empty: "",
        empty_warn: false,
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
    super::plain::from_snapshot(&TABLE, &snap.identities, snap, prev, view)
}

pub const PANE: PaneDef = PaneDef {
    id: PaneId::Identities,
    title: "Identities",
    count: |s| s.identities.len(),
    columns: COLUMNS.len(),
    default_sort: 0,
    default_desc: false,
    keys,
    open: super::registry::opens_nothing,
    draw,
    groups: super::registry::no_groups,
    plain,
    json: |s, w| super::registry::json(w, &s.identities),
    probes: &[],
};
