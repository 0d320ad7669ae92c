//! What the help overlay says, as text: generated from the key table in effect, so the help
//! lists what the keys do. The view styles it; `update` scrolls it by its length.

use super::keys::{Context, Keymap};

/// Sections of the help: a title and the contexts listed under it.
const SECTIONS: &[(&str, &[Context])] = &[
    ("Global", &[Context::Global, Context::Always]),
    ("Moving", &[Context::Nav]),
    ("Tables and trees", &[Context::Table]),
    ("Program details", &[Context::ProgramDetail]),
    ("Map details", &[Context::MapDetail]),
    ("Replay", &[Context::Replay]),
    ("Bundle of nodes (replay BUNDLE_DIR)", &[Context::Bundle]),
    ("Filter (/)", &[Context::Filter]),
    ("Command palette (:)", &[Context::Palette]),
    ("Editing the / or : line", &[Context::Typing]),
];

/// What the mouse does with `--mouse` (app::mouse).
const MOUSE: &[(&str, &str)] = &[
    ("click", "a tab: open the pane; a row: select it"),
    ("click ▶", "the selected row again: open it (Enter)"),
    ("wheel", "move 3 rows (help, details: scroll)"),
    ("Shift", "hold to select text in most terminals"),
];

/// One line of the help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpLine {
    /// A section title.
    Title(&'static str),
    /// A key (as written in help and footer) and what it does.
    Key { keys: String, does: &'static str },
}

/// The help: one section per context, one line per binding (the whole key table), then the
/// mouse when `--mouse` is on.
pub fn lines(keymap: &Keymap, mouse: bool) -> Vec<HelpLine> {
    let mut out = Vec::new();
    for (title, ctxs) in SECTIONS {
        out.push(HelpLine::Title(title));
        for ctx in *ctxs {
            for b in keymap.in_context(*ctx) {
                // An unbound action stays listed, so the help says it exists and is off.
                let keys = if b.label.is_empty() {
                    "(none)".to_string()
                } else {
                    b.label.clone()
                };
                out.push(HelpLine::Key {
                    keys,
                    does: b.def.description,
                });
            }
        }
    }
    if mouse {
        out.push(HelpLine::Title("Mouse (--mouse)"));
        for (what, does) in MOUSE {
            out.push(HelpLine::Key {
                keys: (*what).to_string(),
                does,
            });
        }
    }
    out
}

/// A line of the help as drawn: a section title, or a key with a piece of what it does (the
/// lines that continue a description have no key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drawn {
    Title(&'static str),
    Key { keys: String, does: String },
}

/// Width of the key column: a space, the key padded to 10.
pub const KEY_WIDTH: usize = 11;

/// The help is at most this wide; from this width on it has two columns, below it one.
pub const HELP_WIDTH: u16 = 100;

fn width(s: &str) -> usize {
    ratatui::text::Span::raw(s).width()
}

/// `text` in lines of at most `room` columns, broken between words (a word longer than a
/// line is broken inside).
fn wrap(text: &str, room: usize) -> Vec<String> {
    let room = room.max(1);
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        loop {
            let sep = usize::from(!line.is_empty());
            if width(&line) + sep + width(&word) <= room {
                if sep == 1 {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
                continue;
            }
            // A word alone wider than the line: its first `room` columns, then the rest.
            let mut head = String::new();
            let mut rest = word.chars();
            for c in rest.by_ref() {
                if width(&head) + width(c.encode_utf8(&mut [0u8; 4])) > room {
                    head.push(c);
                    break;
                }
                head.push(c);
            }
            let mut chars: Vec<char> = head.chars().collect();
            let last = chars.pop();
            out.push(chars.into_iter().collect());
            word = last.into_iter().chain(rest).collect();
        }
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

/// Width of each column of the help in a terminal `term_width` wide, and how many columns.
pub fn column_width(term_width: u16) -> (usize, usize) {
    // Side borders.
    let inner = usize::from(term_width.min(HELP_WIDTH)).saturating_sub(2);
    if term_width >= HELP_WIDTH {
        (inner.saturating_sub(1) / 2, 2)
    } else {
        (inner, 1)
    }
}

/// The help as drawn in a terminal `term_width` wide: one column below [`HELP_WIDTH`], two
/// from it on (split at the section boundary that balances them), descriptions wrapped to
/// their column under the description's start, never cut.
pub fn columns(keymap: &Keymap, mouse: bool, term_width: u16) -> Vec<Vec<Drawn>> {
    let (col, n) = column_width(term_width);
    let mut all: Vec<Drawn> = Vec::new();
    let mut starts: Vec<usize> = Vec::new();
    for l in lines(keymap, mouse) {
        match l {
            HelpLine::Title(t) => {
                starts.push(all.len());
                all.push(Drawn::Title(t));
            }
            HelpLine::Key { keys, does } => {
                let lead = KEY_WIDTH.max(width(&keys) + 2);
                let room = col.saturating_sub(KEY_WIDTH).max(10);
                let first_room = col.saturating_sub(lead).max(10);
                let mut pieces = wrap(does, first_room);
                if pieces.len() > 1 {
                    let rest = pieces.split_off(1).join(" ");
                    pieces.extend(wrap(&rest, room));
                }
                for (i, piece) in pieces.into_iter().enumerate() {
                    all.push(Drawn::Key {
                        keys: if i == 0 { keys.clone() } else { String::new() },
                        does: piece,
                    });
                }
            }
        }
    }
    if n == 1 {
        return vec![all];
    }
    let split = starts
        .into_iter()
        .filter(|&i| i > 0)
        .min_by_key(|&i| i.max(all.len() - i))
        .unwrap_or(all.len());
    let right = all.split_off(split);
    vec![all, right]
}

/// The furthest the help scrolls in a terminal `term_width` × `term_height`: its last line at
/// the bottom (the overlay has no bottom border).
pub fn max_scroll(keymap: &Keymap, mouse: bool, term_width: u16, term_height: u16) -> usize {
    let tallest = columns(keymap, mouse, term_width)
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0);
    tallest.saturating_sub(usize::from(term_height.saturating_sub(1)))
}

/// Plain text of the help (tests check it against the key table).
pub fn text(keymap: &Keymap) -> String {
    lines(keymap, false)
        .iter()
        .map(|l| match l {
            HelpLine::Title(t) => (*t).to_string(),
            HelpLine::Key { keys, does } => format!(" {keys:<10}{does}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_wrap_and_are_never_cut() {
        let keymap = Keymap::default();
        for w in [60u16, 80, 99, 100, 160] {
            let (col, n) = column_width(w);
            assert_eq!(n, if w >= HELP_WIDTH { 2 } else { 1 });
            let cols = columns(&keymap, true, w);
            let mut text = String::new();
            for l in cols.iter().flatten() {
                if let Drawn::Key { keys, does } = l {
                    assert!(
                        KEY_WIDTH.max(width(keys) + 2) + width(does) <= col.max(KEY_WIDTH + 10),
                        "{w}: {keys:?} {does:?} wider than {col}"
                    );
                    text.push_str(does);
                    text.push(' ');
                }
            }
            // Every description is there whole.
            for l in lines(&keymap, true) {
                if let HelpLine::Key { does, .. } = l {
                    assert!(text.contains(does), "{w}: {does:?} cut");
                }
            }
        }
        assert_eq!(
            wrap("filter rows (!x: rows without x)", 12),
            vec!["filter rows", "(!x: rows", "without x)"]
        );
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
    }
}
