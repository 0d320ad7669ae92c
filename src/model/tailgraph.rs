//! The tail-call graph as packets walk it, computed from snapshot data alone (pure, no I/O), so
//! the pane, `show tailcalls` and the DOT export draw the same thing, live or from a file.
//!
//! Roots are attach points: interface → hook → entry program. Under a program come the prog
//! arrays it tail-calls into: an array seen for the first time with all its populated slots
//! (and slots called at a known index but empty), each slot's program with its own calls, and
//! so on; a call into an array already listed is a jump to the slot it names. Arrays keyed by
//! endpoint id (`cilium_call_policy`) are resolved to the one slot a call can reach: the index
//! at the call site when the code fixes it, else the caller's own endpoint. Prog arrays no
//! attach point reaches come last, in their own group.
//!
//! A program is marked as a cycle only when it is reachable from itself through calls whose
//! slot is known statically.

use super::{Program, Snapshot, TailCallMap};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Nesting beyond this is cut (a snapshot file is untrusted input: no unbounded recursion).
pub const MAX_DEPTH: usize = 48;

/// Arrays keyed by endpoint id rather than by `CILIUM_CALL_*` index.
pub fn keyed_by_endpoint(m: &TailCallMap) -> bool {
    matches!(m.kind.as_str(), "call_policy" | "egresscall_policy")
        || matches!(
            m.map_name.as_str(),
            "cilium_call_policy" | "cilium_egresscall_policy"
        )
}

/// Whether the array belongs to one endpoint (`cilium_calls_<ep>`, custom calls, the host
/// endpoint's), so that an unknown id is worth saying.
pub fn endpoint_owned(m: &TailCallMap) -> bool {
    m.endpoint_id.is_some()
        || matches!(
            m.object.as_deref(),
            Some("bpf_lxc") | Some("custom calls") | Some("bpf_host (host endpoint)")
        )
}

/// How a call into an endpoint-keyed array was resolved to one slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// The code fixes the index at the call site.
    Static,
    /// The index is computed at run time; this is the slot of the caller's own endpoint.
    ThisEndpoint,
    /// Neither: the index is not known statically and the caller's endpoint is unknown.
    Unknown,
}

/// What a line of the tree stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A network interface with entry programs that tail-call.
    Interface { ifindex: u32, name: String },
    /// One hook of it (`tcx_ingress`, `tc_ingress`, `xdp`...), with the attachment's details
    /// (`pref 1 handle 0x1`, `drv`).
    Hook {
        hook: String,
        detail: Option<String>,
    },
    /// A program attached to the hook. `endpoint`: the endpoint its arrays belong to;
    /// `endpoint_unknown`: they belong to one but which is not known.
    Entry {
        prog_id: u32,
        endpoint: Option<u32>,
        endpoint_unknown: bool,
    },
    /// A prog array listed with its slots. `called_at`: the indices the caller above uses
    /// (`None`: not known statically). `remaining`: an endpoint-keyed array whose other slots
    /// were shown where endpoints call them; these are the rest.
    Array {
        map_id: u32,
        called_at: Vec<Option<u32>>,
        remaining: bool,
    },
    /// A slot of the array above: its program, or `prog_id` 0 when it is empty but tail-called
    /// at exactly this index.
    Slot {
        map_id: u32,
        index: u32,
        prog_id: u32,
    },
    /// A tail call into an array listed elsewhere (often the caller's own): the slot it
    /// reaches (`prog_id` 0: empty), or `index` `None`: not known statically.
    Jump {
        map_id: u32,
        index: Option<u32>,
        prog_id: u32,
    },
    /// A tail call into an endpoint-keyed array, resolved to one slot. `seen`: that slot's
    /// program is expanded elsewhere in the tree.
    Keyed {
        map_id: u32,
        index: Option<u32>,
        by: By,
        prog_id: u32,
        seen: bool,
    },
    /// Prog arrays that no attach point reaches.
    Unattached,
    /// Deeper calls not shown (the nesting limit).
    Truncated,
}

/// A line of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Unique among its siblings; the keys from the root identify a line.
    pub key: String,
    pub item: Item,
    /// The program on this line is reachable from itself (for a call: through this call).
    pub cycle: bool,
    pub children: Vec<Node>,
}

