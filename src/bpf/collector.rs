//! The collector: builds `Snapshot`s on its own thread and answers detail requests.

use crate::model::Snapshot;

/// What the app may ask of the collector. The collector never receives UI state otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Collect now instead of waiting for the interval.
    Refresh,
    /// Capture the disassembly of this program into the following snapshots' `details`.
    ProgramDetail(u32),
    /// Capture a page of this map's entries into the following snapshots' `details`.
    MapPage { map_id: u32, offset: u64, limit: usize },
    /// Stop capturing details (the user went back).
    ClearDetails,
    /// Pause or resume periodic collection.
    Pause(bool),
}

/// Message from the collector thread.
#[derive(Debug)]
pub enum Update {
    Snapshot(Box<Snapshot>),
    /// A fatal collector error (the app shows it and keeps the last snapshot).
    Error(String),
}

/// How the collector runs. Built by `main` from the command line.
#[derive(Debug, Clone)]
pub struct Config {
    /// bpffs roots searched for pinned objects.
    pub bpffs_roots: Vec<std::path::PathBuf>,
    /// Enable BPF run-time stats with the `BPF_ENABLE_STATS` fd while running.
    pub stats: bool,
    /// Live refresh interval.
    pub interval: std::time::Duration,
}
