//! Tail-call graphs: every PROG_ARRAY (Cilium's `cilium_calls_*`, `cilium_call_policy`,
//! `cilium_egresscall_policy`, or anyone's), its populated slots with Cilium's symbolic slot
//! names for the detected release (cilium-maps.md §5), owners, cycles and DOT export.

use super::layout::Layout;
use crate::model::{Attachment, Program, TailCallMap, TailCallSlot};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

/// Which Cilium object a call map belongs to (slot aliases differ per object).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallsKind {
    Lxc,
    Host,
    Overlay,
    Wireguard,
    Xdp,
    Custom,
    CallPolicy,
    EgressCallPolicy,
    Generic,
}

pub fn calls_kind(name: &str) -> CallsKind {
    if name == "cilium_call_policy" {
        CallsKind::CallPolicy
    } else if name == "cilium_egresscall_policy" {
        CallsKind::EgressCallPolicy
    } else if let Some(rest) = name.strip_prefix("cilium_calls_") {
        if rest.starts_with("hostns_") || rest.starts_with("netdev_") {
            CallsKind::Host
        } else if rest.starts_with("overlay") {
            CallsKind::Overlay
        } else if rest.starts_with("wireguard") {
            CallsKind::Wireguard
        } else if rest.starts_with("xdp") {
            CallsKind::Xdp
        } else if rest.starts_with("custom_") {
            CallsKind::Custom
        } else {
            CallsKind::Lxc
        }
    } else {
        CallsKind::Generic
    }
}

fn kind_label(k: CallsKind) -> &'static str {
    match k {
        CallsKind::CallPolicy => "call_policy",
        CallsKind::EgressCallPolicy => "egresscall_policy",
        CallsKind::Generic => "generic",
        CallsKind::Custom => "cilium_calls_custom",
        _ => "cilium_calls",
    }
}

