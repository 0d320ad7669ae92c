//! A generic sortable, filterable table model: pure functions from rows + view state to the
//! ordered visible rows. Only the rows on screen get their cells formatted.

use super::theme::Theme;
use crate::app::rates::Rates;
use crate::app::state::{Baseline, RowKey, TableView};
use crate::model::diff::ChangeKind;
use crate::model::{PaneId, Snapshot};
use ratatui::layout::Constraint;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};
use std::any::Any;
use std::cmp::Ordering;

/// Presentation mode: columns shown at most, and the spaces between them.
pub const PRESENTATION_COLUMNS: usize = 5;
pub const PRESENTATION_SPACING: u16 = 3;

/// What a cell or sort key may look at besides its row.
pub struct Ctx<'a> {
    pub snap: &'a Snapshot,
    pub rates: &'a Rates,
    /// Baseline the rows are marked against (`d`), if any.
    pub baseline: Option<&'a Baseline>,
    /// Presentation mode (`p`): fewer, wider columns and double-spaced rows.
    pub presentation: bool,
}

impl<'a> Ctx<'a> {
    /// What every pane's rows are rendered against: the snapshot, its rates, the baseline.
    pub fn of(app: &'a crate::app::state::App) -> Ctx<'a> {
        Ctx {
            snap: &app.snapshot,
            rates: &app.rates,
            baseline: app.baseline.as_ref(),
            presentation: app.presentation,
        }
    }
}

/// A row's pane and identity in `model::diff`, for the row types `diff` compares.
pub fn diff_key<T: 'static>(row: &T) -> Option<(PaneId, String)> {
    use crate::model::{diff, Attachment, CtEntry, Denial, Drop, MapInfo, Program, Service};
    let any = row as &dyn Any;
    if let Some(p) = any.downcast_ref::<Program>() {
        Some((PaneId::Programs, diff::program_key(p)))
    } else if let Some(a) = any.downcast_ref::<Attachment>() {
        Some((PaneId::Attachments, diff::attachment_key(a)))
    } else if let Some(m) = any.downcast_ref::<MapInfo>() {
        Some((PaneId::Maps, diff::map_key(m)))
    } else if let Some(s) = any.downcast_ref::<Service>() {
        Some((PaneId::Services, diff::service_key(s)))
    } else if let Some(c) = any.downcast_ref::<CtEntry>() {
        Some((PaneId::Conntrack, diff::ct_key(c)))
    } else if let Some(d) = any.downcast_ref::<Drop>() {
        Some((PaneId::Drops, diff::drop_key(d)))
    } else if let Some(r) = any.downcast_ref::<crate::views::drops::DropRow>() {
        Some((PaneId::Drops, diff::drop_key(&r.d)))
    } else {
        any.downcast_ref::<Denial>()
            .map(|d| (PaneId::Denials, diff::denial_key(d)))
    }
}

/// The row's marker against the baseline: `+` new, `~` changed, ` ` unchanged; `None` when
/// there is no baseline or the pane is not compared.
pub fn baseline_marker<T: 'static>(row: &T, ctx: &Ctx) -> Option<char> {
    let b = ctx.baseline?;
    let (pane, key) = diff_key(row)?;
    Some(b.mark(pane, key).map_or(' ', ChangeKind::marker))
}

/// Does the row pass the baseline's "changes only" filter (`D`)?
pub fn passes_changes_only<T: 'static>(row: &T, ctx: &Ctx) -> bool {
    match ctx.baseline {
        Some(b) if b.changes_only => baseline_marker(row, ctx).is_none_or(|m| m != ' '),
        _ => true,
    }
}

/// A value to sort a column by. `Num(None)` (no value) sorts last in both directions.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKey {
    Num(Option<f64>),
    Text(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// Marks a cell needs beyond its text (the text itself always carries the meaning too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emphasis {
    Normal,
    Warn,
    Dim,
}

