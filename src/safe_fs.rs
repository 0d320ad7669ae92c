//! Creating files as root without being redirected by another user: the dump directory
//! (`Ctrl-s`, `R`), `record -o` and `snapshot -o`.
//!
//! A leaf module (it imports nothing from the crate), so that collectors, the app and `main`
//! share one implementation.
//!
//! What holds:
//! * The directory is opened once, with `O_DIRECTORY|O_NOFOLLOW`, and everything after that is
//!   relative to that descriptor (`mkdirat`, `openat`, `unlinkat`): a symlink planted or
//!   swapped in afterwards redirects nothing.
//! * Files are created with `O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0600; a directory dpscope creates
//!   is 0700. Nothing is ever chowned, by path or otherwise: see the next point.
//! * Under sudo (root, with `SUDO_UID`/`SUDO_GID` set by sudo), the directory is opened and the
//!   files are created *as the invoking user*, as `sudo -u USER` would: on a short-lived thread
//!   of its own whose filesystem uid/gid and supplementary groups are that user's and which
//!   holds no capabilities. The kernel then checks that user's permissions, and the files are
//!   born owned by that user. Linux keeps credentials per thread (glibc only emulates
//!   process-wide `setuid`), so no other thread of dpscope ever runs as the user, and the thread
//!   ends after the few system calls it makes. A forked child would do the same, but forking a
//!   multi-threaded process (tokio, the collector) allows only async-signal-safe calls in the
//!   child; a thread has no such limit.
//! * The directory must belong to the writer (or to root, who is trusted anyway), and must not
//!   be writable by group or others unless it has the sticky bit (like /tmp). Anything else is
//!   refused with a message that says why: its owner could rename or replace what dpscope
//!   writes there.

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// Mode of the files dpscope creates (a conntrack dump is sensitive).
pub const FILE_MODE: u32 = 0o600;
/// Mode of a directory dpscope creates.
pub const DIR_MODE: u32 = 0o700;

/// Who files are written as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writer {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups (only used when `sudo`).
    pub groups: Vec<u32>,
    /// The user's name, for messages (`SUDO_USER`, or looked up).
    pub name: String,
    /// Root acting for the invoking user: file system calls run as that user.
    pub sudo: bool,
}

impl Writer {
    /// Under sudo (effective uid 0 and `SUDO_UID` naming another user) the invoking user, else
    /// the effective user. A `SUDO_UID` that is not a number is an error rather than "root".
    pub fn current() -> Result<Writer, String> {
        let euid = nix::unistd::geteuid().as_raw();
        let sudo_uid = std::env::var("SUDO_UID").ok().filter(|s| !s.is_empty());
        match sudo_uid {
            Some(uid) if euid == 0 => {
                let uid: u32 = uid
                    .trim()
                    .parse()
                    .map_err(|_| format!("SUDO_UID is not a user id: {uid:?}"))?;
                if uid == 0 {
                    return Ok(Writer::effective());
                }
                Writer::sudo_user(uid)
            }
            _ => Ok(Writer::effective()),
        }
    }

    /// The effective user itself.
    pub fn effective() -> Writer {
        let uid = nix::unistd::geteuid().as_raw();
        let gid = nix::unistd::getegid().as_raw();
        let name = nix::unistd::User::from_uid(uid.into())
            .ok()
            .flatten()
            .map_or_else(|| format!("uid {uid}"), |u| u.name);
        Writer {
            uid,
            gid,
            groups: vec![],
            name,
            sudo: false,
        }
    }

    /// Root writing for user `uid` (sudo's `SUDO_GID`, else the user's primary group; the
    /// user's supplementary groups from the group database).
    pub fn sudo_user(uid: u32) -> Result<Writer, String> {
        let user = nix::unistd::User::from_uid(uid.into()).ok().flatten();
        let env_gid = std::env::var("SUDO_GID")
            .ok()
            .and_then(|g| g.trim().parse().ok());
        let gid = env_gid
            .or_else(|| user.as_ref().map(|u| u.gid.as_raw()))
            .ok_or_else(|| format!("SUDO_UID {uid}: no such user and no SUDO_GID"))?;
        let name = std::env::var("SUDO_USER")
            .ok()
            .filter(|n| !n.is_empty())
            .or_else(|| user.as_ref().map(|u| u.name.clone()))
            .unwrap_or_else(|| format!("uid {uid}"));
        let mut groups = vec![gid];
        if let Some(u) = &user {
            if let Ok(c) = CString::new(u.name.as_bytes()) {
                if let Ok(list) = nix::unistd::getgrouplist(&c, gid.into()) {
                    groups = list.into_iter().map(|g| g.as_raw()).collect();
                }
            }
        }
        Ok(Writer {
            uid,
            gid,
            groups,
            name,
            sudo: true,
        })
    }