impl Node {
    fn leaf(key: String, item: Item) -> Node {
        Node {
            key,
            item,
            cycle: false,
            children: Vec::new(),
        }
    }

    /// The program this line is about, if any.
    pub fn prog_id(&self) -> Option<u32> {
        match self.item {
            Item::Entry { prog_id, .. }
            | Item::Slot { prog_id, .. }
            | Item::Jump { prog_id, .. }
            | Item::Keyed { prog_id, .. } => (prog_id != 0).then_some(prog_id),
            _ => None,
        }
    }

    /// The prog array this line is about, if any.
    pub fn map_id(&self) -> Option<u32> {
        match self.item {
            Item::Array { map_id, .. }
            | Item::Slot { map_id, .. }
            | Item::Jump { map_id, .. }
            | Item::Keyed { map_id, .. } => Some(map_id),
            _ => None,
        }
    }
}

/// Tail calls between programs, from the snapshot's prog arrays and programs.
pub struct Graph<'a> {
    by_id: HashMap<u32, &'a TailCallMap>,
    /// Program → arrays it tail-calls into → index at each call site (`None`: not known).
    calls: HashMap<u32, BTreeMap<u32, BTreeSet<Option<u32>>>>,
    /// Program → the arrays it sits in.
    homes: HashMap<u32, BTreeSet<u32>>,
    /// Strongly connected component of each program over calls with known slots.
    component: HashMap<u32, usize>,
    /// Programs reachable from themselves.
    cyclic: HashSet<u32>,
    names: HashMap<u32, String>,
}

fn slot_prog(m: &TailCallMap, index: u32) -> u32 {
    m.slots
        .iter()
        .find(|s| s.index == index)
        .map_or(0, |s| s.prog_id)
}

