//! Pure flagging of attachment rows: stacked programs on one direction of one interface,
//! likely-stale leftovers, and per-row notes (tc without direct-action, generic XDP).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::model::{Attachment, Program};

/// Two programs on one hook whose load times differ by more than this, loaded by different
/// loaders, make the older one a stale suspect.
pub const STALE_LOAD_GAP_NS: u64 = 10 * 60 * 1_000_000_000;

/// What stacking analysis needs to know about a program.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgMeta {
    pub name: String,
    /// CLOCK_BOOTTIME ns; 0 = unknown.
    pub load_time_ns: u64,
    /// Who loaded it, as far as can be told (comms holding it open, else uid).
    pub loader: String,
}

impl ProgMeta {
    pub fn from_program(p: &Program) -> Self {
        let comms: BTreeSet<&str> = p.pids.iter().map(|r| r.comm.as_str()).collect();
        let loader = if comms.is_empty() {
            format!("uid {} (no process holds it)", p.uid)
        } else {
            comms.into_iter().collect::<Vec<_>>().join(",")
        };
        let name = if p.name.is_empty() {
            p.kernel_name.clone()
        } else {
            p.name.clone()
        };
        ProgMeta {
            name,
            load_time_ns: p.load_time_ns,
            loader,
        }
    }
}

/// The direction a hook belongs to: programs of one direction of one interface all see the
/// same packets, in order (tcx before legacy tc).
pub fn direction(hook: &str) -> &str {
    match hook {
        "tc_ingress" | "tcx_ingress" => "ingress",
        "tc_egress" | "tcx_egress" => "egress",
        "netkit_primary" => "netkit primary",
        "netkit_peer" => "netkit peer",
        other => other,
    }
}

/// Run order of hook families within one direction (tcx runs before legacy tc).
pub fn hook_rank(hook: &str) -> u8 {
    match hook {
        "xdp" => 0,
        "tcx_ingress" => 1,
        "tc_ingress" => 2,
        "tcx_egress" => 3,
        "tc_egress" => 4,
        "netkit_primary" => 5,
        "netkit_peer" => 6,
        _ => 7,
    }
}

fn hook_human(hook: &str) -> String {
    hook.replace('_', " ")
}

/// Short human duration: `45s`, `12m`, `3h05m`, `2d04h`.
pub fn human_duration(ns: u64) -> String {
    let s = ns / 1_000_000_000;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// Notes that depend on one row only.
pub fn annotate_row(row: &mut Attachment) {
    if row.hook.starts_with("tc_") && row.direct_action == Some(false) {
        row.warnings.push(
            "no direct-action (da): the verdict comes from tc actions, not the program".into(),
        );
    }
    if row.hook == "xdp" && row.mode.as_deref() == Some("skb") {
        row.warnings
            .push("generic XDP (skb mode), slower than native drv mode".into());
    }
}

/// Flag stacked and likely-stale programs. Rows are grouped by (ifindex, direction); `meta`
/// gives names, load times and loaders by program id (programs missing from it are only
/// counted, never called stale).
pub fn flag_stacking(rows: &mut [Attachment], meta: &HashMap<u32, ProgMeta>) {
    let mut groups: BTreeMap<(u32, String), Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        groups
            .entry((r.ifindex, direction(&r.hook).to_string()))
            .or_default()
            .push(i);
    }
    for ((_, dir), idx) in groups {
        if idx.len() < 2 {
            continue;
        }
        let msg = stacked_message(rows, &idx, &dir);
        for &i in &idx {
            rows[i].warnings.push(msg.clone());
        }
        flag_stale(rows, &idx, &dir, meta);
    }
}

fn stacked_message(rows: &[Attachment], idx: &[usize], dir: &str) -> String {
    let mut per_hook: BTreeMap<(u8, &str), usize> = BTreeMap::new();
    for &i in idx {
        *per_hook
            .entry((hook_rank(&rows[i].hook), rows[i].hook.as_str()))
            .or_default() += 1;
    }
    let n = idx.len();
    if per_hook.len() == 1 {
        let hook = per_hook.keys().next().map(|k| k.1).unwrap_or(dir);
        if hook == "xdp" {
            let modes: Vec<&str> = idx
                .iter()
                .filter_map(|&i| rows[i].mode.as_deref())
                .collect();
            return format!("stacked: {n} programs on xdp ({})", modes.join(", "));
        }
        return format!("stacked: {n} programs on {}", hook_human(hook));
    }
    let parts: Vec<String> = per_hook
        .iter()
        .map(|((_, hook), c)| format!("{c} {}", hook.split('_').next().unwrap_or(hook)))
        .collect();
    format!("stacked: {n} programs on {dir} ({})", parts.join(", then "))
}

