#![no_main]
use dpscope::bpf::tail_sites;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tail_sites::sites(data);
});
