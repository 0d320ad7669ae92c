//! The Services table: a frontend per row; an open frontend (Enter, `l`/→) shows its backends
//! per slot with their state under it.

use super::theme::Theme;
use crate::app::mouse::Hits;
use crate::app::state::App;
use crate::model::ServiceBackend;
use crate::pane::services::{backend_state, backend_text, COLUMNS, TABLE};
use crate::pane::table::Emphasis;
use crate::pane::{cilium, RowRef};
use crate::text;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, HighlightSpacing, Row, Table, TableState};
use ratatui::Frame;

/// A backend under its frontend: slot, address, then the state word in the backends column
/// (words, not only colour).
/// A backend row's cells under the frontend's columns: its slot under FRONTEND, its address
/// under ADDRESSES (under TYPE / FLAGS when ADDRESSES is not shown), its state and id under
/// BACKENDS.
fn backend_cells(b: &ServiceBackend, cols: &[usize], last: bool) -> Vec<(String, Emphasis)> {
    let state = backend_state(b);
    let emphasis = if state == "active" {
        Emphasis::Normal
    } else {
        Emphasis::Warn
    };
    let branch = if last { "└" } else { "├" };
    let has = |h: &str| cols.iter().any(|&c| COLUMNS[c].header == h);
    let address_under = if has("ADDRESSES") {
        "ADDRESSES"
    } else {
        "TYPE / FLAGS"
    };
    cols.iter()
        .map(|&c| match COLUMNS[c].header {
            "FRONTEND" => (format!(" {branch} slot {}", b.slot), Emphasis::Normal),
            "BACKENDS" => (format!("[{state}] id {}", b.backend_id), emphasis),
            h if h == address_under => (backend_text(b), Emphasis::Normal),
            _ => (String::new(), Emphasis::Normal),
        })
        .collect()
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, hits: &mut Hits) {
    let snap = &app.snapshot;
    let view = app.view();
    let c = app.ctx();
    let cursor = app.shown();
    let rows = &cursor.order;
    let fronts = rows.rows().filter(|r| matches!(r, RowRef::Row(_))).count();
    let mut title = super::table_title("Services", fronts, snap.services.len(), &view.filter);
    if c.baseline.is_some_and(|b| b.changes_only) {
        title = format!(
            " Services ({fronts} of {}) changed since baseline ",
            snap.services.len()
        );
    }
    title.push_str(text::SERVICES_KEYS);
    title.push_str(&cilium::layout_suffix(snap, "services"));
    let title = Line::from(title);
    if snap.services.is_empty() {
        super::cilium::draw_empty(frame, area, title, snap, "services", app, theme);
        return;
    }
    if rows.is_empty() {
        super::empty_state(frame, area, title, text::NO_MATCH, theme, false);
        return;
    }
    let sel = cursor.selected.min(rows.len() - 1);
    let height = usize::from(area.height.saturating_sub(3)).max(1);
    let offset = crate::pane::view::scroll_to(view.offset, sel, height, rows.len());
    // With a baseline, a marker column first: `+` new, `~` backends changed since it.
    let marked = c.baseline.is_some();
    let heads = TABLE.heads();
    let cols = crate::pane::table::visible_columns(
        &heads,
        area.width.saturating_sub(if marked { 6 } else { 4 }),
    );
    let window = offset..(offset + height).min(rows.len());
    let texts: Vec<Vec<(String, Emphasis)>> = rows
        .rows_in(window.clone())
        .map(|l| match l {
            RowRef::Row(i) => TABLE.text(&snap.services[i], &c, &cols),
            RowRef::Child(i, j) => {
                let s = &snap.services[i];
                let last = s.backends.iter().all(|b| b.slot <= s.backends[j].slot);
                backend_cells(&s.backends[j], &cols, last)
            }
        })
        .collect();
    let sorted = Some(TABLE.sort(view));
    let want = super::table::wants(
        &heads,
        &cols,
        sorted,
        texts
            .iter()
            .map(|r| r.iter().map(|(t, _)| t.as_str()).collect()),
    );
    let fitted = crate::pane::table::fit_widths(
        &heads,
        &cols,
        &want,
        super::table::cell_space(area, 2 * u16::from(marked), cols.len(), 1),
    );
    let body: Vec<Row> = rows
        .rows_in(window.clone())
        .zip(texts)
        .map(|(l, texts)| {
            let mut cells = super::table::row_cells(&heads, &cols, &fitted, texts, theme);
            if marked {
                let m = match l {
                    RowRef::Row(i) => TABLE.marker(&snap.services[i], &c).unwrap_or(' '),
                    RowRef::Child(..) => ' ',
                };
                cells.insert(0, Cell::from(m.to_string()));
            }
            Row::new(cells)
        })
        .collect();
    let mut head = super::table::header_cells(&heads, &cols, &fitted, sorted);
    let mut widths = super::table::widths(&fitted);
    if marked {
        head.insert(0, Cell::from(" "));
        widths.insert(0, Constraint::Length(1));
    }
    let table = Table::new(body, widths)
        .header(Row::new(head).style(theme.table_header()))
        .column_spacing(1)
        .row_highlight_style(theme.selected())
        .highlight_symbol("▶")
        .highlight_spacing(HighlightSpacing::Always)
        .block(super::block(title, theme));
    let mut state = TableState::default().with_selected(Some(sel - offset));
    frame.render_stateful_widget(table, area, &mut state);
    super::hits::table_rows(hits, area, 1, 1, offset, rows.keys_in(window));
}
