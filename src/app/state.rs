//! Everything the UI knows: the snapshot on screen, the one before it (for rates), and view state.
//! Views read this through `&App`; only `App::update` changes it.

use super::rates::{self, Rates};
use super::UiOptions;
use crate::model::diff::{self, ChangeKind, SnapshotDiff};
use crate::model::{PaneId, Snapshot};
use std::collections::HashMap;
use std::sync::Arc;

/// A snapshot the user marked (`d`): table rows are marked new/changed against it.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Shared, never copied: the diff worker reads it while the UI goes on.
    pub snapshot: Arc<Snapshot>,
    /// Baseline → the snapshot on screen (or, while `pending`, the one before it).
    pub diff: SnapshotDiff,
    /// `(pane, diff key)` of rows added or changed since the baseline.
    pub marks: HashMap<(PaneId, String), ChangeKind>,
    /// Tables show only rows new or changed since the baseline (`D`).
    pub changes_only: bool,
    /// Which baseline this is (`App` counts them), so a late comparison with an earlier one
    /// is not applied.
    pub id: u64,
    /// `App::snapshot_seq` of the snapshot `diff` compares; behind the one on screen while
    /// the diff worker compares the newest.
    pub compared: u64,
}

impl Baseline {
    /// A baseline compared with `current` now, on the calling thread.
    pub fn new(snapshot: impl Into<Arc<Snapshot>>, current: &Snapshot) -> Baseline {
        let snapshot = snapshot.into();
        let mut b = Baseline {
            diff: diff::unchanged(&snapshot),
            snapshot,
            marks: HashMap::new(),
            changes_only: false,
            id: 0,
            compared: 0,
        };
        b.compare(current);
        b
    }

    /// Recompute the marks against a new current snapshot.
    pub fn compare(&mut self, current: &Snapshot) {
        self.diff = diff::diff(&self.snapshot, current);
        self.marks = self.diff.marks();
    }

    pub fn taken_at(&self) -> &str {
        &self.snapshot.taken_at
    }

    /// How a row of a diffable pane changed since the baseline (`None`: unchanged).
    pub fn mark(&self, pane: PaneId, key: String) -> Option<ChangeKind> {
        self.marks.get(&(pane, key)).copied()
    }
}

/// A stable identity of a row: selection follows the object, never the row index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RowKey {
    Id(u64),
    Path(String),
}

/// Per-pane table state. `None` sort fields mean the pane's default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableView {
    pub sort: Option<usize>,
    pub sort_desc: Option<bool>,
    /// Case-insensitive substring; a leading `!` inverts.
    pub filter: String,
    pub selected: Option<RowKey>,
    /// First row shown: a hint that keeps the viewport still while the cursor moves inside it
    /// (the view clamps it so the selected row is always visible).
    pub offset: usize,
    /// Rows opened to show their children (services → backends); a child's key is
    /// `Path("<parent>/<child>")`.
    pub expanded: Vec<RowKey>,
    /// The group a pane is showing (policy: the endpoint); `None` is the pane's first group.
    pub group: Option<RowKey>,
    /// Rows (tree panes: nodes) the user marked (`m`): highlighted and pinned at the top (a
    /// tree pins the marked node's top-level subtree), across refreshes. Keys, never pruned: a
    /// marked object that leaves the snapshot is marked again when it comes back.
    pub marked: Vec<RowKey>,
}

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

/// A drill-down view on top of the pane; `Esc` pops it.
#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    Program(ProgramDetailView),
    Map(MapDetailView),
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
    pub rates: Rates,
    /// No snapshot has arrived yet (live mode, first collection running).
    pub waiting: bool,
    /// The pane on screen.
    pub pane: PaneId,
    pub views: Vec<TableView>,
    pub details: Vec<Detail>,
    pub paused: bool,
    pub mode: Mode,
    /// Text being typed in filter or palette mode.
    pub input: String,
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
    pub retrans_group: super::probe_rates::RetransGroup,
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
    /// Threads that export and compare with the baseline off the UI task (set by the event
    /// loop). Without them (tests, benchmarks) both run on the calling thread.
    pub jobs: Option<super::jobs::Jobs>,
    /// Counts the snapshots shown (live or replay), so a comparison says which one it is for.
    pub snapshot_seq: u64,
    /// Counts baselines set.
    pub baseline_seq: u64,
}

impl App {
    fn base(opts: &UiOptions) -> App {
        App {
            snapshot: Arc::new(Snapshot::empty()),
            prev: None,
            rates: Rates::default(),
            waiting: false,
            pane: opts.start_pane.unwrap_or(PaneId::ALL[0]),
            views: vec![TableView::default(); PaneId::ALL.len()],
            details: Vec::new(),
            paused: false,
            mode: Mode::Normal,
            input: String::new(),
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
                .unwrap_or_else(|| super::export::DEFAULT_DUMP_DIR.into()),
            quit: false,
            retrans_group: Default::default(),
            baseline: None,
            recording: None,
            record_compact: opts.record_compact,
            keymap: opts.keymap.clone(),
            mouse: opts.mouse,
            jobs: None,
            snapshot_seq: 0,
            baseline_seq: 0,
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
                text: crate::views::text::replay_skipped(skipped.len(), *line, why),
                error: true,
            });
        }
        app.replay = Some(Replay {
            path,
            snapshots: snapshots.into_iter().map(Arc::new).collect(),
            index: last,
        });
        app.show_replay_index(last);
        app
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
        self.rates = rates::compute(self.prev.as_deref(), &self.snapshot);
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
        let job = super::jobs::DiffJob {
            id: super::jobs::DiffId {
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
    pub fn apply_diff(&mut self, done: super::jobs::DiffDone) {
        let Some(b) = &mut self.baseline else { return };
        if done.id.baseline != b.id || done.id.snapshot <= b.compared {
            return;
        }
        b.compared = done.id.snapshot;
        let old = super::jobs::DiffDone {
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
