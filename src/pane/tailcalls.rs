//! Tail calls pane: the datapath as packets walk it (`model::tailgraph`) — interface → hook →
//! entry program → the prog arrays it calls with their slots (named by each array's own
//! layout) → the programs in them → their calls — as tree lines. `show tailcalls` (text, JSON)
//! and the DOT export (`dot`) are drawn from the same forest, so all three have one shape.

use super::order::{Memo, Order};
use super::plain::PlainTable;
use super::tree::{filter, flatten};
use super::{Ctx, Pane, RowKey, TableView, Target};
use crate::model::tailgraph::{self, keyed_by_endpoint, By, Graph, Item};
use crate::model::{PaneId, Snapshot, TailCallMap};
use crate::text;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A line of the tail-call tree; `data` is what Enter opens.
pub type Node = super::tree::Node<Target>;

/// Hook names as people say them: `tcx ingress`, `tc egress pref 1 handle 0x1`, `xdp drv`.
pub fn hook_text(hook: &str, detail: Option<&str>) -> String {
    let h = hook.replace('_', " ");
    match detail {
        Some(d) if !d.is_empty() => format!("{h} {d}"),
        _ => h,
    }
}

/// What the lines say, from the graph and the snapshot's endpoints.
struct Lines<'a> {
    g: Graph<'a>,
    /// Endpoint id → its address (IPv4 when it has one), for `cilium_call_policy` slots.
    addresses: HashMap<u32, &'a str>,
}

