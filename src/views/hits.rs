//! What a frame drew where, for the mouse (`--mouse`): the draw's second output.
//!
//! Views stay pure functions of `&App`; while [`record`] runs a draw, the widgets that can be
//! clicked (tabs, table and tree rows) note their screen cells here. The event loop keeps the
//! last frame's [`Hits`] and turns a click into the action for what is under the pointer, so a
//! click always means what the user saw, whatever the layout, presentation mode or scroll.

use crate::app::state::RowKey;
use crate::model::PaneId;
use ratatui::layout::{Position, Rect};
use std::cell::RefCell;

/// Clickable regions of one frame.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hits {
    /// Pane tabs: where each is drawn and its pane.
    pub tabs: Vec<(Rect, PaneId)>,
    /// Rows of the pane's table or tree: where each is drawn and its key.
    pub rows: Vec<(Rect, RowKey)>,
    /// The first row shown (the list's scroll offset), for panes that scroll by offset.
    pub offset: Option<usize>,
}

impl Hits {
    pub fn tab_at(&self, p: Position) -> Option<PaneId> {
        self.tabs
            .iter()
            .find(|(r, _)| r.contains(p))
            .map(|&(_, i)| i)
    }

    pub fn row_at(&self, p: Position) -> Option<&RowKey> {
        self.rows
            .iter()
            .find(|(r, _)| r.contains(p))
            .map(|(_, k)| k)
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Hits>> = const { RefCell::new(None) };
}

/// Run `draw` and return what it drew where.
pub fn record(draw: impl FnOnce()) -> Hits {
    CURRENT.with(|c| *c.borrow_mut() = Some(Hits::default()));
    draw();
    CURRENT.with(|c| c.borrow_mut().take()).unwrap_or_default()
}

fn with(f: impl FnOnce(&mut Hits)) {
    CURRENT.with(|c| {
        if let Some(h) = c.borrow_mut().as_mut() {
            f(h);
        }
    });
}

/// A tab was drawn at `area`.
pub fn tab(area: Rect, pane: PaneId) {
    with(|h| h.tabs.push((area, pane)));
}

/// A row with `key` was drawn at `area`.
pub fn row(area: Rect, key: RowKey) {
    with(|h| h.rows.push((area, key)));
}

/// The list shown starts at row `offset`.
pub fn offset(offset: usize) {
    with(|h| h.offset = Some(offset));
}

/// Rows of a table drawn in `area` (bordered block, one header line) from `first` on: row `i`
/// of `keys` is on screen line `i * step` below the header (`step` 2 when double-spaced).
pub fn table_rows(area: Rect, header_lines: u16, step: u16, keys: impl Iterator<Item = RowKey>) {
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
        row(Rect::new(inner.x, y, inner.width, 1), key);
    }
}

/// Rows of a tree just rendered into `area` with `state`: each line that starts a node.
pub fn tree_rows(area: Rect, state: &tui_tree_widget::TreeState<String>) {
    let mut last: Option<&[String]> = None;
    for y in area.y..area.y.saturating_add(area.height) {
        let Some(ids) = state.rendered_at(Position::new(area.x.saturating_add(1), y)) else {
            continue;
        };
        if last == Some(ids) {
            continue;
        }
        last = Some(ids);
        row(
            Rect::new(area.x, y, area.width, 1),
            RowKey::Path(ids.join("/")),
        );
    }
}
