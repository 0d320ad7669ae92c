#![no_main]
use dpscope::bpf::cilium::tailcall;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tailcall::tail_call_sites(data);
});
