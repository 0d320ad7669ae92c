//! Names of Cilium's security identities: the one table the decoders and the panes share.
//!
//! Spelling follows Cilium itself. Reserved identities 0–11 carry the names Cilium registers
//! for them (`pkg/identity/numericidentity.go`, `ReservedIdentitySet`, with the `IDName*`
//! strings of `pkg/labels`). The well-known identities 100–115 have no registered name in
//! Cilium (its `NumericIdentity.String()` prints the number); they are named here after their
//! constants (`ReservedEKSCoreDNS` → `eks-coredns`) with Cilium's own label spelling of the
//! component (`coredns`, as in `eks.amazonaws.com/component=coredns`). Scope ranges follow the
//! identity-scope comments of the same file. cilium-maps.md §4.4.

/// The name Cilium gives `id` (`host`, `world`, `kube-dns`...), or `None` for other ids.
pub fn reserved_name(id: u32) -> Option<&'static str> {
    Some(match id {
        0 => "unknown",
        1 => "host",
        2 => "world",
        3 => "unmanaged",
        4 => "health",
        5 => "init",
        6 => "remote-node",
        7 => "kube-apiserver",
        8 => "ingress",
        9 => "world-ipv4",
        10 => "world-ipv6",
        11 => "overlay-to-encrypt",
        // Well-known identities; 108–115 are the second set (namespace-name label).
        100 | 108 => "etcd-operator",
        101 | 109 => "cilium-kvstore",
        102 | 110 => "kube-dns",
        103 | 111 => "eks-kube-dns",
        104 | 112 => "coredns",
        105 | 113 => "cilium-operator",
        106 | 114 => "eks-coredns",
        107 | 115 => "cilium-etcd-operator",
        _ => return None,
    })
}

/// A name for any identity: its reserved name, else what its numeric range says
/// (`reserved`, `local (CIDR)`, `remote-node scoped`); `None` for cluster identities, whose
/// labels live in the agent, not in BPF maps. Constant time: it runs per row on tables of
/// half a million entries.
pub fn describe(id: u32) -> Option<&'static str> {
    if let Some(n) = reserved_name(id) {
        return Some(n);
    }
    match id {
        12..=255 => Some("reserved"),
        0x0100_0000..=0x01FF_FFFF => Some("local (CIDR)"),
        0x0200_0000..=0x02FF_FFFF => Some("remote-node scoped"),
        _ => None,
    }
}

/// As [`describe`], with identity 0 as a policy key: the `any` wildcard.
pub fn policy_name(id: u32) -> Option<&'static str> {
    if id == 0 {
        Some("any")
    } else {
        describe(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cilium_spelling() {
        let names: Vec<&str> = (0..=11).filter_map(reserved_name).collect();
        assert_eq!(
            names,
            [
                "unknown",
                "host",
                "world",
                "unmanaged",
                "health",
                "init",
                "remote-node",
                "kube-apiserver",
                "ingress",
                "world-ipv4",
                "world-ipv6",
                "overlay-to-encrypt"
            ]
        );
        assert_eq!(reserved_name(106), Some("eks-coredns"));
        assert_eq!(reserved_name(114), Some("eks-coredns"));
        assert_eq!(reserved_name(104), Some("coredns"));
        assert_eq!(reserved_name(110), Some("kube-dns"));
        assert_eq!(reserved_name(28461), None);
    }

    #[test]
    fn ranges_and_the_policy_wildcard() {
        assert_eq!(describe(0x0100_0005), Some("local (CIDR)"));
        assert_eq!(describe(0x0200_0001), Some("remote-node scoped"));
        assert_eq!(describe(200), Some("reserved"));
        assert_eq!(describe(70000), None);
        assert_eq!(describe(0), Some("unknown"));
        assert_eq!(policy_name(0), Some("any"));
        assert_eq!(policy_name(2), Some("world"));
    }
}
