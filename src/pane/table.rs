//! A table pane's columns, and the generic sortable, filterable table: pure functions from
//! rows and view state to the ordered rows, and the text of any row's cells. The views format
//! only the rows on screen.
//!
//! [`TablePane`] is the one constructor of a plain table pane: its rows, its [`Table`]
//! (columns, row key, default sort) and its JSON; everything else has a default.

use super::ctx::Ctx;
use super::order::{Memo, Order, RowRef};
use super::plain::PlainTable;
use super::view::{RowKey, TableView, Target};
use super::{Pane, Sorting};
use crate::model::diff::ChangeKind;
use crate::model::{PaneId, Snapshot};
use std::cmp::Ordering;

/// Presentation mode: columns shown at most, and the spaces between them.
pub const PRESENTATION_COLUMNS: usize = 5;
pub const PRESENTATION_SPACING: u16 = 3;

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

/// A column as the layout sees it: no row type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub header: &'static str,
    pub width: u16,
    pub flex: bool,
    pub priority: u8,
    pub align: Align,
}

impl<T> Column<T> {
    pub fn head(&self) -> Head {
        Head {
            header: self.header,
            width: self.width,
            flex: self.flex,
            priority: self.priority,
            align: self.align,
        }
    }
}

/// How a row is compared with the baseline (`d`): the pane in `model::diff` and the row's
/// key there.
pub type DiffKey<T> = (PaneId, fn(&T) -> String);

/// A pane's table: its columns, how rows are keyed, the default sort, and how a row is
/// compared with the baseline (`None`: not compared).
pub struct Table<T: 'static> {
    pub columns: &'static [Column<T>],
    pub key: fn(&T) -> RowKey,
    pub default_sort: usize,
    pub default_desc: bool,
    pub diff: Option<DiffKey<T>>,
}

impl<T> Table<T> {
    /// The sort column and direction in effect.
    pub fn sort(&self, view: &TableView) -> (usize, bool) {
        let col = view
            .sort
            .unwrap_or(self.default_sort)
            .min(self.columns.len().saturating_sub(1));
        (col, view.sort_desc.unwrap_or(self.default_desc))
    }

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

    /// The row's marker against the baseline: `+` new, `~` changed, ` ` unchanged; `None`
    /// when there is no baseline or the pane is not compared.
    pub fn marker(&self, row: &T, ctx: &Ctx) -> Option<char> {
        let b = ctx.baseline?;
        let (pane, key) = self.diff?;
        Some(b.mark(pane, key(row)).map_or(' ', ChangeKind::marker))
    }

    /// Does the row pass the baseline's "changes only" filter (`D`)?
    pub fn passes_changes_only(&self, row: &T, ctx: &Ctx) -> bool {
        match ctx.baseline {
            Some(b) if b.changes_only => self.marker(row, ctx).is_none_or(|m| m != ' '),
            _ => true,
        }
    }

    /// Indices of `rows` after filtering and sorting, ties broken by row key (ascending);
    /// marked rows first.
    pub fn order(&self, rows: &[T], ctx: &Ctx, view: &TableView) -> Vec<usize> {
        self.order_where(rows, ctx, view, |_| true)
    }

