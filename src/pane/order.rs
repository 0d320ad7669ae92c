//! The rows a pane shows, in order, and where the selection is among them.
//!
//! `App::update` computes a pane's [`Order`] when the snapshot or the view's shape (sort,
//! filter, marks, open rows, group) changed, and keeps it with what it was computed from
//! ([`Listing`]): a key that only moves the selection reads the kept order and costs what the
//! rows on screen cost. Views draw from the kept order; they compute one only for a state
//! `update` never saw (a test that set the view directly).

use super::view::{RowKey, TableView};
use crate::model::PaneId;
use std::ops::Range;
use std::sync::Arc;

/// What one line of a pane shows: row `i` of the pane's rows, or child `j` of row `i` (a
/// backend under its service). Tree panes number their nodes in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowRef {
    Row(usize),
    Child(usize, usize),
}

/// The lines a pane shows, in order, each with its key.
///
/// Two forms: lines listed with their keys (tables of a few thousand rows, trees, services
/// with their backends), and rows of a big table listed by index, whose keys are looked up
/// when asked for (the conntrack pane: half a million lines as 4-byte indices, not as
/// half a million `RowKey`s built on every re-sort).
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    lines: Lines,
}

#[derive(Debug, Clone, PartialEq)]
enum Lines {
    Keyed {
        keys: Vec<RowKey>,
        rows: Vec<RowRef>,
    },
    /// Line `n` is row `rows[n]`; row `i`'s key is `RowKey::Id(ids[i])`.
    Ids { ids: Arc<Vec<u64>>, rows: Vec<u32> },
}

impl Default for Order {
    fn default() -> Order {
        Order {
            lines: Lines::Keyed {
                keys: vec![],
                rows: vec![],
            },
        }
    }
}

impl Order {
    /// Rows `order` (indices into `rows`) with their keys.
    pub fn of_rows<T>(rows: &[T], order: Vec<usize>, key: impl Fn(&T) -> RowKey) -> Order {
        Order {
            lines: Lines::Keyed {
                keys: order.iter().map(|&i| key(&rows[i])).collect(),
                rows: order.into_iter().map(RowRef::Row).collect(),
            },
        }
    }

    /// Rows `order` (indices into `ids`) of a table whose row `i` has the key
    /// `RowKey::Id(ids[i])`: no key is built until one is asked for.
    pub fn by_id(ids: Arc<Vec<u64>>, order: Vec<u32>) -> Order {
        Order {
            lines: Lines::Ids { ids, rows: order },
        }
    }

    /// Add a line after the last (an order built line by line: trees, services).
    pub fn push(&mut self, key: RowKey, row: RowRef) {
        match &mut self.lines {
            Lines::Keyed { keys, rows } => {
                keys.push(key);
                rows.push(row);
            }
            Lines::Ids { .. } => {
                // Built by index only; a keyed line turns the order into a keyed one.
                let n = self.len();
                let (mut keys, mut rows) = (Vec::with_capacity(n + 1), Vec::with_capacity(n + 1));
                for i in 0..n {
                    if let (Some(k), Some(r)) = (self.key(i), self.row(i)) {
                        keys.push(k);
                        rows.push(r);
                    }
                }
                keys.push(key);
                rows.push(row);
                self.lines = Lines::Keyed { keys, rows };
            }
        }
    }

    pub fn len(&self) -> usize {
        match &self.lines {
            Lines::Keyed { rows, .. } => rows.len(),
            Lines::Ids { rows, .. } => rows.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The key of line `n`.
    pub fn key(&self, n: usize) -> Option<RowKey> {
        match &self.lines {
            Lines::Keyed { keys, .. } => keys.get(n).cloned(),
            Lines::Ids { ids, rows } => rows
                .get(n)
                .map(|&i| RowKey::Id(ids.get(i as usize).copied().unwrap_or(0))),
        }
    }

    /// What line `n` shows.
    pub fn row(&self, n: usize) -> Option<RowRef> {
        match &self.lines {
            Lines::Keyed { rows, .. } => rows.get(n).copied(),
            Lines::Ids { rows, .. } => rows.get(n).map(|&i| RowRef::Row(i as usize)),
        }
    }

    /// The keys of lines `range` (those that exist).
    pub fn keys_in(&self, range: Range<usize>) -> impl Iterator<Item = RowKey> + '_ {
        let end = range.end.min(self.len());
        (range.start.min(end)..end).filter_map(|n| self.key(n))
    }

    /// Every line's key, in order.
    pub fn keys(&self) -> Vec<RowKey> {
        self.keys_in(0..self.len()).collect()
    }

    /// What lines `range` show (those that exist).
    pub fn rows_in(&self, range: Range<usize>) -> impl Iterator<Item = RowRef> + '_ {
        let end = range.end.min(self.len());
        (range.start.min(end)..end).filter_map(|n| self.row(n))
    }

