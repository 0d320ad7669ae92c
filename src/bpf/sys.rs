//! Thin, safe wrappers over the bpf() object-by-id calls shared by the collectors.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Kind of object an id enumerates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjKind {
    Prog,
    Map,
    Link,
}

/// "`what`: the error" for a libbpf call that returned `ret` (-errno, or -1 with errno set).
pub fn call_error(what: &str, ret: i32) -> String {
    format!("{what}: {}", neg_errno(ret))
}

fn neg_errno(ret: i32) -> io::Error {
    if ret < 0 {
        // libbpf returns -errno and also sets errno.
        io::Error::from_raw_os_error(-ret)
    } else {
        io::Error::last_os_error()
    }
}

/// Next object id after `start` or `None` at the end.
pub fn next_id(kind: ObjKind, start: u32) -> io::Result<Option<u32>> {
    let mut next = 0u32;
    // SAFETY: `next` is a valid out-pointer for the duration of the call.
    let ret = unsafe {
        match kind {
            ObjKind::Prog => libbpf_sys::bpf_prog_get_next_id(start, &mut next),
            ObjKind::Map => libbpf_sys::bpf_map_get_next_id(start, &mut next),
            ObjKind::Link => libbpf_sys::bpf_link_get_next_id(start, &mut next),
        }
    };
    if ret == 0 {
        return Ok(Some(next));
    }
    let err = neg_errno(ret);
    if err.raw_os_error() == Some(libc::ENOENT) {
        Ok(None)
    } else {
        Err(err)
    }
}

/// All ids of a kind, in order. Stops only at the end or on a hard error (returned with the ids so far).
pub fn all_ids(kind: ObjKind) -> (Vec<u32>, Option<io::Error>) {
    let mut ids = Vec::new();
    let mut cur = 0u32;
    loop {
        match next_id(kind, cur) {
            Ok(Some(id)) => {
                ids.push(id);
                cur = id;
            }
            Ok(None) => return (ids, None),
            Err(e) => return (ids, Some(e)),
        }
    }
}

/// Open an object by id. `ENOENT` means it vanished since it was enumerated.
pub fn fd_by_id(kind: ObjKind, id: u32) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall wrappers; they return a new fd or a negative errno.
    let fd = unsafe {
        match kind {
            ObjKind::Prog => libbpf_sys::bpf_prog_get_fd_by_id(id),
            ObjKind::Map => libbpf_sys::bpf_map_get_fd_by_id(id),
            ObjKind::Link => libbpf_sys::bpf_link_get_fd_by_id(id),
        }
    };
    if fd < 0 {
        return Err(neg_errno(fd));
    }
    // SAFETY: the fd was just created for us and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `bpf_obj_get_info_by_fd` into a plain `#[repr(C)]` info struct.
///
/// # Safety
/// `T` must be the kernel info struct for the object type behind `fd` (`bpf_prog_info`,
/// `bpf_map_info`, `bpf_link_info`), and any pointer fields set in `info` must point to buffers
/// of the sizes given in the matching length fields.
pub unsafe fn info_by_fd<T>(fd: &OwnedFd, info: &mut T) -> io::Result<()> {
    let mut len = std::mem::size_of::<T>() as u32;
    // SAFETY: caller guarantees `info` matches the object type and its embedded buffers are valid.
    let ret = unsafe {
        libbpf_sys::bpf_obj_get_info_by_fd(fd.as_raw_fd(), info as *mut T as *mut _, &mut len)
    };
    if ret < 0 {
        return Err(neg_errno(ret));
    }
    Ok(())
}

/// `memlock:` from /proc/self/fdinfo of a BPF map fd: the memory the kernel charged for it.
///
/// Not `libbpf_rs::MapFdInfo` (0.27): it parses `memlock` as a u32 and fails the whole read for
/// a map charged 4 GiB or more, which the kernel prints as a u64; this reads the one field.
pub fn fdinfo_memlock(fd: &OwnedFd) -> Option<u64> {
    parse_fdinfo_field(&fdinfo(fd)?, "memlock")
}

/// The text of `/proc/self/fdinfo/FD`, in three syscalls: an open relative to the process's
/// fdinfo directory (opened once; no path walk from `/` per descriptor), one read (a BPF
/// object's fdinfo is a few hundred bytes, produced whole by the first read; a short read is
/// the end) and a close. `std::fs::read_to_string` adds a stat and a second read: on a node
/// with hundreds of maps and pins that doubled the cost of a `show maps`.
pub fn fdinfo(fd: &impl AsRawFd) -> Option<String> {
    use nix::fcntl::{open, openat, OFlag};
    use nix::sys::stat::Mode;
    use std::io::Read;
    use std::sync::OnceLock;
    static DIR: OnceLock<Option<OwnedFd>> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        open(
            "/proc/self/fdinfo",
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .ok()
    });
    let name = fd.as_raw_fd().to_string();
    let flags = OFlag::O_RDONLY | OFlag::O_CLOEXEC;
    let f = match dir {
        Some(d) => openat(d, name.as_str(), flags, Mode::empty()),
        None => open(
            format!("/proc/self/fdinfo/{name}").as_str(),
            flags,
            Mode::empty(),
        ),
    }
    .ok()?;
    let mut f = std::fs::File::from(f);
    let mut buf = vec![0u8; 4096];
    let mut len = 0;
    loop {
        let n = f.read(&mut buf[len..]).ok()?;
        len += n;
        if n == 0 || len < buf.len() {
            break;
        }
        buf.resize(buf.len() * 2, 0);
        if buf.len() > 1 << 20 {
            return None;
        }
    }
    buf.truncate(len);
    String::from_utf8(buf).ok()
}

/// One numeric field of an fdinfo text (`map_id:\t12`).
pub fn parse_fdinfo_field(text: &str, field: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        if k.trim() == field {
            v.trim().parse().ok()
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fdinfo_fields_parse() {
        let t = "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\nmap_type:\t1\nkey_size:\t4\nmemlock:\t1048576\nmap_id:\t12\n";
        assert_eq!(parse_fdinfo_field(t, "memlock"), Some(1048576));
        assert_eq!(parse_fdinfo_field(t, "map_id"), Some(12));
        assert_eq!(parse_fdinfo_field(t, "prog_id"), None);
        assert_eq!(parse_fdinfo_field("garbage", "x"), None);
    }
}
