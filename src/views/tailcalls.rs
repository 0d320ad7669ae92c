//! Tail calls pane: a tree per prog array — owner (entry program) → populated slots with
//! Cilium's slot names → program, and nested prog arrays that a slot's program tail-calls into
//! (each expanded once; a path back to a map already on it is a cycle).

use super::cilium;
use super::plain::PlainTable;
use super::registry::PaneDef;
use super::text;
use super::theme::Theme;
use crate::app::state::{App, RowKey};
use crate::app::update::Target;
use crate::model::{PaneId, Snapshot, TailCallMap, TailCallSlot};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::Frame;
use std::collections::{BTreeSet, HashMap};
use tui_tree_widget::{Tree, TreeItem, TreeState};

/// A line of the tail-call tree; `data` is what Enter opens.
pub type Node = super::tree::Node<Target>;

/// Maps keyed by endpoint id rather than by CILIUM_CALL_* index.
pub fn keyed_by_endpoint(map_name: &str) -> bool {
    map_name == "cilium_call_policy" || map_name == "cilium_egresscall_policy"
}

/// `7 IPV4_FROM_LXC`, `ep 412`, `3`.
pub fn slot_label(map: &TailCallMap, slot: &TailCallSlot) -> String {
    match &slot.slot_name {
        Some(n) => format!("{} {n}", slot.index),
        None if keyed_by_endpoint(&map.map_name) => format!("ep {}", slot.index),
        None => slot.index.to_string(),
    }
}

pub fn is_empty_slot(slot: &TailCallSlot) -> bool {
    slot.prog_id == 0
}

/// Full program name: the programs list has BTF names where the slot may have the kernel's.
fn prog_name(snap: &Snapshot, slot: &TailCallSlot) -> String {
    match snap.program(slot.prog_id) {
        Some(p) if !p.name.is_empty() => p.name.clone(),
        _ if !slot.prog_name.is_empty() => slot.prog_name.clone(),
        Some(p) => p.kernel_name.clone(),
        None => String::new(),
    }
}

/// Other prog arrays a program can tail-call into (its map ids that are tail-call maps).
fn calls_into(snap: &Snapshot, prog_id: u32, own: u32, by_id: &HashMap<u32, usize>) -> Vec<u32> {
    let Some(p) = snap.program(prog_id) else {
        return Vec::new();
    };
    let mut v: Vec<u32> = p
        .map_ids
        .iter()
        .copied()
        .filter(|m| *m != own && by_id.contains_key(m))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn map_text(m: &TailCallMap, nested: bool) -> String {
    let used = m.slots.iter().filter(|s| !is_empty_slot(s)).count();
    let slots = format!("{used} program{}", if used == 1 { "" } else { "s" });
    match (&m.owner, nested) {
        (Some(o), false) => format!("{o} ⇒ {} (map {}, {slots})", m.map_name, m.map_id),
        _ => format!("{} (map {}, {slots})", m.map_name, m.map_id),
    }
}

struct Builder<'a> {
    snap: &'a Snapshot,
    by_id: HashMap<u32, usize>,
    /// Maps already expanded somewhere in the tree.
    shown: BTreeSet<u32>,
}

impl Builder<'_> {
    fn map_node(&mut self, idx: usize, ids: Vec<String>, path: &mut Vec<u32>) -> Node {
        let m = &self.snap.tailcalls[idx];
        self.shown.insert(m.map_id);
        path.push(m.map_id);
        let mut slots: Vec<&TailCallSlot> = m.slots.iter().collect();
        slots.sort_by_key(|s| s.index);
        let mut children = Vec::new();
        for s in slots {
            let mut sids = ids.clone();
            sids.push(format!("s{}", s.index));
            let mut label = slot_label(m, s);
            if keyed_by_endpoint(&m.map_name) {
                if let Some(ep) = self
                    .snap
                    .endpoints
                    .iter()
                    .find(|e| u32::from(e.endpoint_id) == s.index && !e.address.is_empty())
                {
                    label = format!("{label} ({})", ep.address);
                }
            }
            if is_empty_slot(s) {
                children.push(Node {
                    ids: sids,
                    text: label,
                    flags: text::EMPTY_SLOT.into(),
                    data: None,
                    children: Vec::new(),
                });
                continue;
            }
            let mut sub = Vec::new();
            for inner in calls_into(self.snap, s.prog_id, m.map_id, &self.by_id) {
                let Some(&j) = self.by_id.get(&inner) else {
                    continue;
                };
                let mut mids = sids.clone();
                mids.push(format!("m{inner}"));
                let im = &self.snap.tailcalls[j];
                if path.contains(&inner) {
                    sub.push(Node {
                        ids: mids,
                        text: format!("→ {} (map {inner})", im.map_name),
                        flags: text::CYCLE.into(),
                        data: Some(Target::Map(inner)),
                        children: Vec::new(),
                    });
                } else if self.shown.contains(&inner) {
                    sub.push(Node {
                        ids: mids,
                        text: format!("→ {} (map {inner})", im.map_name),
                        flags: text::SHOWN_ABOVE.into(),
                        data: Some(Target::Map(inner)),
                        children: Vec::new(),
                    });
                } else {
                    let mut n = self.map_node(j, mids, path);
                    n.text = format!("→ {}", n.text);
                    sub.push(n);
                }
            }
            children.push(Node {
                ids: sids,
                text: format!("{label}  {} #{}", prog_name(self.snap, s), s.prog_id),
                flags: String::new(),
                data: Some(Target::Program(s.prog_id)),
                children: sub,
            });
        }
        path.pop();
        Node {
            ids,
            text: map_text(m, !path.is_empty()),
            flags: String::new(),
            data: Some(Target::Map(m.map_id)),
            children,
        }
    }
}