impl<'a> Lines<'a> {
    fn new(snap: &'a Snapshot) -> Lines<'a> {
        let mut addresses: HashMap<u32, &str> = HashMap::new();
        for e in snap.endpoints.iter().filter(|e| !e.address.is_empty()) {
            let ep = u32::from(e.endpoint_id);
            let v4 = !e.address.contains(':');
            match addresses.get(&ep) {
                Some(a) if !a.contains(':') || !v4 => {}
                _ => {
                    addresses.insert(ep, &e.address);
                }
            }
        }
        Lines {
            g: Graph::new(&snap.tailcalls, &snap.programs),
            addresses,
        }
    }

    fn prog(&self, id: u32) -> String {
        match self.g.prog_name(id) {
            Some(n) => format!("{n} #{id}"),
            None => format!("prog #{id}"),
        }
    }

    fn map_name(&self, id: u32) -> String {
        self.g
            .map(id)
            .map_or_else(|| format!("map {id}"), |m| m.map_name.clone())
    }

    /// `7 IPV4_FROM_LXC`, `ep 412 (10.0.1.23)`, `3`.
    fn slot_label(&self, map_id: u32, index: u32) -> String {
        let Some(m) = self.g.map(map_id) else {
            return index.to_string();
        };
        if keyed_by_endpoint(m) {
            return match self.addresses.get(&index) {
                Some(a) => format!("ep {index} ({a})"),
                None => format!("ep {index}"),
            };
        }
        match slot_name(m, index) {
            Some(n) => format!("{index} {n}"),
            None => index.to_string(),
        }
    }

    /// `[30] IPV4_CT_EGRESS` inside the caller's own array, else `cilium_calls_00412[13]
    /// IPV4_TO_ENDPOINT`; `cilium_calls_00412[?]` when the index is not known.
    fn call_label(&self, map_id: u32, index: Option<u32>, home: Option<u32>) -> String {
        let map = if home == Some(map_id) {
            String::new()
        } else {
            self.map_name(map_id)
        };
        let Some(k) = index else {
            return format!("{}[?]", self.map_name(map_id));
        };
        match self.g.map(map_id).and_then(|m| slot_name(m, k)) {
            Some(n) => format!("{map}[{k}] {n}"),
            None => format!("{map}[{k}]"),
        }
    }

    /// The line's text, its flags and what Enter opens. `home`: the array the program on the
    /// line above sits in.
    fn describe(
        &self,
        item: &Item,
        home: Option<u32>,
    ) -> (String, Vec<&'static str>, Option<Target>) {
        match item {
            Item::Interface { ifindex, name } => {
                (format!("{name} (ifindex {ifindex})"), vec![], None)
            }
            Item::Hook { hook, detail } => (hook_text(hook, detail.as_deref()), vec![], None),
            Item::Entry {
                prog_id,
                endpoint,
                endpoint_unknown,
            } => {
                let mut t = self.prog(*prog_id);
                match endpoint {
                    Some(ep) => t.push_str(&format!(" · endpoint {ep}")),
                    None if *endpoint_unknown => {
                        t.push_str(" · ");
                        t.push_str(text::ENDPOINT_UNKNOWN);
                    }
                    None => {}
                }
                (t, vec![], Some(Target::Program(*prog_id)))
            }
            Item::Array {
                map_id, remaining, ..
            } => {
                let mut t = format!("{} (map {map_id})", self.map_name(*map_id));
                let m = self.g.map(*map_id);
                if let Some(m) = m {
                    if *remaining {
                        t.push_str(" · other endpoints");
                    } else if keyed_by_endpoint(m) {
                        t.push_str(" · keyed by endpoint id");
                    } else if let Some(l) = &m.layout {
                        t.push_str(&format!(" · {l} layout"));
                    }
                    let used = m.slots.iter().filter(|s| s.prog_id != 0).count();
                    if m.max_entries > 0 {
                        t.push_str(&format!(" · {used} of {} slots", m.max_entries));
                    }
                }
                (t, vec![], Some(Target::Map(*map_id)))
            }
            Item::Slot {
                map_id,
                index,
                prog_id,
            } => {
                let label = self.slot_label(*map_id, *index);
                if *prog_id == 0 {
                    (label, vec![text::CALLED_EMPTY], Some(Target::Map(*map_id)))
                } else {
                    (
                        format!("{label}  {}", self.prog(*prog_id)),
                        vec![],
                        Some(Target::Program(*prog_id)),
                    )
                }
            }
            Item::Jump {
                map_id,
                index,
                prog_id,
            } => {
                let label = self.call_label(*map_id, *index, home);
                if index.is_none() {
                    (label, vec![text::INDEX_UNKNOWN], Some(Target::Map(*map_id)))
                } else if *prog_id == 0 {
                    (label, vec![text::CALLED_EMPTY], Some(Target::Map(*map_id)))
                } else {
                    (
                        format!("{label} → {}", self.prog(*prog_id)),
                        vec![],
                        Some(Target::Program(*prog_id)),
                    )
                }
            }
            Item::Keyed {
                map_id,
                index,
                by,
                prog_id,
                seen,
            } => {
                let name = self.map_name(*map_id);
                let Some(k) = index else {
                    return (
                        format!("{name}[?]"),
                        vec![text::INDEX_UNKNOWN],
                        Some(Target::Map(*map_id)),
                    );
                };
                let mut flags = Vec::new();
                if *by == By::ThisEndpoint {
                    flags.push(text::THIS_ENDPOINT);
                }
                if *prog_id == 0 {
                    flags.push(text::CALLED_EMPTY);
                    return (format!("{name}[{k}]"), flags, Some(Target::Map(*map_id)));
                }
                if *seen {
                    flags.push(text::SHOWN_ABOVE);
                }
                (
                    format!("{name}[{k}] → {}", self.prog(*prog_id)),
                    flags,
                    Some(Target::Program(*prog_id)),
                )
            }
            Item::Unattached => (text::UNATTACHED_ARRAYS.into(), vec![], None),
            Item::Truncated => (text::DEEPER_CALLS.into(), vec![], None),
        }
    }

    fn convert(&self, n: &tailgraph::Node, path: &[String], home: Option<u32>) -> Node {
        let mut ids = path.to_vec();
        ids.push(n.key.clone());
        let (text, mut flags, data) = self.describe(&n.item, home);
        if n.cycle {
            flags.push(text::CYCLE);
        }
        let below = match n.item {
            Item::Slot { map_id, .. } | Item::Keyed { map_id, .. } | Item::Jump { map_id, .. } => {
                Some(map_id)
            }
            Item::Entry { .. } | Item::Interface { .. } | Item::Unattached => None,
            _ => home,
        };
        let children = n
            .children
            .iter()
            .map(|c| self.convert(c, &ids, below))
            .collect();
        Node {
            ids,
            text,
            flags: flags.join("  "),
            data,
            children,
        }
    }
}

/// The slot's name in the array's own numbering (`IPV4_FROM_LXC`).
fn slot_name(m: &TailCallMap, index: u32) -> Option<&str> {
    m.slots
        .iter()
        .find(|s| s.index == index)
        .and_then(|s| s.slot_name.as_deref())
}

/// The whole forest: interfaces and their entry programs, then the unattached prog arrays.
pub fn build(snap: &Snapshot) -> Vec<Node> {
    let lines = Lines::new(snap);
    tailgraph::forest(snap)
        .iter()
        .map(|n| lines.convert(n, &[], None))
        .collect()
}

/// The forest with the interfaces that hold a marked node (`m`) first. They are built first
/// too, so what they share with others is expanded under them and `↑ shown above` stays true.
pub fn build_marked(snap: &Snapshot, marked: &[RowKey]) -> Vec<Node> {
    let tree = build(snap);
    if marked.is_empty() {
        return tree;
    }
    let first: BTreeSet<String> = tree
        .iter()
        .filter(|r| r.holds_mark(marked) && r.data.is_none() && r.ids.len() == 1)
        .filter(|r| r.ids[0] != "unattached")
        .map(|r| r.ids[0].clone())
        .collect();
    if first.is_empty() {
        return tree;
    }
    let lines = Lines::new(snap);
    tailgraph::forest_first(snap, &|k| first.contains(k))
        .iter()
        .map(|n| lines.convert(n, &[], None))
        .collect()
}

/// The forest as shown: marked subtrees first, then the filter.
pub fn visible(snap: &Snapshot, view: &TableView) -> Vec<Node> {
    filter(build_marked(snap, &view.marked), &view.filter)
}

/// Tail calls: the rooted tree.
pub struct Tailcalls;

pub static PANE: Tailcalls = Tailcalls;

impl Pane for Tailcalls {
    fn id(&self) -> PaneId {
        PaneId::Tailcalls
    }

