//! The help overlay, generated from the same key table that dispatches keys.

use super::text;
use super::theme::Theme;
use crate::app::keys::{Context, KEYS};
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

/// Help lines, one section per context, one line per binding: the whole key table.
pub fn lines(theme: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for (title, ctxs) in SECTIONS {
        out.push(Line::from(Span::styled(*title, theme.title())));
        for ctx in *ctxs {
            for b in KEYS.iter().filter(|b| b.context == *ctx) {
                out.push(Line::from(vec![
                    Span::styled(format!(" {:<10}", b.label), theme.key()),
                    Span::raw(b.description),
                ]));
            }
        }
    }
    out
}

/// Plain text of the help (tests check it against the key table).
pub fn text(theme: &Theme) -> String {
    lines(theme)
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
    let all = lines(theme);
    let split = (1..all.len())
        .filter(|&i| all[i].spans.len() == 1)
        .min_by_key(|&i| i.max(all.len() - i))
        .unwrap_or(all.len());
    let tallest = split.max(all.len() - split);
    // No bottom border: one more line for a 24-line terminal.
    let height = area.height.saturating_sub(1);
    let first = scroll(app, tallest, height);
    let title = if tallest > usize::from(height) {
        let more = if first + usize::from(height) < tallest {
            "↓ j/PgDn more"
        } else {
            "↑ k/PgUp back"
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
