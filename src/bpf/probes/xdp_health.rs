//! The `xdp_health` probe: `xdp:xdp_exception` and `xdp:xdp_redirect_err` (tp_btf) counted per
//! (netns, ifindex, program, action, errno) for the XDP programs already on the node. It attaches
//! to tracepoints only, never to an interface.

use super::decode;
use super::{fill_pressure, netns, Loaded};
use crate::bytes::{self, Plain};
use crate::model::{ProbeStatus, XdpEvent};

static OBJ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/xdp_health.bpf.o"));

skeleton!("xdp_health");
use skel::types::xdp_key;

// SAFETY: a generated repr(C) mirror of a C struct of integers (probes/xdp_health.bpf.c):
// any bytes are a valid value.
unsafe impl Plain for xdp_key {}

/// `struct xdp_key` (24 bytes).
pub const KEY_SIZE: usize = std::mem::size_of::<xdp_key>();

const MAP: &str = "dps_xdp";
const STATS: &str = "dps_xdp_stats";
pub const MAX_ENTRIES: u32 = 4096;

/// `struct xdp_key` + u64 count → (netns, ifindex, prog_id, action, err, count).
pub fn decode_entry(k: &[u8], v: &[u8]) -> Option<(u32, u32, u32, u32, i32, u64)> {
    let (k, count): (xdp_key, u64) = (bytes::read(k)?, bytes::read(v)?);
    Some((k.netns, k.ifindex, k.prog_id, k.action, k.err, count))
}

pub struct XdpHealthProbe {
    pub loaded: Loaded,
}

impl XdpHealthProbe {
    pub fn load() -> Result<XdpHealthProbe, String> {
        let mut loaded = Loaded::open(OBJ, |_| true)
            .map_err(|e| format!("cannot load the XDP exception probe: {e}"))?;
        loaded.attach_all_tracing()?;
        Ok(XdpHealthProbe { loaded })
    }

    pub fn read(&mut self, names: &mut netns::Resolver) -> (Vec<XdpEvent>, ProbeStatus) {
        let entries = self.loaded.entries(MAP, MAX_ENTRIES as usize);
        let raws: Vec<_> = entries
            .iter()
            .filter_map(|(k, v)| decode_entry(k, v))
            .collect();
        let wanted: Vec<(u32, u32)> = raws.iter().map(|r| (r.0, r.1)).collect();
        let ifnames = names.ifnames(&wanted);
        let rows = raws
            .into_iter()
            .map(|(ns, ifindex, prog_id, action, err, count)| XdpEvent {
                netns: ns,
                ifindex,
                ifname: ifnames.get(&(ns, ifindex)).cloned().unwrap_or_default(),
                prog_id,
                prog_name: String::new(),
                action: decode::xdp_action_name(action),
                err,
                count,
            })
            .collect();
        let mut st = ProbeStatus {
            name: "xdp_health".into(),
            loaded: true,
            attached: true,
            detail: "tp_btf/xdp_exception, xdp_redirect_err (no interface touched)".into(),
            prog_ids: self.loaded.prog_ids.clone(),
            ..Default::default()
        };
        fill_pressure(
            &mut st,
            self.loaded.stats(STATS),
            entries.len(),
            MAX_ENTRIES,
        );
        (rows, st)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_types_match_the_object() {
        crate::bpf::probes::layout::assert_sizes(OBJ, &[("xdp_key", KEY_SIZE)]);
        assert_eq!(KEY_SIZE, 24);
    }

    #[test]
    fn entry_decodes() {
        let mut k = vec![0u8; 24];
        k[4..8].copy_from_slice(&3u32.to_ne_bytes());
        k[8..12].copy_from_slice(&77u32.to_ne_bytes());
        k[12..16].copy_from_slice(&100u32.to_ne_bytes());
        k[16..20].copy_from_slice(&(-6i32).to_ne_bytes());
        let v = 12u64.to_ne_bytes();
        assert_eq!(decode_entry(&k, &v), Some((0, 3, 77, 100, -6, 12)));
    }
}