    fn title(&self) -> &'static str {
        "Tail calls"
    }

    /// Prog arrays.
    fn count(&self, ctx: &Ctx) -> usize {
        ctx.snap.tailcalls.len()
    }

    fn order(&self, ctx: &Ctx, view: &TableView, _: &mut Memo) -> Order {
        super::tree::order(&visible(ctx.snap, view))
    }

    fn open(&self, ctx: &Ctx, view: &TableView, key: &RowKey) -> Option<Target> {
        let mut flat = Vec::new();
        flatten(&build_marked(ctx.snap, &view.marked), &mut flat);
        flat.iter().find(|n| n.key() == *key).and_then(|n| n.data)
    }

    fn plain(&self, ctx: &Ctx, view: &TableView) -> PlainTable {
        plain(ctx.snap, view)
    }

    /// The rooted tree (`show tailcalls --json`): nested objects, one per line of the pane,
    /// with ids, names and what the line says.
    fn json(&self, snap: &Snapshot, w: &mut dyn std::io::Write) -> serde_json::Result<()> {
        super::json(w, &json_forest(snap))
    }
}

/// The tree as a table (`show tailcalls`): the line indented by its depth, the program on it
/// and its notes; marked subtrees first, as on screen.
fn plain(snap: &Snapshot, view: &TableView) -> PlainTable {
    let mut t = PlainTable {
        headers: ["TAIL CALLS", "PROG", "NOTE"].map(String::from).to_vec(),
        rows: Vec::new(),
        right: vec![false, true, false],
    };
    fn walk(nodes: &[Node], depth: usize, rows: &mut Vec<Vec<String>>) {
        for n in nodes {
            let prog = match n.data {
                Some(Target::Program(id)) => id.to_string(),
                _ => String::new(),
            };
            rows.push(vec![
                format!("{}{}", "  ".repeat(depth), n.text),
                prog,
                n.flags.clone(),
            ]);
            walk(&n.children, depth + 1, rows);
        }
    }
    walk(&build_marked(snap, &view.marked), 0, &mut t.rows);
    t
}

