//! The work `App` hands off so that a key never waits on it — the comparison with the baseline
//! (`d`) and `Ctrl-s` export — described here, below the terminal shell. The shell (`tui`)
//! implements [`Worker`] with threads of its own; their results come back as actions
//! (`Action::BaselineDiff`, `Action::Exported`). Nothing here draws or starts a thread.

use super::state::App;
use crate::model::diff::{self, ChangeKind, SnapshotDiff};
use crate::model::{PaneId, Snapshot};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Default dump directory (relative to where dpscope runs); `--dump-dir` overrides it.
pub const DEFAULT_DUMP_DIR: &str = "dpscope-dumps";

/// What the shell does for the app off the UI task (or on it, when it has no threads).
pub trait Worker: std::fmt::Debug + Send + Sync {
    /// Queue a comparison; the job comes back when it cannot be queued (run it in place).
    fn diff(&self, job: DiffJob) -> Result<(), DiffJob>;
    /// Free a replaced comparison (half a million keys) somewhere other than the UI task.
    fn dispose(&self, old: DiffDone);
    /// `Ctrl-s`: capture the export now (the screen as it is) and write it. `Ok(None)`: it is
    /// being written, `Action::Exported` brings the result; `Ok(Some(result))`: written here.
    fn export(
        &self,
        app: &App,
        dir: &Path,
        stamp: &str,
    ) -> Result<Option<Result<Exported, String>>, String>;
}

/// Which baseline and which snapshot on screen a comparison is for (`App` counts both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiffId {
    pub baseline: u64,
    pub snapshot: u64,
}

/// Compare `current` with `baseline`.
#[derive(Debug, Clone)]
pub struct DiffJob {
    pub id: DiffId,
    pub baseline: Arc<Snapshot>,
    pub current: Arc<Snapshot>,
}

impl DiffJob {
    /// The comparison itself: exactly what the UI task used to compute.
    pub fn run(&self) -> DiffDone {
        let diff = diff::diff(&self.baseline, &self.current);
        let marks = diff.marks();
        DiffDone {
            id: self.id,
            diff,
            marks,
        }
    }
}

/// A finished comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffDone {
    pub id: DiffId,
    pub diff: SnapshotDiff,
    pub marks: HashMap<(PaneId, String), ChangeKind>,
}

/// The files one export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub dir: PathBuf,
    pub snapshot: PathBuf,
    pub csv: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    pub screen_text: PathBuf,
    /// The screen with its colours as ANSI escape sequences (`cat` it in a terminal).
    pub screen_ansi: PathBuf,
    pub screen_html: PathBuf,
}

impl Exported {
    pub fn files(&self) -> Vec<&Path> {
        let mut v = vec![self.snapshot.as_path()];
        v.extend(self.csv.as_deref());
        v.extend(self.markdown.as_deref());
        v.push(&self.screen_text);
        v.push(&self.screen_ansi);
        v.push(&self.screen_html);
        v
    }
}

/// `20261121T203300.123Z`: sortable, and no `:` (not allowed in file names everywhere).
pub fn timestamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_has_no_colons() {
        let t = timestamp();
        assert!(!t.contains(':') && t.ends_with('Z') && t.len() == 20, "{t}");
    }
}