    /// [`Table::order`] of the rows `keep` keeps (policy: one endpoint's entries).
    pub fn order_where(
        &self,
        rows: &[T],
        ctx: &Ctx,
        view: &TableView,
        keep: impl Fn(&T) -> bool,
    ) -> Vec<usize> {
        let (col, desc) = self.sort(view);
        let Some(column) = self.columns.get(col) else {
            return (0..rows.len()).filter(|&i| keep(&rows[i])).collect();
        };
        let mut keyed: Vec<(SortKey, RowKey, usize)> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| keep(r))
            .filter(|(_, r)| view.filter.is_empty() || self.matches(r, ctx, &view.filter))
            .filter(|(_, r)| self.passes_changes_only(r, ctx))
            .map(|(i, r)| (normalise((column.sort)(r, ctx)), (self.key)(r), i))
            .collect();
        keyed.sort_by(|a, b| compare(&a.0, &b.0, desc).then_with(|| a.1.cmp(&b.1)));
        if !view.marked.is_empty() {
            // Marked rows first, each group keeping the sort order (a stable partition).
            keyed.sort_by_key(|k| !view.marked.contains(&k.1));
        }
        keyed.into_iter().map(|(_, _, i)| i).collect()
    }

    /// Cells `cols` of a row with their emphasis, for the view.
    pub fn text(&self, row: &T, ctx: &Ctx, cols: &[usize]) -> Vec<(String, Emphasis)> {
        cols.iter()
            .filter_map(|&i| self.columns.get(i))
            .map(|c| ((c.cell)(row, ctx), (c.emphasis)(row, ctx)))
            .collect()
    }

    /// All cells as text, for plain output.
    pub fn cells(&self, row: &T, ctx: &Ctx) -> Vec<String> {
        self.columns.iter().map(|c| (c.cell)(row, ctx)).collect()
    }

    /// The table as plain text rows, in `view`'s order.
    pub fn plain(&self, rows: &[T], ctx: &Ctx, view: &TableView) -> PlainTable {
        self.plain_in(rows, ctx, self.order(rows, ctx, view))
    }

    /// The table as plain text rows, in `order` (indices into `rows`).
    pub fn plain_in(&self, rows: &[T], ctx: &Ctx, order: Vec<usize>) -> PlainTable {
        PlainTable {
            headers: self.columns.iter().map(|c| c.header.to_string()).collect(),
            rows: order
                .into_iter()
                // Cells padded for on-screen alignment (`3%  ` beside `92% !`) are trimmed.
                .map(|i| {
                    self.cells(&rows[i], ctx)
                        .into_iter()
                        .map(|c| c.trim_end().to_string())
                        .collect()
                })
                .collect(),
            right: self
                .columns
                .iter()
                .map(|c| c.align == Align::Right)
                .collect(),
        }
    }

    pub fn heads(&self) -> Vec<Head> {
        self.columns.iter().map(Column::head).collect()
    }

    /// [`Table::plain_in`] row by row: each row's cells are made when the row is passed on.
    pub fn plain_rows_in<'a>(
        &'a self,
        rows: &'a [T],
        ctx: &'a Ctx<'a>,
        order: Vec<usize>,
    ) -> super::plain::PlainRows<'a> {
        super::plain::PlainRows {
            headers: self.columns.iter().map(|c| c.header.to_string()).collect(),
            right: self
                .columns
                .iter()
                .map(|c| c.align == Align::Right)
                .collect(),
            each: Box::new(move |f| {
                let mut cells: Vec<String> = Vec::with_capacity(self.columns.len());
                for &i in &order {
                    cells.clear();
                    // Trimmed as in `plain`.
                    cells.extend(self.columns.iter().map(|c| {
                        let mut s = (c.cell)(&rows[i], ctx);
                        s.truncate(s.trim_end().len());
                        s
                    }));
                    f(&cells);
                }
            }),
        }
    }
}