/// One line of the tree for `show tailcalls --json`.
#[derive(serde::Serialize)]
pub struct JsonNode {
    /// `interface`, `hook`, `entry`, `array`, `slot`, `call`, `policy_call`, `unattached`,
    /// `truncated`.
    pub kind: &'static str,
    /// The line as the pane shows it.
    pub text: String,
    /// Its notes (`↺ cycle`, `∅ called but empty`, `index not known statically`, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(flatten)]
    pub fields: BTreeMap<&'static str, serde_json::Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<JsonNode>,
}

/// The rooted tree as `show tailcalls --json` prints it.
pub fn json_forest(snap: &Snapshot) -> Vec<JsonNode> {
    let lines = Lines::new(snap);
    fn go(lines: &Lines, n: &tailgraph::Node, shown: &Node) -> JsonNode {
        use serde_json::Value;
        let g = &lines.g;
        let mut f: BTreeMap<&'static str, Value> = BTreeMap::new();
        let prog = |f: &mut BTreeMap<&'static str, Value>, id: u32| {
            if id == 0 {
                f.insert("prog_id", Value::Null);
            } else {
                f.insert("prog_id", id.into());
                f.insert("prog_name", g.prog_name(id).unwrap_or_default().into());
            }
        };
        let map = |f: &mut BTreeMap<&'static str, Value>, id: u32| {
            f.insert("map_id", id.into());
            f.insert("map_name", lines.map_name(id).into());
        };
        let opt = |v: Option<u32>| v.map_or(Value::Null, Value::from);
        let kind = match &n.item {
            Item::Interface { ifindex, name } => {
                f.insert("ifindex", (*ifindex).into());
                f.insert("ifname", name.clone().into());
                "interface"
            }
            Item::Hook { hook, detail } => {
                f.insert("hook", hook.clone().into());
                f.insert("detail", detail.clone().map_or(Value::Null, Value::from));
                "hook"
            }
            Item::Entry {
                prog_id,
                endpoint,
                endpoint_unknown,
            } => {
                prog(&mut f, *prog_id);
                f.insert("endpoint_id", opt(*endpoint));
                f.insert("endpoint_unknown", (*endpoint_unknown).into());
                "entry"
            }
            Item::Array {
                map_id,
                called_at,
                remaining,
            } => {
                map(&mut f, *map_id);
                if let Some(m) = g.map(*map_id) {
                    f.insert("max_entries", m.max_entries.into());
                    f.insert("layout", m.layout.clone().map_or(Value::Null, Value::from));
                    f.insert(
                        "layout_reason",
                        m.layout_reason.clone().map_or(Value::Null, Value::from),
                    );
                    f.insert("endpoint_id", opt(m.endpoint_id));
                    f.insert(
                        "endpoint_source",
                        m.endpoint_source.clone().map_or(Value::Null, Value::from),
                    );
                    f.insert("pinned", m.pinned.clone().map_or(Value::Null, Value::from));
                }
                f.insert(
                    "called_at",
                    called_at.iter().map(|i| opt(*i)).collect::<Vec<_>>().into(),
                );
                f.insert("other_endpoints", (*remaining).into());
                "array"
            }
            Item::Slot {
                map_id,
                index,
                prog_id,
            } => {
                f.insert("map_id", (*map_id).into());
                f.insert("index", (*index).into());
                let name = g.map(*map_id).and_then(|m| slot_name(m, *index));
                f.insert("slot_name", name.map_or(Value::Null, Value::from));
                prog(&mut f, *prog_id);
                "slot"
            }
            Item::Jump {
                map_id,
                index,
                prog_id,
            } => {
                map(&mut f, *map_id);
                f.insert("index", opt(*index));
                let name = index.and_then(|k| g.map(*map_id).and_then(|m| slot_name(m, k)));
                f.insert("slot_name", name.map_or(Value::Null, Value::from));
                prog(&mut f, *prog_id);
                "call"
            }
            Item::Keyed {
                map_id,
                index,
                by,
                prog_id,
                seen,
            } => {
                map(&mut f, *map_id);
                f.insert("index", opt(*index));
                let by = match by {
                    By::Static => "call site",
                    By::ThisEndpoint => "this endpoint",
                    By::Unknown => "unknown",
                };
                f.insert("resolved_by", by.into());
                prog(&mut f, *prog_id);
                f.insert("shown_above", (*seen).into());
                "policy_call"
            }
            Item::Unattached => "unattached",
            Item::Truncated => "truncated",
        };
        f.insert("cycle", n.cycle.into());
        JsonNode {
            kind,
            text: shown.text.clone(),
            notes: shown
                .flags
                .split("  ")
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            fields: f,
            children: n
                .children
                .iter()
                .zip(&shown.children)
                .map(|(c, s)| go(lines, c, s))
                .collect(),
        }
    }
    let forest = tailgraph::forest(snap);
    forest
        .iter()
        .map(|n| {
            let shown = lines.convert(n, &[], None);
            go(&lines, n, &shown)
        })
        .collect()
}