impl<'a> Graph<'a> {
    pub fn new(tailcalls: &'a [TailCallMap], programs: &[Program]) -> Graph<'a> {
        let by_id: HashMap<u32, &TailCallMap> = tailcalls.iter().map(|m| (m.map_id, m)).collect();
        let mut calls: HashMap<u32, BTreeMap<u32, BTreeSet<Option<u32>>>> = HashMap::new();
        let mut homes: HashMap<u32, BTreeSet<u32>> = HashMap::new();
        let mut names: HashMap<u32, String> = HashMap::new();
        let mut uses: HashMap<u32, BTreeSet<u32>> = HashMap::new();
        for m in tailcalls {
            for site in &m.sites {
                calls
                    .entry(site.prog_id)
                    .or_default()
                    .entry(m.map_id)
                    .or_default()
                    .insert(site.index);
            }
            for s in m.slots.iter().filter(|s| s.prog_id != 0) {
                homes.entry(s.prog_id).or_default().insert(m.map_id);
                uses.entry(s.prog_id)
                    .or_default()
                    .extend(s.calls_maps.iter().filter(|id| by_id.contains_key(id)));
                let n = if s.prog_name.is_empty() {
                    &s.kernel_name
                } else {
                    &s.prog_name
                };
                if !n.is_empty() {
                    names.insert(s.prog_id, n.clone());
                }
            }
        }
        for p in programs {
            let n = if p.name.is_empty() {
                &p.kernel_name
            } else {
                &p.name
            };
            if !n.is_empty() {
                names.insert(p.id, n.clone());
            }
            let arrays: Vec<u32> = p
                .map_ids
                .iter()
                .copied()
                .filter(|id| by_id.contains_key(id))
                .collect();
            if !arrays.is_empty() {
                uses.entry(p.id).or_default().extend(arrays);
            }
        }
        // An array a program uses without a call site found for it: index not known.
        for (prog, arrays) in uses {
            let c = calls.entry(prog).or_default();
            for m in arrays {
                c.entry(m).or_insert_with(|| BTreeSet::from([None]));
            }
        }
        let mut g = Graph {
            by_id,
            calls,
            homes,
            component: HashMap::new(),
            cyclic: HashSet::new(),
            names,
        };
        g.find_cycles();
        g
    }

    /// Programs a program reaches by calls whose slot is known and populated.
    fn known_targets(&self, prog: u32) -> Vec<u32> {
        let mut out = Vec::new();
        for (m, idxs) in self.calls.get(&prog).into_iter().flatten() {
            let Some(map) = self.by_id.get(m) else {
                continue;
            };
            for k in idxs.iter().flatten() {
                let q = slot_prog(map, *k);
                if q != 0 {
                    out.push(q);
                }
            }
        }
        out
    }

    /// Kosaraju's algorithm, iterative (a snapshot is untrusted: no deep recursion).
    fn find_cycles(&mut self) {
        let nodes: BTreeSet<u32> = self
            .calls
            .keys()
            .copied()
            .chain(self.homes.keys().copied())
            .collect();
        let fwd: HashMap<u32, Vec<u32>> =
            nodes.iter().map(|&p| (p, self.known_targets(p))).collect();
        let mut rev: HashMap<u32, Vec<u32>> = HashMap::new();
        for (&p, qs) in &fwd {
            for &q in qs {
                rev.entry(q).or_default().push(p);
            }
        }
        let mut order = Vec::with_capacity(nodes.len());
        let mut seen = HashSet::new();
        for &start in &nodes {
            if !seen.insert(start) {
                continue;
            }
            let mut stack = vec![(start, 0usize)];
            while let Some((p, i)) = stack.pop() {
                let next = fwd.get(&p).and_then(|v| v.get(i)).copied();
                match next {
                    Some(q) => {
                        stack.push((p, i + 1));
                        if seen.insert(q) {
                            stack.push((q, 0));
                        }
                    }
                    None => order.push(p),
                }
            }
        }
        let mut comp: HashMap<u32, usize> = HashMap::new();
        let mut sizes: Vec<usize> = Vec::new();
        for &start in order.iter().rev() {
            if comp.contains_key(&start) {
                continue;
            }
            let c = sizes.len();
            sizes.push(0);
            let mut stack = vec![start];
            comp.insert(start, c);
            while let Some(p) = stack.pop() {
                sizes[c] += 1;
                for &q in rev.get(&p).into_iter().flatten() {
                    if let std::collections::hash_map::Entry::Vacant(e) = comp.entry(q) {
                        e.insert(c);
                        stack.push(q);
                    }
                }
            }
        }
        for (&p, &c) in &comp {
            let self_loop = fwd.get(&p).is_some_and(|v| v.contains(&p));
            if sizes[c] > 1 || self_loop {
                self.cyclic.insert(p);
            }
        }
        self.component = comp;
    }

    /// The program is reachable from itself through calls whose slot is known.
    pub fn reaches_itself(&self, prog: u32) -> bool {
        self.cyclic.contains(&prog)
    }

    /// `to` can get back to `from` (so a call from `from` to `to` closes a cycle).
    pub fn closes_cycle(&self, from: u32, to: u32) -> bool {
        if from == to {
            return true;
        }
        match (self.component.get(&from), self.component.get(&to)) {
            (Some(a), Some(b)) => a == b && self.cyclic.contains(&from),
            _ => false,
        }
    }

    /// The arrays a program tail-calls into, with the index at each call site.
    pub fn calls(&self, prog: u32) -> impl Iterator<Item = (u32, &BTreeSet<Option<u32>>)> {
        self.calls
            .get(&prog)
            .into_iter()
            .flatten()
            .map(|(m, i)| (*m, i))
    }

    pub fn map(&self, map_id: u32) -> Option<&'a TailCallMap> {
        self.by_id.get(&map_id).copied()
    }

    /// The best name known for a program (full BTF name, else the kernel's).
    pub fn prog_name(&self, prog: u32) -> Option<&str> {
        self.names.get(&prog).map(String::as_str)
    }

    /// The endpoint a program works for: the one endpoint of the arrays it sits in or calls
    /// by index (not the endpoint-keyed ones), if exactly one is known.
    pub fn endpoint_of(&self, prog: u32) -> Option<u32> {
        let mut eps = BTreeSet::new();
        let related = self
            .homes
            .get(&prog)
            .into_iter()
            .flatten()
            .copied()
            .chain(self.calls(prog).map(|(m, _)| m));
        for m in related {
            if let Some(map) = self.map(m) {
                if !keyed_by_endpoint(map) {
                    eps.extend(map.endpoint_id);
                }
            }
        }
        match (eps.len(), eps.first()) {
            (1, Some(&ep)) => Some(ep),
            _ => None,
        }
    }