/// Narrowest the flexible (name) column gets.
pub const FLEX_MIN: u16 = 16;

pub struct Column<T> {
    pub header: &'static str,
    /// Display width; the flexible column takes what is left (at least `width`).
    pub width: u16,
    pub flex: bool,
    /// 0 always shown; higher numbers are dropped first on narrow terminals.
    pub priority: u8,
    pub align: Align,
    pub sort: fn(&T, &Ctx) -> SortKey,
    pub cell: fn(&T, &Ctx) -> String,
    pub emphasis: fn(&T, &Ctx) -> Emphasis,
}

pub fn no_emphasis<T>(_: &T, _: &Ctx) -> Emphasis {
    Emphasis::Normal
}

/// A fixed-width column with no emphasis: what most columns of every pane are.
pub const fn col<T>(
    header: &'static str,
    width: u16,
    priority: u8,
    align: Align,
    sort: fn(&T, &Ctx) -> SortKey,
    cell: fn(&T, &Ctx) -> String,
) -> Column<T> {
    Column {
        header,
        width,
        flex: false,
        priority,
        align,
        sort,
        cell,
        emphasis: no_emphasis,
    }
}

/// A pane's table: its columns, how rows are keyed, and the default sort.
pub struct TableDef<T: 'static> {
    pub columns: &'static [Column<T>],
    pub key: fn(&T) -> RowKey,
    pub default_sort: usize,
    pub default_desc: bool,
}

