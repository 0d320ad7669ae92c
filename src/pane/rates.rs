//! Per-program rates derived from two snapshots (pure: no clock, no I/O).
//!
//! The kernel only gives cumulative `run_cnt`/`run_time_ns`; rates are deltas between the previous
//! and the current snapshot, keyed by program id. An id can be reused by a new program (different
//! load time or tag) and counters can go backwards (stats toggled, program reloaded): those cases
//! give "no rate", never a negative or absurd number.

use crate::model::{MetricEntry, Program, Snapshot};
use std::collections::HashMap;

/// Rates of one program over the last interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProgRate {
    /// Runs per second.
    pub events_per_s: f64,
    /// Average ns per run over the interval; `None` when it did not run.
    pub avg_ns: Option<f64>,
    /// Share of one CPU spent in the program: Δrun_time ÷ Δwall × 100.
    pub cpu_pct: f64,
}

/// A Cilium metrics row: reason code, direction, and the datapath location counting it.
pub type MetricKey = (u8, String, Option<String>, Option<u32>);

pub fn metric_key(m: &MetricEntry) -> MetricKey {
    (m.reason, m.direction.clone(), m.file.clone(), m.line)
}

/// Packets and bytes per second of one Cilium metrics row over the last interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricRate {
    pub packets_per_s: f64,
    pub bytes_per_s: f64,
}

/// Rates for every program that has a comparable predecessor.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rates {
    pub by_id: HashMap<u32, ProgRate>,
    /// Cilium forward/drop counters per (reason, direction, file, line).
    pub metrics: HashMap<MetricKey, MetricRate>,
    /// Wall time between the two snapshots (0 when there is no previous one).
    pub elapsed_ns: u64,
}

impl Rates {
    pub fn get(&self, id: u32) -> Option<&ProgRate> {
        self.by_id.get(&id)
    }
}

/// Average ns per run since load (or since stats were enabled).
pub fn overall_avg_ns(p: &Program) -> Option<f64> {
    (p.run_cnt > 0).then(|| p.run_time_ns as f64 / p.run_cnt as f64)
}

/// Same program object in both snapshots (ids are reused by the kernel).
fn same_object(a: &Program, b: &Program) -> bool {
    a.load_time_ns == b.load_time_ns && a.tag == b.tag && a.prog_type == b.prog_type
}

pub fn compute(prev: Option<&Snapshot>, cur: &Snapshot) -> Rates {
    let Some(prev) = prev else {
        return Rates::default();
    };
    let elapsed_ns = cur.monotonic_ns.saturating_sub(prev.monotonic_ns);
    if elapsed_ns == 0 {
        return Rates::default();
    }
    let before: HashMap<u32, &Program> = prev.programs.iter().map(|p| (p.id, p)).collect();
    let secs = elapsed_ns as f64 / 1e9;
    let mut by_id = HashMap::with_capacity(cur.programs.len());
    for p in &cur.programs {
        let Some(old) = before.get(&p.id) else {
            continue;
        };
        if !same_object(old, p) || p.run_cnt < old.run_cnt || p.run_time_ns < old.run_time_ns {
            continue;
        }
        let d_cnt = p.run_cnt - old.run_cnt;
        let d_time = p.run_time_ns - old.run_time_ns;
        by_id.insert(
            p.id,
            ProgRate {
                events_per_s: d_cnt as f64 / secs,
                avg_ns: (d_cnt > 0).then(|| d_time as f64 / d_cnt as f64),
                cpu_pct: d_time as f64 / elapsed_ns as f64 * 100.0,
            },
        );
    }
    Rates {
        by_id,
        metrics: metric_rates(prev, cur, secs),
        elapsed_ns,
    }
}