    /// Whether a program works for an endpoint whose id is not known.
    fn endpoint_unknown(&self, prog: u32) -> bool {
        self.endpoint_of(prog).is_none()
            && self
                .calls(prog)
                .filter_map(|(m, _)| self.map(m))
                .any(|m| !keyed_by_endpoint(m) && endpoint_owned(m))
    }

    /// The slot of an endpoint-keyed array a call from `prog` reaches.
    pub fn resolve_keyed(&self, prog: u32, index: Option<u32>) -> (Option<u32>, By) {
        match index {
            Some(k) => (Some(k), By::Static),
            None => match self.endpoint_of(prog) {
                Some(ep) => (Some(ep), By::ThisEndpoint),
                None => (None, By::Unknown),
            },
        }
    }
}

/// Hooks in the order packets meet them.
fn hook_rank(hook: &str) -> (u8, String) {
    let r = match hook {
        "xdp" => 0,
        "tcx_ingress" => 1,
        "tc_ingress" => 2,
        "netkit_primary" => 3,
        "netkit_peer" => 4,
        "tcx_egress" => 5,
        "tc_egress" => 6,
        _ => 7,
    };
    (r, hook.to_string())
}

struct Builder<'g, 'a> {
    g: &'g Graph<'a>,
    shown: HashSet<u32>,
    shown_keyed: HashSet<(u32, u32)>,
}

/// The key of an interface's root line.
pub fn iface_key(ifindex: u32, name: &str) -> String {
    format!("if{ifindex}:{name}")
}

fn idx_key(i: Option<u32>) -> String {
    i.map_or_else(|| "?".to_string(), |k| k.to_string())
}

impl Builder<'_, '_> {
    fn truncated(depth: usize) -> Option<Vec<Node>> {
        (depth >= MAX_DEPTH).then(|| vec![Node::leaf("deeper".into(), Item::Truncated)])
    }

    /// The tail calls of `prog`, which sits in `home` (if anywhere).
    fn prog_calls(&mut self, prog: u32, home: Option<u32>, depth: usize) -> Vec<Node> {
        if let Some(t) = Self::truncated(depth) {
            return t;
        }
        let g = self.g;
        let mut calls: Vec<(u32, Vec<Option<u32>>)> = g
            .calls(prog)
            .map(|(m, i)| (m, i.iter().copied().collect()))
            .collect();
        // The caller's own array first, then by name.
        calls.sort_by_key(|(m, _)| (Some(*m) != home, g.map(*m).map(|x| x.map_name.clone()), *m));
        let mut out = Vec::new();
        let mut keys = HashSet::new();
        for (m, idxs) in calls {
            let Some(map) = g.map(m) else { continue };
            if keyed_by_endpoint(map) {
                for i in idxs {
                    let (index, by) = g.resolve_keyed(prog, i);
                    let key = format!("k{m}:{}", idx_key(index));
                    if !keys.insert(key.clone()) {
                        continue;
                    }
                    let target = index.map_or(0, |k| slot_prog(map, k));
                    let mut node = Node::leaf(
                        key,
                        Item::Keyed {
                            map_id: m,
                            index,
                            by,
                            prog_id: target,
                            seen: false,
                        },
                    );
                    if let (Some(k), true) = (index, target != 0) {
                        node.cycle = by == By::Static && g.closes_cycle(prog, target);
                        if node.cycle || !self.shown_keyed.insert((m, k)) {
                            if let Item::Keyed { seen, .. } = &mut node.item {
                                *seen = true;
                            }
                        } else {
                            node.children = self.prog_calls(target, Some(m), depth + 1);
                        }
                    }
                    out.push(node);
                }
            } else if self.shown.contains(&m) {
                for i in idxs {
                    let target = i.map_or(0, |k| slot_prog(map, k));
                    let mut node = Node::leaf(
                        format!("j{m}:{}", idx_key(i)),
                        Item::Jump {
                            map_id: m,
                            index: i,
                            prog_id: target,
                        },
                    );
                    node.cycle = target != 0 && g.closes_cycle(prog, target);
                    out.push(node);
                }
            } else {
                out.push(self.array(map, idxs, depth + 1));
            }
        }
        out
    }

