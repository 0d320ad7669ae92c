//! Services pane: one row per Cilium LB frontend (VIP:port/proto, type and flags, rev-NAT id,
//! backends); Enter or `l`/→ opens a frontend into its backends per slot with their state.

use super::cilium;
use super::format;
use super::order::{Memo, Order, RowRef};
use super::plain::PlainTable;
use super::table::{col, no_emphasis, Align, Column, Emphasis, SortKey, Table};
use super::{Ctx, Pane, RowKey, Sorting, TableView, Target};
use crate::model::{diff, PaneId, Service, ServiceBackend, Snapshot};

/// `10.96.0.1:443/TCP`, `[fd00::10]:53/UDP`, `/i` for the internal scope of two-scope services.
pub fn frontend_text(s: &Service) -> String {
    if !s.frontend.is_empty() {
        return s.frontend.clone();
    }
    let mut f = cilium::host_port(&s.address, s.port);
    if !s.protocol.is_empty() {
        f.push('/');
        f.push_str(&s.protocol);
    }
    if s.scope == "internal" {
        f.push_str("/i");
    }
    f
}

/// `ClusterIP, non-routable` as `cilium-dbg bpf lb list` writes it (type first).
pub fn type_flags(s: &Service) -> String {
    let ty = if s.svc_type.is_empty() {
        "ClusterIP"
    } else {
        s.svc_type.as_str()
    };
    std::iter::once(ty)
        .chain(s.flags.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `10.0.1.12:6443/TCP`, or `backend 17 not found` like the CLI.
pub fn backend_text(b: &ServiceBackend) -> String {
    match &b.address {
        Some(a) => {
            let mut t = cilium::host_port(a, b.port.unwrap_or(0));
            if let Some(p) = &b.protocol {
                t.push('/');
                t.push_str(p);
            }
            t
        }
        None => format!("backend {} not found", b.backend_id),
    }
}

/// The state word; a backend absent from the backend map is `missing`.
pub fn backend_state(b: &ServiceBackend) -> &str {
    if b.address.is_none() && b.state.is_empty() {
        "missing"
    } else if b.state.is_empty() {
        "active"
    } else {
        &b.state
    }
}

fn active(s: &Service) -> usize {
    s.backends
        .iter()
        .filter(|b| backend_state(b) == "active")
        .count()
}

/// `3 active, 1 terminating, 1 missing`; `no backends`.
pub fn backend_summary(s: &Service) -> String {
    if s.backends.is_empty() {
        return "no backends".into();
    }
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for b in &s.backends {
        let st = backend_state(b);
        match counts.iter_mut().find(|(k, _)| *k == st) {
            Some(c) => c.1 += 1,
            None => counts.push((st, 1)),
        }
    }
    counts.sort_by_key(|(k, _)| (*k != "active", *k));
    counts
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn troubled(s: &Service) -> bool {
    !s.backends.is_empty() && active(s) < s.backends.len() || s.backends.is_empty()
}

fn addresses(s: &Service) -> String {
    s.backends
        .iter()
        .map(backend_text)
        .collect::<Vec<_>>()
        .join(" ")
}

pub const COLUMNS: &[Column<Service>] = &[
    col(
        "FRONTEND",
        23,
        0,
        Align::Left,
        |s, _| SortKey::Text(cilium::addr_sort_key(&s.address) + &format!("{:05}", s.port)),
        |s, _| frontend_text(s),
    ),
    Column {
        header: "TYPE / FLAGS",
        width: 26,
        flex: true,
        priority: 0,
        align: Align::Left,
        sort: |s, _| SortKey::Text(type_flags(s)),
        cell: |s, _| type_flags(s),
        emphasis: no_emphasis,
    },
    col(
        "REVNAT",
        6,
        2,
        Align::Right,
        |s, _| SortKey::Num(Some(s.rev_nat_id.into())),
        |s, _| s.rev_nat_id.to_string(),
    ),
    Column {
        header: "BACKENDS",
        width: 24,
        flex: false,
        priority: 1,
        align: Align::Left,
        sort: |s, _| SortKey::Num(Some(active(s) as f64)),
        cell: |s, _| backend_summary(s),
        emphasis: |s, _| {
            if troubled(s) {
                Emphasis::Warn
            } else {
                Emphasis::Normal
            }
        },
    },
    Column {
        header: "ADDRESSES",
        width: 40,
        flex: true,
        priority: 5,
        align: Align::Left,
        sort: |s, _| SortKey::Text(addresses(s)),
        cell: |s, _| addresses(s),
        emphasis: no_emphasis,
    },
];

pub fn key(s: &Service) -> RowKey {
    RowKey::Path(format!("svc {}", frontend_text(s).replace('/', " ")))
}

pub const TABLE: Table<Service> = Table {
    columns: COLUMNS,
    key,
    default_sort: 0,
    default_desc: false,
    diff: Some((PaneId::Services, diff::service_key)),
};

fn backend_key(s: &Service, b: &ServiceBackend) -> RowKey {
    match key(s) {
        RowKey::Path(p) => RowKey::Path(format!("{p}/{}", b.slot)),
        k => k,
    }
}

/// The lines shown: each frontend in the table's order, and under an open one its backends
/// by slot (`RowRef::Child(service, backend)`).
pub fn lines(snap: &Snapshot, ctx: &Ctx, view: &TableView) -> Order {
    let mut out = Order::default();
    for i in TABLE.order(&snap.services, ctx, view) {
        let s = &snap.services[i];
        let k = key(s);
        let open = view.expanded.contains(&k);
        out.push(k, RowRef::Row(i));
        if open {
            let mut bs: Vec<usize> = (0..s.backends.len()).collect();
            bs.sort_by_key(|&j| s.backends[j].slot);
            for j in bs {
                out.push(backend_key(s, &s.backends[j]), RowRef::Child(i, j));
            }
        }
    }
    out
}

/// Services: a table whose rows open into their backends (Enter, `l`/→).
pub struct Services;

pub static PANE: Services = Services;

impl Pane for Services {
    fn id(&self) -> PaneId {
        PaneId::Services
    }

    fn title(&self) -> &'static str {
        "Services"
    }

    fn count(&self, ctx: &Ctx) -> usize {
        ctx.snap.services.len()
    }

    fn sorting(&self) -> Option<Sorting> {
        Some(Sorting {
            columns: COLUMNS.len(),
            default: TABLE.default_sort,
            desc: TABLE.default_desc,
        })
    }

    fn order(&self, ctx: &Ctx, view: &TableView, _: &mut Memo) -> Order {
        lines(ctx.snap, ctx, view)
    }

    fn open(&self, ctx: &Ctx, _: &TableView, k: &RowKey) -> Option<Target> {
        ctx.snap
            .services
            .iter()
            .any(|s| key(s) == *k && !s.backends.is_empty())
            .then_some(Target::Expand)
    }

    fn plain(&self, ctx: &Ctx, _: &TableView) -> PlainTable {
        plain(ctx)
    }

    fn json(&self, snap: &Snapshot, w: &mut dyn std::io::Write) -> serde_json::Result<()> {
        super::json(w, &snap.services)
    }
}

/// One row per backend slot (the frontend repeated), like `cilium-dbg bpf lb list`:
/// `10.96.0.1:443/TCP  ClusterIP, non-routable  1  1  10.0.1.12:6443/TCP  active`.
fn plain(c: &Ctx) -> PlainTable {
    let mut t = PlainTable {
        headers: [
            "FRONTEND",
            "TYPE / FLAGS",
            "REVNAT",
            "SLOT",
            "BACKEND",
            "STATE",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
        right: vec![false, false, true, true, false, false],
    };
    let snap = c.snap;
    for i in TABLE.order(&snap.services, c, &TableView::default()) {
        let s = &snap.services[i];
        let mut bs: Vec<&ServiceBackend> = s.backends.iter().collect();
        bs.sort_by_key(|b| b.slot);
        let base = [frontend_text(s), type_flags(s), s.rev_nat_id.to_string()];
        if bs.is_empty() {
            let mut r = base.to_vec();
            r.extend(["0".into(), format::NONE.into(), "no backends".into()]);
            t.rows.push(r);
        }
        for b in bs {
            let mut r = base.to_vec();
            r.extend([
                b.slot.to_string(),
                backend_text(b),
                backend_state(b).to_string(),
            ]);
            t.rows.push(r);
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc() -> Service {
        Service {
            address: "10.96.0.10".into(),
            port: 53,
            protocol: "UDP".into(),
            scope: "external".into(),
            svc_type: "ClusterIP".into(),
            flags: vec!["non-routable".into()],
            ..Default::default()
        }
    }

    #[test]
    fn frontend_text_forms() {
        let mut s = svc();
        assert_eq!(frontend_text(&s), "10.96.0.10:53/UDP");
        s.scope = "internal".into();
        assert_eq!(frontend_text(&s), "10.96.0.10:53/UDP/i");
        s.address = "fd00::10".into();
        s.scope = "external".into();
        assert_eq!(frontend_text(&s), "[fd00::10]:53/UDP");
        s.frontend = "given:1/TCP".into();
        assert_eq!(frontend_text(&s), "given:1/TCP");
        assert_eq!(type_flags(&svc()), "ClusterIP, non-routable");
    }

    #[test]
    fn backend_states_and_summary() {
        let mut s = svc();
        let b = |slot: u16, state: &str, addr: Option<&str>| ServiceBackend {
            slot,
            backend_id: u32::from(slot) + 10,
            address: addr.map(String::from),
            port: addr.map(|_| 53),
            protocol: addr.map(|_| "UDP".into()),
            state: state.into(),
            ..Default::default()
        };
        s.backends = vec![
            b(1, "active", Some("10.0.1.5")),
            b(2, "terminating", Some("10.0.2.5")),
            b(3, "missing", None),
            b(4, "", Some("10.0.3.5")),
        ];
        assert_eq!(backend_summary(&s), "2 active, 1 missing, 1 terminating");
        assert_eq!(backend_text(&s.backends[2]), "backend 13 not found");
        assert_eq!(backend_text(&s.backends[0]), "10.0.1.5:53/UDP");
        assert!(troubled(&s));
        s.backends.clear();
        assert_eq!(backend_summary(&s), "no backends");
    }
}
