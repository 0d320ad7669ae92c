//! `App::update`: the only place app state changes. Returns the requests for the collector.

use super::actions::Action;
use super::keys;
use super::palette::{self, Command};
use super::state::{
    App, ConntrackDetailView, Detail, MapDetailView, Message, Mode, ProgramDetailView, MAP_PAGE,
};
use crate::bpf::collector::Request;
use crate::model::PaneId;
use crate::pane::view::{clamp_add, scroll_to, RowKey, Target};
use crate::text;
use crossterm::event::KeyEvent;
use tui_input::InputRequest;

impl App {
    /// Map a key through the key table and apply it.
    pub fn handle_key(&mut self, ev: KeyEvent) -> Vec<Request> {
        // Notes last until the next key; errors stay until Esc or a newer message.
        if self.message.as_ref().is_some_and(|m| !m.error) {
            self.message = None;
        }
        match keys::action_for(self, &ev) {
            Some(a) => self.update(a),
            None => Vec::new(),
        }
    }

    /// Apply one action. The pane's order is brought up to date before (a test may have set
    /// the view) and after (the action may have changed the snapshot or the view's shape).
    pub fn update(&mut self, action: Action) -> Vec<Request> {
        self.refresh_order();
        let req = self.apply(action);
        self.refresh_order();
        req
    }

