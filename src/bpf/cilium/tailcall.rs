//! Tail-call arrays as the snapshot holds them: every PROG_ARRAY (Cilium's `cilium_calls_*`,
//! `cilium_call_policy`, `cilium_egresscall_policy`, or anyone's), its populated slots with
//! Cilium's symbolic slot names, the tail-call sites that index it, and the endpoint it belongs
//! to. The numbering is decided per array, from that array alone (cilium-maps.md §5): its size
//! (`CILIUM_CALL_SIZE`), the programs in its slots, and the release of its bpffs root, so two
//! releases side by side (an upgrade) are each named right. The rooted graph is
//! `model::tailgraph`.

use super::layout::Layout;
use crate::bpf::tail_sites::Site;
use crate::model::tailgraph::Graph;
use crate::model::{Attachment, Program, TailCallMap, TailCallSite, TailCallSlot};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

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

/// Kernel object names hold 15 characters; a name that long may have been cut.
const KERNEL_NAME_MAX: usize = 15;

/// The kind of a prog array by its name: the pin file name, or the kernel name, which may be
/// cut at 15 characters (`cilium_calls_ne` is a netdev array, `cilium_call_pol` the policy
/// array).
pub fn calls_kind(name: &str) -> CallsKind {
    let cut = name.len() == KERNEL_NAME_MAX;
    let is = |full: &str| name == full || (cut && full.starts_with(name));
    if is("cilium_call_policy") {
        return CallsKind::CallPolicy;
    }
    if is("cilium_egresscall_policy") {
        return CallsKind::EgressCallPolicy;
    }
    if name == "cilium_calls" {
        return CallsKind::Lxc;
    }
    let Some(rest) = name.strip_prefix("cilium_calls_") else {
        return CallsKind::Generic;
    };
    let has = |kw: &str| rest.starts_with(kw) || (cut && !rest.is_empty() && kw.starts_with(rest));
    if has("hostns_") || has("netdev_") {
        CallsKind::Host
    } else if has("overlay") {
        CallsKind::Overlay
    } else if has("wireguard") {
        CallsKind::Wireguard
    } else if has("xdp") {
        CallsKind::Xdp
    } else if has("custom_") {
        CallsKind::Custom
    } else {
        CallsKind::Lxc
    }
}

/// The Cilium object that fills a call array of this name (cilium-maps.md §1).
pub fn calls_object(name: &str) -> Option<&'static str> {
    let kind = calls_kind(name);
    let rest = name.strip_prefix("cilium_calls_").unwrap_or("");
    let cut = name.len() == KERNEL_NAME_MAX;
    Some(match kind {
        CallsKind::Lxc if name == "cilium_calls" => return None,
        CallsKind::Lxc => "bpf_lxc",
        CallsKind::Host if rest.starts_with("hostns_") || (cut && "hostns_".starts_with(rest)) => {
            "bpf_host (host endpoint)"
        }
        CallsKind::Host => "bpf_host",
        CallsKind::Overlay => "bpf_overlay",
        CallsKind::Wireguard => "bpf_wireguard",
        CallsKind::Xdp => "bpf_xdp",
        CallsKind::Custom => "custom calls",
        _ => return None,
    })
}

