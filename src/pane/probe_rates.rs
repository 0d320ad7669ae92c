//! Rows of the probe panes derived from two snapshots (pure: no clock, no I/O): retransmits
//! per second from the delta of the in-kernel counters, the retransmit ratio, grouping by flow,
//! destination or process; drop rates the same way.
//!
//! A flow missing from the previous snapshot (new, or evicted and re-inserted by the LRU map)
//! counts its whole total as this interval's; a counter that went backwards gives no rate.

use crate::model::{Drop, Retransmit, Snapshot};
use std::collections::HashMap;

/// How the Retransmits pane groups flows (key `o` cycles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetransGroup {
    #[default]
    Flow,
    Destination,
    Process,
}

impl RetransGroup {
    pub fn next(self) -> Self {
        match self {
            RetransGroup::Flow => RetransGroup::Destination,
            RetransGroup::Destination => RetransGroup::Process,
            RetransGroup::Process => RetransGroup::Flow,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RetransGroup::Flow => "flow",
            RetransGroup::Destination => "destination",
            RetransGroup::Process => "process",
        }
    }
}

/// One row of the Retransmits pane (a flow, or a group of flows).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RetransRow {
    /// Stable key for selection.
    pub key: String,
    /// What the row is: `10.0.0.1:40000 → 10.0.0.2:443`, `10.0.0.2:443`, `curl (4242)`.
    pub what: String,
    pub flows: usize,
    pub retransmits: u64,
    /// Retransmits per second over the last interval (None without a previous snapshot).
    pub per_s: Option<f64>,
    pub segments_out: Option<u64>,
    /// Retransmitted ÷ sent segments, of the live sockets in the row.
    pub ratio: Option<f64>,
    pub resets_sent: u64,
    pub resets_received: u64,
    pub process: String,
    pub container: String,
    pub state: String,
}

fn flow_key(r: &Retransmit) -> (u32, &str, u16, &str, u16) {
    (
        r.netns,
        r.src.as_str(),
        r.src_port,
        r.dst.as_str(),
        r.dst_port,
    )
}

fn endpoint(addr: &str, port: u16) -> String {
    if addr.contains(':') {
        format!("[{addr}]:{port}")
    } else {
        format!("{addr}:{port}")
    }
}

pub fn process_label(r: &Retransmit) -> String {
    match (&r.comm, r.pid) {
        (Some(c), Some(p)) => format!("{c} ({p})"),
        (None, Some(p)) => format!("pid {p}"),
        _ => String::new(),
    }
}

/// Seconds between two snapshots, None when not comparable.
fn interval_s(prev: Option<&Snapshot>, cur: &Snapshot) -> Option<f64> {
    let p = prev?;
    let d = cur.monotonic_ns.checked_sub(p.monotonic_ns)?;
    (d > 0).then_some(d as f64 / 1e9)
}

/// Per-flow delta of retransmits since `prev` (None when there is no comparable previous one).
pub fn retransmit_deltas(
    prev: Option<&Snapshot>,
    cur: &Snapshot,
) -> Option<(f64, Vec<Option<u64>>)> {
    let secs = interval_s(prev, cur)?;
    let before: HashMap<_, u64> = prev?
        .retransmits
        .iter()
        .map(|r| (flow_key(r), r.retransmits))
        .collect();
    let deltas = cur
        .retransmits
        .iter()
        .map(|r| match before.get(&flow_key(r)) {
            Some(&old) => r.retransmits.checked_sub(old),
            None => Some(r.retransmits),
        })
        .collect();
    Some((secs, deltas))
}

pub fn retransmit_rows(
    prev: Option<&Snapshot>,
    cur: &Snapshot,
    group: RetransGroup,
) -> Vec<RetransRow> {
    let deltas = retransmit_deltas(prev, cur);
    let mut rows: Vec<RetransRow> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    // (sum of delta, any delta known) per row
    let mut acc: Vec<(u64, bool)> = Vec::new();
    // (retransmitted, sent) over live sockets per row
    let mut ratio: Vec<(u64, u64)> = Vec::new();
    for (i, r) in cur.retransmits.iter().enumerate() {
        let (key, what) = match group {
            RetransGroup::Flow => {
                let w = format!(
                    "{} → {}",
                    endpoint(&r.src, r.src_port),
                    endpoint(&r.dst, r.dst_port)
                );
                (format!("{}|{w}", r.netns), w)
            }
            RetransGroup::Destination => {
                let w = endpoint(&r.dst, r.dst_port);
                (w.clone(), w)
            }
            RetransGroup::Process => {
                let p = process_label(r);
                let w = if p.is_empty() {
                    crate::text::NO_LIVE_SOCKET.to_string()
                } else {
                    p
                };
                (w.clone(), w)
            }
        };
        let at = *index.entry(key.clone()).or_insert_with(|| {
            rows.push(RetransRow {
                key,
                what,
                ..Default::default()
            });
            acc.push((0, false));
            ratio.push((0, 0));
            rows.len() - 1
        });
        let row = &mut rows[at];
        row.flows += 1;
        row.retransmits += r.retransmits;
        row.resets_sent += r.resets_sent;
        row.resets_received += r.resets_received;
        if let Some(s) = r.segments_out {
            row.segments_out = Some(row.segments_out.unwrap_or(0) + s);
            let retrans = r.kernel_total_retrans.unwrap_or(r.retransmits);
            ratio[at].0 += retrans;
            ratio[at].1 += s;
        }
        if row.process.is_empty() {
            row.process = process_label(r);
        }
        if row.container.is_empty() {
            row.container = r.container.clone().unwrap_or_default();
        }
        if row.state.is_empty() || group == RetransGroup::Flow {
            row.state = r.state.clone();
        }
        if let Some((_, d)) = &deltas {
            if let Some(Some(v)) = d.get(i) {
                acc[at].0 += v;
                acc[at].1 = true;
            }
        }
    }
    for (i, row) in rows.iter_mut().enumerate() {
        if let Some((secs, _)) = &deltas {
            row.per_s = acc[i].1.then(|| acc[i].0 as f64 / secs);
        }
        row.ratio = (ratio[i].1 > 0).then(|| ratio[i].0 as f64 / ratio[i].1 as f64);
    }
    rows
}