    fn apply(&mut self, action: Action) -> Vec<Request> {
        let mut req = Vec::new();
        match action {
            Action::Quit => self.quit = true,
            Action::ToggleHelp => {
                self.help = !self.help;
                self.help_scroll = 0;
            }
            Action::NextPane => self.goto_pane(step_pane(self.tabs(), self.pane, 1), &mut req),
            Action::PrevPane => self.goto_pane(step_pane(self.tabs(), self.pane, -1), &mut req),
            Action::GotoPane(p) => self.goto_pane(p, &mut req),
            Action::OpenPalette => {
                self.mode = Mode::Palette;
                self.input.reset();
                self.palette_sel = 0;
            }
            Action::OpenFilter => {
                self.mode = Mode::Filter;
                // The cursor at the end, as the filter was left.
                self.input = tui_input::Input::new(typable(&self.view().filter));
            }
            Action::Refresh => {
                if self.is_live() {
                    req.push(Request::Refresh);
                }
            }
            Action::TogglePause => {
                self.paused = !self.paused;
                req.push(Request::Pause(self.paused));
            }
            Action::Up => self.move_by(-1, &mut req),
            Action::Down => self.move_by(1, &mut req),
            Action::PageUp => self.page(-1, &mut req),
            Action::PageDown => self.page(1, &mut req),
            Action::Top => self.move_by(isize::MIN / 2, &mut req),
            Action::Bottom => self.move_by(isize::MAX / 2, &mut req),
            Action::Scroll(n) => self.move_by(n, &mut req),
            Action::Select { key, offset } => {
                let view = self.view_mut();
                view.selected = Some(key);
                if let Some(o) = offset {
                    view.offset = o;
                }
            }
            Action::Enter => self.enter(&mut req),
            Action::Back => self.back(&mut req),
            Action::Expand => self.expand(Some(true)),
            Action::Collapse => self.collapse(),
            Action::NextGroup => self.step_group(1),
            Action::PrevGroup => self.step_group(-1),
            Action::SortNext => {
                if let Some(s) = crate::pane::get(self.pane).sorting() {
                    let cur = self.view().sort.unwrap_or(s.default);
                    self.view_mut().sort = Some((cur + 1) % s.columns.max(1));
                }
            }
            Action::SortFlip => {
                if let Some(s) = crate::pane::get(self.pane).sorting() {
                    let desc = self.view().sort_desc.unwrap_or(s.desc);
                    self.view_mut().sort_desc = Some(!desc);
                }
            }
            Action::ScrollUp | Action::ScrollDown => {
                let step: isize = if action == Action::ScrollUp { -1 } else { 1 };
                if let Some(Detail::Program(p)) = self.details.last_mut() {
                    p.scroll = p.scroll.saturating_add_signed(step);
                }
                self.clamp_scroll();
            }
            Action::CycleGroup => {
                if self.pane == PaneId::Retransmits && self.details.is_empty() {
                    self.retrans_group = self.retrans_group.next();
                    let (prev, snap) = (self.prev.clone(), self.snapshot.clone());
                    self.derived
                        .regroup(prev.as_deref(), &snap, self.retrans_group);
                    self.view_mut().selected = None;
                }
            }
            Action::TogglePerCpu => {
                if let Some(Detail::Map(m)) = self.details.last_mut() {
                    m.per_cpu = !m.per_cpu;
                }
            }
            Action::TogglePresentation => self.presentation = !self.presentation,
            Action::ToggleMark => {
                if self.details.is_empty() && !self.help {
                    if let Some(key) = self.selected_key() {
                        let view = self.view_mut();
                        match view.marked.iter().position(|k| *k == key) {
                            Some(i) => {
                                view.marked.remove(i);
                            }
                            None => view.marked.push(key.clone()),
                        }
                        view.selected = Some(key);
                    }
                }
            }
            Action::ToggleBaseline => {
                self.toggle_baseline();
                let text = match &self.baseline {
                    Some(b) => text::baseline_set(b.taken_at()),
                    None => text::BASELINE_CLEARED.to_string(),
                };
                self.message = Some(Message { text, error: false });
            }
            Action::ToggleChangesOnly => {
                let text = match &mut self.baseline {
                    Some(b) => {
                        b.changes_only = !b.changes_only;
                        text::changes_only(b.changes_only)
                    }
                    None => text::CHANGES_ONLY_NEEDS_BASELINE.to_string(),
                };
                self.message = Some(Message { text, error: false });
            }
            Action::Export => self.start_export(),
            Action::Exported(result) => {
                self.message = Some(match result {
                    Ok(out) => Message {
                        text: text::exported(&out.dir, &out.files()),
                        error: false,
                    },
                    Err(e) => Message {
                        text: text::export_failed(&e),
                        error: true,
                    },
                });
            }
            Action::BaselineDiff(done) => self.apply_diff(*done),
            Action::ToggleRecording => {
                if !self.is_live() {
                    self.message = Some(Message {
                        text: text::RECORD_NEEDS_LIVE.into(),
                        error: true,
                    });
                } else if self.recording.as_ref().is_some_and(|r| r.active) {
                    req.push(Request::StopRecording);
                } else {
                    let path = self
                        .dump_dir
                        .join(format!("dpscope-{}.jsonl", super::work::timestamp()));
                    self.message = Some(Message {
                        text: text::recording_started(&path),
                        error: false,
                    });
                    self.recording = Some(crate::bpf::collector::RecordingStatus {
                        path: path.clone(),
                        lines: 0,
                        active: true,
                        error: None,
                    });
                    req.push(Request::StartRecording {
                        path,
                        compact: self.record_compact,
                    });
                }
            }
            Action::Recording(status) => {
                if let Some(e) = &status.error {
                    self.message = Some(Message {
                        text: text::recording_failed(e),
                        error: true,
                    });
                } else if !status.active {
                    self.message = Some(Message {
                        text: text::recording_stopped(status.lines, &status.path),
                        error: false,
                    });
                }
                self.recording = Some(status);
            }
            Action::ReplayStep(_) | Action::ReplayEnd(_) => {
                if let Some(r) = &self.replay {
                    let i = r.index;
                    let last = r.snapshots.len().saturating_sub(1);
                    let next = match action {
                        Action::ReplayStep(d) => i.saturating_add_signed(d as isize).min(last),
                        Action::ReplayEnd(end) => {
                            if end {
                                last
                            } else {
                                0
                            }
                        }
                        _ => i,
                    };
                    if next != i {
                        self.show_replay_index(next);
                    } else {
                        self.message = Some(Message {
                            text: text::replay_edge(i + 1, last + 1),
                            error: false,
                        });
                    }
                }
            }
            Action::NodeStep(d) => match &self.cluster {
                None => self.note(text::NODES_NEED_BUNDLE, true),
                Some(c) => {
                    if let Some(i) = c.step(d as isize) {
                        self.select_node(i);
                    }
                }
            },
            Action::AskNodes => self.ask_nodes(&mut req),
            Action::InputChar(c) => {
                if !crate::sanitize::is_unsafe(c) {
                    self.input.handle(InputRequest::InsertChar(c));
                    self.after_input_edit();
                }
            }
            Action::InputPaste(text) => {
                for c in pasted(&text).chars() {
                    self.input.handle(InputRequest::InsertChar(c));
                }
                self.after_input_edit();
            }
            Action::InputEdit(e) => {
                if self.input.handle(e.request()).is_some_and(|c| c.value) {
                    self.after_input_edit();
                }
            }
            Action::InputSubmit => self.submit(&mut req),
            Action::InputCancel => {
                if self.mode == Mode::Filter {
                    self.view_mut().filter.clear();
                }
                self.input.reset();
                self.mode = Mode::Normal;
            }
            Action::InputComplete => {
                if let Some(s) = self.palette_suggestions().get(self.palette_sel) {
                    self.input = tui_input::Input::new(s.clone());
                    self.palette_sel = 0;
                }
            }
            Action::InputNext | Action::InputPrev => {
                let n = self.palette_suggestions().len();
                if n > 0 {
                    self.palette_sel = if action == Action::InputNext {
                        (self.palette_sel + 1) % n
                    } else {
                        (self.palette_sel + n - 1) % n
                    };
                }
            }
            Action::Snapshot(s) => {
                self.apply_snapshot(s);
                self.clamp_scroll();
            }
            Action::CollectorError(e) => {
                self.message = Some(Message {
                    text: text::collector_error(&e),
                    error: true,
                })
            }
            Action::Resize(w, h) => {
                self.width = w;
                self.height = h;
            }
        }
        req
    }

