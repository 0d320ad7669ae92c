//! Attachments pane: a tree per interface → hook → programs in run order, flagging stacked and
//! likely stale programs; then the other BPF links (cgroup, tracing, netfilter...) with targets.

use super::format;
use super::plain::PlainTable;
use super::registry::PaneDef;
use super::text;
use super::theme::Theme;
use crate::app::state::{App, RowKey};
use crate::app::update::Target;
use crate::model::{Attachment, LinkInfo, PaneId, Snapshot};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;
use tui_tree_widget::{Tree, TreeItem, TreeState};

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
    if !snap.links.is_empty() {
        let mut links: Vec<&LinkInfo> = snap.links.iter().collect();
        links.sort_by(|a, b| (&a.link_type, a.id).cmp(&(&b.link_type, b.id)));
        let mut section = Node {
            ids: vec!["links".into()],
            text: format!("{} ({})", text::OTHER_LINKS, links.len()),
            flags: String::new(),
            data: None,
            children: Vec::new(),
        };
        for l in links {
            if section.children.last().map(|g| &g.ids[1]) != Some(&l.link_type) {
                section.children.push(Node {
                    ids: vec!["links".into(), l.link_type.clone()],
                    text: l.link_type.clone(),
                    flags: String::new(),
                    data: None,
                    children: Vec::new(),
                });
            }
            if let Some(g) = section.children.last_mut() {
                g.children.push(Node {
                    ids: vec!["links".into(), l.link_type.clone(), format!("l{}", l.id)],
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

pub use super::tree::{filter, flatten, pin_marked};

/// The tree as shown: marked subtrees pinned on top, baseline markers, the filter.
fn visible(app: &App) -> Vec<Node> {
    let mut nodes = pin_marked(build(&app.snapshot), &app.view().marked);
    if let Some(b) = &app.baseline {
        nodes = mark_changes(nodes, b);
    }
    filter(nodes, &app.view().filter)
}

/// Prefix attachments new (`+`) or moved (`~`) since the baseline; with "changes only", keep
/// just those (and the interfaces and hooks they are on).
fn mark_changes(nodes: Vec<Node>, b: &crate::app::state::Baseline) -> Vec<Node> {
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

fn keys(app: &App) -> Vec<RowKey> {
    let mut flat = Vec::new();
    flatten(&visible(app), &mut flat);
    flat.iter().map(Node::key).collect()
}

fn open(app: &App, key: &RowKey) -> Option<Target> {
    let mut flat = Vec::new();
    flatten(&build(&app.snapshot), &mut flat);
    flat.iter()
        .find(|n| n.key() == *key)
        .and_then(|n| n.data)
        .map(Target::Program)
}

fn flag_style(_: &Node, theme: &Theme) -> ratatui::style::Style {
    theme.warn()
}

fn count(s: &Snapshot) -> usize {
    s.attachments.len() + s.links.len()
}

fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let total = count(&app.snapshot);
    let nodes = visible(app);
    let mut flat = Vec::new();
    flatten(&nodes, &mut flat);
    let shown = flat.iter().filter(|n| n.data.is_some()).count();
    let title = Line::from(super::table_title(
        "Attachments",
        shown,
        total,
        &app.view().filter,
    ));
    if total == 0 {
        let msg = match app.snapshot.unavailable_reason("attachments") {
            Some(r) => text::unavailable("attachments", r),
            None if app.waiting => text::WAITING.into(),
            None => text::NO_ATTACHMENTS.into(),
        };
        let warn = app.snapshot.unavailable_reason("attachments").is_some();
        super::empty_state(frame, area, title, &msg, theme, warn);
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
        if n.ids.len() < 3 || n.ids[0] == "links" {
            state.open(n.ids.clone());
        }
    }
    let selected = app
        .view()
        .selected
        .as_ref()
        .and_then(|k| flat.iter().find(|n| n.key() == *k))
        .unwrap_or(&flat[0]);
    state.select(selected.ids.clone());
    // The selected row's warnings in full: tree rows cut long reasons at the screen edge, and
    // "why is this one flagged STALE?" is the question the pane exists to answer.
    let notes = selected_warnings(app, selected);
    let area = if notes.is_empty() {
        area
    } else {
        let h = (notes.len() as u16 + 2).min(area.height / 3).max(3);
        let [tree_area, notes_area] = ratatui::layout::Layout::vertical([
            ratatui::layout::Constraint::Min(3),
            ratatui::layout::Constraint::Length(h),
        ])
        .areas(area);
        let lines: Vec<Line> = notes
            .iter()
            .map(|n| Line::from(Span::styled(format!("⚠ {n}"), theme.warn())))
            .collect();
        let para = ratatui::widgets::Paragraph::new(lines)
            .wrap(ratatui::widgets::Wrap { trim: true })
            .block(super::block(Line::from(text::ATTACHMENT_NOTES), theme));
        frame.render_widget(para, notes_area);
        tree_area
    };
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

/// Full warnings of the attachment behind the selected tree row (empty for other rows).
fn selected_warnings(app: &App, sel: &Node) -> Vec<String> {
    let (Some(prog), Some(hook)) = (sel.data, sel.ids.get(1)) else {
        return Vec::new();
    };
    app.snapshot
        .attachments
        .iter()
        .find(|a| a.prog_id == prog && &a.hook == hook && sel.ids[0] == format!("if{}", a.ifindex))
        .map(|a| a.warnings.clone())
        .unwrap_or_default()
}

/// Flat table for `show attachments`: interface hooks first (tree order), then other links;
/// the rows of a marked subtree (an interface, or the links) first, as on screen.
fn plain(
    snap: &Snapshot,
    _prev: Option<&Snapshot>,
    view: &crate::app::state::TableView,
) -> PlainTable {
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

/// The objects the pane shows: the per-interface attachments and the other BPF links, as
/// `{"attachments": [...], "links": [...]}` (`show attachments --json`, `show links --json`).
fn json(s: &Snapshot, w: &mut dyn std::io::Write) -> serde_json::Result<()> {
    #[derive(serde::Serialize)]
    struct Both<'a> {
        attachments: &'a [Attachment],
        links: &'a [LinkInfo],
    }
    super::registry::json(
        w,
        &Both {
            attachments: &s.attachments,
            links: &s.links,
        },
    )
}

pub const PANE: PaneDef = PaneDef {
    id: PaneId::Attachments,
    title: "Attachments",
    count,
    columns: 0,
    default_sort: 0,
    default_desc: false,
    keys,
    open,
    draw,
    groups: super::registry::no_groups,
    plain,
    json,
    probes: &[],
};
