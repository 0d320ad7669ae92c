//! The Tail calls tree: prog array → slots → programs → the arrays they call into.

use super::theme::Theme;
use crate::app::mouse::Hits;
use crate::app::state::App;
use crate::pane::tailcalls::{self, Node};
use crate::pane::tree::flatten;
use crate::pane::{cilium, Pane};
use crate::text;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::Frame;
use tui_tree_widget::{Tree, TreeItem, TreeState};

fn flag_style(n: &Node, theme: &Theme) -> ratatui::style::Style {
    if n.flags == text::SHOWN_ABOVE {
        theme.dim()
    } else {
        theme.warn()
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, hits: &mut Hits) {
    let snap = &app.snapshot;
    let view = app.view();
    let nodes = tailcalls::visible(snap, view);
    let mut flat = Vec::new();
    flatten(&nodes, &mut flat);
    let total = tailcalls::PANE.count(&app.ctx());
    let mut title = super::table_title("Tail calls", nodes.len(), total, &view.filter);
    title.push_str(&cilium::layout_suffix(snap));
    let title = Line::from(title);
    if snap.tailcalls.is_empty() {
        super::cilium::draw_empty(frame, area, title, snap, "tailcalls", app, theme);
        return;
    }
    if flat.is_empty() {
        super::empty_state(frame, area, title, text::NO_MATCH, theme, false);
        return;
    }
    let items: Vec<TreeItem<String>> = nodes
        .iter()
        .map(|n| super::tree::item(n, theme, &view.marked, flag_style))
        .collect();
    let mut state = TreeState::default();
    for n in &flat {
        state.open(n.ids.clone());
    }
    let cursor = app.shown();
    let selected = cursor
        .order
        .keys
        .get(cursor.selected)
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
            super::hits::tree_rows(hits, area, &state);
        }
        Err(e) => super::empty_state(frame, area, title, &e.to_string(), theme, true),
    }
}
