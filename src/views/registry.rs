//! The pane registry: adding a pane is one module plus one line in `PANES` (in `PaneId`
//! order).

use super::plain::PlainTable;
use super::theme::Theme;
use crate::app::state::{App, RowKey};
use crate::app::update::Target;
use crate::model::{PaneId, Snapshot};
use ratatui::layout::Rect;
use ratatui::Frame;

pub struct PaneDef {
    pub id: PaneId,
    /// Tab title.
    pub title: &'static str,
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
    /// The objects the pane shows, as JSON (`show --json`): the same objects as `plain`.
    pub json: fn(&Snapshot, &mut dyn std::io::Write) -> serde_json::Result<()>,
    /// Own probes whose data the pane shows (`show` loads only these).
    pub probes: &'static [&'static str],
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

/// The pane's definition.
pub fn pane(id: PaneId) -> &'static PaneDef {
    &PANES[id.index()]
}

/// `v` as pretty JSON: most panes' JSON form is one snapshot array.
pub fn json<T: serde::Serialize + ?Sized>(
    w: &mut dyn std::io::Write,
    v: &T,
) -> serde_json::Result<()> {
    serde_json::to_writer_pretty(w, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panes_are_in_pane_id_order() {
        assert_eq!(PANES.len(), PaneId::ALL.len());
        for (def, id) in PANES.iter().zip(PaneId::ALL) {
            assert_eq!(def.id, id);
        }
    }
}
