//! Everything the UI knows: the snapshot on screen, the one before it (for rates), and view state.
//! Views read this through `&App`; only `App::update` changes it.

use super::UiOptions;
use crate::model::{PaneId, Snapshot};
use crate::pane::ctx::{Ctx, Derived};
use crate::pane::order::{Inputs, Listing, Memo, Order};
use crate::pane::probe_rates::RetransGroup;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use crate::pane::baseline::Baseline;
use crate::pane::cluster::Cluster;
use crate::pane::view::TableView;

#[derive(Debug, Clone, PartialEq)]
pub struct ProgramDetailView {
    pub id: u32,
    /// Selected entry in the program's map list (Enter opens that map).
    pub map_cursor: usize,
    /// First disassembly line shown.
    pub scroll: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MapDetailView {
    pub id: u32,
    /// Offset of the page asked for.
    pub offset: u64,
    /// Selected entry within the page.
    pub cursor: usize,
    pub per_cpu: bool,
}

/// One conntrack entry in full: its row key, and the entry as it was when opened (shown,
/// marked as gone, once a later snapshot no longer has it).
#[derive(Debug, Clone, PartialEq)]
pub struct ConntrackDetailView {
    pub key: u64,
    pub opened: Box<crate::model::CtEntry>,
}

/// A drill-down view on top of the pane; `Esc` pops it.
#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    Program(ProgramDetailView),
    Map(MapDetailView),
    Conntrack(ConntrackDetailView),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Typing a filter for the current table (`/`).
    Filter,
    /// Typing a command (`:`).
    Palette,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub error: bool,
}

/// A saved snapshot or recording being replayed.
#[derive(Debug, Clone)]
pub struct Replay {
    pub path: String,
    /// Shared with the screen: a step shows one without copying it.
    pub snapshots: Vec<Arc<Snapshot>>,
    pub index: usize,
}

/// Entries per map page asked of the collector.
pub const MAP_PAGE: usize = 200;

#[derive(Debug, Clone)]
pub struct App {
    /// The snapshot on screen; an `Arc` so that export and the baseline diff can read it on
    /// their own threads without a copy.
    pub snapshot: Arc<Snapshot>,
    pub prev: Option<Arc<Snapshot>>,
    /// Rates and the probe panes' rows, derived from `snapshot` and `prev`.
    pub derived: Derived,
    /// No snapshot has arrived yet (live mode, first collection running).
    pub waiting: bool,
    /// The pane on screen.
    pub pane: PaneId,
    pub views: Vec<TableView>,
    pub details: Vec<Detail>,
    pub paused: bool,
    pub mode: Mode,
    /// The line being typed in filter or palette mode, with its cursor.
    pub input: tui_input::Input,
    pub palette_sel: usize,
    pub help: bool,
    /// Presentation mode (`p`): banner, fewer and wider columns, more spacing.
    pub presentation: bool,
    /// First line of the help overlay shown (it scrolls on short terminals).
    pub help_scroll: usize,
    pub message: Option<Message>,
    pub replay: Option<Replay>,
    pub no_color: bool,
    /// Colour theme name (`views::theme::THEMES`).
    pub theme: String,
    pub interval_ms: u64,
    /// Terminal height, for page-sized moves.
    pub height: u16,
    /// Terminal width (screen export renders at this size).
    pub width: u16,
    /// Where `Ctrl-s` writes.
    pub dump_dir: std::path::PathBuf,
    pub quit: bool,
    /// Retransmits pane grouping (key `o`).
    pub retrans_group: RetransGroup,
    /// Baseline snapshot (`d`) the tables are compared against.
    pub baseline: Option<Baseline>,
    /// The live recording (`R`) as last reported; `active` while it appends.
    pub recording: Option<crate::bpf::collector::RecordingStatus>,
    /// `R` writes compact lines (config `record_compact`).
    pub record_compact: bool,
    /// Key bindings in effect (built-in table + the config file's `[keys]`).
    pub keymap: std::sync::Arc<super::keys::Keymap>,
    /// `--mouse`: clicks and the wheel work (help says how).
    pub mouse: bool,
    /// Where an export reads the CT maps when the snapshot has no CT table (`UiOptions`).
    pub bpffs_roots: Option<Vec<std::path::PathBuf>>,
    /// Threads that export and compare with the baseline off the UI task (set by the event
    /// loop). Without them (tests, benchmarks) both run on the calling thread.
    pub jobs: Option<Arc<dyn super::work::Worker>>,
    /// Counts the snapshots shown (live or replay), so a comparison says which one it is for.
    pub snapshot_seq: u64,
    /// `snapshot_seq` of the snapshot that brought the conntrack table on screen (the same
    /// table is passed on by the snapshots between re-reads).
    pub conntrack_seq: u64,
    /// Counts baselines set.
    pub baseline_seq: u64,
    /// The pane's order as `update` last computed it, and what it was computed from.
    pub listing: Option<Listing>,
    /// Work the pane reuses between orders of the snapshot on screen.
    pub memo: Memo,
    /// A bundle being replayed (`replay BUNDLE_DIR`): its nodes, the Cluster pane's rows and
    /// which node the other panes show.
    pub cluster: Option<Cluster>,
}

