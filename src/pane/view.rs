//! A pane's view state: what is selected (by key, never by row index), how the table is
//! sorted and filtered, which rows are open or marked; and the arithmetic of a scrolled list.

/// A stable identity of a row: selection follows the object, never the row index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RowKey {
    Id(u64),
    Path(String),
}

/// Per-pane table state. `None` sort fields mean the pane's default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableView {
    pub sort: Option<usize>,
    pub sort_desc: Option<bool>,
    /// Case-insensitive substring; a leading `!` inverts.
    pub filter: String,
    pub selected: Option<RowKey>,
    /// First row shown: a hint that keeps the viewport still while the cursor moves inside it
    /// (the view clamps it so the selected row is always visible).
    pub offset: usize,
    /// Rows opened to show their children (services → backends); a child's key is
    /// `Path("<parent>/<child>")`.
    pub expanded: Vec<RowKey>,
    /// The group a pane is showing (policy: the endpoint); `None` is the pane's first group.
    pub group: Option<RowKey>,
    /// Rows (tree panes: nodes) the user marked (`m`): highlighted and pinned at the top (a
    /// tree pins the marked node's top-level subtree), across refreshes. Keys, never pruned: a
    /// marked object that leaves the snapshot is marked again when it comes back.
    pub marked: Vec<RowKey>,
}

impl TableView {
    /// The view without where the cursor is: what a pane's rows and their order depend on.
    pub fn shape(&self) -> TableView {
        TableView {
            selected: None,
            offset: 0,
            ..self.clone()
        }
    }
}

/// What Enter on a row opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Program(u32),
    Map(u32),
    /// A conntrack entry, by its row key (the hash of its tuple).
    Conntrack(u64),
    /// The row has children to show in place (services → backends).
    Expand,
    /// Node `i` of the bundle (Cluster pane): the other panes show it.
    Node(usize),
}

/// Viewport start that shows row `sel` in `rows` lines, moving as little as possible.
pub fn scroll_to(offset: usize, sel: usize, rows: usize, len: usize) -> usize {
    let rows = rows.max(1);
    let off = if sel < offset {
        sel
    } else if sel >= offset + rows {
        sel + 1 - rows
    } else {
        offset
    };
    off.min(len.saturating_sub(rows))
}

/// `i + delta`, kept within `0..len`.
pub fn clamp_add(i: usize, delta: isize, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    i.saturating_add_signed(delta).min(len - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_viewport_moves_as_little_as_possible() {
        // Inside the window: it stays.
        assert_eq!(scroll_to(10, 15, 10, 100), 10);
        // Above: the selected row becomes the first; below: the last.
        assert_eq!(scroll_to(10, 4, 10, 100), 4);
        assert_eq!(scroll_to(10, 25, 10, 100), 16);
        // Never past the end.
        assert_eq!(scroll_to(95, 99, 10, 100), 90);
        assert_eq!(clamp_add(3, -10, 5), 0);
        assert_eq!(clamp_add(3, 10, 5), 4);
        assert_eq!(clamp_add(3, 1, 0), 0);
    }
}
