#![no_main]
use dpscope::bpf::cilium::metrics;
use libfuzzer_sys::fuzz_target;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    if let Some((l, k, v)) = common::split(data) {
        let _ = metrics::decode_entry(k, v, l);
    }
});
