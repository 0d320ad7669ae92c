//! LSM denials pane: what the kernel refused, who asked, and which security module said no.
//! Default sort: last seen, newest first. The filter matches hook, process, cgroup, target...

use super::registry::PaneDef;
use super::table::{Align, Column, Ctx, Emphasis, SortKey, TableDef, TablePane};
use super::text;
use super::theme::Theme;
use crate::app::state::{App, RowKey};
use crate::model::{Denial, PaneId, Snapshot};
use ratatui::layout::Rect;
use ratatui::Frame;

fn errno(d: &Denial) -> String {
    match d.errno {
        1 => "EPERM".into(),
        13 => "EACCES".into(),
        n => n.to_string(),
    }
}

fn process(d: &Denial) -> String {
    format!("{} [{}]", d.comm, d.pid)
}

/// "13:04:05" from an RFC 3339 time (the date is in the JSON).
fn clock(t: &str) -> String {
    t.split_once('T')
        .map(|(_, r)| r.trim_end_matches('Z').chars().take(8).collect())
        .unwrap_or_else(|| t.to_string())
}

fn denied_by(d: &Denial) -> String {
    match &d.denied_by {
        Some(b) => b.clone(),
        None if !d.lsm_programs.is_empty() => d.lsm_programs.join(", "),
        None => text::DENIED_BY_UNKNOWN.to_string(),
    }
}

fn cgroup(d: &Denial) -> String {
    d.container
        .clone()
        .or_else(|| d.cgroup.clone())
        .unwrap_or_default()
}

use super::table::col;

pub const COLUMNS: &[Column<Denial>] = &[
    col(
        "LAST",
        8,
        0,
        Align::Left,
        |d, _| SortKey::Text(d.last_seen.clone()),
        |d, _| clock(&d.last_seen),
    ),
    col(
        "COUNT",
        6,
        0,
        Align::Right,
        |d, _| SortKey::Num(Some(d.count as f64)),
        |d, _| super::format::si(d.count as f64),
    ),
    col(
        "HOOK",
        19,
        0,
        Align::Left,
        |d, _| SortKey::Text(d.hook.clone()),
        |d, _| d.hook.clone(),
    ),
    col(
        "PROCESS",
        14,
        0,
        Align::Left,
        |d, _| SortKey::Text(process(d)),
        |d, _| process(d),
    ),
    Column {
        header: "TARGET",
        width: 16,
        flex: true,
        priority: 0,
        align: Align::Left,
        sort: |d, _| SortKey::Text(d.target.clone()),
        cell: |d, _| d.target.clone(),
        emphasis: |_, _| Emphasis::Normal,
    },
    col(
        "ERRNO",
        6,
        1,
        Align::Left,
        |d, _| SortKey::Num(Some(d.errno.into())),
        |d, _| errno(d),
    ),
    col(
        "DENIED BY",
        28,
        1,
        Align::Left,
        |d, _| SortKey::Text(denied_by(d)),
        |d, _| denied_by(d),
    ),
    col(
        "CGROUP",
        22,
        2,
        Align::Left,
        |d, _| SortKey::Text(cgroup(d)),
        |d, _| cgroup(d),
    ),
    col(
        "SYSCALL",
        8,
        3,
        Align::Left,
        |d, _| SortKey::Text(d.syscall.clone().unwrap_or_default()),
        |d, _| d.syscall.clone().unwrap_or_default(),
    ),
    col(
        "FIRST",
        8,
        3,
        Align::Left,
        |d, _| SortKey::Text(d.first_seen.clone()),
        |d, _| clock(&d.first_seen),
    ),
];

pub const LAST_SEEN_COLUMN: usize = 0;

/// Stable row key: hook, pid, comm and target.
fn key(d: &Denial) -> RowKey {
    RowKey::Path(format!("{}\0{}\0{}\0{}", d.hook, d.pid, d.comm, d.target))
}

pub const TABLE: TableDef<Denial> = TableDef {
    columns: COLUMNS,
    key,
    default_sort: LAST_SEEN_COLUMN,
    default_desc: true,
};

fn keys(app: &App) -> Vec<RowKey> {
    super::table::keys(&TABLE, &app.snapshot.denials, &Ctx::of(app), app.view())
}

/// Which mode produced the rows, from the probe statuses (or the rows themselves in replay).
pub fn mode(snap: &Snapshot) -> &'static str {
    let loaded = |n: &str| snap.node.probes.iter().any(|p| p.name == n && p.loaded);
    if loaded("lsm") || snap.denials.iter().any(|d| d.source == "bpf_lsm") {
        text::DENIALS_MODE_LSM
    } else if loaded("syscall_denials") || snap.denials.iter().any(|d| d.source == "syscall_exit") {
        text::DENIALS_MODE_SYSCALL
    } else {
        ""
    }
}

