//! Shared helpers for privileged integration tests: unique names, and Drop guards that clean
//! up network namespaces, veth pairs, clsact qdiscs, BPF links and private bpffs mounts even
//! when a test panics.
//!
//! Use from a test file with `mod common;`. Not every test uses every helper.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(dead_code)]

pub mod landlock;
pub mod maps;
pub mod screen;

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A name unique to this process and call: `{prefix}{pid hex}-{counter hex}`. Keep `prefix`
/// to 4 characters or less when it names an interface (IFNAMSIZ is 16 with the NUL).
pub fn unique_name(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{:x}-{n:x}", std::process::id())
}

/// Run a command; panic with its stderr on failure.
pub fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd}: {e}"));
    if !out.status.success() {
        panic!(
            "{cmd} {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Run a command for cleanup: failures are printed, never a panic (Drop may run while
/// unwinding).
pub fn run_quiet(cmd: &str, args: &[&str]) -> bool {
    match Command::new(cmd).args(args).output() {
        Ok(o) if o.status.success() => true,
        Ok(o) => {
            eprintln!(
                "cleanup: {cmd} {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&o.stderr).trim()
            );
            false
        }
        Err(e) => {
            eprintln!("cleanup: cannot run {cmd}: {e}");
            false
        }
    }
}

fn command_exists(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("-V")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Whether privileged tests can run here. If not: with `DPSCOPE_REQUIRE_PRIV=1` panic with
/// the reason, else print a skip line and return false.
pub fn require_priv(test: &str) -> bool {
    let reason = priv_missing();
    match reason {
        None => true,
        Some(r) => {
            if std::env::var("DPSCOPE_REQUIRE_PRIV").as_deref() == Ok("1") {
                panic!("{test}: DPSCOPE_REQUIRE_PRIV=1 but {r}");
            }
            eprintln!("SKIP {test}: {r}");
            false
        }
    }
}

fn priv_missing() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not running as root".into());
    }
    // SAFETY: creating a one-slot array map; NULL name and opts are allowed.
    let fd = unsafe {
        libbpf_sys::bpf_map_create(
            libbpf_sys::BPF_MAP_TYPE_ARRAY,
            std::ptr::null(),
            4,
            4,
            1,
            std::ptr::null(),
        )
    };
    if fd < 0 {
        return Some(format!(
            "bpf() unavailable: {}",
            std::io::Error::from_raw_os_error(-fd)
        ));
    }
    // SAFETY: fd is a fresh descriptor we own.
    drop(unsafe { OwnedFd::from_raw_fd(fd) });
    for cmd in ["ip", "tc"] {
        if !command_exists(cmd) {
            return Some(format!("`{cmd}` (iproute2) not installed"));
        }
    }
    None
}

/// `ip netns add`; deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new() -> Self {
        let name = unique_name("dpsns");
        run("ip", &["netns", "add", &name]);
        Netns { name }
    }

    pub fn exists(name: &str) -> bool {
        Path::new("/run/netns").join(name).exists()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        run_quiet("ip", &["netns", "del", &self.name]);
    }
}

/// A veth pair: `host` stays in the root netns, `peer` is moved into `netns`. Both are up.
/// Deleted on drop (drop it before its `Netns`: declare it after).
pub struct VethPair {
    pub host: String,
    pub peer: String,
    pub netns: String,
}

impl VethPair {
    pub fn new(netns: &Netns) -> Self {
        let host = unique_name("dph");
        let peer = unique_name("dpp");
        run(
            "ip",
            &[
                "link",
                "add",
                &host,
                "type",
                "veth",
                "peer",
                "name",
                &peer,
                "netns",
                &netns.name,
            ],
        );
        let v = VethPair {
            host,
            peer,
            netns: netns.name.clone(),
        };
        run("ip", &["link", "set", &v.host, "up"]);
        run("ip", &["-n", &v.netns, "link", "set", &v.peer, "up"]);
        v
    }

    pub fn host_ifindex(&self) -> u32 {
        ifindex(&self.host).unwrap_or_else(|| panic!("{} has no ifindex", self.host))
    }
}

