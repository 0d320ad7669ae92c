//! The help overlay, generated from the same key table that dispatches keys.

use super::text;
use super::theme::Theme;
use crate::app::keys::{Context, KEYS};
use crate::app::state::App;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

const ORDER: &[Context] = &[
    Context::Global,
    Context::Nav,
    Context::Table,
    Context::ProgramDetail,
    Context::MapDetail,
    Context::Replay,
    Context::Filter,
    Context::Palette,
];

/// Help lines: one section per context, one line per binding.
pub fn lines(theme: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for ctx in ORDER {
        let mut first = true;
        for b in KEYS.iter().filter(|b| b.context == *ctx) {
            if first {
                if !out.is_empty() {
                    out.push(Line::default());
                }
                out.push(Line::from(Span::styled(ctx.title(), theme.title())));
                first = false;
            }
            out.push(Line::from(vec![
                Span::styled(format!("  {:<12}", b.label), theme.key()),
                Span::raw(b.description),
            ]));
        }
    }
    out
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let _ = app;
    let w = area.width.saturating_sub(4).min(72);
    let h = area.height;
    let x = area.x + (area.width.saturating_sub(w)) / 2;
    let rect = Rect::new(x, area.y, w, h);
    frame.render_widget(Clear, rect);
    let body = lines(theme);
    // Two columns when the overlay is tall enough for neither to be cut.
    let p = Paragraph::new(body)
        .wrap(Wrap { trim: false })
        .block(super::block(text::HELP_TITLE, theme));
    frame.render_widget(p, rect);
}
