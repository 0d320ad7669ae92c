//! Names of Cilium's reserved and well-known security identities (cilium-maps.md §4.4).

/// The reserved name of `id` (`host`, `world`, `kube-dns`...), or `None` for allocated ids.
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
        100 | 108 => "etcd-operator",
        101 | 109 => "cilium-kvstore",
        102 | 110 => "kube-dns",
        103 | 111 => "eks-kube-dns",
        104 | 112 => "core-dns",
        105 | 113 => "cilium-operator",
        106 | 114 => "eks-core-dns",
        107 | 115 => "cilium-etcd-operator",
        _ => return None,
    })
}

/// A name for any identity: reserved names, or the scope of the numeric range.
pub fn describe(id: u32) -> Option<String> {
    if let Some(n) = reserved_name(id) {
        return Some(n.to_string());
    }
    match id {
        12..=255 => Some("reserved".into()),
        0x0100_0000..=0x01FF_FFFF => Some("local (CIDR/FQDN)".into()),
        0x0200_0000..=0x02FF_FFFF => Some("remote-node scoped".into()),
        _ => None,
    }
}

/// The `any` wildcard as a policy key.
pub fn policy_name(id: u32) -> Option<String> {
    if id == 0 {
        Some("any".into())
    } else {
        describe(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_identities_have_their_names() {
        assert_eq!(reserved_name(1), Some("host"));
        assert_eq!(reserved_name(2), Some("world"));
        assert_eq!(reserved_name(6), Some("remote-node"));
        assert_eq!(reserved_name(110), Some("kube-dns"));
        assert_eq!(reserved_name(28461), None);
        assert_eq!(describe(0x0100_0005).as_deref(), Some("local (CIDR/FQDN)"));
        assert_eq!(describe(200).as_deref(), Some("reserved"));
        assert_eq!(policy_name(0).as_deref(), Some("any"));
        assert_eq!(describe(70000), None);
    }
}
