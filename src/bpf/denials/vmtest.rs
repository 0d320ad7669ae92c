//! Test-only (feature `vmtest`, QEMU guest): load tests/bpf/lsm_deny.bpf.c, a BPF LSM program
//! that DENIES connect() to port 4242 and exec of /tmp/denied-exec, so the LSM probe has a real
//! BPF LSM denial to observe. Never part of a normal build.

use libbpf_rs::{MapCore, MapFlags, ObjectBuilder};
use std::io::Write;
use std::time::{Duration, Instant};

static OBJ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/lsm_deny.bpf.o"));

/// Load and attach the denier, print `DENY-READY`, hold it until `secs` pass or /tmp/done
/// exists, then print `DENY-COUNT n` (how many operations it refused).
pub fn hold_test_denier(secs: u64) -> Result<(), String> {
    let open = ObjectBuilder::default()
        .open_memory(OBJ)
        .map_err(|e| format!("open: {e}"))?;
    let obj = open.load().map_err(|e| format!("load: {e}"))?;
    let mut links = Vec::new();
    for prog in obj.progs_mut() {
        links.push(prog.attach().map_err(|e| format!("attach: {e}"))?);
    }
    println!("DENY-READY {}", links.len());
    let _ = std::io::stdout().flush();
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end && !std::path::Path::new("/tmp/done").exists() {
        std::thread::sleep(Duration::from_millis(100));
    }
    let count = obj
        .maps()
        .find(|m| m.name().to_string_lossy().ends_with(".bss"))
        .and_then(|m| m.lookup(&0u32.to_ne_bytes(), MapFlags::ANY).ok().flatten())
        .filter(|v| v.len() >= 8)
        .map(|v| crate::bytes::ne_u64(&v, 0))
        .unwrap_or(0);
    println!("DENY-COUNT {count}");
    drop(links);
    Ok(())
}
