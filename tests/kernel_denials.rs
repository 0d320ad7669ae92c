//! LSM denials on the real host kernel, syscall-exit mode: a helper process restricts itself
//! with Landlock (raw syscalls, after PR_SET_NO_NEW_PRIVS) and is refused an open and an exec
//! outside its ruleset. dpscope must report both with the helper's pid, comm, path, EACCES and
//! hook; 1,000 refused opens are one row with count 1,000; with kernel audit on, the rows are
//! attributed to Landlock from its audit records.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::landlock::{run_restricted, AuditOn};
use dpscope::bpf::collector::{Collector, Config};
use dpscope::model::{Denial, Snapshot};
use std::path::{Path, PathBuf};
use std::time::Duration;

struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    /// A file and an executable outside /usr (so Landlock refuses them).
    fn new() -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix("dpscope-ll-")
            .tempdir_in("/tmp")
            .expect("tempdir");
        std::fs::write(dir.path().join("secret"), "x\n").expect("write secret");
        std::fs::copy("/usr/bin/true", dir.path().join("dp-true")).expect("copy true");
        Scratch { dir }
    }
    fn secret(&self) -> PathBuf {
        self.dir.path().join("secret")
    }
    fn exe(&self) -> PathBuf {
        self.dir.path().join("dp-true")
    }
}

fn collector(probes: &[&str]) -> Collector {
    Collector::new(Config {
        stats: false,
        only_probes: probes.iter().map(|s| s.to_string()).collect(),
        ..Config::default()
    })
}

fn find<'a>(s: &'a Snapshot, hook: &str, pid: u32, target: &Path) -> Option<&'a Denial> {
    let t = target.to_string_lossy();
    s.denials
        .iter()
        .find(|d| d.hook == hook && d.pid == pid && d.target == t)
}

fn probe<'a>(s: &'a Snapshot, name: &str) -> &'a dpscope::model::ProbeStatus {
    s.node
        .probes
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no probe status {name}: {:?}", s.node.probes))
}

#[test]
fn landlock_denied_open_and_exec_are_reported_in_syscall_exit_mode() {
    if !common::require_priv("landlock_denied_open_and_exec") {
        return;
    }
    let mut c = collector(&["syscall_denials"]);
    let scratch = Scratch::new();
    let script = format!(
        "read x < {}; exec {}",
        scratch.secret().display(),
        scratch.exe().display()
    );
    let pid = run_restricted(&script);
    let s = c.collect();
    let sys = probe(&s, "syscall_denials");
    assert!(
        sys.loaded && sys.attached,
        "syscall_denials: {}",
        sys.detail
    );
    // Its programs are named, so the Node pane can say what the probe costs the node.
    assert!(
        !sys.prog_ids.is_empty() && sys.prog_ids.iter().all(|id| s.program(*id).is_some()),
        "syscall_denials prog ids {:?}",
        sys.prog_ids
    );
    assert!(probe(&s, "lsm").detail.contains("not selected"));
    assert!(s.node.denials_mode.starts_with("syscall-exit"));
    assert!(s.unavailable_reason("denials").is_none());

    let open = find(&s, "file_open", pid, &scratch.secret())
        .unwrap_or_else(|| panic!("no file_open denial for pid {pid}: {:#?}", s.denials));
    assert_eq!(open.comm, "sh");
    assert_eq!(open.errno, libc::EACCES);
    assert_eq!(open.source, "syscall_exit");
    assert_eq!(open.syscall.as_deref(), Some("openat"));
    assert_eq!(open.count, 1);
    assert!(open.cgroup.is_some());
    assert!(!open.first_seen.is_empty() && !open.last_seen.is_empty());

    let exec = find(&s, "bprm_check_security", pid, &scratch.exe())
        .unwrap_or_else(|| panic!("no exec denial for pid {pid}: {:#?}", s.denials));
    assert_eq!(exec.comm, "sh");
    assert_eq!(exec.errno, libc::EACCES);
    assert_eq!(exec.syscall.as_deref(), Some("execve"));
}

