//! App state, key handling, refresh scheduling and the terminal lifecycle.