/// Which columns fit in `width` (by priority), in their natural order. The flexible column
/// (names) may shrink to `FLEX_MIN` to keep the priority-0 columns, but lower-priority
/// columns are only added while it keeps its preferred width: a readable name is worth more
/// than an extra number.
pub fn visible_columns(heads: &[Head], width: u16) -> Vec<usize> {
    let mut chosen: Vec<usize> = Vec::new();
    let mut used: u16 = 0;
    let mut flex_extra: u16 = 0;
    let mut by_prio: Vec<usize> = (0..heads.len()).collect();
    by_prio.sort_by_key(|&i| (heads[i].priority, i));
    for i in by_prio {
        let c = &heads[i];
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

/// The columns shown of a table whose cells on screen need `want` (one per column of
/// `heads`) in `width`: [`visible_columns`] with each column as wide as its cells need, so
/// that a less important column is dropped before a more important one is cut (a whole
/// address or number before an extra column).
pub fn visible_columns_for(heads: &[Head], want: &[u16], width: u16) -> Vec<usize> {
    let sized: Vec<Head> = heads
        .iter()
        .zip(want.iter().copied().chain(std::iter::repeat(0)))
        .map(|(h, w)| Head {
            width: w.max(1),
            ..*h
        })
        .collect();
    visible_columns(&sized, width)
}

/// Display width of `s` as a terminal shows it (wide and combining characters counted).
pub fn text_width(s: &str) -> u16 {
    u16::try_from(ratatui::text::Span::raw(s).width()).unwrap_or(u16::MAX)
}

/// What a cell shows in `w` columns: all of `s` when it fits, else its start and `…`. Never
/// its end alone: numbers, addresses and flag lists are read from the front, and a cut cell
/// says so.
pub fn clip(s: &str, w: u16) -> std::borrow::Cow<'_, str> {
    if text_width(s) <= w {
        return s.into();
    }
    if w == 0 {
        return "".into();
    }
    let mut out = String::with_capacity(s.len());
    let mut used = 0u16;
    for ch in s.chars() {
        let cw = text_width(ch.encode_utf8(&mut [0u8; 4]));
        if used + cw + 1 > w {
            break;
        }
        out.push(ch);
        used += cw;
    }
    out.push('…');
    out.into()
}

/// Widths of the columns `cols` in `avail` terminal columns (spacing already taken off),
/// given what each needs (`want`: its header and the widest cell on screen). Every column
/// first gets what it needs up to its declared width (the flexible one up to `FLEX_MIN`);
/// what is left goes first to number columns (right-aligned), then by priority, up to what
/// they need, a column still short taking from less important text columns; then fixed
/// columns widen up to their declared width (air between numbers); the rest widens the
/// flexible column. When even the first share does not fit,
/// the widest columns give way first. A column narrower than its cell shows the cell cut
/// with `…` ([`clip`]).
pub fn fit_widths(heads: &[Head], cols: &[usize], want: &[u16], avail: u16) -> Vec<u16> {
    let head = |k: usize| heads[cols[k]];
    let want: Vec<u16> = (0..cols.len())
        .map(|k| want.get(k).copied().unwrap_or(0).max(1))
        .collect();
    let mut w: Vec<u16> = (0..cols.len())
        .map(|k| {
            let h = head(k);
            want[k].min(if h.flex {
                h.width.min(FLEX_MIN)
            } else {
                h.width
            })
        })
        .collect();
    let total = |w: &[u16]| w.iter().map(|&x| u32::from(x)).sum::<u32>();
    // Too wide even so: take from the widest, one column at a time.
    while total(&w) > u32::from(avail) {
        let Some(k) = (0..w.len()).max_by_key(|&k| (w[k], k)) else {
            break;
        };
        if w[k] <= 1 {
            break;
        }
        w[k] -= 1;
    }
    let mut left = u32::from(avail).saturating_sub(total(&w));
    let mut order: Vec<usize> = (0..cols.len()).collect();
    order.sort_by_key(|&k| (head(k).align != Align::Right, head(k).priority, k));
    // First what the cells need, then (fixed columns) the declared width, for air.
    let air = |k: usize| {
        let h = head(k);
        if h.flex {
            want[k]
        } else {
            want[k].max(h.width)
        }
    };
    for &k in &order {
        let more = u32::from(want[k].saturating_sub(w[k])).min(left);
        w[k] += more as u16;
        left -= more;
    }
    // A column still short takes from less important text columns (the least important
    // first), down to what they need or their declared width: a whole address before the
    // room a wide service name would take, never a column squeezed to nothing.
    for (n, &k) in order.iter().enumerate() {
        for &d in order[n + 1..].iter().rev() {
            let short = want[k].saturating_sub(w[k]);
            let hd = head(d);
            if short == 0 {
                break;
            }
            if hd.align == Align::Right || hd.priority <= head(k).priority {
                continue;
            }
            let floor = want[d].min(hd.width).max(1);
            let give = w[d].saturating_sub(floor).min(short);
            w[d] -= give;
            w[k] += give;
        }
    }
    for &k in &order {
        let more = u32::from(air(k).saturating_sub(w[k])).min(left);
        w[k] += more as u16;
        left -= more;
    }
    if left > 0 {
        if let Some(k) = (0..cols.len()).find(|&k| head(k).flex) {
            w[k] = w[k].saturating_add(u16::try_from(left).unwrap_or(u16::MAX));
        }
    }
    w
}

/// Presentation mode: the most important columns only (at most `PRESENTATION_COLUMNS`, the
/// sorted one always kept), chosen for a width that leaves room for wide spacing.
pub fn presentation_columns(heads: &[Head], width: u16, sorted: usize) -> Vec<usize> {
    let spacing = PRESENTATION_SPACING.saturating_sub(1) * PRESENTATION_COLUMNS as u16;
    let fit = visible_columns(heads, width.saturating_sub(spacing));
    let mut by_prio = fit.clone();
    by_prio.sort_by_key(|&i| (heads[i].priority, i));
    let mut keep: Vec<usize> = by_prio.into_iter().take(PRESENTATION_COLUMNS).collect();
    if fit.contains(&sorted) && !keep.contains(&sorted) {
        keep.pop();
        keep.push(sorted);
    }
    keep.sort_unstable();
    keep
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

/// What an empty table pane says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Empty {
    /// This text when the node has no rows; why, when the collector said the pane is
    /// unavailable; "waiting" before the first snapshot.
    Text(&'static str),
    /// A Cilium pane: no Cilium maps found and where dpscope looked, or this map is empty.
    Cilium,
}

/// What the generic table view draws of a pane: everything as text (the view adds styles and
/// layout). Object-safe: the view does not know the row type.
pub trait TableText {
    /// The name in the block title (`Identities (ipcache)`).
    fn name(&self) -> &'static str;
    /// A note after the title (`· Cilium 1.18 layout`, the probe's map use).
    fn legend(&self, ctx: &Ctx) -> String;
    fn empty(&self) -> Empty;
    /// Rows before the filter.
    fn total(&self, ctx: &Ctx) -> usize;
    fn heads(&self) -> Vec<Head>;
    /// The sorted column and direction; `None` for a table that is not sortable.
    fn sorted(&self, view: &TableView) -> Option<(usize, bool)>;
    /// Cells `cols` of row `row`, with their emphasis.
    fn cells(&self, ctx: &Ctx, row: usize, cols: &[usize]) -> Vec<(String, Emphasis)>;
    /// The row's marker against the baseline (`None`: not compared, or no baseline).
    fn marker(&self, ctx: &Ctx, row: usize) -> Option<char>;
    /// Rows are compared with the baseline (the title says "changed since baseline").
    fn compared(&self) -> bool;
}

/// A table pane: rows of one type from the snapshot (or derived from it), its [`Table`], its
/// JSON. [`TablePane::new`] fills in the rest; a pane overrides what it needs with struct
/// update syntax (`TablePane { open: ..., ..TablePane::new(...) }`).
pub struct TablePane<T: 'static> {
    pub id: PaneId,
    /// Tab title.
    pub title: &'static str,
    /// Name in the block title (default: the tab title).
    pub name: &'static str,
    /// The rows: a snapshot array, or rows derived from it (`ctx.derived`).
    pub rows: for<'a> fn(&Ctx<'a>) -> &'a [T],
    pub table: Table<T>,
    /// Objects counted in the tab, when not the rows (retransmits: flows, however grouped).
    pub count: Option<fn(&Snapshot) -> usize>,
    /// The objects the pane shows, as JSON (`show --json`): the objects `rows` lists.
    pub json: fn(&Snapshot, &mut dyn std::io::Write) -> serde_json::Result<()>,
    /// What Enter on a row opens (default: nothing).
    pub open: fn(&RowKey) -> Option<Target>,
    pub empty: Empty,
    pub legend: fn(&Ctx) -> String,
    /// `s`/`S` sort the table (the Node pane keeps its order).
    pub sortable: bool,
    /// Own probes whose data the pane shows (`show` loads only these).
    pub probes: &'static [&'static str],
    /// The plain form, when it is not the columns in the view's order.
    pub plain: Option<fn(&Ctx, &TableView) -> PlainTable>,
    /// A faster order than [`Table::order`] (conntrack's half a million rows); the same
    /// result.
    pub order: Option<FastOrder<T>>,
}

