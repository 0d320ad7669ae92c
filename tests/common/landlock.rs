//! Landlock from raw syscalls: a child restricted to executing and reading beneath /usr, so
//! that its reads and execs elsewhere are refused (the denials the tests expect dpscope to see).

use std::os::fd::AsRawFd;
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
