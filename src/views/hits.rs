//! Where a frame drew what can be clicked: the draw's second output (`app::mouse::Hits`).
//! Widgets that can be clicked (tabs, table and tree rows) add their cells to the `Hits`
//! passed down the draw; `views::draw` returns it.

use crate::app::mouse::Hits;
use crate::model::PaneId;
use crate::pane::RowKey;
use ratatui::layout::{Position, Rect};

/// A tab was drawn at `area`.
pub fn tab(hits: &mut Hits, area: Rect, pane: PaneId) {
    hits.tabs.push((area, pane));
}

/// Rows of a table drawn in `area` (bordered block, `header_lines` lines of header): row `i`
/// of `keys` is on screen line `i * step` below the header (`step` 2 when double-spaced), the
/// list starting at row `offset`.
pub fn table_rows(
    hits: &mut Hits,
    area: Rect,
    header_lines: u16,
    step: u16,
    offset: usize,
    keys: impl Iterator<Item = RowKey>,
) {
    hits.offset = Some(offset);
    let inner = Rect {
        x: area.x.saturating_add(1),
        y: area.y.saturating_add(1),
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
    };
    let top = inner.y.saturating_add(header_lines);
    let bottom = inner.y.saturating_add(inner.height);
    for (i, key) in keys.enumerate() {
        let y = top.saturating_add((i as u16).saturating_mul(step.max(1)));
        if y >= bottom {
            break;
        }
        hits.rows.push((Rect::new(inner.x, y, inner.width, 1), key));
    }
}

/// Rows of a tree just rendered into `area` with `state`: each line that starts a node.
pub fn tree_rows(hits: &mut Hits, area: Rect, state: &tui_tree_widget::TreeState<String>) {
    hits.offset = Some(state.get_offset());
    let mut last: Option<&[String]> = None;
    for y in area.y..area.y.saturating_add(area.height) {
        let Some(ids) = state.rendered_at(Position::new(area.x.saturating_add(1), y)) else {
            continue;
        };
        if last == Some(ids) {
            continue;
        }
        last = Some(ids);
        hits.rows.push((
            Rect::new(area.x, y, area.width, 1),
            RowKey::Path(ids.join("/")),
        ));
    }
}
