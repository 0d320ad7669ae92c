//! Services pane: one row per Cilium LB frontend (VIP:port/proto, type and flags, rev-NAT id,
//! backends); Enter or `l`/→ opens a frontend into its backends per slot with their state.

use super::cilium;
use super::format;
use super::plain::PlainTable;
use super::registry::PaneDef;
use super::table::{col, no_emphasis, Align, Column, Ctx, Emphasis, SortKey, TableDef};
use super::text;
use super::theme::Theme;
use crate::app::state::{App, RowKey, TableView};
use crate::app::update::Target;
use crate::model::{PaneId, Service, ServiceBackend, Snapshot};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, HighlightSpacing, Row, Table, TableState};
use ratatui::Frame;

/// `10.96.0.1:443/TCP`, `[fd00::10]:53/UDP`, `/i` for the internal scope of two-scope services.
pub fn frontend_text(s: &Service) -> String {
    if !s.frontend.is_empty() {
        return s.frontend.clone();
    }
    let mut f = cilium::host_port(&s.address, s.port);
    if !s.protocol.is_empty() {
        f.push('/');
        f.push_str(&s.protocol);
    }
    if s.scope == "internal" {
        f.push_str("/i");
    }
    f
}

/// `ClusterIP, non-routable` as `cilium-dbg bpf lb list` writes it (type first).
pub fn type_flags(s: &Service) -> String {
    let ty = if s.svc_type.is_empty() {
        "ClusterIP"
    } else {
        s.svc_type.as_str()
    };
    std::iter::once(ty)
        .chain(s.flags.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `10.0.1.12:6443/TCP`, or `backend 17 not found` like the CLI.
pub fn backend_text(b: &ServiceBackend) -> String {
    match &b.address {
        Some(a) => {
            let mut t = cilium::host_port(a, b.port.unwrap_or(0));
            if let Some(p) = &b.protocol {
                t.push('/');
                t.push_str(p);
            }
            t
        }
        None => format!("backend {} not found", b.backend_id),
    }
}

/// The state word; a backend absent from the backend map is `missing`.
pub fn backend_state(b: &ServiceBackend) -> &str {
    if b.address.is_none() && b.state.is_empty() {
        "missing"
    } else if b.state.is_empty() {
        "active"
    } else {
        &b.state
    }
}

fn active(s: &Service) -> usize {
    s.backends
        .iter()
        .filter(|b| backend_state(b) == "active")
        .count()
}

/// `3 active, 1 terminating, 1 missing`; `no backends`.
pub fn backend_summary(s: &Service) -> String {
    if s.backends.is_empty() {
        return "no backends".into();
    }
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for b in &s.backends {
        let st = backend_state(b);
        match counts.iter_mut().find(|(k, _)| *k == st) {
            Some(c) => c.1 += 1,
            None => counts.push((st, 1)),
        }
    }
    counts.sort_by_key(|(k, _)| (*k != "active", *k));
    counts
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn troubled(s: &Service) -> bool {
    !s.backends.is_empty() && active(s) < s.backends.len() || s.backends.is_empty()
}

fn addresses(s: &Service) -> String {
    s.backends
        .iter()
        .map(backend_text)
        .collect::<Vec<_>>()
        .join(" ")
}

pub const COLUMNS: &[Column<Service>] = &[
    col(
        "FRONTEND",
        23,
        0,
        Align::Left,
        |s, _| SortKey::Text(cilium::addr_sort_key(&s.address) + &format!("{:05}", s.port)),
        |s, _| frontend_text(s),
    ),
    Column {
        header: "TYPE / FLAGS",
        width: 26,
        flex: true,
        priority: 0,
        align: Align::Left,
        sort: |s, _| SortKey::Text(type_flags(s)),
        cell: |s, _| type_flags(s),
        emphasis: no_emphasis,
    },
    col(
        "REVNAT",
        6,
        2,
        Align::Right,
        |s, _| SortKey::Num(Some(s.rev_nat_id.into())),
        |s, _| s.rev_nat_id.to_string(),
    ),
    Column {
        header: "BACKENDS",
        width: 24,
        flex: false,
        priority: 1,
        align: Align::Left,
        sort: |s, _| SortKey::Num(Some(active(s) as f64)),
        cell: |s, _| backend_summary(s),
        emphasis: |s, _| {
            if troubled(s) {
                Emphasis::Warn
            } else {
                Emphasis::Normal
            }
        },
    },
    Column {
        header: "ADDRESSES",
        width: 40,
        flex: true,
        priority: 5,
        align: Align::Left,
        sort: |s, _| SortKey::Text(addresses(s)),
        cell: |s, _| addresses(s),
        emphasis: no_emphasis,
    },
];

pub fn key(s: &Service) -> RowKey {
    RowKey::Path(format!("svc {}", frontend_text(s).replace('/', " ")))
}

pub const TABLE: TableDef<Service> = TableDef {
    columns: COLUMNS,
    key,
    default_sort: 0,
    default_desc: false,
};

fn backend_key(s: &Service, b: &ServiceBackend) -> RowKey {
    match key(s) {
        RowKey::Path(p) => RowKey::Path(format!("{p}/{}", b.slot)),
        k => k,
    }
}

/// A display line: a frontend, or one backend of an expanded frontend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line2 {
    Front(usize),
    Back(usize, usize),
}

fn lines(snap: &Snapshot, ctx: &Ctx, view: &TableView) -> Vec<(Line2, RowKey)> {
    let mut out = Vec::new();
    for i in TABLE.order(&snap.services, ctx, view) {
        let s = &snap.services[i];
        let k = key(s);
        let open = view.expanded.contains(&k);
        out.push((Line2::Front(i), k));
        if open {
            let mut bs: Vec<usize> = (0..s.backends.len()).collect();
            bs.sort_by_key(|&j| s.backends[j].slot);
            for j in bs {
                out.push((Line2::Back(i, j), backend_key(s, &s.backends[j])));
            }
        }
    }
    out
}

fn keys(app: &App) -> Vec<RowKey> {
    lines(&app.snapshot, &Ctx::of(app), app.view())
        .into_iter()
        .map(|(_, k)| k)
        .collect()
}

fn open(app: &App, key: &RowKey) -> Option<Target> {
    app.snapshot
        .services
        .iter()
        .any(|s| self::key(s) == *key && !s.backends.is_empty())
        .then_some(Target::Expand)
}

/// A backend under its frontend: slot, address, then the state word in the backends column
/// (words, not only colour).
fn backend_row(
    b: &ServiceBackend,
    cols: &[usize],
    last: bool,
    marked: bool,
    theme: &Theme,
) -> Row<'static> {
    let state = backend_state(b);
    let style = if state == "active" {
        theme.base()
    } else {
        theme.warn()
    };
    let branch = if last { "└" } else { "├" };
    let lead = marked.then(|| Cell::from(" "));
    Row::new(
        lead.into_iter()
            .chain(cols.iter().map(|&c| match COLUMNS[c].header {
                "FRONTEND" => Cell::from(format!(" {branch} slot {}", b.slot)),
                "TYPE / FLAGS" => Cell::from(backend_text(b)),
                "BACKENDS" => Cell::from(Line::from(vec![
                    Span::styled(format!("[{state}]"), style),
                    Span::raw(format!(" id {}", b.backend_id)),
                ])),
                _ => Cell::from(""),
            })),
    )
}

fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let snap = &app.snapshot;
    let view = app.view();
    let c = Ctx::of(app);
    let shown = TABLE.order(&snap.services, &c, view).len();
    let mut title = super::table_title("Services", shown, snap.services.len(), &view.filter);
    if c.baseline.is_some_and(|b| b.changes_only) {
        title = format!(
            " Services ({shown} of {}) changed since baseline ",
            snap.services.len()
        );
    }
    title.push_str(text::SERVICES_KEYS);
    title.push_str(&cilium::layout_suffix(snap));
    let title = Line::from(title);
    if snap.services.is_empty() {
        cilium::draw_empty(frame, area, title, snap, "services", app.waiting, theme);
        return;
    }
    let rows = lines(snap, &c, view);
    if rows.is_empty() {
        super::empty_state(frame, area, title, text::NO_MATCH, theme, false);
        return;
    }
    let sel = view
        .selected
        .as_ref()
        .and_then(|k| rows.iter().position(|(_, r)| r == k))
        .unwrap_or(0);
    let height = usize::from(area.height.saturating_sub(3)).max(1);
    let offset = crate::app::update::scroll_to(view.offset, sel, height, rows.len());
    // With a baseline, a marker column first: `+` new, `~` backends changed since it.
    let marked = c.baseline.is_some();
    let cols = TABLE.visible_columns(area.width.saturating_sub(if marked { 6 } else { 4 }));
    let body: Vec<Row> = rows[offset..(offset + height).min(rows.len())]
        .iter()
        .map(|(l, _)| match *l {
            Line2::Front(i) => {
                let s = &snap.services[i];
                let mut cells = TABLE.row_cells(s, &c, &cols, theme);
                if marked {
                    let m = super::table::baseline_marker(s, &c).unwrap_or(' ');
                    cells.insert(0, Cell::from(m.to_string()));
                }
                Row::new(cells)
            }
            Line2::Back(i, j) => {
                let s = &snap.services[i];
                let last = s.backends.iter().all(|b| b.slot <= s.backends[j].slot);
                backend_row(&s.backends[j], &cols, last, marked, theme)
            }
        })
        .collect();
    let mut head = TABLE.header_cells(&cols, view);
    let mut widths = TABLE.widths(&cols);
    if marked {
        head.insert(0, Cell::from(" "));
        widths.insert(0, ratatui::layout::Constraint::Length(1));
    }
    let table = Table::new(body, widths)
        .header(Row::new(head).style(theme.table_header()))
        .column_spacing(1)
        .row_highlight_style(theme.selected())
        .highlight_symbol("▶")
        .highlight_spacing(HighlightSpacing::Always)
        .block(super::block(title, theme));
    let mut state = TableState::default().with_selected(Some(sel - offset));
    frame.render_stateful_widget(table, area, &mut state);
    let shown = rows[offset..(offset + height).min(rows.len())].iter();
    super::hits::offset(offset);
    super::hits::table_rows(area, 1, 1, shown.map(|(_, k)| k.clone()));
}

