//! The Policy pane: endpoints with a policy map on the left (`<`/`>` step through them), the
//! selected endpoint's entries as a table on the right.

use super::theme::Theme;
use crate::app::mouse::Hits;
use crate::app::state::App;
use crate::pane::cilium;
use crate::pane::policy::{endpoint_ids, endpoint_label, selected_endpoint, ENTRIES};
use crate::pane::table::TableText;
use crate::text;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{List, ListItem, ListState};
use ratatui::Frame;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, hits: &mut Hits) {
    let snap = &app.snapshot;
    let legend = cilium::layout_suffix(snap, "policy");
    if snap.policy.is_empty() {
        let mut title = super::table_title("Policy", 0, 0, &app.view().filter);
        title.push_str(&legend);
        super::cilium::draw_empty(frame, area, Line::from(title), snap, "policy", app, theme);
        return;
    }
    let ids = endpoint_ids(snap);
    let ep = selected_endpoint(snap, app.view());
    let [left, right] =
        Layout::horizontal([Constraint::Length(22), Constraint::Min(20)]).areas(area);
    let items: Vec<ListItem> = ids
        .iter()
        .map(|&id| {
            let n = snap.policy.iter().filter(|e| e.endpoint_id == id).count();
            ListItem::new(Line::from(format!("{} ({n})", endpoint_label(snap, id))))
        })
        .collect();
    let mut state =
        ListState::default().with_selected(ep.and_then(|e| ids.iter().position(|i| *i == e)));
    let list = List::new(items)
        .block(super::block(
            format!(" Endpoints {} ", text::POLICY_KEYS),
            theme,
        ))
        .highlight_style(theme.selected())
        .highlight_symbol("▸");
    frame.render_stateful_widget(list, left, &mut state);
    let name = match ep {
        Some(id) => format!("Policy · endpoint {}", endpoint_label(snap, id)),
        None => "Policy".into(),
    };
    let total = snap
        .policy
        .iter()
        .filter(|e| Some(e.endpoint_id) == ep)
        .count();
    let cursor = app.shown();
    let framing = super::table::Framing {
        name: &name,
        total,
        legend: &legend,
        empty: text::NO_POLICY_ENTRIES,
        empty_warn: false,
    };
    super::table::draw(
        frame,
        right,
        theme,
        hits,
        &app.ctx(),
        app.view(),
        &cursor.order,
        cursor.selected,
        &ENTRIES as &dyn TableText,
        &framing,
    );
}
