//! Decoding of the denial probes' map records (layout in probes/denials.h). Pure, no I/O.

use crate::bytes::{self, Plain};

// The records of probes/denials.h (shared by both denial objects), from one skeleton.
skeleton!("denials_lsm");
use skel::types::{denial_key, denial_val};

// SAFETY: generated repr(C) mirrors of C structs whose fields are all integers and arrays of
// integers (probes/denials.h): any bytes are a valid value.
unsafe impl Plain for denial_key {}
// SAFETY: as above.
unsafe impl Plain for denial_val {}

/// `struct denial_key` (32 bytes).
pub const KEY_SIZE: usize = std::mem::size_of::<denial_key>();
/// `struct denial_val` (48 bytes + the target).
pub const VAL_SIZE: usize = std::mem::size_of::<denial_val>();
/// `DENIAL_TARGET_LEN`.
pub const TARGET_LEN: usize = 256;

pub const TARGET_PATH: u32 = 1;
pub const TARGET_SOCKADDR: u32 = 2;
pub const TARGET_NUMBER: u32 = 3;
pub const TARGET_MOUNT: u32 = 4;
pub const TARGET_DENTRIES: u32 = 5;

/// One aggregated row as the kernel keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub hook: u32,
    pub tgid: u32,
    pub comm: String,
    pub count: u64,
    /// CLOCK_BOOTTIME ns.
    pub first_ns: u64,
    pub last_ns: u64,
    pub cgroup_id: u64,
    pub tid: u32,
    pub errno: i32,
    pub syscall: u32,
    pub kind: u32,
    pub target: Vec<u8>,
}

/// C string up to the first NUL (lossy UTF-8).
pub fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// Parse one key/value pair; None when the sizes are wrong.
pub fn parse(key: &[u8], val: &[u8]) -> Option<Record> {
    let (k, v): (denial_key, denial_val) = (bytes::read(key)?, bytes::read(val)?);
    Some(Record {
        hook: k.hook,
        tgid: k.tgid,
        comm: cstr(&k.comm.map(|c| c as u8)),
        count: v.count,
        first_ns: v.first_ns,
        last_ns: v.last_ns,
        cgroup_id: v.cgroup_id,
        tid: v.pid,
        errno: v.err,
        syscall: v.syscall,
        kind: v.kind,
        target: v.target.iter().map(|&c| c as u8).collect(),
    })
}

/// LSM hook name of a `enum denial_hook` value.
pub fn hook_name(h: u32) -> &'static str {
    match h {
        1 => "bprm_check_security",
        2 => "file_open",
        3 => "socket_connect",
        4 => "socket_bind",
        5 => "ptrace_access_check",
        6 => "capable",
        7 => "sb_mount",
        8 => "bpf",
        _ => "unknown",
    }
}

/// Human-readable target for a record of `hook`.
pub fn target_text(hook: u32, kind: u32, t: &[u8]) -> String {
    match kind {
        TARGET_PATH => cstr(t),
        TARGET_SOCKADDR => sockaddr(t),
        TARGET_NUMBER => {
            let n = bytes::ne_u64(t, 0);
            match hook {
                5 => format!("pid {n}"),
                6 => capability_name(n),
                8 => bpf_cmd_name(n),
                _ => n.to_string(),
            }
        }
        TARGET_DENTRIES => dentries(t),
        TARGET_MOUNT if t.len() >= 256 => {
            format!("{} on {}", cstr(&t[..128]), cstr(&t[128..256]))
        }
        _ => String::new(),
    }
}

/// Up to 8 components of 32 bytes, leaf first, ending at "/" when the walk reached the root
/// of the mount → "/a/b/c" (or "…/b/c" when cut short).
pub fn dentries(t: &[u8]) -> String {
    let mut parts: Vec<String> = t.chunks(32).take(8).map(cstr).collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    let rooted = parts.last().is_some_and(|p| p == "/");
    if rooted {
        parts.pop();
    }
    parts.reverse();
    let joined = parts.join("/");
    if rooted {
        format!("/{joined}")
    } else {
        format!("…/{joined}")
    }
}

