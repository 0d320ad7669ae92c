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