impl<T> TableDef<T> {
    /// Does any cell of the row contain the filter (case-insensitive; `!` prefix inverts)?
    pub fn matches(&self, row: &T, ctx: &Ctx, filter: &str) -> bool {
        let (invert, needle) = match filter.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, filter),
        };
        if needle.is_empty() {
            return true;
        }
        let needle = needle.to_lowercase();
        let hit = self
            .columns
            .iter()
            .any(|c| (c.cell)(row, ctx).to_lowercase().contains(&needle));
        hit != invert
    }

    /// Indices of `rows` after filtering and sorting, ties broken by row key (ascending).
    pub fn order(&self, rows: &[T], ctx: &Ctx, view: &TableView) -> Vec<usize> {
        let col = view
            .sort
            .unwrap_or(self.default_sort)
            .min(self.columns.len().saturating_sub(1));
        let desc = view.sort_desc.unwrap_or(self.default_desc);
        let Some(column) = self.columns.get(col) else {
            return (0..rows.len()).collect();
        };
        let mut keyed: Vec<(SortKey, RowKey, usize)> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| view.filter.is_empty() || self.matches(r, ctx, &view.filter))
            .filter(|(_, r)| passes_changes_only(*r, ctx))
            .map(|(i, r)| (normalise((column.sort)(r, ctx)), (self.key)(r), i))
            .collect();
        keyed.sort_by(|a, b| compare(&a.0, &b.0, desc).then_with(|| a.1.cmp(&b.1)));
        if !view.marked.is_empty() {
            // Marked rows first, each group keeping the sort order (a stable partition).
            keyed.sort_by_key(|k| !view.marked.contains(&k.1));
        }
        keyed.into_iter().map(|(_, _, i)| i).collect()
    }

    /// Which columns fit in `width` (by priority), in their natural order. The flexible column
    /// (names) may shrink to `FLEX_MIN` to keep the priority-0 columns, but lower-priority
    /// columns are only added while it keeps its preferred width: a readable name is worth
    /// more than an extra number.
    pub fn visible_columns(&self, width: u16) -> Vec<usize> {
        let mut chosen: Vec<usize> = Vec::new();
        let mut used: u16 = 0;
        let mut flex_extra: u16 = 0;
        let mut by_prio: Vec<usize> = (0..self.columns.len()).collect();
        by_prio.sort_by_key(|&i| (self.columns[i].priority, i));
        for i in by_prio {
            let c = &self.columns[i];
            let w = if c.flex {
                c.width.min(FLEX_MIN)
            } else {
                c.width
            } + 1;
            let reserve = if c.priority == 0 { 0 } else { flex_extra };
            if used + w + reserve <= width || chosen.is_empty() {
                used += w;
                if c.flex {
                    flex_extra = c.width.saturating_sub(FLEX_MIN);
                }
                chosen.push(i);
            }
        }
        chosen.sort_unstable();
        chosen
    }

    /// Presentation mode: the most important columns only (at most `PRESENTATION_COLUMNS`, the
    /// sorted one always kept), chosen for a width that leaves room for wide spacing.
    pub fn presentation_columns(&self, width: u16, sorted: usize) -> Vec<usize> {
        let spacing = PRESENTATION_SPACING.saturating_sub(1) * PRESENTATION_COLUMNS as u16;
        let fit = self.visible_columns(width.saturating_sub(spacing));
        let mut by_prio = fit.clone();
        by_prio.sort_by_key(|&i| (self.columns[i].priority, i));
        let mut keep: Vec<usize> = by_prio.into_iter().take(PRESENTATION_COLUMNS).collect();
        if fit.contains(&sorted) && !keep.contains(&sorted) {
            keep.pop();
            keep.push(sorted);
        }
        keep.sort_unstable();
        keep
    }

    pub fn header_row(&self, cols: &[usize], view: &TableView, theme: &Theme) -> Row<'static> {
        Row::new(self.header_cells(cols, view)).style(theme.table_header())
    }

    /// Header cells with the sort arrow on the sorted column.
    pub fn header_cells(&self, cols: &[usize], view: &TableView) -> Vec<Cell<'static>> {
        let sort = view.sort.unwrap_or(self.default_sort);
        let desc = view.sort_desc.unwrap_or(self.default_desc);
        cols.iter()
            .map(|&i| {
                let c = &self.columns[i];
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

    pub fn widths(&self, cols: &[usize]) -> Vec<Constraint> {
        cols.iter()
            .map(|&i| {
                let c = &self.columns[i];
                if c.flex {
                    Constraint::Min(c.width.min(FLEX_MIN))
                } else {
                    Constraint::Length(c.width)
                }
            })
            .collect()
    }

    pub fn row(&self, row: &T, ctx: &Ctx, cols: &[usize], theme: &Theme) -> Row<'static> {
        Row::new(self.row_cells(row, ctx, cols, theme))
    }

    pub fn row_cells(
        &self,
        row: &T,
        ctx: &Ctx,
        cols: &[usize],
        theme: &Theme,
    ) -> Vec<Cell<'static>> {
        cols.iter()
            .map(|&i| {
                let c = &self.columns[i];
                let text = (c.cell)(row, ctx);
                let style = theme.emphasis((c.emphasis)(row, ctx));
                let span = Span::styled(text, style);
                let line = match c.align {
                    Align::Left => Line::from(span),
                    Align::Right => Line::from(span).right_aligned(),
                };
                Cell::from(line)
            })
            .collect()
    }

    /// All cells as text, for plain output.
    pub fn cells(&self, row: &T, ctx: &Ctx) -> Vec<String> {
        self.columns.iter().map(|c| (c.cell)(row, ctx)).collect()
    }
}

/// Text sorts case-insensitively: lower-case once, not per comparison.
fn normalise(k: SortKey) -> SortKey {
    match k {
        SortKey::Text(t) => SortKey::Text(t.to_lowercase()),
        n => n,
    }
}

