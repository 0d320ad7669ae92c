//! dpscope's probes go away with dpscope: run the real binary (snapshot mode with every probe,
//! including the tcx flow probe on a veth in a private namespace), kill it with SIGTERM and
//! with SIGKILL, then check through the BPF syscalls themselves (not dpscope) that none of the
//! `dpscope_*` programs it held is loaded any more and that the interface's tcx chain is empty.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{in_netns, Netns};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_dpscope");

/// Kills the child on drop if the test failed before doing so.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Program ids held by a process, from /proc/PID/fdinfo (`prog_id:` lines).
fn prog_ids_held(pid: u32) -> Vec<u32> {
    let mut ids = Vec::new();
    let Ok(rd) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) else {
        return ids;
    };
    for e in rd.flatten() {
        if let Ok(t) = std::fs::read_to_string(e.path()) {
            for l in t.lines() {
                if let Some(v) = l.strip_prefix("prog_id:") {
                    if let Ok(id) = v.trim().parse() {
                        ids.push(id);
                    }
                }
            }
        }
    }
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Kernel name of program `id` via BPF_PROG_GET_FD_BY_ID + info; None when it no longer exists.
fn prog_name(id: u32) -> Option<String> {
    // SAFETY: plain syscall wrapper; a negative result is an error code.
    let fd = unsafe { libbpf_sys::bpf_prog_get_fd_by_id(id) };
    if fd < 0 {
        return None;
    }
    // SAFETY: fd is a fresh descriptor we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    use std::os::fd::AsFd;
    Some(common::prog_info(fd.as_fd()).1)
}

/// Every program id loaded on the system, by BPF_PROG_GET_NEXT_ID.
fn all_prog_ids() -> Vec<u32> {
    let mut ids = Vec::new();
    let mut id = 0u32;
    loop {
        let mut next = 0u32;
        // SAFETY: next is a valid out-pointer.
        if unsafe { libbpf_sys::bpf_prog_get_next_id(id, &mut next) } != 0 {
            return ids;
        }
        ids.push(next);
        id = next;
    }
}

fn tcx_count(ns: &str, ifname: &str) -> usize {
    let ifname = ifname.to_string();
    in_netns(ns, move || {
        let idx = common::ifindex(&ifname).unwrap();
        let mut total = 0;
        for attach in [libbpf_sys::BPF_TCX_INGRESS, libbpf_sys::BPF_TCX_EGRESS] {
            let mut ids = [0u32; 16];
            let mut opts = libbpf_sys::bpf_prog_query_opts {
                sz: std::mem::size_of::<libbpf_sys::bpf_prog_query_opts>() as _,
                prog_ids: ids.as_mut_ptr(),
                ..Default::default()
            };
            opts.__bindgen_anon_1.count = ids.len() as u32;
            // SAFETY: opts points at a live buffer of `count` ids.
            let rc = unsafe { libbpf_sys::bpf_prog_query_opts(idx as i32, attach, &mut opts) };
            if rc == 0 {
                // SAFETY: both union members are the same u32.
                total += unsafe { opts.__bindgen_anon_1.count } as usize;
            }
        }
        total
    })
}

fn run_and_kill(signal: libc::c_int) {
    let ns = Netns::new();
    let ifc = common::unique_name("px");
    let peer = common::unique_name("py");
    common::run(
        "ip",
        &[
            "link", "add", &ifc, "netns", &ns.name, "type", "veth", "peer", "name", &peer, "netns",
            &ns.name,
        ],
    );
    common::run("ip", &["-n", &ns.name, "link", "set", &ifc, "up"]);
    let child = Command::new(BIN)
        .args([
            "--tc-iface",
            &format!("{}/{}", ns.name, ifc),
            "snapshot",
            "--duration",
            "30",
            "-o",
            "/dev/null",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dpscope");
    let mut guard = Guard(child);
    let pid = guard.0.id();

    // Wait until every probe is loaded: 8 dpscope_* programs held by the child (drops 1,
    // retransmits 3, xdp_health 2, flows 2 tcx) and both tcx links on the interface.
    let start = Instant::now();
    let held = loop {
        let ids = prog_ids_held(pid);
        let named: Vec<(u32, String)> = ids
            .iter()
            .filter_map(|id| prog_name(*id).map(|n| (*id, n)))
            .collect();
        if named
            .iter()
            .filter(|(_, n)| n.starts_with("dpscope_"))
            .count()
            >= 8
            && tcx_count(&ns.name, &ifc) == 2
        {
            break named;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "dpscope did not load its probes: {named:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    // dpscope's own program names: the probes' `dpscope_*`, and the denial probes' `dp_exit_*`
    // (syscall-exit fallback) and `dp_lsm_*` (BPF LSM), which load alongside.
    let own = |n: &str| {
        ["dpscope_", "dp_exit_", "dp_lsm_"]
            .iter()
            .any(|p| n.starts_with(p))
    };
    for (_, n) in &held {
        assert!(own(n), "dpscope holds only its own programs: {held:?}");
    }
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(pid as i32, signal) }, 0);
    let status = guard.0.wait().expect("wait");
    assert!(!status.success(), "killed: {status:?}");

    // The kernel frees programs asynchronously (RCU): allow a moment.
    let start = Instant::now();
    loop {
        let alive: Vec<u32> = all_prog_ids();
        let left: Vec<&(u32, String)> = held.iter().filter(|(id, _)| alive.contains(id)).collect();
        if left.is_empty() && tcx_count(&ns.name, &ifc) == 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "after signal {signal}: still loaded {left:?}, tcx {}",
            tcx_count(&ns.name, &ifc)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn sigterm_leaves_no_dpscope_program_or_link() {
    if !common::require_priv("sigterm_leaves_no_dpscope_program_or_link") {
        return;
    }
    run_and_kill(libc::SIGTERM);
}

#[test]
fn sigkill_leaves_no_dpscope_program_or_link() {
    if !common::require_priv("sigkill_leaves_no_dpscope_program_or_link") {
        return;
    }
    run_and_kill(libc::SIGKILL);
}

/// `dpscope show drops|retransmits --json --duration S` print the probes' arrays; with
/// `--no-probes` the text form says why the pane is empty.
#[test]
fn show_prints_probe_panes_and_says_why_when_off() {
    if !common::require_priv("show_prints_probe_panes_and_says_why_when_off") {
        return;
    }
    for pane in ["drops", "retransmits", "xdp"] {
        let out = Command::new(BIN)
            .args(["show", pane, "--json", "--duration", "0.5"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v.is_array(), "{pane}: {v}");
    }
    let out = Command::new(BIN)
        .args(["--no-probes", "show", "drops"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("REASON"), "{text}");
    assert!(
        text.contains(
            "(drops unavailable: probe drops is off: own probes disabled with --no-probes)"
        ),
        "{text}"
    );
    let out = Command::new(BIN)
        .args(["--probe", "drops", "show", "flows"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("flows unavailable: probe flows is off: not selected"),
        "{text}"
    );
}
