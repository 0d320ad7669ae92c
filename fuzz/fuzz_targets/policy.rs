#![no_main]
use dpscope::bpf::cilium::policy::{self, ValueLayout};
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    if let Some((_, k, v)) = common::split(data) {
        for l in [ValueLayout::V1_14, ValueLayout::V1_17, ValueLayout::V1_18, ValueLayout::Main] {
            let _ = policy::decode_entry(1, k, v, l);
        }
        let _ = policy::decode_stats_key(k);
        let _ = policy::decode_stats_value(v);
    }
});
