//! The help overlay: `app::help`'s lines, styled, in two columns.

use super::theme::Theme;
use crate::app::help::{self, Drawn};
use crate::app::state::App;
use crate::text;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Borders, Clear, Paragraph};
use ratatui::Frame;

/// Lines of the help as drawn, styled: titles, keys, what they do.
fn styled(lines: Vec<Drawn>, theme: &Theme) -> Vec<Line<'static>> {
    lines
        .into_iter()
        .map(|l| match l {
            Drawn::Title(t) => Line::from(Span::styled(t, theme.title())),
            Drawn::Key { keys, does } => Line::from(vec![
                Span::styled(
                    if keys.chars().count() >= 10 {
                        format!(" {keys} ")
                    } else {
                        format!(" {keys:<10}")
                    },
                    theme.key(),
                ),
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
    let w = area.width.min(help::HELP_WIDTH);
    let rect = Rect::new(area.x + (area.width - w) / 2, area.y, w, area.height);
    frame.render_widget(Clear, rect);
    let cols = help::columns(&app.keymap, app.mouse, area.width);
    let tallest = cols.iter().map(Vec::len).max().unwrap_or(0);
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
    let (col, _) = help::column_width(area.width);
    let col = u16::try_from(col).unwrap_or(u16::MAX).min(inner.width);
    let y = u16::try_from(first).unwrap_or(u16::MAX);
    let mut x = inner.x;
    for lines in cols {
        let r = Rect::new(
            x,
            inner.y,
            col.min(inner.right().saturating_sub(x)),
            inner.height,
        );
        frame.render_widget(Paragraph::new(styled(lines, theme)).scroll((y, 0)), r);
        x = x.saturating_add(col + 1);
    }
}