    /// `Ctrl-s`: capture the export now (the screen as it is), write it on its own thread;
    /// the status line says "exporting…" until `Action::Exported` brings the paths.
    fn start_export(&mut self) {
        let stamp = super::work::timestamp();
        let started = match &self.jobs {
            Some(jobs) => jobs.export(self, &self.dump_dir, &stamp),
            // Drawing the screen is the shell's (`tui`); an app without one cannot export.
            None => Err(text::EXPORT_NEEDS_SHELL.into()),
        };
        match started {
            Ok(None) => {
                self.message = Some(Message {
                    text: text::EXPORTING.into(),
                    error: false,
                })
            }
            Ok(Some(result)) => {
                self.apply(Action::Exported(result.map(Box::new)));
            }
            Err(e) => {
                self.apply(Action::Exported(Err(e)));
            }
        }
    }

    fn note(&mut self, text: impl Into<String>, error: bool) {
        self.message = Some(Message {
            text: text.into(),
            error,
        });
    }

    /// What the palette offers for what is typed (node names after `node `).
    pub fn palette_suggestions(&self) -> Vec<String> {
        let names: Vec<&str> = self
            .cluster
            .as_ref()
            .map(|c| c.nodes.iter().map(|n| n.name.as_str()).collect())
            .unwrap_or_default();
        palette::suggestions(self.input.value(), &names)
    }

    /// `:node NAME`, or Enter on a node in the Cluster pane (`back`: then return to the pane
    /// the user came from).
    fn goto_node(&mut self, name: &str, back: bool, req: &mut Vec<Request>) {
        let Some(c) = &self.cluster else {
            return self.note(text::NODES_NEED_BUNDLE, true);
        };
        let i = match c.find(name) {
            Ok(i) => i,
            Err(e) => return self.note(e, true),
        };
        if c.nodes[i].snapshot.is_none() {
            let r = c.rows.iter().find(|r| r.idx == i);
            let (status, reason) = r.map_or(("", ""), |r| (&r.row.status, &r.row.reason));
            let msg = text::node_without_snapshot(&c.nodes[i].name, status, reason);
            return self.note(msg, true);
        }
        let to = match &c.query {
            Some(q) => q.pane,
            None => c.back_to,
        };
        self.select_node(i);
        if back && self.pane == PaneId::Cluster {
            self.goto_pane(to, req);
        }
    }

