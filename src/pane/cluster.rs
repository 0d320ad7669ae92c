//! Cluster pane (`dpscope replay BUNDLE_DIR`): one row per node of a bundle, side by side:
//! Cilium layout, programs, stacked and stale hooks, top drop reasons with rates, retransmits,
//! denials, CT entries, the fullest map, the snapshot's time; nodes without a snapshot with
//! their reason. Enter shows a node in the other panes.
//!
//! With a cross-node query (`c` on a pane with a filter: "which nodes have drops rows matching
//! NETFILTER_DROP?"), the MATCH column counts, per node, the rows that pane shows for that
//! filter on that node, and only the nodes with a match are listed (`Esc` lists every node
//! again).

use super::ctx::Derived;
use super::format;
use super::order::{Memo, Order};
use super::table::{col, Align, Column, Emphasis, Empty, SortKey, Table, TablePane};
use super::view::{RowKey, TableView, Target};
use super::Ctx;
use crate::model::bundle::Bundle;
use crate::model::cluster::{self, NodeRow};
use crate::model::{PaneId, Snapshot};
use crate::text;
use std::sync::Arc;

/// One node of the bundle being replayed.
#[derive(Debug, Clone)]
pub struct ClusterNode {
    /// The node's name (sanitised when the bundle was read).
    pub name: String,
    /// `None` for a node that gave no snapshot (its row says why).
    pub snapshot: Option<Arc<Snapshot>>,
}

/// "Which nodes have rows in `pane` matching `filter`": asked with `c`, answered per node.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub pane: PaneId,
    pub filter: String,
}

/// A row of the Cluster pane: the node's facts and, with a query, its matching rows.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterRow {
    /// Position in the bundle (the row's key).
    pub idx: usize,
    pub row: NodeRow,
    /// Rows of the query's pane matching its filter on this node (`None`: no query, or no
    /// snapshot).
    pub matches: Option<usize>,
}

/// A bundle being replayed: its nodes, their rows, which node the other panes show.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// The bundle directory, as given.
    pub dir: String,
    pub nodes: Vec<ClusterNode>,
    pub rows: Vec<ClusterRow>,
    /// The node the other panes show (an index into `nodes`, always one with a snapshot when
    /// there is one).
    pub selected: usize,
    pub query: Option<Query>,
    /// The pane Enter on a node returns to.
    pub back_to: PaneId,
    /// Counts the queries asked (what the pane's kept order depends on).
    pub asked: u64,
}

impl Cluster {
    /// The bundle's nodes and rows; the first node with a snapshot is selected.
    pub fn new(b: Bundle) -> Cluster {
        let rows = cluster::rows(&b)
            .into_iter()
            .enumerate()
            .map(|(idx, row)| ClusterRow {
                idx,
                row,
                matches: None,
            })
            .collect();
        let nodes: Vec<ClusterNode> = b
            .nodes
            .into_iter()
            .map(|n| ClusterNode {
                name: n.name,
                snapshot: n.snapshot.map(Arc::new),
            })
            .collect();
        let selected = nodes.iter().position(|n| n.snapshot.is_some()).unwrap_or(0);
        Cluster {
            dir: b.dir.display().to_string(),
            nodes,
            rows,
            selected,
            query: None,
            back_to: PaneId::ALL[0],
            asked: 0,
        }
    }

    /// The node shown in the other panes.
    pub fn node(&self) -> Option<&ClusterNode> {
        self.nodes.get(self.selected)
    }

    /// Nodes with a snapshot.
    pub fn with_snapshot(&self) -> usize {
        self.nodes.iter().filter(|n| n.snapshot.is_some()).count()
    }

    /// The node `delta` steps away among those with a snapshot, wrapping around.
    pub fn step(&self, delta: isize) -> Option<usize> {
        let ok: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].snapshot.is_some())
            .collect();
        if ok.is_empty() {
            return None;
        }
        let at = ok.iter().position(|&i| i == self.selected).unwrap_or(0) as isize;
        let n = ok.len() as isize;
        Some(ok[(at + delta).rem_euclid(n) as usize])
    }

    /// The node named `name`: exactly, else the one node whose name starts with it.
    pub fn find(&self, name: &str) -> Result<usize, String> {
        let name = name.trim();
        if let Some(i) = self.nodes.iter().position(|n| n.name == name) {
            return Ok(i);
        }
        let prefixed: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| !name.is_empty() && self.nodes[i].name.starts_with(name))
            .collect();
        match prefixed[..] {
            [i] => Ok(i),
            [] => Err(text::no_such_node(name, self.nodes.len())),
            _ => Err(text::ambiguous_node(
                name,
                &prefixed
                    .iter()
                    .map(|&i| self.nodes[i].name.as_str())
                    .collect::<Vec<_>>(),
            )),
        }
    }

    /// Ask every node `q` (or clear the query): count the rows `q.pane` shows for `q.filter`
    /// on each node's snapshot, as that pane's own order would.
    pub fn ask(&mut self, q: Option<Query>, group: super::probe_rates::RetransGroup) {
        for r in &mut self.rows {
            r.matches = None;
        }
        if let Some(q) = &q {
            let view = TableView {
                filter: q.filter.clone(),
                ..TableView::default()
            };
            let pane = super::get(q.pane);
            for (i, n) in self.nodes.iter().enumerate() {
                let Some(s) = &n.snapshot else { continue };
                let derived = Derived::compute(None, s, group);
                let ctx = Ctx::standalone(s, None, &derived);
                let count = pane.order(&ctx, &view, &mut Memo::default()).len();
                if let Some(r) = self.rows.iter_mut().find(|r| r.idx == i) {
                    r.matches = Some(count);
                }
            }
        }
        self.query = q;
        self.asked += 1;
    }

    /// Nodes with at least one match for the query.
    pub fn matching(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.matches.is_some_and(|m| m > 0))
            .count()
    }
}