/// A pane's own order function (`TablePane::order`).
pub type FastOrder<T> = fn(&TablePane<T>, &Ctx, &TableView, &mut Memo) -> Order;

fn opens_nothing(_: &RowKey) -> Option<Target> {
    None
}

fn no_legend(_: &Ctx) -> String {
    String::new()
}

impl<T> TablePane<T> {
    /// A plain table pane: `rows` shown as `table`, written as `json`; nothing opens on
    /// Enter, it is sortable, it says it has no rows with a generic text, it needs no probe.
    pub const fn new(
        id: PaneId,
        title: &'static str,
        rows: for<'a> fn(&Ctx<'a>) -> &'a [T],
        table: Table<T>,
        json: fn(&Snapshot, &mut dyn std::io::Write) -> serde_json::Result<()>,
    ) -> TablePane<T> {
        TablePane {
            id,
            title,
            name: title,
            rows,
            table,
            count: None,
            json,
            open: opens_nothing,
            empty: Empty::Text(crate::text::NO_ROWS),
            legend: no_legend,
            sortable: true,
            probes: &[],
            plain: None,
            order: None,
        }
    }

    /// The view as the table applies it: without sorting, the default order.
    fn effective(&self, view: &TableView) -> TableView {
        if self.sortable {
            view.clone()
        } else {
            TableView {
                sort: None,
                sort_desc: None,
                ..view.clone()
            }
        }
    }
}

