//! The help overlay: `app::help`'s lines, styled, in two columns.

use super::theme::Theme;
use crate::app::help::{self, HelpLine};
use crate::app::keys::Keymap;
use crate::app::state::App;
use crate::text;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Borders, Clear, Paragraph};
use ratatui::Frame;

/// The help's lines, styled: titles, then each key and what it does.
pub fn lines(theme: &Theme, keymap: &Keymap, mouse: bool) -> Vec<Line<'static>> {
    help::lines(keymap, mouse)
        .into_iter()
        .map(|l| match l {
            HelpLine::Title(t) => Line::from(Span::styled(t, theme.title())),
            HelpLine::Key { keys, does } => Line::from(vec![
                Span::styled(format!(" {keys:<10}"), theme.key()),
                Span::raw(does),
            ]),
        })
        .collect()
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
