//! Plain output of one pane for `dpscope show PANE` and export: the pane's table as aligned
//! text, CSV (RFC 4180) or a Markdown table; for table panes the same columns and default sort
//! as on screen.

use super::ctx::{Ctx, Derived};
use super::probe_rates::RetransGroup;
use super::view::TableView;
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
/// cell contains the filter, `!` inverting, as on screen), its sort and marks. Rates are
/// against `prev`; retransmits are grouped by flow; no baseline.
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
    let derived = Derived::compute(prev, snap, RetransGroup::Flow);
    let ctx = Ctx::standalone(snap, prev, &derived);
    let mut t = super::get(pane).plain(&ctx, &unfiltered);
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

/// A plain table passed on row by row: headers, alignment, and a function that passes each
/// row's cells, in order, to its argument (it can be called again: text output measures the
/// columns first). `show` writes half a million conntrack rows this way without holding them.
pub struct PlainRows<'a> {
    pub headers: Vec<String>,
    /// Right-align this column in text output (numbers).
    pub right: Vec<bool>,
    #[allow(clippy::type_complexity)]
    pub each: Box<dyn Fn(&mut dyn FnMut(&[String])) + 'a>,
}

impl<'a> PlainRows<'a> {
    /// The rows of a table already built.
    pub fn owned(t: PlainTable) -> PlainRows<'a> {
        PlainRows {
            headers: t.headers,
            right: t.right,
            each: Box::new(move |f| t.rows.iter().for_each(|r| f(r))),
        }
    }

    /// The rows of a table, borrowed.
    pub fn of(t: &'a PlainTable) -> PlainRows<'a> {
        PlainRows {
            headers: t.headers.clone(),
            right: t.right.clone(),
            each: Box::new(move |f| t.rows.iter().for_each(|r| f(r))),
        }
    }
}

/// The table as text, CSV or Markdown. Every cell passes `sanitize` here, the one boundary
/// between untrusted strings (names, comm, paths) and a terminal or text file.
pub fn render(table: &PlainTable, format: Format) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write(&PlainRows::of(table), format, &mut out);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Pane `pane` of `snap` as `show` prints it (the default view), written row by row to `w`;
/// returns the rows written.
pub fn write_pane(
    pane: PaneId,
    snap: &Snapshot,
    format: Format,
    w: &mut dyn std::io::Write,
) -> std::io::Result<usize> {
    let derived = Derived::compute(None, snap, RetransGroup::Flow);
    let ctx = Ctx::standalone(snap, None, &derived);
    let rows = super::get(pane).plain_rows(&ctx, &TableView::default());
    write(&rows, format, w)
}

/// [`render`] row by row into `w` (each row formatted when it is written; text output
/// formats every row twice, once to measure the columns); returns the rows written.
pub fn write(
    rows: &PlainRows,
    format: Format,
    w: &mut dyn std::io::Write,
) -> std::io::Result<usize> {
    let mut n = 0usize;
    let mut err = None;
    let mut put = |w: &mut dyn std::io::Write, line: &str| {
        if err.is_none() {
            if let Err(e) = w.write_all(line.as_bytes()) {
                err = Some(e);
            }
        }
    };
    match format {
        Format::Text => {
            let safe = |c: &str| crate::sanitize::text(c).into_owned();
            let headers: Vec<String> = rows.headers.iter().map(|h| safe(h)).collect();
            let mut widths: Vec<usize> = headers.iter().map(|h| width(h)).collect();
            let cols = widths.len();
            (rows.each)(&mut |r| {
                for (i, c) in r.iter().enumerate().take(cols) {
                    widths[i] = widths[i].max(width(&crate::sanitize::text(c)));
                }
            });
            let mut line = String::new();
            text_line(&mut line, &headers, &widths, &rows.right);
            put(w, &line);
            let mut cells: Vec<String> = Vec::new();
            (rows.each)(&mut |r| {
                cells.clear();
                cells.extend(r.iter().map(|c| safe(c)));
                text_line(&mut line, &cells, &widths, &rows.right);
                put(w, &line);
                n += 1;
            });
        }
        Format::Csv => {
            put(w, &csv_line(&rows.headers));
            (rows.each)(&mut |r| {
                put(w, &csv_line(r));
                n += 1;
            });
        }
        Format::Markdown => {
            put(w, &md_line(&rows.headers));
            let sep: Vec<String> = (0..rows.headers.len())
                .map(|i| {
                    if rows.right.get(i).copied().unwrap_or(false) {
                        "---:".to_string()
                    } else {
                        "---".to_string()
                    }
                })
                .collect();
            put(w, &format!("| {} |\n", sep.join(" | ")));
            (rows.each)(&mut |r| {
                put(w, &md_line(r));
                n += 1;
            });
        }
    }
    match err {
        Some(e) => Err(e),
        None => Ok(n),
    }
}

/// One line of aligned text into `out` (replacing what it held): numbers right-aligned,
/// two spaces between columns, no trailing blanks.
fn text_line(out: &mut String, cells: &[String], w: &[usize], right: &[bool]) {
    out.clear();
    let n = w.len();
    for (i, c) in cells.iter().enumerate().take(n) {
        let pad = w[i].saturating_sub(width(c));
        let last = i + 1 == n;
        if right.get(i).copied().unwrap_or(false) {
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(c);
        } else {
            out.push_str(c);
            if !last {
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        if !last {
            out.push_str("  ");
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
}

fn csv_line(cells: &[String]) -> String {
    let mut out = cells
        .iter()
        .map(|c| crate::sanitize::csv_cell(c))
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    out
}

fn md_line(cells: &[String]) -> String {
    format!(
        "| {} |\n",
        cells
            .iter()
            .map(|c| crate::sanitize::md_cell(c))
            .collect::<Vec<_>>()
            .join(" | ")
    )
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