/// Cilium's CILIUM_CALL_* name of `index` in a call map of `kind` for `layout`.
pub fn slot_name(index: u32, layout: Layout, kind: CallsKind) -> Option<String> {
    let from = match kind {
        CallsKind::Host => "NETDEV",
        CallsKind::Overlay => "OVERLAY",
        CallsKind::Wireguard => "WIREGUARD",
        _ => "LXC",
    };
    let policy_only = if kind == CallsKind::Host {
        "HOST"
    } else {
        "LXC"
    };
    let rfc = if layout >= Layout::V1_18 {
        "RFC6052"
    } else {
        "RFC8215"
    };
    let common = match index {
        1 => Some("DROP_NOTIFY".to_string()),
        2 => Some("ERROR_NOTIFY".into()),
        4 => Some("HANDLE_ICMP6_NS".into()),
        5 => Some("SEND_ICMP6_TIME_EXCEEDED".into()),
        6 => Some("ARP".into()),
        7 => Some(format!("IPV4_FROM_{from}")),
        8 => Some(format!("IPV46_{rfc}")),
        9 => Some(format!("IPV64_{rfc}")),
        10 => Some(format!("IPV6_FROM_{from}")),
        11 => Some(format!("IPV4_TO_{policy_only}_POLICY_ONLY")),
        12 => Some(format!("IPV6_TO_{policy_only}_POLICY_ONLY")),
        13 => Some("IPV4_TO_ENDPOINT".into()),
        14 => Some("IPV6_TO_ENDPOINT".into()),
        15 => Some("IPV4_NODEPORT_NAT_EGRESS".into()),
        16 => Some("IPV6_NODEPORT_NAT_EGRESS".into()),
        _ => None,
    };
    if common.is_some() || index <= 16 {
        return common;
    }
    let name = if layout >= Layout::V1_18 {
        match index {
            17 => "IPV4_NODEPORT_REVNAT",
            18 => "IPV6_NODEPORT_REVNAT_INGRESS",
            19 => "IPV6_NODEPORT_REVNAT_EGRESS",
            20 => "IPV4_NODEPORT_NAT_FWD",
            21 => "IPV4_NODEPORT_DSR",
            22 => "IPV6_NODEPORT_DSR",
            23 => "IPV4_FROM_HOST",
            24 => "IPV6_FROM_HOST",
            25 => "IPV6_NODEPORT_NAT_FWD",
            26 => "IPV4_FROM_LXC_CONT",
            27 => "IPV6_FROM_LXC_CONT",
            28 => "IPV4_CT_INGRESS",
            29 => "IPV4_CT_INGRESS_POLICY_ONLY",
            30 => "IPV4_CT_EGRESS",
            31 => "IPV6_CT_INGRESS",
            32 => "IPV6_CT_INGRESS_POLICY_ONLY",
            33 => "IPV6_CT_EGRESS",
            34 => "SRV6_ENCAP",
            35 => "SRV6_DECAP",
            36 => "IPV4_NODEPORT_NAT_INGRESS",
            37 => "IPV6_NODEPORT_NAT_INGRESS",
            38 => "IPV4_NODEPORT_SNAT_FWD",
            39 => "IPV6_NODEPORT_SNAT_FWD",
            40 => "IPV4_INTER_CLUSTER_REVSNAT",
            41 => "IPV4_CONT_FROM_HOST",
            42 => "IPV4_CONT_FROM_NETDEV",
            43 => "IPV6_CONT_FROM_HOST",
            44 => "IPV6_CONT_FROM_NETDEV",
            45 => "IPV4_NO_SERVICE",
            46 => "IPV6_NO_SERVICE",
            47 => "MULTICAST_EP_DELIVERY",
            48 if layout == Layout::Main => "IPV4_POLICY_DENIED",
            _ => return None,
        }
    } else {
        match index {
            17 => "IPV4_NODEPORT_REVNAT",
            18 => "IPV6_NODEPORT_REVNAT",
            19 => "IPV4_NODEPORT_NAT_FWD",
            20 => "IPV4_NODEPORT_DSR",
            21 => "IPV6_NODEPORT_DSR",
            22 => "IPV4_FROM_HOST",
            23 => "IPV6_FROM_HOST",
            24 => "IPV6_NODEPORT_NAT_FWD",
            25 => "IPV4_FROM_LXC_CONT",
            26 => "IPV6_FROM_LXC_CONT",
            27 => "IPV4_CT_INGRESS",
            28 => "IPV4_CT_INGRESS_POLICY_ONLY",
            29 => "IPV4_CT_EGRESS",
            30 => "IPV6_CT_INGRESS",
            31 => "IPV6_CT_INGRESS_POLICY_ONLY",
            32 => "IPV6_CT_EGRESS",
            33 => "SRV6_ENCAP",
            34 => "SRV6_DECAP",
            35 if layout <= Layout::V1_15 => "SRV6_REPLY",
            36 => "IPV4_NODEPORT_NAT_INGRESS",
            37 => "IPV6_NODEPORT_NAT_INGRESS",
            38 => "IPV4_NODEPORT_SNAT_FWD",
            39 => "IPV6_NODEPORT_SNAT_FWD",
            40 if layout == Layout::V1_14 => "IPV4_NODEPORT_DSR_INGRESS",
            41 if layout == Layout::V1_14 => "IPV6_NODEPORT_DSR_INGRESS",
            42 => "IPV4_INTER_CLUSTER_REVSNAT",
            43 => "IPV4_CONT_FROM_HOST",
            44 => "IPV4_CONT_FROM_NETDEV",
            45 => "IPV6_CONT_FROM_HOST",
            46 => "IPV6_CONT_FROM_NETDEV",
            47 if layout >= Layout::V1_15 => "IPV4_NO_SERVICE",
            48 if layout >= Layout::V1_15 => "IPV6_NO_SERVICE",
            49 if layout >= Layout::V1_16 => "MULTICAST_EP_DELIVERY",
            _ => return None,
        }
    };
    Some(name.to_string())
}

/// The numbering a call map uses: the node's layout, else its own size (`CILIUM_CALL_SIZE`).
pub fn calls_layout(max_entries: u32, node: Option<Layout>) -> Option<Layout> {
    if let Some(l) = node {
        return Some(l);
    }
    match max_entries {
        47 => Some(Layout::V1_14),
        50 => Some(Layout::V1_17),
        48 => Some(Layout::V1_18),
        // 49 is 1.15 or main: ambiguous without other maps.
        _ => None,
    }
}