/// With both probes selected, BPF LSM is tried first; where it is not active or refused (this
/// host: EPERM), the fallback loads and the Node pane says why.
#[test]
fn lsm_is_tried_first_and_the_fallback_says_why() {
    if !common::require_priv("lsm_is_tried_first") {
        return;
    }
    let mut c = collector(&["lsm", "syscall_denials"]);
    let s = c.collect();
    let lsm = probe(&s, "lsm");
    let sys = probe(&s, "syscall_denials");
    assert!(!lsm.detail.is_empty() && !sys.detail.is_empty());
    if lsm.loaded {
        assert!(!sys.loaded && sys.detail.contains("not needed"));
        assert!(s.node.denials_mode.starts_with("BPF LSM mode"));
    } else {
        assert!(sys.loaded, "{}", sys.detail);
        assert!(
            s.node.denials_mode.contains(&lsm.detail),
            "{}",
            s.node.denials_mode
        );
        let active = s.node.lsms.iter().any(|l| l == "bpf");
        assert!(
            !active || lsm.detail.contains("refused"),
            "bpf is active, so the reason must be the load: {}",
            lsm.detail
        );
    }
}

#[test]
fn a_thousand_denials_of_one_operation_are_one_row() {
    if !common::require_priv("a_thousand_denials_are_one_row") {
        return;
    }
    let mut c = collector(&["syscall_denials"]);
    let scratch = Scratch::new();
    let script = format!(
        "i=0; while [ $i -lt 1000 ]; do read x < {}; i=$((i+1)); done",
        scratch.secret().display()
    );
    let pid = run_restricted(&script);
    let s = c.collect();
    let t = scratch.secret().to_string_lossy().into_owned();
    let rows: Vec<&Denial> = s
        .denials
        .iter()
        .filter(|d| d.pid == pid && d.target == t)
        .collect();
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0].count, 1000);
    assert_eq!(rows[0].hook, "file_open");
    assert!(rows[0].first_seen <= rows[0].last_seen);
}

#[test]
fn landlock_denials_are_attributed_from_its_audit_records() {
    if !common::require_priv("landlock_denials_are_attributed") {
        return;
    }
    let _audit = AuditOn::new();
    let mut c = collector(&["syscall_denials", "audit"]);
    let scratch = Scratch::new();
    // A burst first (1,000 refused reads of another file, several audit records each), as a
    // crash-looping workload would make: the records that follow it must still arrive.
    let script = format!(
        "i=0; while [ $i -lt 1000 ]; do read x < {exe}; i=$((i+1)); done; read x < {}; exec {exe}",
        scratch.secret().display(),
        exe = scratch.exe().display()
    );
    let pid = run_restricted(&script);
    // kauditd delivers the burst's records asynchronously; a refresh attributes what has
    // arrived, so poll like a user watching the pane would (bounded).
    let attributed = |s: &Snapshot| {
        [
            ("file_open", scratch.secret()),
            ("bprm_check_security", scratch.exe()),
        ]
        .iter()
        .all(|(hook, t)| find(s, hook, pid, t).is_some_and(|d| d.denied_by.is_some()))
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let s = loop {
        std::thread::sleep(Duration::from_millis(300));
        let s = c.collect();
        if attributed(&s) || std::time::Instant::now() > deadline {
            break s;
        }
    };
    let a = probe(&s, "audit");
    assert!(a.loaded, "audit listener: {}", a.detail);
    assert!(
        !a.detail.contains("lost") && !a.detail.contains("dropped"),
        "{}",
        a.detail
    );
    let open = find(&s, "file_open", pid, &scratch.secret())
        .unwrap_or_else(|| panic!("no file_open denial for pid {pid}: {:#?}", s.denials));
    assert_eq!(
        open.denied_by.as_deref(),
        Some("Landlock (fs.read_file)"),
        "audit: {}",
        a.detail
    );
    let exec = find(&s, "bprm_check_security", pid, &scratch.exe())
        .unwrap_or_else(|| panic!("no exec denial for pid {pid}: {:#?}", s.denials));
    // Landlock lists every right the exec lacked (6.18: "fs.execute,fs.read_file").
    let by = exec.denied_by.as_deref().unwrap_or_default();
    assert!(
        by.starts_with("Landlock (") && by.contains("fs.execute"),
        "{exec:?}"
    );
}
