//! Attachments pane: a tree per interface → hook → programs in run order, flagging stacked and
//! likely stale programs; then the other BPF links (cgroup, tracing, netfilter...) with targets.

use super::baseline::Baseline;
use super::format;
use super::order::{Memo, Order};
use super::plain::PlainTable;
use super::tree::{filter, flatten, pin_marked};
use super::{Ctx, Pane, RowKey, TableView, Target};
use crate::model::{Attachment, LinkInfo, PaneId, Snapshot};
use crate::text;

/// Hooks in the order packets meet them (tcx programs run before legacy tc filters).
const HOOKS: &[(&str, &str)] = &[
    ("xdp", "xdp"),
    ("tcx_ingress", "tcx ingress"),
    ("tc_ingress", "tc ingress"),
    ("netkit_primary", "netkit primary"),
    ("netkit_peer", "netkit peer"),
    ("tcx_egress", "tcx egress"),
    ("tc_egress", "tc egress"),
];

fn hook_rank(h: &str) -> usize {
    HOOKS
        .iter()
        .position(|(k, _)| *k == h)
        .unwrap_or(HOOKS.len())
}

pub fn hook_label(h: &str) -> String {
    HOOKS
        .iter()
        .find(|(k, _)| *k == h)
        .map_or_else(|| h.replace('_', " "), |(_, l)| (*l).to_string())
}

/// A line of the attachments tree; `data` is the program id of program lines.
pub type Node = super::tree::Node<u32>;

fn name_of(prog: &str, id: u32, snap: &Snapshot) -> String {
    if !prog.is_empty() {
        // The kernel name may be truncated; prefer the full one the programs list has.
        if let Some(p) = snap.program(id) {
            if !p.name.is_empty() {
                return p.name.clone();
            }
        }
        return prog.to_string();
    }
    snap.program(id).map(|p| p.name.clone()).unwrap_or_default()
}

pub fn attachment_detail(a: &Attachment) -> String {
    let mut parts = Vec::new();
    if let Some(m) = &a.mode {
        parts.push(format!("mode {m}"));
    }
    if let Some(p) = a.priority {
        parts.push(format!("pref {p}"));
    }
    if let Some(h) = a.handle {
        parts.push(format!("handle 0x{h:x}"));
    }
    if a.direct_action == Some(true) {
        parts.push("da".into());
    }
    if let Some(l) = a.link_id {
        parts.push(format!("link {l}"));
    }
    parts.join(" ")
}

pub fn attachment_flags(a: &Attachment) -> String {
    let is_stale_note = |w: &str| w.contains("stale") || w.contains("older");
    let mut f = Vec::new();
    if a.warnings.iter().any(|w| w.contains("stack")) {
        f.push(text::STACKED.to_string());
    }
    let rest: Vec<&str> = a
        .warnings
        .iter()
        .filter(|w| !(w.contains("stack") || (a.likely_stale && is_stale_note(w))))
        .map(String::as_str)
        .collect();
    if !rest.is_empty() {
        f.push(format!("⚠ {}", rest.join("; ")));
    }
    if a.likely_stale {
        let why = a
            .warnings
            .iter()
            .find(|w| is_stale_note(w))
            .map(|w| {
                w.trim_start_matches("likely stale")
                    .trim_start_matches([':', ' '])
                    .to_string()
            })
            .unwrap_or_else(|| text::STALE_DEFAULT.into());
        f.push(format!("{} {why}", text::STALE));
    }
    f.join("  ")
}

pub fn link_target(l: &LinkInfo) -> String {
    let at = if l.attach_type.is_empty() {
        String::new()
    } else {
        format!("{} ", l.attach_type)
    };
    format!(
        "{at}{}",
        if l.target.is_empty() {
            format::NONE
        } else {
            &l.target
        }
    )
}

