//! What changed from one snapshot to another, pane by pane. Pure: no I/O.
//!
//! Every pane has a stable identity key per object (the same key the TUI uses to mark rows
//! against a baseline): programs by id + tag + load time (an id the kernel reused is an unload
//! plus a load), attachments by ifindex + hook + program id, maps by id (+ kernel name and type),
//! services by frontend, conntrack flows by table + 5-tuple (+ direction), drops and denials by their key
//! fields. Objects are then added (`+`), removed (`-`) or changed (`~`).

use super::{Attachment, CtEntry, Denial, Drop, MapInfo, PaneId, Program, Service, Snapshot};
use serde::Serialize;
use std::collections::HashMap;

/// Panes `diff` compares, in output order.
pub const DIFF_PANES: &[PaneId] = &[
    PaneId::Programs,
    PaneId::Attachments,
    PaneId::Maps,
    PaneId::Services,
    PaneId::Conntrack,
    PaneId::Drops,
    PaneId::Denials,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

impl ChangeKind {
    /// The one-character marker used in text output and in TUI rows.
    pub fn marker(self) -> char {
        match self {
            ChangeKind::Added => '+',
            ChangeKind::Removed => '-',
            ChangeKind::Changed => '~',
        }
    }
}

/// One object that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub change: ChangeKind,
    /// Stable identity of the object within its pane (see the `*_key` functions).
    pub key: String,
    /// What a human reads: the object named.
    pub label: String,
    /// What changed, for `changed` (`position 0 → 1`, `entries 10 → 12`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaneDiff {
    pub pane: PaneId,
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotDiff {
    /// `taken_at` of the older snapshot (A) and the newer (B).
    pub from: String,
    pub to: String,
    pub panes: Vec<PaneDiff>,
}

impl SnapshotDiff {
    pub fn pane(&self, pane: PaneId) -> Option<&PaneDiff> {
        self.panes.iter().find(|p| p.pane == pane)
    }

    pub fn is_empty(&self) -> bool {
        self.panes.iter().all(|p| p.changes.is_empty())
    }

    /// Index of `(pane, key) → change` for marking rows; only added and changed objects
    /// (removed ones are not on screen).
    pub fn marks(&self) -> HashMap<(PaneId, String), ChangeKind> {
        self.panes
            .iter()
            .flat_map(|p| {
                p.changes
                    .iter()
                    .filter(|c| c.change != ChangeKind::Removed)
                    .map(move |c| ((p.pane, c.key.clone()), c.change))
            })
            .collect()
    }

    /// Human-readable text: one section per pane with `+`/`-`/`~` lines.
    pub fn to_text(&self) -> String {
        // Labels and details hold names, comm and paths from the snapshots: made safe here.
        use crate::sanitize::text as safe;
        let mut out = format!("diff {} → {}\n", safe(&self.from), safe(&self.to));
        for p in &self.panes {
            let (a, r, c) = p
                .changes
                .iter()
                .fold((0, 0, 0), |(a, r, c), ch| match ch.change {
                    ChangeKind::Added => (a + 1, r, c),
                    ChangeKind::Removed => (a, r + 1, c),
                    ChangeKind::Changed => (a, r, c + 1),
                });
            out.push_str(&format!("\n{} (+{a} -{r} ~{c})\n", p.pane));
            if p.changes.is_empty() {
                out.push_str("  (no changes)\n");
            }
            for ch in &p.changes {
                out.push_str(&format!("  {} {}", ch.change.marker(), safe(&ch.label)));
                if let Some(d) = &ch.detail {
                    out.push_str(&format!(": {}", safe(d)));
                }
                out.push('\n');
            }
        }
        out
    }
}

// ---- identity keys (shared with the TUI's baseline marks) ----

pub fn program_key(p: &Program) -> String {
    format!("{}/{}/{}", p.id, p.tag, p.load_time_ns)
}

pub fn attachment_key(a: &Attachment) -> String {
    format!("{}/{}/{}", a.ifindex, a.hook, a.prog_id)
}

pub fn map_key(m: &MapInfo) -> String {
    format!("{}/{}/{}", m.id, m.kernel_name, m.map_type)
}

pub fn service_key(s: &Service) -> String {
    s.frontend.clone()
}

/// Table + 5-tuple, plus the direction: Cilium's CT key carries the direction flags, so an
/// `OUT` and a `SVC` entry of the same tuple are two entries.
pub fn ct_key(c: &CtEntry) -> String {
    format!(
        "{}/{} {} {}:{} -> {}:{}",
        c.table, c.protocol, c.direction, c.src, c.src_port, c.dst, c.dst_port
    )
}

pub fn drop_key(d: &Drop) -> String {
    format!(
        "{}/{}/{}/{}/{} {} {}:{} -> {}:{}",
        d.reason,
        d.location,
        d.netns,
        d.ifindex,
        d.protocol,
        d.reason_name,
        d.src,
        d.src_port,
        d.dst,
        d.dst_port
    )
}

pub fn denial_key(d: &Denial) -> String {
    format!(
        "{}/{}/{}/{}/{}/{}",
        d.hook, d.pid, d.comm, d.target, d.errno, d.source
    )
}

// ---- the diff ----

pub fn diff(a: &Snapshot, b: &Snapshot) -> SnapshotDiff {
    SnapshotDiff {
        from: a.taken_at.clone(),
        to: b.taken_at.clone(),
        panes: vec![
            PaneDiff {
                pane: PaneId::Programs,
                changes: diff_programs(&a.programs, &b.programs),
            },
            PaneDiff {
                pane: PaneId::Attachments,
                changes: diff_attachments(&a.attachments, &b.attachments),
            },
            PaneDiff {
                pane: PaneId::Maps,
                changes: diff_maps(&a.maps, &b.maps),
            },
            PaneDiff {
                pane: PaneId::Services,
                changes: diff_services(&a.services, &b.services),
            },
            PaneDiff {
                pane: PaneId::Conntrack,
                changes: diff_conntrack(&a.conntrack, &b.conntrack),
            },
            PaneDiff {
                pane: PaneId::Drops,
                changes: diff_drops(&a.drops, &b.drops),
            },
            PaneDiff {
                pane: PaneId::Denials,
                changes: diff_denials(&a.denials, &b.denials),
            },
        ],
    }
}

/// What `diff(s, s)` returns, without comparing: a snapshot has no changes against itself
/// (setting the baseline, `d`, must not cost a full comparison on the UI task).
pub fn unchanged(s: &Snapshot) -> SnapshotDiff {
    SnapshotDiff {
        from: s.taken_at.clone(),
        to: s.taken_at.clone(),
        panes: DIFF_PANES
            .iter()
            .map(|&pane| PaneDiff {
                pane,
                changes: Vec::new(),
            })
            .collect(),
    }
}

/// Generic keyed diff: removed (in A only), added (in B only), changed (in both, `changed`
/// says how). Output order: removed, added, changed; each by key.
fn keyed<T>(
    a: &[T],
    b: &[T],
    key: fn(&T) -> String,
    label: fn(&T) -> String,
    changed: impl Fn(&T, &T) -> Option<String>,
) -> Vec<Change> {
    // Hash maps, sorted output: a 500k-entry conntrack table is diffed on every refresh while
    // a baseline is set.
    let ia: HashMap<String, &T> = a.iter().map(|x| (key(x), x)).collect();
    let ib: HashMap<String, &T> = b.iter().map(|x| (key(x), x)).collect();
    let mut removed: Vec<(&String, &T)> = ia
        .iter()
        .filter(|(k, _)| !ib.contains_key(*k))
        .map(|(k, x)| (k, *x))
        .collect();
    let mut added: Vec<(&String, &T)> = Vec::new();
    let mut changes: Vec<(&String, &T, String)> = Vec::new();
    for (k, y) in &ib {
        match ia.get(k) {
            None => added.push((k, *y)),
            Some(x) => {
                if let Some(d) = changed(x, y) {
                    changes.push((k, *y, d));
                }
            }
        }
    }
    removed.sort_unstable_by(|p, q| p.0.cmp(q.0));
    added.sort_unstable_by(|p, q| p.0.cmp(q.0));
    changes.sort_unstable_by(|p, q| p.0.cmp(q.0));
    let plain = |kind: ChangeKind| {
        move |(k, x): (&String, &T)| Change {
            change: kind,
            key: k.clone(),
            label: label(x),
            detail: None,
        }
    };
    let mut out: Vec<Change> = removed
        .into_iter()
        .map(plain(ChangeKind::Removed))
        .collect();
    out.extend(added.into_iter().map(plain(ChangeKind::Added)));
    out.extend(changes.into_iter().map(|(k, y, d)| Change {
        change: ChangeKind::Changed,
        key: k.clone(),
        label: label(y),
        detail: Some(d),
    }));
    out
}

fn prog_label(p: &Program) -> String {
    let when = p.load_time.as_deref().unwrap_or("?");
    format!(
        "prog {} {} {} tag {} loaded {when}",
        p.id, p.prog_type, p.name, p.tag
    )
}

/// dpscope's own programs and maps are not changes on the node: each dpscope process has its
/// own iterators, and a load leaves its loader's maps behind for a moment.
fn not_own<T>(xs: &[T], own: fn(&T) -> bool) -> Vec<&T> {
    xs.iter().filter(|x| !own(x)).collect()
}

pub fn diff_programs(a: &[Program], b: &[Program]) -> Vec<Change> {
    let own = |p: &Program| p.dpscope_owned;
    keyed(
        &not_own(a, own),
        &not_own(b, own),
        |p| program_key(p),
        |p| prog_label(p),
        |_, _| None,
    )
}

fn attach_label(a: &Attachment) -> String {
    format!(
        "{} (ifindex {}) {} prog {} {}",
        a.ifname, a.ifindex, a.hook, a.prog_id, a.prog_name
    )
}

pub fn diff_attachments(a: &[Attachment], b: &[Attachment]) -> Vec<Change> {
    keyed(a, b, attachment_key, attach_label, |x, y| {
        (x.position != y.position).then(|| format!("position {} → {}", x.position, y.position))
    })
}

fn map_label(m: &MapInfo) -> String {
    format!("map {} {} {}", m.id, m.map_type, m.name)
}

fn count(e: Option<u64>) -> String {
    e.map_or_else(|| "-".to_string(), |n| n.to_string())
}

/// A map some dpscope process loaded for a moment: named `dpscope…` by dpscope's loader (its
/// data map, the symbolizer's maps, `dpscope.rodata`), and held by no program, process or
/// pin. A sleepable loader's maps outlive its process by a grace period, so another dpscope's
/// `show` can leave them in one snapshot of a recording and not the next. A map with no
/// holder at all is being freed anyway; hiding one from a diff hides nothing that lasts.
fn transient_dpscope(m: &MapInfo) -> bool {
    m.kernel_name.starts_with("dpscope")
        && m.prog_ids.is_empty()
        && m.pids.is_empty()
        && m.pinned.is_empty()
}

pub fn diff_maps(a: &[MapInfo], b: &[MapInfo]) -> Vec<Change> {
    let own = |m: &MapInfo| m.dpscope_owned || transient_dpscope(m);
    keyed(
        &not_own(a, own),
        &not_own(b, own),
        |m| map_key(m),
        |m| map_label(m),
        |x, y| {
            (x.entries != y.entries)
                .then(|| format!("entries {} → {}", count(x.entries), count(y.entries)))
        },
    )
}

fn svc_label(s: &Service) -> String {
    format!("service {} {}", s.frontend, s.svc_type)
}

fn backend_set(s: &Service) -> Vec<String> {
    let mut v: Vec<String> = s
        .backends
        .iter()
        .map(|b| {
            format!(
                "{}:{} ({})",
                b.address.as_deref().unwrap_or("?"),
                b.port.map_or_else(|| "?".to_string(), |p| p.to_string()),
                b.state
            )
        })
        .collect();
    v.sort();
    v
}

pub fn diff_services(a: &[Service], b: &[Service]) -> Vec<Change> {
    keyed(a, b, service_key, svc_label, |x, y| {
        let (bx, by) = (backend_set(x), backend_set(y));
        if bx == by {
            return None;
        }
        let gone: Vec<&str> = bx
            .iter()
            .filter(|v| !by.contains(v))
            .map(String::as_str)
            .collect();
        let new: Vec<&str> = by
            .iter()
            .filter(|v| !bx.contains(v))
            .map(String::as_str)
            .collect();
        let mut parts = Vec::new();
        if !new.is_empty() {
            parts.push(format!("backends +{}", new.join(" +")));
        }
        if !gone.is_empty() {
            parts.push(format!("backends -{}", gone.join(" -")));
        }
        Some(parts.join(", "))
    })
}

fn ct_label(c: &CtEntry) -> String {
    format!(
        "{} {} {} {}:{} → {}:{}",
        c.table, c.protocol, c.direction, c.src, c.src_port, c.dst, c.dst_port
    )
}

pub fn diff_conntrack(a: &[CtEntry], b: &[CtEntry]) -> Vec<Change> {
    keyed(a, b, ct_key, ct_label, |_, _| None)
}

fn drop_label(d: &Drop) -> String {
    let dev = if d.ifname.is_empty() {
        format!("ifindex {}", d.ifindex)
    } else {
        d.ifname.clone()
    };
    format!(
        "drop {} at {} on {dev} {} {}:{} → {}:{}",
        d.reason_name, d.location, d.protocol, d.src, d.src_port, d.dst, d.dst_port
    )
}

pub fn diff_drops(a: &[Drop], b: &[Drop]) -> Vec<Change> {
    keyed(a, b, drop_key, drop_label, |x, y| {
        (y.count > x.count).then(|| format!("count {} → {}", x.count, y.count))
    })
}

fn denial_label(d: &Denial) -> String {
    format!(
        "denial {} {} (pid {}) {} errno {} via {}",
        d.hook, d.comm, d.pid, d.target, d.errno, d.source
    )
}

pub fn diff_denials(a: &[Denial], b: &[Denial]) -> Vec<Change> {
    keyed(a, b, denial_key, denial_label, |x, y| {
        (y.count > x.count).then(|| format!("count {} → {}", x.count, y.count))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ServiceBackend;

    fn kinds(c: &[Change]) -> Vec<(ChangeKind, String)> {
        c.iter().map(|c| (c.change, c.key.clone())).collect()
    }

    fn prog(id: u32, tag: &str, load: u64) -> Program {
        Program {
            id,
            name: format!("p{id}"),
            tag: tag.into(),
            load_time_ns: load,
            prog_type: "xdp".into(),
            ..Default::default()
        }
    }

    #[test]
    fn dpscope_own_objects_are_not_changes() {
        let mut own = MapInfo {
            id: 7,
            name: "dpscope_loader".into(),
            dpscope_owned: true,
            ..Default::default()
        };
        assert!(diff_maps(std::slice::from_ref(&own), &[]).is_empty());
        own.dpscope_owned = false;
        assert_eq!(diff_maps(std::slice::from_ref(&own), &[]).len(), 1);
        let p = Program {
            id: 9,
            dpscope_owned: true,
            ..Default::default()
        };
        assert!(diff_programs(&[], std::slice::from_ref(&p)).is_empty());
        // Another dpscope's loader map, held by nothing: not a change. Held by a program
        // or a process (or named otherwise), it is one.
        let mut other = MapInfo {
            id: 8,
            name: "dpscope_loader".into(),
            kernel_name: "dpscope_loader".into(),
            ..Default::default()
        };
        assert!(diff_maps(std::slice::from_ref(&other), &[]).is_empty());
        other.prog_ids = vec![3];
        assert_eq!(diff_maps(std::slice::from_ref(&other), &[]).len(), 1);
        other.prog_ids.clear();
        other.pids = vec![crate::model::ProcRef::default()];
        assert_eq!(diff_maps(std::slice::from_ref(&other), &[]).len(), 1);
        other.pids.clear();
        other.kernel_name = "loader".into();
        assert_eq!(diff_maps(std::slice::from_ref(&other), &[]).len(), 1);
    }

    #[test]
    fn programs_loaded_unloaded_and_id_reuse() {
        let a = vec![prog(1, "aa", 10), prog(2, "bb", 20)];
        let b = vec![prog(1, "aa", 10), prog(2, "cc", 30), prog(3, "dd", 40)];
        let d = diff_programs(&a, &b);
        assert_eq!(
            kinds(&d),
            vec![
                (ChangeKind::Removed, "2/bb/20".into()),
                (ChangeKind::Added, "2/cc/30".into()),
                (ChangeKind::Added, "3/dd/40".into()),
            ]
        );
        assert!(d[1].label.contains("prog 2") && d[1].label.contains("tag cc"));
        // Counters moving alone is no change.
        let mut c = b.clone();
        c[0].run_cnt = 99;
        assert!(diff_programs(&b, &c).is_empty());
    }

    fn att(ifindex: u32, hook: &str, prog_id: u32, position: u32) -> Attachment {
        Attachment {
            ifindex,
            ifname: format!("eth{ifindex}"),
            hook: hook.into(),
            prog_id,
            position,
            ..Default::default()
        }
    }

    #[test]
    fn attachments_added_removed_reordered() {
        let a = vec![att(2, "tcx_ingress", 10, 0), att(2, "tcx_ingress", 11, 1)];
        let b = vec![
            att(2, "tcx_ingress", 11, 0),
            att(2, "tcx_ingress", 12, 1),
            att(3, "xdp", 10, 0),
        ];
        let d = diff_attachments(&a, &b);
        assert_eq!(
            kinds(&d),
            vec![
                (ChangeKind::Removed, "2/tcx_ingress/10".into()),
                (ChangeKind::Added, "2/tcx_ingress/12".into()),
                (ChangeKind::Added, "3/xdp/10".into()),
                (ChangeKind::Changed, "2/tcx_ingress/11".into()),
            ]
        );
        assert_eq!(d[3].detail.as_deref(), Some("position 1 → 0"));
    }

    fn map(id: u32, entries: Option<u64>) -> MapInfo {
        MapInfo {
            id,
            name: format!("m{id}"),
            kernel_name: format!("m{id}"),
            map_type: "hash".into(),
            entries,
            ..Default::default()
        }
    }

    #[test]
    fn maps_added_removed_and_entry_counts() {
        let a = vec![map(1, Some(10)), map(2, Some(5)), map(3, None)];
        let b = vec![map(1, Some(12)), map(3, None), map(4, Some(0))];
        let d = diff_maps(&a, &b);
        assert_eq!(
            kinds(&d),
            vec![
                (ChangeKind::Removed, "2/m2/hash".into()),
                (ChangeKind::Added, "4/m4/hash".into()),
                (ChangeKind::Changed, "1/m1/hash".into()),
            ]
        );
        assert_eq!(d[2].detail.as_deref(), Some("entries 10 → 12"));
    }

    fn svc(fe: &str, backends: &[(&str, &str)]) -> Service {
        Service {
            frontend: fe.into(),
            svc_type: "ClusterIP".into(),
            backends: backends
                .iter()
                .enumerate()
                .map(|(i, (addr, state))| ServiceBackend {
                    slot: i as u16 + 1,
                    address: Some(addr.to_string()),
                    port: Some(80),
                    state: state.to_string(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn services_whose_backends_changed() {
        let a = vec![
            svc("10.0.0.1:80/TCP", &[("10.1.0.1", "active")]),
            svc("10.0.0.2:80/TCP", &[("10.1.0.2", "active")]),
            svc("10.0.0.3:80/TCP", &[]),
        ];
        let b = vec![
            svc(
                "10.0.0.1:80/TCP",
                &[("10.1.0.1", "terminating"), ("10.1.0.9", "active")],
            ),
            svc("10.0.0.2:80/TCP", &[("10.1.0.2", "active")]),
            svc("10.0.0.4:80/TCP", &[]),
        ];
        let d = diff_services(&a, &b);
        assert_eq!(
            kinds(&d),
            vec![
                (ChangeKind::Removed, "10.0.0.3:80/TCP".into()),
                (ChangeKind::Added, "10.0.0.4:80/TCP".into()),
                (ChangeKind::Changed, "10.0.0.1:80/TCP".into()),
            ]
        );
        let detail = d[2].detail.as_deref().unwrap_or_default();
        assert!(detail.contains("+10.1.0.9:80 (active)"), "{detail}");
        assert!(detail.contains("-10.1.0.1:80 (active)"), "{detail}");
    }

    fn ct(src_port: u16, packets: u64) -> CtEntry {
        CtEntry {
            table: "ct4_global".into(),
            protocol: "TCP".into(),
            direction: "OUT".into(),
            src: "10.0.0.1".into(),
            src_port,
            dst: "10.0.0.2".into(),
            dst_port: 80,
            packets: Some(packets),
            ..Default::default()
        }
    }

    #[test]
    fn conntrack_new_and_gone_flows() {
        let a = vec![ct(1000, 1), ct(1001, 1)];
        let b = vec![ct(1001, 50), ct(1002, 1)];
        let d = diff_conntrack(&a, &b);
        assert_eq!(
            kinds(&d),
            vec![
                (
                    ChangeKind::Removed,
                    "ct4_global/TCP OUT 10.0.0.1:1000 -> 10.0.0.2:80".into()
                ),
                (
                    ChangeKind::Added,
                    "ct4_global/TCP OUT 10.0.0.1:1002 -> 10.0.0.2:80".into()
                ),
            ]
        );
    }

    #[test]
    fn drops_new_and_growing() {
        let base = Drop {
            reason: 2,
            reason_name: "NOT_SPECIFIED".into(),
            location: "tcp_v4_rcv".into(),
            protocol: "TCP".into(),
            src: "10.0.0.1".into(),
            dst: "10.0.0.2".into(),
            count: 3,
            ..Default::default()
        };
        let other = Drop {
            reason: 5,
            reason_name: "NETFILTER_DROP".into(),
            ..base.clone()
        };
        let grown = Drop {
            count: 7,
            ..base.clone()
        };
        let d = diff_drops(std::slice::from_ref(&base), &[grown, other.clone()]);
        assert_eq!(
            kinds(&d),
            vec![
                (ChangeKind::Added, drop_key(&other)),
                (ChangeKind::Changed, drop_key(&base)),
            ]
        );
        assert_eq!(d[1].detail.as_deref(), Some("count 3 → 7"));
    }

    #[test]
    fn denials_new_and_growing() {
        let a = Denial {
            hook: "file_open".into(),
            pid: 10,
            comm: "cat".into(),
            target: "/etc/shadow".into(),
            errno: -13,
            source: "syscall_exit".into(),
            count: 1,
            ..Default::default()
        };
        let b = Denial {
            pid: 11,
            ..a.clone()
        };
        let d = diff_denials(std::slice::from_ref(&a), &[a.clone(), b.clone()]);
        assert_eq!(kinds(&d), vec![(ChangeKind::Added, denial_key(&b))]);
        assert!(d[0].label.contains("/etc/shadow"));
    }

    #[test]
    fn a_snapshot_against_itself_is_unchanged() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        for f in ["rich.json", "cilium.json", "denials.json", "probes.json"] {
            let s = crate::model::io::load(&path.join(f))
                .unwrap()
                .snapshots
                .remove(0);
            assert_eq!(diff(&s, &s), unchanged(&s), "{f}");
        }
    }

    #[test]
    fn whole_snapshot_text_and_json() {
        let mut a = Snapshot::empty();
        a.taken_at = "T1".into();
        a.programs = vec![prog(1, "aa", 1)];
        let mut b = a.clone();
        b.taken_at = "T2".into();
        b.programs.push(prog(2, "bb", 2));
        let d = diff(&a, &b);
        assert!(!d.is_empty());
        assert!(diff(&a, &a).is_empty());
        let text = d.to_text();
        assert!(text.starts_with("diff T1 → T2\n"), "{text}");
        assert!(text.contains("programs (+1 -0 ~0)\n  + prog 2 xdp p2 tag bb"));
        assert!(text.contains("maps (+0 -0 ~0)\n  (no changes)"));
        let v = serde_json::to_value(&d).unwrap_or_default();
        assert_eq!(v["panes"][0]["pane"], "programs");
        assert_eq!(v["panes"][0]["changes"][0]["change"], "added");
        assert_eq!(v["panes"][0]["changes"][0]["key"], "2/bb/2");
        let marks = d.marks();
        assert_eq!(
            marks.get(&(PaneId::Programs, "2/bb/2".to_string())),
            Some(&ChangeKind::Added)
        );
    }
}
