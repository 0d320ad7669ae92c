//! Tree panes' lines as tree widget items.

use super::theme::Theme;
use crate::pane::tree::Node;
use crate::pane::RowKey;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use tui_tree_widget::TreeItem;

/// A tree widget item for `n` and its children: the text, then its flags in `flag_style`; a
/// marked node starts with `★` and is highlighted as marked table rows are.
pub fn item<'a, T>(
    n: &Node<T>,
    theme: &Theme,
    marked: &[RowKey],
    flag_style: fn(&Node<T>, &Theme) -> Style,
) -> TreeItem<'a, String> {
    item_in(n, theme, marked, flag_style, u16::MAX)
}

/// [`item`] for a tree drawn in a bordered block `width` columns wide: a line longer than
/// what is left after the selection mark, its depth's indent and the open/closed symbol is
/// cut at its end with `…`.
pub fn item_in<'a, T>(
    n: &Node<T>,
    theme: &Theme,
    marked: &[RowKey],
    flag_style: fn(&Node<T>, &Theme) -> Style,
    width: u16,
) -> TreeItem<'a, String> {
    let id = n.ids.last().cloned().unwrap_or_default();
    let mut spans = Vec::new();
    let mut line_style = Style::default();
    if !marked.is_empty() && marked.contains(&n.key()) {
        spans.push(Span::raw("★ "));
        line_style = theme.pinned();
    }
    spans.push(Span::raw(n.text.clone()));
    if !n.flags.is_empty() {
        spans.push(Span::raw("  "));
        spans.push(Span::styled(n.flags.clone(), flag_style(n, theme)));
    }
    let depth = u16::try_from(n.ids.len().saturating_sub(1)).unwrap_or(u16::MAX);
    // Borders (2), the selection mark (1), the indent (2 a level), the open/closed symbol (2).
    let room = width
        .saturating_sub(5)
        .saturating_sub(depth.saturating_mul(2));
    let line = Line::from(clip_spans(spans, room)).style(line_style);
    let children: Vec<TreeItem<'a, String>> = n
        .children
        .iter()
        .map(|c| item_in(c, theme, marked, flag_style, width))
        .collect();
    if children.is_empty() {
        TreeItem::new_leaf(id, line)
    } else {
        TreeItem::new(id.clone(), line.clone(), children)
            .unwrap_or_else(|_| TreeItem::new_leaf(id, line))
    }
}

/// `spans` cut to `w` columns, the last one kept ending in `…` when anything was cut.
pub fn clip_spans(spans: Vec<Span<'static>>, w: u16) -> Vec<Span<'static>> {
    let total: usize = spans.iter().map(Span::width).sum();
    if total <= usize::from(w) {
        return spans;
    }
    let mut out = Vec::new();
    let mut left = w;
    for s in spans {
        let sw = crate::pane::table::text_width(&s.content);
        if sw < left {
            left -= sw;
            out.push(s);
            continue;
        }
        let style = s.style;
        out.push(Span::styled(
            crate::pane::table::clip(&s.content, left).into_owned(),
            style,
        ));
        break;
    }
    // A cut that fell between spans: the ellipsis goes at the end of what is kept.
    if !out.last().is_some_and(|s: &Span| s.content.ends_with('…')) {
        if let Some(last) = out.pop() {
            let w = crate::pane::table::text_width(&last.content);
            let style = last.style;
            out.push(Span::styled(
                crate::pane::table::clip(&format!("{}…", last.content), w).into_owned(),
                style,
            ));
        }
    }
    out
}