/// The whole tree, unfiltered.
pub fn build(snap: &Snapshot) -> Vec<Node> {
    let mut atts: Vec<&Attachment> = snap.attachments.iter().collect();
    atts.sort_by(|a, b| {
        (
            a.ifindex,
            &a.ifname,
            hook_rank(&a.hook),
            &a.hook,
            a.position,
            a.prog_id,
        )
            .cmp(&(
                b.ifindex,
                &b.ifname,
                hook_rank(&b.hook),
                &b.hook,
                b.position,
                b.prog_id,
            ))
    });
    let mut roots: Vec<Node> = Vec::new();
    for a in atts {
        let if_id = format!("if{}", a.ifindex);
        if roots.last().map(|r| &r.ids[0]) != Some(&if_id) {
            roots.push(Node {
                ids: vec![if_id.clone()],
                text: format!("{} (ifindex {})", a.ifname, a.ifindex),
                flags: String::new(),
                data: None,
                children: Vec::new(),
            });
        }
        let Some(iface) = roots.last_mut() else {
            continue;
        };
        if iface.children.last().map(|h| &h.ids[1]) != Some(&a.hook) {
            iface.children.push(Node {
                ids: vec![if_id.clone(), a.hook.clone()],
                text: hook_label(&a.hook),
                flags: String::new(),
                data: None,
                children: Vec::new(),
            });
        }
        let Some(hook) = iface.children.last_mut() else {
            continue;
        };
        let detail = attachment_detail(a);
        // The program id, not the position: a program keeps its selection and mark when
        // another is inserted ahead of it. The same program twice on a hook (legacy tc at two
        // prefs) gets `~2`, `~3`... in run order.
        let mut leaf_id = format!("p{}", a.prog_id);
        let repeats = hook
            .children
            .iter()
            .filter(|c| c.data == Some(a.prog_id))
            .count();
        if repeats > 0 {
            leaf_id = format!("{leaf_id}~{}", repeats + 1);
        }
        hook.children.push(Node {
            ids: vec![if_id, a.hook.clone(), leaf_id],
            text: format!(
                "#{} {} id {} {}",
                a.position,
                name_of(&a.prog_name, a.prog_id, snap),
                a.prog_id,
                detail
            )
            .trim_end()
            .to_string(),
            flags: attachment_flags(a),
            data: Some(a.prog_id),
            children: Vec::new(),
        });
    }
    // Summaries on hooks and interfaces, so a collapsed or scrolled view still shows problems.
    for iface in &mut roots {
        let mut bad = 0;
        for hook in &mut iface.children {
            let n = hook.children.len();
            hook.text = format!(
                "{} ({n} program{})",
                hook.text,
                if n == 1 { "" } else { "s" }
            );
            let flagged = hook.children.iter().filter(|c| !c.flags.is_empty()).count();
            if flagged > 0 {
                hook.flags = format!("⚠ {flagged} flagged");
                bad += flagged;
            }
        }
        if bad > 0 {
            iface.flags = format!("⚠ {bad} flagged");
        }
    }
    // The node's links, then dpscope's own (its probes), kept out of the way at the end.
    let own = |l: &LinkInfo| snap.program(l.prog_id).is_some_and(|p| p.dpscope_owned);
    let (mine, theirs): (Vec<&LinkInfo>, Vec<&LinkInfo>) = snap.links.iter().partition(|l| own(l));
    for (root, title, mut links) in [
        ("links", text::OTHER_LINKS, theirs),
        ("own-links", text::OWN_LINKS, mine),
    ] {
        if links.is_empty() {
            continue;
        }
        links.sort_by(|a, b| (&a.link_type, a.id).cmp(&(&b.link_type, b.id)));
        let mut section = Node {
            ids: vec![root.into()],
            text: format!("{title} ({})", links.len()),
            flags: String::new(),
            data: None,
            children: Vec::new(),
        };
        for l in links {
            if section.children.last().map(|g| &g.ids[1]) != Some(&l.link_type) {
                section.children.push(Node {
                    ids: vec![root.into(), l.link_type.clone()],
                    text: l.link_type.clone(),
                    flags: String::new(),
                    data: None,
                    children: Vec::new(),
                });
            }
            if let Some(g) = section.children.last_mut() {
                g.children.push(Node {
                    ids: vec![root.into(), l.link_type.clone(), format!("l{}", l.id)],
                    text: format!(
                        "link {} → {} id {}  target {}",
                        l.id,
                        name_of(&l.prog_name, l.prog_id, snap),
                        l.prog_id,
                        link_target(l)
                    ),
                    flags: String::new(),
                    data: Some(l.prog_id),
                    children: Vec::new(),
                });
            }
        }
        roots.push(section);
    }
    roots
}

/// The tree as shown: marked subtrees pinned on top, baseline markers, the filter.
pub fn visible(ctx: &Ctx, view: &TableView) -> Vec<Node> {
    let mut nodes = pin_marked(build(ctx.snap), &view.marked);
    if let Some(b) = ctx.baseline {
        nodes = mark_changes(nodes, b);
    }
    filter(nodes, &view.filter)
}

/// Prefix attachments new (`+`) or moved (`~`) since the baseline; with "changes only", keep
/// just those (and the interfaces and hooks they are on).
fn mark_changes(nodes: Vec<Node>, b: &Baseline) -> Vec<Node> {
    nodes
        .into_iter()
        .filter_map(|mut iface| {
            let ifindex = iface
                .ids
                .first()
                .and_then(|id| id.strip_prefix("if"))
                .and_then(|n| n.parse::<u32>().ok());
            let Some(ifindex) = ifindex else {
                // Other BPF links: not compared.
                return (!b.changes_only).then_some(iface);
            };
            iface.children = std::mem::take(&mut iface.children)
                .into_iter()
                .filter_map(|mut hook| {
                    let hook_name = hook.ids.get(1).cloned().unwrap_or_default();
                    hook.children = std::mem::take(&mut hook.children)
                        .into_iter()
                        .filter_map(|mut leaf| {
                            let key = crate::model::diff::attachment_key(&Attachment {
                                ifindex,
                                hook: hook_name.clone(),
                                prog_id: leaf.data.unwrap_or_default(),
                                ..Default::default()
                            });
                            match b.mark(PaneId::Attachments, key) {
                                Some(m) => {
                                    leaf.text = format!("{} {}", m.marker(), leaf.text);
                                    Some(leaf)
                                }
                                None => (!b.changes_only).then_some(leaf),
                            }
                        })
                        .collect();
                    (!hook.children.is_empty()).then_some(hook)
                })
                .collect();
            (!iface.children.is_empty()).then_some(iface)
        })
        .collect()
}

