//! The LSM denials table, with the selected denial in full below it.

use super::theme::Theme;
use crate::app::mouse::Hits;
use crate::app::state::App;
use crate::pane::denials::{detail_lines, PANE};
use crate::pane::table::row_index;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, hits: &mut Hits) {
    let cursor = app.shown();
    let selected = cursor
        .order
        .row(cursor.selected)
        .and_then(|r| app.snapshot.denials.get(row_index(r)));
    let area = match selected {
        Some(d) if area.height >= 14 => {
            let [table, detail] =
                Layout::vertical([Constraint::Min(6), Constraint::Length(6)]).areas(area);
            let lines: Vec<Line> = detail_lines(d).into_iter().map(Line::from).collect();
            frame.render_widget(
                Paragraph::new(lines).block(super::block(" Selected denial ", theme)),
                detail,
            );
            table
        }
        _ => area,
    };
    super::draw_table_pane(frame, area, app, theme, hits, &PANE, &PANE);
}
