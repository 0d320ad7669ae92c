//! Node pane: facts about the kernel and the collection, as a key/value table.

use super::format;
use super::plain::PlainTable;
use super::rates::Rates;
use super::table::{Align, Column, Emphasis, Empty, SortKey, Table, TablePane};
use super::{Ctx, RowKey, TableView};
use crate::model::{PaneId, ProbeStatus, Snapshot};
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

/// What one own probe costs the node: share of one CPU (all its programs, all CPUs), runs per
/// second and ns per run. Over the last interval when there is one, else since the programs
/// were loaded; `None` without BPF stats or without runs to count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeCost {
    pub cpu_pct: f64,
    pub runs_per_s: f64,
    pub ns_per_run: f64,
    /// Measured over the last interval (else since load).
    pub interval: bool,
}

pub fn probe_cost(s: &Snapshot, rates: &Rates, p: &ProbeStatus) -> Option<ProbeCost> {
    if !s.node.stats_enabled || p.prog_ids.is_empty() {
        return None;
    }
    if rates.elapsed_ns > 0 {
        let mut seen = false;
        let (mut cpu, mut runs) = (0.0, 0.0);
        for id in &p.prog_ids {
            if let Some(r) = rates.get(*id) {
                seen = true;
                cpu += r.cpu_pct;
                runs += r.events_per_s;
            }
        }
        if seen {
            return Some(ProbeCost {
                cpu_pct: cpu,
                runs_per_s: runs,
                // cpu % = Δtime ÷ Δwall × 100 and runs/s = Δcount ÷ Δwall.
                ns_per_run: if runs > 0.0 { cpu * 1e7 / runs } else { 0.0 },
                interval: true,
            });
        }
    }
    // One snapshot (`show node`): the programs' totals since they were loaded.
    let (mut time, mut count, mut cpu) = (0u64, 0u64, 0.0);
    let mut runs = 0.0;
    for id in &p.prog_ids {
        let Some(prog) = s.program(*id) else { continue };
        let alive = s.boottime_ns.saturating_sub(prog.load_time_ns);
        if alive == 0 {
            continue;
        }
        time += prog.run_time_ns;
        count += prog.run_cnt;
        cpu += prog.run_time_ns as f64 / alive as f64 * 100.0;
        runs += prog.run_cnt as f64 / (alive as f64 / 1e9);
    }
    (count > 0).then(|| ProbeCost {
        cpu_pct: cpu,
        runs_per_s: runs,
        ns_per_run: time as f64 / count as f64,
        interval: false,
    })
}

/// `0.012 % CPU (41.0k/s × 57 ns)`: runs per second × ns per run; `since load` when there is
/// no interval yet.
pub fn probe_cost_text(c: &ProbeCost) -> String {
    if c.runs_per_s == 0.0 {
        return format!(
            "0 % CPU (no runs{})",
            if c.interval {
                " in the interval"
            } else {
                " since load"
            }
        );
    }
    format!(
        "{} % CPU ({}/s × {}){}",
        cpu_text(c.cpu_pct),
        format::si(c.runs_per_s),
        format::nanos(Some(c.ns_per_run)),
        if c.interval { "" } else { ", since load" }
    )
}

/// Enough digits to see a probe's small share (0.004 %) and not more.
fn cpu_text(pct: f64) -> String {
    if pct >= 10.0 {
        format!("{pct:.1}")
    } else if pct >= 0.1 {
        format!("{pct:.2}")
    } else {
        format!("{pct:.3}")
    }
}

pub fn rows(s: &Snapshot, rates: &Rates) -> Vec<NodeRow> {
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
        // What it costs the node, on its own row so the state above reads as before.
        if let Some(c) = probe_cost(s, rates, p) {
            v.push((format!("probe {} cost", p.name), probe_cost_text(&c), false));
        }
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

#[cfg(test)]
mod cost_tests {
    use super::*;
    use crate::model::Program;

    fn snap(run_cnt: u64, run_time_ns: u64, mono: u64) -> Snapshot {
        let mut s = Snapshot::empty();
        s.node.stats_enabled = true;
        s.monotonic_ns = mono;
        s.boottime_ns = mono + 1_000_000_000;
        s.programs = vec![Program {
            id: 7,
            tag: "t".into(),
            load_time_ns: 1_000_000_000,
            run_cnt,
            run_time_ns,
            ..Default::default()
        }];
        s.node.probes = vec![ProbeStatus {
            name: "syscall_denials".into(),
            loaded: true,
            attached: true,
            prog_ids: vec![7],
            ..Default::default()
        }];
        s
    }

    #[test]
    fn own_probe_cost_is_ns_per_run_times_runs_per_second() {
        let a = snap(1_000, 57_000, 10_000_000_000);
        // One second later: 100,000 more runs of 60 ns = 6 ms of CPU = 0.6 % of one core.
        let b = snap(101_000, 57_000 + 6_000_000, 11_000_000_000);
        let rates = crate::pane::rates::compute(Some(&a), &b);
        let c = probe_cost(&b, &rates, &b.node.probes[0]).unwrap();
        assert!(c.interval);
        assert!((c.cpu_pct - 0.6).abs() < 1e-9, "{c:?}");
        assert!((c.runs_per_s - 100_000.0).abs() < 1e-6);
        assert!((c.ns_per_run - 60.0).abs() < 1e-9);
        assert_eq!(probe_cost_text(&c), "0.60 % CPU (100.0k/s × 60 ns)");
        let rows = rows(&b, &rates);
        let row = rows
            .iter()
            .find(|r| r.field == "probe syscall_denials cost")
            .expect("a cost row");
        assert_eq!(row.value, "0.60 % CPU (100.0k/s × 60 ns)");
        // The state row reads as before.
        assert!(rows
            .iter()
            .any(|r| r.field == "probe syscall_denials" && r.value == "attached"));

        // One snapshot: since the programs were loaded (10 s of 1,000 runs × 57 ns).
        let c = probe_cost(&a, &Rates::default(), &a.node.probes[0]).unwrap();
        assert!(!c.interval);
        assert!((c.ns_per_run - 57.0).abs() < 1e-9);
        assert!((c.runs_per_s - 100.0).abs() < 1e-9);
        assert!(probe_cost_text(&c).ends_with(", since load"));
        // No stats: no cost claimed.
        let mut off = a.clone();
        off.node.stats_enabled = false;
        assert_eq!(
            probe_cost(&off, &Rates::default(), &off.node.probes[0]),
            None
        );
    }
}