/// One PROG_ARRAY as read from the kernel.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProgArray {
    pub map_id: u32,
    /// Full name (pin file name when pinned, else the kernel name).
    pub name: String,
    pub max_entries: u32,
    pub pinned: Option<String>,
    /// (index, prog id) of populated slots.
    pub slots: Vec<(u32, u32)>,
}

/// Names of a program not in the snapshot's program list (read by id by the caller).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProgNames {
    pub name: String,
    pub kernel_name: String,
    pub map_ids: Vec<u32>,
}

/// Build the tail-call view of every array. `extra` names programs missing from `programs`;
/// `targets` lists constant-index tail calls found in program code: prog id → (map id, index).
pub fn build(
    arrays: &[ProgArray],
    programs: &[Program],
    attachments: &[Attachment],
    extra: &HashMap<u32, ProgNames>,
    targets: &HashMap<u32, Vec<(u32, u32)>>,
    node_layout: Option<Layout>,
) -> Vec<TailCallMap> {
    let mut names: HashMap<u32, ProgNames> = extra.clone();
    for p in programs {
        names.insert(
            p.id,
            ProgNames {
                name: if p.name.is_empty() {
                    p.kernel_name.clone()
                } else {
                    p.name.clone()
                },
                kernel_name: p.kernel_name.clone(),
                map_ids: p.map_ids.clone(),
            },
        );
    }
    let array_ids: HashSet<u32> = arrays.iter().map(|a| a.map_id).collect();
    let in_any_slot: HashSet<u32> = arrays
        .iter()
        .flat_map(|a| a.slots.iter().map(|s| s.1))
        .collect();
    let calls_of = |prog: u32| -> Vec<u32> {
        let mut v: Vec<u32> = names
            .get(&prog)
            .map(|n| {
                n.map_ids
                    .iter()
                    .copied()
                    .filter(|m| array_ids.contains(m))
                    .collect()
            })
            .unwrap_or_default();
        v.sort_unstable();
        v.dedup();
        v
    };
    // Array graph: map → maps its slot programs can tail-call into.
    let mut edges: HashMap<u32, BTreeSet<u32>> = HashMap::new();
    for a in arrays {
        let e = edges.entry(a.map_id).or_default();
        for (_, p) in &a.slots {
            e.extend(calls_of(*p));
        }
    }
    let reaches = |from: u32, to: u32| -> bool {
        let mut seen = HashSet::new();
        let mut q = VecDeque::from([from]);
        while let Some(m) = q.pop_front() {
            if m == to {
                return true;
            }
            if seen.insert(m) {
                if let Some(n) = edges.get(&m) {
                    q.extend(n.iter().copied());
                }
            }
        }
        false
    };
    // Tail-call sites with constant indices, per array.
    let mut wanted: HashMap<u32, BTreeSet<u32>> = HashMap::new();
    for (prog, sites) in targets {
        if !names.contains_key(prog) {
            continue;
        }
        for (m, idx) in sites {
            wanted.entry(*m).or_default().insert(*idx);
        }
    }
    let mut out = Vec::new();
    for a in arrays {
        let kind = calls_kind(&a.name);
        let layout = match kind {
            CallsKind::Generic | CallsKind::CallPolicy | CallsKind::EgressCallPolicy => None,
            _ => calls_layout(a.max_entries, node_layout),
        };
        let owners: Vec<u32> = {
            let mut v: Vec<u32> = names
                .iter()
                .filter(|(id, n)| n.map_ids.contains(&a.map_id) && !in_any_slot.contains(id))
                .map(|(id, _)| *id)
                .collect();
            v.sort_unstable();
            v
        };
        let owner = owner_text(a, kind, &owners, &names, attachments);
        let mut slots: BTreeMap<u32, TailCallSlot> = BTreeMap::new();
        for &(index, prog) in &a.slots {
            let n = names.get(&prog);
            let calls = calls_of(prog);
            let cycle = calls.iter().any(|m| reaches(*m, a.map_id));
            slots.insert(
                index,
                TailCallSlot {
                    index,
                    slot_name: slot_label(index, kind, layout),
                    prog_id: prog,
                    prog_name: n.map(|n| n.name.clone()).unwrap_or_default(),
                    kernel_name: n.map(|n| n.kernel_name.clone()).unwrap_or_default(),
                    empty: false,
                    calls_maps: calls,
                    cycle,
                },
            );
        }
        for &index in wanted.get(&a.map_id).into_iter().flatten() {
            slots.entry(index).or_insert_with(|| TailCallSlot {
                index,
                slot_name: slot_label(index, kind, layout),
                empty: true,
                ..Default::default()
            });
        }
        out.push(TailCallMap {
            map_id: a.map_id,
            map_name: a.name.clone(),
            owner,
            layout: layout.map(|l| l.label().to_string()),
            slots: slots.into_values().collect(),
            kind: kind_label(kind).into(),
            owner_prog_ids: owners,
            max_entries: a.max_entries,
            pinned: a.pinned.clone(),
        });
    }
    out.sort_by(|x, y| x.map_name.cmp(&y.map_name).then(x.map_id.cmp(&y.map_id)));
    out
}