impl Drop for VethPair {
    fn drop(&mut self) {
        if ifindex(&self.host).is_some() {
            run_quiet("ip", &["link", "del", &self.host]);
        }
    }
}

/// ifindex of an interface of the calling thread's netns.
pub fn ifindex(name: &str) -> Option<u32> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: c is a valid NUL-terminated string.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (i != 0).then_some(i)
}

/// `tc qdisc add dev DEV clsact`; deleted on drop (with every filter on it).
pub struct Clsact {
    pub dev: String,
}

impl Clsact {
    pub fn new(dev: &str) -> Self {
        run("tc", &["qdisc", "add", "dev", dev, "clsact"]);
        Clsact {
            dev: dev.to_string(),
        }
    }

    /// `tc filter add dev DEV {ingress|egress} pref P handle H bpf [da] pinned PATH`.
    pub fn add_bpf_filter(&self, dir: &str, pref: u32, handle: u32, pinned: &Path, da: bool) {
        let pref = pref.to_string();
        let handle = handle.to_string();
        let path = pinned.to_string_lossy().into_owned();
        let mut args = vec![
            "filter", "add", "dev", &self.dev, dir, "pref", &pref, "handle", &handle, "bpf",
        ];
        if da {
            args.push("da");
        }
        args.extend(["pinned", &path]);
        run("tc", &args);
    }
}

impl Drop for Clsact {
    fn drop(&mut self) {
        if ifindex(&self.dev).is_some() {
            run_quiet("tc", &["qdisc", "del", "dev", &self.dev, "clsact"]);
        }
    }
}

/// A private bpffs instance mounted on a temporary directory; unmounted and removed on drop.
pub struct Bpffs {
    dir: Option<tempfile::TempDir>,
    pub path: PathBuf,
}

impl Bpffs {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("dpscope-bpffs-")
            .tempdir()
            .unwrap_or_else(|e| panic!("tempdir: {e}"));
        let path = dir.path().to_path_buf();
        run("mount", &["-t", "bpf", "bpf", &path.to_string_lossy()]);
        Bpffs {
            dir: Some(dir),
            path,
        }
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    pub fn is_mounted(path: &Path) -> bool {
        std::fs::read_to_string("/proc/self/mounts")
            .map(|m| {
                m.lines()
                    .any(|l| l.split_whitespace().nth(1) == Some(&*path.to_string_lossy()))
            })
            .unwrap_or(false)
    }
}

impl Drop for Bpffs {
    fn drop(&mut self) {
        let c = std::ffi::CString::new(self.path.to_string_lossy().into_owned()).ok();
        if let Some(c) = c {
            // SAFETY: c is a valid path string; MNT_DETACH never blocks on busy mounts.
            let rc = unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
            if rc != 0 {
                eprintln!(
                    "cleanup: umount {}: {}",
                    self.path.display(),
                    std::io::Error::last_os_error()
                );
            }
        }
        // The TempDir removes the (now empty) mount point.
        drop(self.dir.take());
    }
}

/// A BPF link fd (XDP, tcx...) created with `bpf_link_create`; the kernel detaches the program
/// when the fd is closed on drop.
pub struct LinkFd {
    pub fd: OwnedFd,
}

impl LinkFd {
    /// `bpf_link_create(prog, ifindex, attach_type, flags)`.
    pub fn create(prog: BorrowedFd<'_>, ifindex: u32, attach_type: u32, flags: u32) -> Self {
        let opts = libbpf_sys::bpf_link_create_opts {
            sz: std::mem::size_of::<libbpf_sys::bpf_link_create_opts>() as _,
            flags,
            ..Default::default()
        };
        // SAFETY: prog is a valid program fd for the call, opts is sized and initialised.
        let fd = unsafe {
            libbpf_sys::bpf_link_create(prog.as_raw_fd(), ifindex as i32, attach_type, &opts)
        };
        if fd < 0 {
            panic!(
                "bpf_link_create(ifindex {ifindex}, attach type {attach_type}): {}",
                std::io::Error::from_raw_os_error(-fd)
            );
        }
        // SAFETY: fd is a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        LinkFd { fd }
    }