    /// `c`: which nodes have rows matching this pane's filter? The Cluster pane lists them
    /// with their count; without a filter, it lists every node.
    fn ask_nodes(&mut self, req: &mut Vec<Request>) {
        if self.cluster.is_none() {
            return self.note(text::NODES_NEED_BUNDLE, true);
        }
        if self.pane == PaneId::Cluster {
            return;
        }
        let filter = self.view().filter.clone();
        let q = (!filter.is_empty()).then(|| crate::pane::cluster::Query {
            pane: self.pane,
            filter: filter.clone(),
        });
        let (pane, group) = (self.pane, self.retrans_group);
        let Some(c) = &mut self.cluster else { return };
        c.back_to = pane;
        c.ask(q, group);
        let msg = match &c.query {
            Some(_) => text::nodes_matching(c.matching(), c.with_snapshot(), pane.name(), &filter),
            None => text::QUERY_NEEDS_FILTER.to_string(),
        };
        // The node shown is selected in the list (when it matches).
        let shown = crate::pane::RowKey::Id(c.selected as u64);
        self.goto_pane(PaneId::Cluster, req);
        self.view_mut().selected = Some(shown);
        self.note(msg, false);
    }

    fn goto_pane(&mut self, p: PaneId, req: &mut Vec<Request>) {
        if !self.details.is_empty() {
            self.details.clear();
            req.push(Request::ClearDetails);
        }
        self.help = false;
        // The collector reads what the open pane needs (the CT maps only for conntrack).
        if self.is_live() && p != self.pane {
            req.push(Request::Pane(p));
        }
        self.pane = p;
    }

    fn after_input_edit(&mut self) {
        match self.mode {
            // The filter applies as it is typed: the next frame shows it.
            Mode::Filter => {
                let f = self.input.value().to_string();
                self.view_mut().filter = f;
            }
            Mode::Palette => self.palette_sel = 0,
            Mode::Normal => {}
        }
    }

    fn submit(&mut self, req: &mut Vec<Request>) {
        match self.mode {
            Mode::Filter => self.mode = Mode::Normal,
            Mode::Palette => {
                let typed = self.input.value().to_string();
                let chosen = palette::resolve(&typed).or_else(|| {
                    self.palette_suggestions()
                        .get(self.palette_sel)
                        .and_then(|s| palette::resolve(s))
                });
                self.mode = Mode::Normal;
                self.input.reset();
                match chosen {
                    Some(Command::Pane(p)) => self.goto_pane(p, req),
                    Some(Command::Quit) => self.quit = true,
                    Some(Command::Help) => self.help = true,
                    Some(Command::Node(name)) => self.goto_node(&name, false, req),
                    None => {
                        self.message = Some(Message {
                            text: text::unknown_command(&typed),
                            error: true,
                        })
                    }
                }
            }
            Mode::Normal => {}
        }
    }

    /// Ordered visible row keys of the current pane.
    pub fn pane_keys(&self) -> Vec<RowKey> {
        self.shown().order.keys()
    }

    fn move_by(&mut self, delta: isize, req: &mut Vec<Request>) {
        if self.help {
            // The view clamps it to the help's length.
            let max = if self.width > 0 && self.height > 0 {
                super::help::max_scroll(&self.keymap, self.mouse, self.width, self.height)
            } else {
                super::help::lines(&self.keymap, self.mouse).len()
            };
            self.help_scroll = self.help_scroll.saturating_add_signed(delta).min(max);
            return;
        }
        match self.details.last().cloned() {
            Some(Detail::Program(p)) => {
                let n = self.snapshot.program(p.id).map_or(0, |x| x.map_ids.len());
                if let Some(Detail::Program(p)) = self.details.last_mut() {
                    p.map_cursor = clamp_add(p.map_cursor, delta, n);
                    if delta.abs() > 1_000 {
                        p.scroll = if delta < 0 { 0 } else { usize::MAX };
                    }
                }
                self.clamp_scroll();
            }
            Some(Detail::Conntrack(_)) => {}
            Some(Detail::Map(m)) => {
                let len = self.map_page(m.id).map_or(0, |d| d.entries.len());
                if let Some(Detail::Map(m)) = self.details.last_mut() {
                    m.cursor = clamp_add(m.cursor, delta, len);
                }
                let _ = req;
            }
            None => {
                // The kept order: moving the cursor costs nothing per row.
                let Some(l) = self.listing.as_mut() else {
                    return;
                };
                let len = l.order.len();
                if len == 0 {
                    return;
                }
                let i = clamp_add(l.selected, delta, len);
                l.select(i);
                let key = l.order.key(i);
                let rows = self.page_rows();
                let view = self.view_mut();
                view.selected = key;
                view.offset = scroll_to(view.offset, i, rows, len);
            }
        }
    }