fn dot_escape(s: &str) -> String {
    crate::sanitize::text(s)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

/// Graphviz DOT of the rooted tree: interface → entry program (edge: the hook) → prog array
/// (edge: the index it is called at) → programs in its slots (edge: the slot) → their calls
/// (edge: `[30]`, `cilium_call_policy[412]`); a slot called but empty is a dashed box, a call
/// whose index is not known a dotted edge to the array, a call that closes a cycle red.
/// Prog arrays no attach point reaches sit in their own cluster.
pub fn dot(snap: &Snapshot) -> String {
    let lines = Lines::new(snap);
    let forest = tailgraph::forest(snap);

    struct Ctx<'l, 'a> {
        lines: &'l Lines<'a>,
        nodes: BTreeMap<String, String>,
        edges: Vec<String>,
        unattached: BTreeSet<String>,
    }
    impl Ctx<'_, '_> {
        fn prog(&mut self, id: u32) -> String {
            let key = format!("prog{id}");
            let label = dot_escape(&self.lines.prog(id));
            self.nodes
                .entry(key.clone())
                .or_insert_with(|| format!("shape=ellipse, label=\"{label}\""));
            key
        }
        fn array(&mut self, id: u32) -> String {
            let key = format!("map{id}");
            let mut label = format!("{}\\n(map {id})", dot_escape(&self.lines.map_name(id)));
            if let Some(m) = self.lines.g.map(id) {
                if let (Some(l), false) = (&m.layout, keyed_by_endpoint(m)) {
                    label.push_str(&format!("\\n{} layout", dot_escape(l)));
                }
            }
            self.nodes
                .entry(key.clone())
                .or_insert_with(|| format!("shape=box, label=\"{label}\""));
            key
        }
        fn empty(&mut self, map: u32, index: u32) -> String {
            let key = format!("empty{map}_{index}");
            self.nodes.entry(key.clone()).or_insert_with(|| {
                format!(
                    "shape=box, style=dashed, label=\"{}\"",
                    dot_escape(text::CALLED_EMPTY)
                )
            });
            key
        }
        fn edge(&mut self, from: &str, to: &str, label: &str, style: &str) {
            let mut attrs = vec![format!("label=\"{}\"", dot_escape(label))];
            if !style.is_empty() {
                attrs.push(style.to_string());
            }
            self.edges.push(format!(
                "  \"{from}\" -> \"{to}\" [{}];\n",
                attrs.join(", ")
            ));
        }
        /// `from`: the node of the line above (program, array, interface); `hook`: the hook
        /// an entry program hangs from.
        fn walk(
            &mut self,
            n: &tailgraph::Node,
            from: Option<&str>,
            hook: &str,
            home: Option<u32>,
            top: bool,
        ) {
            let cycle = if n.cycle { ", color=red" } else { "" };
            let mut next_from: Option<String> = from.map(String::from);
            let mut next_hook = hook.to_string();
            let mut below = home;
            match &n.item {
                Item::Interface { ifindex, name } => {
                    let key = format!("if{ifindex}");
                    let label = dot_escape(&format!("{name}\n(ifindex {ifindex})"));
                    self.nodes.insert(
                        key.clone(),
                        format!("shape=house, label=\"{}\"", label.replace('\n', "\\n")),
                    );
                    next_from = Some(key);
                    below = None;
                }
                Item::Hook { hook, detail } => {
                    next_hook = hook_text(hook, detail.as_deref());
                }
                Item::Entry { prog_id, .. } => {
                    let p = self.prog(*prog_id);
                    if let Some(f) = from {
                        self.edge(f, &p, hook, "style=bold");
                    }
                    next_from = Some(p);
                    below = None;
                }
                Item::Array {
                    map_id, called_at, ..
                } => {
                    let m = self.array(*map_id);
                    if top {
                        self.unattached.insert(m.clone());
                    }
                    if let Some(f) = from {
                        let at: Vec<String> = called_at
                            .iter()
                            .map(|i| i.map_or_else(|| "?".to_string(), |k| k.to_string()))
                            .collect();
                        let style = if called_at.iter().any(Option::is_none) {
                            "style=dotted"
                        } else {
                            ""
                        };
                        self.edge(f, &m, &format!("calls [{}]", at.join(", ")), style);
                    }
                    next_from = Some(m);
                }
                Item::Slot {
                    map_id,
                    index,
                    prog_id,
                } => {
                    let label = self.lines.slot_label(*map_id, *index);
                    let m = self.array(*map_id);
                    if *prog_id == 0 {
                        let e = self.empty(*map_id, *index);
                        self.edge(&m, &e, &label, "style=dashed");
                        next_from = None;
                    } else {
                        let p = self.prog(*prog_id);
                        self.edge(&m, &p, &label, cycle.trim_start_matches(", "));
                        next_from = Some(p);
                    }
                    below = Some(*map_id);
                }
                Item::Jump {
                    map_id,
                    index,
                    prog_id,
                }
                | Item::Keyed {
                    map_id,
                    index,
                    prog_id,
                    ..
                } => {
                    // A policy hop is named by its key alone (`cilium_call_policy[412]`).
                    let label = match (&n.item, index) {
                        (Item::Keyed { .. }, Some(k)) => {
                            format!("{}[{k}]", self.lines.map_name(*map_id))
                        }
                        _ => self.lines.call_label(*map_id, *index, home),
                    };
                    let Some(f) = from else { return };
                    let f = f.to_string();
                    match index {
                        None => {
                            let m = self.array(*map_id);
                            self.edge(&f, &m, text::INDEX_UNKNOWN, "style=dotted");
                        }
                        Some(k) if *prog_id == 0 => {
                            let e = self.empty(*map_id, *k);
                            self.edge(&f, &e, &label, "style=dashed");
                        }
                        Some(_) => {
                            let p = self.prog(*prog_id);
                            let style = format!("style=dashed{cycle}");
                            self.edge(&f, &p, &label, &style);
                            next_from = Some(p);
                        }
                    }
                    below = Some(*map_id);
                }
                Item::Unattached | Item::Truncated => {
                    next_from = None;
                }
            }
            let top = matches!(n.item, Item::Unattached);
            for c in &n.children {
                self.walk(c, next_from.as_deref(), &next_hook, below, top);
            }
        }
    }

    let mut cx = Ctx {
        lines: &lines,
        nodes: BTreeMap::new(),
        edges: Vec::new(),
        unattached: BTreeSet::new(),
    };
    for n in &forest {
        cx.walk(n, None, "", None, false);
    }
    let mut s = String::from(
        "digraph tailcalls {\n  rankdir=LR;\n  node [fontname=\"monospace\"];\n  edge [fontname=\"monospace\"];\n",
    );
    for (key, attrs) in &cx.nodes {
        if !cx.unattached.contains(key) {
            s.push_str(&format!("  \"{key}\" [{attrs}];\n"));
        }
    }
    if !cx.unattached.is_empty() {
        s.push_str(&format!(
            "  subgraph cluster_unattached {{\n    label=\"{}\";\n    style=dashed;\n",
            dot_escape(text::UNATTACHED_ARRAYS)
        ));
        for key in &cx.unattached {
            if let Some(attrs) = cx.nodes.get(key) {
                s.push_str(&format!("    \"{key}\" [{attrs}];\n"));
            }
        }
        s.push_str("  }\n");
    }
    let mut seen = BTreeSet::new();
    for e in cx.edges {
        if seen.insert(e.clone()) {
            s.push_str(&e);
        }
    }
    s.push_str("}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attachment, Program, TailCallSite, TailCallSlot};

    fn prog(id: u32, name: &str, maps: &[u32]) -> Program {
        Program {
            id,
            name: name.into(),
            map_ids: maps.to_vec(),
            ..Default::default()
        }
    }

    /// An unpinned call map whose endpoint is not known (its kernel name cut, no config):
    /// `endpoint ?`, and its policy hop cannot be resolved.
    fn unknown_endpoint() -> Snapshot {
        let mut s = Snapshot::empty();
        s.attachments = vec![Attachment {
            ifindex: 7,
            ifname: "lxc01".into(),
            hook: "tc_ingress".into(),
            prog_id: 1,
            priority: Some(1),
            handle: Some(1),
            ..Default::default()
        }];
        s.programs = vec![
            prog(1, "cil_from_container", &[10]),
            prog(2, "tail_handle_ipv4_cont", &[11]),
            prog(3, "cil_lxc_policy", &[]),
        ];
        let slot = |index, prog_id, name: Option<&str>| TailCallSlot {
            index,
            prog_id,
            slot_name: name.map(String::from),
            ..Default::default()
        };
        s.tailcalls = vec![
            TailCallMap {
                map_id: 10,
                map_name: "cilium_calls_01".into(),
                kind: "cilium_calls".into(),
                object: Some("bpf_lxc".into()),
                layout: Some("1.17".into()),
                max_entries: 50,
                slots: vec![slot(25, 2, Some("IPV4_FROM_LXC_CONT"))],
                sites: vec![TailCallSite {
                    prog_id: 1,
                    index: Some(25),
                }],
                ..Default::default()
            },
            TailCallMap {
                map_id: 11,
                map_name: "cilium_call_policy".into(),
                kind: "call_policy".into(),
                max_entries: 65535,
                slots: vec![slot(1717, 3, None)],
                sites: vec![TailCallSite {
                    prog_id: 2,
                    index: None,
                }],
                ..Default::default()
            },
        ];
        s
    }

    #[test]
    fn an_unknown_endpoint_is_said_and_its_policy_hop_is_not_guessed() {
        let t = plain(&unknown_endpoint(), &TableView::default());
        let rows: Vec<String> = t
            .rows
            .iter()
            .map(|r| format!("{}|{}|{}", r[0], r[1], r[2]))
            .collect();
        assert_eq!(
            rows,
            [
                "lxc01 (ifindex 7)||",
                "  tc ingress pref 1 handle 0x1||",
                "    cil_from_container #1 · endpoint ?|1|",
                "      cilium_calls_01 (map 10) · 1.17 layout · 1 of 50 slots||",
                "        25 IPV4_FROM_LXC_CONT  tail_handle_ipv4_cont #2|2|",
                "          cilium_call_policy[?]||index not known statically",
                "prog arrays no attach point reaches||",
                "  cilium_call_policy (map 11) · keyed by endpoint id · 1 of 65535 slots||",
                "    ep 1717  cil_lxc_policy #3|3|",
            ]
        );
        let dot = dot(&unknown_endpoint());
        assert!(
            dot.contains(
                "\"if7\" -> \"prog1\" [label=\"tc ingress pref 1 handle 0x1\", style=bold]"
            ),
            "{dot}"
        );
        assert!(dot.contains(
            "\"prog2\" -> \"map11\" [label=\"index not known statically\", style=dotted]"
        ));
    }

    #[test]
    fn hostile_names_are_escaped_in_dot() {
        let mut s = unknown_endpoint();
        s.attachments[0].ifname = "a\"b\u{1b}[2J".into();
        let dot = dot(&s);
        assert!(!dot.contains('\u{1b}'), "{dot}");
        assert!(dot.contains("a\\\"b"), "{dot}");
    }
}
