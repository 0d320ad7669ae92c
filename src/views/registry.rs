//! The pane registry: adding a pane is one module plus one line in `PANES`.

use super::plain::PlainTable;
use super::theme::Theme;
use crate::app::state::{App, RowKey};
use crate::app::update::Target;
use crate::model::Snapshot;
use ratatui::layout::Rect;
use ratatui::Frame;

pub struct PaneDef {
    /// Name on the command line (`show PANE`) and in the palette.
    pub name: &'static str,
    /// Tab title.
    pub title: &'static str,
    /// Other palette words for this pane.
    pub aliases: &'static [&'static str],
    /// Object count shown in the tab.
    pub count: fn(&Snapshot) -> usize,
    /// Sortable columns (0: not sortable) and the default sort.
    pub columns: usize,
    pub default_sort: usize,
    pub default_desc: bool,
    /// Visible rows in display order (after filter and sort).
    pub keys: fn(&App) -> Vec<RowKey>,
    /// What Enter on a row opens.
    pub open: fn(&App, &RowKey) -> Option<Target>,
    pub draw: fn(&mut Frame, Rect, &App, &Theme),
    /// Groups the pane shows one at a time (policy: endpoints), in order; `<`/`>` step them.
    pub groups: fn(&App) -> Vec<RowKey>,
    /// The pane as a plain table (`dpscope show`: the default view; export: the view on
    /// screen, with its filter and sort where the pane is a generic table).
    pub plain: fn(&Snapshot, Option<&Snapshot>, &crate::app::state::TableView) -> PlainTable,
}

pub const PANES: &[PaneDef] = &[
    // 1-9: what an incident call reaches for first.
    super::programs::PANE,
    super::maps::PANE,
    super::attachments::PANE,
    super::drops::PANE,
    super::retransmits::PANE,
    super::denials::PANE,
    super::services::PANE,
    super::conntrack::PANE,
    super::policy::PANE,
    // Tab or the palette (`:node`, `:tail`, ...).
    super::tailcalls::PANE,
    super::identities::PANE,
    super::endpoints::PANE,
    super::metrics::PANE,
    super::flows::PANE,
    super::xdp_errors::PANE,
    super::node::PANE,
];

/// For panes whose rows open nothing on Enter.
pub fn opens_nothing(_: &App, _: &RowKey) -> Option<Target> {
    None
}

/// For panes without groups.
pub fn no_groups(_: &App) -> Vec<RowKey> {
    Vec::new()
}

pub fn by_name(name: &str) -> Option<&'static PaneDef> {
    PANES
        .iter()
        .find(|p| p.name == name || p.aliases.contains(&name))
}
