//! Pure rendering of `App` state: one module per pane plus shared widgets.
//! `draw` takes `&App`: views never change state.

pub mod attachments;
pub mod cilium;
pub mod conntrack;
pub mod denials;
pub mod drops;
pub mod endpoints;
pub mod flows;
pub mod format;
pub mod header;
pub mod help;
pub mod hits;
pub mod identities;
pub mod map_detail;
pub mod maps;
pub mod metrics;
pub mod node;
pub mod palette;
pub mod plain;
pub mod policy;
pub mod probe_pane;
pub mod program_detail;
pub mod programs;
pub mod registry;
pub mod retransmits;
pub mod services;
pub mod table;
pub mod tailcalls;
pub mod text;
pub mod theme;
pub mod tree;
pub mod xdp_errors;

use crate::app::state::{App, Detail, Mode};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;
use theme::Theme;

/// Draw the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let theme = Theme::named(&app.theme, app.no_color);
    let banner = u16::from(app.presentation) * 2;
    let [top, head, tabs, body, foot] = Layout::vertical([
        Constraint::Length(banner),
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(2),
    ])
    .areas(frame.area());
    if app.presentation {
        header::draw_banner(frame, top, app, &theme);
    }
    header::draw_header(frame, head, app, &theme);
    header::draw_tabs(frame, tabs, app, &theme);
    match app.details.last() {
        Some(Detail::Program(p)) => program_detail::draw(frame, body, app, p, &theme),
        Some(Detail::Map(m)) => map_detail::draw(frame, body, app, m, &theme),
        None => {
            (registry::pane(app.pane).draw)(frame, body, app, &theme);
        }
    }
    header::draw_footer(frame, foot, app, &theme);
    if app.help {
        help::draw(frame, body, app, &theme);
    }
    if app.mode == Mode::Palette {
        palette::draw(frame, body, app, &theme);
    }
}

/// A bordered block with a title.
pub fn block<'a>(title: impl Into<Line<'a>>, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .title(title.into().style(theme.title()))
}

/// An empty-state message inside a block, saying what is empty and why.
pub fn empty_state(
    frame: &mut Frame,
    area: Rect,
    title: Line<'_>,
    msg: &str,
    theme: &Theme,
    warn: bool,
) {
    let style = if warn { theme.warn() } else { theme.dim() };
    let p = Paragraph::new(vec![
        Line::default(),
        Line::from(Span::styled(format!("  {msg}"), style)),
    ])
    .wrap(Wrap { trim: false })
    .block(block(title, theme));
    frame.render_widget(p, area);
}

/// Title of a table block: name, counts, filter.
pub fn table_title(name: &str, shown: usize, total: usize, filter: &str) -> String {
    if filter.is_empty() {
        format!(" {name} ({total}) ")
    } else {
        format!(" {name} ({shown} of {total}) filter: {filter} ")
    }
}
