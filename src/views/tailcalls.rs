//! The Tail calls tree: interface → hook → entry program → prog arrays → slots → programs →
//! their calls (`pane::tailcalls`).

use super::theme::Theme;
use crate::app::mouse::Hits;
use crate::app::state::App;
use crate::pane::tailcalls::{self, Node};
use crate::pane::tree::flatten;
use crate::pane::{cilium, Pane};
use crate::text;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::StatefulWidget;
use ratatui::Frame;
use tui_tree_widget::{Tree, TreeItem, TreeState};

/// A cycle or an empty called slot is a warning; the other notes (`↑ shown above`, `this
/// endpoint`, `index not known statically`) explain.
fn flag_style(n: &Node, theme: &Theme) -> ratatui::style::Style {
    if n.flags.contains(text::CYCLE) || n.flags.contains(text::CALLED_EMPTY) {
        theme.warn()
    } else {
        theme.dim()
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
    title.push_str(&cilium::layout_suffix(snap, "tailcalls"));
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
        .map(|n| super::tree::item_in(n, theme, &view.marked, flag_style, area.width))
        .collect();
    let mut state = TreeState::default();
    for n in &flat {
        state.open(n.ids.clone());
    }
    let cursor = app.shown();
    let selected = cursor
        .order
        .key(cursor.selected)
        .and_then(|k| flat.iter().find(|n| n.key() == k))
        .unwrap_or(&flat[0]);
    // The first line shown is the view's (kept while the cursor moves inside the viewport, and
    // by a click), moved only as far as the selected line needs: the tree is taller than the
    // screen on a real node.
    let sel = flat.iter().position(|n| n.ids == selected.ids).unwrap_or(0);
    let height = usize::from(area.height.saturating_sub(2)).max(1);
    let offset = crate::pane::view::scroll_to(view.offset, sel, height, flat.len());
    match Tree::new(&items) {
        Ok(tree) => {
            let tree = tree
                .block(super::block(title, theme))
                .highlight_style(theme.selected())
                .highlight_symbol("▶");
            // TreeState keeps its offset private and clamps scrolling to what it last drew:
            // draw once into a scratch buffer, then scroll to the offset.
            let mut scratch = Buffer::empty(area);
            StatefulWidget::render(tree.clone(), area, &mut scratch, &mut state);
            state.scroll_up(usize::MAX);
            state.scroll_down(offset);
            state.select(selected.ids.clone());
            frame.render_stateful_widget(tree, area, &mut state);
            super::hits::tree_rows(hits, area, &state);
        }
        Err(e) => super::empty_state(frame, area, title, &e.to_string(), theme, true),
    }
}
