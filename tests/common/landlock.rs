//! Landlock from raw syscalls: a child restricted to executing and reading beneath /usr, so
//! that its reads and execs elsewhere are refused (the denials the tests expect dpscope to see);
//! and kernel audit switched on while a test needs Landlock's records, restored after.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

const SYS_LANDLOCK_CREATE_RULESET: libc::c_long = 444;
const SYS_LANDLOCK_ADD_RULE: libc::c_long = 445;
const SYS_LANDLOCK_RESTRICT_SELF: libc::c_long = 446;
const LANDLOCK_RULE_PATH_BENEATH: libc::c_long = 1;
const ACCESS_FS_EXECUTE: u64 = 1;
const ACCESS_FS_READ_FILE: u64 = 4;
/// LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON
const LOG_NEW_EXEC_ON: u32 = 2;

#[repr(C)]
struct RulesetAttr {
    handled_access_fs: u64,
    handled_access_net: u64,
    scoped: u64,
}

#[repr(C, packed)]
struct PathBeneath {
    allowed_access: u64,
    parent_fd: i32,
}

/// Restrict the calling process: execute and read only beneath /usr. Runs between fork and
/// exec, so it only makes raw syscalls (no allocation).
pub fn landlock_only_usr(usr_fd: i32) -> std::io::Result<()> {
    let attr = RulesetAttr {
        handled_access_fs: ACCESS_FS_EXECUTE | ACCESS_FS_READ_FILE,
        handled_access_net: 0,
        scoped: 0,
    };
    // SAFETY: attr is a valid landlock_ruleset_attr of the given size (the ABI 6+ layout).
    let rs = unsafe {
        libc::syscall(
            SYS_LANDLOCK_CREATE_RULESET,
            &attr as *const RulesetAttr,
            std::mem::size_of::<RulesetAttr>(),
            0u32,
        )
    };
    if rs < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let rule = PathBeneath {
        allowed_access: ACCESS_FS_EXECUTE | ACCESS_FS_READ_FILE,
        parent_fd: usr_fd,
    };
    // SAFETY: rule is a valid landlock_path_beneath_attr; rs is our ruleset fd.
    if unsafe {
        libc::syscall(
            SYS_LANDLOCK_ADD_RULE,
            rs as i32,
            LANDLOCK_RULE_PATH_BENEATH,
            &rule as *const PathBeneath,
            0u32,
        )
    } != 0
    {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: prctl with constant arguments.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // Landlock logs (audit) only denials of the executable that called restrict_self unless
    // asked to log those of the programs it execs too (ABI 7, kernel 6.15+); older kernels
    // reject the flag and are restricted without it.
    // SAFETY: rs is our ruleset fd; the flags are constants.
    if unsafe { libc::syscall(SYS_LANDLOCK_RESTRICT_SELF, rs as i32, LOG_NEW_EXEC_ON) } != 0
        // SAFETY: as above, without flags.
        && unsafe { libc::syscall(SYS_LANDLOCK_RESTRICT_SELF, rs as i32, 0u32) } != 0
    {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: closing our own ruleset fd.
    unsafe { libc::close(rs as i32) };
    Ok(())
}

/// `sh -c SCRIPT` restricted by Landlock to /usr; returns its pid after it exits.
pub fn run_restricted(script: &str) -> u32 {
    let usr = std::fs::File::open("/usr").expect("open /usr");
    let usr_fd = usr.as_raw_fd();
    let mut cmd = Command::new("/usr/bin/sh");
    cmd.arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: the closure only makes async-signal-safe raw syscalls.
    unsafe {
        cmd.pre_exec(move || landlock_only_usr(usr_fd));
    }
    let mut child = cmd.spawn().expect("spawn restricted sh");
    let pid = child.id();
    child.wait().expect("wait restricted sh");
    drop(usr);
    pid
}

pub fn audit_request(msg_type: u16, payload: &[u8]) -> Vec<u8> {
    // SAFETY: plain socket(2); checked below.
    let fd = unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 9) };
    assert!(fd >= 0, "audit socket: {}", std::io::Error::last_os_error());
    // SAFETY: fd is fresh and ours.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut m = Vec::new();
    m.extend_from_slice(&((16 + payload.len()) as u32).to_ne_bytes());
    m.extend_from_slice(&msg_type.to_ne_bytes());
    m.extend_from_slice(&5u16.to_ne_bytes()); // REQUEST|ACK
    m.extend_from_slice(&[0u8; 8]);
    m.extend_from_slice(payload);
    // SAFETY: m is a valid buffer.
    let n = unsafe { libc::send(fd.as_raw_fd(), m.as_ptr() as *const _, m.len(), 0) };
    assert!(n > 0, "audit send: {}", std::io::Error::last_os_error());
    let mut buf = vec![0u8; 512];
    // SAFETY: buf is a valid writable buffer.
    let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr() as *mut _, buf.len(), 0) };
    buf.truncate(n.max(0) as usize);
    buf
}

pub fn audit_set(mask: u32, at: usize, v: u32) {
    let mut st = vec![0u8; 44];
    st[0..4].copy_from_slice(&mask.to_ne_bytes());
    st[at..at + 4].copy_from_slice(&v.to_ne_bytes());
    audit_request(1001, &st);
}

/// Kernel audit on while alive (AUDIT_SET enabled=1) with the backlog limit auditd's default
/// rules set (-b 8192; the kernel's own 64 drops records in a burst before any listener sees
/// them), both restored on drop. Only tests change them; dpscope itself never does.
pub struct AuditOn {
    was: u32,
    backlog_was: u32,
}

impl AuditOn {
    pub fn new() -> AuditOn {
        let st = dpscope::bpf::denials::audit::parse_status(&audit_request(1000, &[]));
        let was = st.map_or(0, |s| u32::from(s.enabled));
        let backlog_was = st.map_or(64, |s| s.backlog_limit);
        audit_set(1, 4, 1); // AUDIT_STATUS_ENABLED
        audit_set(0x10, 20, backlog_was.max(8192)); // AUDIT_STATUS_BACKLOG_LIMIT
        AuditOn { was, backlog_was }
    }
}

impl Drop for AuditOn {
    fn drop(&mut self) {
        audit_set(0x10, 20, self.backlog_was);
        audit_set(1, 4, self.was);
    }
}
