//! LSM denials pane: what the kernel refused, who asked, and which security module said no.
//! Default sort: last seen, newest first. The filter matches hook, process, cgroup, target...

use super::table::{col, Align, Column, Emphasis, Empty, SortKey, Table, TablePane};
use super::RowKey;
use crate::model::{diff, Denial, PaneId, Snapshot};
use crate::text;

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

pub const TABLE: Table<Denial> = Table {
    columns: COLUMNS,
    key,
    default_sort: LAST_SEEN_COLUMN,
    default_desc: true,
    diff: Some((PaneId::Denials, diff::denial_key)),
};

/// A table pane; the view adds a strip with the selected denial in full.
pub static PANE: TablePane<Denial> = TablePane {
    name: "LSM denials",
    empty: Empty::Text(text::NO_DENIALS),
    legend: |c| mode(c.snap).to_string(),
    probes: &["lsm", "syscall_denials", "audit"],
    ..TablePane::new(
        PaneId::Denials,
        "Denials",
        |c| &c.snap.denials,
        TABLE,
        |s, w| super::json(w, &s.denials),
    )
};

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
