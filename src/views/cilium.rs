//! The explained "no Cilium maps found" state of the Cilium panes.

use super::theme::Theme;
use crate::model::Snapshot;
use crate::text;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

/// Draw the state of a Cilium pane with no rows, centered: why (the collector's reason when it
/// gave one, and where dpscope looked), that the snapshot has no Cilium data at all, or that
/// Cilium's maps are there but this one is empty.
pub fn draw_empty(
    frame: &mut Frame,
    area: Rect,
    title: Line<'_>,
    snap: &Snapshot,
    pane: &str,
    app: &crate::app::App,
    theme: &Theme,
) {
    let (waiting, live) = (app.waiting, app.is_live());
    let mut lines: Vec<Line> = Vec::new();
    let reason = snap.unavailable_reason(pane);
    // Live, conntrack just opened: the CT maps are being read (they are read only while the
    // pane is open).
    let ct_pending = live
        && pane == "conntrack"
        && reason.is_none()
        && snap.cilium.as_ref().is_none_or(|c| c.ct_read_ns.is_none());
    if waiting {
        lines.push(Line::from(Span::styled(text::WAITING, theme.dim())));
    } else if ct_pending {
        lines.push(Line::from(Span::styled(text::CT_READING, theme.dim())));
    } else if let Some(r) = reason {
        lines.push(Line::from(Span::styled(text::NO_CILIUM, theme.warn())));
        lines.push(Line::default());
        lines.push(Line::from(r.to_string()));
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(text::NO_CILIUM_WHY, theme.dim())));
        let roots = if snap.node.bpffs_roots.is_empty() {
            text::DEFAULT_BPFFS_ROOTS.to_string()
        } else {
            snap.node.bpffs_roots.join(", ")
        };
        lines.push(Line::from(Span::styled(
            text::searched_roots(&roots),
            theme.dim(),
        )));
    } else if snap.cilium.is_none() {
        lines.push(Line::from(Span::styled(text::NO_CILIUM, theme.warn())));
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(text::NO_CILIUM_DATA, theme.dim())));
    } else {
        lines.push(Line::from(Span::styled(
            text::cilium_pane_empty(pane),
            theme.dim(),
        )));
    }
    let inner_h = area.height.saturating_sub(2);
    let pad = inner_h.saturating_sub(lines.len() as u16 + 1) / 2;
    let mut all: Vec<Line> = (0..pad).map(|_| Line::default()).collect();
    all.extend(lines);
    let p = Paragraph::new(all)
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true })
        .block(super::block(title, theme));
    frame.render_widget(p, area);
}
