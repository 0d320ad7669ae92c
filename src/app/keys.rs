//! The key table: one list that both dispatches keys and generates the help overlay and the
//! footer hints, so what the screen says is what the keys do.

use super::actions::Action;
use super::state::{App, Detail, Mode};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Everywhere, even while typing.
    Always,
    /// Anywhere outside text input.
    Global,
    /// Moving in a list (tables and detail views).
    Nav,
    /// A pane's table or tree.
    Table,
    ProgramDetail,
    MapDetail,
    /// Replaying a recording.
    Replay,
    /// Typing a filter.
    Filter,
    /// Typing a command.
    Palette,
}

impl Context {
    pub fn title(self) -> &'static str {
        match self {
            Context::Always => "Always",
            Context::Global => "Global",
            Context::Nav => "Moving",
            Context::Table => "Tables and trees",
            Context::ProgramDetail => "Program details",
            Context::MapDetail => "Map details",
            Context::Replay => "Replay",
            Context::Filter => "Filter (/)",
            Context::Palette => "Command palette (:)",
        }
    }
}

/// A key pattern. SHIFT is ignored for characters (terminals disagree on reporting it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPat {
    Key(KeyCode, KeyModifiers),
    /// Any of `1`..`9`: go to pane N.
    Digit,
}

pub struct KeyBinding {
    pub keys: &'static [KeyPat],
    /// How the key is written in help and footer.
    pub label: &'static str,
    pub action: Action,
    pub description: &'static str,
    /// Short footer hint; empty: help only.
    pub hint: &'static str,
    pub context: Context,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const fn k(c: char) -> KeyPat {
    KeyPat::Key(KeyCode::Char(c), NONE)
}
const fn code(c: KeyCode) -> KeyPat {
    KeyPat::Key(c, NONE)
}

macro_rules! bind {
    ($ctx:ident, [$($key:expr),+], $label:expr, $action:expr, $desc:expr, $hint:expr) => {
        KeyBinding {
            keys: &[$($key),+],
            label: $label,
            action: $action,
            description: $desc,
            hint: $hint,
            context: Context::$ctx,
        }
    };
}

/// THE key table: dispatch, help overlay and footer hints all read it.
#[rustfmt::skip]
pub const KEYS: &[KeyBinding] = &[
    bind!(Always, [KeyPat::Key(KeyCode::Char('c'), KeyModifiers::CONTROL)], "Ctrl-c", Action::Quit, "quit", ""),
    bind!(Global, [k('q')], "q", Action::Quit, "quit", "quit"),
    bind!(Global, [k('?')], "?", Action::ToggleHelp, "show or hide this help", "help"),
    bind!(Global, [code(KeyCode::Tab)], "Tab", Action::NextPane, "next pane", ""),
    bind!(Global, [KeyPat::Key(KeyCode::BackTab, NONE)], "Shift-Tab", Action::PrevPane, "previous pane", ""),
    bind!(Global, [KeyPat::Digit], "1-9", Action::GotoPane(0), "go to pane N", "pane"),
    bind!(Global, [k(':')], ":", Action::OpenPalette, "command palette (:progs :maps :q)", "cmd"),
    bind!(Global, [k(' ')], "space", Action::TogglePause, "pause or resume live refresh", "pause"),
    bind!(Global, [k('r')], "r", Action::Refresh, "refresh now", ""),
    bind!(Global, [k('d')], "d", Action::ToggleBaseline, "set or clear the baseline", ""),
    bind!(Global, [k('D')], "D", Action::ToggleChangesOnly, "show only +new ~changed rows", ""),
    bind!(Global, [KeyPat::Key(KeyCode::Char('s'), KeyModifiers::CONTROL)], "Ctrl-s", Action::Export, "export to the dump directory", ""),
    bind!(Global, [k('p')], "p", Action::TogglePresentation, "presentation mode (shared screens)", ""),
    bind!(Global, [k('R')], "R", Action::ToggleRecording, "start or stop recording (live)", ""),
    bind!(Nav, [k('j'), code(KeyCode::Down)], "j/↓", Action::Down, "move down", ""),
    bind!(Nav, [k('k'), code(KeyCode::Up)], "k/↑", Action::Up, "move up", ""),
    bind!(Nav, [code(KeyCode::PageDown), KeyPat::Key(KeyCode::Char('f'), KeyModifiers::CONTROL)], "PgDn", Action::PageDown, "page down (maps: next page)", ""),
    bind!(Nav, [code(KeyCode::PageUp), KeyPat::Key(KeyCode::Char('b'), KeyModifiers::CONTROL)], "PgUp", Action::PageUp, "page up", ""),
    bind!(Nav, [k('g'), code(KeyCode::Home)], "g/Home", Action::Top, "first row", ""),
    bind!(Nav, [k('G'), code(KeyCode::End)], "G/End", Action::Bottom, "last row", ""),
    bind!(Nav, [code(KeyCode::Enter)], "Enter", Action::Enter, "open details", "details"),
    bind!(Nav, [code(KeyCode::Esc)], "Esc", Action::Back, "back / clear filter", "back"),
    bind!(Table, [k('/')], "/", Action::OpenFilter, "filter rows (!x: rows without x)", "filter"),
    bind!(Table, [k('s')], "s", Action::SortNext, "sort by the next column", "sort"),
    bind!(Table, [k('S')], "S", Action::SortFlip, "flip sort direction", ""),
    bind!(Table, [k('l'), code(KeyCode::Right)], "l/→", Action::Expand, "expand a row (services: backends)", ""),
    bind!(Table, [k('h'), code(KeyCode::Left)], "h/←", Action::Collapse, "collapse the row", ""),
    bind!(Table, [k('>')], ">", Action::NextGroup, "next endpoint (policy)", ""),
    bind!(Table, [k('<')], "<", Action::PrevGroup, "previous endpoint (policy)", ""),
    bind!(Table, [k('m')], "m", Action::ToggleMark, "mark a row or node: pinned on top, ★", ""),
    bind!(Table, [k('o')], "o", Action::CycleGroup, "retransmits: group by flow / destination / process", ""),
    bind!(ProgramDetail, [k('J')], "J", Action::ScrollDown, "scroll disassembly down", "scroll"),
    bind!(ProgramDetail, [k('K')], "K", Action::ScrollUp, "scroll disassembly up", ""),
    bind!(MapDetail, [k('c')], "c", Action::TogglePerCpu, "per-CPU values on/off", "per-CPU"),
    bind!(Replay, [k(']')], "]", Action::ReplayStep(1), "next snapshot of the recording", "next"),
    bind!(Replay, [k('[')], "[", Action::ReplayStep(-1), "previous snapshot", "prev"),
    bind!(Replay, [k('}')], "}", Action::ReplayStep(10), "10 snapshots forward", ""),
    bind!(Replay, [k('{')], "{", Action::ReplayStep(-10), "10 snapshots back", ""),
    bind!(Replay, [code(KeyCode::Home)], "Home", Action::ReplayEnd(false), "first snapshot", ""),
    bind!(Replay, [code(KeyCode::End)], "End", Action::ReplayEnd(true), "last snapshot", ""),
    bind!(Filter, [code(KeyCode::Enter)], "Enter", Action::InputSubmit, "keep the filter", "keep"),
    bind!(Filter, [code(KeyCode::Esc)], "Esc", Action::InputCancel, "clear the filter", "clear"),
    bind!(Filter, [code(KeyCode::Backspace)], "Backspace", Action::InputBackspace, "delete a character", ""),
    bind!(Palette, [code(KeyCode::Enter)], "Enter", Action::InputSubmit, "run the command", "run"),
    bind!(Palette, [code(KeyCode::Tab)], "Tab", Action::InputComplete, "complete the suggestion", "complete"),
    bind!(Palette, [code(KeyCode::Down)], "↓", Action::InputNext, "next suggestion", ""),
    bind!(Palette, [code(KeyCode::Up)], "↑", Action::InputPrev, "previous suggestion", ""),
    bind!(Palette, [code(KeyCode::Backspace)], "Backspace", Action::InputBackspace, "delete a character", ""),
    bind!(Palette, [code(KeyCode::Esc)], "Esc", Action::InputCancel, "close the palette", "close"),
];

/// Contexts active now, most specific first.
pub fn active_contexts(app: &App) -> Vec<Context> {
    match app.mode {
        Mode::Filter => return vec![Context::Filter, Context::Always],
        Mode::Palette => return vec![Context::Palette, Context::Always],
        Mode::Normal => {}
    }
    let mut v = match app.details.last() {
        Some(Detail::Program(_)) => vec![Context::ProgramDetail],
        Some(Detail::Map(_)) => vec![Context::MapDetail],
        None => vec![Context::Table],
    };
    // Replay before Nav: in a recording, Home/End travel in time (g/G still move in the list).
    if app.replay.is_some() {
        v.push(Context::Replay);
    }
    v.push(Context::Nav);
    v.push(Context::Global);
    v.push(Context::Always);
    v
}

fn matches(pat: &KeyPat, ev: &KeyEvent) -> Option<Option<usize>> {
    match pat {
        KeyPat::Digit => match ev.code {
            KeyCode::Char(c @ '1'..='9') if !ev.modifiers.contains(KeyModifiers::CONTROL) => {
                Some(Some(c as usize - '1' as usize))
            }
            _ => None,
        },
        KeyPat::Key(code, mods) => {
            let strip = |m: KeyModifiers| m - KeyModifiers::SHIFT;
            let same_code = *code == ev.code;
            (same_code && strip(*mods) == strip(ev.modifiers)).then_some(None)
        }
    }
}

/// The binding a key event triggers now, if any.
pub fn binding_for(app: &App, ev: &KeyEvent) -> Option<(&'static KeyBinding, Option<usize>)> {
    for ctx in active_contexts(app) {
        for b in KEYS.iter().filter(|b| b.context == ctx) {
            for pat in b.keys {
                if let Some(digit) = matches(pat, ev) {
                    return Some((b, digit));
                }
            }
        }
    }
    None
}

/// Map a key event to an action, given the current state.
pub fn action_for(app: &App, ev: &KeyEvent) -> Option<Action> {
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    if let Some((b, digit)) = binding_for(app, ev) {
        return Some(match (b.action.clone(), digit) {
            (Action::GotoPane(_), Some(d)) => Action::GotoPane(d),
            (a, _) => a,
        });
    }
    let typing = matches!(app.mode, Mode::Filter | Mode::Palette);
    match ev.code {
        KeyCode::Char(c) if typing && !ev.modifiers.contains(KeyModifiers::CONTROL) => {
            Some(Action::InputChar(c))
        }
        _ => None,
    }
}

/// Footer hints for the active contexts, from the same table.
pub fn hints(app: &App) -> Vec<(&'static str, &'static str)> {
    let ctxs = active_contexts(app);
    let mut out = Vec::new();
    for ctx in ctxs {
        for b in KEYS
            .iter()
            .filter(|b| b.context == ctx && !b.hint.is_empty())
        {
            let unsortable = crate::views::registry::PANES
                .get(app.pane)
                .is_some_and(|p| p.columns == 0);
            if unsortable && matches!(b.action, Action::SortNext | Action::SortFlip) {
                continue;
            }
            out.push((b.label, b.hint));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::state::{Detail, MapDetailView, ProgramDetailView, Replay};
    use crate::app::UiOptions;
    use crate::model::Snapshot;

    /// Apps in every context, so each binding can be tried where it applies.
    fn app_for(ctx: Context) -> App {
        let mut a = App::with_snapshot(Snapshot::empty(), &UiOptions::default());
        match ctx {
            Context::Filter => a.mode = Mode::Filter,
            Context::Palette => a.mode = Mode::Palette,
            Context::ProgramDetail => a.details.push(Detail::Program(ProgramDetailView {
                id: 1,
                map_cursor: 0,
                scroll: 0,
            })),
            Context::MapDetail => a.details.push(Detail::Map(MapDetailView {
                id: 1,
                offset: 0,
                cursor: 0,
                per_cpu: false,
            })),
            Context::Replay => {
                a.replay = Some(Replay {
                    path: "f".into(),
                    snapshots: vec![std::sync::Arc::new(Snapshot::empty())],
                    index: 0,
                })
            }
            Context::Always | Context::Global | Context::Nav | Context::Table => {}
        }
        a
    }

    fn event(p: &KeyPat) -> KeyEvent {
        match p {
            KeyPat::Key(code, mods) => KeyEvent::new(*code, *mods),
            KeyPat::Digit => KeyEvent::new(KeyCode::Char('3'), KeyModifiers::NONE),
        }
    }

    #[test]
    fn every_binding_dispatches_its_action_and_is_in_help() {
        let help = crate::views::help::text(&crate::views::theme::Theme::new(true));
        for b in KEYS {
            let line = format!(" {:<10}{}", b.label, b.description);
            assert!(help.contains(&line), "help lacks {line:?}");
            let app = app_for(b.context);
            assert!(active_contexts(&app).contains(&b.context));
            for p in b.keys {
                let got = action_for(&app, &event(p));
                let want = match (p, &b.action) {
                    (KeyPat::Digit, Action::GotoPane(_)) => Action::GotoPane(2),
                    _ => b.action.clone(),
                };
                assert_eq!(
                    got,
                    Some(want),
                    "key {p:?} of {:?} in {:?}",
                    b.label,
                    b.context
                );
            }
        }
    }

    #[test]
    fn no_key_is_bound_twice_in_one_context() {
        for (i, a) in KEYS.iter().enumerate() {
            for b in &KEYS[i + 1..] {
                if a.context == b.context {
                    for p in a.keys {
                        assert!(!b.keys.contains(p), "{p:?} bound twice in {:?}", a.context);
                    }
                }
            }
        }
    }

    #[test]
    fn typing_keys_go_to_the_input_not_to_commands() {
        let app = app_for(Context::Filter);
        let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(action_for(&app, &q), Some(Action::InputChar('q')));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(action_for(&app, &ctrl_c), Some(Action::Quit));
    }

    #[test]
    fn footer_hints_come_from_the_table() {
        let app = app_for(Context::Table);
        for (label, hint) in hints(&app) {
            assert!(KEYS.iter().any(|b| b.label == label && b.hint == hint));
        }
    }
}