fn compare(a: &SortKey, b: &SortKey, desc: bool) -> Ordering {
    let ord = match (a, b) {
        (SortKey::Num(x), SortKey::Num(y)) => match (x, y) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Greater,
            (Some(_), None) => return Ordering::Less,
            (Some(x), Some(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        },
        (SortKey::Text(x), SortKey::Text(y)) => x.cmp(y),
        (SortKey::Num(_), SortKey::Text(_)) => Ordering::Less,
        (SortKey::Text(_), SortKey::Num(_)) => Ordering::Greater,
    };
    if desc {
        ord.reverse()
    } else {
        ord
    }
}

/// Index of the selected key in the ordered keys, else the first row.
pub fn selected_index(keys: &[RowKey], selected: Option<&RowKey>) -> Option<usize> {
    if keys.is_empty() {
        return None;
    }
    Some(
        selected
            .and_then(|s| keys.iter().position(|k| k == s))
            .unwrap_or(0),
    )
}

/// Draw a table pane: only the rows in the window get formatted.
pub struct TablePane<'a, T: 'static> {
    pub def: &'a TableDef<T>,
    pub rows: &'a [T],
    pub ctx: &'a Ctx<'a>,
    pub view: &'a TableView,
    pub name: &'a str,
    /// Shown instead of the table when `rows` is empty.
    pub empty: &'a str,
    /// The empty message is a problem (unavailable), not just an empty node.
    pub empty_warn: bool,
    pub sortable: bool,
    /// Extra note after the title (a marker's meaning), empty for none.
    pub legend: &'a str,
}

impl<T> TablePane<'_, T> {
    pub fn draw(&self, frame: &mut ratatui::Frame, area: ratatui::layout::Rect, theme: &Theme) {
        let order = self.def.order(self.rows, self.ctx, self.view);
        self.draw_ordered(frame, area, theme, &order);
    }

    /// Draw with the visible rows already filtered and sorted (panes with a faster order of
    /// their own, e.g. conntrack).
    pub fn draw_ordered(
        &self,
        frame: &mut ratatui::Frame,
        area: ratatui::layout::Rect,
        theme: &Theme,
        order: &[usize],
    ) {
        use ratatui::widgets::{Table, TableState};
        let total = self.rows.len();
        let changes_only = self.ctx.baseline.is_some_and(|b| b.changes_only)
            && self.rows.first().is_some_and(|r| diff_key(r).is_some());
        let mut title = super::table_title(self.name, order.len(), total, &self.view.filter);
        if changes_only {
            title = format!(
                " {} ({} of {total}) changed since baseline ",
                self.name,
                order.len()
            );
            if !self.view.filter.is_empty() {
                title.push_str(&format!("filter: {} ", self.view.filter));
            }
        }
        if !self.legend.is_empty() {
            title.push_str(self.legend);
            title.push(' ');
        }
        let title = Line::from(title);
        if total == 0 {
            super::empty_state(frame, area, title, self.empty, theme, self.empty_warn);
            return;
        }
        if order.is_empty() {
            let msg = if changes_only {
                super::text::NO_CHANGES
            } else {
                super::text::NO_MATCH
            };
            super::empty_state(frame, area, title, msg, theme, false);
            return;
        }
        let sel = self
            .view
            .selected
            .as_ref()
            .and_then(|s| {
                order
                    .iter()
                    .position(|&i| (self.def.key)(&self.rows[i]) == *s)
            })
            .unwrap_or(0);
        let present = self.ctx.presentation;
        // Presentation mode double-spaces rows: half as many fit.
        let lines = usize::from(area.height.saturating_sub(3)).max(1);
        let height = if present {
            lines.saturating_sub(1).div_ceil(2).max(1)
        } else {
            lines
        };
        let offset = crate::app::update::scroll_to(self.view.offset, sel, height, order.len());
        // With a baseline, compared panes get a one-character marker column first.
        let marked = baseline_marker(&self.rows[order[0]], self.ctx).is_some();
        let pins = !self.view.marked.is_empty();
        let mark_w = if marked { 2 } else { 0 } + if pins { 2 } else { 0 };
        let width = area.width.saturating_sub(4 + mark_w);
        let cols = if present {
            let sorted = self.view.sort.unwrap_or(self.def.default_sort);
            self.def.presentation_columns(width, sorted)
        } else {
            self.def.visible_columns(width)
        };
        let body: Vec<Row> = order[offset..(offset + height).min(order.len())]
            .iter()
            .map(|&i| {
                let row = &self.rows[i];
                let mut cells = self.def.row_cells(row, self.ctx, &cols, theme);
                if marked {
                    let m = baseline_marker(row, self.ctx).unwrap_or(' ');
                    cells.insert(0, Cell::from(m.to_string()));
                }
                let pinned = pins && self.view.marked.contains(&(self.def.key)(row));
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
        let mut head: Vec<Cell> = if self.sortable {
            self.def.header_cells(&cols, self.view)
        } else {
            cols.iter()
                .map(|&i| Cell::from(self.def.columns[i].header))
                .collect()
        };
        let mut widths = self.def.widths(&cols);
        if marked {
            head.insert(0, Cell::from(" "));
            widths.insert(0, Constraint::Length(1));
        }
        if pins {
            head.insert(0, Cell::from(" "));
            widths.insert(0, Constraint::Length(1));
        }
        let header = Row::new(head).style(theme.table_header());
        let spacing = if present { PRESENTATION_SPACING } else { 1 };
        let table = Table::new(body, widths)
            .header(header.bottom_margin(u16::from(present)))
            .column_spacing(spacing)
            .row_highlight_style(theme.selected())
            .highlight_symbol("▶")
            .highlight_spacing(ratatui::widgets::HighlightSpacing::Always)
            .block(super::block(title, theme));
        let mut state = TableState::default().with_selected(Some(sel - offset));
        frame.render_stateful_widget(table, area, &mut state);
        let step = 1 + u16::from(present);
        let shown = order[offset..(offset + height).min(order.len())].iter();
        super::hits::offset(offset);
        super::hits::table_rows(
            area,
            step,
            step,
            shown.map(|&i| (self.def.key)(&self.rows[i])),
        );
    }
}

/// Ordered keys of the visible rows.
pub fn keys<T>(def: &TableDef<T>, rows: &[T], ctx: &Ctx, view: &TableView) -> Vec<RowKey> {
    def.order(rows, ctx, view)
        .into_iter()
        .map(|i| (def.key)(&rows[i]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::rates::{ProgRate, Rates};
    use crate::model::{ProcRef, Program};
    use crate::views::programs::TABLE;

    fn progs() -> (Snapshot, Rates) {
        let mut s = Snapshot::empty();
        s.boottime_ns = 10_000_000_000_000;
        let mk = |id: u32, name: &str, ty: &str, cnt: u64| Program {
            id,
            name: name.into(),
            prog_type: ty.into(),
            tag: format!("{:016x}", id * 7919),
            run_cnt: cnt,
            run_time_ns: cnt * 100,
            load_time_ns: u64::from(id) * 1_000_000_000,
            map_ids: vec![1; id as usize % 3],
            pids: vec![ProcRef {
                pid: id,
                comm: "agent".into(),
            }],
            xlated_size: 100 * (id % 4),
            jited_size: 64 * (id % 5),
            ..Default::default()
        };
        s.programs = vec![
            mk(5, "Beta", "xdp", 10),
            mk(2, "alpha", "sched_cls", 10),
            mk(9, "gamma", "sched_cls", 30),
            mk(3, "alpha", "tracepoint", 0),
            mk(7, "delta", "xdp", 20),
        ];
        let mut rates = Rates::default();
        for (id, cpu) in [(5, 1.0), (2, 1.0), (9, 3.0), (7, 0.5)] {
            rates.by_id.insert(
                id,
                ProgRate {
                    events_per_s: cpu * 10.0,
                    avg_ns: Some(100.0),
                    cpu_pct: cpu,
                },
            );
        }
        (s, rates)
    }

    fn ids(order: &[usize], s: &Snapshot) -> Vec<u32> {
        order.iter().map(|&i| s.programs[i].id).collect()
    }

    #[test]
    fn every_column_sorts_both_ways_with_stable_tie_break() {
        let (s, rates) = progs();
        let ctx = Ctx {
            snap: &s,
            rates: &rates,
            baseline: None,
            presentation: false,
        };
        for (c, col) in TABLE.columns.iter().enumerate() {
            for desc in [false, true] {
                let view = TableView {
                    sort: Some(c),
                    sort_desc: Some(desc),
                    ..Default::default()
                };
                let order = TABLE.order(&s.programs, &ctx, &view);
                assert_eq!(order.len(), s.programs.len());
                for w in order.windows(2) {
                    let (a, b) = (&s.programs[w[0]], &s.programs[w[1]]);
                    let (ka, kb) = (
                        normalise((col.sort)(a, &ctx)),
                        normalise((col.sort)(b, &ctx)),
                    );
                    let ord = compare(&ka, &kb, desc);
                    assert!(
                        ord != Ordering::Greater,
                        "column {} desc={desc}: {} before {}",
                        col.header,
                        a.id,
                        b.id
                    );
                    if ord == Ordering::Equal {
                        assert!(a.id < b.id, "tie not broken by id in {}", col.header);
                    }
                }
            }
        }
    }

    #[test]
    fn default_sort_is_cpu_descending_and_no_rate_sorts_last() {
        let (s, rates) = progs();
        let ctx = Ctx {
            snap: &s,
            rates: &rates,
            baseline: None,
            presentation: false,
        };
        let order = TABLE.order(&s.programs, &ctx, &TableView::default());
        // 9 (3 %), then 2 and 5 tie at 1 % (id order), 7, and 3 without a rate last.
        assert_eq!(ids(&order, &s), vec![9, 2, 5, 7, 3]);
        let asc = TableView {
            sort_desc: Some(false),
            ..Default::default()
        };
        assert_eq!(
            ids(&TABLE.order(&s.programs, &ctx, &asc), &s),
            vec![7, 2, 5, 9, 3]
        );
    }

    #[test]
    fn text_sort_ignores_case() {
        let (s, rates) = progs();
        let ctx = Ctx {
            snap: &s,
            rates: &rates,
            baseline: None,
            presentation: false,
        };
        let view = TableView {
            sort: Some(2),
            sort_desc: Some(false),
            ..Default::default()
        };
        assert_eq!(
            ids(&TABLE.order(&s.programs, &ctx, &view), &s),
            vec![2, 3, 5, 7, 9]
        );
    }

    #[test]
    fn filter_is_case_insensitive_substring_and_bang_inverts() {
        let (s, rates) = progs();
        let ctx = Ctx {
            snap: &s,
            rates: &rates,
            baseline: None,
            presentation: false,
        };
        let f = |filter: &str| {
            let view = TableView {
                filter: filter.into(),
                sort: Some(0),
                sort_desc: Some(false),
                ..Default::default()
            };
            ids(&TABLE.order(&s.programs, &ctx, &view), &s)
        };
        assert_eq!(f(""), vec![2, 3, 5, 7, 9]);
        assert_eq!(f("ALPHA"), vec![2, 3]);
        assert_eq!(f("xdp"), vec![5, 7]);
        assert_eq!(f("!xdp"), vec![2, 3, 9]);
        assert_eq!(f("!"), vec![2, 3, 5, 7, 9]);
        assert_eq!(f("nothing-matches"), Vec::<u32>::new());
        assert_eq!(f("!agent"), Vec::<u32>::new());
    }

    #[test]
    fn narrow_tables_keep_high_priority_columns() {
        let narrow = TABLE.visible_columns(50);
        let headers: Vec<&str> = narrow.iter().map(|&i| TABLE.columns[i].header).collect();
        assert!(headers.contains(&"NAME") && headers.contains(&"CPU") && headers.contains(&"ID"));
        assert_eq!(TABLE.visible_columns(400).len(), TABLE.columns.len());
    }
}
