//! The command palette overlay: what is typed and the suggestions.

use super::text;
use super::theme::Theme;
use crate::app::state::App;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let sugg = app.palette_suggestions();
    let shown = sugg.len().min(8);
    let w = area.width.saturating_sub(4).min(40);
    let h = (shown as u16 + 3).min(area.height);
    let rect = Rect::new(area.x + 2, area.y, w, h);
    frame.render_widget(Clear, rect);
    // Inside the borders, after the `:`.
    let width = usize::from(w.saturating_sub(3));
    let mut first = vec![Span::styled(":", theme.key())];
    first.extend(super::header::typed_line(&app.input, width, theme));
    let mut lines = vec![Line::from(first)];
    for (i, s) in sugg.iter().take(shown).enumerate() {
        let style = if i == app.palette_sel {
            theme.selected()
        } else {
            theme.base()
        };
        let mark = if i == app.palette_sel { "▶ " } else { "  " };
        lines.push(Line::from(Span::styled(format!("{mark}{s}"), style)));
    }
    if sugg.is_empty() {
        lines.push(Line::from(Span::styled(
            "  no matching command",
            theme.dim(),
        )));
    }
    frame.render_widget(
        Paragraph::new(lines).block(super::block(text::PALETTE_TITLE, theme)),
        rect,
    );
}
