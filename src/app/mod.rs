//! App state, key handling, refresh scheduling and the terminal lifecycle.

use crate::bpf::collector::{Request, Update};
use crate::model::Snapshot;

pub mod actions;
pub mod export;
pub mod help;
pub mod jobs;
pub mod keys;
pub mod mouse;
pub mod palette;
pub mod run;
pub mod state;
pub mod terminal;
pub mod update;

pub use actions::Action;
pub use state::App;

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
}

/// Options of the full-screen UI.
#[derive(Debug, Clone, Default)]
pub struct UiOptions {
    pub no_color: bool,
    pub theme: String,
    pub interval_ms: u64,
    /// Benchmark hook: quit after the first frame that shows collected data and report the
    /// time since this instant (process start) on stderr.
    pub exit_after_first_frame: Option<std::time::Instant>,
    /// Pane to open first; the first tab when `None`.
    pub start_pane: Option<crate::model::PaneId>,
    /// Where `Ctrl-s` writes its files (default `./dpscope-dumps`).
    pub dump_dir: Option<std::path::PathBuf>,
    /// `R` writes compact recordings (keyframes + changed sections).
    pub record_compact: bool,
    /// Key bindings (the config file's `[keys]` applied to the built-in table).
    pub keymap: std::sync::Arc<keys::Keymap>,
    /// `--mouse`: clicks select rows and tabs, the wheel scrolls.
    pub mouse: bool,
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
