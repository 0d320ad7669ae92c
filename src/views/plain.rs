//! Plain output of one pane for `dpscope show PANE`: the same columns and default sort as the
//! TUI table, unfiltered, as aligned text, CSV (RFC 4180) or a Markdown table.

use super::registry;
use super::table::{Align, Ctx, TableDef};
use crate::app::state::TableView;
use crate::model::{PaneId, Snapshot};

/// Display width (wide and combining characters counted as the terminal shows them).
fn width(s: &str) -> usize {
    ratatui::text::Span::raw(s).width()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainTable {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Right-align this column in text output (numbers).
    pub right: Vec<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Csv,
    Markdown,
}

/// The pane's table. `prev` gives rates (events/s, CPU %) when present.
pub fn pane_table(pane: PaneId, snap: &Snapshot, prev: Option<&Snapshot>) -> PlainTable {
    pane_table_as(pane, snap, prev, &TableView::default())
}

/// The pane's table as `view` shows it: its filter (for every pane: a row is kept when any
/// cell contains the filter, `!` inverting, as on screen) and its sort (generic tables).
pub fn pane_table_as(
    pane: PaneId,
    snap: &Snapshot,
    prev: Option<&Snapshot>,
    view: &TableView,
) -> PlainTable {
    // The pane sorts (and pins marked rows); the filter is applied once, below, on the cells,
    // which is what every pane's own filter matches too.
    let unfiltered = TableView {
        filter: String::new(),
        ..view.clone()
    };
    let mut t = (registry::pane(pane).plain)(snap, prev, &unfiltered);
    if !view.filter.is_empty() {
        let (invert, needle) = match view.filter.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, view.filter.as_str()),
        };
        let needle = needle.to_lowercase();
        t.rows
            .retain(|r| r.iter().any(|c| c.to_lowercase().contains(&needle)) != invert);
    }
    t
}

/// A pane's table for `show`, with rates against `prev` and no baseline.
pub(crate) fn from_snapshot<T>(
    def: &TableDef<T>,
    rows: &[T],
    snap: &Snapshot,
    prev: Option<&Snapshot>,
    view: &TableView,
) -> PlainTable {
    let rates = crate::app::rates::compute(prev, snap);
    from_def_as(
        def,
        rows,
        &Ctx {
            snap,
            rates: &rates,
            baseline: None,
            presentation: false,
        },
        view,
    )
}

pub(crate) fn from_def<T>(def: &TableDef<T>, rows: &[T], ctx: &Ctx) -> PlainTable {
    from_def_as(def, rows, ctx, &TableView::default())
}

pub(crate) fn from_def_as<T>(
    def: &TableDef<T>,
    rows: &[T],
    ctx: &Ctx,
    view: &TableView,
) -> PlainTable {
    let order = def.order(rows, ctx, view);
    PlainTable {
        headers: def.columns.iter().map(|c| c.header.to_string()).collect(),
        rows: order
            .into_iter()
            // Cells padded for on-screen alignment (`3%  ` beside `92% !`) are trimmed here.
            .map(|i| {
                def.cells(&rows[i], ctx)
                    .into_iter()
                    .map(|c| c.trim_end().to_string())
                    .collect()
            })
            .collect(),
        right: def
            .columns
            .iter()
            .map(|c| c.align == Align::Right)
            .collect(),
    }
}

/// The table as text, CSV or Markdown. Every cell passes `sanitize` here, the one boundary
/// between untrusted strings (names, comm, paths) and a terminal or text file.
pub fn render(table: &PlainTable, format: Format) -> String {
    match format {
        Format::Text => text(&safe(table)),
        Format::Csv => csv(table),
        Format::Markdown => markdown(table),
    }
}

/// The table with every header and cell made safe for a terminal (`sanitize::text`).
fn safe(t: &PlainTable) -> PlainTable {
    let cells = |r: &[String]| -> Vec<String> {
        r.iter()
            .map(|c| crate::sanitize::text(c).into_owned())
            .collect()
    };
    PlainTable {
        headers: cells(&t.headers),
        rows: t.rows.iter().map(|r| cells(r)).collect(),
        right: t.right.clone(),
    }
}

fn text(t: &PlainTable) -> String {
    let n = t.headers.len();
    let mut w: Vec<usize> = t.headers.iter().map(|h| width(h)).collect();
    for r in &t.rows {
        for (i, c) in r.iter().enumerate().take(n) {
            w[i] = w[i].max(width(c));
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate().take(n) {
            let pad = w[i].saturating_sub(width(c));
            let last = i + 1 == n;
            if t.right.get(i).copied().unwrap_or(false) {
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            } else {
                s.push_str(c);
                if !last {
                    s.push_str(&" ".repeat(pad));
                }
            }
            if !last {
                s.push_str("  ");
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(&t.headers);
    for r in &t.rows {
        line(r);
    }
    out
}

fn csv_field(s: &str) -> String {
    crate::sanitize::csv_cell(s)
}

fn csv(t: &PlainTable) -> String {
    let mut out = String::new();
    for r in std::iter::once(&t.headers).chain(t.rows.iter()) {
        out.push_str(&r.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

fn md_cell(s: &str) -> String {
    crate::sanitize::md_cell(s)
}

fn markdown(t: &PlainTable) -> String {
    let row = |cells: &[String]| {
        format!(
            "| {} |\n",
            cells
                .iter()
                .map(|c| md_cell(c))
                .collect::<Vec<_>>()
                .join(" | ")
        )
    };
    let mut out = row(&t.headers);
    let sep: Vec<String> = (0..t.headers.len())
        .map(|i| {
            if t.right.get(i).copied().unwrap_or(false) {
                "---:".to_string()
            } else {
                "---".to_string()
            }
        })
        .collect();
    out.push_str(&format!("| {} |\n", sep.join(" | ")));
    for r in &t.rows {
        out.push_str(&row(r));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> PlainTable {
        PlainTable {
            headers: vec!["ID".into(), "NAME".into()],
            rows: vec![
                vec!["7".into(), "a,\"b\"".into()],
                vec!["12".into(), "x|y".into()],
            ],
            right: vec![true, false],
        }
    }

    #[test]
    fn text_aligns_numbers_right() {
        assert_eq!(
            render(&t(), Format::Text),
            "ID  NAME\n 7  a,\"b\"\n12  x|y\n"
        );
    }

    #[test]
    fn csv_quotes_per_rfc4180() {
        assert_eq!(
            render(&t(), Format::Csv),
            "ID,NAME\r\n7,\"a,\"\"b\"\"\"\r\n12,x|y\r\n"
        );
    }

    #[test]
    fn markdown_escapes_pipes() {
        let md = render(&t(), Format::Markdown);
        assert_eq!(
            md,
            "| ID | NAME |\n| ---: | --- |\n| 7 | a,\"b\" |\n| 12 | x\\|y |\n"
        );
    }
}
