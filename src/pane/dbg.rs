//! The text form of the Cilium panes shaped like `cilium-dbg`'s own listings, so that
//! `dpscope show PANE` and `cilium-dbg bpf ... list` can sit side by side in an incident
//! channel: `bpf lb list` (services), `bpf ipcache list` (identities), `bpf endpoint list`
//! (endpoints), `bpf policy get --all -n` (policy), `bpf metrics list` (metrics). Columns are
//! aligned as Go's tabwriter does it there (at least 5 wide, 3 spaces of padding); rows come in
//! the pane's default order (cilium-dbg prints Go maps in no fixed order). The pane's table
//! stays available as `--format table`.

use super::{cilium, identities, policy, services};
use crate::model::{PaneId, Snapshot};

/// Rows as cilium-dbg's tabwriter aligns them: each column as wide as its widest cell plus 3
/// spaces (at least 5), the last one unpadded; no trailing spaces. Cells come from other
/// programs (names, labels, files): control characters are shown escaped.
fn tabwrite(rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| crate::sanitize::text(c).into_owned())
                .collect()
        })
        .collect();
    let width = |s: &str| ratatui::text::Span::raw(s).width();
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut w = vec![0usize; cols];
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max((width(c) + 3).max(5));
        }
    }
    let mut out = String::new();
    for r in &rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            line.push_str(c);
            if i + 1 < r.len() {
                line.push_str(&" ".repeat(w[i].saturating_sub(width(c))));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A two-column listing as `TablePrinter` prints a dumped map: the key once, then each of
/// its values on a line of its own.
fn key_values(first: &str, second: &str, data: &[(String, Vec<String>)]) -> String {
    let mut rows = vec![vec![first.to_string(), second.to_string()]];
    for (k, values) in data {
        for (i, v) in values.iter().enumerate() {
            let key = if i == 0 { k.clone() } else { String::new() };
            rows.push(vec![key, v.clone()]);
        }
    }
    tabwrite(&rows)
}

/// `bpf lb list`: each frontend with its slot-0 line (`0.0.0.0:0 (revnat) (0) [flags]`) and
/// its backends (`10.0.1.87:53/UDP (2) (1)`, `backend 77 not found`).
pub fn services(snap: &Snapshot) -> String {
    let mut fronts: Vec<&crate::model::Service> = snap.services.iter().collect();
    fronts.sort_by_key(|s| (cilium::addr_sort_key(&s.address), s.port, s.scope.clone()));
    let data: Vec<(String, Vec<String>)> = fronts
        .iter()
        .map(|s| {
            let zero = if s.address.contains(':') {
                "[::]"
            } else {
                "0.0.0.0"
            };
            let extra = s
                .l7_proxy_port
                .map(|p| format!("(L7LB Proxy Port: {p})"))
                .unwrap_or_default();
            let mut v = vec![format!(
                "{zero}:0 ({}) (0) [{}] {extra}",
                s.rev_nat_id,
                services::type_flags(s)
            )
            .trim_end()
            .to_string()];
            let mut backends: Vec<_> = s.backends.iter().collect();
            backends.sort_by_key(|b| b.slot);
            v.extend(backends.iter().map(|b| match &b.address {
                Some(_) => format!(
                    "{} ({}) ({})",
                    services::backend_text(b),
                    s.rev_nat_id,
                    b.slot
                ),
                None => format!("backend {} not found", b.backend_id),
            }));
            (services::frontend_text(s), v)
        })
        .collect();
    key_values(
        "SERVICE ADDRESS",
        "BACKEND ADDRESS (REVNAT_ID) (SLOT)",
        &data,
    )
}

/// `bpf ipcache list`: prefix → `identity=N encryptkey=K tunnelendpoint=A flags=F` (1.14's
/// values carry a node id instead of flags).
pub fn identities(snap: &Snapshot) -> String {
    if snap.identities.is_empty() {
        return "No entries found.\n".into();
    }
    let mut rows: Vec<&crate::model::IdentityEntry> = snap.identities.iter().collect();
    rows.sort_by_key(|e| cilium::addr_sort_key(&e.prefix));
    let data: Vec<(String, Vec<String>)> = rows
        .iter()
        .map(|e| {
            let tunnel = e.tunnel_endpoint.as_deref().unwrap_or("0.0.0.0");
            let v = match e.node_id {
                Some(n) => format!(
                    "identity={} encryptkey={} tunnelendpoint={tunnel} nodeid={n}",
                    e.identity, e.encrypt_key
                ),
                None => format!(
                    "identity={} encryptkey={} tunnelendpoint={tunnel} flags={}",
                    e.identity,
                    e.encrypt_key,
                    identities::flags(e)
                ),
            };
            (e.prefix.clone(), vec![v])
        })
        .collect();
    key_values("IP PREFIX/ADDRESS", "IDENTITY", &data)
}

/// `bpf endpoint list`: `10.0.1.23:0` → `id=412   sec_id=28461 flags=0x0000 ifindex=14 ...`;
/// the node's own addresses as `(localhost)`.
pub fn endpoints(snap: &Snapshot) -> String {
    let mut rows: Vec<&crate::model::Endpoint> = snap.endpoints.iter().collect();
    rows.sort_by_key(|e| cilium::addr_sort_key(&e.address));
    let data: Vec<(String, Vec<String>)> = rows
        .iter()
        .map(|e| {
            let key = format!("{}:{}", bracketed(&e.address), e.cluster_id);
            let v = if e.flags.iter().any(|f| f == "host") {
                "(localhost)".to_string()
            } else {
                let mut v = format!(
                    "id={:<5} sec_id={:<5} flags={} ifindex={:<3} mac={} nodemac={}",
                    e.endpoint_id,
                    e.identity,
                    flags_hex(&e.flags),
                    e.ifindex,
                    e.mac,
                    e.node_mac
                );
                if let Some(p) = e.parent_ifindex {
                    v.push_str(&format!(" parent_ifindex={p:<3}"));
                }
                v.trim_end().to_string()
            };
            (key, vec![v])
        })
        .collect();
    key_values("IP ADDRESS", "LOCAL ENDPOINT INFO", &data)
}

fn bracketed(a: &str) -> String {
    if a.contains(':') {
        format!("[{a}]")
    } else {
        a.to_string()
    }
}

/// The lxc flags word back from its names (`host` 0x1, `unknown(0x10)` its bits).
fn flags_hex(flags: &[String]) -> String {
    let mut bits = 0u32;
    for f in flags {
        bits |= match f.as_str() {
            "host" => 1,
            "at-hostns" => 2,
            "skip-tunnel" => 4,
            other => other
                .strip_prefix("unknown(0x")
                .and_then(|h| h.strip_suffix(')'))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .unwrap_or(0),
        };
    }
    format!("0x{bits:04X}")
}

/// `bpf policy get --all -n`: each endpoint's policy map as a table of numeric identities,
/// every endpoint the pane lists (an empty map too, with the CLI's line for it).
pub fn policy(snap: &Snapshot) -> String {
    let mut out = String::new();
    for id in policy::endpoint_ids(snap) {
        out.push_str(&format!("Endpoint ID: {id}\n\n"));
        let mut rows = vec![[
            "POLICY",
            "DIRECTION",
            "IDENTITY",
            "PORT/PROTO",
            "PROXY PORT",
            "AUTH TYPE",
            "BYTES",
            "PACKETS",
            "PREFIX",
            "COOKIE",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()];
        let entries: Vec<_> = snap.policy.iter().filter(|e| e.endpoint_id == id).collect();
        for e in &entries {
            let title = |s: &str| {
                let mut c = s.chars();
                c.next().map_or_else(String::new, |f| {
                    f.to_uppercase().collect::<String>() + &c.as_str().to_lowercase()
                })
            };
            rows.push(vec![
                title(&e.verdict),
                title(&e.direction),
                e.identity.to_string(),
                policy::port_proto(&e.protocol, e.port_low, e.port_high),
                if e.proxy_port == 0 {
                    "NONE".into()
                } else {
                    e.proxy_port.to_string()
                },
                e.auth_type.clone(),
                cilium::count(e.bytes),
                cilium::count(e.packets),
                e.prefix_len.to_string(),
                e.cookie.unwrap_or(0).to_string(),
            ]);
        }
        out.push_str(&tabwrite(&rows));
        if entries.is_empty() {
            out.push_str("Policy stats empty. Perhaps the policy enforcement is disabled?\n");
        }
        out.push_str("\n\n");
    }
    if out.is_empty() {
        out.push_str("no maps found\n");
    }
    out
}

/// `bpf metrics list`: reason, direction, packets, bytes, line, file, rows sorted as text.
pub fn metrics(snap: &Snapshot) -> String {
    if snap.metrics.is_empty() {
        return "No entries found.\n".into();
    }
    let mut rows: Vec<Vec<String>> = snap
        .metrics
        .iter()
        .map(|m| {
            vec![
                m.reason_name.clone(),
                m.direction.to_uppercase(),
                m.packets.to_string(),
                m.bytes.to_string(),
                m.line.unwrap_or(0).to_string(),
                m.file.clone().unwrap_or_default(),
            ]
        })
        .collect();
    rows.sort();
    rows.insert(
        0,
        ["REASON", "DIRECTION", "PACKETS", "BYTES", "LINE", "FILE"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    );
    tabwrite(&rows)
}

/// The cilium-dbg form of a pane, for the panes that have one here.
pub fn text(pane: PaneId, snap: &Snapshot) -> Option<String> {
    let t = match pane {
        PaneId::Services => services(snap),
        PaneId::Identities => identities(snap),
        PaneId::Endpoints => endpoints(snap),
        PaneId::Policy => policy(snap),
        PaneId::Metrics => metrics(snap),
        _ => return None,
    };
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabwriter_alignment() {
        let rows = vec![
            vec!["A".to_string(), "BB".to_string()],
            vec!["CCCCCC".to_string(), "D".to_string()],
        ];
        assert_eq!(tabwrite(&rows), "A        BB\nCCCCCC   D\n");
        assert_eq!(
            flags_hex(&["host".into(), "unknown(0x10)".into()]),
            "0x0011"
        );
    }

    #[test]
    fn an_endpoint_with_an_empty_policy_map_is_listed() {
        let snap = Snapshot {
            maps: vec![crate::model::MapInfo {
                name: "cilium_policy_v2_01717".into(),
                ..Default::default()
            }],
            policy: vec![crate::model::PolicyEntry {
                endpoint_id: 403,
                verdict: "deny".into(),
                direction: "egress".into(),
                ..Default::default()
            }],
            ..Snapshot::empty()
        };
        let text = policy(&snap);
        let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("no {s:?} in {text}"));
        assert!(at("Endpoint ID: 403") < at("Endpoint ID: 1717"), "{text}");
        assert!(
            at("Endpoint ID: 1717") < at("Policy stats empty. Perhaps"),
            "{text}"
        );
        assert_eq!(text.matches("Policy stats empty").count(), 1, "{text}");
    }
}
