//! The baseline (`d`): a snapshot the rows are compared with, and what changed since.

use crate::model::diff::{self, ChangeKind, SnapshotDiff};
use crate::model::{PaneId, Snapshot};
use std::collections::HashMap;
use std::sync::Arc;

/// A snapshot the user marked (`d`): table rows are marked new/changed against it.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Shared, never copied: the diff worker reads it while the UI goes on.
    pub snapshot: Arc<Snapshot>,
    /// Baseline → the snapshot on screen (or, while `pending`, the one before it).
    pub diff: SnapshotDiff,
    /// `(pane, diff key)` of rows added or changed since the baseline.
    pub marks: HashMap<(PaneId, String), ChangeKind>,
    /// Tables show only rows new or changed since the baseline (`D`).
    pub changes_only: bool,
    /// Which baseline this is (`App` counts them), so a late comparison with an earlier one
    /// is not applied.
    pub id: u64,
    /// `App::snapshot_seq` of the snapshot `diff` compares; behind the one on screen while
    /// the diff worker compares the newest.
    pub compared: u64,
}

impl Baseline {
    /// A baseline compared with `current` now, on the calling thread.
    pub fn new(snapshot: impl Into<Arc<Snapshot>>, current: &Snapshot) -> Baseline {
        let snapshot = snapshot.into();
        let mut b = Baseline {
            diff: diff::unchanged(&snapshot),
            snapshot,
            marks: HashMap::new(),
            changes_only: false,
            id: 0,
            compared: 0,
        };
        b.compare(current);
        b
    }

    /// Recompute the marks against a new current snapshot.
    pub fn compare(&mut self, current: &Snapshot) {
        self.diff = diff::diff(&self.snapshot, current);
        self.marks = self.diff.marks();
    }

    pub fn taken_at(&self) -> &str {
        &self.snapshot.taken_at
    }

    /// How a row of a diffable pane changed since the baseline (`None`: unchanged).
    pub fn mark(&self, pane: PaneId, key: String) -> Option<ChangeKind> {
        self.marks.get(&(pane, key)).copied()
    }
}
