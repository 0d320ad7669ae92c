//! App state, key handling, refresh scheduling and the terminal lifecycle.

use crate::bpf::collector::{Request, Update};
use crate::model::Snapshot;

/// Where snapshots come from.
pub enum Source {
    /// Live: the collector thread sends updates; the app sends it requests (details, pause).
    Live {
        updates: tokio::sync::mpsc::Receiver<Update>,
        requests: std::sync::mpsc::Sender<Request>,
    },
    /// Replay of a saved snapshot or recording (oldest first). `skipped` lists unreadable lines.
    Replay {
        path: String,
        snapshots: Vec<Snapshot>,
        skipped: Vec<(usize, String)>,
    },
}

/// Options of the full-screen UI.
#[derive(Debug, Clone, Default)]
pub struct UiOptions {
    pub no_color: bool,
    pub theme: String,
    pub interval_ms: u64,
}

/// Run the full-screen explorer until the user quits. Restores the terminal on every exit path.
pub fn run(_source: Source, _opts: UiOptions) -> anyhow::Result<()> {
    anyhow::bail!("the full-screen UI is not built yet")
}