/// `struct sockaddr` bytes → `127.0.0.1:4242`, `[::1]:80`, `unix:/run/x.sock`.
pub fn sockaddr(t: &[u8]) -> String {
    if t.len() < 2 {
        return String::new();
    }
    let family = u16::from_ne_bytes([t[0], t[1]]);
    match family {
        2 if t.len() >= 8 => {
            let port = u16::from_be_bytes([t[2], t[3]]);
            format!("{}.{}.{}.{}:{port}", t[4], t[5], t[6], t[7])
        }
        10 if t.len() >= 24 => {
            let port = u16::from_be_bytes([t[2], t[3]]);
            let mut a = [0u8; 16];
            a.copy_from_slice(&t[8..24]);
            format!("[{}]:{port}", std::net::Ipv6Addr::from(a))
        }
        1 => {
            let rest = &t[2..t.len().min(28)];
            if rest.first() == Some(&0) {
                format!("unix:@{}", cstr(&rest[1..]))
            } else {
                format!("unix:{}", cstr(rest))
            }
        }
        0 => "AF_UNSPEC".into(),
        f => format!("family {f}"),
    }
}

pub fn capability_name(n: u64) -> String {
    const NAMES: &[&str] = &[
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
        "CAP_PERFMON",
        "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
    ];
    NAMES
        .get(n as usize)
        .map(|s| s.to_string())
        .unwrap_or_else(|| format!("capability {n}"))
}

pub fn bpf_cmd_name(n: u64) -> String {
    const NAMES: &[&str] = &[
        "BPF_MAP_CREATE",
        "BPF_MAP_LOOKUP_ELEM",
        "BPF_MAP_UPDATE_ELEM",
        "BPF_MAP_DELETE_ELEM",
        "BPF_MAP_GET_NEXT_KEY",
        "BPF_PROG_LOAD",
        "BPF_OBJ_PIN",
        "BPF_OBJ_GET",
        "BPF_PROG_ATTACH",
        "BPF_PROG_DETACH",
        "BPF_PROG_TEST_RUN",
        "BPF_PROG_GET_NEXT_ID",
        "BPF_MAP_GET_NEXT_ID",
        "BPF_PROG_GET_FD_BY_ID",
        "BPF_MAP_GET_FD_BY_ID",
        "BPF_OBJ_GET_INFO_BY_FD",
        "BPF_PROG_QUERY",
        "BPF_RAW_TRACEPOINT_OPEN",
        "BPF_BTF_LOAD",
        "BPF_BTF_GET_FD_BY_ID",
        "BPF_TASK_FD_QUERY",
        "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
        "BPF_MAP_FREEZE",
        "BPF_BTF_GET_NEXT_ID",
        "BPF_MAP_LOOKUP_BATCH",
        "BPF_MAP_LOOKUP_AND_DELETE_BATCH",
        "BPF_MAP_UPDATE_BATCH",
        "BPF_MAP_DELETE_BATCH",
        "BPF_LINK_CREATE",
        "BPF_LINK_UPDATE",
        "BPF_LINK_GET_FD_BY_ID",
        "BPF_LINK_GET_NEXT_ID",
        "BPF_ENABLE_STATS",
        "BPF_ITER_CREATE",
        "BPF_LINK_DETACH",
        "BPF_PROG_BIND_MAP",
        "BPF_TOKEN_CREATE",
    ];
    NAMES
        .get(n as usize)
        .map(|s| s.to_string())
        .unwrap_or_else(|| format!("bpf command {n}"))
}

/// Syscall name for the architecture dpscope was built for.
pub fn syscall_name(nr: u32) -> Option<&'static str> {
    #[cfg(target_arch = "x86_64")]
    let table: &[(u32, &str)] = &[
        (2, "open"),
        (42, "connect"),
        (49, "bind"),
        (59, "execve"),
        (101, "ptrace"),
        (165, "mount"),
        (257, "openat"),
        (321, "bpf"),
        (322, "execveat"),
        (437, "openat2"),
    ];
    #[cfg(target_arch = "aarch64")]
    let table: &[(u32, &str)] = &[
        (56, "openat"),
        (117, "ptrace"),
        (200, "bind"),
        (203, "connect"),
        (221, "execve"),
        (280, "bpf"),
        (281, "execveat"),
        (40, "mount"),
        (437, "openat2"),
    ];
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let table: &[(u32, &str)] = &[];
    table.iter().find(|(n, _)| *n == nr).map(|(_, s)| *s)
}

