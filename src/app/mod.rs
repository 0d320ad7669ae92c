//! App state and the reducer: key handling, the pane's order, what to ask the collector for.
//! The terminal shell around it (event loop, terminal, threads, export) is `crate::tui`.

pub mod actions;
pub mod help;
pub mod keys;
pub mod mouse;
pub mod palette;
pub mod state;
pub mod update;
pub mod work;

pub use actions::Action;
pub use state::App;

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
    /// Live: the bpffs roots the collector reads. A `Ctrl-s` export of a snapshot taken with
    /// the Conntrack pane closed (no CT table in it) reads the CT maps there itself, so the
    /// file carries the table. `None`: exports never read the kernel.
    pub bpffs_roots: Option<Vec<std::path::PathBuf>>,
}
