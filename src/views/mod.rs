//! Pure rendering of `App` state: one module per pane plus shared widgets.
pub mod plain;
