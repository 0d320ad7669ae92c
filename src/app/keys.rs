//! The key table: one list that both dispatches keys and generates the help overlay and the
//! footer hints, so what the screen says is what the keys do.

use super::actions::{Action, Edit};
use super::state::{App, Detail, Mode};
use crate::model::PaneId;
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
    /// Replaying a bundle of nodes (`replay BUNDLE_DIR`).
    Bundle,
    /// Typing a filter.
    Filter,
    /// Typing a command.
    Palette,
    /// Editing the line typed (filter or command).
    Typing,
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
            Context::Bundle => "Bundle of nodes (replay BUNDLE_DIR)",
            Context::Filter => "Filter (/)",
            Context::Palette => "Command palette (:)",
            Context::Typing => "Editing the / or : line",
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
    /// Name in the config file's `[keys]` table; empty: not rebindable (typing keys, `Ctrl-c`
    /// and the pane digits stay where they are, so there is always a way out and a way in).
    pub name: &'static str,
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
const fn ctrl(c: char) -> KeyPat {
    KeyPat::Key(KeyCode::Char(c), KeyModifiers::CONTROL)
}

macro_rules! bind {
    ($ctx:ident, $name:expr, [$($key:expr),+], $label:expr, $action:expr, $desc:expr, $hint:expr) => {
        KeyBinding {
            name: $name,
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
    bind!(Always, "", [KeyPat::Key(KeyCode::Char('c'), KeyModifiers::CONTROL)], "Ctrl-c", Action::Quit, "quit", ""),
    bind!(Global, "quit", [k('q')], "q", Action::Quit, "quit", "quit"),
    bind!(Global, "help", [k('?')], "?", Action::ToggleHelp, "show or hide this help", "help"),
    bind!(Global, "next_pane", [code(KeyCode::Tab)], "Tab", Action::NextPane, "next pane", ""),
    bind!(Global, "prev_pane", [KeyPat::Key(KeyCode::BackTab, NONE)], "Shift-Tab", Action::PrevPane, "previous pane", ""),
    bind!(Global, "", [KeyPat::Digit], "1-9", Action::GotoPane(PaneId::Programs), "go to pane N", "pane"),
    bind!(Global, "palette", [k(':')], ":", Action::OpenPalette, "command palette (:progs :maps :q)", "cmd"),
    bind!(Global, "pause", [k(' ')], "space", Action::TogglePause, "pause or resume live refresh", "pause"),
    bind!(Global, "refresh", [k('r')], "r", Action::Refresh, "refresh now", ""),
    bind!(Global, "baseline", [k('d')], "d", Action::ToggleBaseline, "set or clear the baseline", ""),
    bind!(Global, "changes_only", [k('D')], "D", Action::ToggleChangesOnly, "show only +new ~changed rows", ""),
    bind!(Global, "export", [KeyPat::Key(KeyCode::Char('s'), KeyModifiers::CONTROL)], "Ctrl-s", Action::Export, "export to the dump directory", ""),
    bind!(Global, "presentation", [k('p')], "p", Action::TogglePresentation, "presentation mode (shared screens)", ""),
    bind!(Global, "record", [k('R')], "R", Action::ToggleRecording, "start or stop recording (live)", ""),
    bind!(Nav, "down", [k('j'), code(KeyCode::Down)], "j/↓", Action::Down, "move down", ""),
    bind!(Nav, "up", [k('k'), code(KeyCode::Up)], "k/↑", Action::Up, "move up", ""),
    bind!(Nav, "page_down", [code(KeyCode::PageDown), KeyPat::Key(KeyCode::Char('f'), KeyModifiers::CONTROL)], "PgDn", Action::PageDown, "page down (maps: next page)", ""),
    bind!(Nav, "page_up", [code(KeyCode::PageUp), KeyPat::Key(KeyCode::Char('b'), KeyModifiers::CONTROL)], "PgUp", Action::PageUp, "page up", ""),
    bind!(Nav, "top", [k('g'), code(KeyCode::Home)], "g/Home", Action::Top, "first row", ""),
    bind!(Nav, "bottom", [k('G'), code(KeyCode::End)], "G/End", Action::Bottom, "last row", ""),
    bind!(Nav, "open", [code(KeyCode::Enter)], "Enter", Action::Enter, "open details", "details"),
    bind!(Nav, "back", [code(KeyCode::Esc)], "Esc", Action::Back, "back / clear filter", "back"),
    bind!(Table, "filter", [k('/')], "/", Action::OpenFilter, "filter rows (!x: rows without x)", "filter"),
    bind!(Table, "sort", [k('s')], "s", Action::SortNext, "sort by the next column", "sort"),
    bind!(Table, "sort_flip", [k('S')], "S", Action::SortFlip, "flip sort direction", ""),
    bind!(Table, "expand", [k('l'), code(KeyCode::Right)], "l/→", Action::Expand, "expand a row (services: backends)", ""),
    bind!(Table, "collapse", [k('h'), code(KeyCode::Left)], "h/←", Action::Collapse, "collapse the row", ""),
    bind!(Table, "next_endpoint", [k('>')], ">", Action::NextGroup, "next endpoint (policy)", ""),
    bind!(Table, "prev_endpoint", [k('<')], "<", Action::PrevGroup, "previous endpoint (policy)", ""),
    bind!(Table, "mark", [k('m')], "m", Action::ToggleMark, "mark a row or node: pinned on top, ★", ""),
    bind!(Table, "group", [k('o')], "o", Action::CycleGroup, "retransmits: group by flow / destination / process", ""),
    bind!(ProgramDetail, "scroll_down", [k('J')], "J", Action::ScrollDown, "scroll disassembly down", "scroll"),
    bind!(ProgramDetail, "scroll_up", [k('K')], "K", Action::ScrollUp, "scroll disassembly up", ""),
    bind!(MapDetail, "per_cpu", [k('c')], "c", Action::TogglePerCpu, "per-CPU values on/off", "per-CPU"),
    bind!(Replay, "replay_next", [k(']')], "]", Action::ReplayStep(1), "next snapshot of the recording", "next"),
    bind!(Replay, "replay_prev", [k('[')], "[", Action::ReplayStep(-1), "previous snapshot", "prev"),
    bind!(Replay, "replay_forward", [k('}')], "}", Action::ReplayStep(10), "10 snapshots forward", ""),
    bind!(Replay, "replay_back", [k('{')], "{", Action::ReplayStep(-10), "10 snapshots back", ""),
    bind!(Replay, "replay_first", [code(KeyCode::Home)], "Home", Action::ReplayEnd(false), "first snapshot", ""),
    bind!(Replay, "replay_last", [code(KeyCode::End)], "End", Action::ReplayEnd(true), "last snapshot", ""),
    bind!(Bundle, "next_node", [k('n')], "n", Action::NodeStep(1), "next node (every pane shows it)", "node"),
    bind!(Bundle, "prev_node", [k('N')], "N", Action::NodeStep(-1), "previous node", ""),
    bind!(Bundle, "ask_nodes", [k('c')], "c", Action::AskNodes, "nodes with rows matching the filter", "nodes"),
    bind!(Filter, "", [code(KeyCode::Enter)], "Enter", Action::InputSubmit, "keep the filter", "keep"),
    bind!(Filter, "", [code(KeyCode::Esc)], "Esc", Action::InputCancel, "clear the filter", "clear"),
    bind!(Typing, "", [code(KeyCode::Backspace)], "Backspace", Action::InputEdit(Edit::DeletePrev), "delete before the cursor", ""),
    bind!(Typing, "", [code(KeyCode::Delete)], "Delete", Action::InputEdit(Edit::DeleteNext), "delete under the cursor", ""),
    bind!(Typing, "", [code(KeyCode::Left)], "←", Action::InputEdit(Edit::Left), "cursor left", ""),
    bind!(Typing, "", [code(KeyCode::Right)], "→", Action::InputEdit(Edit::Right), "cursor right", ""),
    bind!(Typing, "", [KeyPat::Key(KeyCode::Left, KeyModifiers::CONTROL)], "Ctrl-←", Action::InputEdit(Edit::WordLeft), "cursor a word left", ""),
    bind!(Typing, "", [KeyPat::Key(KeyCode::Right, KeyModifiers::CONTROL)], "Ctrl-→", Action::InputEdit(Edit::WordRight), "cursor a word right", ""),
    bind!(Typing, "", [code(KeyCode::Home), ctrl('a')], "Home/Ctrl-a", Action::InputEdit(Edit::Home), "cursor to the start", ""),
    bind!(Typing, "", [code(KeyCode::End), ctrl('e')], "End/Ctrl-e", Action::InputEdit(Edit::End), "cursor to the end", ""),
    bind!(Typing, "", [ctrl('w')], "Ctrl-w", Action::InputEdit(Edit::DeleteWord), "delete the word before the cursor", ""),
    bind!(Typing, "", [ctrl('u')], "Ctrl-u", Action::InputEdit(Edit::DeleteToStart), "delete to the start", ""),
    bind!(Typing, "", [ctrl('k')], "Ctrl-k", Action::InputEdit(Edit::DeleteToEnd), "delete to the end", ""),
    bind!(Palette, "", [code(KeyCode::Enter)], "Enter", Action::InputSubmit, "run the command", "run"),
    bind!(Palette, "", [code(KeyCode::Tab)], "Tab", Action::InputComplete, "complete the suggestion", "complete"),
    bind!(Palette, "", [code(KeyCode::Down)], "↓", Action::InputNext, "next suggestion", ""),
    bind!(Palette, "", [code(KeyCode::Up)], "↑", Action::InputPrev, "previous suggestion", ""),
    bind!(Palette, "", [code(KeyCode::Esc)], "Esc", Action::InputCancel, "close the palette", "close"),
];

/// Which detail view is open, as far as key contexts care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DetailKind {
    None,
    Program,
    Map,
    /// A read-only entry (conntrack): only moving, going back and the global keys.
    Entry,
}

/// Contexts active in a state, most specific first.
fn contexts_for(mode: Mode, detail: DetailKind, replay: bool, bundle: bool) -> Vec<Context> {
    match mode {
        Mode::Filter => return vec![Context::Filter, Context::Typing, Context::Always],
        Mode::Palette => return vec![Context::Palette, Context::Typing, Context::Always],
        Mode::Normal => {}
    }
    let mut v = match detail {
        DetailKind::Program => vec![Context::ProgramDetail],
        DetailKind::Map => vec![Context::MapDetail],
        DetailKind::None => vec![Context::Table],
        DetailKind::Entry => vec![],
    };
    // Replay before Nav: in a recording, Home/End travel in time (g/G still move in the list).
    if replay {
        v.push(Context::Replay);
    }
    if bundle {
        v.push(Context::Bundle);
    }
    v.push(Context::Nav);
    v.push(Context::Global);
    v.push(Context::Always);
    v
}

/// Every set of contexts that can be active at once: where two bindings of one key collide.
fn all_stacks() -> Vec<Vec<Context>> {
    let mut out = Vec::new();
    for mode in [Mode::Normal, Mode::Filter, Mode::Palette] {
        for detail in [
            DetailKind::None,
            DetailKind::Program,
            DetailKind::Map,
            DetailKind::Entry,
        ] {
            for (replay, bundle) in [(false, false), (true, false), (true, true)] {
                let s = contexts_for(mode, detail, replay, bundle);
                if !out.contains(&s) {
                    out.push(s);
                }
            }
        }
    }
    out
}

/// Contexts active now, most specific first.
pub fn active_contexts(app: &App) -> Vec<Context> {
    let detail = match app.details.last() {
        Some(Detail::Program(_)) => DetailKind::Program,
        Some(Detail::Map(_)) => DetailKind::Map,
        Some(Detail::Conntrack(_)) => DetailKind::Entry,
        None => DetailKind::None,
    };
    contexts_for(
        app.mode,
        detail,
        app.replay.is_some(),
        app.cluster.is_some(),
    )
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

/// One binding as it is in effect: the table's entry with the keys the user gave it.
#[derive(Debug, Clone)]
pub struct Bound {
    pub def: &'static KeyBinding,
    pub keys: Vec<KeyPat>,
    /// How the keys are written in help and footer ("" when the user unbound them all).
    pub label: String,
    /// Set from the config file rather than the built-in table.
    pub custom: bool,
}

/// The key bindings in effect: the built-in table with the config file's `[keys]` applied.
/// Dispatch, help overlay and footer hints all read it.
#[derive(Debug, Clone)]
pub struct Keymap {
    pub bindings: Vec<Bound>,
}

impl Default for Keymap {
    fn default() -> Keymap {
        Keymap {
            bindings: KEYS
                .iter()
                .map(|def| Bound {
                    def,
                    keys: def.keys.to_vec(),
                    label: def.label.to_string(),
                    custom: false,
                })
                .collect(),
        }
    }
}

impl std::fmt::Debug for KeyBinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyBinding")
            .field("name", &self.name)
            .field("label", &self.label)
            .finish()
    }
}