    /// An array with all its slots (the first time it is met).
    fn array(&mut self, map: &TailCallMap, called_at: Vec<Option<u32>>, depth: usize) -> Node {
        self.shown.insert(map.map_id);
        let mut node = Node::leaf(
            format!("m{}", map.map_id),
            Item::Array {
                map_id: map.map_id,
                called_at,
                remaining: false,
            },
        );
        node.children = match Self::truncated(depth) {
            Some(t) => t,
            None => self.slots(map, |_| true, depth),
        };
        node
    }

    fn slots(&mut self, map: &TailCallMap, want: impl Fn(u32) -> bool, depth: usize) -> Vec<Node> {
        let mut slots: Vec<(u32, u32)> = map
            .slots
            .iter()
            .filter(|s| want(s.index))
            .map(|s| (s.index, s.prog_id))
            .collect();
        slots.sort_unstable();
        slots.dedup_by_key(|s| s.0);
        let keyed = keyed_by_endpoint(map);
        let mut out = Vec::with_capacity(slots.len());
        for (index, prog) in slots {
            let mut n = Node::leaf(
                format!("s{index}"),
                Item::Slot {
                    map_id: map.map_id,
                    index,
                    prog_id: prog,
                },
            );
            if prog != 0 {
                n.cycle = self.g.reaches_itself(prog);
                if keyed {
                    self.shown_keyed.insert((map.map_id, index));
                }
                n.children = self.prog_calls(prog, Some(map.map_id), depth + 1);
            }
            out.push(n);
        }
        out
    }
}

/// The rooted tree of a snapshot's tail calls.
pub fn forest(snap: &Snapshot) -> Vec<Node> {
    forest_first(snap, &|_| false)
}