pub fn errno_name(e: i32) -> String {
    match e {
        1 => "EPERM".into(),
        13 => "EACCES".into(),
        n => format!("errno {n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_types_match_both_objects() {
        use crate::bpf::probes::layout::assert_sizes;
        let lsm: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/denials_lsm.bpf.o"));
        let sys: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/denials_syscalls.bpf.o"));
        for obj in [lsm, sys] {
            assert_sizes(obj, &[("denial_key", KEY_SIZE), ("denial_val", VAL_SIZE)]);
        }
        let v = denial_val {
            count: 0,
            first_ns: 0,
            last_ns: 0,
            cgroup_id: 0,
            pid: 0,
            err: 0,
            syscall: 0,
            kind: 0,
            target: [0; TARGET_LEN],
        };
        assert_eq!(std::mem::size_of_val(&v.target), TARGET_LEN);
        assert_eq!((KEY_SIZE, VAL_SIZE), (32, 48 + TARGET_LEN));
    }

    fn rec_bytes() -> (Vec<u8>, Vec<u8>) {
        let mut k = Vec::new();
        k.extend_from_slice(&3u32.to_ne_bytes());
        k.extend_from_slice(&77u32.to_ne_bytes());
        let mut comm = [0u8; 16];
        comm[..4].copy_from_slice(b"curl");
        k.extend_from_slice(&comm);
        k.extend_from_slice(&0xdeadu64.to_ne_bytes());
        let mut v = Vec::new();
        for n in [5u64, 100, 200, 42] {
            v.extend_from_slice(&n.to_ne_bytes());
        }
        for n in [78u32, 1, 42, TARGET_SOCKADDR] {
            v.extend_from_slice(&n.to_ne_bytes());
        }
        let mut t = [0u8; TARGET_LEN];
        t[..2].copy_from_slice(&2u16.to_ne_bytes());
        t[2..4].copy_from_slice(&4242u16.to_be_bytes());
        t[4..8].copy_from_slice(&[127, 0, 0, 1]);
        v.extend_from_slice(&t);
        (k, v)
    }

    #[test]
    fn parses_a_connect_record() {
        let (k, v) = rec_bytes();
        let r = parse(&k, &v).unwrap();
        assert_eq!((r.hook, r.tgid, r.comm.as_str()), (3, 77, "curl"));
        assert_eq!(
            (r.count, r.first_ns, r.last_ns, r.cgroup_id),
            (5, 100, 200, 42)
        );
        assert_eq!((r.tid, r.errno, r.syscall), (78, 1, 42));
        assert_eq!(hook_name(r.hook), "socket_connect");
        assert_eq!(target_text(r.hook, r.kind, &r.target), "127.0.0.1:4242");
        assert!(parse(&k[..10], &v).is_none());
    }

    #[test]
    fn targets() {
        let mut t = [0u8; TARGET_LEN];
        t[..6].copy_from_slice(b"/etc/x");
        assert_eq!(target_text(2, TARGET_PATH, &t), "/etc/x");
        let mut n = [0u8; TARGET_LEN];
        n[..8].copy_from_slice(&21u64.to_ne_bytes());
        assert_eq!(target_text(6, TARGET_NUMBER, &n), "CAP_SYS_ADMIN");
        assert_eq!(target_text(5, TARGET_NUMBER, &n), "pid 21");
        n[..8].copy_from_slice(&5u64.to_ne_bytes());
        assert_eq!(target_text(8, TARGET_NUMBER, &n), "BPF_PROG_LOAD");
        let mut m = [0u8; TARGET_LEN];
        m[..5].copy_from_slice(b"tmpfs");
        m[128..132].copy_from_slice(b"/mnt");
        assert_eq!(target_text(7, TARGET_MOUNT, &m), "tmpfs on /mnt");
        let mut s6 = [0u8; 28];
        s6[..2].copy_from_slice(&10u16.to_ne_bytes());
        s6[2..4].copy_from_slice(&80u16.to_be_bytes());
        s6[23] = 1;
        assert_eq!(sockaddr(&s6), "[::1]:80");
        let mut su = [0u8; 28];
        su[..2].copy_from_slice(&1u16.to_ne_bytes());
        su[3..6].copy_from_slice(b"abc");
        assert_eq!(sockaddr(&su), "unix:@abc");
        assert_eq!(errno_name(13), "EACCES");
        let mut d = [0u8; TARGET_LEN];
        d[..4].copy_from_slice(b"file");
        d[32..35].copy_from_slice(b"tmp");
        d[64] = b'/';
        assert_eq!(target_text(2, TARGET_DENTRIES, &d), "/tmp/file");
        let mut d = [b'x'; TARGET_LEN];
        for i in 0..8 {
            d[i * 32 + 31] = 0;
        }
        assert!(dentries(&d).starts_with("…/xxx"));
    }
}
