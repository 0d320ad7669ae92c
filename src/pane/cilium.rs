//! Shared pieces of the Cilium panes: identity names, address text, the layout label in
//! titles.

use super::format;
use crate::model::Snapshot;

/// A name for an identity ([`crate::model::identity::describe`]): the reserved name, else
/// the scope its number says; empty for cluster identities (their labels live in the agent,
/// not in BPF maps).
pub fn identity_name(id: u32) -> String {
    crate::model::identity::describe(id)
        .unwrap_or_default()
        .to_string()
}

/// `28461`, `2 world`.
pub fn identity_text(id: u32) -> String {
    let n = identity_name(id);
    if n.is_empty() {
        id.to_string()
    } else {
        format!("{id} {n}")
    }
}

/// `10.0.1.12:80`, `[fd00::12]:80`.
pub fn host_port(addr: &str, port: u16) -> String {
    if addr.contains(':') {
        format!("[{addr}]:{port}")
    } else {
        format!("{addr}:{port}")
    }
}

/// Counter that may not be counted.
pub fn count(v: Option<u64>) -> String {
    v.map_or_else(|| format::NONE.to_string(), |n| n.to_string())
}

/// A sort key that orders addresses numerically, IPv4 before IPv6, then by prefix length.
pub fn addr_sort_key(addr: &str) -> String {
    let (ip, len) = addr.split_once('/').unwrap_or((addr, ""));
    let len: u32 = len.parse().unwrap_or(0);
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(a)) => format!("4{:08x}/{len:03}", u32::from(a)),
        Ok(std::net::IpAddr::V6(a)) => format!("6{:032x}/{len:03}", u128::from(a)),
        Err(_) => format!("9{addr}"),
    }
}

/// The release layout the decoders used, for titles: `Cilium 1.18 layout`.
pub fn layout_label(snap: &Snapshot) -> Option<String> {
    let raw = snap
        .cilium
        .as_ref()
        .map(|c| c.layout.clone())
        .filter(|l| !l.trim().is_empty())
        .or_else(|| snap.tailcalls.iter().find_map(|t| t.layout.clone()))?;
    let version = raw.split_whitespace().next()?;
    Some(format!("Cilium {version} layout"))
}

/// ` · Cilium 1.18 layout` after a pane title, or nothing. Nothing when the pane is
/// unavailable: a node with no Cilium maps but a leftover `cilium_calls_*` prog array must not
/// read as decoded with some release's layout.
pub fn layout_suffix(snap: &Snapshot, pane: &str) -> String {
    if snap.unavailable_reason(pane).is_some() {
        return String::new();
    }
    layout_label(snap).map_or_else(String::new, |l| format!("· {l}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CiliumInfo;

    #[test]
    fn an_unavailable_pane_names_no_layout() {
        let mut s = Snapshot::empty();
        s.cilium = Some(CiliumInfo {
            layout: "1.18 (max_entries)".into(),
            ..Default::default()
        });
        assert_eq!(layout_suffix(&s, "conntrack"), "· Cilium 1.18 layout");
        s.node.unavailable.push(crate::model::Unavailable {
            pane: "conntrack".into(),
            reason: "no Cilium maps found".into(),
        });
        assert_eq!(layout_suffix(&s, "conntrack"), "");
        assert_eq!(layout_suffix(&s, "services"), "· Cilium 1.18 layout");
    }

    #[test]
    fn identity_names() {
        assert_eq!(identity_text(2), "2 world");
        assert_eq!(identity_text(7), "7 kube-apiserver");
        assert_eq!(identity_text(28461), "28461");
        assert_eq!(identity_text(0x0100_0004), "16777220 local (CIDR)");
        // Cilium's spelling, the same as the decoders' (one table).
        assert_eq!(identity_text(104), "104 coredns");
        assert_eq!(identity_text(114), "114 eks-coredns");
    }

    #[test]
    fn addresses_sort_numerically() {
        let mut v = vec!["10.0.1.12/32", "fd00::1/128", "9.9.9.9/32", "10.0.1.0/24"];
        v.sort_by_key(|a| addr_sort_key(a));
        assert_eq!(
            v,
            vec!["9.9.9.9/32", "10.0.1.0/24", "10.0.1.12/32", "fd00::1/128"]
        );
        assert_eq!(host_port("fd00::1", 80), "[fd00::1]:80");
    }

    #[test]
    fn layout_label_takes_the_version() {
        let mut s = Snapshot::empty();
        assert_eq!(layout_label(&s), None);
        s.cilium = Some(CiliumInfo {
            layout: "1.18 (policy value 8 B)".into(),
            ..Default::default()
        });
        assert_eq!(layout_label(&s).as_deref(), Some("Cilium 1.18 layout"));
    }
}
