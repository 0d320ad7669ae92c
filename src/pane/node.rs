//! Node pane: facts about the kernel and the collection, as a key/value table.

use super::format;
use super::plain::PlainTable;
use super::table::{Align, Column, Emphasis, Empty, SortKey, Table, TablePane};
use super::{Ctx, RowKey, TableView};
use crate::model::{PaneId, Snapshot};
use crate::text;

/// One fact: its field, its value, and whether it is a problem.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeRow {
    pub idx: usize,
    pub field: String,
    pub value: String,
    pub warn: bool,
}

fn opt_i(v: Option<i64>) -> String {
    v.map_or_else(|| "unknown".to_string(), |v| v.to_string())
}

pub fn rows(s: &Snapshot) -> Vec<NodeRow> {
    let n = &s.node;
    let mut v: Vec<(String, String, bool)> = vec![
        ("hostname".into(), n.hostname.clone(), false),
        (
            "kernel".into(),
            format!("{} {}", n.kernel_release, n.kernel_version)
                .trim()
                .to_string(),
            false,
        ),
        ("arch".into(), n.arch.clone(), false),
        (
            "BTF".into(),
            if n.btf {
                "yes (/sys/kernel/btf/vmlinux)".into()
            } else {
                "no: names, map contents and own probes are limited".into()
            },
            !n.btf,
        ),
        (
            "LSMs".into(),
            if n.lsms.is_empty() {
                "unknown (securityfs unreadable)".into()
            } else {
                n.lsms.join(", ")
            },
            false,
        ),
        (
            "lockdown".into(),
            n.lockdown.clone().unwrap_or_else(|| "unknown".into()),
            matches!(n.lockdown.as_deref(), Some("integrity" | "confidentiality")),
        ),
        (
            "JIT".into(),
            format!(
                "bpf_jit_enable={} bpf_jit_harden={}",
                opt_i(n.jit_enabled),
                opt_i(n.jit_harden)
            ),
            n.jit_enabled == Some(0),
        ),
        (
            "unprivileged BPF".into(),
            match n.unprivileged_bpf_disabled {
                Some(0) => "allowed".into(),
                Some(v) => format!("disabled ({v})"),
                None => "unknown".into(),
            },
            n.unprivileged_bpf_disabled == Some(0),
        ),
        (
            "stats".into(),
            if n.stats_enabled {
                format!(
                    "on{}",
                    if n.stats_source.is_empty() {
                        String::new()
                    } else {
                        format!(" (by {})", n.stats_source)
                    }
                )
            } else {
                "off: no run counts or CPU %".into()
            },
            !n.stats_enabled,
        ),
        (
            "bpffs roots".into(),
            if n.bpffs_roots.is_empty() {
                format::NONE.into()
            } else {
                n.bpffs_roots.join(", ")
            },
            false,
        ),
        (
            "map memory".into(),
            format!(
                "{} in {} maps",
                format::bytes(n.map_memory_bytes),
                s.maps.len()
            ),
            false,
        ),
        match n.stretched_ms {
            None => (
                "refresh".into(),
                format!(
                    "every {} ms, collection took {} ms",
                    n.interval_ms, n.collect_ms
                ),
                false,
            ),
            Some(wait) => (
                "refresh".into(),
                text::refresh_stretched(n.collect_ms, n.interval_ms, wait),
                true,
            ),
        },
        ("taken at".into(), s.taken_at.clone(), false),
        ("dpscope".into(), n.dpscope_version.clone(), false),
    ];
    if !n.denials_mode.is_empty() {
        v.push(("LSM denials".into(), n.denials_mode.clone(), false));
    }
    for p in &n.probes {
        let state = match (p.loaded, p.attached) {
            (true, true) => "attached",
            (true, false) => "loaded, not attached",
            (false, _) => "not loaded",
        };
        let detail = if p.detail.is_empty() {
            String::new()
        } else {
            format!(": {}", p.detail)
        };
        // Own probes with an aggregation map: its use and evictions right after the state.
        let pressure = text::probe_pressure(p);
        let state = if pressure.is_empty() {
            state.to_string()
        } else {
            format!("{state} ({} events, {pressure})", p.events)
        };
        v.push((
            format!("probe {}", p.name),
            format!("{state}{detail}"),
            !p.attached || p.failed_inserts > 0,
        ));
    }
    for u in &n.unavailable {
        v.push((format!("unavailable {}", u.pane), u.reason.clone(), true));
    }
    for (i, w) in n.warnings.iter().enumerate() {
        v.push((format!("warning {}", i + 1), w.clone(), true));
    }
    v.into_iter()
        .enumerate()
        .map(|(idx, (field, value, warn))| NodeRow {
            idx,
            field,
            value,
            warn,
        })
        .collect()
}

pub const COLUMNS: &[Column<NodeRow>] = &[
    Column {
        header: "FIELD",
        width: 20,
        flex: false,
        priority: 0,
        align: Align::Left,
        sort: |r, _| SortKey::Num(Some(r.idx as f64)),
        cell: |r, _| {
            if r.warn {
                format!("! {}", r.field)
            } else {
                format!("  {}", r.field)
            }
        },
        emphasis: |r, _| {
            if r.warn {
                Emphasis::Warn
            } else {
                Emphasis::Normal
            }
        },
    },
    Column {
        header: "VALUE",
        width: 20,
        flex: true,
        priority: 0,
        align: Align::Left,
        sort: |r, _| SortKey::Num(Some(r.idx as f64)),
        cell: |r, _| r.value.clone(),
        emphasis: |r, _| {
            if r.warn {
                Emphasis::Warn
            } else {
                Emphasis::Normal
            }
        },
    },
];

pub const TABLE: Table<NodeRow> = Table {
    columns: COLUMNS,
    key: |r| RowKey::Path(r.field.clone()),
    default_sort: 0,
    default_desc: false,
    diff: None,
};

/// The facts in their order; problems in a column of their own rather than as a prefix.
fn plain(c: &Ctx, _: &TableView) -> PlainTable {
    let rows = &c.derived.node;
    let mut t = TABLE.plain(rows, c, &TableView::default());
    t.headers = vec!["FIELD".into(), "VALUE".into(), "PROBLEM".into()];
    t.right = vec![false, false, false];
    for (cells, r) in t.rows.iter_mut().zip(rows.iter()) {
        cells[0] = r.field.clone();
        cells.push(if r.warn { "!".into() } else { String::new() });
    }
    t
}

pub static PANE: TablePane<NodeRow> = TablePane {
    count: Some(|_| 1),
    empty: Empty::Text(text::WAITING),
    sortable: false,
    plain: Some(plain),
    ..TablePane::new(
        PaneId::Node,
        "Node",
        |c| &c.derived.node,
        TABLE,
        |s, w| super::json(w, &s.node),
    )
};
