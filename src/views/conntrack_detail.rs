//! One conntrack entry in full (Enter on a Conntrack row): every field, as
//! `pane::conntrack::detail::lines` gives them, wrapped to the width.

use super::theme::Theme;
use crate::app::state::{App, ConntrackDetailView};
use crate::model::CtEntry;
use crate::pane::conntrack::{detail, row_key};
use crate::pane::RowKey;
use crate::text;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

/// The entry in this snapshot, or `None` when it left the table.
fn current<'a>(app: &'a App, d: &ConntrackDetailView) -> Option<&'a CtEntry> {
    let key = RowKey::Id(d.key);
    // The entry opened is usually where it was: compare it first, then look.
    app.snapshot
        .conntrack
        .iter()
        .find(|e| **e == *d.opened)
        .or_else(|| app.snapshot.conntrack.iter().find(|e| row_key(e) == key))
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, d: &ConntrackDetailView, theme: &Theme) {
    let now = current(app, d);
    let e = now.unwrap_or(&d.opened);
    let fields = detail::lines(e, &app.snapshot);
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 2;
    let mut lines: Vec<Line> = Vec::with_capacity(fields.len() + 2);
    if now.is_none() {
        lines.push(Line::from(Span::styled(text::CT_ENTRY_GONE, theme.warn())));
        lines.push(Line::default());
    }
    for (k, v) in fields {
        lines.push(Line::from(vec![
            Span::styled(format!("{k:<width$}"), theme.label()),
            Span::raw(v),
        ]));
    }
    let title = format!(
        " Conntrack entry · {} ",
        crate::pane::conntrack::connection(e)
    );
    let p = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(super::block(Line::from(title), theme));
    frame.render_widget(p, area);
}