    pub fn id(&self) -> u32 {
        let mut info = libbpf_sys::bpf_link_info::default();
        let mut len = std::mem::size_of::<libbpf_sys::bpf_link_info>() as u32;
        // SAFETY: info is zeroed (no output buffers), len is its size, fd is valid.
        let rc = unsafe {
            libbpf_sys::bpf_link_get_info_by_fd(self.fd.as_raw_fd(), &mut info, &mut len)
        };
        assert_eq!(rc, 0, "bpf_link_get_info_by_fd");
        info.id
    }
}

/// id, kernel name and load time (CLOCK_BOOTTIME ns) of a program fd.
pub fn prog_info(fd: BorrowedFd<'_>) -> (u32, String, u64) {
    let mut info = libbpf_sys::bpf_prog_info::default();
    let mut len = std::mem::size_of::<libbpf_sys::bpf_prog_info>() as u32;
    // SAFETY: info is zeroed (no output buffers), len is its size, fd is valid.
    let rc = unsafe { libbpf_sys::bpf_prog_get_info_by_fd(fd.as_raw_fd(), &mut info, &mut len) };
    assert_eq!(rc, 0, "bpf_prog_get_info_by_fd");
    let name: Vec<u8> = info
        .name
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    (
        info.id,
        String::from_utf8_lossy(&name).into_owned(),
        info.load_time,
    )
}

/// A minimal `dpscope::model::Program` for a program fd: id, full name, kernel name, type,
/// load time. Enough for the attachments collector.
pub fn program_model(
    fd: BorrowedFd<'_>,
    full_name: &str,
    prog_type: &str,
) -> dpscope::model::Program {
    let (id, kernel_name, load_time_ns) = prog_info(fd);
    dpscope::model::Program {
        id,
        name: full_name.to_string(),
        kernel_name,
        prog_type: prog_type.to_string(),
        load_time_ns,
        ..Default::default()
    }
}

/// Run `f` on a new thread that first joins network namespace `netns` (`/run/netns/NAME`).
/// Only that thread changes namespace; the caller's stays as it was.
pub fn in_netns<T: Send>(netns: &str, f: impl FnOnce() -> T + Send) -> T {
    let path = Path::new("/run/netns").join(netns);
    std::thread::scope(|s| {
        s.spawn(|| {
            let file = std::fs::File::open(&path)
                .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
            // SAFETY: file is an open netns file; setns only affects this thread.
            let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
            f()
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
    })
}

/// The text of an HTML fragment: tags removed, entities left as they are.
pub fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// An unprivileged local user made for one test (`useradd`, no home, no login shell), with a
/// group of its own; removed with its group on drop, also when the test panics.
pub struct TestUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

impl TestUser {
    pub fn new() -> Self {
        let name = unique_name("dpsu");
        // useradd takes a lock on /etc/passwd; another test adding a user at the same moment
        // makes it fail with "cannot lock": try again.
        let mut last = String::new();
        for _ in 0..50 {
            let out = Command::new("useradd")
                .args(["-M", "-U", "-s", "/usr/sbin/nologin", &name])
                .output()
                .unwrap_or_else(|e| panic!("cannot run useradd: {e}"));
            if out.status.success() {
                let id = |flag: &str| -> u32 {
                    run("id", &[flag, &name])
                        .trim()
                        .parse()
                        .unwrap_or_else(|e| panic!("id {flag} {name}: {e}"))
                };
                let (uid, gid) = (id("-u"), id("-g"));
                return TestUser { name, uid, gid };
            }
            last = String::from_utf8_lossy(&out.stderr).into_owned();
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("useradd {name}: {last}");
    }

    /// The environment sudo gives a command it runs for this user.
    pub fn sudo_env(&self) -> [(&'static str, String); 3] {
        [
            ("SUDO_UID", self.uid.to_string()),
            ("SUDO_GID", self.gid.to_string()),
            ("SUDO_USER", self.name.clone()),
        ]
    }

    /// Make `path` this user's (chown, not following a symlink).
    pub fn own(&self, path: &Path) {
        std::os::unix::fs::lchown(path, Some(self.uid), Some(self.gid))
            .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        for _ in 0..50 {
            if run_quiet("userdel", &[&self.name]) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}
