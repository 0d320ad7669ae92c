//! The rows a pane shows, in order, and where the selection is among them.
//!
//! `App::update` computes a pane's [`Order`] when the snapshot or the view's shape (sort,
//! filter, marks, open rows, group) changed, and keeps it with what it was computed from
//! ([`Listing`]): a key that only moves the selection reads the kept order and costs what the
//! rows on screen cost. Views draw from the kept order; they compute one only for a state
//! `update` never saw (a test that set the view directly).

use super::view::{RowKey, TableView};
use crate::model::PaneId;
use std::sync::Arc;

/// What one line of a pane shows: row `i` of the pane's rows, or child `j` of row `i` (a
/// backend under its service). Tree panes number their nodes in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowRef {
    Row(usize),
    Child(usize, usize),
}

/// The lines a pane shows, in order, with their keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Order {
    pub keys: Vec<RowKey>,
    pub rows: Vec<RowRef>,
}

impl Order {
    /// Rows `order` (indices into `rows`) with their keys.
    pub fn of_rows<T>(rows: &[T], order: Vec<usize>, key: impl Fn(&T) -> RowKey) -> Order {
        Order {
            keys: order.iter().map(|&i| key(&rows[i])).collect(),
            rows: order.into_iter().map(RowRef::Row).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Where `key` is, looking first at `hint` and then outwards from it: a key near where
    /// the selection was (a click on a row on screen) is found in the time of the distance.
    pub fn position(&self, key: &RowKey, hint: usize) -> Option<usize> {
        let n = self.keys.len();
        let hint = hint.min(n.saturating_sub(1));
        for d in 0..n {
            let (below, above) = (hint + d, hint.checked_sub(d).filter(|_| d > 0));
            if below < n && self.keys[below] == *key {
                return Some(below);
            }
            if let Some(a) = above {
                if self.keys[a] == *key {
                    return Some(a);
                }
            }
            if below >= n && above.is_none() {
                break;
            }
        }
        None
    }

    /// The selected line: `selected`'s position (near `hint`), else the first line.
    pub fn selected(&self, selected: Option<&RowKey>, hint: usize) -> Option<usize> {
        if self.is_empty() {
            return None;
        }
        Some(selected.and_then(|k| self.position(k, hint)).unwrap_or(0))
    }
}

/// Work a pane reuses between orders of one snapshot (the conntrack rows' keys: hashing half a
/// million tuples costs more than sorting them). `App` keeps one; it forgets everything when
/// the snapshot changes.
#[derive(Debug, Clone, Default)]
pub struct Memo {
    seq: u64,
    /// Row key hashes of the conntrack rows, indexed by row.
    pub conntrack_keys: Option<Arc<Vec<u64>>>,
}

impl Memo {
    /// The memo for snapshot `seq`: emptied when it was for another.
    pub fn of(&mut self, seq: u64) -> &mut Memo {
        if self.seq != seq {
            *self = Memo {
                seq,
                ..Memo::default()
            };
        }
        self
    }
}

/// What an order was computed from: the snapshot (`App::snapshot_seq`), the pane, the view's
/// shape (without the cursor), and the app state its rows depend on (`extra`: the retransmits
/// grouping, the baseline's marks).
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    pub seq: u64,
    pub pane: PaneId,
    pub shape: TableView,
    pub extra: Vec<u64>,
}

/// A computed order, what it was computed from, and the selected line.
#[derive(Debug, Clone)]
pub struct Listing {
    pub inputs: Inputs,
    pub order: Arc<Order>,
    /// Index of the selected line in `order` (the first line when the selected key is not
    /// shown); 0 for an empty order.
    pub selected: usize,
    /// The view's selected key `selected` was found for.
    pub selected_key: Option<RowKey>,
}

impl Listing {
    /// `order` with `selected` found in it, looking near line `hint` first (where the
    /// selection was in the previous order).
    pub fn new(inputs: Inputs, order: Order, selected: Option<&RowKey>, hint: usize) -> Listing {
        Listing {
            selected: order.selected(selected, hint).unwrap_or(0),
            selected_key: selected.cloned(),
            inputs,
            order: Arc::new(order),
        }
    }

    /// Was `selected` the key this listing found its selected line for?
    pub fn selects(&self, selected: Option<&RowKey>) -> bool {
        self.selected_key.as_ref() == selected
    }

    /// Follow a selection that moved (a click, a test setting it): near the old line first.
    pub fn reselect(&mut self, selected: Option<&RowKey>) {
        if !self.selects(selected) || self.selected >= self.order.len() {
            self.selected = self.order.selected(selected, self.selected).unwrap_or(0);
            self.selected_key = selected.cloned();
        }
    }

    /// Line `i` is selected now (the app moved the cursor there).
    pub fn select(&mut self, i: usize) {
        self.selected = i;
        self.selected_key = self.order.keys.get(i).cloned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(n: u64) -> Order {
        Order {
            keys: (0..n).map(RowKey::Id).collect(),
            rows: (0..n as usize).map(RowRef::Row).collect(),
        }
    }

    #[test]
    fn positions_are_found_from_the_hint_in_both_directions() {
        let o = order(10);
        for hint in [0, 3, 9, 50] {
            for k in 0..10 {
                assert_eq!(o.position(&RowKey::Id(k), hint), Some(k as usize));
            }
            assert_eq!(o.position(&RowKey::Id(10), hint), None);
        }
        assert_eq!(Order::default().position(&RowKey::Id(0), 0), None);
        assert_eq!(o.selected(None, 4), Some(0));
        assert_eq!(o.selected(Some(&RowKey::Id(99)), 4), Some(0));
        assert_eq!(Order::default().selected(None, 0), None);
    }

    #[test]
    fn a_listing_follows_the_selected_key() {
        let inputs = Inputs {
            seq: 1,
            pane: PaneId::Programs,
            shape: TableView::default(),
            extra: vec![],
        };
        let mut l = Listing::new(inputs, order(10), Some(&RowKey::Id(7)), 0);
        assert_eq!(l.selected, 7);
        assert!(l.selects(Some(&RowKey::Id(7))));
        l.reselect(Some(&RowKey::Id(2)));
        assert_eq!(l.selected, 2);
        // A key not shown selects the first line, and is not looked for again.
        l.reselect(Some(&RowKey::Id(42)));
        assert_eq!(l.selected, 0);
        assert!(l.selects(Some(&RowKey::Id(42))));
        l.select(5);
        assert!(l.selects(Some(&RowKey::Id(5))));
    }
}