/// Objects the tab counts: attachments and other links.
fn count(s: &Snapshot) -> usize {
    s.attachments.len() + s.links.len()
}

/// Full warnings of the attachment behind a tree line (empty for other lines).
pub fn warnings_of(snap: &Snapshot, sel: &Node) -> Vec<String> {
    let (Some(prog), Some(hook)) = (sel.data, sel.ids.get(1)) else {
        return Vec::new();
    };
    snap.attachments
        .iter()
        .find(|a| a.prog_id == prog && &a.hook == hook && sel.ids[0] == format!("if{}", a.ifindex))
        .map(|a| a.warnings.clone())
        .unwrap_or_default()
}

/// Attachments: a tree per interface → hook → programs, then the other links.
pub struct Attachments;

pub static PANE: Attachments = Attachments;

impl Pane for Attachments {
    fn id(&self) -> PaneId {
        PaneId::Attachments
    }

    fn title(&self) -> &'static str {
        "Attachments"
    }

    fn count(&self, ctx: &Ctx) -> usize {
        count(ctx.snap)
    }

    fn order(&self, ctx: &Ctx, view: &TableView, _: &mut Memo) -> Order {
        super::tree::order(&visible(ctx, view))
    }

    fn open(&self, ctx: &Ctx, _: &TableView, key: &RowKey) -> Option<Target> {
        let mut flat = Vec::new();
        flatten(&build(ctx.snap), &mut flat);
        flat.iter()
            .find(|n| n.key() == *key)
            .and_then(|n| n.data)
            .map(Target::Program)
    }

    fn plain(&self, ctx: &Ctx, view: &TableView) -> PlainTable {
        plain(ctx.snap, view)
    }

    /// The objects the pane shows: the per-interface attachments and the other BPF links, as
    /// `{"attachments": [...], "links": [...]}` (`show attachments --json`, `show links
    /// --json`).
    fn json(&self, s: &Snapshot, w: &mut dyn std::io::Write) -> serde_json::Result<()> {
        #[derive(serde::Serialize)]
        struct Both<'a> {
            attachments: &'a [Attachment],
            links: &'a [LinkInfo],
        }
        super::json(
            w,
            &Both {
                attachments: &s.attachments,
                links: &s.links,
            },
        )
    }
}

/// Flat table for `show attachments`: interface hooks first (tree order), then other links;
/// the rows of a marked subtree (an interface, or the links) first, as on screen.
fn plain(snap: &Snapshot, view: &TableView) -> PlainTable {
    let pinned = super::tree::pinned_roots(&build(snap), &view.marked);
    let is_pinned = |root: String| pinned.contains(&RowKey::Path(root));
    let mut rows: Vec<(bool, Vec<String>)> = Vec::new();
    let mut atts: Vec<&Attachment> = snap.attachments.iter().collect();
    atts.sort_by(|a, b| {
        (a.ifindex, hook_rank(&a.hook), &a.hook, a.position).cmp(&(
            b.ifindex,
            hook_rank(&b.hook),
            &b.hook,
            b.position,
        ))
    });
    for a in atts {
        rows.push((
            is_pinned(format!("if{}", a.ifindex)),
            vec![
                a.ifname.clone(),
                hook_label(&a.hook),
                a.position.to_string(),
                a.prog_id.to_string(),
                name_of(&a.prog_name, a.prog_id, snap),
                attachment_detail(a),
                attachment_flags(a),
            ],
        ));
    }
    let mut links: Vec<&LinkInfo> = snap.links.iter().collect();
    links.sort_by(|a, b| (&a.link_type, a.id).cmp(&(&b.link_type, b.id)));
    let links_pinned = is_pinned("links".into());
    for l in links {
        rows.push((
            links_pinned,
            vec![
                link_target(l),
                format!("link {}", l.link_type),
                format::NONE.into(),
                l.prog_id.to_string(),
                name_of(&l.prog_name, l.prog_id, snap),
                format!("link {}", l.id),
                String::new(),
            ],
        ));
    }
    // A stable sort: pinned rows first, each group in tree order.
    rows.sort_by_key(|(p, _)| !p);
    PlainTable {
        headers: ["TARGET", "HOOK", "POS", "PROG", "NAME", "DETAILS", "FLAGS"]
            .map(String::from)
            .to_vec(),
        rows: rows.into_iter().map(|(_, r)| r).collect(),
        right: vec![false, false, true, true, false, false, false],
    }
}