    fn page(&mut self, dir: isize, req: &mut Vec<Request>) {
        let rows = self.page_rows() as isize;
        match self.details.last().cloned() {
            Some(Detail::Program(_)) => {
                if let Some(Detail::Program(p)) = self.details.last_mut() {
                    p.scroll = p.scroll.saturating_add_signed(dir * rows);
                }
                self.clamp_scroll();
            }
            Some(Detail::Conntrack(_)) => {}
            Some(Detail::Map(m)) => {
                let page = self
                    .map_page(m.id)
                    .map(|d| (d.entries.len(), d.more, d.offset));
                let (len, more, offset) = page.unwrap_or((0, false, m.offset));
                let at_end = len == 0 || m.cursor + 1 >= len;
                if dir > 0 && at_end {
                    if more {
                        let next = offset + len as u64;
                        self.set_map_page(m.id, next, req);
                    } else if !self.is_live() || len > 0 {
                        self.message = Some(Message {
                            text: text::NO_MORE_ENTRIES.into(),
                            error: false,
                        });
                    }
                } else if dir < 0 && m.cursor == 0 && offset > 0 {
                    let prev = offset.saturating_sub(MAP_PAGE as u64);
                    self.set_map_page(m.id, prev, req);
                } else if let Some(Detail::Map(m)) = self.details.last_mut() {
                    m.cursor = clamp_add(m.cursor, dir * rows, len);
                }
            }
            None => self.move_by(dir * rows, req),
        }
    }

    fn set_map_page(&mut self, id: u32, offset: u64, req: &mut Vec<Request>) {
        if !self.is_live() {
            // A replay has only the page that was captured: keep showing it.
            self.message = Some(Message {
                text: text::NOT_IN_REPLAY.into(),
                error: false,
            });
            return;
        }
        if let Some(Detail::Map(m)) = self.details.last_mut() {
            m.offset = offset;
            m.cursor = 0;
        }
        req.push(Request::MapPage {
            map_id: id,
            offset,
            limit: MAP_PAGE,
        });
    }

    /// The captured page of a map's entries, if the snapshot has one.
    pub fn map_page(&self, id: u32) -> Option<&crate::model::MapDump> {
        self.snapshot.details.maps.iter().find(|d| d.map_id == id)
    }

    fn clamp_scroll(&mut self) {
        let page = self.page_rows();
        let snap = &self.snapshot;
        for d in &mut self.details {
            if let Detail::Program(p) = d {
                let n = snap
                    .details
                    .programs
                    .iter()
                    .find(|x| x.id == p.id)
                    .map_or(0, |x| x.insns.len());
                p.scroll = p.scroll.min(n.saturating_sub(page.min(n)));
            }
        }
    }

    fn enter(&mut self, req: &mut Vec<Request>) {
        if self.help {
            return;
        }
        match self.details.last().cloned() {
            Some(Detail::Program(p)) => {
                let map = self
                    .snapshot
                    .program(p.id)
                    .and_then(|x| x.map_ids.get(p.map_cursor).copied());
                if let Some(id) = map {
                    self.open_map(id, req);
                }
            }
            Some(Detail::Map(_) | Detail::Conntrack(_)) => {}
            None => {
                let Some(key) = self.selected_key() else {
                    return;
                };
                self.view_mut().selected = Some(key.clone());
                let pane = crate::pane::get(self.pane);
                match pane.open(&self.ctx(), self.view(), &key) {
                    Some(Target::Program(id)) => self.open_program(id, req),
                    Some(Target::Map(id)) => self.open_map(id, req),
                    Some(Target::Conntrack(key)) => self.open_conntrack(key),
                    Some(Target::Expand) => self.expand(None),
                    Some(Target::Node(i)) => {
                        let name = self
                            .cluster
                            .as_ref()
                            .and_then(|c| c.nodes.get(i))
                            .map(|n| n.name.clone())
                            .unwrap_or_default();
                        self.goto_node(&name, true, req);
                    }
                    None => {}
                }
            }
        }
    }

