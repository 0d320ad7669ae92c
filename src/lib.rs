//! dpscope: a live explorer of a Linux node's eBPF datapath.
//!
//! Data flows one way: kernel → collectors (`bpf`) → `model::Snapshot` → app state (`app`) →
//! views (`views`), driven by the terminal shell (`tui`). Imports go one way too:
//! `model ← bpf`, `model ← pane ← app ← views ← tui` (tests/import_layers.rs keeps it so).
//! See docs/architecture.md.

pub mod app;
pub mod bpf;
pub mod bytes;
pub mod cli;
pub mod config;
pub mod model;
pub mod pane;
pub mod ring;
pub mod safe_fs;
pub mod sanitize;
pub mod signals;
pub mod text;
pub mod tui;
pub mod views;
