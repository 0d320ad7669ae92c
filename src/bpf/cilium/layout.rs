//! Which Cilium release's on-node map layouts a node uses.
//!
//! Cilium never versions most of its maps by name, so the layout is inferred from the set of
//! pinned maps: policy map name and value size, ipcache name, and the size of the tail-call
//! arrays (`CILIUM_CALL_SIZE` differs per release). See cilium-maps.md §8 and §10.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layout {
    V1_14,
    V1_15,
    V1_16,
    V1_17,
    V1_18,
    /// main / 1.19-dev.
    Main,
}

impl Layout {
    pub const ALL: [Layout; 6] = [
        Layout::V1_14,
        Layout::V1_15,
        Layout::V1_16,
        Layout::V1_17,
        Layout::V1_18,
        Layout::Main,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Layout::V1_14 => "1.14",
            Layout::V1_15 => "1.15",
            Layout::V1_16 => "1.16",
            Layout::V1_17 => "1.17",
            Layout::V1_18 => "1.18",
            Layout::Main => "1.19/main",
        }
    }

    /// `CILIUM_CALL_SIZE`, the max_entries of every `cilium_calls_*` array.
    pub fn call_size(self) -> u32 {
        match self {
            Layout::V1_14 => 47,
            Layout::V1_15 => 49,
            Layout::V1_16 | Layout::V1_17 => 50,
            Layout::V1_18 => 48,
            Layout::Main => 49,
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What the pinned maps of one node say about its release.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evidence {
    /// Value size of a `cilium_policy_NNNNN` (v1 name) map, if any.
    pub policy_v1_value: Option<u32>,
    /// Value size of a `cilium_policy_v2_NNNNN` map, if any.
    pub policy_v2_value: Option<u32>,
    pub has_ipcache_v1: bool,
    pub has_ipcache_v2: bool,
    pub has_policystats: bool,
    pub has_node_map_v2: bool,
    /// max_entries of `cilium_calls_*` arrays seen.
    pub call_sizes: Vec<u32>,
}

/// The layout the evidence points to, with a short reason; `None` when it is contradictory
/// or empty.
pub fn detect(ev: &Evidence) -> Option<(Layout, String)> {
    use Layout::*;
    let calls = |l: Layout| ev.call_sizes.contains(&l.call_size());
    if let Some(v) = ev.policy_v2_value {
        return match v {
            12 => Some((Main, "policy value 12 B".into())),
            8 => Some((V1_18, "policy value 8 B".into())),
            24 => Some((V1_17, "cilium_policy_v2_ with 24 B value".into())),
            _ => None,
        };
    }
    if ev.has_ipcache_v2 || ev.has_policystats {
        // 1.18+ without any endpoint policy map: tell 1.18 from main by the call array size.
        return if calls(Main) && !calls(V1_18) {
            Some((Main, "cilium_ipcache_v2 and 49-slot call arrays".into()))
        } else {
            Some((V1_18, "cilium_ipcache_v2".into()))
        };
    }
    if ev.policy_v1_value.is_some() || ev.has_ipcache_v1 || !ev.call_sizes.is_empty() {
        if ev.policy_v1_value.is_some_and(|v| v != 24) {
            return None;
        }
        if calls(V1_14) {
            return Some((V1_14, "47-slot call arrays".into()));
        }
        if calls(V1_15) {
            return Some((V1_15, "49-slot call arrays without ipcache_v2".into()));
        }
        if calls(V1_16) {
            // 1.17 renamed the policy map; a v1 name or no policy map at all means 1.16.
            return Some((V1_16, "50-slot call arrays, cilium_policy_ name".into()));
        }
        if ev.has_node_map_v2 {
            return Some((V1_16, "cilium_node_map_v2 with the v1 policy name".into()));
        }
        if ev.policy_v1_value.is_some() || ev.has_ipcache_v1 {
            return Some((
                V1_16,
                "v1 policy/ipcache names (1.14–1.16; assumed 1.16)".into(),
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev() -> Evidence {
        Evidence::default()
    }

    #[test]
    fn each_release_is_detected_from_its_maps() {
        let mut e = ev();
        e.policy_v2_value = Some(12);
        e.has_ipcache_v2 = true;
        assert_eq!(detect(&e).map(|d| d.0), Some(Layout::Main));
        e.policy_v2_value = Some(8);
        assert_eq!(detect(&e).map(|d| d.0), Some(Layout::V1_18));
        let mut e = ev();
        e.policy_v2_value = Some(24);
        e.has_ipcache_v1 = true;
        assert_eq!(detect(&e).map(|d| d.0), Some(Layout::V1_17));
        for (size, want) in [
            (47, Layout::V1_14),
            (49, Layout::V1_15),
            (50, Layout::V1_16),
        ] {
            let mut e = ev();
            e.policy_v1_value = Some(24);
            e.has_ipcache_v1 = true;
            e.call_sizes = vec![size];
            assert_eq!(detect(&e).map(|d| d.0), Some(want), "{size}");
        }
        let mut e = ev();
        e.has_ipcache_v2 = true;
        e.call_sizes = vec![49];
        assert_eq!(detect(&e).map(|d| d.0), Some(Layout::Main));
        e.call_sizes = vec![48];
        assert_eq!(detect(&e).map(|d| d.0), Some(Layout::V1_18));
    }

    #[test]
    fn unknown_sizes_detect_nothing() {
        assert_eq!(detect(&ev()), None);
        let mut e = ev();
        e.policy_v2_value = Some(16);
        assert_eq!(detect(&e), None);
        let mut e = ev();
        e.policy_v1_value = Some(8);
        assert_eq!(detect(&e), None);
    }
}
