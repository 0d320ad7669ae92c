//! Shared bits of the own-probe panes: the map-pressure legend, endpoints as text.

use crate::text;

/// The probe's map pressure (entries, evictions, failed inserts), empty when unknown.
pub fn pressure(snap: &crate::model::Snapshot, probe: &str) -> String {
    snap.node
        .probes
        .iter()
        .find(|p| p.name == probe)
        .map(text::probe_pressure)
        .unwrap_or_default()
}

pub fn join_legend(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" · ")
}

/// `addr:port` (`[v6]:port`); the address alone when the port is 0 and no port makes sense.
pub fn endpoint(addr: &str, port: u16) -> String {
    if addr.is_empty() {
        return "-".into();
    }
    if addr.contains(':') {
        format!("[{addr}]:{port}")
    } else {
        format!("{addr}:{port}")
    }
}
