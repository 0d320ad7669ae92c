//! What a pane's rows, cells and order are computed from: the snapshot on screen, what was
//! derived from it and the one before it (rates, the probe panes' rows), and the baseline.

use super::baseline::Baseline;
use super::drops::DropRow;
use super::node::NodeRow;
use super::probe_rates::{retransmit_rows, RetransGroup, RetransRow};
use super::rates::{self, Rates};
use crate::model::Snapshot;

/// Everything derived from the snapshot on screen and its predecessor, once per snapshot
/// (and again when the retransmits grouping changes): rates, and the rows of the panes that
/// show derived rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Derived {
    pub rates: Rates,
    /// Drops with their rate over the last interval.
    pub drops: Vec<DropRow>,
    /// Retransmit hotspots, grouped by `retrans_group`.
    pub retransmits: Vec<RetransRow>,
    pub retrans_group: RetransGroup,
    /// Facts about the node and the collection, one row each.
    pub node: Vec<NodeRow>,
}

impl Derived {
    pub fn compute(prev: Option<&Snapshot>, snap: &Snapshot, group: RetransGroup) -> Derived {
        let rates = rates::compute(prev, snap);
        let node = super::node::rows(snap, &rates);
        Derived {
            rates,
            drops: super::drops::rows(prev, snap),
            retransmits: retransmit_rows(prev, snap, group),
            retrans_group: group,
            node,
        }
    }

    /// Group the retransmits another way.
    pub fn regroup(&mut self, prev: Option<&Snapshot>, snap: &Snapshot, group: RetransGroup) {
        self.retransmits = retransmit_rows(prev, snap, group);
        self.retrans_group = group;
    }
}

/// What a cell, a sort key or a pane's order may look at besides its row.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub snap: &'a Snapshot,
    pub prev: Option<&'a Snapshot>,
    pub derived: &'a Derived,
    /// Baseline the rows are marked against (`d`), if any.
    pub baseline: Option<&'a Baseline>,
    /// Presentation mode (`p`): fewer, wider columns and double-spaced rows.
    pub presentation: bool,
    /// Live, before the first snapshot.
    pub waiting: bool,
    /// Which snapshot this is (`App::snapshot_seq`): what a `Memo` keeps work for.
    pub seq: u64,
    /// The bundle being replayed (`replay BUNDLE_DIR`): the Cluster pane's rows.
    pub cluster: Option<&'a super::cluster::Cluster>,
}

impl<'a> Ctx<'a> {
    /// A snapshot on its own (`show`, export): no baseline, no presentation.
    pub fn standalone(
        snap: &'a Snapshot,
        prev: Option<&'a Snapshot>,
        derived: &'a Derived,
    ) -> Ctx<'a> {
        Ctx {
            snap,
            prev,
            derived,
            baseline: None,
            presentation: false,
            waiting: false,
            seq: 0,
            cluster: None,
        }
    }
}