/// Drops per second per row of `cur.drops` (same order), None without a comparable previous
/// snapshot.
pub fn drop_rates(prev: Option<&Snapshot>, cur: &Snapshot) -> Vec<Option<f64>> {
    let Some(secs) = interval_s(prev, cur) else {
        return vec![None; cur.drops.len()];
    };
    let key = |d: &Drop| {
        (
            d.reason,
            d.location.clone(),
            d.netns,
            d.ifindex,
            d.protocol.clone(),
            d.src.clone(),
            d.src_port,
            d.dst.clone(),
            d.dst_port,
        )
    };
    let before: HashMap<_, u64> = prev
        .map(|p| p.drops.iter().map(|d| (key(d), d.count)).collect())
        .unwrap_or_default();
    cur.drops
        .iter()
        .map(|d| {
            let old = before.get(&key(d)).copied().unwrap_or(0);
            d.count.checked_sub(old).map(|n| n as f64 / secs)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(src_port: u16, dst: &str, n: u64, comm: &str) -> Retransmit {
        Retransmit {
            src: "10.0.0.1".into(),
            src_port,
            dst: dst.into(),
            dst_port: 443,
            retransmits: n,
            segments_out: Some(1000),
            kernel_total_retrans: Some(n),
            pid: Some(42),
            comm: Some(comm.into()),
            state: "ESTABLISHED".into(),
            ..Default::default()
        }
    }

    fn snap(ns: u64, r: Vec<Retransmit>) -> Snapshot {
        Snapshot {
            monotonic_ns: ns,
            retransmits: r,
            ..Default::default()
        }
    }

    #[test]
    fn rates_ratio_and_groups() {
        let prev = snap(1_000_000_000, vec![rt(1, "10.0.0.9", 10, "curl")]);
        let cur = snap(
            3_000_000_000,
            vec![rt(1, "10.0.0.9", 50, "curl"), rt(2, "10.0.0.9", 4, "curl")],
        );
        let rows = retransmit_rows(Some(&prev), &cur, RetransGroup::Flow);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].per_s, Some(20.0));
        assert_eq!(rows[1].per_s, Some(2.0), "a new flow counts its total");
        assert_eq!(rows[0].ratio, Some(0.05));
        let by_dst = retransmit_rows(Some(&prev), &cur, RetransGroup::Destination);
        assert_eq!(by_dst.len(), 1);
        assert_eq!(
            (by_dst[0].flows, by_dst[0].retransmits, by_dst[0].per_s),
            (2, 54, Some(22.0))
        );
        assert_eq!(by_dst[0].what, "10.0.0.9:443");
        let by_proc = retransmit_rows(Some(&prev), &cur, RetransGroup::Process);
        assert_eq!(by_proc[0].what, "curl (42)");
        // no previous snapshot: no rate
        assert_eq!(
            retransmit_rows(None, &cur, RetransGroup::Flow)[0].per_s,
            None
        );
        // counter went backwards (map re-created): no rate
        let back = snap(4_000_000_000, vec![rt(1, "10.0.0.9", 3, "curl")]);
        assert_eq!(
            retransmit_rows(Some(&cur), &back, RetransGroup::Flow)[0].per_s,
            None
        );
        assert_eq!(RetransGroup::Process.next(), RetransGroup::Flow);
    }

    #[test]
    fn drop_rates_from_deltas() {
        let d = |n| Drop {
            reason: 3,
            count: n,
            ..Default::default()
        };
        let prev = Snapshot {
            monotonic_ns: 0,
            drops: vec![d(5)],
            ..Default::default()
        };
        let mut cur = prev.clone();
        cur.monotonic_ns = 2_000_000_000;
        cur.drops = vec![d(25)];
        assert_eq!(drop_rates(Some(&prev), &cur), vec![Some(10.0)]);
        assert_eq!(drop_rates(None, &cur), vec![None]);
    }
}
