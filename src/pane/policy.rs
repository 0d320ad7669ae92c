//! Policy pane: endpoints with a policy map on the left (`<`/`>` step through them), the
//! selected endpoint's entries on the right — deny before allow, ingress before egress, then
//! identity, as `cilium-dbg bpf policy get` sorts them.

use super::cilium;
use super::order::{Memo, Order};
use super::plain::PlainTable;
use super::table::{col, no_emphasis, Align, Column, Emphasis, Empty, SortKey, Table, TablePane};
use super::{Ctx, Pane, RowKey, Sorting, TableView, Target};
use crate::model::{PaneId, PolicyEntry, Snapshot};

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

pub const TABLE: Table<PolicyEntry> = Table {
    columns: COLUMNS,
    key: entry_key,
    default_sort: 0,
    default_desc: false,
    diff: None,
};

/// The selected endpoint's entries as a table (the view draws it beside the endpoint list;
/// its rows are all of `snap.policy`, the order keeps one endpoint's).
pub static ENTRIES: TablePane<PolicyEntry> = TablePane {
    empty: Empty::Cilium,
    legend: |c| cilium::layout_suffix(c.snap, "policy"),
    ..TablePane::new(
        PaneId::Policy,
        "Policy",
        |c| &c.snap.policy,
        TABLE,
        |s, w| super::json(w, &s.policy),
    )
};

/// The endpoint of a per-endpoint policy map by its name (`cilium_policy_v2_00412`,
/// `cilium_policy_00412`).
pub fn policy_map_endpoint(name: &str) -> Option<u16> {
    let rest = name
        .strip_prefix("cilium_policy_v2_")
        .or_else(|| name.strip_prefix("cilium_policy_"))?;
    if rest.len() != 5 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
}

/// Endpoint ids that have policy entries or a policy map (an empty one too), ascending.
pub fn endpoint_ids(snap: &Snapshot) -> Vec<u16> {
    let mut v: Vec<u16> = snap.policy.iter().map(|e| e.endpoint_id).collect();
    for m in snap.maps.iter() {
        let pins = m.pinned.iter().map(|p| p.rsplit('/').next().unwrap_or(p));
        v.extend(
            std::iter::once(m.name.as_str())
                .chain(pins)
                .filter_map(policy_map_endpoint),
        );
    }
    v.sort_unstable();
    v.dedup();
    v
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

/// `412 10.0.1.23` (address from cilium_lxc when known; its IPv4 address when it has one).
pub fn endpoint_label(snap: &Snapshot, id: u16) -> String {
    let addr = snap
        .endpoints
        .iter()
        .filter(|e| e.endpoint_id == id)
        .min_by_key(|e| e.address.contains(':'));
    match addr {
        Some(e) => format!("{id} {}", e.address),
        None => id.to_string(),
    }
}

/// Policy: one endpoint's entries at a time (`<`/`>` step through the endpoints).
pub struct Policy;

pub static PANE: Policy = Policy;

impl Pane for Policy {
    fn id(&self) -> PaneId {
        PaneId::Policy
    }

    fn title(&self) -> &'static str {
        "Policy"
    }

    fn count(&self, ctx: &Ctx) -> usize {
        ctx.snap.policy.len()
    }

    fn sorting(&self) -> Option<Sorting> {
        ENTRIES.sorting()
    }

    /// The selected endpoint's entries, in the table's order.
    fn order(&self, ctx: &Ctx, view: &TableView, _: &mut Memo) -> Order {
        let ep = selected_endpoint(ctx.snap, view);
        let rows = &ctx.snap.policy;
        let order = TABLE.order_where(rows, ctx, view, |e| Some(e.endpoint_id) == ep);
        Order::of_rows(rows, order, TABLE.key)
    }

    fn open(&self, _: &Ctx, _: &TableView, _: &RowKey) -> Option<Target> {
        None
    }

    fn groups(&self, snap: &Snapshot) -> Vec<RowKey> {
        endpoint_ids(snap)
            .into_iter()
            .map(|id| RowKey::Id(id.into()))
            .collect()
    }

    fn plain(&self, ctx: &Ctx, _: &TableView) -> PlainTable {
        plain(ctx.snap)
    }

    fn json(&self, snap: &Snapshot, w: &mut dyn std::io::Write) -> serde_json::Result<()> {
        super::json(w, &snap.policy)
    }
}

/// Every endpoint's entries, endpoint by endpoint, in the CLI's order.
fn plain(snap: &Snapshot) -> PlainTable {
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
        let d = crate::pane::ctx::Derived::default();
        let ctx = Ctx::standalone(&s, None, &d);
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

    #[test]
    fn endpoints_are_labelled_by_ipv4_and_empty_policy_maps_listed() {
        use crate::model::{Endpoint, MapInfo};
        let mut s = Snapshot::empty();
        s.endpoints = vec![
            Endpoint {
                address: "fd00:10:0:1::23".into(),
                endpoint_id: 412,
                ..Default::default()
            },
            Endpoint {
                address: "10.0.1.23".into(),
                endpoint_id: 412,
                ..Default::default()
            },
        ];
        assert_eq!(endpoint_label(&s, 412), "412 10.0.1.23");
        assert_eq!(endpoint_label(&s, 7), "7");
        s.maps = vec![
            MapInfo {
                name: "cilium_policy_v".into(),
                pinned: vec!["/sys/fs/bpf/tc/globals/cilium_policy_v2_00733".into()],
                ..Default::default()
            },
            MapInfo {
                name: "cilium_policy_01187".into(),
                ..Default::default()
            },
            MapInfo {
                name: "cilium_policystats".into(),
                ..Default::default()
            },
        ];
        assert_eq!(endpoint_ids(&s), vec![733, 1187]);
        assert_eq!(policy_map_endpoint("cilium_policy_reserved_1"), None);
    }
}
