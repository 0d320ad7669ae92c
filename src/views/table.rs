//! Drawing a table pane: the rows on screen of the order the app kept, formatted as the pane
//! says (`pane::TableText`), laid out for the width, styled by the theme.

use super::theme::Theme;
use crate::app::mouse::Hits;
use crate::pane::table::{self as model, Align, Emphasis, Head, TableText};
use crate::pane::{Ctx, Order, TableView};
use crate::text;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, HighlightSpacing, Row, Table, TableState};
use ratatui::Frame;

/// Cells of one row, cut to their columns' `widths` (with `…`), aligned as their columns
/// and styled by their emphasis.
pub fn row_cells(
    heads: &[Head],
    cols: &[usize],
    widths: &[u16],
    cells: Vec<(String, Emphasis)>,
    theme: &Theme,
) -> Vec<Cell<'static>> {
    cols.iter()
        .zip(cells)
        .zip(widths.iter().copied().chain(std::iter::repeat(u16::MAX)))
        .map(|((&i, (text, emphasis)), w)| {
            let text = model::clip(&text, w).into_owned();
            let span = Span::styled(text, theme.emphasis(emphasis));
            let line = match heads.get(i).map(|h| h.align) {
                Some(Align::Right) => Line::from(span).right_aligned(),
                _ => Line::from(span),
            };
            Cell::from(line)
        })
        .collect()
}

/// A column's header as drawn: with the sort arrow on the sorted column.
fn header_text(heads: &[Head], i: usize, sorted: Option<(usize, bool)>) -> String {
    let mut text = heads[i].header.to_string();
    if let Some((sort, desc)) = sorted {
        if i == sort {
            text.push(if desc { '▼' } else { '▲' });
        }
    }
    text
}

/// Header cells with the sort arrow on the sorted column (`sorted`: column, descending), cut
/// to `widths`.
pub fn header_cells(
    heads: &[Head],
    cols: &[usize],
    widths: &[u16],
    sorted: Option<(usize, bool)>,
) -> Vec<Cell<'static>> {
    cols.iter()
        .zip(widths.iter().copied().chain(std::iter::repeat(u16::MAX)))
        .map(|(&i, w)| {
            let text = model::clip(&header_text(heads, i, sorted), w).into_owned();
            let line = match heads[i].align {
                Align::Left => Line::from(text),
                Align::Right => Line::from(text).right_aligned(),
            };
            Cell::from(line)
        })
        .collect()
}

/// What each of `cols` needs: its header (with the sort arrow) and its widest cell in `rows`.
pub fn wants<'a>(
    heads: &[Head],
    cols: &[usize],
    sorted: Option<(usize, bool)>,
    rows: impl Iterator<Item = Vec<&'a str>>,
) -> Vec<u16> {
    let mut want: Vec<u16> = cols
        .iter()
        .map(|&i| model::text_width(&header_text(heads, i, sorted)))
        .collect();
    for row in rows {
        for (w, cell) in want.iter_mut().zip(row) {
            *w = (*w).max(model::text_width(cell));
        }
    }
    want
}

/// Terminal columns left for the cells of `n` columns in a bordered table `area` with the
/// selection marker and `extra` more columns (markers, each with its space) before them.
pub fn cell_space(area: Rect, extra: u16, n: usize, spacing: u16) -> u16 {
    let gaps = spacing.saturating_mul(u16::try_from(n.saturating_sub(1)).unwrap_or(u16::MAX));
    area.width.saturating_sub(3 + extra).saturating_sub(gaps)
}

pub fn widths(widths: &[u16]) -> Vec<Constraint> {
    widths.iter().map(|&w| Constraint::Length(w)).collect()
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
    let row = |k: usize| order.row(k).map_or(0, model::row_index);
    // With a baseline, compared panes get a one-character marker column first.
    let marked = body.marker(ctx, row(0)).is_some();
    let pins = !view.marked.is_empty();
    let mark_w = if marked { 2 } else { 0 } + if pins { 2 } else { 0 };
    let width = area.width.saturating_sub(4 + mark_w);
    let heads = body.heads();
    let sorted = body.sorted(view);
    let window = offset..(offset + height).min(order.len());
    let spacing = if present {
        model::PRESENTATION_SPACING
    } else {
        1
    };
    // Every cell of the rows on screen, then the columns that fit what they need.
    let every: Vec<usize> = (0..heads.len()).collect();
    let mut texts: Vec<Vec<(String, Emphasis)>> = window
        .clone()
        .map(|k| body.cells(ctx, row(k), &every))
        .collect();
    let want_all = wants(
        &heads,
        &every,
        sorted,
        texts
            .iter()
            .map(|r| r.iter().map(|(t, _)| t.as_str()).collect()),
    );
    let cols = if present {
        model::presentation_columns(&heads, width, sorted.map_or(0, |s| s.0))
    } else {
        model::visible_columns_for(&heads, &want_all, width)
    };
    for r in &mut texts {
        let mut all = std::mem::take(r).into_iter().map(Some).collect::<Vec<_>>();
        *r = cols
            .iter()
            .map(|&c| {
                all.get_mut(c)
                    .and_then(Option::take)
                    .unwrap_or((String::new(), Emphasis::Normal))
            })
            .collect();
    }
    let want: Vec<u16> = cols
        .iter()
        .map(|&c| want_all.get(c).copied().unwrap_or(0))
        .collect();
    let fitted = model::fit_widths(
        &heads,
        &cols,
        &want,
        cell_space(
            area,
            (u16::from(marked) + u16::from(pins)) * (1 + spacing),
            cols.len(),
            spacing,
        ),
    );
    let rows: Vec<Row> = window
        .clone()
        .zip(texts)
        .map(|(k, texts)| {
            let i = row(k);
            let mut cells = row_cells(&heads, &cols, &fitted, texts, theme);
            if marked {
                let m = body.marker(ctx, i).unwrap_or(' ');
                cells.insert(0, Cell::from(m.to_string()));
            }
            let pinned = pins && order.key(k).is_some_and(|key| view.marked.contains(&key));
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
    let mut head = header_cells(&heads, &cols, &fitted, sorted);
    let mut widths = widths(&fitted);
    if marked {
        head.insert(0, Cell::from(" "));
        widths.insert(0, Constraint::Length(1));
    }
    if pins {
        head.insert(0, Cell::from(" "));
        widths.insert(0, Constraint::Length(1));
    }
    let header = Row::new(head).style(theme.table_header());
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
    super::hits::table_rows(hits, area, step, step, offset, order.keys_in(window));
}
