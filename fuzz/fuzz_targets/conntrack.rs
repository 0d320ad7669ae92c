#![no_main]
use dpscope::bpf::cilium::conntrack::{self, ClockMode, Now};
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    if let Some((l, k, v)) = common::split(data) {
        let now = Now { mode: ClockMode::Jiffies { hz: 250 }, mono_s: 1000, jiffies: Some(1 << 32) };
        let _ = conntrack::decode_entry(&"ct4_global".into(), k, v, false, l, &now);
        let _ = conntrack::decode_entry(&"ct6_global".into(), k, v, true, l, &now);
    }
});