fn flag_stale(rows: &mut [Attachment], idx: &[usize], dir: &str, meta: &HashMap<u32, ProgMeta>) {
    let ids: BTreeSet<u32> = idx.iter().map(|&i| rows[i].prog_id).collect();
    if ids.len() < 2 {
        return;
    }
    let known: Vec<(u32, &ProgMeta)> = ids
        .iter()
        .filter_map(|id| meta.get(id).map(|m| (*id, m)))
        .filter(|(_, m)| m.load_time_ns > 0)
        .collect();
    let mut stale: BTreeMap<u32, String> = BTreeMap::new();
    // Rule 1: an older program with the same name as a newer one on the same direction.
    for (id, m) in &known {
        if m.name.is_empty() {
            continue;
        }
        let newer = known
            .iter()
            .filter(|(o, om)| o != id && om.name == m.name && om.load_time_ns > m.load_time_ns)
            .max_by_key(|(_, om)| om.load_time_ns);
        if let Some((o, om)) = newer {
            stale.insert(
                *id,
                format!(
                    "likely stale: same name as prog {o} on {dir}, loaded {} earlier",
                    human_duration(om.load_time_ns - m.load_time_ns)
                ),
            );
        }
    }
    // Rule 2: the oldest program, much older than the newest and from another loader.
    if stale.is_empty() {
        let oldest = known.iter().min_by_key(|(_, m)| m.load_time_ns);
        let newest = known.iter().max_by_key(|(_, m)| m.load_time_ns);
        if let (Some((oid, om)), Some((nid, nm))) = (oldest, newest) {
            let gap = nm.load_time_ns - om.load_time_ns;
            let loaders: BTreeSet<&str> = known.iter().map(|(_, m)| m.loader.as_str()).collect();
            if gap > STALE_LOAD_GAP_NS && loaders.len() > 1 {
                stale.insert(
                    *oid,
                    format!(
                        "likely stale: oldest on {dir}, loaded {} before prog {nid} by another loader ({} vs {})",
                        human_duration(gap),
                        om.loader,
                        nm.loader
                    ),
                );
            }
        }
    }
    for &i in idx {
        if let Some(msg) = stale.get(&rows[i].prog_id) {
            rows[i].likely_stale = true;
            rows[i].warnings.push(msg.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60 * 1_000_000_000;

    fn row(ifindex: u32, hook: &str, prog_id: u32, pos: u32) -> Attachment {
        Attachment {
            ifindex,
            ifname: format!("eth{ifindex}"),
            hook: hook.into(),
            prog_id,
            position: pos,
            ..Default::default()
        }
    }

    fn meta(entries: &[(u32, &str, u64, &str)]) -> HashMap<u32, ProgMeta> {
        entries
            .iter()
            .map(|(id, name, t, loader)| {
                (
                    *id,
                    ProgMeta {
                        name: name.to_string(),
                        load_time_ns: *t,
                        loader: loader.to_string(),
                    },
                )
            })
            .collect()
    }

    #[test]
    fn single_program_is_not_flagged() {
        let mut rows = vec![row(2, "tc_ingress", 10, 0), row(2, "tc_egress", 11, 0)];
        flag_stacking(
            &mut rows,
            &meta(&[(10, "a", MIN, "x"), (11, "b", 90 * MIN, "y")]),
        );
        assert!(rows
            .iter()
            .all(|r| r.warnings.is_empty() && !r.likely_stale));
    }

    #[test]
    fn stacked_tc_only() {
        let mut rows = vec![row(2, "tc_ingress", 10, 0), row(2, "tc_ingress", 11, 1)];
        flag_stacking(
            &mut rows,
            &meta(&[(10, "a", MIN, "x"), (11, "b", MIN, "x")]),
        );
        for r in &rows {
            assert_eq!(
                r.warnings,
                vec!["stacked: 2 programs on tc ingress".to_string()]
            );
            assert!(!r.likely_stale);
        }
    }

    #[test]
    fn tc_and_tcx_share_a_direction() {
        let mut rows = vec![
            row(2, "tcx_ingress", 12, 0),
            row(2, "tc_ingress", 10, 0),
            row(2, "tc_ingress", 11, 1),
            row(3, "tc_ingress", 13, 0),
        ];
        flag_stacking(&mut rows, &HashMap::new());
        for r in &rows[..3] {
            assert_eq!(
                r.warnings,
                vec!["stacked: 3 programs on ingress (1 tcx, then 2 tc)".to_string()]
            );
        }
        assert!(rows[3].warnings.is_empty());
    }

    #[test]
    fn same_name_older_is_stale() {
        let mut rows = vec![row(2, "tc_ingress", 10, 0), row(2, "tcx_ingress", 20, 0)];
        let m = meta(&[
            (10, "cil_from_netdev", MIN, "cilium-agent"),
            (20, "cil_from_netdev", 3 * 60 * MIN, "cilium-agent"),
        ]);
        flag_stacking(&mut rows, &m);
        assert!(rows[0].likely_stale);
        assert!(!rows[1].likely_stale);
        assert!(rows[0]
            .warnings
            .iter()
            .any(|w| w == "likely stale: same name as prog 20 on ingress, loaded 2h59m earlier"));
    }

    #[test]
    fn old_program_from_other_loader_is_stale() {
        let mut rows = vec![row(2, "tc_ingress", 10, 0), row(2, "tc_ingress", 11, 1)];
        let m = meta(&[(10, "old_fw", MIN, "tc"), (11, "new_fw", 30 * MIN, "agent")]);
        flag_stacking(&mut rows, &m);
        assert!(rows[0].likely_stale);
        assert!(!rows[1].likely_stale);
        assert!(rows[0].warnings.iter().any(|w| w.starts_with(
            "likely stale: oldest on ingress, loaded 29m before prog 11 by another loader (tc vs agent)"
        )));
    }

    #[test]
    fn close_load_times_or_same_loader_are_not_stale() {
        let mut rows = vec![row(2, "tc_ingress", 10, 0), row(2, "tc_ingress", 11, 1)];
        flag_stacking(
            &mut rows,
            &meta(&[(10, "a", MIN, "tc"), (11, "b", 2 * MIN, "agent")]),
        );
        assert!(rows.iter().all(|r| !r.likely_stale));
        let mut rows = vec![row(2, "tc_ingress", 10, 0), row(2, "tc_ingress", 11, 1)];
        flag_stacking(
            &mut rows,
            &meta(&[(10, "a", MIN, "tc"), (11, "b", 600 * MIN, "tc")]),
        );
        assert!(rows.iter().all(|r| !r.likely_stale));
    }

    #[test]
    fn same_program_twice_is_stacked_not_stale() {
        let mut rows = vec![row(2, "tc_egress", 10, 0), row(2, "tc_egress", 10, 1)];
        flag_stacking(&mut rows, &meta(&[(10, "a", MIN, "tc")]));
        assert!(rows
            .iter()
            .all(|r| !r.likely_stale && r.warnings.len() == 1));
    }

    #[test]
    fn xdp_modes_and_row_notes() {
        let mut rows = vec![row(2, "xdp", 10, 0), row(2, "xdp", 11, 0)];
        rows[0].mode = Some("drv".into());
        rows[1].mode = Some("skb".into());
        flag_stacking(&mut rows, &HashMap::new());
        assert_eq!(
            rows[0].warnings,
            vec!["stacked: 2 programs on xdp (drv, skb)".to_string()]
        );
        annotate_row(&mut rows[1]);
        assert!(rows[1]
            .warnings
            .iter()
            .any(|w| w.starts_with("generic XDP")));
        let mut t = row(2, "tc_egress", 3, 0);
        t.direct_action = Some(false);
        annotate_row(&mut t);
        assert!(t.warnings[0].starts_with("no direct-action (da)"));
        let mut t = row(2, "tc_egress", 3, 0);
        t.direct_action = Some(true);
        annotate_row(&mut t);
        assert!(t.warnings.is_empty());
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(5_000_000_000), "5s");
        assert_eq!(human_duration(120 * 1_000_000_000), "2m");
        assert_eq!(human_duration(3_900 * 1_000_000_000), "1h05m");
        assert_eq!(human_duration(90_000 * 1_000_000_000), "1d01h");
    }

    #[test]
    fn loader_from_program() {
        let p = Program {
            id: 1,
            kernel_name: "k".into(),
            uid: 0,
            pids: vec![
                crate::model::ProcRef {
                    pid: 2,
                    comm: "b".into(),
                },
                crate::model::ProcRef {
                    pid: 1,
                    comm: "a".into(),
                },
            ],
            ..Default::default()
        };
        let m = ProgMeta::from_program(&p);
        assert_eq!(m.loader, "a,b");
        assert_eq!(m.name, "k");
    }
}