/// The whole forest: arrays with an entry program first, then arrays no other array's
/// programs call into, then any array not reached from those.
pub fn build(snap: &Snapshot) -> Vec<Node> {
    build_from(snap, &BTreeSet::new())
}

/// The forest with the top-level arrays that hold a marked node (`m`) first. They are built
/// first too, so an array they share with others is expanded under them and the others say
/// `↑ shown above`, which stays true.
pub fn build_marked(snap: &Snapshot, marked: &[RowKey]) -> Vec<Node> {
    let tree = build(snap);
    if marked.is_empty() {
        return tree;
    }
    let first: BTreeSet<u32> = tree
        .iter()
        .filter(|r| r.holds_mark(marked))
        .filter_map(|r| match r.data {
            Some(Target::Map(id)) => Some(id),
            _ => None,
        })
        .collect();
    if first.is_empty() {
        return tree;
    }
    build_from(snap, &first)
}

/// The forest with the arrays in `first` as the first roots (in their usual order).
fn build_from(snap: &Snapshot, first: &BTreeSet<u32>) -> Vec<Node> {
    let by_id: HashMap<u32, usize> = snap
        .tailcalls
        .iter()
        .enumerate()
        .map(|(i, m)| (m.map_id, i))
        .collect();
    let mut nested: BTreeSet<u32> = BTreeSet::new();
    for m in &snap.tailcalls {
        for s in m.slots.iter().filter(|s| !is_empty_slot(s)) {
            nested.extend(calls_into(snap, s.prog_id, m.map_id, &by_id));
        }
    }
    let mut order: Vec<usize> = (0..snap.tailcalls.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&snap.tailcalls[a], &snap.tailcalls[b]);
        let rank = |m: &TailCallMap| {
            (
                !first.contains(&m.map_id),
                m.owner.is_none(),
                m.owner.is_none() && nested.contains(&m.map_id),
            )
        };
        (rank(x), &x.map_name, x.map_id).cmp(&(rank(y), &y.map_name, y.map_id))
    });
    let mut b = Builder {
        snap,
        by_id,
        shown: BTreeSet::new(),
    };
    let mut roots = Vec::new();
    for i in order {
        let id = snap.tailcalls[i].map_id;
        if b.shown.contains(&id) {
            continue;
        }
        roots.push(b.map_node(i, vec![format!("m{id}")], &mut Vec::new()));
    }
    roots
}

pub use super::tree::{filter, flatten};

/// The forest as shown: marked subtrees pinned on top, then the filter.
fn visible(app: &App) -> Vec<Node> {
    let view = app.view();
    filter(build_marked(&app.snapshot, &view.marked), &view.filter)
}

fn keys(app: &App) -> Vec<RowKey> {
    let mut flat = Vec::new();
    flatten(&visible(app), &mut flat);
    flat.iter().map(Node::key).collect()
}

fn open(app: &App, key: &RowKey) -> Option<Target> {
    let mut flat = Vec::new();
    flatten(&build_marked(&app.snapshot, &app.view().marked), &mut flat);
    flat.iter().find(|n| n.key() == *key).and_then(|n| n.data)
}

fn flag_style(n: &Node, theme: &Theme) -> ratatui::style::Style {
    if n.flags == text::SHOWN_ABOVE {
        theme.dim()
    } else {
        theme.warn()
    }
}

fn count(s: &Snapshot) -> usize {
    s.tailcalls.len()
}

fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let snap = &app.snapshot;
    let nodes = visible(app);
    let mut flat = Vec::new();
    flatten(&nodes, &mut flat);
    let mut title = super::table_title("Tail calls", nodes.len(), count(snap), &app.view().filter);
    title.push_str(&cilium::layout_suffix(snap));
    let title = Line::from(title);
    if snap.tailcalls.is_empty() {
        cilium::draw_empty(frame, area, title, snap, "tailcalls", app.waiting, theme);
        return;
    }
    if flat.is_empty() {
        super::empty_state(frame, area, title, text::NO_MATCH, theme, false);
        return;
    }
    let marked = &app.view().marked;
    let items: Vec<TreeItem<String>> = nodes
        .iter()
        .map(|n| super::tree::item(n, theme, marked, flag_style))
        .collect();
    let mut state = TreeState::default();
    for n in &flat {
        state.open(n.ids.clone());
    }
    let selected = app
        .view()
        .selected
        .as_ref()
        .and_then(|k| flat.iter().find(|n| n.key() == *k))
        .unwrap_or(&flat[0]);
    state.select(selected.ids.clone());
    match Tree::new(&items) {
        Ok(tree) => {
            let tree = tree
                .block(super::block(title, theme))
                .highlight_style(theme.selected())
                .highlight_symbol("▶");
            frame.render_stateful_widget(tree, area, &mut state);
            super::hits::tree_rows(area, &state);
        }
        Err(e) => super::empty_state(frame, area, title, &e.to_string(), theme, true),
    }
}

/// Prog arrays shown (expanded) inside the top-level subtrees that hold a mark.
fn pinned_maps(snap: &Snapshot, marked: &[RowKey]) -> BTreeSet<u32> {
    fn walk(n: &Node, out: &mut BTreeSet<u32>) {
        // Expanded map nodes carry no flag; `↺ cycle` and `shown above` refer to one elsewhere.
        if let (Some(Target::Map(id)), true) = (n.data, n.flags.is_empty()) {
            out.insert(id);
        }
        for c in &n.children {
            walk(c, out);
        }
    }
    let mut out = BTreeSet::new();
    if marked.is_empty() {
        return out;
    }
    for root in build_marked(snap, marked)
        .iter()
        .filter(|r| r.holds_mark(marked))
    {
        walk(root, &mut out);
    }
    out
}

/// One row per slot of every prog array, with the arrays its program calls into; the arrays of
/// a marked subtree first, as on screen.
fn plain(
    snap: &Snapshot,
    _prev: Option<&Snapshot>,
    view: &crate::app::state::TableView,
) -> PlainTable {
    let by_id: HashMap<u32, usize> = snap
        .tailcalls
        .iter()
        .enumerate()
        .map(|(i, m)| (m.map_id, i))
        .collect();
    let mut t = PlainTable {
        headers: ["MAP", "OWNER", "SLOT", "PROG", "PROGRAM", "CALLS INTO"]
            .map(String::from)
            .to_vec(),
        rows: Vec::new(),
        right: vec![false, false, false, true, false, false],
    };
    let pinned = pinned_maps(snap, &view.marked);
    let mut maps: Vec<&TailCallMap> = snap.tailcalls.iter().collect();
    // A stable order: pinned arrays first, each group by name.
    maps.sort_by(|a, b| {
        (!pinned.contains(&a.map_id), &a.map_name, a.map_id).cmp(&(
            !pinned.contains(&b.map_id),
            &b.map_name,
            b.map_id,
        ))
    });
    for m in maps {
        let mut slots: Vec<&TailCallSlot> = m.slots.iter().collect();
        slots.sort_by_key(|s| s.index);
        for s in slots {
            let (prog, name, calls) = if is_empty_slot(s) {
                ("-".to_string(), text::EMPTY_SLOT.to_string(), String::new())
            } else {
                let calls: Vec<String> = calls_into(snap, s.prog_id, m.map_id, &by_id)
                    .into_iter()
                    .filter_map(|id| by_id.get(&id).map(|&j| snap.tailcalls[j].map_name.clone()))
                    .collect();
                (s.prog_id.to_string(), prog_name(snap, s), calls.join(", "))
            };
            t.rows.push(vec![
                m.map_name.clone(),
                m.owner.clone().unwrap_or_else(|| "-".into()),
                slot_label(m, s),
                prog,
                name,
                calls,
            ]);
        }
    }
    t
}

pub const PANE: PaneDef = PaneDef {
    id: PaneId::Tailcalls,
    title: "Tail calls",
    count,
    columns: 0,
    default_sort: 0,
    default_desc: false,
    keys,
    open,
    draw,
    groups: super::registry::no_groups,
    plain,
    json: |s, w| super::registry::json(w, &s.tailcalls),
    probes: &[],
};