/// The endpoint id in a whole call-array name (`cilium_calls_00412`, `cilium_calls_custom_00412`,
/// `cilium_calls_hostns_00003`). Callers pass pin names, or kernel names known to be whole.
pub fn endpoint_from_name(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("cilium_calls_")?;
    let digits = rest
        .strip_prefix("custom_")
        .or_else(|| rest.strip_prefix("hostns_"))
        .unwrap_or(rest);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
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

/// The functions Cilium puts in a slot of this name (cilium-maps.md §5.3), per release where
/// they differ. Names, not kernel names: those are cut at 15 characters and collide.
fn slot_functions(call: &str, layout: Layout) -> &'static [&'static str] {
    let new = layout >= Layout::V1_18;
    match call {
        "DROP_NOTIFY" if new => &["tail_drop_notify"],
        "DROP_NOTIFY" => &["__send_drop_notify"],
        "HANDLE_ICMP6_NS" => &["tail_icmp6_handle_ns"],
        "SEND_ICMP6_TIME_EXCEEDED" => &["tail_icmp6_send_time_exceeded"],
        "ARP" => &["tail_handle_arp"],
        "IPV4_FROM_LXC" | "IPV4_FROM_NETDEV" | "IPV4_FROM_OVERLAY" | "IPV4_FROM_WIREGUARD" => &[
            "tail_handle_ipv4",
            "tail_handle_ipv4_from_netdev",
            "tail_lb_ipv4",
        ],
        "IPV6_FROM_LXC" | "IPV6_FROM_NETDEV" | "IPV6_FROM_OVERLAY" | "IPV6_FROM_WIREGUARD" => &[
            "tail_handle_ipv6",
            "tail_handle_ipv6_from_netdev",
            "tail_lb_ipv6",
        ],
        "IPV46_RFC6052" | "IPV46_RFC8215" => &["tail_nat_ipv46"],
        "IPV64_RFC6052" | "IPV64_RFC8215" => &["tail_nat_ipv64"],
        "IPV4_TO_LXC_POLICY_ONLY" => &["tail_ipv4_policy"],
        "IPV6_TO_LXC_POLICY_ONLY" => &["tail_ipv6_policy"],
        "IPV4_TO_HOST_POLICY_ONLY" => &["tail_ipv4_host_policy_ingress"],
        "IPV6_TO_HOST_POLICY_ONLY" => &["tail_ipv6_host_policy_ingress"],
        "IPV4_TO_ENDPOINT" => &["tail_ipv4_to_endpoint"],
        "IPV6_TO_ENDPOINT" => &["tail_ipv6_to_endpoint"],
        "IPV4_NODEPORT_NAT_EGRESS" => &["tail_nodeport_nat_egress_ipv4"],
        "IPV6_NODEPORT_NAT_EGRESS" => &["tail_nodeport_nat_egress_ipv6"],
        "IPV4_NODEPORT_REVNAT" if new => &["tail_nodeport_rev_dnat_ipv4"],
        "IPV4_NODEPORT_REVNAT" => &["tail_nodeport_rev_dnat_ingress_ipv4"],
        "IPV6_NODEPORT_REVNAT" | "IPV6_NODEPORT_REVNAT_INGRESS" => {
            &["tail_nodeport_rev_dnat_ingress_ipv6"]
        }
        "IPV6_NODEPORT_REVNAT_EGRESS" => &["tail_nodeport_rev_dnat_egress_ipv6"],
        "IPV4_NODEPORT_NAT_FWD" => &["tail_handle_nat_fwd_ipv4"],
        "IPV6_NODEPORT_NAT_FWD" => &["tail_handle_nat_fwd_ipv6"],
        "IPV4_NODEPORT_DSR" => &["tail_nodeport_ipv4_dsr"],
        "IPV6_NODEPORT_DSR" => &["tail_nodeport_ipv6_dsr"],
        "IPV4_FROM_HOST" => &["tail_handle_ipv4_from_host"],
        "IPV6_FROM_HOST" => &["tail_handle_ipv6_from_host"],
        "IPV4_FROM_LXC_CONT" => &["tail_handle_ipv4_cont"],
        "IPV6_FROM_LXC_CONT" => &["tail_handle_ipv6_cont"],
        "IPV4_CT_INGRESS" => &["tail_ipv4_ct_ingress"],
        "IPV4_CT_INGRESS_POLICY_ONLY" => &["tail_ipv4_ct_ingress_policy_only"],
        "IPV4_CT_EGRESS" => &["tail_ipv4_ct_egress"],
        "IPV6_CT_INGRESS" => &["tail_ipv6_ct_ingress"],
        "IPV6_CT_INGRESS_POLICY_ONLY" => &["tail_ipv6_ct_ingress_policy_only"],
        "IPV6_CT_EGRESS" => &["tail_ipv6_ct_egress"],
        "SRV6_ENCAP" => &["tail_srv6_encap"],
        "SRV6_DECAP" => &["tail_srv6_decap"],
        "SRV6_REPLY" => &["tail_srv6_reply"],
        "IPV4_NODEPORT_NAT_INGRESS" => &["tail_nodeport_nat_ingress_ipv4"],
        "IPV6_NODEPORT_NAT_INGRESS" => &["tail_nodeport_nat_ingress_ipv6"],
        "IPV4_NODEPORT_SNAT_FWD" => &["tail_handle_snat_fwd_ipv4"],
        "IPV6_NODEPORT_SNAT_FWD" => &["tail_handle_snat_fwd_ipv6"],
        "IPV4_INTER_CLUSTER_REVSNAT" => &["tail_handle_inter_cluster_revsnat"],
        "IPV4_CONT_FROM_HOST" => &["tail_handle_ipv4_cont_from_host"],
        "IPV4_CONT_FROM_NETDEV" => &["tail_handle_ipv4_cont_from_netdev"],
        "IPV6_CONT_FROM_HOST" => &["tail_handle_ipv6_cont_from_host"],
        "IPV6_CONT_FROM_NETDEV" => &["tail_handle_ipv6_cont_from_netdev"],
        "IPV4_NO_SERVICE" => &["tail_no_service_ipv4"],
        "IPV6_NO_SERVICE" => &["tail_no_service_ipv6"],
        "MULTICAST_EP_DELIVERY" => &["tail_mcast_ep_delivery"],
        "IPV4_POLICY_DENIED" => &["tail_policy_denied_ipv4"],
        _ => &[],
    }
}

