//! The Attachments tree: interface → hook → programs in run order, then the other BPF links;
//! the selected attachment's warnings in full below it.

use super::theme::Theme;
use crate::app::mouse::Hits;
use crate::app::state::App;
use crate::model::PaneId;
use crate::pane::attachments::{self, Node};
use crate::pane::tree::flatten;
use crate::text;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;
use tui_tree_widget::{Tree, TreeItem, TreeState};

fn flag_style(_: &Node, theme: &Theme) -> ratatui::style::Style {
    theme.warn()
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, hits: &mut Hits) {
    let ctx = app.ctx();
    let view = app.view();
    let total = crate::pane::get(PaneId::Attachments).count(&ctx);
    let nodes = attachments::visible(&ctx, view);
    let mut flat = Vec::new();
    flatten(&nodes, &mut flat);
    let shown = flat.iter().filter(|n| n.data.is_some()).count();
    let title = Line::from(super::table_title(
        "Attachments",
        shown,
        total,
        &view.filter,
    ));
    if total == 0 {
        let (msg, warn) = super::empty_text(&ctx, PaneId::Attachments, text::NO_ATTACHMENTS);
        super::empty_state(frame, area, title, &msg, theme, warn);
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
        if n.ids.len() < 3 || n.ids[0] == "links" {
            state.open(n.ids.clone());
        }
    }
    let cursor = app.shown();
    let selected = cursor
        .order
        .key(cursor.selected)
        .and_then(|k| flat.iter().find(|n| n.key() == k))
        .unwrap_or(&flat[0]);
    state.select(selected.ids.clone());
    // The selected row's warnings in full: tree rows cut long reasons at the screen edge, and
    // "why is this one flagged STALE?" is the question the pane exists to answer.
    let notes = attachments::warnings_of(ctx.snap, selected);
    let area = if notes.is_empty() {
        area
    } else {
        let h = (notes.len() as u16 + 2).min(area.height / 3).max(3);
        let [tree_area, notes_area] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(h)]).areas(area);
        let lines: Vec<Line> = notes
            .iter()
            .map(|n| Line::from(Span::styled(format!("⚠ {n}"), theme.warn())))
            .collect();
        let para = Paragraph::new(lines)
            .wrap(Wrap { trim: true })
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
            super::hits::tree_rows(hits, area, &state);
        }
        Err(e) => super::empty_state(frame, area, title, &e.to_string(), theme, true),
    }
}
