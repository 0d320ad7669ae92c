//! Which nodes differ (`dpscope diff --nodes BUNDLE_DIR`). Pure: no I/O.
//!
//! Each node's snapshot is reduced to facts, each under a key that means the same thing on
//! every node, with a value that may differ:
//!
//! * `cilium`: the detected Cilium layout version;
//! * `programs`: by name and type; the value is the set of tags;
//! * `attachments`: by interface, hook and tc pref (or order), with `lxc*` endpoint interfaces
//!   compared as one class; the value is the program's name, tag and a stale flag;
//! * `maps`: by name (per-endpoint numeric suffixes as a class: `cilium_policy_v2_*`); the
//!   value is type, key/value size and max entries;
//! * `drops`: drop reasons (own probe, and Cilium's metrics); `denials`: LSM hook and errno.
//!
//! A key present on only some nodes is `extra` on them (when they are the fewer) or `missing`
//! on the others; a key on every node with different values `differs`, with the nodes of each
//! value. dpscope's own programs and maps are left out (they are on every node it runs on).

use super::Snapshot;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Categories, in output order.
pub const CATEGORIES: &[&str] = &[
    "cilium",
    "programs",
    "attachments",
    "maps",
    "drops",
    "denials",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// On fewer than half of the nodes (`nodes`).
    Extra,
    /// On at least half of the nodes, missing on `nodes`.
    Missing,
    /// On every node, with different values (`variants`).
    Differs,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Variant {
    pub value: String,
    pub nodes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub category: &'static str,
    pub kind: Kind,
    /// The fact's identity within its category.
    pub key: String,
    /// What a human reads (`tc filter at pref 10 on eth0`).
    pub what: String,
    /// Extra: the nodes that have it; missing: the nodes that lack it; differs: empty.
    pub nodes: Vec<String>,
    /// Nodes compared.
    pub of: usize,
    /// The values and their nodes, most common first (for extra and missing: the values on
    /// the nodes that have it).
    pub variants: Vec<Variant>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeProblem {
    pub node: String,
    pub status: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeDiff {
    /// Nodes compared (those with a snapshot).
    pub nodes: Vec<String>,
    /// Nodes without a snapshot, and why.
    pub missing_nodes: Vec<NodeProblem>,
    pub differences: Vec<Difference>,
}

/// A node's facts: (category, key) → (the label humans read, the values on this node).
pub type Facts = BTreeMap<(&'static str, String), (String, BTreeSet<String>)>;

fn add(f: &mut Facts, cat: &'static str, key: String, what: String, value: String) {
    f.entry((cat, key))
        .or_insert_with(|| (what, BTreeSet::new()))
        .1
        .insert(value);
}

/// `lxc*` for Cilium's per-endpoint interfaces (`lxc` + hash), else the name itself.
pub fn interface_class(ifname: &str) -> String {
    match ifname.strip_prefix("lxc") {
        Some(rest) if !rest.is_empty() && rest != "_health" => "lxc*".into(),
        _ => ifname.to_string(),
    }
}

/// A map name with a per-endpoint numeric suffix as a class: `cilium_policy_v2_01234` →
/// `cilium_policy_v2_*`, `cilium_calls_00412` → `cilium_calls_*`.
pub fn map_class(name: &str) -> String {
    match name.rsplit_once('_') {
        Some((head, tail))
            if !head.is_empty() && !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) =>
        {
            format!("{head}_*")
        }
        _ => name.to_string(),
    }
}

fn hook_label(hook: &str) -> &str {
    match hook {
        "tc_ingress" => "tc filter (ingress)",
        "tc_egress" => "tc filter (egress)",
        "tcx_ingress" => "tcx program (ingress)",
        "tcx_egress" => "tcx program (egress)",
        other => other,
    }
}

/// The facts of one node.
pub fn facts(s: &Snapshot) -> Facts {
    let mut f = Facts::new();
    let layout = s
        .cilium
        .as_ref()
        .map(|c| c.layout.clone())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| "none".into());
    add(
        &mut f,
        "cilium",
        "layout".into(),
        "Cilium layout".into(),
        layout,
    );

    for p in s.programs.iter().filter(|p| !p.dpscope_owned) {
        let name = if p.name.is_empty() {
            &p.kernel_name
        } else {
            &p.name
        };
        if name.is_empty() {
            continue;
        }
        add(
            &mut f,
            "programs",
            format!("{name}/{}", p.prog_type),
            format!("program {name} ({})", p.prog_type),
            format!("tag {}", p.tag),
        );
    }

    let owned: BTreeSet<u32> = s
        .programs
        .iter()
        .filter(|p| p.dpscope_owned)
        .map(|p| p.id)
        .collect();
    for a in s.attachments.iter().filter(|a| !owned.contains(&a.prog_id)) {
        let iface = interface_class(&a.ifname);
        let place = match (a.hook.starts_with("tc_"), a.priority) {
            (true, Some(pref)) => format!("pref {pref}"),
            _ => format!("position {}", a.position),
        };
        let place = if a.hook == "xdp" {
            format!("mode {}", a.mode.as_deref().unwrap_or("?"))
        } else {
            place
        };
        let tag = s.program(a.prog_id).map(|p| p.tag.as_str()).unwrap_or("?");
        let stale = if a.likely_stale { ", likely stale" } else { "" };
        add(
            &mut f,
            "attachments",
            format!("{iface}/{}/{place}", a.hook),
            format!("{} at {place} on {iface}", hook_label(&a.hook)),
            format!("{} (tag {tag}{stale})", a.prog_name),
        );
    }

    for m in s.maps.iter().filter(|m| !m.dpscope_owned) {
        // libbpf's data sections (`x.rodata`, `.bss`) belong to their program.
        if m.name.is_empty() || m.name.contains('.') {
            continue;
        }
        let class = map_class(&m.name);
        add(
            &mut f,
            "maps",
            class.clone(),
            format!("map {class}"),
            format!(
                "{} {}/{} max {}",
                m.map_type, m.key_size, m.value_size, m.max_entries
            ),
        );
    }

    for d in s.drops.iter().filter(|d| d.count > 0) {
        let r = if d.reason_name.is_empty() {
            d.reason.to_string()
        } else {
            d.reason_name.clone()
        };
        add(
            &mut f,
            "drops",
            format!("kernel/{r}"),
            format!("drops {r}"),
            String::new(),
        );
    }
    for m in s.metrics.iter().filter(|m| m.reason != 0 && m.packets > 0) {
        let r = if m.reason_name.is_empty() {
            m.reason.to_string()
        } else {
            m.reason_name.clone()
        };
        add(
            &mut f,
            "drops",
            format!("cilium/{r}/{}", m.direction),
            format!("Cilium drops {r} ({})", m.direction),
            String::new(),
        );
    }
    for d in &s.denials {
        let by = d.denied_by.as_deref().unwrap_or("");
        let key = format!("{}/{}/{by}", d.hook, d.errno);
        let what = if by.is_empty() {
            format!("denials at {} (errno {})", d.hook, d.errno)
        } else {
            format!("denials at {} (errno {}) by {by}", d.hook, d.errno)
        };
        add(&mut f, "denials", key, what, String::new());
    }
    f
}

fn value_text(values: &BTreeSet<String>) -> String {
    values.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// A fact's label and its value on each node (by index) that has it.
type Seen = (String, BTreeMap<usize, String>);

/// Compare nodes: `(name, snapshot)` for the nodes with a snapshot, and the nodes without.
pub fn compare(nodes: &[(&str, &Snapshot)], missing_nodes: Vec<NodeProblem>) -> NodeDiff {
    let per_node = nodes
        .iter()
        .map(|(n, s)| (n.to_string(), facts(s)))
        .collect();
    compare_facts(per_node, missing_nodes)
}

/// Compare nodes by their [`facts`]: a reader of a big bundle keeps these, not the snapshots.
pub fn compare_facts(nodes: Vec<(String, Facts)>, missing_nodes: Vec<NodeProblem>) -> NodeDiff {
    let (names, per_node): (Vec<String>, Vec<Facts>) = nodes.into_iter().unzip();
    let n = names.len();
    // (category, key) → (label, node index → value)
    let mut all: BTreeMap<(&'static str, String), Seen> = BTreeMap::new();
    for (i, f) in per_node.into_iter().enumerate() {
        for (k, (what, values)) in f {
            all.entry(k)
                .or_insert_with(|| (what, BTreeMap::new()))
                .1
                .insert(i, value_text(&values));
        }
    }
    let mut differences = Vec::new();
    for ((cat, key), (what, on)) in all {
        let mut by_value: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (i, v) in &on {
            by_value
                .entry(v.as_str())
                .or_default()
                .push(names[*i].clone());
        }
        let mut variants: Vec<Variant> = by_value
            .into_iter()
            .map(|(value, nodes)| Variant {
                value: value.to_string(),
                nodes,
            })
            .collect();
        variants.sort_by(|a, b| {
            b.nodes
                .len()
                .cmp(&a.nodes.len())
                .then(a.value.cmp(&b.value))
        });
        let (kind, nodes) = if on.len() == n {
            if variants.len() < 2 {
                continue;
            }
            (Kind::Differs, Vec::new())
        } else if on.len() * 2 <= n {
            (Kind::Extra, on.keys().map(|i| names[*i].clone()).collect())
        } else {
            let lack = (0..n)
                .filter(|i| !on.contains_key(i))
                .map(|i| names[i].clone())
                .collect();
            (Kind::Missing, lack)
        };
        differences.push(Difference {
            category: cat,
            kind,
            key,
            what,
            nodes,
            of: n,
            variants,
        });
    }
    let order = |c: &str| {
        CATEGORIES
            .iter()
            .position(|x| *x == c)
            .unwrap_or(usize::MAX)
    };
    differences.sort_by(|a, b| {
        order(a.category)
            .cmp(&order(b.category))
            .then(a.key.cmp(&b.key))
    });
    NodeDiff {
        nodes: names,
        missing_nodes,
        differences,
    }
}

/// Up to five names, then how many more.
pub fn node_list(nodes: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut out = nodes
        .iter()
        .take(SHOWN)
        .map(|n| clean(n))
        .collect::<Vec<_>>()
        .join(", ");
    if nodes.len() > SHOWN {
        out.push_str(&format!(" and {} more", nodes.len() - SHOWN));
    }
    out
}

/// Control characters never reach the terminal or a text file raw.
fn clean(s: &str) -> String {
    crate::sanitize::text(s).into_owned()
}

fn nodes_count(k: usize) -> String {
    if k == 1 {
        "1 node".into()
    } else {
        format!("{k} nodes")
    }
}

impl Difference {
    /// One line: `node-7: extra tc filter at pref 10 on eth0 (tag …); 49 of 50 nodes lack it`.
    pub fn to_line(&self) -> String {
        let what = clean(&self.what);
        let value = |vs: &[Variant]| -> String {
            match vs {
                [one] if !one.value.is_empty() => format!(" ({})", clean(&one.value)),
                _ => String::new(),
            }
        };
        match self.kind {
            Kind::Extra => format!(
                "{}: extra {what}{}; {} of {} lack it",
                node_list(&self.nodes),
                value(&self.variants),
                self.of - self.nodes.len(),
                nodes_count(self.of)
            ),
            Kind::Missing => format!(
                "{}: no {what}{}; {} of {} have it",
                node_list(&self.nodes),
                value(&self.variants),
                self.of - self.nodes.len(),
                nodes_count(self.of)
            ),
            Kind::Differs => {
                let parts: Vec<String> = self
                    .variants
                    .iter()
                    .map(|v| {
                        let on = if v.nodes.len() <= 3 {
                            node_list(&v.nodes)
                        } else {
                            nodes_count(v.nodes.len())
                        };
                        format!("{} on {on}", clean(&v.value))
                    })
                    .collect();
                format!("{what} differs: {}", parts.join("; "))
            }
        }
    }
}

impl NodeDiff {
    pub fn in_category(&self, cat: &str) -> impl Iterator<Item = &Difference> + '_ {
        let cat = cat.to_string();
        self.differences.iter().filter(move |d| d.category == cat)
    }

    /// Text for `diff --nodes`: the nodes compared, the ones without a snapshot, and one
    /// section per category with differences.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{} compared: {}\n",
            nodes_count(self.nodes.len()),
            node_list(&self.nodes)
        );
        for p in &self.missing_nodes {
            out.push_str(&format!(
                "no snapshot from {} ({}): {}\n",
                clean(&p.node),
                clean(&p.status),
                clean(&p.reason)
            ));
        }
        if self.differences.is_empty() {
            out.push_str("\nno differences between the nodes\n");
        }
        for cat in CATEGORIES {
            let lines: Vec<String> = self.in_category(cat).map(|d| d.to_line()).collect();
            if lines.is_empty() {
                continue;
            }
            out.push_str(&format!("\n{cat} ({})\n", lines.len()));
            for l in lines {
                out.push_str(&format!("  {l}\n"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attachment, CiliumInfo, Denial, Drop, MapInfo, MetricEntry, Program};

    fn base() -> Snapshot {
        let mut s = Snapshot::empty();
        s.cilium = Some(CiliumInfo {
            layout: "1.18".into(),
            ..Default::default()
        });
        s.programs = vec![
            Program {
                id: 10,
                name: "cil_from_netdev".into(),
                prog_type: "sched_cls".into(),
                tag: "aaaa".into(),
                ..Default::default()
            },
            Program {
                id: 11,
                name: "cil_from_container".into(),
                prog_type: "sched_cls".into(),
                tag: "bbbb".into(),
                ..Default::default()
            },
            Program {
                id: 99,
                name: "dpscope_drops".into(),
                prog_type: "tracepoint".into(),
                tag: "ffff".into(),
                dpscope_owned: true,
                ..Default::default()
            },
        ];
        s.attachments = vec![
            Attachment {
                ifindex: 2,
                ifname: "eth0".into(),
                hook: "tc_ingress".into(),
                prog_id: 10,
                prog_name: "cil_from_netdev".into(),
                priority: Some(1),
                ..Default::default()
            },
            Attachment {
                ifindex: 7,
                ifname: "lxc1a2b3c".into(),
                hook: "tcx_ingress".into(),
                prog_id: 11,
                prog_name: "cil_from_container".into(),
                ..Default::default()
            },
        ];
        s.maps = vec![
            MapInfo {
                id: 1,
                name: "cilium_ct4_global".into(),
                map_type: "lru_hash".into(),
                key_size: 14,
                value_size: 56,
                max_entries: 524288,
                ..Default::default()
            },
            MapInfo {
                id: 2,
                name: "cilium_policy_v2_01187".into(),
                map_type: "lpm_trie".into(),
                key_size: 12,
                value_size: 8,
                max_entries: 16384,
                ..Default::default()
            },
            MapInfo {
                id: 3,
                name: "cil_from.rodata".into(),
                map_type: "array".into(),
                ..Default::default()
            },
        ];
        s
    }

    fn names(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("node-{i}")).collect()
    }

    fn run(snaps: &[Snapshot]) -> NodeDiff {
        let names = names(snaps.len());
        let pairs: Vec<(&str, &Snapshot)> =
            names.iter().map(|s| s.as_str()).zip(snaps.iter()).collect();
        compare(&pairs, vec![])
    }

    #[test]
    fn identical_nodes_do_not_differ_even_with_other_endpoints() {
        let a = base();
        let mut b = base();
        // Other endpoint ids and interface hashes, other object ids, own probes elsewhere.
        b.attachments[1].ifname = "lxc99ffee".into();
        b.maps[1].name = "cilium_policy_v2_00042".into();
        b.programs[2].tag = "eeee".into();
        for p in &mut b.programs {
            p.id += 100;
        }
        for a in &mut b.attachments {
            a.prog_id += 100;
        }
        let d = run(&[a, b]);
        assert!(d.differences.is_empty(), "{:#?}", d.differences);
        assert!(d.to_text().contains("no differences"));
    }

    #[test]
    fn an_extra_tc_filter_on_one_node_of_fifty() {
        let mut snaps: Vec<Snapshot> = (0..50).map(|_| base()).collect();
        let s = &mut snaps[6];
        s.programs.push(Program {
            id: 40,
            name: "old_filter".into(),
            prog_type: "sched_cls".into(),
            tag: "0123abcd".into(),
            ..Default::default()
        });
        s.attachments.push(Attachment {
            ifindex: 2,
            ifname: "eth0".into(),
            hook: "tc_ingress".into(),
            prog_id: 40,
            prog_name: "old_filter".into(),
            priority: Some(10),
            likely_stale: true,
            ..Default::default()
        });
        let d = run(&snaps);
        let lines: Vec<String> = d.differences.iter().map(|x| x.to_line()).collect();
        assert_eq!(
            lines,
            [
                "node-7: extra program old_filter (sched_cls) (tag 0123abcd); 49 of 50 nodes lack it",
                "node-7: extra tc filter (ingress) at pref 10 on eth0 (old_filter (tag 0123abcd, likely stale)); 49 of 50 nodes lack it",
            ]
        );
        assert_eq!(d.differences[1].kind, Kind::Extra);
        assert_eq!(d.differences[1].nodes, ["node-7"]);
    }

    #[test]
    fn map_sizes_layouts_and_tags_that_differ_name_each_value() {
        let mut snaps: Vec<Snapshot> = (0..5).map(|_| base()).collect();
        snaps[2].maps[0].max_entries = 262144;
        snaps[4].cilium.as_mut().unwrap().layout = "1.17".into();
        snaps[3].programs[0].tag = "cccc".into();
        let d = run(&snaps);
        let lines: Vec<String> = d.differences.iter().map(|x| x.to_line()).collect();
        assert_eq!(
            lines,
            [
                "Cilium layout differs: 1.18 on 4 nodes; 1.17 on node-5",
                "program cil_from_netdev (sched_cls) differs: tag aaaa on 4 nodes; tag cccc on node-4",
                "tc filter (ingress) at pref 1 on eth0 differs: cil_from_netdev (tag aaaa) on 4 nodes; cil_from_netdev (tag cccc) on node-4",
                "map cilium_ct4_global differs: lru_hash 14/56 max 524288 on 4 nodes; lru_hash 14/56 max 262144 on node-3",
            ]
        );
    }

    #[test]
    fn drop_and_denial_reasons_on_only_some_nodes_and_a_missing_map() {
        let mut snaps: Vec<Snapshot> = (0..4).map(|_| base()).collect();
        snaps[1].drops.push(Drop {
            reason_name: "NETFILTER_DROP".into(),
            count: 12,
            ..Default::default()
        });
        snaps[1].drops.push(Drop {
            reason_name: "NO_SOCKET".into(),
            count: 0,
            ..Default::default()
        });
        snaps[2].metrics.push(MetricEntry {
            reason: 133,
            reason_name: "Policy denied".into(),
            direction: "ingress".into(),
            packets: 5,
            ..Default::default()
        });
        snaps[3].denials.push(Denial {
            hook: "file_open".into(),
            errno: -13,
            denied_by: Some("Landlock (fs.read_file)".into()),
            count: 1,
            ..Default::default()
        });
        snaps[0].maps.remove(0);
        let d = run(&snaps);
        let lines: Vec<String> = d.differences.iter().map(|x| x.to_line()).collect();
        assert_eq!(
            lines,
            [
                "node-1: no map cilium_ct4_global (lru_hash 14/56 max 524288); 3 of 4 nodes have it",
                "node-3: extra Cilium drops Policy denied (ingress); 3 of 4 nodes lack it",
                "node-2: extra drops NETFILTER_DROP; 3 of 4 nodes lack it",
                "node-4: extra denials at file_open (errno -13) by Landlock (fs.read_file); 3 of 4 nodes lack it",
            ]
        );
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["differences"][0]["kind"], "missing");
        assert_eq!(json["differences"][0]["category"], "maps");
    }

    #[test]
    fn classes_and_names_are_safe() {
        assert_eq!(interface_class("lxc1a2b"), "lxc*");
        assert_eq!(interface_class("lxc_health"), "lxc_health");
        assert_eq!(interface_class("lxc"), "lxc");
        assert_eq!(map_class("cilium_calls_00412"), "cilium_calls_*");
        assert_eq!(map_class("cilium_ct4_global"), "cilium_ct4_global");
        assert_eq!(map_class("_12"), "_12");
        let many: Vec<String> = names(8);
        assert_eq!(
            node_list(&many),
            "node-1, node-2, node-3, node-4, node-5 and 3 more"
        );
        let d = compare(
            &[],
            vec![NodeProblem {
                node: "evil\u{1b}[2J".into(),
                status: "failed".into(),
                reason: "line\nbreak".into(),
            }],
        );
        let t = d.to_text();
        assert!(!t.contains('\u{1b}') && t.contains("line\\nbreak"), "{t}");
    }
}