fn slot_label(index: u32, kind: CallsKind, layout: Option<Layout>) -> Option<String> {
    match kind {
        CallsKind::CallPolicy => Some(format!("endpoint {index} ingress policy")),
        CallsKind::EgressCallPolicy => Some(format!("endpoint {index} egress policy")),
        CallsKind::Generic | CallsKind::Custom => None,
        _ => layout.and_then(|l| slot_name(index, l, kind)),
    }
}

fn owner_text(
    a: &ProgArray,
    kind: CallsKind,
    owners: &[u32],
    names: &HashMap<u32, ProgNames>,
    attachments: &[Attachment],
) -> Option<String> {
    let attached: Vec<String> = owners
        .iter()
        .flat_map(|id| attachments.iter().filter(move |at| at.prog_id == *id))
        .map(|at| {
            let n = names
                .get(&at.prog_id)
                .map(|n| n.name.clone())
                .unwrap_or_else(|| at.prog_name.clone());
            let dev = if at.ifname.is_empty() {
                format!("ifindex {}", at.ifindex)
            } else {
                at.ifname.clone()
            };
            format!("{n} on {dev} ({})", at.hook)
        })
        .collect();
    if !attached.is_empty() {
        return Some(attached.join(", "));
    }
    match kind {
        CallsKind::CallPolicy => return Some("endpoint ingress policy (key = endpoint id)".into()),
        CallsKind::EgressCallPolicy => {
            return Some("endpoint egress policy (key = endpoint id)".into())
        }
        _ => {}
    }
    let progs: Vec<String> = owners
        .iter()
        .filter_map(|id| names.get(id).map(|n| n.name.clone()))
        .collect();
    if !progs.is_empty() {
        return Some(progs.join(", "));
    }
    match kind {
        CallsKind::Lxc => a
            .name
            .rsplit('_')
            .next()
            .and_then(|s| s.parse::<u32>().ok())
            .map(|ep| format!("endpoint {ep}")),
        _ => None,
    }
}