impl<T> Pane for TablePane<T> {
    fn id(&self) -> PaneId {
        self.id
    }

    fn title(&self) -> &'static str {
        self.title
    }

    fn count(&self, ctx: &Ctx) -> usize {
        match self.count {
            Some(count) => count(ctx.snap),
            None => (self.rows)(ctx).len(),
        }
    }

    fn sorting(&self) -> Option<Sorting> {
        self.sortable.then_some(Sorting {
            columns: self.table.columns.len(),
            default: self.table.default_sort,
            desc: self.table.default_desc,
        })
    }

    fn order(&self, ctx: &Ctx, view: &TableView, memo: &mut Memo) -> Order {
        if let Some(fast) = self.order {
            return fast(self, ctx, view, memo);
        }
        let rows = (self.rows)(ctx);
        let order = self.table.order(rows, ctx, &self.effective(view));
        Order::of_rows(rows, order, self.table.key)
    }

    fn open(&self, _: &Ctx, _: &TableView, key: &RowKey) -> Option<Target> {
        (self.open)(key)
    }

    fn plain(&self, ctx: &Ctx, view: &TableView) -> PlainTable {
        if let Some(plain) = self.plain {
            return plain(ctx, view);
        }
        let rows = (self.rows)(ctx);
        match self.order {
            // The pane's own order (dpscope's objects last): the rows as the screen lists them.
            Some(fast) => {
                let order = fast(self, ctx, view, &mut Memo::default());
                let order = order.rows_in(0..order.len()).map(row_index).collect();
                self.table.plain_in(rows, ctx, order)
            }
            None => self.table.plain(rows, ctx, &self.effective(view)),
        }
    }

    /// [`Pane::plain`]'s rows in its order, each row's cells made when it is passed on.
    fn plain_rows<'a>(&'a self, ctx: &'a Ctx<'a>, view: &TableView) -> super::plain::PlainRows<'a> {
        if let Some(plain) = self.plain {
            return super::plain::PlainRows::owned(plain(ctx, view));
        }
        let rows = (self.rows)(ctx);
        let order = match self.order {
            // The pane's own order (dpscope's objects last), as `plain` has it.
            Some(fast) => {
                let order = fast(self, ctx, view, &mut Memo::default());
                order.rows_in(0..order.len()).map(row_index).collect()
            }
            None => self.table.order(rows, ctx, &self.effective(view)),
        };
        self.table.plain_rows_in(rows, ctx, order)
    }

    fn json(&self, snap: &Snapshot, w: &mut dyn std::io::Write) -> serde_json::Result<()> {
        (self.json)(snap, w)
    }

    fn probes(&self) -> &'static [&'static str] {
        self.probes
    }

    fn table(&self) -> Option<&dyn TableText> {
        Some(self)
    }
}

impl<T> TableText for TablePane<T> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn legend(&self, ctx: &Ctx) -> String {
        (self.legend)(ctx)
    }

    fn empty(&self) -> Empty {
        self.empty
    }

    fn total(&self, ctx: &Ctx) -> usize {
        (self.rows)(ctx).len()
    }

    fn heads(&self) -> Vec<Head> {
        self.table.heads()
    }

    fn sorted(&self, view: &TableView) -> Option<(usize, bool)> {
        self.sortable.then(|| self.table.sort(view))
    }

    fn cells(&self, ctx: &Ctx, row: usize, cols: &[usize]) -> Vec<(String, Emphasis)> {
        match (self.rows)(ctx).get(row) {
            Some(r) => self.table.text(r, ctx, cols),
            None => Vec::new(),
        }
    }

    fn marker(&self, ctx: &Ctx, row: usize) -> Option<char> {
        self.table.marker((self.rows)(ctx).get(row)?, ctx)
    }

    fn compared(&self) -> bool {
        self.table.diff.is_some()
    }
}

/// The order of a table that lists dpscope's own objects (`own`) after the node's, each group
/// in the table's order, marked rows first: the node's datapath is what the user came for.
pub fn own_last<T>(pane: &TablePane<T>, ctx: &Ctx, view: &TableView, own: fn(&T) -> bool) -> Order {
    let rows = (pane.rows)(ctx);
    let mut order = pane.table.order(rows, ctx, &pane.effective(view));
    let key = pane.table.key;
    order.sort_by_key(|&i| (!view.marked.contains(&key(&rows[i])), own(&rows[i])));
    Order::of_rows(rows, order, key)
}