/// A program's names: the full one (BTF) and the kernel's, cut at 15 characters.
#[derive(Debug, Clone, Copy)]
pub struct SlotProg<'a> {
    pub index: u32,
    pub name: &'a str,
    pub kernel_name: &'a str,
}

/// Whether a program's names are function `f`'s. A kernel name of 15 characters may be `f`
/// cut; it says less (`tail_handle_ipv` is four functions) but still tells releases apart.
fn is_function(p: &SlotProg, f: &str) -> bool {
    p.name == f
        || p.kernel_name == f
        || (p.kernel_name.len() == KERNEL_NAME_MAX && f.starts_with(p.kernel_name))
}

/// How many of the array's programs sit where `layout` puts their function.
fn fit(layout: Layout, kind: CallsKind, progs: &[SlotProg]) -> usize {
    progs
        .iter()
        .filter(|p| {
            slot_name(p.index, layout, kind)
                .is_some_and(|n| slot_functions(&n, layout).iter().any(|f| is_function(p, f)))
        })
        .count()
}

/// The numbering of one prog array, decided from that array alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallsLayout {
    /// The releases whose numbering the evidence allows (several when it cannot tell them
    /// apart: a slot is named only where they agree).
    pub layouts: Vec<Layout>,
    /// `48 slots (CILIUM_CALL_SIZE of 1.18)`, `...; tail_drop_notify in slot 1`.
    pub reason: String,
}

impl CallsLayout {
    /// `1.18`, `1.15 or 1.19/main`.
    pub fn label(&self) -> String {
        self.layouts
            .iter()
            .map(|l| l.label())
            .collect::<Vec<_>>()
            .join(" or ")
    }

    /// The slot's `CILIUM_CALL_*` name where every possible release agrees.
    pub fn slot_name(&self, index: u32, kind: CallsKind) -> Option<String> {
        let mut names = self.layouts.iter().map(|l| slot_name(index, *l, kind));
        let first = names.next()??;
        names.all(|n| n.as_deref() == Some(&first)).then_some(first)
    }
}