/// Constant-index tail calls in translated instructions (8-byte `bpf_insn`s): `r2 = map[id]`,
/// `r3 = K`, `call bpf_tail_call` → (map id, K). The kernel's xlated dump shows map ids.
/// Compilers merge calls that differ only in the index (`r3 = 29; if .. goto; r3 = 30; call`),
/// so constants assigned to r3 across a branch are all kept as candidates.
pub fn tail_call_sites(insns: &[u8]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut r2: Option<u32> = None;
    let mut r3: Vec<u32> = Vec::new();
    let mut branch_since_r3 = false;
    let n = insns.len() / 8;
    let mut i = 0;
    while i < n {
        let b = insns.get(i * 8..i * 8 + 8).unwrap_or(&[0; 8]);
        let (code, dst, src) = (b[0], b[1] & 0x0f, b[1] >> 4);
        let imm = i32::from_le_bytes([b[4], b[5], b[6], b[7]]);
        let class = code & 0x07;
        match code {
            // ld_imm64: two slots.
            0x18 => {
                if dst == 2 {
                    r2 = (src == 1 || src == 2).then_some(imm as u32);
                } else if dst == 3 {
                    r3.clear();
                }
                i += 2;
                continue;
            }
            // mov imm (64/32-bit).
            0xb7 | 0xb4 if dst == 3 => {
                if !branch_since_r3 {
                    r3.clear();
                }
                if let Ok(k) = u32::try_from(imm) {
                    r3.push(k);
                }
                branch_since_r3 = false;
            }
            // call bpf_tail_call, or its rewritten form BPF_JMP|BPF_TAIL_CALL.
            0x85 | 0xf5 if code == 0xf5 || (src == 0 && imm == 12) => {
                if let Some(m) = r2 {
                    out.extend(r3.iter().map(|k| (m, *k)));
                }
                r2 = None;
                r3.clear();
            }
            0x85 | 0x95 => {
                r2 = None;
                r3.clear();
            }
            _ if class == 0x05 || class == 0x06 => branch_since_r3 = true,
            _ => {
                // Any other write to r2/r3 (ALU/load) forgets what we knew.
                let writes = matches!(class, 0x04 | 0x07 | 0x01 | 0x00);
                if writes && dst == 2 {
                    r2 = None;
                }
                if writes && dst == 3 {
                    r3.clear();
                }
            }
        }
        i += 1;
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// A DOT string's inside: controls as visible escapes (`sanitize`), then DOT's own quoting.
fn dot_escape(s: &str) -> String {
    crate::sanitize::text(s)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

/// Graphviz DOT of the tail-call graph: owners → arrays → slot programs → arrays they call.
pub fn tailcalls_dot(tc: &[TailCallMap]) -> String {
    let mut s =
        String::from("digraph tailcalls {\n  rankdir=LR;\n  node [fontname=\"monospace\"];\n");
    let mut progs: BTreeMap<u32, String> = BTreeMap::new();
    let mut edges: Vec<String> = Vec::new();
    for m in tc {
        s.push_str(&format!(
            "  \"map{}\" [shape=box, label=\"{}\\n(map {})\"];\n",
            m.map_id,
            dot_escape(&m.map_name),
            m.map_id
        ));
        if !m.owner_prog_ids.is_empty() {
            for o in &m.owner_prog_ids {
                progs.entry(*o).or_insert_with(|| format!("prog {o}"));
                edges.push(format!(
                    "  \"prog{o}\" -> \"map{}\" [style=bold];\n",
                    m.map_id
                ));
            }
        } else if let Some(o) = &m.owner {
            s.push_str(&format!(
                "  \"owner{}\" [shape=plaintext, label=\"{}\"];\n",
                m.map_id,
                dot_escape(o)
            ));
            edges.push(format!("  \"owner{}\" -> \"map{}\";\n", m.map_id, m.map_id));
        }
        for sl in &m.slots {
            let label = match &sl.slot_name {
                Some(n) => format!("{} {}", sl.index, n),
                None => sl.index.to_string(),
            };
            if sl.empty || sl.prog_id == 0 {
                s.push_str(&format!(
                    "  \"empty{}_{}\" [shape=box, style=dashed, label=\"(empty)\"];\n",
                    m.map_id, sl.index
                ));
                edges.push(format!(
                    "  \"map{}\" -> \"empty{}_{}\" [label=\"{}\", style=dashed];\n",
                    m.map_id,
                    m.map_id,
                    sl.index,
                    dot_escape(&label)
                ));
                continue;
            }
            let name = if sl.prog_name.is_empty() {
                format!("prog {}", sl.prog_id)
            } else {
                sl.prog_name.clone()
            };
            progs.insert(sl.prog_id, name);
            edges.push(format!(
                "  \"map{}\" -> \"prog{}\" [label=\"{}\"];\n",
                m.map_id,
                sl.prog_id,
                dot_escape(&label)
            ));
            for c in &sl.calls_maps {
                let style = if sl.cycle { "dotted" } else { "dashed" };
                edges.push(format!(
                    "  \"prog{}\" -> \"map{c}\" [style={style}];\n",
                    sl.prog_id
                ));
            }
        }
    }
    for (id, name) in &progs {
        s.push_str(&format!(
            "  \"prog{id}\" [shape=ellipse, label=\"{}\\n(prog {id})\"];\n",
            dot_escape(name)
        ));
    }
    edges.sort();
    edges.dedup();
    for e in edges {
        s.push_str(&e);
    }
    s.push_str("}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_names_per_release() {
        use Layout::*;
        assert_eq!(
            slot_name(7, V1_18, CallsKind::Lxc).as_deref(),
            Some("IPV4_FROM_LXC")
        );
        assert_eq!(
            slot_name(7, V1_18, CallsKind::Host).as_deref(),
            Some("IPV4_FROM_NETDEV")
        );
        assert_eq!(
            slot_name(11, Main, CallsKind::Host).as_deref(),
            Some("IPV4_TO_HOST_POLICY_ONLY")
        );
        assert_eq!(
            slot_name(8, V1_17, CallsKind::Lxc).as_deref(),
            Some("IPV46_RFC8215")
        );
        assert_eq!(
            slot_name(8, V1_18, CallsKind::Lxc).as_deref(),
            Some("IPV46_RFC6052")
        );
        assert_eq!(
            slot_name(30, V1_18, CallsKind::Lxc).as_deref(),
            Some("IPV4_CT_EGRESS")
        );
        assert_eq!(
            slot_name(29, V1_17, CallsKind::Lxc).as_deref(),
            Some("IPV4_CT_EGRESS")
        );
        assert_eq!(
            slot_name(48, Main, CallsKind::Lxc).as_deref(),
            Some("IPV4_POLICY_DENIED")
        );
        assert_eq!(slot_name(48, V1_18, CallsKind::Lxc), None);
        assert_eq!(
            slot_name(35, V1_14, CallsKind::Lxc).as_deref(),
            Some("SRV6_REPLY")
        );
        assert_eq!(slot_name(35, V1_16, CallsKind::Lxc), None);
        assert_eq!(
            slot_name(40, V1_14, CallsKind::Lxc).as_deref(),
            Some("IPV4_NODEPORT_DSR_INGRESS")
        );
        assert_eq!(slot_name(40, V1_15, CallsKind::Lxc), None);
        assert_eq!(slot_name(47, V1_14, CallsKind::Lxc), None);
        assert_eq!(
            slot_name(47, V1_15, CallsKind::Lxc).as_deref(),
            Some("IPV4_NO_SERVICE")
        );
        assert_eq!(
            slot_name(49, V1_16, CallsKind::Lxc).as_deref(),
            Some("MULTICAST_EP_DELIVERY")
        );
        assert_eq!(
            slot_name(47, Main, CallsKind::Lxc).as_deref(),
            Some("MULTICAST_EP_DELIVERY")
        );
        assert_eq!(slot_name(3, Main, CallsKind::Lxc), None);
        assert_eq!(slot_name(u32::MAX, Main, CallsKind::Lxc), None);
        assert_eq!(calls_layout(50, None), Some(V1_17));
        assert_eq!(calls_layout(49, None), None);
        assert_eq!(calls_layout(49, Some(V1_15)), Some(V1_15));
        assert_eq!(calls_kind("cilium_calls_netdev_00002"), CallsKind::Host);
        assert_eq!(calls_kind("cilium_calls_00403"), CallsKind::Lxc);
        assert_eq!(calls_kind("jmp_table"), CallsKind::Generic);
    }

    fn prog(id: u32, name: &str, maps: &[u32]) -> Program {
        Program {
            id,
            name: name.into(),
            kernel_name: name.chars().take(15).collect(),
            map_ids: maps.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn graph_names_owners_cycles_and_empty_slots() {
        let arrays = vec![
            ProgArray {
                map_id: 10,
                name: "cilium_calls_00403".into(),
                max_entries: 48,
                pinned: None,
                slots: vec![(7, 2), (30, 3)],
            },
            ProgArray {
                map_id: 11,
                name: "cilium_call_policy".into(),
                max_entries: 65535,
                pinned: None,
                slots: vec![(403, 4)],
            },
            ProgArray {
                map_id: 12,
                name: "jmp".into(),
                max_entries: 4,
                pinned: None,
                slots: vec![(0, 5)],
            },
        ];
        let programs = vec![
            prog(1, "cil_from_container", &[10, 99]),
            prog(2, "tail_handle_ipv4", &[10]),
            prog(3, "tail_ipv4_ct_egress", &[11]),
            prog(4, "cil_lxc_policy", &[]),
            prog(5, "leaf", &[]),
        ];
        let att = vec![Attachment {
            ifindex: 7,
            ifname: "lxc1".into(),
            hook: "tcx_ingress".into(),
            prog_id: 1,
            ..Default::default()
        }];
        let mut targets = HashMap::new();
        targets.insert(2, vec![(10, 30), (10, 28)]);
        let t = build(
            &arrays,
            &programs,
            &att,
            &HashMap::new(),
            &targets,
            Some(Layout::V1_18),
        );
        let calls = t.iter().find(|m| m.map_id == 10).unwrap();
        assert_eq!(
            calls.owner.as_deref(),
            Some("cil_from_container on lxc1 (tcx_ingress)")
        );
        assert_eq!(calls.owner_prog_ids, vec![1]);
        assert_eq!(calls.layout.as_deref(), Some("1.18"));
        let s: Vec<(u32, Option<&str>, &str, bool, bool)> = calls
            .slots
            .iter()
            .map(|s| {
                (
                    s.index,
                    s.slot_name.as_deref(),
                    s.prog_name.as_str(),
                    s.empty,
                    s.cycle,
                )
            })
            .collect();
        assert_eq!(
            s,
            vec![
                (7, Some("IPV4_FROM_LXC"), "tail_handle_ipv4", false, true),
                (28, Some("IPV4_CT_INGRESS"), "", true, false),
                (
                    30,
                    Some("IPV4_CT_EGRESS"),
                    "tail_ipv4_ct_egress",
                    false,
                    false
                ),
            ]
        );
        assert_eq!(calls.slots[2].calls_maps, vec![11]);
        let pol = t.iter().find(|m| m.map_id == 11).unwrap();
        assert_eq!(
            pol.slots[0].slot_name.as_deref(),
            Some("endpoint 403 ingress policy")
        );
        assert_eq!(pol.kind, "call_policy");
        let generic = t.iter().find(|m| m.map_id == 12).unwrap();
        assert_eq!(
            (generic.slots[0].slot_name.clone(), generic.kind.as_str()),
            (None, "generic")
        );
        let dot = tailcalls_dot(&t);
        assert!(dot.starts_with("digraph tailcalls {"));
        assert!(dot.contains("\"map10\" -> \"prog2\" [label=\"7 IPV4_FROM_LXC\"]"));
        assert!(dot.contains("\"prog1\" -> \"map10\""));
        assert!(dot.contains("\"map10\" -> \"empty10_28\""));
        assert!(dot.trim_end().ends_with('}'));
    }

    #[test]
    fn tail_call_sites_from_insns() {
        fn insn(code: u8, dst: u8, src: u8, imm: i32) -> Vec<u8> {
            let mut v = vec![code, dst | (src << 4), 0, 0];
            v.extend(imm.to_le_bytes());
            v
        }
        let mut p = Vec::new();
        p.extend(insn(0x18, 2, 1, 42));
        p.extend(insn(0, 0, 0, 0));
        p.extend(insn(0xb4, 3, 0, 7));
        p.extend(insn(0x85, 0, 0, 12));
        p.extend(insn(0x18, 2, 1, 42));
        p.extend(insn(0, 0, 0, 0));
        p.extend(insn(0xbf, 3, 6, 0)); // r3 = r6: unknown index
        p.extend(insn(0x85, 0, 0, 12));
        p.extend(insn(0x18, 2, 1, 43));
        p.extend(insn(0, 0, 0, 0));
        p.extend(insn(0xb7, 3, 0, 30));
        p.extend(insn(0xf5, 0, 0, 0));
        // Merged calls: r3 = 29; if r2 == 4660 goto +1; r3 = 30; r2 = map; call.
        p.extend(insn(0xb7, 3, 0, 29));
        p.extend(insn(0x15, 2, 0, 4660));
        p.extend(insn(0xb7, 3, 0, 31));
        p.extend(insn(0x18, 2, 1, 44));
        p.extend(insn(0, 0, 0, 0));
        p.extend(insn(0x85, 0, 0, 12));
        assert_eq!(
            tail_call_sites(&p),
            vec![(42, 7), (43, 30), (44, 29), (44, 31)]
        );
        // Garbage and truncated input never panic.
        let mut r = crate::bpf::cilium::bytes::testutil::XorShift(77);
        for _ in 0..500 {
            let _ = tail_call_sites(&r.bytes(200));
        }
    }
}