fn dash_if_not_ok(r: &ClusterRow, v: String) -> String {
    if r.row.ok() {
        v
    } else {
        format::NONE.to_string()
    }
}

fn num(r: &ClusterRow, v: u64) -> SortKey {
    SortKey::Num(r.row.ok().then_some(v as f64))
}

/// `NETFILTER_DROP 2/s, NO_SOCKET 0.4/s`; for a node without a snapshot, why.
fn top_drops(r: &ClusterRow) -> String {
    if !r.row.ok() {
        return if r.row.reason.is_empty() {
            format!("no snapshot ({})", r.row.status)
        } else {
            format!("no snapshot: {}", r.row.reason)
        };
    }
    if r.row.top_drops.is_empty() {
        return format::NONE.to_string();
    }
    r.row
        .top_drops
        .iter()
        .map(|d| match d.per_sec {
            Some(p) => format!("{} {}", d.reason, format::per_sec(Some(p))),
            None => format!("{} ×{}", d.reason, format::si(d.count as f64)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `12:00:01` of an RFC 3339 time (the date when the nodes' days differ is in the JSON).
fn time_of(taken: &str) -> String {
    match taken.split_once('T') {
        Some((_, t)) => t
            .split(['.', 'Z', '+'])
            .next()
            .unwrap_or(t)
            .chars()
            .take(8)
            .collect(),
        None if taken.is_empty() => format::NONE.to_string(),
        None => taken.to_string(),
    }
}

fn pressure(r: &ClusterRow) -> String {
    match &r.row.map_pressure {
        Some((name, p)) if r.row.ok() => format!("{} {name}", format::percent(Some(p * 100.0))),
        _ => format::NONE.to_string(),
    }
}

fn warn_if(b: bool) -> Emphasis {
    if b {
        Emphasis::Warn
    } else {
        Emphasis::Normal
    }
}

pub const COLUMNS: &[Column<ClusterRow>] = &[
    Column {
        header: "NODE",
        width: 16,
        flex: false,
        priority: 0,
        align: Align::Left,
        sort: |r, _| SortKey::Text(r.row.node.clone()),
        cell: |r, c| {
            let shown = c.cluster.is_some_and(|cl| cl.selected == r.idx);
            format!("{}{}", if shown { "● " } else { "" }, r.row.node)
        },
        emphasis: |r, _| warn_if(!r.row.ok()),
    },
    Column {
        header: "MATCH",
        width: 5,
        flex: false,
        priority: 0,
        align: Align::Right,
        sort: |r, _| SortKey::Num(r.matches.map(|m| m as f64)),
        cell: |r, _| {
            r.matches
                .map_or_else(|| format::NONE.into(), |m| m.to_string())
        },
        emphasis: |r, _| warn_if(r.matches.is_some_and(|m| m > 0)),
    },
    Column {
        header: "STATUS",
        width: 10,
        flex: false,
        priority: 4,
        align: Align::Left,
        sort: |r, _| SortKey::Text(r.row.status.clone()),
        cell: |r, _| r.row.status.clone(),
        emphasis: |r, _| warn_if(!r.row.ok()),
    },
    col(
        "LAYOUT",
        6,
        2,
        Align::Left,
        |r, _| SortKey::Text(r.row.layout.clone()),
        |r, _| dash_if_not_ok(r, r.row.layout.clone()),
    ),
    col(
        "PROGS",
        5,
        0,
        Align::Right,
        |r, _| num(r, r.row.programs as u64),
        |r, _| dash_if_not_ok(r, r.row.programs.to_string()),
    ),
    Column {
        header: "STACK",
        width: 5,
        flex: false,
        priority: 0,
        align: Align::Right,
        sort: |r, _| num(r, r.row.stacked as u64),
        cell: |r, _| dash_if_not_ok(r, r.row.stacked.to_string()),
        emphasis: |r, _| warn_if(r.row.stacked > 0),
    },
    Column {
        header: "STALE",
        width: 5,
        flex: false,
        priority: 0,
        align: Align::Right,
        sort: |r, _| num(r, r.row.stale as u64),
        cell: |r, _| dash_if_not_ok(r, r.row.stale.to_string()),
        emphasis: |r, _| warn_if(r.row.stale > 0),
    },
    Column {
        header: "TOP DROPS",
        width: 22,
        flex: true,
        priority: 0,
        align: Align::Left,
        sort: |r, _| num(r, r.row.drops),
        cell: |r, _| top_drops(r),
        emphasis: |r, _| warn_if(!r.row.ok()),
    },
    col(
        "RETX",
        5,
        3,
        Align::Right,
        |r, _| num(r, r.row.retransmits),
        |r, _| dash_if_not_ok(r, format::si(r.row.retransmits as f64)),
    ),
    col(
        "DENY",
        5,
        3,
        Align::Right,
        |r, _| num(r, r.row.denials),
        |r, _| dash_if_not_ok(r, format::si(r.row.denials as f64)),
    ),
    col(
        "CT",
        5,
        3,
        Align::Right,
        |r, _| num(r, r.row.ct_entries),
        |r, _| dash_if_not_ok(r, format::si(r.row.ct_entries as f64)),
    ),
    col(
        "FULLEST MAP",
        18,
        2,
        Align::Left,
        |r, _| SortKey::Num(r.row.map_pressure.as_ref().map(|(_, p)| *p)),
        |r, _| pressure(r),
    ),
    col(
        "TAKEN",
        8,
        1,
        Align::Left,
        |r, _| SortKey::Text(r.row.taken_at.clone()),
        |r, _| dash_if_not_ok(r, time_of(&r.row.taken_at)),
    ),
];

fn key(r: &ClusterRow) -> RowKey {
    RowKey::Id(r.idx as u64)
}

pub const TABLE: Table<ClusterRow> = Table {
    columns: COLUMNS,
    key,
    default_sort: 0,
    default_desc: false,
    diff: None,
};

fn rows<'a>(c: &Ctx<'a>) -> &'a [ClusterRow] {
    c.cluster.map_or(&[], |cl| &cl.rows[..])
}

/// The table's order (unsorted: the bundle's, the order the nodes were asked in); with a
/// query, only the nodes that match it.
fn order(p: &TablePane<ClusterRow>, ctx: &Ctx, view: &TableView, _: &mut Memo) -> Order {
    let rows = rows(ctx);
    let asked = ctx.cluster.is_some_and(|c| c.query.is_some());
    let keep = |r: &ClusterRow| !asked || r.matches.is_some_and(|m| m > 0);
    let order = match view.sort {
        Some(_) => p.table.order_where(rows, ctx, view, keep),
        None => {
            let mut v: Vec<usize> = (0..rows.len())
                .filter(|&i| keep(&rows[i]))
                .filter(|&i| view.filter.is_empty() || p.table.matches(&rows[i], ctx, &view.filter))
                .collect();
            v.sort_by_key(|&i| rows[i].idx);
            if !view.marked.is_empty() {
                v.sort_by_key(|&i| !view.marked.contains(&key(&rows[i])));
            }
            v
        }
    };
    Order::of_rows(rows, order, key)
}

/// What the title says after the name: the bundle, the query and its answer.
fn legend(c: &Ctx) -> String {
    let Some(cl) = c.cluster else {
        return String::new();
    };
    let missing = cl.nodes.len() - cl.with_snapshot();
    let mut out = String::new();
    if let Some(q) = &cl.query {
        out.push_str(&format!(
            "· {} {:?}: {} of {} nodes (Esc: all) ",
            q.pane.name(),
            q.filter,
            cl.matching(),
            cl.with_snapshot(),
        ));
    }
    if missing > 0 {
        out.push_str(&format!("· {missing} without a snapshot "));
    }
    out
}

fn open(key: &RowKey) -> Option<Target> {
    match key {
        RowKey::Id(i) => usize::try_from(*i).ok().map(Target::Node),
        RowKey::Path(_) => None,
    }
}

/// The Cluster pane's JSON is the bundle's rows; a snapshot alone has none.
fn json(_: &Snapshot, w: &mut dyn std::io::Write) -> serde_json::Result<()> {
    super::json(w, &Vec::<()>::new())
}

pub static PANE: TablePane<ClusterRow> = TablePane {
    empty: Empty::Text(text::NOT_A_BUNDLE),
    legend,
    open,
    order: Some(order),
    ..TablePane::new(PaneId::Cluster, "Cluster", rows, TABLE, json)
};
