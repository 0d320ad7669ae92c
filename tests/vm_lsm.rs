//! BPF LSM for real, in QEMU: this host refuses `lsm/*` programs, so scripts/vm-lsm-test.sh
//! boots Debian 12's kernel with lsm=...,bpf and a busybox initramfs carrying a static dpscope.
//! Inside, the test denier (tests/bpf/lsm_deny.bpf.c) refuses connect() to 127.0.0.1:4242 and
//! the exec of /tmp/denied-exec; dpscope's LSM probe, attached after it, must report both with
//! hook, process, target, EPERM and the denying program; the syscall-exit fallback, run at the
//! same time, must see the same refusals on this older kernel. Results come back on the serial
//! console.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use dpscope::model::Denial;
use std::process::Command;

fn between<'a>(out: &'a str, begin: &str, end: &str) -> Option<&'a str> {
    let a = out.find(begin)? + begin.len();
    let b = out[a..].find(end)? + a;
    Some(&out[a..b])
}

#[test]
fn bpf_lsm_denials_are_seen_inside_a_vm() {
    if !common::require_priv("bpf_lsm_denials_are_seen_inside_a_vm") {
        return;
    }
    let qemu = Command::new("qemu-system-x86_64").arg("--version").output();
    if !qemu.is_ok_and(|o| o.status.success()) {
        let why = "qemu-system-x86_64 not installed (scripts/setup.sh installs it)";
        if std::env::var("DPSCOPE_REQUIRE_PRIV").as_deref() == Ok("1") {
            panic!("DPSCOPE_REQUIRE_PRIV=1 but {why}");
        }
        eprintln!("SKIP bpf_lsm_denials_are_seen_inside_a_vm: {why}");
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/vm-lsm-test.sh");
    let out = Command::new("bash")
        .arg(script)
        .output()
        .expect("run scripts/vm-lsm-test.sh");
    let serial = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        serial.contains("VM-DONE"),
        "the VM did not finish: status {}\nserial:\n{serial}\nstderr:\n{stderr}",
        out.status
    );
    let lsms = serial
        .lines()
        .find_map(|l| l.strip_prefix("VM-LSM: "))
        .unwrap_or_default();
    assert!(
        lsms.split(',').any(|l| l.trim() == "bpf"),
        "bpf is not an active LSM in the guest ({lsms}): LSM programs would never run\n{serial}"
    );
    let denied: u64 = serial
        .lines()
        .find_map(|l| l.strip_prefix("DENY-COUNT "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(denied >= 2, "the test denier refused nothing\n{serial}");
    let node: dpscope::model::Node =
        serde_json::from_str(between(&serial, "NODE-BEGIN\n", "NODE-END").expect("node JSON"))
            .unwrap_or_else(|e| panic!("node JSON: {e}\n{serial}"));
    assert_eq!(node.denials_mode.split(':').next(), Some("BPF LSM mode"));
    let probe = node
        .probes
        .iter()
        .find(|p| p.name == "lsm")
        .expect("lsm probe status");
    assert!(probe.loaded && probe.attached, "{probe:?}");
    assert!(
        !probe.detail.contains("not attached") && !probe.detail.contains(" 0 denials counted"),
        "every hook attached and dpscope's programs counted denials: {}",
        probe.detail
    );
    let json = between(&serial, "DENIALS-BEGIN\n", "DENIALS-END").expect("denials JSON");
    let rows: Vec<Denial> =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("denials JSON: {e}\n{serial}"));

    let connect = rows
        .iter()
        .find(|d| d.hook == "socket_connect" && d.target == "127.0.0.1:4242")
        .unwrap_or_else(|| panic!("no connect denial\n{serial}"));
    assert_eq!(connect.comm, "nc");
    assert_eq!(connect.errno, 1, "EPERM");
    assert_eq!(connect.source, "bpf_lsm");
    assert!(connect.pid > 1 && connect.count >= 1);
    assert!(
        connect
            .lsm_programs
            .iter()
            .any(|p| p.contains("test_deny_conne")),
        "{connect:?}"
    );
    assert!(
        connect
            .denied_by
            .as_deref()
            .is_some_and(|b| b.starts_with("BPF LSM program test_deny_conne")),
        "{connect:?}"
    );

    let exec = rows
        .iter()
        .find(|d| d.hook == "bprm_check_security" && d.target == "/tmp/denied-exec")
        .unwrap_or_else(|| panic!("no exec denial\n{serial}"));
    assert_eq!(exec.errno, 1);
    assert_eq!(exec.source, "bpf_lsm");
    assert!(exec.pid > 1 && !exec.comm.is_empty());
    assert!(
        exec.lsm_programs
            .iter()
            .any(|p| p.contains("test_deny_exec")),
        "{exec:?}"
    );

    // The syscall-exit fallback, run at the same time on this 6.1 kernel, sees the same
    // refusals at syscall exit (its tracepoint layouts hold across kernels).
    let json = between(&serial, "SYS-DENIALS-BEGIN\n", "SYS-DENIALS-END").expect("fallback JSON");
    let rows: Vec<Denial> = serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("fallback denials JSON: {e}\n{serial}"));
    let c = rows
        .iter()
        .find(|d| d.hook == "socket_connect" && d.target == "127.0.0.1:4242")
        .unwrap_or_else(|| panic!("fallback: no connect denial\n{serial}"));
    assert_eq!(
        (c.comm.as_str(), c.errno, c.source.as_str()),
        ("nc", 1, "syscall_exit")
    );
    assert_eq!(c.syscall.as_deref(), Some("connect"));
    let e = rows
        .iter()
        .find(|d| d.hook == "bprm_check_security" && d.target == "/tmp/denied-exec")
        .unwrap_or_else(|| panic!("fallback: no exec denial\n{serial}"));
    assert_eq!((e.errno, e.syscall.as_deref()), (1, Some("execve")));
}
