//! BPF run-time statistics: on while dpscope holds the `BPF_ENABLE_STATS` fd.
//!
//! The kernel counts `run_cnt`/`run_time_ns` only while stats are enabled. Holding the fd is
//! the reversible way: it is released on exit (even on SIGKILL), unlike flipping the
//! `kernel.bpf_stats_enabled` sysctl, which dpscope never touches.

use std::os::fd::{FromRawFd, OwnedFd};

/// Keeps run-time stats on while alive.
#[derive(Debug)]
pub struct StatsGuard {
    _fd: OwnedFd,
}

/// How stats are on for this collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatsState {
    /// dpscope holds the enable fd.
    Ours,
    /// The sysctl was already on (someone else turned it on).
    Sysctl,
    Off(String),
}

impl StatsGuard {
    pub fn enable() -> Result<StatsGuard, String> {
        // SAFETY: plain syscall wrapper; returns a new fd or a negative errno.
        let fd = unsafe { libbpf_sys::bpf_enable_stats(libbpf_sys::BPF_STATS_RUN_TIME) };
        if fd < 0 {
            let err = std::io::Error::from_raw_os_error(-fd);
            return Err(format!("BPF_ENABLE_STATS failed: {err}"));
        }
        // SAFETY: fd is a fresh descriptor we own exclusively.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(StatsGuard { _fd: fd })
    }
}

/// kernel.bpf_stats_enabled as the node has it.
pub fn sysctl_enabled() -> bool {
    std::fs::read_to_string("/proc/sys/kernel/bpf_stats_enabled")
        .map(|s| s.trim() == "1")
        .unwrap_or(false)
}