/// The rooted tree with the interfaces whose root key `first` picks built and listed first
/// (in their usual order), so that what they share with others is expanded under them and
/// later references to it point up. Prog arrays no attach point reaches stay last.
pub fn forest_first(snap: &Snapshot, first: &dyn Fn(&str) -> bool) -> Vec<Node> {
    let g = Graph::new(&snap.tailcalls, &snap.programs);
    let mut b = Builder {
        g: &g,
        shown: HashSet::new(),
        shown_keyed: HashSet::new(),
    };
    let mut roots = Vec::new();

    // Interface → hook → entry program, for programs that tail-call.
    let mut by_if: BTreeMap<(String, u32), Vec<&super::Attachment>> = BTreeMap::new();
    for a in &snap.attachments {
        if g.calls(a.prog_id).next().is_some() {
            by_if
                .entry((a.ifname.clone(), a.ifindex))
                .or_default()
                .push(a);
        }
    }
    let mut by_if: Vec<((String, u32), Vec<&super::Attachment>)> = by_if.into_iter().collect();
    // A stable partition: the picked interfaces first, each group in name order.
    by_if.sort_by_key(|((name, ifindex), _)| !first(&iface_key(*ifindex, name)));
    for ((name, ifindex), mut atts) in by_if {
        atts.sort_by_key(|a| (hook_rank(&a.hook), a.position, a.prog_id));
        let mut iface = Node::leaf(
            iface_key(ifindex, &name),
            Item::Interface {
                ifindex,
                name: name.clone(),
            },
        );
        let mut hooks: Vec<Node> = Vec::new();
        for a in atts {
            let detail = match (a.priority, a.handle, &a.mode) {
                (Some(p), Some(h), _) => Some(format!("pref {p} handle {h:#x}")),
                (Some(p), None, _) => Some(format!("pref {p}")),
                (_, _, Some(m)) if !m.is_empty() => Some(m.clone()),
                _ => None,
            };
            let hook_key = format!("h{}:{}", a.hook, detail.clone().unwrap_or_default());
            if hooks.last().map(|h| &h.key) != Some(&hook_key) {
                hooks.push(Node::leaf(
                    hook_key,
                    Item::Hook {
                        hook: a.hook.clone(),
                        detail,
                    },
                ));
            }
            let mut entry = Node::leaf(
                format!("p{}@{}", a.prog_id, a.position),
                Item::Entry {
                    prog_id: a.prog_id,
                    endpoint: g.endpoint_of(a.prog_id),
                    endpoint_unknown: g.endpoint_unknown(a.prog_id),
                },
            );
            entry.cycle = g.reaches_itself(a.prog_id);
            entry.children = b.prog_calls(a.prog_id, None, 3);
            if let Some(h) = hooks.last_mut() {
                if !h.children.iter().any(|c| c.key == entry.key) {
                    h.children.push(entry);
                }
            }
        }
        iface.children = hooks;
        roots.push(iface);
    }

    // Arrays no attach point reaches: those no other array's programs call first.
    let mut nested: HashSet<u32> = HashSet::new();
    for (prog, homes) in &g.homes {
        for (m, _) in g.calls(*prog) {
            if !homes.contains(&m) {
                nested.insert(m);
            }
        }
    }
    let mut rest: Vec<&TailCallMap> = snap
        .tailcalls
        .iter()
        .filter(|m| !b.shown.contains(&m.map_id))
        .collect();
    rest.sort_by(|x, y| {
        (nested.contains(&x.map_id), &x.map_name, x.map_id).cmp(&(
            nested.contains(&y.map_id),
            &y.map_name,
            y.map_id,
        ))
    });
    let mut group = Node::leaf("unattached".into(), Item::Unattached);
    for m in rest {
        if b.shown.contains(&m.map_id) {
            continue;
        }
        let partly = keyed_by_endpoint(m)
            && m.slots
                .iter()
                .any(|s| b.shown_keyed.contains(&(m.map_id, s.index)));
        if partly {
            let before: HashSet<u32> = m
                .slots
                .iter()
                .filter(|s| b.shown_keyed.contains(&(m.map_id, s.index)))
                .map(|s| s.index)
                .collect();
            if before.len() == m.slots.len() {
                b.shown.insert(m.map_id);
                continue;
            }
            b.shown.insert(m.map_id);
            let mut n = Node::leaf(
                format!("m{}", m.map_id),
                Item::Array {
                    map_id: m.map_id,
                    called_at: Vec::new(),
                    remaining: true,
                },
            );
            n.children = b.slots(m, |i| !before.contains(&i), 2);
            group.children.push(n);
        } else {
            let n = b.array(m, Vec::new(), 1);
            group.children.push(n);
        }
    }
    if !group.children.is_empty() {
        roots.push(group);
    }
    roots
}

