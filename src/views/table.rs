//! Drawing a table pane: the rows on screen of the order the app kept, formatted as the pane
//! says (`pane::TableText`), laid out for the width, styled by the theme.

use super::theme::Theme;
use crate::app::mouse::Hits;
use crate::pane::table::{self as model, Align, Emphasis, Head, TableText, FLEX_MIN};
use crate::pane::{Ctx, Order, TableView};
use crate::text;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, HighlightSpacing, Row, Table, TableState};
use ratatui::Frame;

/// Cells of one row, aligned as their columns and styled by their emphasis.
pub fn row_cells(
    heads: &[Head],
    cols: &[usize],
    cells: Vec<(String, Emphasis)>,
    theme: &Theme,
) -> Vec<Cell<'static>> {
    cols.iter()
        .zip(cells)
        .map(|(&i, (text, emphasis))| {
            let span = Span::styled(text, theme.emphasis(emphasis));
            let line = match heads.get(i).map(|h| h.align) {
                Some(Align::Right) => Line::from(span).right_aligned(),
                _ => Line::from(span),
            };
            Cell::from(line)
        })
        .collect()
}

/// Header cells with the sort arrow on the sorted column (`sorted`: column, descending).
pub fn header_cells(
    heads: &[Head],
    cols: &[usize],
    sorted: Option<(usize, bool)>,
) -> Vec<Cell<'static>> {
    cols.iter()
        .map(|&i| {
            let c = &heads[i];
            let Some((sort, desc)) = sorted else {
                return Cell::from(c.header);
            };
            let mut text = c.header.to_string();
            if i == sort {
                text.push(if desc { '▼' } else { '▲' });
            }
            let line = match c.align {
                Align::Left => Line::from(text),
                Align::Right => Line::from(text).right_aligned(),
            };
            Cell::from(line)
        })
        .collect()
}

pub fn widths(heads: &[Head], cols: &[usize]) -> Vec<Constraint> {
    cols.iter()
        .map(|&i| {
            let c = &heads[i];
            if c.flex {
                Constraint::Min(c.width.min(FLEX_MIN))
            } else {
                Constraint::Length(c.width)
            }
        })
        .collect()
}

/// What surrounds a table: the name in its title, its rows before the filter, the note after
/// the title, and what it says with no rows.
pub struct Framing<'a> {
    pub name: &'a str,
    pub total: usize,
    pub legend: &'a str,
    pub empty: &'a str,
    /// The empty message is a problem (unavailable), not just an empty node.
    pub empty_warn: bool,
}

/// Draw `order` (selected line `sel`) of `body` in `area`: only the rows in the window are
/// formatted.
#[allow(clippy::too_many_arguments)]
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    hits: &mut Hits,
    ctx: &Ctx,
    view: &TableView,
    order: &Order,
    sel: usize,
    body: &dyn TableText,
    f: &Framing,
) {
    let total = f.total;
    let changes_only = ctx.baseline.is_some_and(|b| b.changes_only) && body.compared() && total > 0;
    let mut title = super::table_title(f.name, order.len(), total, &view.filter);
    if changes_only {
        title = format!(
            " {} ({} of {total}) changed since baseline ",
            f.name,
            order.len()
        );
        if !view.filter.is_empty() {
            title.push_str(&format!("filter: {} ", view.filter));
        }
    }
    if !f.legend.is_empty() {
        title.push_str(f.legend);
        title.push(' ');
    }
    let title = Line::from(title);
    if total == 0 {
        super::empty_state(frame, area, title, f.empty, theme, f.empty_warn);
        return;
    }
    if order.is_empty() {
        let msg = if changes_only {
            text::NO_CHANGES
        } else {
            text::NO_MATCH
        };
        super::empty_state(frame, area, title, msg, theme, false);
        return;
    }
    let present = ctx.presentation;
    // Presentation mode double-spaces rows: half as many fit.
    let lines = usize::from(area.height.saturating_sub(3)).max(1);
    let height = if present {
        lines.saturating_sub(1).div_ceil(2).max(1)
    } else {
        lines
    };
    let sel = sel.min(order.len() - 1);
    let offset = crate::pane::view::scroll_to(view.offset, sel, height, order.len());
    let row = |k: usize| order.rows.get(k).map_or(0, |r| model::row_index(*r));
    // With a baseline, compared panes get a one-character marker column first.
    let marked = body.marker(ctx, row(0)).is_some();
    let pins = !view.marked.is_empty();
    let mark_w = if marked { 2 } else { 0 } + if pins { 2 } else { 0 };
    let width = area.width.saturating_sub(4 + mark_w);
    let heads = body.heads();
    let sorted = body.sorted(view);
    let cols = if present {
        model::presentation_columns(&heads, width, sorted.map_or(0, |s| s.0))
    } else {
        model::visible_columns(&heads, width)
    };
    let window = offset..(offset + height).min(order.len());
    let rows: Vec<Row> = window
        .clone()
        .map(|k| {
            let i = row(k);
            let mut cells = row_cells(&heads, &cols, body.cells(ctx, i, &cols), theme);
            if marked {
                let m = body.marker(ctx, i).unwrap_or(' ');
                cells.insert(0, Cell::from(m.to_string()));
            }
            let pinned = pins
                && order
                    .keys
                    .get(k)
                    .is_some_and(|key| view.marked.contains(key));
            if pins {
                cells.insert(0, Cell::from(if pinned { "★" } else { " " }));
            }
            let r = Row::new(cells).bottom_margin(u16::from(present));
            if pinned {
                r.style(theme.pinned())
            } else {
                r
            }
        })
        .collect();
    let mut head = header_cells(&heads, &cols, sorted);
    let mut widths = widths(&heads, &cols);
    if marked {
        head.insert(0, Cell::from(" "));
        widths.insert(0, Constraint::Length(1));
    }
    if pins {
        head.insert(0, Cell::from(" "));
        widths.insert(0, Constraint::Length(1));
    }
    let header = Row::new(head).style(theme.table_header());
    let spacing = if present {
        model::PRESENTATION_SPACING
    } else {
        1
    };
    let table = Table::new(rows, widths)
        .header(header.bottom_margin(u16::from(present)))
        .column_spacing(spacing)
        .row_highlight_style(theme.selected())
        .highlight_symbol("▶")
        .highlight_spacing(HighlightSpacing::Always)
        .block(super::block(title, theme));
    let mut state = TableState::default().with_selected(Some(sel - offset));
    frame.render_stateful_widget(table, area, &mut state);
    let step = 1 + u16::from(present);
    super::hits::table_rows(hits, area, step, step, offset, order.keys[window].iter());
}
