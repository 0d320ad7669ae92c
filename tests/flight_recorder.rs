//! The flight recorder for real: `dpscope record --ring-size` on this kernel at a fast
//! interval, its directory watched the whole time; then `dpscope history` of what it kept.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn dpscope() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dpscope"))
}

fn ring_bytes(dir: &std::path::Path) -> (u64, Vec<u64>) {
    let mut total = 0;
    let mut numbers = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if let Some(n) = dpscope::ring::segment_number(&name) {
            numbers.push(n);
            // A segment deleted between listing and stat is simply gone.
            total += e.metadata().map(|m| m.len()).unwrap_or(0);
        }
    }
    numbers.sort_unstable();
    (total, numbers)
}

#[test]
fn stays_within_its_bound_over_a_long_run_at_a_fast_interval() {
    if !common::require_priv("flight recorder") {
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("dpscope-ring")
        .tempdir()
        .unwrap();
    // The ring's size follows what one snapshot of this machine weighs (other tests load and
    // unload programs meanwhile): room for about three, so segments rotate and get deleted.
    let one = dpscope()
        .args(["--no-probes", "snapshot", "--duration", "0"])
        .output()
        .unwrap();
    assert!(
        one.status.success(),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    let mib = (one.stdout.len() as f64 * 3.0 / (1 << 20) as f64).max(0.25);
    let limit = (mib * (1 << 20) as f64) as u64;
    let ring = dir.path().join("ring");
    let run_secs = 25;
    let mut child = dpscope()
        .args(["--no-probes", "record", "--every", "0.1", "--ring-size"])
        .arg(format!("{mib}"))
        .args(["--duration", &run_secs.to_string(), "-o"])
        .arg(&ring)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let mut max_seen = 0;
    let mut samples = 0;
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(run_secs + 120),
            "recorder hangs"
        );
        let (bytes, _) = ring_bytes(&ring);
        max_seen = max_seen.max(bytes);
        samples += 1;
        assert!(bytes <= limit, "ring holds {bytes} bytes, bound {limit}");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{err}");
    let (bytes, numbers) = ring_bytes(&ring);
    assert!(bytes <= limit);
    eprintln!("ring {limit} B: max {max_seen} B over {samples} samples, segments {numbers:?}");
    // It rotated and dropped its oldest segments: the first ones are gone.
    assert!(
        numbers.first().is_some_and(|n| *n > 1),
        "{numbers:?}; {err}"
    );

    // What it kept replays: history writes one recording of it, newest last.
    let out = dpscope().arg("history").arg(&ring).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let loaded = dpscope::model::io::parse("history", &text).unwrap();
    assert!(loaded.skipped.is_empty(), "{:?}", loaded.skipped);
    assert!(!loaded.snapshots.is_empty());
    let times: Vec<&str> = loaded
        .snapshots
        .iter()
        .map(|s| s.taken_at.as_str())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    // `--since` a span shorter than the time since the last snapshot keeps nothing, and
    // says so.
    std::thread::sleep(Duration::from_millis(2500));
    let none = dpscope()
        .arg("history")
        .arg(&ring)
        .args(["--since", "2s"])
        .output()
        .unwrap();
    assert!(none.status.success());
    assert!(none.stdout.is_empty());
    assert!(String::from_utf8_lossy(&none.stderr).contains("no snapshot"));
}

#[test]
fn bad_ring_arguments_are_usage_errors() {
    for args in [
        &["record", "-o", "/tmp/x", "--ring-size", "0"][..],
        &["record", "-o", "/tmp/x", "--ring-size", "nan"][..],
        &["record", "-o", "/tmp/x"][..],
        &["history", "/nonexistent-dpscope-ring"][..],
        &["history", "/tmp", "--since", "30x"][..],
    ] {
        let out = dpscope().args(args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
