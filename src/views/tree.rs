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
    let line = Line::from(spans).style(line_style);
    let children: Vec<TreeItem<'a, String>> = n
        .children
        .iter()
        .map(|c| item(c, theme, marked, flag_style))
        .collect();
    if children.is_empty() {
        TreeItem::new_leaf(id, line)
    } else {
        TreeItem::new(id.clone(), line.clone(), children)
            .unwrap_or_else(|_| TreeItem::new_leaf(id, line))
    }
}