/// Row `RowRef::Row(i)` of an order, as the index of a table row.
pub fn row_index(r: RowRef) -> usize {
    match r {
        RowRef::Row(i) | RowRef::Child(i, _) => i,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ProcRef, Program};
    use crate::pane::ctx::Derived;
    use crate::pane::programs::TABLE;
    use crate::pane::rates::ProgRate;

    fn progs() -> (Snapshot, Derived) {
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
        let mut d = Derived::default();
        for (id, cpu) in [(5, 1.0), (2, 1.0), (9, 3.0), (7, 0.5)] {
            d.rates.by_id.insert(
                id,
                ProgRate {
                    events_per_s: cpu * 10.0,
                    avg_ns: Some(100.0),
                    cpu_pct: cpu,
                },
            );
        }
        (s, d)
    }

    fn ids(order: &[usize], s: &Snapshot) -> Vec<u32> {
        order.iter().map(|&i| s.programs[i].id).collect()
    }

    #[test]
    fn every_column_sorts_both_ways_with_stable_tie_break() {
        let (s, d) = progs();
        let ctx = Ctx::standalone(&s, None, &d);
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
        let (s, d) = progs();
        let ctx = Ctx::standalone(&s, None, &d);
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
        let (s, d) = progs();
        let ctx = Ctx::standalone(&s, None, &d);
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
        let (s, d) = progs();
        let ctx = Ctx::standalone(&s, None, &d);
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
        let heads = TABLE.heads();
        let narrow = visible_columns(&heads, 50);
        let headers: Vec<&str> = narrow.iter().map(|&i| heads[i].header).collect();
        assert!(headers.contains(&"NAME") && headers.contains(&"CPU") && headers.contains(&"ID"));
        assert_eq!(visible_columns(&heads, 400).len(), heads.len());
    }

    #[test]
    fn clip_cuts_at_the_end_with_an_ellipsis() {
        assert_eq!(clip("7.67 KiB", 8), "7.67 KiB");
        assert_eq!(clip("7.67 KiB", 7), "7.67 K…");
        assert_eq!(clip("expired 12s", 6), "expir…");
        assert_eq!(clip("be 12", 4), "be …");
        assert_eq!(clip("abc", 0), "");
        assert_eq!(clip("abc", 1), "…");
        // Wide characters count twice.
        assert_eq!(clip("日本語", 5), "日本…");
    }

    fn head(header: &'static str, width: u16, flex: bool, priority: u8, align: Align) -> Head {
        Head {
            header,
            width,
            flex,
            priority,
            align,
        }
    }

    #[test]
    fn widths_follow_the_content() {
        let heads = [
            head("ID", 6, false, 0, Align::Right),
            head("NAME", 30, true, 0, Align::Left),
            head("TYPE", 8, false, 1, Align::Left),
            head("XLATED", 7, false, 2, Align::Right),
        ];
        let cols = [0, 1, 2, 3];
        // Room for everything: numbers whole, fixed columns at least their declared width,
        // the rest to the name.
        let w = fit_widths(&heads, &cols, &[3, 20, 16, 8], 80);
        assert_eq!(w[3], 8, "7,856 B as `7.67 KiB` fits whole");
        assert_eq!(w[2], 16, "a long type is not cut at its declared width");
        assert_eq!(w[0], 6);
        assert_eq!(w.iter().sum::<u16>(), 80);
        // Tight: numbers first, then the name, text columns give way down to their header.
        let w = fit_widths(&heads, &cols, &[3, 20, 16, 8], 36);
        assert_eq!(w.iter().sum::<u16>(), 36);
        assert_eq!((w[0], w[3]), (3, 8));
        assert_eq!((w[1], w[2]), (17, 8), "{w:?}");
        // A name short of its width takes from a less important column beyond its declared
        // width, not below it.
        let w = fit_widths(&heads, &cols, &[3, 20, 16, 8], 40);
        assert_eq!((w[1], w[2]), (20, 9), "{w:?}");
        // Too tight for anything: the widest give way first, nothing is left at zero.
        let w = fit_widths(&heads, &cols, &[3, 20, 16, 8], 10);
        assert_eq!(w.iter().sum::<u16>(), 10);
        assert!(w.iter().all(|&x| x >= 1), "{w:?}");
    }
}