    /// "alice (uid 1000), who ran sudo" / "root (uid 0)".
    pub fn describe(&self) -> String {
        if self.sudo {
            format!("{} (uid {}), who ran sudo", self.name, self.uid)
        } else {
            format!("{} (uid {})", self.name, self.uid)
        }
    }

    /// Run `f` with this writer's file system identity: under sudo on a thread of its own with
    /// the user's fsuid, fsgid and groups and no capabilities; else right here.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> Result<T, String> {
        if !self.sudo {
            return Ok(f());
        }
        std::thread::scope(|s| {
            let h = std::thread::Builder::new()
                .name("dpscope-as-user".into())
                .spawn_scoped(s, || {
                    become_user(self.uid, self.gid, &self.groups)?;
                    Ok(f())
                })
                .map_err(|e| format!("cannot start a thread to write as {}: {e}", self.name))?;
            h.join()
                .unwrap_or_else(|_| Err("the thread writing as the user panicked".into()))
        })
    }
}

/// Header and data of `capget`/`capset` (linux/capability.h, version 3: two data words).
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}
const CAP_V3: u32 = 0x2008_0522;

/// Give the calling thread (only) the file system identity of `uid`/`gid`/`groups` and drop its
/// effective capabilities. Raw system calls: the kernel applies them to this thread alone,
/// where glibc's wrappers would broadcast them to every thread of the process.
fn become_user(uid: u32, gid: u32, groups: &[u32]) -> Result<(), String> {
    let fail = |what: &str| format!("cannot switch to uid {uid} to write: {what}: {}", errno());
    // SAFETY: setgroups reads `groups.len()` gid_t values from a valid slice.
    let rc = unsafe { libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) };
    if rc != 0 {
        return Err(fail("setgroups"));
    }
    // setfsgid/setfsuid return the previous id and cannot report failure; asking again
    // (with an invalid id, which changes nothing) tells the id in force.
    // SAFETY: plain integer system calls on this thread's credentials.
    unsafe {
        libc::syscall(libc::SYS_setfsgid, gid);
        libc::syscall(libc::SYS_setfsuid, uid);
    }
    // SAFETY: as above; u32::MAX is never a valid id, so this only reads the current one.
    let (now_gid, now_uid) = unsafe {
        (
            libc::syscall(libc::SYS_setfsgid, u32::MAX) as u32,
            libc::syscall(libc::SYS_setfsuid, u32::MAX) as u32,
        )
    };
    if now_uid != uid || now_gid != gid {
        return Err(format!(
            "cannot switch to uid {uid}/gid {gid} to write (still {now_uid}/{now_gid})"
        ));
    }
    // No capabilities at all on this thread: changing fsuid away from 0 already cleared the
    // file ones (CAP_DAC_OVERRIDE, CAP_CHOWN, CAP_FOWNER...); clear the rest of the effective
    // set too, so the thread can do nothing the user could not.
    let mut head = CapHeader {
        version: CAP_V3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: header and a two-element data array of the version-3 layout.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &mut head, data.as_mut_ptr()) };
    if rc != 0 {
        return Err(fail("capget"));
    }
    for d in &mut data {
        d.effective = 0;
    }
    // SAFETY: as for capget; clearing effective bits is always permitted.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &mut head, data.as_ptr()) };
    if rc != 0 {
        return Err(fail("capset"));
    }
    Ok(())
}

fn errno() -> std::io::Error {
    std::io::Error::last_os_error()
}

fn cstr(p: &OsStr) -> Result<CString, String> {
    CString::new(p.as_bytes()).map_err(|_| format!("{:?}: path holds a NUL byte", p))
}

/// A directory opened for writing into, checked by its descriptor.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
    writer: Writer,
    /// Only root can change its entries (root's, not writable by group or others): a symlink
    /// in it was put there by root.
    roots_only: bool,
}

