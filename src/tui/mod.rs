//! The terminal shell: the event loop, the terminal's lifecycle, the threads that export and
//! compare off the UI task, and the export's files. It sits on top: it drives `app` and draws
//! with `views`; nothing below imports it.

use crate::app::UiOptions;
use crate::bpf::collector::{Request, Update};
use crate::model::Snapshot;

pub mod export;
pub mod jobs;
pub mod run;
pub mod terminal;

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
        /// Why older snapshots of a long recording were left out (`model::io::Window`).
        dropped: Option<String>,
    },
    /// Replay of a bundle of node snapshots (`replay BUNDLE_DIR`): the Cluster pane and every
    /// pane per node.
    Bundle(crate::model::bundle::Bundle),
}

/// Run the full-screen explorer until the user quits. Restores the terminal on every exit path.
///
/// Call it from plain (non-async) code (not from inside a tokio runtime): it builds a
/// current-thread tokio runtime for the UI, so the UI stays on the calling thread. From inside a
/// runtime, drive [`run::run_async`] on one thread instead (e.g. `spawn_blocking` + `block_on`).
pub fn run(source: Source, opts: UiOptions) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(run::run_async(source, opts))
}