/// The selected row (or the first shown), for the detail strip.
fn selected(app: &App) -> Option<&Denial> {
    let order = TABLE.order(&app.snapshot.denials, &Ctx::of(app), app.view());
    let rows = &app.snapshot.denials;
    let pick = app
        .view()
        .selected
        .as_ref()
        .and_then(|k| order.iter().find(|&&i| &key(&rows[i]) == k))
        .or(order.first());
    pick.map(|&i| &rows[i])
}

/// Detail lines of one denial: the full target, who refused it, where it came from.
pub fn detail_lines(d: &Denial) -> Vec<String> {
    let who = match (&d.denied_by, d.lsm_programs.is_empty()) {
        (Some(b), _) => format!("denied by  {b}"),
        (None, false) => format!(
            "BPF LSM programs on {}: {}",
            d.hook,
            d.lsm_programs.join(", ")
        ),
        (None, true) => format!("denied by  {}", text::DENIED_BY_NONE),
    };
    let place = match (&d.container, &d.cgroup) {
        (Some(c), Some(g)) => format!("cgroup     {c}  {g}"),
        (None, Some(g)) => format!("cgroup     {g}"),
        (Some(c), None) => format!("container  {c}"),
        (None, None) => "cgroup     unknown".to_string(),
    };
    vec![
        format!("target     {}", d.target),
        who,
        place,
        format!(
            "seen       {}× {} … {}  {} {}{}",
            d.count,
            d.first_seen,
            d.last_seen,
            errno(d),
            d.source,
            d.syscall
                .as_ref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default()
        ),
    ]
}

fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    use ratatui::layout::{Constraint, Layout};
    use ratatui::text::Line;
    use ratatui::widgets::Paragraph;
    let area = match selected(app) {
        Some(d) if area.height >= 14 => {
            let [table, detail] =
                Layout::vertical([Constraint::Min(6), Constraint::Length(6)]).areas(area);
            let lines: Vec<Line> = detail_lines(d).into_iter().map(Line::from).collect();
            frame.render_widget(
                Paragraph::new(lines).block(super::block(" Selected denial ", theme)),
                detail,
            );
            table
        }
        _ => area,
    };
    let why = app.snapshot.unavailable_reason("denials");
    let empty = match why {
        Some(r) => text::unavailable("denials", r),
        None if app.waiting => text::WAITING.to_string(),
        None => text::NO_DENIALS.to_string(),
    };
    TablePane {
        def: &TABLE,
        rows: &app.snapshot.denials,
        ctx: &Ctx::of(app),
        view: app.view(),
        name: "LSM denials",
        empty: &empty,
        empty_warn: why.is_some(),
        sortable: true,
        legend: mode(&app.snapshot),
    }
    .draw(frame, area, theme);
}

fn plain(
    snap: &Snapshot,
    prev: Option<&Snapshot>,
    view: &crate::app::state::TableView,
) -> super::plain::PlainTable {
    super::plain::from_snapshot(&TABLE, &snap.denials, snap, prev, view)
}

pub const PANE: PaneDef = PaneDef {
    groups: super::registry::no_groups,
    id: PaneId::Denials,
    title: "Denials",
    count: |s| s.denials.len(),
    columns: COLUMNS.len(),
    default_sort: LAST_SEEN_COLUMN,
    default_desc: true,
    keys,
    open: super::registry::opens_nothing,
    draw,
    plain,
    json: |s, w| super::registry::json(w, &s.denials),
    probes: &["lsm", "syscall_denials", "audit"],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells() {
        let d = Denial {
            hook: "file_open".into(),
            pid: 7,
            comm: "cat".into(),
            errno: 13,
            last_seen: "2026-11-21T19:00:05Z".into(),
            lsm_programs: vec!["deny (prog 3)".into()],
            ..Default::default()
        };
        assert_eq!(clock(&d.last_seen), "19:00:05");
        assert_eq!(errno(&d), "EACCES");
        assert_eq!(process(&d), "cat [7]");
        assert_eq!(denied_by(&d), "deny (prog 3)");
        let lines = detail_lines(&d);
        assert_eq!(lines[1], "BPF LSM programs on file_open: deny (prog 3)");
        let d = Denial::default();
        assert_eq!(denied_by(&d), text::DENIED_BY_UNKNOWN);
        assert!(detail_lines(&d)[1].contains(text::DENIED_BY_NONE));
    }
}