/// The pane's lines in order and the selected one, as the views draw them.
#[derive(Debug, Clone)]
pub struct Shown<'a> {
    pub order: Cow<'a, Order>,
    /// Index of the selected line (the first when the selected key is not shown).
    pub selected: usize,
}

impl App {
    fn base(opts: &UiOptions) -> App {
        App {
            snapshot: Arc::new(Snapshot::empty()),
            prev: None,
            derived: Derived::default(),
            waiting: false,
            pane: opts.start_pane.unwrap_or(PaneId::ALL[0]),
            views: vec![TableView::default(); PaneId::EVERY.len()],
            details: Vec::new(),
            paused: false,
            mode: Mode::Normal,
            input: tui_input::Input::default(),
            palette_sel: 0,
            help: false,
            presentation: false,
            help_scroll: 0,
            message: None,
            replay: None,
            no_color: opts.no_color,
            theme: opts.theme.clone(),
            interval_ms: opts.interval_ms,
            height: 24,
            width: 80,
            dump_dir: opts
                .dump_dir
                .clone()
                .unwrap_or_else(|| super::work::DEFAULT_DUMP_DIR.into()),
            quit: false,
            retrans_group: Default::default(),
            baseline: None,
            recording: None,
            record_compact: opts.record_compact,
            keymap: opts.keymap.clone(),
            mouse: opts.mouse,
            bpffs_roots: opts.bpffs_roots.clone(),
            jobs: None,
            snapshot_seq: 0,
            conntrack_seq: 0,
            baseline_seq: 0,
            listing: None,
            memo: Memo::default(),
            cluster: None,
        }
    }

    /// Live mode before the first snapshot.
    pub fn live(opts: &UiOptions) -> App {
        App {
            waiting: true,
            ..App::base(opts)
        }
    }

    /// One snapshot shown as is (tests, `show`-like uses).
    pub fn with_snapshot(snapshot: Snapshot, opts: &UiOptions) -> App {
        let mut app = App::base(opts);
        app.apply_snapshot(snapshot);
        app.refresh_order();
        app
    }

    /// Replay of a file; starts at its newest snapshot (rates against the one before it, as in
    /// live mode), from where `[` steps back in time. `skipped` are unreadable lines.
    pub fn replay(
        path: String,
        snapshots: Vec<Snapshot>,
        skipped: &[(usize, String)],
        opts: &UiOptions,
    ) -> App {
        let mut app = App::base(opts);
        let last = snapshots.len().saturating_sub(1);
        if let Some((line, why)) = skipped.first() {
            app.message = Some(Message {
                text: crate::text::replay_skipped(skipped.len(), *line, why),
                error: true,
            });
        }
        app.replay = Some(Replay {
            path,
            snapshots: snapshots.into_iter().map(Arc::new).collect(),
            index: last,
        });
        app.show_replay_index(last);
        app.refresh_order();
        app
    }

    /// Replay of a bundle (`replay BUNDLE_DIR`): the Cluster pane first (unless a start pane
    /// was asked for), the other panes showing the first node with a snapshot.
    pub fn bundle(bundle: crate::model::bundle::Bundle, opts: &UiOptions) -> App {
        let mut app = App::base(opts);
        let cluster = Cluster::new(bundle);
        app.pane = opts.start_pane.unwrap_or(PaneId::Cluster);
        app.replay = Some(Replay {
            path: cluster.dir.clone(),
            snapshots: Vec::new(),
            index: 0,
        });
        let first = cluster.selected;
        app.cluster = Some(cluster);
        app.select_node(first);
        app.refresh_order();
        app
    }

