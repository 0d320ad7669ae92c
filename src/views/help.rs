//! The help overlay, generated from the same key table that dispatches keys.

use super::text;
use super::theme::Theme;
use crate::app::keys::{Context, Keymap};
use crate::app::state::App;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Borders, Clear, Paragraph};
use ratatui::Frame;

/// Sections of the help: a title and the contexts listed under it.
const SECTIONS: &[(&str, &[Context])] = &[
    ("Global", &[Context::Global, Context::Always]),
    ("Moving", &[Context::Nav]),
    ("Tables and trees", &[Context::Table]),
    ("Program details", &[Context::ProgramDetail]),
    ("Map details", &[Context::MapDetail]),
    ("Replay", &[Context::Replay]),
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

/// Help lines, one section per context, one line per binding: the whole key table.
pub fn lines(theme: &Theme, keymap: &Keymap, mouse: bool) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for (title, ctxs) in SECTIONS {
        out.push(Line::from(Span::styled(*title, theme.title())));
        for ctx in *ctxs {
            for b in keymap.in_context(*ctx) {
                // An unbound action stays listed, so the help says it exists and is off.
                let label = if b.label.is_empty() {
                    "(none)"
                } else {
                    b.label.as_str()
                };
                out.push(Line::from(vec![
                    Span::styled(format!(" {label:<10}"), theme.key()),
                    Span::raw(b.def.description),
                ]));
            }
        }
    }
    if mouse {
        out.push(Line::from(Span::styled("Mouse (--mouse)", theme.title())));
        for (what, does) in MOUSE {
            out.push(Line::from(vec![
                Span::styled(format!(" {what:<10}"), theme.key()),
                Span::raw(*does),
            ]));
        }
    }
    out
}

/// Plain text of the help (tests check it against the key table).
pub fn text(theme: &Theme, keymap: &Keymap) -> String {
    lines(theme, keymap, false)
        .iter()
        .map(|l| {
            l.spans
                .iter()
                .map(|s| s.content.as_ref())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// First help line shown: the requested scroll, clamped so the last line stays at the bottom.
pub fn scroll(app: &App, all: usize, height: u16) -> usize {
    app.help_scroll.min(all.saturating_sub(usize::from(height)))
}

pub fn draw(frame: &mut Frame, _body: Rect, app: &App, theme: &Theme) {
    let area = frame.area();
    let w = area.width.min(100);
    let rect = Rect::new(area.x + (area.width - w) / 2, area.y, w, area.height);
    frame.render_widget(Clear, rect);
    let all = lines(theme, &app.keymap, app.mouse);
    let split = (1..all.len())
        .filter(|&i| all[i].spans.len() == 1)
        .min_by_key(|&i| i.max(all.len() - i))
        .unwrap_or(all.len());
    let tallest = split.max(all.len() - split);
    // No bottom border: one more line for a 24-line terminal.
    let height = area.height.saturating_sub(1);
    let first = scroll(app, tallest, height);
    let title = if tallest > usize::from(height) {
        use crate::app::actions::Action;
        let keys = |a: Action, b: Action| {
            [app.keymap.first_key(&a), app.keymap.first_key(&b)]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("/")
        };
        let more = if first + usize::from(height) < tallest {
            format!("↓ {} more", keys(Action::Down, Action::PageDown))
        } else {
            format!("↑ {} back", keys(Action::Up, Action::PageUp))
        };
        format!(" {} · {more} ", text::HELP_TITLE.trim())
    } else {
        text::HELP_TITLE.to_string()
    };
    let block = super::block(title, theme).borders(Borders::TOP | Borders::LEFT | Borders::RIGHT);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    // Two columns, split at the section boundary that balances them best.
    let split = (1..all.len())
        .filter(|&i| all[i].spans.len() == 1)
        .min_by_key(|&i| i.max(all.len() - i))
        .unwrap_or(all.len());
    let right = all[split..].to_vec();
    let left = all[..split].to_vec();
    let [l, r] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
        .spacing(1)
        .areas(inner);
    let y = u16::try_from(first).unwrap_or(u16::MAX);
    frame.render_widget(Paragraph::new(left).scroll((y, 0)), l);
    frame.render_widget(Paragraph::new(right).scroll((y, 0)), r);
}