/// Counter deltas per metrics row; a row that is new or whose counters went backwards (agent
/// restart, map recreated) has no rate.
fn metric_rates(prev: &Snapshot, cur: &Snapshot, secs: f64) -> HashMap<MetricKey, MetricRate> {
    let before: HashMap<MetricKey, &MetricEntry> =
        prev.metrics.iter().map(|m| (metric_key(m), m)).collect();
    let mut out = HashMap::with_capacity(cur.metrics.len());
    for m in &cur.metrics {
        let key = metric_key(m);
        let Some(old) = before.get(&key) else {
            continue;
        };
        if m.packets < old.packets || m.bytes < old.bytes {
            continue;
        }
        out.insert(
            key,
            MetricRate {
                packets_per_s: (m.packets - old.packets) as f64 / secs,
                bytes_per_s: (m.bytes - old.bytes) as f64 / secs,
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prog(id: u32, cnt: u64, time: u64) -> Program {
        Program {
            id,
            tag: "aa".into(),
            load_time_ns: 100,
            run_cnt: cnt,
            run_time_ns: time,
            ..Default::default()
        }
    }

    fn snap(mono: u64, progs: Vec<Program>) -> Snapshot {
        Snapshot {
            monotonic_ns: mono,
            programs: progs,
            ..Snapshot::empty()
        }
    }

    #[test]
    fn first_snapshot_has_no_rates() {
        let r = compute(None, &snap(1_000, vec![prog(1, 10, 100)]));
        assert!(r.by_id.is_empty());
    }

    #[test]
    fn rates_over_one_second() {
        let a = snap(1_000_000_000, vec![prog(1, 1_000, 1_000_000)]);
        let b = snap(2_000_000_000, vec![prog(1, 3_000, 21_000_000)]);
        let r = compute(Some(&a), &b);
        let p = r.get(1).unwrap();
        assert_eq!(p.events_per_s, 2_000.0);
        assert_eq!(p.avg_ns, Some(10_000.0));
        assert!((p.cpu_pct - 2.0).abs() < 1e-9);
    }

    #[test]
    fn idle_program_has_zero_rate_and_no_interval_average() {
        let a = snap(0, vec![prog(1, 5, 50)]);
        let b = snap(500_000_000, vec![prog(1, 5, 50)]);
        let p = *compute(Some(&a), &b).get(1).unwrap();
        assert_eq!(p.events_per_s, 0.0);
        assert_eq!(p.avg_ns, None);
        assert_eq!(p.cpu_pct, 0.0);
    }

    #[test]
    fn reused_id_gives_no_rate() {
        let a = snap(0, vec![prog(1, 5_000, 50_000)]);
        let mut newer = prog(1, 10, 100);
        newer.load_time_ns = 999;
        let b = snap(1_000_000_000, vec![newer.clone()]);
        assert!(compute(Some(&a), &b).get(1).is_none());
        newer.load_time_ns = 100;
        newer.tag = "bb".into();
        newer.run_cnt = 9_000;
        newer.run_time_ns = 90_000;
        let b = snap(1_000_000_000, vec![newer]);
        assert!(compute(Some(&a), &b).get(1).is_none());
    }

    #[test]
    fn counters_going_backwards_give_no_rate() {
        let a = snap(0, vec![prog(1, 5_000, 50_000)]);
        let b = snap(1_000_000_000, vec![prog(1, 10, 100)]);
        assert!(compute(Some(&a), &b).get(1).is_none());
        let b = snap(1_000_000_000, vec![prog(1, 6_000, 100)]);
        assert!(compute(Some(&a), &b).get(1).is_none());
    }

    #[test]
    fn vanished_and_new_programs() {
        let a = snap(0, vec![prog(1, 1, 1), prog(2, 1, 1)]);
        let b = snap(1_000_000_000, vec![prog(2, 2, 2), prog(3, 9, 9)]);
        let r = compute(Some(&a), &b);
        assert!(r.get(1).is_none());
        assert!(r.get(2).is_some());
        assert!(r.get(3).is_none());
    }

    #[test]
    fn zero_or_negative_elapsed_time_gives_no_rates() {
        let a = snap(5, vec![prog(1, 1, 1)]);
        let b = snap(5, vec![prog(1, 2, 2)]);
        assert!(compute(Some(&a), &b).by_id.is_empty());
        let b = snap(4, vec![prog(1, 2, 2)]);
        assert!(compute(Some(&a), &b).by_id.is_empty());
    }

    fn metric(reason: u8, dir: &str, packets: u64, bytes: u64) -> MetricEntry {
        MetricEntry {
            reason,
            reason_name: format!("r{reason}"),
            direction: dir.into(),
            packets,
            bytes,
            file: Some("bpf_lxc.c".into()),
            line: Some(100),
            ..Default::default()
        }
    }

    #[test]
    fn metric_rates_per_reason_and_direction() {
        let mut a = snap(0, vec![]);
        a.metrics = vec![
            metric(133, "EGRESS", 10, 1_000),
            metric(133, "INGRESS", 5, 500),
            metric(0, "EGRESS", 100, 10_000),
        ];
        let mut b = snap(2_000_000_000, vec![]);
        b.metrics = vec![
            metric(133, "EGRESS", 50, 5_000),
            metric(133, "INGRESS", 5, 500),
            metric(0, "EGRESS", 90, 9_000),
            metric(181, "EGRESS", 7, 700),
        ];
        let r = compute(Some(&a), &b);
        let get = |i: usize| r.metrics.get(&metric_key(&b.metrics[i])).copied();
        let egress = get(0).unwrap();
        assert_eq!(egress.packets_per_s, 20.0);
        assert_eq!(egress.bytes_per_s, 2_000.0);
        assert_eq!(get(1).unwrap().packets_per_s, 0.0);
        assert!(get(2).is_none(), "counters went backwards");
        assert!(get(3).is_none(), "new row");
    }

    #[test]
    fn overall_average_needs_runs() {
        assert_eq!(overall_avg_ns(&prog(1, 0, 0)), None);
        assert_eq!(overall_avg_ns(&prog(1, 4, 100)), Some(25.0));
    }
}
