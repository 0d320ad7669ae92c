//! Policy pane: endpoints with a policy map on the left (`<`/`>` step through them), the
//! selected endpoint's entries on the right — deny before allow, ingress before egress, then
//! identity, as `cilium-dbg bpf policy get` sorts them.

use super::cilium;
use super::plain::PlainTable;
use super::registry::PaneDef;
use super::table::{col, no_emphasis, Align, Column, Ctx, Emphasis, SortKey, TableDef, TablePane};
use super::text;
use super::theme::Theme;
use crate::app::state::{App, RowKey, TableView};
use crate::model::{PaneId, PolicyEntry, Snapshot};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{List, ListItem, ListState};
use ratatui::Frame;

/// `ANY`, `TCP`, `80/TCP`, `8080-8090/TCP` (port 0 means every port).
pub fn port_proto(protocol: &str, low: u16, high: u16) -> String {
    let proto = if protocol.is_empty() { "ANY" } else { protocol };
    if low == 0 {
        proto.to_string()
    } else if high <= low {
        format!("{low}/{proto}")
    } else {
        format!("{low}-{high}/{proto}")
    }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The CLI's order: Deny before Allow, Ingress before Egress, then identity, then port.
pub fn cli_order(e: &PolicyEntry) -> (bool, bool, u32, u16, u16, String) {
    (
        e.verdict != "deny",
        e.direction != "ingress",
        e.identity,
        e.port_low,
        e.port_high,
        e.protocol.clone(),
    )
}

fn order_text(e: &PolicyEntry) -> String {
    let (a, b, id, lo, hi, p) = cli_order(e);
    format!("{}{}{id:010}{lo:05}{hi:05}{p}", u8::from(a), u8::from(b))
}

/// `ANY` for identity 0 (any peer), else the identity with its name.
pub fn peer(e: &PolicyEntry) -> String {
    if e.identity == 0 {
        return "ANY".into();
    }
    match &e.identity_name {
        Some(n) if !n.is_empty() => format!("{} {n}", e.identity),
        _ => cilium::identity_text(e.identity),
    }
}

fn proxy(e: &PolicyEntry) -> String {
    if e.proxy_port == 0 {
        "NONE".into()
    } else {
        e.proxy_port.to_string()
    }
}

fn auth(e: &PolicyEntry) -> String {
    if e.auth_type.is_empty() {
        "disabled".into()
    } else {
        e.auth_type.clone()
    }
}

fn opt(v: Option<u64>) -> SortKey {
    SortKey::Num(v.map(|n| n as f64))
}

pub const COLUMNS: &[Column<PolicyEntry>] = &[
    Column {
        header: "POLICY",
        width: 6,
        flex: false,
        priority: 0,
        align: Align::Left,
        sort: |e, _| SortKey::Text(order_text(e)),
        cell: |e, _| capital(&e.verdict),
        emphasis: |e, _| {
            if e.verdict == "deny" {
                Emphasis::Warn
            } else {
                Emphasis::Normal
            }
        },
    },
    col(
        "DIR",
        7,
        0,
        Align::Left,
        |e, _| SortKey::Text(e.direction.clone()),
        |e, _| capital(&e.direction),
    ),
    Column {
        header: "IDENTITY",
        width: 13,
        flex: true,
        priority: 0,
        align: Align::Left,
        sort: |e, _| SortKey::Num(Some(f64::from(e.identity))),
        cell: |e, _| peer(e),
        emphasis: no_emphasis,
    },
    col(
        "PORT/PROTO",
        13,
        0,
        Align::Left,
        |e, _| SortKey::Num(Some(f64::from(e.port_low))),
        |e, _| port_proto(&e.protocol, e.port_low, e.port_high),
    ),
    col(
        "PROXY",
        5,
        2,
        Align::Right,
        |e, _| SortKey::Num(Some(f64::from(e.proxy_port))),
        |e, _| proxy(e),
    ),
    col(
        "AUTH",
        8,
        3,
        Align::Left,
        |e, _| SortKey::Text(auth(e)),
        |e, _| auth(e),
    ),
    col(
        "BYTES",
        9,
        1,
        Align::Right,
        |e, _| opt(e.bytes),
        |e, _| cilium::count(e.bytes),
    ),
    col(
        "PACKETS",
        8,
        2,
        Align::Right,
        |e, _| opt(e.packets),
        |e, _| cilium::count(e.packets),
    ),
];

pub fn entry_key(e: &PolicyEntry) -> RowKey {
    RowKey::Path(format!(
        "{}/{}/{}/{}/{}/{}-{}",
        e.endpoint_id, e.verdict, e.direction, e.identity, e.protocol, e.port_low, e.port_high
    ))
}

pub const TABLE: TableDef<PolicyEntry> = TableDef {
    columns: COLUMNS,
    key: entry_key,
    default_sort: 0,
    default_desc: false,
};

/// Endpoint ids that have policy entries, ascending.
pub fn endpoint_ids(snap: &Snapshot) -> Vec<u16> {
    let mut v: Vec<u16> = snap.policy.iter().map(|e| e.endpoint_id).collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn groups(app: &App) -> Vec<RowKey> {
    endpoint_ids(&app.snapshot)
        .into_iter()
        .map(|id| RowKey::Id(id.into()))
        .collect()
}

/// The endpoint shown: the chosen one while it still exists, else the first.
pub fn selected_endpoint(snap: &Snapshot, view: &TableView) -> Option<u16> {
    let ids = endpoint_ids(snap);
    let chosen = match view.group {
        Some(RowKey::Id(id)) => u16::try_from(id).ok().filter(|i| ids.contains(i)),
        _ => None,
    };
    chosen.or_else(|| ids.first().copied())
}

fn entries_of(snap: &Snapshot, ep: Option<u16>) -> Vec<PolicyEntry> {
    snap.policy
        .iter()
        .filter(|e| Some(e.endpoint_id) == ep)
        .cloned()
        .collect()
}

fn keys(app: &App) -> Vec<RowKey> {
    let rows = entries_of(&app.snapshot, selected_endpoint(&app.snapshot, app.view()));
    super::table::keys(&TABLE, &rows, &Ctx::of(app), app.view())
}

/// `412 10.0.1.23` (address from cilium_lxc when known).
fn endpoint_label(snap: &Snapshot, id: u16) -> String {
    match snap.endpoints.iter().find(|e| e.endpoint_id == id) {
        Some(e) => format!("{id} {}", e.address),
        None => id.to_string(),
    }
}

fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let snap = &app.snapshot;
    let legend = cilium::layout_suffix(snap);
    if snap.policy.is_empty() {
        let mut title = super::table_title("Policy", 0, 0, &app.view().filter);
        title.push_str(&legend);
        cilium::draw_empty(
            frame,
            area,
            Line::from(title),
            snap,
            "policy",
            app.waiting,
            theme,
        );
        return;
    }
    let ids = endpoint_ids(snap);
    let ep = selected_endpoint(snap, app.view());
    let [left, right] =
        Layout::horizontal([Constraint::Length(22), Constraint::Min(20)]).areas(area);
    let items: Vec<ListItem> = ids
        .iter()
        .map(|&id| {
            let n = snap.policy.iter().filter(|e| e.endpoint_id == id).count();
            ListItem::new(Line::from(format!("{} ({n})", endpoint_label(snap, id))))
        })
        .collect();
    let mut state =
        ListState::default().with_selected(ep.and_then(|e| ids.iter().position(|i| *i == e)));
    let list = List::new(items)
        .block(super::block(
            format!(" Endpoints {} ", text::POLICY_KEYS),
            theme,
        ))
        .highlight_style(theme.selected())
        .highlight_symbol("▸");
    frame.render_stateful_widget(list, left, &mut state);
    let rows = entries_of(snap, ep);
    let name = match ep {
        Some(id) => format!("Policy · endpoint {}", endpoint_label(snap, id)),
        None => "Policy".into(),
    };
    TablePane {
        def: &TABLE,
        rows: &rows,
        ctx: &Ctx::of(app),
        view: app.view(),
        name: &name,
        empty: "",
        empty_warn: false,
        sortable: true,
        legend: &legend,
    }
    .draw(frame, right, theme);
}

/// Every endpoint's entries, endpoint by endpoint, in the CLI's order.
fn plain(
    snap: &Snapshot,
    _prev: Option<&Snapshot>,
    _view: &crate::app::state::TableView,
) -> PlainTable {
    let mut rows: Vec<&PolicyEntry> = snap.policy.iter().collect();
    rows.sort_by_key(|e| (e.endpoint_id, cli_order(e)));
    let mut t = PlainTable {
        headers: [
            "ENDPOINT",
            "POLICY",
            "DIRECTION",
            "IDENTITY",
            "PORT/PROTO",
            "PROXY PORT",
            "AUTH TYPE",
            "BYTES",
            "PACKETS",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
        right: vec![true, false, false, false, false, false, false, true, true],
    };
    for e in rows {
        t.rows.push(vec![
            e.endpoint_id.to_string(),
            capital(&e.verdict),
            capital(&e.direction),
            peer(e),
            port_proto(&e.protocol, e.port_low, e.port_high),
            proxy(e),
            auth(e),
            cilium::count(e.bytes),
            cilium::count(e.packets),
        ]);
    }
    t
}

pub const PANE: PaneDef = PaneDef {
    id: PaneId::Policy,
    title: "Policy",
    count: |s| s.policy.len(),
    columns: COLUMNS.len(),
    default_sort: 0,
    default_desc: false,
    keys,
    open: super::registry::opens_nothing,
    draw,
    groups,
    plain,
    json: |s, w| super::registry::json(w, &s.policy),
    probes: &[],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_ranges() {
        assert_eq!(port_proto("ANY", 0, 0), "ANY");
        assert_eq!(port_proto("TCP", 0, 0), "TCP");
        assert_eq!(port_proto("TCP", 80, 80), "80/TCP");
        assert_eq!(port_proto("TCP", 80, 0), "80/TCP");
        assert_eq!(port_proto("UDP", 8080, 8090), "8080-8090/UDP");
        assert_eq!(port_proto("", 53, 53), "53/ANY");
    }

    #[test]
    fn deny_first_then_ingress_then_identity() {
        let e = |verdict: &str, dir: &str, id: u32| PolicyEntry {
            endpoint_id: 1,
            verdict: verdict.into(),
            direction: dir.into(),
            identity: id,
            protocol: "TCP".into(),
            ..Default::default()
        };
        let rows = vec![
            e("allow", "egress", 1),
            e("allow", "ingress", 9),
            e("deny", "egress", 2),
            e("allow", "ingress", 3),
            e("deny", "ingress", 7),
        ];
        let s = Snapshot::empty();
        let rates = crate::app::rates::Rates::default();
        let ctx = Ctx {
            snap: &s,
            rates: &rates,
            baseline: None,
            presentation: false,
        };
        let order = TABLE.order(&rows, &ctx, &TableView::default());
        let got: Vec<(&str, &str, u32)> = order
            .iter()
            .map(|&i| {
                (
                    rows[i].verdict.as_str(),
                    rows[i].direction.as_str(),
                    rows[i].identity,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("deny", "ingress", 7),
                ("deny", "egress", 2),
                ("allow", "ingress", 3),
                ("allow", "ingress", 9),
                ("allow", "egress", 1),
            ]
        );
    }
}
