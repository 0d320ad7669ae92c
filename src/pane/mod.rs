//! The pane layer: what each pane is, below the app state and the views. Pure: no terminal,
//! no kernel, no clock.
//!
//! A pane ([`Pane`]) has an id ([`PaneId`], in `model`), a tab title, its rows in order with
//! their keys (for a view state: sort, filter, marks, open rows), what Enter on a row opens,
//! and its plain and JSON forms (`show`, export). The app keeps each pane's view state
//! ([`TableView`]) and the order it computed ([`order::Listing`]); the views draw from them.
//!
//! Adding a pane: one file here and one `PaneId` variant (plus its arm in [`get`]). A plain
//! table pane is a [`TablePane`]: its rows, columns ([`Table`]), row key and JSON; the generic
//! table view draws it. A pane with more behaviour (a tree, expandable rows, groups) implements
//! [`Pane`] itself and has a draw function of its own in `views`.

use crate::model::{PaneId, Snapshot};

pub mod baseline;
pub mod ctx;
pub mod format;
pub mod order;
pub mod plain;
pub mod probe;
pub mod probe_rates;
pub mod rates;
pub mod table;
pub mod tree;
pub mod view;

pub mod attachments;
pub mod cilium;
pub mod cluster;
pub mod conntrack;
pub mod dbg;
pub mod denials;
pub mod drops;
pub mod endpoints;
pub mod flows;
pub mod identities;
pub mod maps;
pub mod metrics;
pub mod node;
pub mod policy;
pub mod programs;
pub mod retransmits;
pub mod services;
pub mod tailcalls;
pub mod xdp_errors;

pub use ctx::Ctx;
pub use order::{Memo, Order, RowRef};
pub use plain::PlainTable;
pub use table::{Table, TablePane, TableText};
pub use view::{RowKey, TableView, Target};

/// A table's sortable columns and its default sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sorting {
    pub columns: usize,
    pub default: usize,
    pub desc: bool,
}

/// One pane: what the app needs to navigate it and what `show` prints of it.
pub trait Pane: Sync {
    fn id(&self) -> PaneId;
    /// Tab title.
    fn title(&self) -> &'static str;
    /// Objects counted in the tab.
    fn count(&self, ctx: &Ctx) -> usize;
    /// Sortable columns and the default sort; `None` where `s` and `S` do nothing.
    fn sorting(&self) -> Option<Sorting> {
        None
    }
    /// The lines shown for `view`, in order, with their keys. `App::update` calls it when
    /// the snapshot or the view's shape changed and keeps the result.
    fn order(&self, ctx: &Ctx, view: &TableView, memo: &mut Memo) -> Order;
    /// What Enter on the line with `key` opens.
    fn open(&self, ctx: &Ctx, view: &TableView, key: &RowKey) -> Option<Target>;
    /// Groups shown one at a time (policy: endpoints), in order; `<`/`>` step them.
    fn groups(&self, _snap: &Snapshot) -> Vec<RowKey> {
        Vec::new()
    }
    /// The pane as a plain table (`show`: the default view; export: the view on screen, its
    /// filter applied by [`plain::pane_table_as`]).
    fn plain(&self, ctx: &Ctx, view: &TableView) -> PlainTable;
    /// [`Pane::plain`] row by row, for `show` to write each row as it is formatted rather
    /// than hold every row's text (half a million conntrack rows are most of a GB as strings).
    fn plain_rows<'a>(&'a self, ctx: &'a Ctx<'a>, view: &TableView) -> plain::PlainRows<'a> {
        plain::PlainRows::owned(self.plain(ctx, view))
    }
    /// The objects the pane shows, as JSON (`show --json`): the objects `plain` lists.
    fn json(&self, snap: &Snapshot, w: &mut dyn std::io::Write) -> serde_json::Result<()>;
    /// Own probes whose data the pane shows (`show` loads only these).
    fn probes(&self) -> &'static [&'static str] {
        &[]
    }
    /// The pane as a table of text for the generic table view; `None` for panes that draw
    /// themselves.
    fn table(&self) -> Option<&dyn TableText> {
        None
    }
}

/// The pane `id` names.
pub fn get(id: PaneId) -> &'static dyn Pane {
    match id {
        PaneId::Programs => &programs::PANE,
        PaneId::Maps => &maps::PANE,
        PaneId::Attachments => &attachments::PANE,
        PaneId::Drops => &drops::PANE,
        PaneId::Retransmits => &retransmits::PANE,
        PaneId::Denials => &denials::PANE,
        PaneId::Services => &services::PANE,
        PaneId::Conntrack => &conntrack::PANE,
        PaneId::Policy => &policy::PANE,
        PaneId::Tailcalls => &tailcalls::PANE,
        PaneId::Identities => &identities::PANE,
        PaneId::Endpoints => &endpoints::PANE,
        PaneId::Metrics => &metrics::PANE,
        PaneId::Flows => &flows::PANE,
        PaneId::XdpErrors => &xdp_errors::PANE,
        PaneId::Node => &node::PANE,
        PaneId::Cluster => &cluster::PANE,
    }
}

/// `v` as compact JSON (bpftool's `-j`): most panes' JSON form is one snapshot array. `show`
/// pretty-prints it on a terminal (`-p`).
pub fn json<T: serde::Serialize + ?Sized>(
    w: &mut dyn std::io::Write,
    v: &T,
) -> serde_json::Result<()> {
    serde_json::to_writer(w, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pane_knows_its_id() {
        for id in PaneId::EVERY {
            assert_eq!(get(id).id(), id);
        }
    }
}