    /// The selected row of the pane (the first when nothing is selected yet).
    fn selected_key(&self) -> Option<RowKey> {
        let shown = self.shown();
        shown.order.key(shown.selected)
    }

    /// Open (`Some(true)`) or toggle (`None`) the selected row's children, if it has any.
    fn expand(&mut self, open: Option<bool>) {
        if !self.details.is_empty() || self.help {
            return;
        }
        let Some(key) = self.selected_key() else {
            return;
        };
        let pane = crate::pane::get(self.pane);
        if pane.open(&self.ctx(), self.view(), &key) != Some(Target::Expand) {
            return;
        }
        let view = self.view_mut();
        view.selected = Some(key.clone());
        match view.expanded.iter().position(|k| *k == key) {
            Some(i) if open != Some(true) => {
                view.expanded.remove(i);
            }
            Some(_) => {}
            None => view.expanded.push(key),
        }
    }

    /// Close the selected row, or the open row the selected child belongs to (and select it).
    fn collapse(&mut self) {
        if !self.details.is_empty() || self.help {
            return;
        }
        let Some(key) = self.selected_key() else {
            return;
        };
        let view = self.view_mut();
        let parent = view.expanded.iter().position(|k| match (k, &key) {
            (RowKey::Path(p), RowKey::Path(s)) => {
                s == p
                    || s.strip_prefix(p.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            }
            (a, b) => a == b,
        });
        if let Some(i) = parent {
            let p = view.expanded.remove(i);
            view.selected = Some(p);
        }
    }

    /// Step to the next or previous group of a grouped pane (policy: endpoint).
    fn step_group(&mut self, delta: isize) {
        if !self.details.is_empty() || self.help {
            return;
        }
        let groups = crate::pane::get(self.pane).groups(&self.snapshot);
        if groups.is_empty() {
            return;
        }
        let n = groups.len() as isize;
        let cur = self
            .view()
            .group
            .as_ref()
            .and_then(|g| groups.iter().position(|x| x == g))
            .unwrap_or(0) as isize;
        let next = groups[((cur + delta) % n + n) as usize % groups.len()].clone();
        let view = self.view_mut();
        view.group = Some(next);
        view.selected = None;
        view.offset = 0;
    }

    pub fn open_program(&mut self, id: u32, req: &mut Vec<Request>) {
        self.details.push(Detail::Program(ProgramDetailView {
            id,
            map_cursor: 0,
            scroll: 0,
        }));
        req.push(Request::ProgramDetail(id));
    }

    /// Open the conntrack entry with row key `key` (nothing to ask the collector: the
    /// snapshot holds every field).
    pub fn open_conntrack(&mut self, key: u64) {
        let entry = self
            .snapshot
            .conntrack
            .iter()
            .find(|e| crate::pane::conntrack::row_key(e) == RowKey::Id(key));
        if let Some(e) = entry {
            self.details.push(Detail::Conntrack(ConntrackDetailView {
                key,
                opened: Box::new(e.clone()),
            }));
        }
    }

    pub fn open_map(&mut self, id: u32, req: &mut Vec<Request>) {
        self.details.push(Detail::Map(MapDetailView {
            id,
            offset: 0,
            cursor: 0,
            per_cpu: false,
        }));
        req.push(Request::MapPage {
            map_id: id,
            offset: 0,
            limit: MAP_PAGE,
        });
    }

    fn back(&mut self, req: &mut Vec<Request>) {
        if self.help {
            self.help = false;
        } else if self.details.pop().is_some() {
            match self.details.last() {
                None => req.push(Request::ClearDetails),
                Some(Detail::Program(p)) => req.push(Request::ProgramDetail(p.id)),
                Some(Detail::Conntrack(_)) => {}
                Some(Detail::Map(m)) => req.push(Request::MapPage {
                    map_id: m.id,
                    offset: m.offset,
                    limit: MAP_PAGE,
                }),
            }
        } else if !self.view().filter.is_empty() {
            self.view_mut().filter.clear();
        } else if self.pane == PaneId::Cluster
            && self.cluster.as_ref().is_some_and(|c| c.query.is_some())
        {
            let group = self.retrans_group;
            if let Some(c) = &mut self.cluster {
                c.ask(None, group);
            }
        } else {
            self.message = None;
        }
    }
}

/// The pane `delta` tabs away, wrapping around.
fn step_pane(tabs: &[PaneId], p: PaneId, delta: isize) -> PaneId {
    let n = tabs.len() as isize;
    let at = tabs.iter().position(|t| *t == p).unwrap_or(0) as isize;
    tabs[(at + delta).rem_euclid(n.max(1)) as usize]
}

/// `s` without the characters the typed line never holds (control and bidi characters): a
/// filter set another way (the config file) is edited as it is shown.
fn typable(s: &str) -> String {
    s.chars()
        .filter(|&c| !crate::sanitize::is_unsafe(c))
        .collect()
}

/// Pasted text as the typed line takes it: each run of line breaks and tabs is one space
/// (none at the ends: a copied line's newline does not stay), other control and bidi
/// characters are dropped. Nothing pasted reaches the filter or the terminal raw.
fn pasted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut gap = false;
    for c in s.chars() {
        if matches!(c, '\n' | '\r' | '\t') {
            gap = true;
        } else if !crate::sanitize::is_unsafe(c) {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::actions::Edit;
    use crate::app::UiOptions;
    use crate::model::Snapshot;

    /// An app with the filter line open, `typed` typed into it.
    fn filtering(typed: &str) -> App {
        let mut a = App::with_snapshot(Snapshot::empty(), &UiOptions::default());
        a.update(Action::OpenFilter);
        for c in typed.chars() {
            a.update(Action::InputChar(c));
        }
        a
    }

    /// The line and where its cursor is, as `bef|ore`.
    fn line(a: &App) -> String {
        let v = a.input.value();
        let at = v
            .char_indices()
            .nth(a.input.cursor())
            .map_or(v.len(), |(i, _)| i);
        format!("{}|{}", &v[..at], &v[at..])
    }

    fn edit(a: &mut App, e: Edit, times: usize) {
        for _ in 0..times {
            a.update(Action::InputEdit(e));
        }
    }

    #[test]
    fn the_cursor_moves_and_typing_inserts_at_it() {
        let mut a = filtering("tcp 10.0.0.1");
        assert_eq!(line(&a), "tcp 10.0.0.1|");
        edit(&mut a, Edit::Left, 8);
        assert_eq!(line(&a), "tcp |10.0.0.1");
        a.update(Action::InputChar('x'));
        assert_eq!(line(&a), "tcp x|10.0.0.1");
        // The filter applies as it is edited, wherever the cursor is.
        assert_eq!(a.view().filter, "tcp x10.0.0.1");
        edit(&mut a, Edit::Right, 2);
        assert_eq!(line(&a), "tcp x10|.0.0.1");
        // Past either end it stays.
        edit(&mut a, Edit::Right, 50);
        assert_eq!(line(&a), "tcp x10.0.0.1|");
        edit(&mut a, Edit::Left, 50);
        assert_eq!(line(&a), "|tcp x10.0.0.1");
        edit(&mut a, Edit::WordRight, 1);
        assert_eq!(line(&a), "tcp |x10.0.0.1");
        edit(&mut a, Edit::WordLeft, 1);
        assert_eq!(line(&a), "|tcp x10.0.0.1");
    }

    #[test]
    fn home_and_end() {
        let mut a = filtering("udp 53");
        edit(&mut a, Edit::Home, 1);
        assert_eq!(line(&a), "|udp 53");
        a.update(Action::InputChar('!'));
        assert_eq!(a.view().filter, "!udp 53");
        edit(&mut a, Edit::End, 1);
        assert_eq!(line(&a), "!udp 53|");
    }

    #[test]
    fn backspace_and_delete_mid_string() {
        let mut a = filtering("fixture");
        edit(&mut a, Edit::Left, 3);
        edit(&mut a, Edit::DeletePrev, 1);
        assert_eq!(line(&a), "fix|ure");
        edit(&mut a, Edit::DeleteNext, 1);
        assert_eq!(line(&a), "fix|re");
        assert_eq!(a.view().filter, "fixre");
        // Nothing before the start or after the end to delete.
        edit(&mut a, Edit::Home, 1);
        edit(&mut a, Edit::DeletePrev, 1);
        edit(&mut a, Edit::End, 1);
        edit(&mut a, Edit::DeleteNext, 1);
        assert_eq!(line(&a), "fixre|");
    }

    #[test]
    fn ctrl_w_deletes_the_word_before_the_cursor() {
        let mut a = filtering("proto tcp state est");
        edit(&mut a, Edit::DeleteWord, 1);
        assert_eq!(line(&a), "proto tcp state |");
        edit(&mut a, Edit::WordLeft, 1);
        edit(&mut a, Edit::DeleteWord, 1);
        assert_eq!(line(&a), "proto |state ");
        assert_eq!(a.view().filter, "proto state ");
    }

    #[test]
    fn ctrl_u_and_ctrl_k_delete_to_either_end() {
        let mut a = filtering("10.0.0.1 443");
        edit(&mut a, Edit::Left, 4);
        edit(&mut a, Edit::DeleteToStart, 1);
        assert_eq!(line(&a), "| 443");
        assert_eq!(a.view().filter, " 443");
        edit(&mut a, Edit::Right, 1);
        edit(&mut a, Edit::DeleteToEnd, 1);
        assert_eq!(line(&a), " |");
    }

    #[test]
    fn the_palette_line_edits_the_same_way() {
        let mut a = App::with_snapshot(Snapshot::empty(), &UiOptions::default());
        a.update(Action::OpenPalette);
        for c in "cnntrack".chars() {
            a.update(Action::InputChar(c));
        }
        edit(&mut a, Edit::Home, 1);
        edit(&mut a, Edit::Right, 1);
        a.update(Action::InputChar('o'));
        assert_eq!(line(&a), "co|nntrack");
        a.update(Action::InputSubmit);
        assert_eq!(a.pane, PaneId::Conntrack);
        assert_eq!(a.mode, Mode::Normal);
        assert_eq!(a.input.value(), "");
    }

    #[test]
    fn reopening_the_filter_puts_the_cursor_at_its_end() {
        let mut a = filtering("abc");
        edit(&mut a, Edit::Home, 1);
        a.update(Action::InputSubmit);
        assert_eq!(a.view().filter, "abc");
        a.update(Action::OpenFilter);
        assert_eq!(line(&a), "abc|");
    }

    #[test]
    fn control_characters_never_enter_the_line() {
        let mut a = filtering("ab");
        for c in ['\u{1b}', '\u{7}', '\u{7f}', '\u{9b}', '\n', '\u{202e}'] {
            a.update(Action::InputChar(c));
        }
        assert_eq!(line(&a), "ab|");
        edit(&mut a, Edit::Left, 1);
        a.update(Action::InputPaste(
            "\u{1b}[31mred\u{1b}[0m\tand\r\n\u{202e}blue\n".into(),
        ));
        assert_eq!(line(&a), "a[31mred[0m and blue|b");
        assert_eq!(a.view().filter, "a[31mred[0m and blueb");
        assert!(!a.view().filter.chars().any(crate::sanitize::is_unsafe));
        // A filter set with control characters (a config file) is edited without them.
        let mut b = App::with_snapshot(Snapshot::empty(), &UiOptions::default());
        b.view_mut().filter = "x\u{1b}y".into();
        b.update(Action::OpenFilter);
        assert_eq!(line(&b), "xy|");
        assert_eq!(pasted("\n\n  a \t\t b\n"), "  a   b");
    }
}