/// What a path names, without following a symlink (for messages).
fn lstat_kind(path: &Path) -> Option<&'static str> {
    let m = std::fs::symlink_metadata(path).ok()?;
    Some(if m.file_type().is_symlink() {
        "a symlink"
    } else if m.is_dir() {
        "a directory"
    } else if m.is_file() {
        "a file"
    } else {
        "not a directory"
    })
}

fn open_dir_at(at: RawFd, name: &CString) -> std::io::Result<OwnedFd> {
    // SAFETY: `at` is a directory descriptor or AT_FDCWD, `name` a NUL-terminated string.
    let fd = unsafe {
        libc::openat(
            at,
            name.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(errno());
    }
    // SAFETY: a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Open `path` as a directory without following a final symlink; with `create`, make it (and
/// missing parents) mode 0700 first. Runs with the writer's identity (see [`Writer::run`]).
fn open_or_create(path: &Path, create: bool) -> Result<OwnedFd, (std::io::Error, PathBuf)> {
    let p = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    let c = cstr(p.as_os_str()).map_err(|e| (std::io::Error::other(e), p.to_path_buf()))?;
    match open_dir_at(libc::AT_FDCWD, &c) {
        Ok(fd) => Ok(fd),
        Err(e) if create && e.raw_os_error() == Some(libc::ENOENT) => {
            let name = match p.components().next_back() {
                Some(Component::Normal(n)) => n,
                _ => return Err((e, p.to_path_buf())),
            };
            let parent = p.parent().unwrap_or(Path::new("."));
            let pfd = open_or_create(parent, true)?;
            let cname = cstr(name).map_err(|e| (std::io::Error::other(e), p.to_path_buf()))?;
            // SAFETY: pfd is an open directory descriptor, cname NUL-terminated.
            let rc = unsafe { libc::mkdirat(pfd.as_raw_fd(), cname.as_ptr(), DIR_MODE) };
            if rc != 0 && errno().raw_os_error() != Some(libc::EEXIST) {
                return Err((errno(), p.to_path_buf()));
            }
            open_dir_at(pfd.as_raw_fd(), &cname).map_err(|e| (e, p.to_path_buf()))
        }
        Err(e) => Err((e, p.to_path_buf())),
    }
}

fn fstat(fd: RawFd) -> std::io::Result<libc::stat> {
    // SAFETY: an all-zero `stat` is a valid value for fstat to fill in.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fd is open, st is a valid out pointer.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Err(errno());
    }
    Ok(st)
}

fn user_name(uid: u32) -> String {
    nix::unistd::User::from_uid(uid.into())
        .ok()
        .flatten()
        .map_or_else(
            || format!("uid {uid}"),
            |u| format!("{} (uid {uid})", u.name),
        )
}

/// Why a directory with this owner and mode is not safe to write into for `w`, if it is not.
pub fn unsafe_dir_reason(owner: u32, mode: u32, w: &Writer) -> Option<String> {
    if owner != w.uid && owner != 0 {
        return Some(format!(
            "it belongs to {}, not to {}: its owner could replace what dpscope writes there",
            user_name(owner),
            w.describe()
        ));
    }
    if mode & 0o022 != 0 && mode & libc::S_ISVTX == 0 {
        return Some(format!(
            "it is writable by {} (mode {:o}) without the sticky bit: anyone there could replace what dpscope writes (chmod go-w it, or choose another directory)",
            if mode & 0o002 != 0 { "everyone" } else { "its group" },
            mode & 0o7777
        ));
    }
    None
}

impl Dir {
    /// Open (with `create`: make, mode 0700) the directory `path` to write into as `writer`,
    /// and check it by its descriptor: a directory, not a symlink, owned by the writer (or
    /// root), not writable by others unless sticky.
    pub fn open(path: &Path, writer: &Writer, create: bool) -> Result<Dir, String> {
        let shown = if path.as_os_str().is_empty() {
            Path::new(".")
        } else {
            path
        };
        let fd = writer
            .run(|| open_or_create(path, create))?
            .map_err(|(e, at)| {
                let what = match e.raw_os_error() {
                    Some(libc::ELOOP) | Some(libc::ENOTDIR) => match lstat_kind(&at) {
                        Some("a symlink") => {
                            "it is a symlink (dpscope does not follow one here)".to_string()
                        }
                        Some(k) => format!("it is {k}, not a directory"),
                        None => e.to_string(),
                    },
                    _ => e.to_string(),
                };
                let whom = if writer.sudo {
                    format!(" as {}", writer.describe())
                } else {
                    String::new()
                };
                if at == shown {
                    format!("cannot use directory {}{whom}: {what}", shown.display())
                } else {
                    format!(
                        "cannot use directory {}{whom}: {}: {what}",
                        shown.display(),
                        at.display()
                    )
                }
            })?;
        let st = fstat(fd.as_raw_fd()).map_err(|e| format!("{}: {e}", shown.display()))?;
        if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
            return Err(format!("{} is not a directory", shown.display()));
        }
        if let Some(why) = unsafe_dir_reason(st.st_uid, st.st_mode, writer) {
            return Err(format!("refusing to write into {}: {why}", shown.display()));
        }
        Ok(Dir {
            fd,
            path: shown.to_path_buf(),
            writer: writer.clone(),
            roots_only: st.st_uid == 0 && st.st_mode & 0o022 == 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn checked_name(&self, name: &str) -> Result<CString, String> {
        if name.is_empty() || name == "." || name == ".." || name.contains('/') {
            return Err(format!("{name:?} is not a file name"));
        }
        cstr(OsStr::new(name))
    }

    /// Create the new file `name` (mode 0600, never through a symlink, never over an existing
    /// file), as the writer.
    pub fn create_new(&self, name: &str) -> Result<File, String> {
        let c = self.checked_name(name)?;
        let dir = self.fd.as_raw_fd();
        self.writer
            .run(|| create_excl(dir, &c))?
            .map_err(|e| self.create_error(name, &e))
    }

    /// Create `name` for `-o FILE`, as the writer, never writing through a symlink another user
    /// could have planted: a regular file or such a symlink already there is removed (the entry,
    /// not its target) and the file created anew (0600). A symlink in a directory only root can
    /// change (`/dev/stdout`) is followed, and a device or FIFO (`/dev/null`) is written into.
    pub fn create_replacing(&self, name: &str) -> Result<File, String> {
        let c = self.checked_name(name)?;
        let dir = self.fd.as_raw_fd();
        let roots_only = self.roots_only;
        self.writer
            .run(|| match create_excl(dir, &c) {
                Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
                    let kind = fstatat_nofollow(dir, &c)?.st_mode & libc::S_IFMT;
                    match kind {
                        libc::S_IFLNK if roots_only => open_existing(dir, &c, true),
                        libc::S_IFCHR | libc::S_IFIFO => open_existing(dir, &c, false),
                        libc::S_IFREG | libc::S_IFLNK => {
                            // SAFETY: dir is an open directory descriptor, c NUL-terminated.
                            if unsafe { libc::unlinkat(dir, c.as_ptr(), 0) } != 0 {
                                return Err(errno());
                            }
                            create_excl(dir, &c)
                        }
                        libc::S_IFDIR => Err(std::io::Error::from_raw_os_error(libc::EISDIR)),
                        _ => Err(std::io::Error::other("not a file dpscope writes into")),
                    }
                }
                r => r,
            })?
            .map_err(|e| self.create_error(name, &e))
    }

    /// Remove the file `name` from this directory (the entry, never a symlink's target), as
    /// the writer; an entry already gone is not an error.
    pub fn remove(&self, name: &str) -> Result<(), String> {
        let c = self.checked_name(name)?;
        let dir = self.fd.as_raw_fd();
        self.writer
            .run(|| {
                // SAFETY: dir is an open directory descriptor, c NUL-terminated.
                if unsafe { libc::unlinkat(dir, c.as_ptr(), 0) } != 0 {
                    let e = errno();
                    if e.raw_os_error() != Some(libc::ENOENT) {
                        return Err(e);
                    }
                }
                Ok(())
            })?
            .map_err(|e| format!("cannot remove {}: {e}", self.path.join(name).display()))
    }

    /// The entries of this directory that are regular files (symlinks are not followed, not
    /// listed), with their sizes: read through the descriptor, so it is the directory that
    /// was checked whatever happened to its path since.
    pub fn regular_files(&self) -> std::io::Result<Vec<(std::ffi::OsString, u64)>> {
        let proc = PathBuf::from(format!("/proc/self/fd/{}", self.fd.as_raw_fd()));
        let mut out = Vec::new();
        for e in std::fs::read_dir(&proc)? {
            let e = e?;
            let name = e.file_name();
            let Ok(c) = cstr(&name) else { continue };
            let st = match fstatat_nofollow(self.fd.as_raw_fd(), &c) {
                Ok(st) => st,
                // Removed meanwhile.
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
                Err(e) => return Err(e),
            };
            if st.st_mode & libc::S_IFMT == libc::S_IFREG {
                out.push((name, st.st_size as u64));
            }
        }
        Ok(out)
    }

    fn create_error(&self, name: &str, e: &std::io::Error) -> String {
        let p = self.path.join(name);
        match e.raw_os_error() {
            Some(libc::EEXIST) => format!("{} already exists: not overwritten", p.display()),
            Some(libc::EACCES) | Some(libc::EPERM) if self.writer.sudo => format!(
                "cannot create {} as {}: {e}",
                p.display(),
                self.writer.describe()
            ),
            _ => format!("cannot create {}: {e}", p.display()),
        }
    }
}

fn create_excl(dir: RawFd, name: &CString) -> std::io::Result<File> {
    // SAFETY: dir is an open directory descriptor, name NUL-terminated; the mode argument is
    // read because of O_CREAT.
    let fd = unsafe {
        libc::openat(
            dir,
            name.as_ptr(),
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            FILE_MODE as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(errno());
    }
    // SAFETY: a fresh descriptor we own.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// Open an existing entry for writing: a device or FIFO (`follow` false: never a symlink), or
/// a root-made symlink (`follow`: created 0600 if its target is missing, truncated if not).
fn open_existing(dir: RawFd, name: &CString, follow: bool) -> std::io::Result<File> {
    let flags = if follow {
        libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC | libc::O_NOCTTY
    } else {
        libc::O_WRONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NOCTTY
    };
    // SAFETY: dir is an open directory descriptor, name NUL-terminated; the mode is read only
    // with O_CREAT.
    let fd = unsafe { libc::openat(dir, name.as_ptr(), flags, FILE_MODE as libc::c_uint) };
    if fd < 0 {
        return Err(errno());
    }
    // SAFETY: a fresh descriptor we own.
    Ok(unsafe { File::from_raw_fd(fd) })
}

fn fstatat_nofollow(dir: RawFd, name: &CString) -> std::io::Result<libc::stat> {
    // SAFETY: an all-zero `stat` is a valid value for fstatat to fill in.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: dir open, name NUL-terminated, st a valid out pointer.
    let rc = unsafe { libc::fstatat(dir, name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) };
    if rc != 0 {
        return Err(errno());
    }
    Ok(st)
}

/// Split an output path (`-o FILE`) into its directory and file name.
pub fn split_output(path: &Path) -> Result<(PathBuf, String), String> {
    let name = match path.components().next_back() {
        Some(Component::Normal(n)) => n
            .to_str()
            .ok_or_else(|| format!("{}: the file name is not valid UTF-8", path.display()))?,
        _ => return Err(format!("{} does not name a file", path.display())),
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Ok((dir.to_path_buf(), name.to_string()))
}

/// Create the output file `path` (`snapshot -o`, `record -o`) as the current writer: its
/// directory must exist and be safe (see [`Dir::open`]); a file or symlink already at `path`
/// is replaced, never written through.
pub fn create_output(path: &Path) -> Result<File, String> {
    let writer = Writer::current()?;
    let (dir, name) = split_output(path)?;
    Dir::open(&dir, &writer, false)?.create_replacing(&name)
}

/// Create `path` in the dump directory (made 0700 if missing) as the current writer, never
/// over an existing file: `R` recordings.
pub fn create_in_dump_dir(path: &Path) -> Result<File, String> {
    let writer = Writer::current()?;
    let (dir, name) = split_output(path)?;
    Dir::open(&dir, &writer, true)?.create_new(&name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn me() -> Writer {
        Writer::effective()
    }

    #[test]
    fn new_files_are_0600_new_dirs_0700_and_existing_files_are_not_overwritten() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("a/b");
        let dir = Dir::open(&d, &me(), true).unwrap();
        assert_eq!(std::fs::metadata(&d).unwrap().mode() & 0o777, DIR_MODE);
        assert_eq!(
            std::fs::metadata(t.path().join("a")).unwrap().mode() & 0o777,
            DIR_MODE
        );
        let mut f = dir.create_new("x.json").unwrap();
        f.write_all(b"1").unwrap();
        assert_eq!(
            std::fs::metadata(d.join("x.json")).unwrap().mode() & 0o777,
            FILE_MODE
        );
        let e = dir.create_new("x.json").unwrap_err();
        assert!(e.contains("already exists"), "{e}");
        assert_eq!(std::fs::read(d.join("x.json")).unwrap(), b"1");
        for bad in ["", ".", "..", "a/b"] {
            assert!(dir.create_new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_symlink_is_never_written_through() {
        let t = tempfile::tempdir().unwrap();
        let victim = t.path().join("victim");
        std::fs::write(&victim, "secret").unwrap();
        // A directory others can write to (sticky, like /tmp): a symlink there may be theirs.
        let d = t.path().join("dumps");
        std::fs::create_dir(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o1777)).unwrap();
        std::os::unix::fs::symlink(&victim, d.join("out.json")).unwrap();
        let dir = Dir::open(&d, &me(), false).unwrap();
        let e = dir.create_new("out.json").unwrap_err();
        assert!(e.contains("already exists"), "{e}");
        // Replacing removes the link itself; the target is untouched.
        let mut f = dir.create_replacing("out.json").unwrap();
        f.write_all(b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "secret");
        let m = std::fs::symlink_metadata(d.join("out.json")).unwrap();
        assert!(m.is_file());
        // A directory is not replaced.
        std::fs::create_dir(d.join("sub")).unwrap();
        assert!(dir.create_replacing("sub").is_err());
    }

    #[test]
    fn devices_and_roots_own_symlinks_are_written_into_not_replaced() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let dev = Dir::open(Path::new("/dev"), &me(), false).unwrap();
        dev.create_replacing("null")
            .unwrap()
            .write_all(b"x")
            .unwrap();
        let m = std::fs::symlink_metadata("/dev/null").unwrap();
        assert!(std::os::unix::fs::FileTypeExt::is_char_device(
            &m.file_type()
        ));
        // /dev/stdout: root's symlink in root's directory, followed (to this test's stdout).
        if std::fs::symlink_metadata("/dev/stdout").is_ok_and(|m| m.file_type().is_symlink()) {
            dev.create_replacing("stdout").unwrap();
            assert!(std::fs::symlink_metadata("/dev/stdout")
                .unwrap()
                .file_type()
                .is_symlink());
        }
    }

    #[test]
    fn a_symlinked_directory_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let real = t.path().join("real");
        std::fs::create_dir(&real).unwrap();
        let link = t.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let e = Dir::open(&link, &me(), true).unwrap_err();
        assert!(e.contains("symlink"), "{e}");
        // Also when the link dangles and `create` would otherwise make it.
        let dangling = t.path().join("dangling");
        std::os::unix::fs::symlink(t.path().join("nowhere"), &dangling).unwrap();
        assert!(Dir::open(&dangling, &me(), true).is_err());
        assert!(!t.path().join("nowhere").exists());
    }

    #[test]
    fn group_or_world_writable_dirs_need_the_sticky_bit() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("open");
        std::fs::create_dir(&d).unwrap();
        for (mode, ok) in [
            (0o777, false),
            (0o775, false),
            (0o1777, true),
            (0o755, true),
        ] {
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode)).unwrap();
            let r = Dir::open(&d, &me(), false);
            assert_eq!(r.is_ok(), ok, "mode {mode:o}: {r:?}");
            if let Err(e) = r {
                assert!(e.contains("refusing") && e.contains("sticky"), "{e}");
            }
        }
    }

    #[test]
    fn another_users_dir_is_refused_roots_is_not() {
        let w = Writer {
            uid: 4242,
            gid: 4242,
            groups: vec![],
            name: "alice".into(),
            sudo: false,
        };
        assert!(unsafe_dir_reason(4242, 0o40700, &w).is_none());
        assert!(unsafe_dir_reason(0, 0o40755, &w).is_none());
        assert!(unsafe_dir_reason(0, 0o41777, &w).is_none());
        let e = unsafe_dir_reason(4343, 0o40700, &w).unwrap();
        assert!(e.contains("uid 4343") && e.contains("alice"), "{e}");
    }

    #[test]
    fn output_paths_split_into_dir_and_name() {
        assert_eq!(
            split_output(Path::new("out.json")).unwrap(),
            (PathBuf::from("."), "out.json".into())
        );
        assert_eq!(
            split_output(Path::new("/tmp/x/out.json")).unwrap(),
            (PathBuf::from("/tmp/x"), "out.json".into())
        );
        assert!(split_output(Path::new("/tmp/..")).is_err());
        assert!(split_output(Path::new("/")).is_err());
    }
}