/// One row per backend slot (the frontend repeated), like `cilium-dbg bpf lb list`:
/// `10.96.0.1:443/TCP  ClusterIP, non-routable  1  1  10.0.1.12:6443/TCP  active`.
fn plain(
    snap: &Snapshot,
    prev: Option<&Snapshot>,
    _view: &crate::app::state::TableView,
) -> PlainTable {
    let rates = crate::app::rates::compute(prev, snap);
    let c = Ctx {
        snap,
        rates: &rates,
        baseline: None,
        presentation: false,
    };
    let mut t = PlainTable {
        headers: [
            "FRONTEND",
            "TYPE / FLAGS",
            "REVNAT",
            "SLOT",
            "BACKEND",
            "STATE",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
        right: vec![false, false, true, true, false, false],
    };
    for i in TABLE.order(&snap.services, &c, &TableView::default()) {
        let s = &snap.services[i];
        let mut bs: Vec<&ServiceBackend> = s.backends.iter().collect();
        bs.sort_by_key(|b| b.slot);
        let base = [frontend_text(s), type_flags(s), s.rev_nat_id.to_string()];
        if bs.is_empty() {
            let mut r = base.to_vec();
            r.extend(["0".into(), format::NONE.into(), "no backends".into()]);
            t.rows.push(r);
        }
        for b in bs {
            let mut r = base.to_vec();
            r.extend([
                b.slot.to_string(),
                backend_text(b),
                backend_state(b).to_string(),
            ]);
            t.rows.push(r);
        }
    }
    t
}

pub const PANE: PaneDef = PaneDef {
    id: PaneId::Services,
    title: "Services",
    count: |s| s.services.len(),
    columns: COLUMNS.len(),
    default_sort: 0,
    default_desc: false,
    keys,
    open,
    draw,
    groups: super::registry::no_groups,
    plain,
    json: |s, w| super::registry::json(w, &s.services),
    probes: &[],
};

#[cfg(test)]
mod tests {
    use super::*;

    fn svc() -> Service {
        Service {
            address: "10.96.0.10".into(),
            port: 53,
            protocol: "UDP".into(),
            scope: "external".into(),
            svc_type: "ClusterIP".into(),
            flags: vec!["non-routable".into()],
            ..Default::default()
        }
    }

    #[test]
    fn frontend_text_forms() {
        let mut s = svc();
        assert_eq!(frontend_text(&s), "10.96.0.10:53/UDP");
        s.scope = "internal".into();
        assert_eq!(frontend_text(&s), "10.96.0.10:53/UDP/i");
        s.address = "fd00::10".into();
        s.scope = "external".into();
        assert_eq!(frontend_text(&s), "[fd00::10]:53/UDP");
        s.frontend = "given:1/TCP".into();
        assert_eq!(frontend_text(&s), "given:1/TCP");
        assert_eq!(type_flags(&svc()), "ClusterIP, non-routable");
    }

    #[test]
    fn backend_states_and_summary() {
        let mut s = svc();
        let b = |slot: u16, state: &str, addr: Option<&str>| ServiceBackend {
            slot,
            backend_id: u32::from(slot) + 10,
            address: addr.map(String::from),
            port: addr.map(|_| 53),
            protocol: addr.map(|_| "UDP".into()),
            state: state.into(),
            ..Default::default()
        };
        s.backends = vec![
            b(1, "active", Some("10.0.1.5")),
            b(2, "terminating", Some("10.0.2.5")),
            b(3, "missing", None),
            b(4, "", Some("10.0.3.5")),
        ];
        assert_eq!(backend_summary(&s), "2 active, 1 missing, 1 terminating");
        assert_eq!(backend_text(&s.backends[2]), "backend 13 not found");
        assert_eq!(backend_text(&s.backends[0]), "10.0.1.5:53/UDP");
        assert!(troubled(&s));
        s.backends.clear();
        assert_eq!(backend_summary(&s), "no backends");
    }
}
