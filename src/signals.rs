//! The signals that end dpscope (SIGTERM, SIGINT, SIGHUP, SIGQUIT) while the full-screen UI
//! owns the terminal: caught so the event loop can give the terminal back (cooked mode, main
//! screen, cursor shown) before the process ends with the conventional status, 128 + signal.
//!
//! Outside the full-screen UI the default actions stay: there is no terminal state to restore.

use tokio::signal::unix::{signal, Signal, SignalKind};

/// The signals the UI catches, with their numbers.
const CAUGHT: [(SignalKind, i32); 4] = [
    (SignalKind::terminate(), libc::SIGTERM),
    (SignalKind::interrupt(), libc::SIGINT),
    (SignalKind::hangup(), libc::SIGHUP),
    (SignalKind::quit(), libc::SIGQUIT),
];

/// The UI ended because of signal `0` (the terminal is restored by then).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signalled(pub i32);

impl Signalled {
    /// The exit status a shell reports for a command ended by this signal.
    pub fn exit_status(self) -> u8 {
        u8::try_from(128 + self.0).unwrap_or(255)
    }
}

impl std::fmt::Display for Signalled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ended by signal {}", self.0)
    }
}

impl std::error::Error for Signalled {}

/// Handlers for the terminating signals; create them before the terminal changes mode.
pub struct Signals {
    streams: Vec<(Signal, i32)>,
}

impl Signals {
    /// Install the handlers (on the current tokio runtime).
    pub fn install() -> std::io::Result<Signals> {
        let mut streams = Vec::with_capacity(CAUGHT.len());
        for (kind, n) in CAUGHT {
            streams.push((signal(kind)?, n));
        }
        Ok(Signals { streams })
    }

    /// The next terminating signal that arrives.
    pub async fn recv(&mut self) -> Signalled {
        let waits = self.streams.iter_mut().map(|(s, n)| {
            let n = *n;
            Box::pin(async move {
                s.recv().await;
                n
            })
        });
        let (n, _, _) = futures_util::future::select_all(waits).await;
        Signalled(n)
    }
}
