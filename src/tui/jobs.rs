//! Work the UI task hands to other threads so that a key never waits on it: `Ctrl-s` export
//! (a thread per export) and the comparison with the baseline (`d`; one worker thread, the
//! newest request wins). Each sends its result back as an [`Action`] on a channel the event
//! loop selects on, next to the terminal and the collector.
//!
//! Both read the snapshots through `Arc`s: nothing is copied on the UI task. `App` sees them
//! as an `app::work::Worker`; [`Inline`] is the same work on the calling thread (tests,
//! benchmarks: no event loop to bring a result back).

use super::export::ExportJob;
use crate::app::work::{DiffDone, DiffJob, Exported, Worker};
use crate::app::{Action, App};
use std::path::Path;
use std::sync::mpsc as std_mpsc;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

enum Work {
    Diff(DiffJob),
    /// A replaced comparison to free here rather than on the UI task (half a million keys).
    Drop(Box<DiffDone>),
}

/// The senders the app hands work to. Cloning it shares the same worker.
#[derive(Debug, Clone)]
pub struct Jobs {
    results: UnboundedSender<Action>,
    work: std_mpsc::Sender<Work>,
}

impl Jobs {
    /// Start the diff worker; the receiver gets every result as an `Action`. The worker ends
    /// when the last `Jobs` is dropped.
    pub fn start() -> (Jobs, UnboundedReceiver<Action>) {
        let (results, rx) = unbounded_channel();
        let (work, work_rx) = std_mpsc::channel::<Work>();
        let out = results.clone();
        // If the thread cannot start, `work_rx` is dropped with the closure and every diff
        // falls back to the UI task (`diff` returns the job).
        let _ = std::thread::Builder::new()
            .name("dpscope-diff".into())
            .spawn(move || diff_worker(&work_rx, &out));
        (Jobs { results, work }, rx)
    }

    /// Write an export on a thread of its own; its result comes back as `Action::Exported`.
    pub fn export_job(&self, job: ExportJob) -> Result<(), String> {
        let out = self.results.clone();
        std::thread::Builder::new()
            .name("dpscope-export".into())
            .spawn(move || {
                let _ = out.send(Action::Exported(job.write().map(Box::new)));
            })
            .map(|_| ())
            .map_err(|e| format!("cannot start the export thread: {e}"))
    }
}

impl Worker for Jobs {
    /// Queue a comparison; the job comes back when the worker is gone (run it in place).
    fn diff(&self, job: DiffJob) -> Result<(), DiffJob> {
        match self.work.send(Work::Diff(job)) {
            Err(std_mpsc::SendError(Work::Diff(j))) => Err(j),
            _ => Ok(()),
        }
    }

    /// Free a replaced comparison on the worker (or here, if it is gone).
    fn dispose(&self, old: DiffDone) {
        let _ = self.work.send(Work::Drop(Box::new(old)));
    }

    fn export(
        &self,
        app: &App,
        dir: &Path,
        stamp: &str,
    ) -> Result<Option<Result<Exported, String>>, String> {
        self.export_job(ExportJob::capture(app, dir, stamp)?)
            .map(|()| None)
    }
}

/// The same work on the calling thread: what the UI task ran before the worker threads
/// (tests and benchmarks without an event loop).
#[derive(Debug, Clone, Copy, Default)]
pub struct Inline;

impl Worker for Inline {
    fn diff(&self, job: DiffJob) -> Result<(), DiffJob> {
        Err(job)
    }

    fn dispose(&self, _old: DiffDone) {}

    fn export(
        &self,
        app: &App,
        dir: &Path,
        stamp: &str,
    ) -> Result<Option<Result<Exported, String>>, String> {
        Ok(Some(ExportJob::capture(app, dir, stamp)?.write()))
    }
}

/// Compare the newest job waiting (older ones are already out of date), send the result.
fn diff_worker(work: &std_mpsc::Receiver<Work>, out: &UnboundedSender<Action>) {
    while let Ok(first) = work.recv() {
        let mut job = None;
        for w in std::iter::once(first).chain(work.try_iter()) {
            match w {
                Work::Diff(j) => job = Some(j),
                Work::Drop(old) => drop(old),
            }
        }
        if let Some(j) = job {
            if out.send(Action::BaselineDiff(Box::new(j.run()))).is_err() {
                return;
            }
        }
    }
}