    /// What every line shows, in order.
    pub fn rows(&self) -> impl Iterator<Item = RowRef> + '_ {
        self.rows_in(0..self.len())
    }

    /// Where `key` is, looking first at `hint` and then outwards from it: a key near where
    /// the selection was (a click on a row on screen) is found in the time of the distance.
    pub fn position(&self, key: &RowKey, hint: usize) -> Option<usize> {
        match (&self.lines, key) {
            (Lines::Keyed { keys, .. }, _) => outwards(keys.len(), hint, |n| keys[n] == *key),
            (Lines::Ids { .. }, RowKey::Path(_)) => None,
            (Lines::Ids { ids, rows }, RowKey::Id(id)) => {
                let is = |n: usize| ids.get(rows[n] as usize) == Some(id);
                // Near the hint first (a click); then by two straight passes (the row with
                // that key, then its line) instead of hopping around the table.
                let n = rows.len();
                let near = hint.min(n.saturating_sub(1));
                let lo = near.saturating_sub(NEAR);
                let hi = (near + NEAR + 1).min(n);
                if let Some(p) = outwards(hi - lo, near - lo, |d| is(lo + d)) {
                    return Some(lo + p);
                }
                let mut with = ids.iter().enumerate().filter(|(_, h)| *h == id);
                match (with.next(), with.next()) {
                    (None, _) => None,
                    (Some((i, _)), None) => rows.iter().position(|&r| r as usize == i),
                    // Two rows share the key (a hash collision): the one nearest the hint.
                    _ => outwards(n, hint, is),
                }
            }
        }
    }

    /// The selected line: `selected`'s position (near `hint`), else the first line.
    pub fn selected(&self, selected: Option<&RowKey>, hint: usize) -> Option<usize> {
        if self.is_empty() {
            return None;
        }
        Some(selected.and_then(|k| self.position(k, hint)).unwrap_or(0))
    }
}

/// Lines within this distance of the hint are looked at one by one, outwards.
const NEAR: usize = 256;

/// The first of `0..n`, by distance from `hint` (below first on a tie), for which `is` holds.
fn outwards(n: usize, hint: usize, is: impl Fn(usize) -> bool) -> Option<usize> {
    let hint = hint.min(n.saturating_sub(1));
    for d in 0..n {
        let (below, above) = (hint + d, hint.checked_sub(d).filter(|_| d > 0));
        if below < n && is(below) {
            return Some(below);
        }
        if let Some(a) = above {
            if is(a) {
                return Some(a);
            }
        }
        if below >= n && above.is_none() {
            break;
        }
    }
    None
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
        self.selected_key = self.order.key(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(n: u64) -> Order {
        let mut o = Order::default();
        for k in 0..n {
            o.push(RowKey::Id(k), RowRef::Row(k as usize));
        }
        o
    }

    /// The same lines by index: row `i`'s key is `Id(i)`.
    fn by_id(n: u64) -> Order {
        Order::by_id(Arc::new((0..n).collect()), (0..n as u32).collect())
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
    fn lines_by_index_give_the_keys_of_their_rows() {
        // Rows 0..1000 listed backwards: line n shows row 999 - n, whose key is Id(999 - n).
        let ids: Arc<Vec<u64>> = Arc::new((0..1000).map(|i| i * 7).collect());
        let o = Order::by_id(ids, (0..1000u32).rev().collect());
        assert_eq!(o.len(), 1000);
        assert_eq!(o.key(0), Some(RowKey::Id(999 * 7)));
        assert_eq!(o.row(0), Some(RowRef::Row(999)));
        assert_eq!(o.key(1000), None);
        assert_eq!(o.row(1000), None);
        assert_eq!(
            o.keys_in(998..1005).collect::<Vec<_>>(),
            vec![RowKey::Id(7), RowKey::Id(0)]
        );
        assert_eq!(o.keys().len(), 1000);
        // Found near the hint and far from it (past the lines looked at one by one).
        for hint in [0, 500, 999] {
            for n in [0, 3, 499, 500, 996, 999] {
                let key = o.key(n).unwrap();
                assert_eq!(o.position(&key, hint), Some(n), "line {n} from {hint}");
            }
        }
        assert_eq!(o.position(&RowKey::Id(1), 0), None);
        assert_eq!(o.position(&RowKey::Path("x".into()), 0), None);
        // The same answers as the keyed form of the same lines.
        let keyed = order(600);
        let ids = by_id(600);
        for hint in [0, 300, 599] {
            for k in [0, 1, 299, 598, 599, 600] {
                let key = RowKey::Id(k);
                assert_eq!(ids.position(&key, hint), keyed.position(&key, hint));
            }
        }
        assert_eq!(ids.keys(), keyed.keys());
        assert_eq!(
            ids.rows().collect::<Vec<_>>(),
            keyed.rows().collect::<Vec<_>>()
        );
    }

    #[test]
    fn rows_sharing_a_key_are_found_nearest_the_hint() {
        // Rows 10 and 900 hash alike.
        let mut ids: Vec<u64> = (0..1000).collect();
        ids[900] = 10;
        let o = Order::by_id(Arc::new(ids), (0..1000).collect());
        assert_eq!(o.position(&RowKey::Id(10), 0), Some(10));
        assert_eq!(o.position(&RowKey::Id(10), 999), Some(900));
        assert_eq!(o.position(&RowKey::Id(10), 400), Some(10));
        // A line added to an order by index keeps every line and key.
        let mut o = by_id(3);
        o.push(RowKey::Path("x".into()), RowRef::Child(2, 0));
        assert_eq!(
            o.keys(),
            vec![
                RowKey::Id(0),
                RowKey::Id(1),
                RowKey::Id(2),
                RowKey::Path("x".into())
            ]
        );
        assert_eq!(o.row(3), Some(RowRef::Child(2, 0)));
    }

    #[test]
    fn a_listing_follows_the_selected_key() {
        let inputs = Inputs {
            seq: 1,
            pane: PaneId::Programs,
            shape: TableView::default(),
            extra: vec![],
        };
        for o in [order(10), by_id(10)] {
            let mut l = Listing::new(inputs.clone(), o, Some(&RowKey::Id(7)), 0);
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
}