/// The names `[keys]` accepts, in table order.
pub fn rebindable_names() -> Vec<&'static str> {
    KEYS.iter()
        .map(|b| b.name)
        .filter(|n| !n.is_empty())
        .collect()
}

impl Keymap {
    /// The built-in table with `overrides` (config name → keys, as written in the file)
    /// applied. Errors are one line naming the binding: an unknown name, a key that does not
    /// parse, or a key that now does two things in one place.
    pub fn with_overrides<'a>(
        overrides: impl IntoIterator<Item = (&'a str, &'a [String])>,
    ) -> Result<Keymap, String> {
        let mut map = Keymap::default();
        for (name, keys) in overrides {
            let Some(b) = map
                .bindings
                .iter_mut()
                .find(|b| !b.def.name.is_empty() && b.def.name == name)
            else {
                return Err(format!(
                    "keys.{name}: no such action (one of: {})",
                    rebindable_names().join(", ")
                ));
            };
            let mut pats = Vec::new();
            for k in keys {
                let pat = parse_key(k).map_err(|e| format!("keys.{name}: {e}"))?;
                if !pats.contains(&pat) {
                    pats.push(pat);
                }
            }
            b.label = pats.iter().map(key_label).collect::<Vec<_>>().join("/");
            b.keys = pats;
            b.custom = true;
        }
        map.check()?;
        Ok(map)
    }

    /// A key the user bound must not collide with another binding active at the same time.
    /// Collisions already in the built-in table are on purpose (Home travels in time in a
    /// replay and moves to the top elsewhere) and stay allowed when a file repeats them.
    fn check(&self) -> Result<(), String> {
        for stack in all_stacks() {
            let active: Vec<&Bound> = stack
                .iter()
                .flat_map(|c| self.bindings.iter().filter(move |b| b.def.context == *c))
                .collect();
            for user in active.iter().filter(|b| b.custom) {
                for other in active.iter().filter(|o| !std::ptr::eq(**o, *user)) {
                    for pat in &user.keys {
                        let KeyPat::Key(code, mods) = pat else {
                            continue;
                        };
                        let ev = KeyEvent::new(*code, *mods);
                        let hits = |keys: &[KeyPat]| keys.iter().any(|p| matches(p, &ev).is_some());
                        let built_in = user.def.keys.contains(pat) && hits(other.def.keys);
                        if built_in || !hits(&other.keys) {
                            continue;
                        }
                        let what = if other.def.name.is_empty() {
                            format!("\"{}\" (not rebindable)", other.def.description)
                        } else {
                            format!("{} (\"{}\")", other.def.name, other.def.description)
                        };
                        return Err(format!(
                            "keys.{}: {} is already bound to {what} in {}; rebind that one too, or pick another key",
                            user.def.name,
                            key_label(pat),
                            other.def.context.title()
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The first key of `action`'s binding, as written on screen (None when unbound).
    pub fn first_key(&self, action: &Action) -> Option<String> {
        self.bindings
            .iter()
            .find(|b| b.def.action == *action)
            .and_then(|b| b.keys.first())
            .map(key_label)
    }

    /// Bindings of one context, in table order.
    pub fn in_context(&self, ctx: Context) -> impl Iterator<Item = &Bound> {
        self.bindings.iter().filter(move |b| b.def.context == ctx)
    }
}

/// Parse a key as written in the config file: a character (`q`, `G`, `/`), a named key
/// (`enter`, `esc`, `tab`, `shift-tab`, `space`, `backspace`, `up`, `down`, `left`, `right`,
/// `home`, `end`, `pgup`, `pgdn`, `insert`, `delete`, `f1`…`f12`), optionally after `ctrl-`
/// and/or `alt-`. Names are case-insensitive; a single character keeps its case.
pub fn parse_key(text: &str) -> Result<KeyPat, String> {
    let bad = || {
        format!(
            "`{text}` is not a key (write e.g. \"x\", \"X\", \"ctrl-x\", \"alt-x\", \"f5\", \"pgdn\", \"enter\")"
        )
    };
    let mut rest = text;
    let mut mods = KeyModifiers::NONE;
    loop {
        let lower = rest.to_ascii_lowercase();
        if rest.chars().count() > 1 && lower.starts_with("ctrl-") {
            mods |= KeyModifiers::CONTROL;
            rest = &rest[5..];
        } else if rest.chars().count() > 1 && lower.starts_with("alt-") {
            mods |= KeyModifiers::ALT;
            rest = &rest[4..];
        } else {
            break;
        }
    }
    let mut chars = rest.chars();
    let code = match (chars.next(), chars.next()) {
        // The arrows as help writes them.
        (Some('↑'), None) => KeyCode::Up,
        (Some('↓'), None) => KeyCode::Down,
        (Some('←'), None) => KeyCode::Left,
        (Some('→'), None) => KeyCode::Right,
        (Some(c), None) if !c.is_control() => KeyCode::Char(c),
        _ => match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "shift-tab" | "backtab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            "insert" | "ins" => KeyCode::Insert,
            "delete" | "del" => KeyCode::Delete,
            f if f.starts_with('f') => match f[1..].parse::<u8>() {
                Ok(n @ 1..=12) => KeyCode::F(n),
                _ => return Err(bad()),
            },
            _ => return Err(bad()),
        },
    };
    // Ctrl-c quits everywhere, whatever the file says.
    if code == KeyCode::Char('c') && mods == KeyModifiers::CONTROL {
        return Err("`ctrl-c` always quits and cannot be bound to anything else".into());
    }
    Ok(KeyPat::Key(code, mods))
}

/// How a key is written on screen.
pub fn key_label(pat: &KeyPat) -> String {
    let (code, mods) = match pat {
        KeyPat::Digit => return "1-9".into(),
        KeyPat::Key(c, m) => (c, m),
    };
    let name = match code {
        KeyCode::Char(' ') => "space".to_string(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Esc".into(),
        KeyCode::Tab => "Tab".into(),
        KeyCode::BackTab => "Shift-Tab".into(),
        KeyCode::Backspace => "Backspace".into(),
        KeyCode::Up => "↑".into(),
        KeyCode::Down => "↓".into(),
        KeyCode::Left => "←".into(),
        KeyCode::Right => "→".into(),
        KeyCode::Home => "Home".into(),
        KeyCode::End => "End".into(),
        KeyCode::PageUp => "PgUp".into(),
        KeyCode::PageDown => "PgDn".into(),
        KeyCode::Insert => "Ins".into(),
        KeyCode::Delete => "Del".into(),
        KeyCode::F(n) => format!("F{n}"),
        other => format!("{other:?}"),
    };
    let mut out = String::new();
    if mods.contains(KeyModifiers::CONTROL) {
        out.push_str("Ctrl-");
    }
    if mods.contains(KeyModifiers::ALT) {
        out.push_str("Alt-");
    }
    out.push_str(&name);
    out
}

/// The binding a key event triggers now, if any.
pub fn binding_for<'a>(app: &'a App, ev: &KeyEvent) -> Option<(&'a Bound, Option<usize>)> {
    for ctx in active_contexts(app) {
        for b in app.keymap.in_context(ctx) {
            for pat in &b.keys {
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
        return Some(match (b.def.action.clone(), digit) {
            (Action::GotoPane(_), Some(d)) => match PaneId::ALL.get(d) {
                Some(p) => Action::GotoPane(*p),
                None => return None,
            },
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
pub fn hints(app: &App) -> Vec<(&str, &'static str)> {
    let ctxs = active_contexts(app);
    let unsortable = crate::pane::get(app.pane).sorting().is_none();
    // A read-only entry (conntrack details) opens nothing: Enter is not offered there.
    let read_only = matches!(app.details.last(), Some(Detail::Conntrack(_)));
    let mut out = Vec::new();
    for ctx in ctxs {
        for b in app
            .keymap
            .in_context(ctx)
            .filter(|b| !b.def.hint.is_empty() && !b.label.is_empty())
        {
            if unsortable && matches!(b.def.action, Action::SortNext | Action::SortFlip) {
                continue;
            }
            if read_only && matches!(b.def.action, Action::Enter) {
                continue;
            }
            out.push((b.label.as_str(), b.def.hint));
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
            Context::Filter | Context::Typing => a.mode = Mode::Filter,
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
            Context::Bundle => {
                let node = crate::model::bundle::BundleNode {
                    name: "n1".into(),
                    status: "ok".into(),
                    reason: String::new(),
                    snapshot: Some(Snapshot::empty()),
                };
                let b = crate::model::bundle::Bundle {
                    dir: "b".into(),
                    manifest: Default::default(),
                    nodes: vec![node],
                };
                a = App::bundle(b, &UiOptions::default());
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
        let keymap = Keymap::default();
        let help = super::super::help::text(&keymap);
        for b in KEYS {
            let line = format!(" {:<10}{}", b.label, b.description);
            assert!(help.contains(&line), "help lacks {line:?}");
            let app = app_for(b.context);
            assert!(active_contexts(&app).contains(&b.context));
            for p in b.keys {
                let got = action_for(&app, &event(p));
                let want = match (p, &b.action) {
                    (KeyPat::Digit, Action::GotoPane(_)) => Action::GotoPane(PaneId::Attachments),
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
    fn names_are_unique_and_typing_keys_are_not_rebindable() {
        let names = rebindable_names();
        for (i, n) in names.iter().enumerate() {
            assert!(!names[i + 1..].contains(n), "{n} twice");
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{n}");
        }
        for b in KEYS {
            if matches!(
                b.context,
                Context::Filter | Context::Palette | Context::Typing | Context::Always
            ) {
                assert!(b.name.is_empty(), "{} is rebindable", b.label);
            }
        }
        // The file that documents the names lists each of them.
        let doc = include_str!("../../docs/config.md");
        for n in names {
            assert!(
                doc.contains(&format!("| `{n}` |")),
                "docs/config.md lacks {n}"
            );
        }
    }

    fn with(pairs: &[(&str, &[&str])]) -> Result<Keymap, String> {
        let owned: Vec<(String, Vec<String>)> = pairs
            .iter()
            .map(|(n, k)| (n.to_string(), k.iter().map(|s| s.to_string()).collect()))
            .collect();
        Keymap::with_overrides(owned.iter().map(|(n, k)| (n.as_str(), k.as_slice())))
    }

    fn press(app: &App, code: KeyCode, mods: KeyModifiers) -> Option<Action> {
        action_for(app, &KeyEvent::new(code, mods))
    }

    #[test]
    fn a_rebound_action_moves_to_its_new_keys_in_dispatch_help_and_footer() {
        let keymap = with(&[("sort", &["f5", "ctrl-o"]), ("quit", &["Q"])]).unwrap();
        let mut app = app_for(Context::Table);
        app.keymap = std::sync::Arc::new(keymap);
        assert_eq!(press(&app, KeyCode::F(5), NONE), Some(Action::SortNext));
        let ctrl = KeyModifiers::CONTROL;
        assert_eq!(
            press(&app, KeyCode::Char('o'), ctrl),
            Some(Action::SortNext)
        );
        assert_eq!(
            press(&app, KeyCode::Char('s'), NONE),
            None,
            "old key still bound"
        );
        assert_eq!(press(&app, KeyCode::Char('Q'), NONE), Some(Action::Quit));
        assert_eq!(press(&app, KeyCode::Char('q'), NONE), None);
        assert_eq!(press(&app, KeyCode::Char('c'), ctrl), Some(Action::Quit));
        let help = super::super::help::text(&app.keymap);
        assert!(
            help.contains(" F5/Ctrl-o sort by the next column"),
            "{help}"
        );
        assert!(help.contains(" Q         quit"), "{help}");
        let hints = hints(&app);
        assert!(hints.contains(&("F5/Ctrl-o", "sort")), "{hints:?}");
        assert!(hints.contains(&("Q", "quit")), "{hints:?}");
        assert!(!hints.iter().any(|(k, _)| *k == "s"), "{hints:?}");
    }

    #[test]
    fn an_empty_list_unbinds_and_help_says_so() {
        let mut app = app_for(Context::Table);
        app.keymap = std::sync::Arc::new(with(&[("quit", &[])]).unwrap());
        assert_eq!(press(&app, KeyCode::Char('q'), NONE), None);
        let help = super::super::help::text(&app.keymap);
        assert!(help.contains(" (none)    quit"), "{help}");
        assert!(!hints(&app).iter().any(|(_, h)| *h == "quit"));
    }

    #[test]
    fn conflicts_unknown_names_and_bad_keys_are_one_line_errors() {
        // j already moves down in tables.
        let e = with(&[("sort", &["j"])]).unwrap_err();
        assert!(
            e.contains("keys.sort") && e.contains("j is already bound to down"),
            "{e}"
        );
        assert!(e.contains("Moving") && !e.contains('\n'), "{e}");
        // ...unless `down` moves away from it in the same file.
        let m = with(&[("sort", &["j"]), ("down", &["ctrl-n", "down"])]).unwrap();
        let mut app = app_for(Context::Table);
        app.keymap = std::sync::Arc::new(m);
        assert_eq!(
            press(&app, KeyCode::Char('j'), NONE),
            Some(Action::SortNext)
        );
        let ctrl = KeyModifiers::CONTROL;
        assert_eq!(press(&app, KeyCode::Char('n'), ctrl), Some(Action::Down));
        // A global key shadowed by a table key, and a digit that goes to a pane.
        let e = with(&[("pause", &["s"])]).unwrap_err();
        assert!(e.contains("keys.pause") && e.contains("sort"), "{e}");
        let e = with(&[("refresh", &["3"])]).unwrap_err();
        assert!(
            e.contains("not rebindable") && e.contains("go to pane N"),
            "{e}"
        );
        // A global key is reachable in map details too, where `c` is per-CPU.
        assert!(with(&[("refresh", &["c"])]).is_err());
        // Keys of places never active together do not collide: `J` scrolls program details.
        assert!(with(&[("per_cpu", &["J"])]).is_ok());
        // Repeating a built-in shadowing (Home: top, and first snapshot in a replay) is fine.
        assert!(with(&[("top", &["g", "home"])]).is_ok());
        let e = with(&[("sortt", &["x"])]).unwrap_err();
        assert!(e.contains("keys.sortt") && e.contains("sort_flip"), "{e}");
        let e = with(&[("sort", &["ctrl-"])]).unwrap_err();
        assert!(e.contains("`ctrl-` is not a key"), "{e}");
        assert!(with(&[("sort", &["f13"])]).is_err());
        assert!(with(&[("sort", &["ctrl-c"])])
            .unwrap_err()
            .contains("always quits"));
    }

    #[test]
    fn keys_parse_and_print_back() {
        for (text, label) in [
            ("x", "x"),
            ("X", "X"),
            ("ctrl-x", "Ctrl-x"),
            ("Ctrl-Alt-x", "Ctrl-Alt-x"),
            ("alt-enter", "Alt-Enter"),
            ("F5", "F5"),
            ("pgdn", "PgDn"),
            ("PageUp", "PgUp"),
            ("shift-tab", "Shift-Tab"),
            ("space", "space"),
            (" ", "space"),
            ("-", "-"),
            ("down", "↓"),
            ("del", "Del"),
        ] {
            let p = parse_key(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(key_label(&p), label, "{text}");
            assert_eq!(parse_key(label), Ok(p), "{label}");
        }
        for bad in ["", "ctrl-", "xy", "f0", "hyper-x", "\t"] {
            assert!(parse_key(bad).is_err(), "{bad:?}");
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
    fn conntrack_details_offer_back_and_not_details() {
        let mut app = app_for(Context::Table);
        let table = hints(&app);
        assert!(table.contains(&("Enter", "details")), "{table:?}");
        app.details
            .push(Detail::Conntrack(crate::app::state::ConntrackDetailView {
                key: 1,
                opened: Box::default(),
            }));
        let h = hints(&app);
        assert!(h.contains(&("Esc", "back")), "{h:?}");
        assert!(!h.iter().any(|(_, hint)| *hint == "details"), "{h:?}");
    }

    #[test]
    fn footer_hints_come_from_the_table() {
        let app = app_for(Context::Table);
        for (label, hint) in hints(&app) {
            assert!(KEYS.iter().any(|b| b.label == label && b.hint == hint));
        }
    }
}
