//! LSM denials pane: what the kernel refused, who asked, and which security module said no.
//! Default sort: last seen, newest first. The filter matches hook, process, cgroup, target...

use super::registry::PaneDef;
use super::table::{no_emphasis, Align, Column, Ctx, Emphasis, SortKey, TableDef, TablePane};
use super::text;
use super::theme::Theme;
use crate::app::state::{App, RowKey};
use crate::app::update::Target;
use crate::model::{Denial, Snapshot};
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

const fn col(
    header: &'static str,
    width: u16,
    priority: u8,
    align: Align,
    sort: fn(&Denial, &Ctx) -> SortKey,
    cell: fn(&Denial, &Ctx) -> String,
) -> Column<Denial> {
    Column {
        header,
        width,
        flex: false,
        priority,
        align,
        sort,
        cell,
        emphasis: no_emphasis,
    }
}

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

fn ctx(app: &App) -> Ctx<'_> {
    Ctx {
        snap: &app.snapshot,
        rates: &app.rates,
    }
}

fn keys(app: &App) -> Vec<RowKey> {
    super::table::keys(&TABLE, &app.snapshot.denials, &ctx(app), app.view())
}

fn open(_: &App, _: &RowKey) -> Option<Target> {
    None
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

fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let why = app.snapshot.unavailable_reason("denials");
    let empty = match why {
        Some(r) => text::unavailable("denials", r),
        None if app.waiting => text::WAITING.to_string(),
        None => text::NO_DENIALS.to_string(),
    };
    TablePane {
        def: &TABLE,
        rows: &app.snapshot.denials,
        ctx: &ctx(app),
        view: app.view(),
        name: "LSM denials",
        empty: &empty,
        empty_warn: why.is_some(),
        sortable: true,
        legend: mode(&app.snapshot),
    }
    .draw(frame, area, theme);
}

fn plain(snap: &Snapshot, prev: Option<&Snapshot>) -> super::plain::PlainTable {
    let rates = crate::app::rates::compute(prev, snap);
    super::plain::from_def(
        &TABLE,
        &snap.denials,
        &Ctx {
            snap,
            rates: &rates,
        },
    )
}

pub const PANE: PaneDef = PaneDef {
    name: "denials",
    title: "Denials",
    aliases: &["denial", "lsm", "deny"],
    count: |s| s.denials.len(),
    columns: COLUMNS.len(),
    default_sort: LAST_SEEN_COLUMN,
    default_desc: true,
    keys,
    open,
    draw,
    plain,
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
        let d = Denial::default();
        assert_eq!(denied_by(&d), text::DENIED_BY_UNKNOWN);
    }
}
