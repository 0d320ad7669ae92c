//! Drawing `App` state: `draw` takes `&App` and returns what it drew where (the click map);
//! views change no state and keep none between frames. Table panes are drawn by the generic
//! table view from their `pane::TableText`; panes with more behaviour have a module here.

pub mod attachments;
pub mod cilium;
pub mod conntrack_detail;
pub mod denials;
pub mod header;
pub mod help;
pub mod hits;
pub mod map_detail;
pub mod palette;
pub mod policy;
pub mod program_detail;
pub mod services;
pub mod table;
pub mod tailcalls;
pub mod theme;
pub mod tree;

use crate::app::mouse::Hits;
use crate::app::state::{App, Detail, Mode};
use crate::model::PaneId;
use crate::pane::table::{Empty, TableText};
use crate::pane::{Ctx, Pane};
use crate::text;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;
use theme::Theme;

/// Draw the whole screen; returns where the clickable things (tabs, rows) were drawn.
pub fn draw(frame: &mut Frame, app: &App) -> Hits {
    let mut hits = Hits::default();
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
    header::draw_tabs(frame, tabs, app, &theme, &mut hits);
    match app.details.last() {
        Some(Detail::Program(p)) => program_detail::draw(frame, body, app, p, &theme),
        Some(Detail::Map(m)) => map_detail::draw(frame, body, app, m, &theme),
        Some(Detail::Conntrack(c)) => conntrack_detail::draw(frame, body, app, c, &theme),
        None => draw_pane(frame, body, app, &theme, &mut hits),
    }
    header::draw_footer(frame, foot, app, &theme);
    if app.help {
        help::draw(frame, body, app, &theme);
    }
    if app.mode == Mode::Palette {
        palette::draw(frame, body, app, &theme);
    }
    hits
}

/// The pane on screen: its own view, or the generic table view.
fn draw_pane(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, hits: &mut Hits) {
    let pane = crate::pane::get(app.pane);
    match app.pane {
        PaneId::Attachments => attachments::draw(frame, area, app, theme, hits),
        PaneId::Tailcalls => tailcalls::draw(frame, area, app, theme, hits),
        PaneId::Services => services::draw(frame, area, app, theme, hits),
        PaneId::Policy => policy::draw(frame, area, app, theme, hits),
        PaneId::Denials => denials::draw(frame, area, app, theme, hits),
        _ => match pane.table() {
            Some(body) => draw_table_pane(frame, area, app, theme, hits, pane, body),
            None => empty_state(
                frame,
                area,
                Line::from(format!(" {} ", pane.title())),
                "",
                theme,
                false,
            ),
        },
    }
}

/// A table pane in `area`: the rows of the kept order, or why there are none.
pub fn draw_table_pane(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    theme: &Theme,
    hits: &mut Hits,
    pane: &dyn Pane,
    body: &dyn TableText,
) {
    let ctx = app.ctx();
    let view = app.view();
    let total = body.total(&ctx);
    let legend = body.legend(&ctx);
    let (empty, empty_warn) = match body.empty() {
        Empty::Cilium if total == 0 => {
            let mut title = table_title(pane.title(), 0, 0, &view.filter);
            title.push_str(&legend);
            let name = pane.id().name();
            cilium::draw_empty(frame, area, Line::from(title), ctx.snap, name, app, theme);
            return;
        }
        Empty::Cilium => (String::new(), false),
        Empty::Text(nothing) => empty_text(&ctx, pane.id(), nothing),
    };
    let shown = app.shown();
    let framing = table::Framing {
        name: body.name(),
        total,
        legend: &legend,
        empty: &empty,
        empty_warn,
    };
    table::draw(
        frame,
        area,
        theme,
        hits,
        &ctx,
        view,
        &shown.order,
        shown.selected,
        body,
        &framing,
    );
}

/// What an empty pane says: why it is unavailable (a problem), waiting, or `nothing`.
pub fn empty_text(ctx: &Ctx, pane: PaneId, nothing: &str) -> (String, bool) {
    match ctx.snap.unavailable_reason(pane.name()) {
        Some(r) => (text::unavailable(pane.name(), r), true),
        None if ctx.waiting => (text::WAITING.to_string(), false),
        None => (nothing.to_string(), false),
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
