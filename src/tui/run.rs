//! The event loop: `select!` over terminal events, collector updates and the results of the
//! UI's own background jobs (export, baseline comparison); redraw only when something changed
//! (input, snapshot, a finished job, resize), once per burst.

use super::terminal::TerminalGuard;
use super::Source;
use crate::app::state::Mode;
use crate::app::{Action, App, UiOptions};
use crate::bpf::collector::{Request, Update};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures_util::StreamExt;

/// Run the UI on the current tokio runtime (see `tui::run` for the blocking entry point).
pub async fn run_async(source: Source, mut opts: UiOptions) -> anyhow::Result<()> {
    // https://no-color.org: any non-empty NO_COLOR turns colour off, whatever the flags say.
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        opts.no_color = true;
    }
    let (mut app, mut updates, requests) = match source {
        Source::Live { updates, requests } => (App::live(&opts), Some(updates), Some(requests)),
        Source::Replay {
            path,
            snapshots,
            skipped,
            dropped,
        } => {
            if snapshots.is_empty() {
                anyhow::bail!("{path}: no snapshots to replay");
            }
            let mut app = App::replay(path, snapshots, &skipped, &opts);
            if let Some(d) = dropped {
                let text = match app.message.take() {
                    Some(m) => format!("{d}; {}", m.text),
                    None => d,
                };
                app.message = Some(crate::app::state::Message { text, error: true });
            }
            (app, None, None)
        }
        Source::Bundle(bundle) => (App::bundle(bundle, &opts), None, None),
    };
    // Export and the baseline comparison run on threads of their own; their results come
    // back here as actions.
    let (jobs, mut job_results) = super::jobs::Jobs::start();
    app.jobs = Some(std::sync::Arc::new(jobs));
    // SIGTERM/INT/HUP/QUIT end the loop so the terminal is restored (caught before it changes).
    let mut signals = crate::signals::Signals::install()?;
    let mut signalled = None;
    let mut guard = TerminalGuard::enter(opts.mouse)?;
    if let Ok(size) = guard.terminal.size() {
        app.height = size.height;
        app.width = size.width;
    }
    let mut events = EventStream::new();
    let mut dirty = true;
    // What the last frame drew where, for clicks (`--mouse`).
    let mut hits = crate::app::mouse::Hits::default();
    let send = |reqs: Vec<Request>| {
        if let Some(tx) = &requests {
            for r in reqs {
                // The collector thread gone means it already reported why; the UI keeps going.
                let _ = tx.send(r);
            }
        }
    };

    // `biased`: input and snapshots that are already waiting are applied first; the frame is
    // drawn only when nothing else is ready, so a burst (paste, key repeat, snapshots queued
    // behind a slow frame) costs one redraw. Nothing is drawn unless something changed.
    let mut first_frame: Option<std::time::Duration> = None;
    while !app.quit {
        tokio::select! {
            biased;
            sig = signals.recv() => {
                signalled = Some(sig);
                break;
            }
            ev = events.next() => {
                let Some(ev) = ev else { break };
                dirty |= handle_event(&mut app, ev?, &hits, &send);
            }
            Some(done) = job_results.recv() => {
                send(app.update(done));
                dirty = true;
            }
            upd = recv(&mut updates) => {
                match upd {
                    Some(u) => handle_update(&mut app, u),
                    None => {
                        updates = None;
                        app.update(Action::CollectorError(crate::text::COLLECTOR_GONE.into()));
                    }
                }
                dirty = true;
            }
            _ = std::future::ready(()), if dirty => {
                super::terminal::draw_synced(&mut guard.terminal, |f| {
                    hits = crate::views::draw(f, &app);
                    crate::sanitize::buffer(f.buffer_mut());
                })?;
                dirty = false;
                if let (Some(t0), false) = (opts.exit_after_first_frame, app.waiting) {
                    first_frame = Some(t0.elapsed());
                    app.quit = true;
                }
            }
        }
    }
    drop(guard);
    if let Some(sig) = signalled {
        return Err(sig.into());
    }
    if let Some(d) = first_frame {
        eprintln!("first data frame after {:.1} ms", d.as_secs_f64() * 1e3);
    }
    Ok(())
}

async fn recv(updates: &mut Option<tokio::sync::mpsc::Receiver<Update>>) -> Option<Update> {
    match updates {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

fn handle_update(app: &mut App, u: Update) {
    let _ = match u {
        Update::Snapshot(s) => app.update(Action::Snapshot(s)),
        Update::Error(e) => app.update(Action::CollectorError(e)),
        Update::Recording(r) => app.update(Action::Recording(r)),
    };
}

/// Apply one terminal event; returns whether a redraw is needed.
fn handle_event(
    app: &mut App,
    ev: Event,
    hits: &crate::app::mouse::Hits,
    send: &impl Fn(Vec<Request>),
) -> bool {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => {
            send(app.handle_key(k));
            true
        }
        Event::Mouse(m) => match app.handle_mouse(&m, hits) {
            Some(reqs) => {
                send(reqs);
                true
            }
            None => false,
        },
        Event::Resize(w, h) => {
            app.update(Action::Resize(w, h));
            true
        }
        // Bracketed paste: into the filter or palette line, cleaned there (pasted anywhere
        // else it is ignored, not replayed as keys).
        Event::Paste(text) if matches!(app.mode, Mode::Filter | Mode::Palette) => {
            app.update(Action::InputPaste(text));
            true
        }
        _ => false,
    }
}