    /// Show node `i` of the bundle in every pane. Filters, sorts, marks and the baseline stay
    /// (a baseline taken on one node compares the next one with it); each node's rows have
    /// no rates (one snapshot per node).
    pub fn select_node(&mut self, i: usize) {
        let Some(c) = &mut self.cluster else { return };
        let Some(snap) = c.nodes.get(i).and_then(|n| n.snapshot.clone()) else {
            return;
        };
        c.selected = i;
        if let Some(r) = &mut self.replay {
            r.snapshots = vec![snap];
            r.index = 0;
        }
        self.details.clear();
        self.show_replay_index(0);
    }

    /// The tabs: a bundle's end with the Cluster pane.
    pub fn tabs(&self) -> &'static [PaneId] {
        if self.cluster.is_some() {
            &PaneId::EVERY
        } else {
            &PaneId::ALL
        }
    }

    /// Make `s` the current snapshot; the current one becomes the base for rates.
    pub fn apply_snapshot(&mut self, s: impl Into<Arc<Snapshot>>) {
        let old = std::mem::replace(&mut self.snapshot, s.into());
        let prev = if self.waiting || *old == Snapshot::empty() {
            None
        } else {
            Some(old)
        };
        self.show(prev);
    }

    /// Show replay snapshot `i` with `i - 1` as the base for rates.
    pub fn show_replay_index(&mut self, i: usize) {
        let Some(r) = &mut self.replay else { return };
        let Some(cur) = r.snapshots.get(i).cloned() else {
            return;
        };
        r.index = i;
        let prev = i.checked_sub(1).and_then(|p| r.snapshots.get(p).cloned());
        self.snapshot = cur;
        self.show(prev);
    }

    /// The snapshot in `self.snapshot` is new: rates against `prev`, and the baseline compared.
    fn show(&mut self, prev: Option<Arc<Snapshot>>) {
        self.prev = prev;
        self.waiting = false;
        self.snapshot_seq += 1;
        let same_ct = self
            .prev
            .as_ref()
            .is_some_and(|p| Arc::ptr_eq(&p.conntrack, &self.snapshot.conntrack));
        if !same_ct {
            self.conntrack_seq = self.snapshot_seq;
        }
        self.derived = Derived::compute(self.prev.as_deref(), &self.snapshot, self.retrans_group);
        if self.interval_ms == 0 {
            self.interval_ms = self.snapshot.node.interval_ms;
        }
        self.compare_baseline();
    }

    /// Compare the snapshot on screen with the baseline: on the diff worker when there is
    /// one (the marks of the previous snapshot stay until the result arrives), else here.
    fn compare_baseline(&mut self) {
        let seq = self.snapshot_seq;
        let Some(b) = &mut self.baseline else { return };
        if b.compared == seq {
            return;
        }
        let job = super::work::DiffJob {
            id: super::work::DiffId {
                baseline: b.id,
                snapshot: seq,
            },
            baseline: b.snapshot.clone(),
            current: self.snapshot.clone(),
        };
        let job = match &self.jobs {
            Some(jobs) => match jobs.diff(job) {
                Ok(()) => return,
                Err(job) => job,
            },
            None => job,
        };
        self.apply_diff(job.run());
    }

    /// A comparison finished: apply it if it is for the current baseline and newer than the
    /// one shown (with snapshots arriving faster than they are compared, the newest finished
    /// one is still better than none).
    pub fn apply_diff(&mut self, done: super::work::DiffDone) {
        let Some(b) = &mut self.baseline else { return };
        if done.id.baseline != b.id || done.id.snapshot <= b.compared {
            return;
        }
        b.compared = done.id.snapshot;
        let old = super::work::DiffDone {
            id: done.id,
            diff: std::mem::replace(&mut b.diff, done.diff),
            marks: std::mem::replace(&mut b.marks, done.marks),
        };
        if let Some(jobs) = &self.jobs {
            jobs.dispose(old);
        }
    }

    /// The baseline's marks are for an earlier snapshot than the one on screen (the diff
    /// worker is comparing).
    pub fn comparing(&self) -> bool {
        self.baseline
            .as_ref()
            .is_some_and(|b| b.compared != self.snapshot_seq)
    }

    /// `d`: mark the snapshot on screen as the baseline, or clear the baseline. Nothing is
    /// compared: a snapshot has no changes against itself.
    pub fn toggle_baseline(&mut self) {
        self.baseline = match self.baseline.take() {
            Some(_) => None,
            None => {
                self.baseline_seq += 1;
                Some(Baseline {
                    diff: crate::model::diff::unchanged(&self.snapshot),
                    snapshot: self.snapshot.clone(),
                    marks: HashMap::new(),
                    changes_only: false,
                    id: self.baseline_seq,
                    compared: self.snapshot_seq,
                })
            }
        };
    }

    /// What the pane's rows, cells and order are computed from.
    pub fn ctx(&self) -> Ctx<'_> {
        Ctx {
            snap: &self.snapshot,
            prev: self.prev.as_deref(),
            derived: &self.derived,
            baseline: self.baseline.as_ref(),
            presentation: self.presentation,
            waiting: self.waiting,
            seq: self.order_seq(),
            cluster: self.cluster.as_ref(),
        }
    }

    /// Which data the pane's order is for: the snapshot's, except for conntrack, whose table
    /// is passed on unchanged between re-reads (its order is not recomputed for those).
    fn order_seq(&self) -> u64 {
        if self.pane == PaneId::Conntrack {
            self.conntrack_seq
        } else {
            self.snapshot_seq
        }
    }

    /// What the pane's order depends on now.
    fn order_inputs(&self) -> Inputs {
        let mut extra = vec![self.retrans_group as u64];
        // The baseline's marks change which rows show with "changes only", and what a filter
        // matches in a tree (its lines carry the markers); otherwise only how rows look.
        if let Some(b) = &self.baseline {
            if b.changes_only || !self.view().filter.is_empty() {
                extra.extend([b.id, b.compared, u64::from(b.changes_only)]);
            }
        }
        // The Cluster pane's rows change with the node shown and the query asked.
        if let Some(c) = self
            .cluster
            .as_ref()
            .filter(|_| self.pane == PaneId::Cluster)
        {
            extra.extend([c.selected as u64, c.asked]);
        }
        Inputs {
            seq: self.order_seq(),
            pane: self.pane,
            shape: self.view().shape(),
            extra,
        }
    }

    /// Compute the pane's order if the snapshot or the view's shape changed since it was
    /// computed; follow the selected key (near where it was) if it moved.
    pub fn refresh_order(&mut self) {
        let inputs = self.order_inputs();
        let selected = self.view().selected.clone();
        if let Some(l) = self.listing.as_mut().filter(|l| l.inputs == inputs) {
            l.reselect(selected.as_ref());
            return;
        }
        let hint = self.listing.as_ref().map_or(0, |l| l.selected);
        let mut memo = std::mem::take(&mut self.memo);
        let order = crate::pane::get(self.pane).order(&self.ctx(), self.view(), &mut memo);
        self.memo = memo;
        self.listing = Some(Listing::new(inputs, order, selected.as_ref(), hint));
    }

    /// The pane's lines and the selected one: the kept order when it is current, else one
    /// computed now (for a state `update` never saw: a test that set the view directly).
    pub fn shown(&self) -> Shown<'_> {
        let selected = self.view().selected.as_ref();
        if let Some(l) = &self.listing {
            if l.inputs == self.order_inputs() {
                let at = if l.selects(selected) {
                    l.selected
                } else {
                    l.order.selected(selected, l.selected).unwrap_or(0)
                };
                return Shown {
                    order: Cow::Borrowed(&*l.order),
                    selected: at,
                };
            }
        }
        let order =
            crate::pane::get(self.pane).order(&self.ctx(), self.view(), &mut Memo::default());
        let selected = order.selected(selected, 0).unwrap_or(0);
        Shown {
            order: Cow::Owned(order),
            selected,
        }
    }

    pub fn view(&self) -> &TableView {
        &self.views[self.pane.index().min(self.views.len().saturating_sub(1))]
    }

    pub fn view_mut(&mut self) -> &mut TableView {
        let i = self.pane.index().min(self.views.len().saturating_sub(1));
        &mut self.views[i]
    }

    pub fn is_live(&self) -> bool {
        self.replay.is_none()
    }

    /// Rows that fit in the body, for PgUp/PgDn.
    pub fn page_rows(&self) -> usize {
        // header 2 + tabs 1 + footer 2 + borders 2 + column header 1
        usize::from(self.height.saturating_sub(8)).max(1)
    }
}
