//! Which decoder reads which pinned map: name pattern + map type + key size + value size
//! (+ name variant). One entry per map kind, in the spirit of one renderer per resource.

/// The kinds of Cilium maps dpscope decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapKind {
    Services {
        v6: bool,
    },
    Backends {
        v6: bool,
    },
    Ct {
        v6: bool,
    },
    Ipcache,
    Lxc,
    /// `v2`: `cilium_policy_v2_NNNNN` (1.17+) vs `cilium_policy_NNNNN`.
    Policy {
        v2: bool,
    },
    PolicyStats,
    Metrics,
    Calls,
    /// Layout evidence only.
    NodeMapV2,
}

impl MapKind {
    /// The pane a map kind feeds.
    pub fn pane(self) -> &'static str {
        match self {
            MapKind::Services { .. } | MapKind::Backends { .. } => "services",
            MapKind::Ct { .. } => "conntrack",
            MapKind::Ipcache => "identities",
            MapKind::Lxc => "endpoints",
            MapKind::Policy { .. } | MapKind::PolicyStats => "policy",
            MapKind::Metrics => "metrics",
            MapKind::Calls => "tailcalls",
            MapKind::NodeMapV2 => "node",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// A Cilium map with sizes of a known layout.
    Known(MapKind),
    /// A Cilium map name whose type or sizes match no known layout: show raw entries.
    Mismatch(MapKind),
    NotCilium,
}

#[derive(Debug, Clone, Copy)]
enum Pattern {
    Exact(&'static str),
    /// Prefix followed by an endpoint id (digits, or `reserved_<digits>`).
    PrefixId(&'static str),
    Prefix(&'static str),
}

impl Pattern {
    fn matches(self, name: &str) -> bool {
        match self {
            Pattern::Exact(n) => name == n,
            Pattern::Prefix(p) => name.starts_with(p),
            Pattern::PrefixId(p) => name.strip_prefix(p).is_some_and(|rest| {
                let id = rest.strip_prefix("reserved_").unwrap_or(rest);
                !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
            }),
        }
    }
}

struct Spec {
    pattern: Pattern,
    map_types: &'static [u32],
    key_size: u32,
    value_sizes: &'static [u32],
    kind: MapKind,
}

use libbpf_sys as s;
const HASH: &[u32] = &[s::BPF_MAP_TYPE_HASH];
const LRU: &[u32] = &[s::BPF_MAP_TYPE_LRU_HASH];
const LPM: &[u32] = &[s::BPF_MAP_TYPE_LPM_TRIE];
const PROG: &[u32] = &[s::BPF_MAP_TYPE_PROG_ARRAY];

/// Order matters: the first pattern that matches decides the kind.
const REGISTRY: &[Spec] = &[
    Spec {
        pattern: Pattern::Exact("cilium_lb4_services_v2"),
        map_types: HASH,
        key_size: 12,
        value_sizes: &[12],
        kind: MapKind::Services { v6: false },
    },
    Spec {
        pattern: Pattern::Exact("cilium_lb6_services_v2"),
        map_types: HASH,
        key_size: 24,
        value_sizes: &[12],
        kind: MapKind::Services { v6: true },
    },
    Spec {
        pattern: Pattern::Exact("cilium_lb4_backends_v3"),
        map_types: HASH,
        key_size: 4,
        value_sizes: &[12],
        kind: MapKind::Backends { v6: false },
    },
    Spec {
        pattern: Pattern::Exact("cilium_lb6_backends_v3"),
        map_types: HASH,
        key_size: 4,
        value_sizes: &[24],
        kind: MapKind::Backends { v6: true },
    },
    Spec {
        pattern: Pattern::Exact("cilium_ct4_global"),
        map_types: LRU,
        key_size: 14,
        value_sizes: &[56],
        kind: MapKind::Ct { v6: false },
    },
    Spec {
        pattern: Pattern::Exact("cilium_ct_any4_global"),
        map_types: LRU,
        key_size: 14,
        value_sizes: &[56],
        kind: MapKind::Ct { v6: false },
    },
    Spec {
        pattern: Pattern::Exact("cilium_ct6_global"),
        map_types: LRU,
        key_size: 38,
        value_sizes: &[56],
        kind: MapKind::Ct { v6: true },
    },
    Spec {
        pattern: Pattern::Exact("cilium_ct_any6_global"),
        map_types: LRU,
        key_size: 38,
        value_sizes: &[56],
        kind: MapKind::Ct { v6: true },
    },
    Spec {
        pattern: Pattern::Exact("cilium_ipcache_v2"),
        map_types: LPM,
        key_size: 24,
        value_sizes: &[24],
        kind: MapKind::Ipcache,
    },
    Spec {
        pattern: Pattern::Exact("cilium_ipcache"),
        map_types: LPM,
        key_size: 24,
        value_sizes: &[12],
        kind: MapKind::Ipcache,
    },
    Spec {
        pattern: Pattern::Exact("cilium_lxc"),
        map_types: HASH,
        key_size: 20,
        value_sizes: &[48],
        kind: MapKind::Lxc,
    },
    Spec {
        pattern: Pattern::PrefixId("cilium_policy_v2_"),
        map_types: LPM,
        key_size: 12,
        value_sizes: &[24, 8, 12],
        kind: MapKind::Policy { v2: true },
    },
    Spec {
        pattern: Pattern::PrefixId("cilium_policy_"),
        map_types: LPM,
        key_size: 12,
        value_sizes: &[24],
        kind: MapKind::Policy { v2: false },
    },
    Spec {
        pattern: Pattern::Exact("cilium_policystats"),
        map_types: &[s::BPF_MAP_TYPE_LRU_PERCPU_HASH, s::BPF_MAP_TYPE_PERCPU_HASH],
        key_size: 12,
        value_sizes: &[16],
        kind: MapKind::PolicyStats,
    },
    Spec {
        pattern: Pattern::Exact("cilium_metrics"),
        map_types: &[s::BPF_MAP_TYPE_PERCPU_HASH],
        key_size: 8,
        value_sizes: &[16],
        kind: MapKind::Metrics,
    },
    Spec {
        pattern: Pattern::Exact("cilium_call_policy"),
        map_types: PROG,
        key_size: 4,
        value_sizes: &[4],
        kind: MapKind::Calls,
    },
    Spec {
        pattern: Pattern::Exact("cilium_egresscall_policy"),
        map_types: PROG,
        key_size: 4,
        value_sizes: &[4],
        kind: MapKind::Calls,
    },
    Spec {
        pattern: Pattern::Prefix("cilium_calls_"),
        map_types: PROG,
        key_size: 4,
        value_sizes: &[4],
        kind: MapKind::Calls,
    },
    Spec {
        pattern: Pattern::Exact("cilium_node_map_v2"),
        map_types: HASH,
        key_size: 20,
        value_sizes: &[4],
        kind: MapKind::NodeMapV2,
    },
];

/// The decoder for a pinned map (by its pin file name, not the 15-char kernel name).
pub fn lookup(name: &str, map_type: u32, key_size: u32, value_size: u32) -> Lookup {
    for spec in REGISTRY {
        if spec.pattern.matches(name) {
            return if spec.map_types.contains(&map_type)
                && spec.key_size == key_size
                && spec.value_sizes.contains(&value_size)
            {
                Lookup::Known(spec.kind)
            } else {
                Lookup::Mismatch(spec.kind)
            };
        }
    }
    Lookup::NotCilium
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_sizes_pick_decoders() {
        assert_eq!(
            lookup("cilium_ct4_global", s::BPF_MAP_TYPE_LRU_HASH, 14, 56),
            Lookup::Known(MapKind::Ct { v6: false })
        );
        assert_eq!(
            lookup("cilium_ct_any6_global", s::BPF_MAP_TYPE_LRU_HASH, 38, 56),
            Lookup::Known(MapKind::Ct { v6: true })
        );
        assert_eq!(
            lookup("cilium_ct4_global", s::BPF_MAP_TYPE_LRU_HASH, 14, 64),
            Lookup::Mismatch(MapKind::Ct { v6: false })
        );
        assert_eq!(
            lookup("cilium_policy_v2_00403", s::BPF_MAP_TYPE_LPM_TRIE, 12, 8),
            Lookup::Known(MapKind::Policy { v2: true })
        );
        assert_eq!(
            lookup("cilium_policy_v2_00403", s::BPF_MAP_TYPE_LPM_TRIE, 12, 16),
            Lookup::Mismatch(MapKind::Policy { v2: true })
        );
        assert_eq!(
            lookup("cilium_policy_00403", s::BPF_MAP_TYPE_LPM_TRIE, 12, 24),
            Lookup::Known(MapKind::Policy { v2: false })
        );
        assert_eq!(
            lookup("cilium_policy_reserved_1", s::BPF_MAP_TYPE_LPM_TRIE, 12, 24),
            Lookup::Known(MapKind::Policy { v2: false })
        );
        assert_eq!(
            lookup("cilium_policy_00403", s::BPF_MAP_TYPE_LPM_TRIE, 12, 8),
            Lookup::Mismatch(MapKind::Policy { v2: false })
        );
        assert_eq!(
            lookup(
                "cilium_policystats",
                s::BPF_MAP_TYPE_LRU_PERCPU_HASH,
                12,
                16
            ),
            Lookup::Known(MapKind::PolicyStats)
        );
        assert_eq!(
            lookup("cilium_ipcache", s::BPF_MAP_TYPE_LPM_TRIE, 24, 12),
            Lookup::Known(MapKind::Ipcache)
        );
        assert_eq!(
            lookup("cilium_ipcache", s::BPF_MAP_TYPE_LPM_TRIE, 24, 24),
            Lookup::Mismatch(MapKind::Ipcache)
        );
        assert_eq!(
            lookup("cilium_ipcache_v2", s::BPF_MAP_TYPE_LPM_TRIE, 24, 24),
            Lookup::Known(MapKind::Ipcache)
        );
        assert_eq!(
            lookup("cilium_calls_00403", s::BPF_MAP_TYPE_PROG_ARRAY, 4, 4),
            Lookup::Known(MapKind::Calls)
        );
        assert_eq!(
            lookup("cilium_metrics", s::BPF_MAP_TYPE_HASH, 8, 16),
            Lookup::Mismatch(MapKind::Metrics)
        );
        assert_eq!(
            lookup("cilium_events", s::BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4),
            Lookup::NotCilium
        );
        assert_eq!(
            lookup("my_map", s::BPF_MAP_TYPE_HASH, 14, 56),
            Lookup::NotCilium
        );
        assert_eq!(MapKind::Backends { v6: true }.pane(), "services");
    }
}
