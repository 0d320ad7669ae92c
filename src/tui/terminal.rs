//! Terminal lifecycle: raw mode + alternate screen on entry; restored on drop, on panic and on
//! error, so an incident responder never gets a broken shell back.

use crossterm::{cursor, execute, terminal};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use std::io::{self, Stdout};
use std::sync::{Mutex, Once};
use std::thread::ThreadId;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Owns the terminal in full-screen mode; dropping it gives the terminal back.
pub struct TerminalGuard {
    pub terminal: Term,
}

/// Leave raw mode and the alternate screen. Safe to call more than once.
pub fn restore() {
    let _ = terminal::disable_raw_mode();
    // Mouse reporting off too (harmless when it was never on): a shell left with it on prints
    // escape codes for every click.
    let _ = execute!(
        io::stdout(),
        crossterm::event::DisableMouseCapture,
        crossterm::event::DisableBracketedPaste,
        terminal::LeaveAlternateScreen,
        cursor::Show
    );
}

static HOOK: Once = Once::new();
/// The thread that owns the full-screen terminal, while it does.
static UI_THREAD: Mutex<Option<ThreadId>> = Mutex::new(None);

fn set_ui_thread(t: Option<ThreadId>) {
    if let Ok(mut g) = UI_THREAD.lock() {
        *g = t;
    }
}

/// Restore the terminal before the panic message is printed, so the message lands on the normal
/// screen. Only for a panic on the UI thread: a panicking collector thread is reported by the UI
/// itself (its channel closes) and must not pull the screen from under a UI that keeps running.
fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let on_ui = UI_THREAD
                .lock()
                .map(|g| *g == Some(std::thread::current().id()))
                .unwrap_or(true);
            if on_ui {
                restore();
            }
            previous(info);
        }));
    });
}

impl TerminalGuard {
    /// Full screen; with `mouse`, the terminal reports clicks and the wheel (`--mouse`).
    pub fn enter(mouse: bool) -> anyhow::Result<TerminalGuard> {
        install_panic_hook();
        set_ui_thread(Some(std::thread::current().id()));
        if let Err(e) = terminal::enable_raw_mode() {
            set_ui_thread(None);
            return Err(e.into());
        }
        let setup = (|| -> anyhow::Result<Term> {
            // Bracketed paste: a paste arrives as one event (cleaned before it reaches the
            // filter), not as keys that could run commands.
            execute!(
                io::stdout(),
                terminal::EnterAlternateScreen,
                cursor::Hide,
                crossterm::event::EnableBracketedPaste
            )?;
            if mouse {
                execute!(io::stdout(), crossterm::event::EnableMouseCapture)?;
            }
            let mut t = Terminal::new(CrosstermBackend::new(io::stdout()))?;
            t.clear()?;
            Ok(t)
        })();
        match setup {
            Ok(terminal) => Ok(TerminalGuard { terminal }),
            Err(e) => {
                restore();
                set_ui_thread(None);
                Err(e)
            }
        }
    }
}

/// Draw one frame as a synchronised update (DEC mode 2026): terminals that support it show
/// the frame at once instead of painting it line by line, so a shared screen never shows a
/// half-drawn table. Terminals without it ignore the two sequences.
pub fn draw_synced<W: io::Write>(
    t: &mut Terminal<CrosstermBackend<W>>,
    render: impl FnOnce(&mut ratatui::Frame),
) -> io::Result<()> {
    crossterm::queue!(t.backend_mut(), terminal::BeginSynchronizedUpdate)?;
    let drawn = t.draw(render).map(|_| ());
    // End the update even when drawing failed, or the terminal would stay frozen.
    let ended = execute!(t.backend_mut(), terminal::EndSynchronizedUpdate);
    drawn.and(ended)
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
        set_ui_thread(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::{TerminalOptions, Viewport};

    /// A writer whose bytes the test can read after the terminal took it.
    #[derive(Clone, Default)]
    struct Shared(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

    impl io::Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_frame_is_one_synchronised_update() {
        let bytes = Shared::default();
        let backend = CrosstermBackend::new(bytes.clone());
        let opts = TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, 20, 2)),
        };
        let mut t = Terminal::with_options(backend, opts).unwrap();
        draw_synced(&mut t, |f| {
            f.render_widget(ratatui::widgets::Paragraph::new("hello"), f.area())
        })
        .unwrap();
        let out = String::from_utf8_lossy(&bytes.0.borrow()).into_owned();
        assert!(out.starts_with("\x1b[?2026h"), "{out:?}");
        assert!(out.ends_with("\x1b[?2026l"), "{out:?}");
        assert!(out.contains('h') && out.contains("llo"), "{out:?}");
    }
}