/// The numbering a `cilium_calls_*` array uses: its size (`CILIUM_CALL_SIZE`: 47 in 1.14, 49
/// in 1.15 and 1.19/main, 50 in 1.16–1.17, 48 in 1.18), then the programs in its slots, then
/// the release of the bpffs root it is pinned under. `None` when nothing points anywhere.
pub fn calls_layout(
    max_entries: u32,
    kind: CallsKind,
    progs: &[SlotProg],
    root: Option<Layout>,
) -> Option<CallsLayout> {
    let by_size: Vec<Layout> = Layout::ALL
        .iter()
        .copied()
        .filter(|l| l.call_size() == max_entries)
        .collect();
    let mut reason = match by_size.as_slice() {
        [] => format!("{max_entries} slots: no CILIUM_CALL_SIZE"),
        [one] => format!("{max_entries} slots (CILIUM_CALL_SIZE of {})", one.label()),
        many => format!(
            "{max_entries} slots (CILIUM_CALL_SIZE of {})",
            many.iter()
                .map(|l| l.label())
                .collect::<Vec<_>>()
                .join(" and ")
        ),
    };
    let mut cands = if by_size.is_empty() {
        Layout::ALL.to_vec()
    } else {
        by_size.clone()
    };
    if cands.len() > 1 {
        let scores: Vec<usize> = cands.iter().map(|l| fit(*l, kind, progs)).collect();
        let best = scores.iter().copied().max().unwrap_or(0);
        if best > 0 && scores.iter().any(|s| *s < best) {
            let keep: Vec<Layout> = cands
                .iter()
                .zip(&scores)
                .filter(|(_, s)| **s == best)
                .map(|(l, _)| *l)
                .collect();
            let dropped: Vec<Layout> = cands
                .iter()
                .copied()
                .filter(|l| !keep.contains(l))
                .collect();
            // Name one program that the kept numbering places and a dropped one does not.
            let telling = progs.iter().find(|p| {
                let fits = |l: &Layout| {
                    slot_name(p.index, *l, kind)
                        .is_some_and(|n| slot_functions(&n, *l).iter().any(|f| is_function(p, f)))
                };
                keep.iter().all(fits) && !dropped.iter().all(fits)
            });
            if let Some(p) = telling {
                let n = if p.name.is_empty() {
                    p.kernel_name
                } else {
                    p.name
                };
                reason.push_str(&format!("; {n} in slot {}", p.index));
            }
            cands = keep;
        }
    }
    if cands.len() > 1 {
        if let Some(r) = root.filter(|r| cands.contains(r)) {
            reason.push_str(&format!("; its bpffs root holds {} maps", r.label()));
            cands = vec![r];
        }
    }
    if by_size.is_empty() && cands.len() == Layout::ALL.len() {
        return None;
    }
    Some(CallsLayout {
        layouts: cands,
        reason,
    })
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
    /// The release the other Cilium maps of its bpffs root point to, when pinned under one.
    pub root_layout: Option<Layout>,
}

/// Names of a program not in the snapshot's program list (read by id by the caller).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProgNames {
    pub name: String,
    pub kernel_name: String,
    pub map_ids: Vec<u32>,
}

/// What else the caller read for the graph.
#[derive(Debug, Clone, Default)]
pub struct Extra {
    /// Programs missing from the program list (or listed without map ids).
    pub programs: HashMap<u32, ProgNames>,
    /// Tail-call sites per program, from its translated code.
    pub sites: HashMap<u32, Vec<Site>>,
    /// Endpoint ids read from entry programs' config, per array: (id, where from).
    pub endpoints: HashMap<u32, (u32, String)>,
}

/// Whether a name is the whole name of the object, not a kernel name cut at 15 characters.
fn whole_name(a: &ProgArray) -> bool {
    a.pinned.is_some() || a.name.len() < KERNEL_NAME_MAX
}