/// Depth-first walk: `f(depth, path of keys, node)`.
pub fn walk<'n>(nodes: &'n [Node], f: &mut impl FnMut(usize, &[&'n str], &'n Node)) {
    fn go<'n>(
        nodes: &'n [Node],
        path: &mut Vec<&'n str>,
        f: &mut impl FnMut(usize, &[&'n str], &'n Node),
    ) {
        for n in nodes {
            path.push(&n.key);
            f(path.len() - 1, path, n);
            go(&n.children, path, f);
            path.pop();
        }
    }
    go(nodes, &mut Vec::new(), f);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attachment, TailCallSite, TailCallSlot};

    fn prog(id: u32, name: &str, maps: &[u32]) -> Program {
        Program {
            id,
            name: name.into(),
            kernel_name: name.chars().take(15).collect(),
            map_ids: maps.to_vec(),
            ..Default::default()
        }
    }

    fn array(
        map_id: u32,
        name: &str,
        kind: &str,
        endpoint: Option<u32>,
        slots: &[(u32, u32)],
        sites: &[(u32, Option<u32>)],
    ) -> TailCallMap {
        TailCallMap {
            map_id,
            map_name: name.into(),
            kind: kind.into(),
            endpoint_id: endpoint,
            object: Some("bpf_lxc".into()).filter(|_| name.starts_with("cilium_calls_0")),
            slots: slots
                .iter()
                .map(|&(index, prog_id)| TailCallSlot {
                    index,
                    prog_id,
                    empty: prog_id == 0,
                    ..Default::default()
                })
                .collect(),
            sites: sites
                .iter()
                .map(|&(prog_id, index)| TailCallSite { prog_id, index })
                .collect(),
            ..Default::default()
        }
    }

    fn att(ifindex: u32, ifname: &str, hook: &str, prog_id: u32) -> Attachment {
        Attachment {
            ifindex,
            ifname: ifname.into(),
            hook: hook.into(),
            prog_id,
            ..Default::default()
        }
    }

    fn node() -> Snapshot {
        let mut s = Snapshot::empty();
        s.attachments = vec![
            att(12, "lxc1", "tcx_ingress", 1),
            Attachment {
                priority: Some(1),
                handle: Some(1),
                ..att(2, "eth0", "tc_ingress", 40)
            },
            // Attached but tail-calls nothing: not a root.
            att(2, "eth0", "tcx_egress", 99),
        ];
        s.programs = vec![
            prog(1, "cil_from_container", &[10]),
            prog(2, "tail_handle_ipv4", &[10]),
            prog(3, "tail_handle_ipv4_cont", &[11]),
            prog(4, "tail_ipv4_ct_egress", &[10]),
            prog(5, "cil_lxc_policy", &[10]),
            prog(6, "cil_lxc_policy", &[]),
            prog(7, "tail_ipv4_to_endpoint", &[]),
            prog(8, "loop", &[12]),
            prog(40, "cil_from_netdev", &[13]),
            prog(41, "tail_handle_ipv4_from_netdev", &[11]),
            prog(99, "other", &[]),
        ];
        s.tailcalls = vec![
            array(
                10,
                "cilium_calls_00412",
                "cilium_calls",
                Some(412),
                &[(7, 2), (13, 7), (26, 3), (29, 0), (30, 4)],
                &[
                    (1, Some(7)),
                    (2, Some(29)),
                    (2, Some(30)),
                    (4, Some(26)),
                    (5, Some(13)),
                ],
            ),
            array(
                11,
                "cilium_call_policy",
                "call_policy",
                None,
                &[(412, 5), (1187, 6)],
                &[(3, None), (41, None)],
            ),
            array(12, "jmp", "generic", None, &[(0, 8)], &[(8, Some(0))]),
            array(
                13,
                "cilium_calls_netdev_00002",
                "cilium_calls",
                None,
                &[(7, 41)],
                &[(40, Some(7))],
            ),
        ];
        s
    }

    /// `key item-summary` per line, indented by depth.
    fn outline(nodes: &[Node]) -> Vec<String> {
        let mut out = Vec::new();
        walk(nodes, &mut |depth, _, n| {
            let what = match &n.item {
                Item::Interface { name, .. } => format!("iface {name}"),
                Item::Hook { hook, detail } => format!("hook {hook} {detail:?}"),
                Item::Entry {
                    prog_id,
                    endpoint,
                    endpoint_unknown,
                } => format!("entry {prog_id} ep {endpoint:?} unknown {endpoint_unknown}"),
                Item::Array {
                    map_id,
                    called_at,
                    remaining,
                } => format!("array {map_id} at {called_at:?} rest {remaining}"),
                Item::Slot {
                    map_id,
                    index,
                    prog_id,
                } => format!("slot {map_id}[{index}] {prog_id}"),
                Item::Jump {
                    map_id,
                    index,
                    prog_id,
                } => format!("jump {map_id}[{index:?}] {prog_id}"),
                Item::Keyed {
                    map_id,
                    index,
                    by,
                    prog_id,
                    seen,
                } => format!("keyed {map_id}[{index:?}] {by:?} {prog_id} seen {seen}"),
                Item::Unattached => "unattached".into(),
                Item::Truncated => "truncated".into(),
            };
            let cycle = if n.cycle { " CYCLE" } else { "" };
            out.push(format!("{}{what}{cycle}", "  ".repeat(depth)));
        });
        out
    }

    #[test]
    fn rooted_at_attach_points_with_policy_resolved_and_real_cycles_only() {
        let s = node();
        let got = outline(&forest(&s));
        let want = [
            "iface eth0",
            "  hook tc_ingress Some(\"pref 1 handle 0x1\")",
            "    entry 40 ep None unknown false",
            "      array 13 at [Some(7)] rest false",
            "        slot 13[7] 41",
            // bpf_host's policy call: the index is the packet's endpoint, unknown here.
            "          keyed 11[None] Unknown 0 seen false",
            "iface lxc1",
            "  hook tcx_ingress None",
            "    entry 1 ep Some(412) unknown false",
            "      array 10 at [Some(7)] rest false",
            "        slot 10[7] 2",
            "          jump 10[Some(29)] 0",
            "          jump 10[Some(30)] 4",
            "        slot 10[13] 7",
            "        slot 10[26] 3",
            // The one slot for this endpoint, not every slot, and no cycle.
            "          keyed 11[Some(412)] ThisEndpoint 5 seen false",
            "            jump 10[Some(13)] 7",
            "        slot 10[29] 0",
            "        slot 10[30] 4",
            "          jump 10[Some(26)] 3",
            "unattached",
            "  array 12 at [] rest false",
            "    slot 12[0] 8 CYCLE",
            "      jump 12[Some(0)] 8 CYCLE",
            "  array 11 at [] rest true",
            "    slot 11[1187] 6",
        ];
        assert_eq!(got, want, "\n{}", got.join("\n"));
        let g = Graph::new(&s.tailcalls, &s.programs);
        assert!(g.reaches_itself(8));
        assert!(!g.reaches_itself(2) && !g.reaches_itself(5));
        assert_eq!(g.endpoint_of(5), Some(412));
        assert_eq!(g.prog_name(41), Some("tail_handle_ipv4_from_netdev"));
    }

    #[test]
    fn a_real_cycle_through_two_programs_is_marked_on_both() {
        let mut s = node();
        // tail_ipv4_ct_egress calls back into tail_handle_ipv4's slot.
        s.tailcalls[0].sites.push(TailCallSite {
            prog_id: 4,
            index: Some(7),
        });
        let g = Graph::new(&s.tailcalls, &s.programs);
        assert!(g.reaches_itself(2) && g.reaches_itself(4));
        assert!(!g.reaches_itself(3));
        assert!(g.closes_cycle(4, 2) && g.closes_cycle(2, 4));
        assert!(!g.closes_cycle(4, 3));
        let got = outline(&forest(&s));
        assert!(
            got.contains(&"        slot 10[7] 2 CYCLE".to_string()),
            "{got:#?}"
        );
        assert!(got.contains(&"          jump 10[Some(7)] 2 CYCLE".to_string()));
        assert!(got.contains(&"          jump 10[Some(26)] 3".to_string()));
    }

    #[test]
    fn older_snapshots_without_sites_still_root_and_resolve() {
        let mut s = node();
        for m in &mut s.tailcalls {
            m.sites.clear();
            m.slots.retain(|x| x.prog_id != 0);
        }
        let got = outline(&forest(&s));
        // Calls come from map ids alone: indices are not known statically.
        assert!(
            got.contains(&"          jump 10[None] 0".to_string()),
            "{got:#?}"
        );
        assert!(
            got.contains(&"          keyed 11[Some(412)] ThisEndpoint 5 seen false".to_string())
        );
        assert!(!got.iter().any(|l| l.contains("CYCLE")), "{got:#?}");
    }

    #[test]
    fn an_endpoint_array_of_unknown_id_says_so() {
        let mut s = node();
        s.tailcalls[0].endpoint_id = None;
        let got = outline(&forest(&s));
        assert!(
            got.contains(&"    entry 1 ep None unknown true".to_string()),
            "{got:#?}"
        );
        assert!(got.contains(&"          keyed 11[None] Unknown 0 seen false".to_string()));
    }

    #[test]
    fn deep_chains_are_cut_not_recursed_without_bound() {
        let mut s = Snapshot::empty();
        let n = 5000u32;
        for i in 0..n {
            s.programs.push(prog(100_000 + i, "p", &[i + 1]));
            s.tailcalls.push(array(
                i,
                "chain",
                "generic",
                None,
                &[(0, 100_000 + i)],
                &[(100_000 + i, Some(0))],
            ));
        }
        s.programs.push(prog(1, "entry", &[0]));
        s.attachments.push(att(3, "eth1", "xdp", 1));
        let f = forest(&s);
        let mut max = 0;
        let mut cut = false;
        walk(&f, &mut |d, _, node| {
            max = max.max(d);
            cut |= node.item == Item::Truncated;
        });
        assert!(cut && max <= 2 * MAX_DEPTH + 4, "{max}");
    }
}
