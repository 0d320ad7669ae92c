//! One row per node of a bundle: what the Cluster pane shows. Pure: no I/O.

use super::bundle::Bundle;
use super::Snapshot;
use std::collections::{BTreeMap, BTreeSet};

/// Drop reasons shown per node.
pub const TOP_DROPS: usize = 2;

#[derive(Debug, Clone, PartialEq)]
pub struct TopDrop {
    pub reason: String,
    pub count: u64,
    /// count ÷ the bundle's counting window, when known.
    pub per_sec: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeRow {
    pub node: String,
    /// `ok`, `timeout`, `failed`, `no-pod`, `unreadable`.
    pub status: String,
    pub reason: String,
    pub taken_at: String,
    /// Cilium layout, `-` without Cilium.
    pub layout: String,
    /// Programs other than dpscope's own.
    pub programs: usize,
    /// Hooks with more than one program, and attachments that look stale.
    pub stacked: usize,
    pub stale: usize,
    pub top_drops: Vec<TopDrop>,
    pub drops: u64,
    pub retransmits: u64,
    pub denials: u64,
    /// CT entries (the maps' total when the read stopped at the cap).
    pub ct_entries: u64,
    /// The fullest hash-like map: (name, entries ÷ max).
    pub map_pressure: Option<(String, f64)>,
}

impl NodeRow {
    pub fn ok(&self) -> bool {
        self.status == "ok"
    }
}

/// The row of one node's snapshot; `window_s` turns drop counts into rates.
pub fn row(node: &str, s: &Snapshot, window_s: Option<f64>) -> NodeRow {
    let owned: BTreeSet<u32> = s
        .programs
        .iter()
        .filter(|p| p.dpscope_owned)
        .map(|p| p.id)
        .collect();
    let stacked: BTreeSet<(u32, &str)> = s
        .attachments
        .iter()
        .filter(|a| a.warnings.iter().any(|w| w.starts_with("stacked")))
        .map(|a| (a.ifindex, a.hook.as_str()))
        .collect();
    let mut by_reason: BTreeMap<String, u64> = BTreeMap::new();
    for d in &s.drops {
        let r = if d.reason_name.is_empty() {
            d.reason.to_string()
        } else {
            d.reason_name.clone()
        };
        *by_reason.entry(r).or_default() += d.count;
    }
    let mut top: Vec<(String, u64)> = by_reason.into_iter().filter(|(_, c)| *c > 0).collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let drops = top.iter().map(|(_, c)| c).sum();
    top.truncate(TOP_DROPS);
    let map_pressure = s
        .maps
        .iter()
        .filter(|m| !m.dpscope_owned)
        .filter_map(|m| m.pressure().map(|p| (m, p)))
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.name.cmp(&a.0.name)))
        .map(|(m, p)| (m.name.clone(), p));
    NodeRow {
        node: node.to_string(),
        status: "ok".into(),
        reason: String::new(),
        taken_at: s.taken_at.clone(),
        layout: s
            .cilium
            .as_ref()
            .map(|c| c.layout.clone())
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| "-".into()),
        programs: s.programs.iter().filter(|p| !owned.contains(&p.id)).count(),
        stacked: stacked.len(),
        stale: s.attachments.iter().filter(|a| a.likely_stale).count(),
        top_drops: top
            .into_iter()
            .map(|(reason, count)| TopDrop {
                reason,
                count,
                per_sec: window_s.map(|w| count as f64 / w),
            })
            .collect(),
        drops,
        retransmits: s.retransmits.iter().map(|r| r.retransmits).sum(),
        denials: s.denials.iter().map(|d| d.count).sum(),
        ct_entries: s
            .cilium
            .as_ref()
            .and_then(|c| c.ct_total)
            .unwrap_or(s.conntrack.len() as u64),
        map_pressure,
    }
}

/// Every node of a bundle, in its order; nodes without a snapshot keep their reason.
pub fn rows(b: &Bundle) -> Vec<NodeRow> {
    b.nodes
        .iter()
        .map(|n| match &n.snapshot {
            Some(s) => row(&n.name, s, b.window_s()),
            None => NodeRow {
                node: n.name.clone(),
                status: n.status.clone(),
                reason: n.reason.clone(),
                ..Default::default()
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attachment, CiliumInfo, Drop, MapInfo, Program};

    #[test]
    fn a_row_counts_what_the_pane_shows() {
        let mut s = Snapshot::empty();
        s.taken_at = "2026-11-21T10:00:00Z".into();
        s.cilium = Some(CiliumInfo {
            layout: "1.18".into(),
            ct_total: Some(700_000),
            ..Default::default()
        });
        s.programs = vec![
            Program {
                id: 1,
                ..Default::default()
            },
            Program {
                id: 2,
                dpscope_owned: true,
                ..Default::default()
            },
        ];
        let stacked = |ifindex, pos| Attachment {
            ifindex,
            hook: "tc_ingress".into(),
            position: pos,
            warnings: vec!["stacked: 2 programs on tc ingress".into()],
            likely_stale: pos == 1,
            ..Default::default()
        };
        s.attachments = vec![stacked(2, 0), stacked(2, 1)];
        for (r, c) in [
            ("NETFILTER_DROP", 30),
            ("NO_SOCKET", 10),
            ("NETFILTER_DROP", 10),
            ("OTHER", 2),
        ] {
            s.drops.push(Drop {
                reason_name: r.into(),
                count: c,
                ..Default::default()
            });
        }
        s.maps = vec![
            MapInfo {
                name: "a".into(),
                map_type: "hash".into(),
                entries: Some(50),
                max_entries: 100,
                ..Default::default()
            },
            MapInfo {
                name: "b".into(),
                map_type: "lru_hash".into(),
                entries: Some(90),
                max_entries: 100,
                ..Default::default()
            },
            MapInfo {
                name: "arr".into(),
                map_type: "array".into(),
                entries: Some(100),
                max_entries: 100,
                ..Default::default()
            },
        ];
        let r = row("node-1", &s, Some(2.0));
        assert_eq!((r.programs, r.stacked, r.stale), (1, 1, 1));
        assert_eq!(r.drops, 52);
        assert_eq!(
            r.top_drops,
            [
                TopDrop {
                    reason: "NETFILTER_DROP".into(),
                    count: 40,
                    per_sec: Some(20.0)
                },
                TopDrop {
                    reason: "NO_SOCKET".into(),
                    count: 10,
                    per_sec: Some(5.0)
                },
            ]
        );
        assert_eq!(r.ct_entries, 700_000);
        assert_eq!(r.map_pressure, Some(("b".into(), 0.9)));
        assert_eq!(r.layout, "1.18");
        assert_eq!(row("n", &Snapshot::empty(), None).layout, "-");
    }
}
