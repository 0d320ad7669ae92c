#![no_main]
use dpscope::bpf::cilium::lb;
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    if let Some((l, k, v)) = common::split(data) {
        for v6 in [false, true] {
            if let (Ok(sk), Ok(sv)) = (lb::decode_svc_key(k, v6), lb::decode_svc_value(v, l)) {
                let _ = lb::build_services(&[(sk, sv)], &HashMap::new(), l);
            }
            let _ = lb::decode_backend(k, v, v6, l);
        }
    }
});