/// Build the tail-call view of every array.
pub fn build(
    arrays: &[ProgArray],
    programs: &[Program],
    attachments: &[Attachment],
    extra: &Extra,
) -> Vec<TailCallMap> {
    let mut names: HashMap<u32, ProgNames> = extra.programs.clone();
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
    // Call sites per array. A site whose array register was not fixed in its basic block
    // belongs to the program's only prog array, if it has one.
    let mut sites: HashMap<u32, BTreeSet<TailCallSite>> = HashMap::new();
    for (prog, list) in &extra.sites {
        if !names.contains_key(prog) {
            continue;
        }
        let arrays_used = calls_of(*prog);
        for s in list {
            let map = match s.map_id {
                Some(m) if array_ids.contains(&m) => Some(m),
                Some(_) => None,
                None if arrays_used.len() == 1 => arrays_used.first().copied(),
                None => None,
            };
            if let Some(m) = map {
                sites.entry(m).or_default().insert(TailCallSite {
                    prog_id: *prog,
                    index: s.index,
                });
            }
        }
    }
    let mut out = Vec::new();
    for a in arrays {
        let kind = calls_kind(&a.name);
        let progs: Vec<SlotProg> = a
            .slots
            .iter()
            .filter_map(|(index, prog)| {
                names.get(prog).map(|n| SlotProg {
                    index: *index,
                    name: &n.name,
                    kernel_name: &n.kernel_name,
                })
            })
            .collect();
        let layout = match kind {
            CallsKind::Generic | CallsKind::CallPolicy | CallsKind::EgressCallPolicy => None,
            _ => calls_layout(a.max_entries, kind, &progs, a.root_layout),
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
        let (endpoint_id, endpoint_source) = match (kind, a.name.as_str()) {
            (CallsKind::CallPolicy | CallsKind::EgressCallPolicy | CallsKind::Generic, _) => {
                (None, None)
            }
            (_, name) => match endpoint_from_name(name).filter(|_| whole_name(a)) {
                Some(ep) => (
                    Some(ep),
                    Some(if a.pinned.is_some() {
                        "pin name".to_string()
                    } else {
                        "map name".to_string()
                    }),
                ),
                None => match extra.endpoints.get(&a.map_id) {
                    Some((ep, from)) => (Some(*ep), Some(from.clone())),
                    None => (None, None),
                },
            },
        };
        let owner = owner_text(kind, endpoint_id, &owners, &names, attachments);
        let label = |index: u32| -> Option<String> {
            match kind {
                CallsKind::CallPolicy => Some(format!("endpoint {index} ingress policy")),
                CallsKind::EgressCallPolicy => Some(format!("endpoint {index} egress policy")),
                CallsKind::Generic | CallsKind::Custom => None,
                _ => layout.as_ref().and_then(|l| l.slot_name(index, kind)),
            }
        };
        let mut slots: BTreeMap<u32, TailCallSlot> = BTreeMap::new();
        for &(index, prog) in &a.slots {
            let n = names.get(&prog);
            slots.insert(
                index,
                TailCallSlot {
                    index,
                    slot_name: label(index),
                    prog_id: prog,
                    prog_name: n.map(|n| n.name.clone()).unwrap_or_default(),
                    kernel_name: n.map(|n| n.kernel_name.clone()).unwrap_or_default(),
                    empty: false,
                    calls_maps: calls_of(prog),
                    cycle: false,
                },
            );
        }
        let my_sites: Vec<TailCallSite> = sites
            .remove(&a.map_id)
            .map(|s| s.into_iter().collect())
            .unwrap_or_default();
        // Empty slots that code calls at a certain index: a broken path, worth showing.
        for index in my_sites.iter().filter_map(|s| s.index) {
            slots.entry(index).or_insert_with(|| TailCallSlot {
                index,
                slot_name: label(index),
                empty: true,
                ..Default::default()
            });
        }
        out.push(TailCallMap {
            map_id: a.map_id,
            map_name: a.name.clone(),
            owner,
            layout: layout.as_ref().map(CallsLayout::label),
            slots: slots.into_values().collect(),
            kind: kind_label(kind).into(),
            owner_prog_ids: owners,
            max_entries: a.max_entries,
            pinned: a.pinned.clone(),
            endpoint_id,
            endpoint_source,
            object: calls_object(&a.name).map(str::to_string),
            layout_reason: layout.map(|l| l.reason),
            sites: my_sites,
        });
    }
    out.sort_by(|x, y| x.map_name.cmp(&y.map_name).then(x.map_id.cmp(&y.map_id)));
    // A program is a cycle only when it is reachable from itself.
    let cyclic: HashSet<u32> = {
        let g = Graph::new(&out, programs);
        out.iter()
            .flat_map(|m| m.slots.iter().map(|s| s.prog_id))
            .filter(|p| *p != 0 && g.reaches_itself(*p))
            .collect()
    };
    for m in &mut out {
        for s in &mut m.slots {
            s.cycle = cyclic.contains(&s.prog_id);
        }
    }
    out
}

fn owner_text(
    kind: CallsKind,
    endpoint: Option<u32>,
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
        CallsKind::Lxc | CallsKind::Custom => {
            Some(endpoint.map_or_else(|| "endpoint ?".to_string(), |ep| format!("endpoint {ep}")))
        }
        _ => None,
    }
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
    }

    #[test]
    fn kinds_and_endpoints_from_whole_or_cut_names() {
        assert_eq!(calls_kind("cilium_calls_netdev_00002"), CallsKind::Host);
        assert_eq!(calls_kind("cilium_calls_00403"), CallsKind::Lxc);
        assert_eq!(calls_kind("jmp_table"), CallsKind::Generic);
        // Kernel names, cut at 15 characters.
        assert_eq!(calls_kind("cilium_calls_ne"), CallsKind::Host);
        assert_eq!(calls_kind("cilium_calls_ho"), CallsKind::Host);
        assert_eq!(calls_kind("cilium_calls_xd"), CallsKind::Xdp);
        assert_eq!(calls_kind("cilium_calls_ov"), CallsKind::Overlay);
        assert_eq!(calls_kind("cilium_calls_01"), CallsKind::Lxc);
        assert_eq!(calls_kind("cilium_call_pol"), CallsKind::CallPolicy);
        assert_eq!(calls_kind("cilium_egressca"), CallsKind::EgressCallPolicy);
        assert_eq!(
            calls_object("cilium_calls_ho"),
            Some("bpf_host (host endpoint)")
        );
        assert_eq!(calls_object("cilium_calls_netdev_00002"), Some("bpf_host"));
        assert_eq!(calls_object("cilium_calls_01"), Some("bpf_lxc"));
        assert_eq!(endpoint_from_name("cilium_calls_00403"), Some(403));
        assert_eq!(endpoint_from_name("cilium_calls_custom_00412"), Some(412));
        assert_eq!(endpoint_from_name("cilium_calls_hostns_00003"), Some(3));
        assert_eq!(endpoint_from_name("cilium_calls_netdev_00002"), None);
        assert_eq!(endpoint_from_name("cilium_calls_overlay_2"), None);
        assert_eq!(endpoint_from_name("cilium_calls_"), None);
    }

    fn sp(index: u32, name: &'static str) -> SlotProg<'static> {
        SlotProg {
            index,
            name,
            kernel_name: "",
        }
    }

    #[test]
    fn layout_from_the_array_alone() {
        use Layout::*;
        let lay = |max, progs: &[SlotProg], root| calls_layout(max, CallsKind::Lxc, progs, root);
        // The case: main's root, a 1.17 array (50 slots). Slot 25 is 1.17's
        // IPV4_FROM_LXC_CONT, not main's IPV6_NODEPORT_NAT_FWD.
        let l = lay(50, &[sp(25, "tail_handle_ipv4_cont")], Some(Main)).unwrap();
        assert_eq!(l.layouts, vec![V1_16, V1_17]);
        assert_eq!(l.label(), "1.16 or 1.17");
        assert_eq!(
            l.slot_name(25, CallsKind::Lxc).as_deref(),
            Some("IPV4_FROM_LXC_CONT")
        );
        assert_eq!(
            l.slot_name(26, CallsKind::Lxc).as_deref(),
            Some("IPV6_FROM_LXC_CONT")
        );
        // 1.16 and 1.17 are told apart by the root only.
        let l = lay(50, &[], Some(V1_16)).unwrap();
        assert_eq!(l.layouts, vec![V1_16]);
        assert!(
            l.reason.ends_with("its bpffs root holds 1.16 maps"),
            "{}",
            l.reason
        );
        // 48 slots are 1.18 whatever the root says.
        let l = lay(48, &[], Some(Main)).unwrap();
        assert_eq!(
            (l.layouts.clone(), l.reason.as_str()),
            (vec![V1_18], "48 slots (CILIUM_CALL_SIZE of 1.18)")
        );
        // 49 slots: 1.15 or main, told apart by the programs in the slots...
        let l = lay(49, &[sp(48, "tail_policy_denied_ipv4")], None).unwrap();
        assert_eq!(l.layouts, vec![Main]);
        assert_eq!(
            l.reason,
            "49 slots (CILIUM_CALL_SIZE of 1.15 and 1.19/main); tail_policy_denied_ipv4 in slot 48"
        );
        let l = lay(
            49,
            &[sp(1, "__send_drop_notify"), sp(7, "tail_handle_ipv4")],
            None,
        );
        assert_eq!(l.unwrap().layouts, vec![V1_15]);
        let cut = SlotProg {
            index: 48,
            name: "",
            kernel_name: "tail_no_service",
        };
        assert_eq!(lay(49, &[cut], None).unwrap().layouts, vec![V1_15]);
        // ...else by the root; else both, naming only the slots they agree on.
        assert_eq!(lay(49, &[], Some(V1_15)).unwrap().layouts, vec![V1_15]);
        let l = lay(49, &[sp(7, "tail_handle_ipv4")], None).unwrap();
        assert_eq!(l.label(), "1.15 or 1.19/main");
        assert_eq!(
            l.slot_name(7, CallsKind::Lxc).as_deref(),
            Some("IPV4_FROM_LXC")
        );
        assert_eq!(l.slot_name(47, CallsKind::Lxc), None);
        // A size no release uses, and nothing else: no numbering at all.
        assert_eq!(lay(33, &[], None), None);
        assert_eq!(
            lay(33, &[sp(48, "tail_policy_denied_ipv4")], None)
                .unwrap()
                .layouts,
            vec![Main]
        );
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

    fn site(map: u32, index: Option<u32>) -> Site {
        Site {
            insn: 0,
            map_id: Some(map),
            index,
        }
    }

    #[test]
    fn arrays_with_names_sites_endpoints_and_cycles() {
        let array = |map_id, name: &str, max, pinned: bool, slots: Vec<(u32, u32)>| ProgArray {
            map_id,
            name: name.into(),
            max_entries: max,
            pinned: pinned.then(|| format!("/sys/fs/bpf/tc/globals/{name}")),
            slots,
            root_layout: None,
        };
        let arrays = vec![
            array(10, "cilium_calls_00403", 48, true, vec![(7, 2), (30, 3)]),
            array(11, "cilium_call_policy", 65535, true, vec![(403, 4)]),
            array(12, "jmp", 4, false, vec![(0, 5)]),
            // Unpinned, kernel name cut: the endpoint is not 1.
            array(13, "cilium_calls_01", 48, false, vec![(7, 6)]),
            array(14, "cilium_calls_01", 48, false, vec![]),
        ];
        let programs = vec![
            prog(1, "cil_from_container", &[10, 99]),
            prog(2, "tail_handle_ipv4", &[10]),
            prog(3, "tail_ipv4_ct_egress", &[10, 11]),
            prog(4, "cil_lxc_policy", &[]),
            prog(5, "loop", &[12]),
            prog(6, "tail_handle_ipv4", &[13]),
            prog(7, "cil_from_container", &[13]),
            prog(8, "cil_from_container", &[14]),
        ];
        let att = vec![Attachment {
            ifindex: 7,
            ifname: "lxc1".into(),
            hook: "tcx_ingress".into(),
            prog_id: 1,
            ..Default::default()
        }];
        let mut extra = Extra::default();
        extra.sites.insert(1, vec![site(10, Some(7))]);
        // 28 is called for certain and empty; the unknown site is kept as unknown.
        extra.sites.insert(
            2,
            vec![site(10, Some(30)), site(10, Some(28)), site(10, None)],
        );
        // The array register not fixed: the program has two arrays, so nothing is guessed.
        extra.sites.insert(
            3,
            vec![
                site(11, Some(403)),
                Site {
                    insn: 9,
                    map_id: None,
                    index: Some(1),
                },
            ],
        );
        extra.sites.insert(5, vec![site(12, Some(0))]);
        extra
            .endpoints
            .insert(13, (1717, "__config_endpoint_id of prog 7".into()));
        let t = build(&arrays, &programs, &att, &extra);
        let calls = t.iter().find(|m| m.map_id == 10).unwrap();
        assert_eq!(
            calls.owner.as_deref(),
            Some("cil_from_container on lxc1 (tcx_ingress)")
        );
        assert_eq!(calls.owner_prog_ids, vec![1]);
        assert_eq!(calls.layout.as_deref(), Some("1.18"));
        assert_eq!(
            (
                calls.endpoint_id,
                calls.endpoint_source.as_deref(),
                calls.object.as_deref()
            ),
            (Some(403), Some("pin name"), Some("bpf_lxc"))
        );
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
        // No cycle: nothing here reaches itself (a call into the array one sits in is not one).
        assert_eq!(
            s,
            vec![
                (7, Some("IPV4_FROM_LXC"), "tail_handle_ipv4", false, false),
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
        let sites: Vec<(u32, Option<u32>)> =
            calls.sites.iter().map(|s| (s.prog_id, s.index)).collect();
        assert_eq!(
            sites,
            vec![(1, Some(7)), (2, None), (2, Some(28)), (2, Some(30))]
        );
        assert_eq!(calls.slots[2].calls_maps, vec![10, 11]);
        let pol = t.iter().find(|m| m.map_id == 11).unwrap();
        assert_eq!(
            pol.slots[0].slot_name.as_deref(),
            Some("endpoint 403 ingress policy")
        );
        assert_eq!((pol.kind.as_str(), pol.endpoint_id), ("call_policy", None));
        assert_eq!(pol.sites.len(), 1);
        let generic = t.iter().find(|m| m.map_id == 12).unwrap();
        assert_eq!(
            (generic.slots[0].slot_name.clone(), generic.kind.as_str()),
            (None, "generic")
        );
        assert!(generic.slots[0].cycle, "loop tail-calls its own slot");
        let cut = t.iter().find(|m| m.map_id == 13).unwrap();
        assert_eq!(
            (cut.endpoint_id, cut.endpoint_source.as_deref()),
            (Some(1717), Some("__config_endpoint_id of prog 7"))
        );
        let unknown = t.iter().find(|m| m.map_id == 14).unwrap();
        assert_eq!(
            (unknown.endpoint_id, unknown.owner.as_deref()),
            (None, Some("cil_from_container"))
        );
    }

    #[test]
    fn two_releases_side_by_side_are_each_named_by_their_own_array() {
        let arrays = vec![
            ProgArray {
                map_id: 20,
                name: "cilium_calls_00412".into(),
                max_entries: 50,
                pinned: Some("/run/old/tc/globals/cilium_calls_00412".into()),
                slots: vec![(25, 1), (26, 2)],
                root_layout: Some(Layout::V1_17),
            },
            ProgArray {
                map_id: 21,
                name: "cilium_calls_00412".into(),
                max_entries: 48,
                pinned: Some("/sys/fs/bpf/tc/globals/cilium_calls_00412".into()),
                slots: vec![(26, 3)],
                root_layout: Some(Layout::Main),
            },
        ];
        let programs = vec![
            prog(1, "tail_handle_ipv4_cont", &[20]),
            prog(2, "tail_handle_ipv6_cont", &[20]),
            prog(3, "tail_handle_ipv4_cont", &[21]),
        ];
        let t = build(&arrays, &programs, &[], &Extra::default());
        let names = |id: u32| -> (Option<String>, Vec<(u32, Option<String>)>) {
            let m = t.iter().find(|m| m.map_id == id).unwrap();
            (
                m.layout.clone(),
                m.slots
                    .iter()
                    .map(|s| (s.index, s.slot_name.clone()))
                    .collect(),
            )
        };
        assert_eq!(
            names(20),
            (
                Some("1.17".into()),
                vec![
                    (25, Some("IPV4_FROM_LXC_CONT".into())),
                    (26, Some("IPV6_FROM_LXC_CONT".into()))
                ]
            )
        );
        assert_eq!(
            names(21),
            (
                Some("1.18".into()),
                vec![(26, Some("IPV4_FROM_LXC_CONT".into()))]
            )
        );
    }
}
