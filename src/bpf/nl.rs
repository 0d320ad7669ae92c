//! Netlink framing shared by dpscope's three netlink users: rtnetlink (`attach::netlink`),
//! sock_diag (`probes::sockdiag`) and the audit read-log listener (`denials::audit`).
//!
//! Pure and total on any bytes: building a request (`nlmsghdr` + payload), walking the
//! messages of one datagram (`messages`) and the attributes of one message (`attrs`), and
//! what a message means for a dump (`dump_step`: data, an ACK to skip, the end, or the
//! kernel's error). Plus a small blocking socket (`Socket`, through nix) whose `dump` sends one
//! request and reads the reply into one bounded buffer until the dump ends.

use nix::sys::socket::{self, sockopt, AddressFamily, MsgFlags, NetlinkAddr, SockFlag};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

pub use nix::sys::socket::{SockProtocol, SockType};

pub const NLMSG_HDRLEN: usize = 16;
pub const NLMSG_NOOP: u16 = 1;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_DUMP: u16 = 0x300;
/// Attribute type bits (without NLA_F_NESTED and NLA_F_NET_BYTEORDER).
const NLA_TYPE_MASK: u16 = 0x3FFF;
/// Bytes of one receive: the kernel sizes dump datagrams to fit the reader's buffer up to
/// about this, and audit records are far smaller.
pub const RECV_BUFFER: usize = 64 * 1024;
/// Datagrams one dump may take before it is called endless (10k interfaces or sockets take
/// far fewer).
const MAX_DATAGRAMS: usize = 100_000;

/// Why a netlink reply could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NlError {
    #[error("netlink reply truncated at byte {0}")]
    Truncated(usize),
    #[error("netlink message at byte {offset} has bad length {len}")]
    BadLength { offset: usize, len: usize },
    #[error("kernel answered with error {errno} ({msg})")]
    Kernel { errno: i32, msg: String },
}

/// The kernel's answer `errno` (positive) as an error, with the C library's text.
pub fn kernel_error(errno: i32) -> NlError {
    NlError::Kernel {
        errno,
        msg: std::io::Error::from_raw_os_error(errno).to_string(),
    }
}

pub fn align4(n: usize) -> usize {
    n.saturating_add(3) & !3
}

fn ne_u16(b: &[u8], off: usize) -> Option<u16> {
    crate::bytes::array(b, off).map(u16::from_ne_bytes)
}

fn ne_u32(b: &[u8], off: usize) -> Option<u32> {
    crate::bytes::array(b, off).map(u32::from_ne_bytes)
}

/// Bytes of one request: `nlmsghdr` (pid 0: the kernel fills it) + `payload`.
pub fn request(msg_type: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let len = NLMSG_HDRLEN + payload.len();
    let mut b = Vec::with_capacity(len);
    b.extend_from_slice(&(len as u32).to_ne_bytes());
    b.extend_from_slice(&msg_type.to_ne_bytes());
    b.extend_from_slice(&flags.to_ne_bytes());
    b.extend_from_slice(&seq.to_ne_bytes());
    b.extend_from_slice(&0u32.to_ne_bytes());
    b.extend_from_slice(payload);
    b
}

/// One netlink message of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msg<'a> {
    pub ty: u16,
    pub flags: u16,
    pub seq: u32,
    /// The payload after the header (without the padding to the next message).
    pub body: &'a [u8],
}

/// The messages of one datagram, in order. Total: a header that does not fit, or a length
/// that is too short or runs past the datagram, ends the walk with one error.
pub fn messages(buf: &[u8]) -> Messages<'_> {
    Messages {
        buf,
        off: 0,
        failed: false,
    }
}

pub struct Messages<'a> {
    buf: &'a [u8],
    off: usize,
    failed: bool,
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<Msg<'a>, NlError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (buf, off) = (self.buf, self.off);
        if self.failed || off >= buf.len() {
            return None;
        }
        let header = (|| {
            Some((
                ne_u32(buf, off)?,
                ne_u16(buf, off + 4)?,
                ne_u16(buf, off + 6)?,
                ne_u32(buf, off + 8)?,
            ))
        })();
        let Some((len, ty, flags, seq)) = header.filter(|_| off + NLMSG_HDRLEN <= buf.len()) else {
            self.failed = true;
            return Some(Err(NlError::Truncated(off)));
        };
        let len = len as usize;
        if len < NLMSG_HDRLEN || len > buf.len() - off {
            self.failed = true;
            return Some(Err(NlError::BadLength { offset: off, len }));
        }
        self.off = off + align4(len);
        Some(Ok(Msg {
            ty,
            flags,
            seq,
            body: &buf[off + NLMSG_HDRLEN..off + len],
        }))
    }
}

/// What one message means for a dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A message of the protocol: decode it.
    Data,
    /// `NLMSG_NOOP`, or an `NLMSG_ERROR` carrying 0 (an ACK).
    Skip,
    /// `NLMSG_DONE`: the dump is complete.
    Done,
}

/// Classify one message of a dump reply: `NLMSG_ERROR` with a negative errno, and
/// `NLMSG_DONE` carrying one (a dump the kernel could not finish), are the kernel's error.
pub fn dump_step(m: &Msg<'_>) -> Result<Step, NlError> {
    match m.ty {
        NLMSG_DONE => {
            let err = ne_u32(m.body, 0).map_or(0, |e| e as i32);
            if err < 0 {
                return Err(kernel_error(err.saturating_neg()));
            }
            Ok(Step::Done)
        }
        NLMSG_ERROR => {
            let err = ne_u32(m.body, 0).ok_or(NlError::Truncated(0))? as i32;
            if err < 0 {
                return Err(kernel_error(err.saturating_neg()));
            }
            Ok(Step::Skip)
        }
        NLMSG_NOOP => Ok(Step::Skip),
        _ => Ok(Step::Data),
    }
}

/// The `(type, payload)` attributes of a run of netlink attributes (type without the nested
/// and byte-order flags). Total: a malformed header ends the walk with one error.
pub fn attrs(buf: &[u8]) -> Attrs<'_> {
    Attrs {
        buf,
        off: 0,
        failed: false,
    }
}

pub struct Attrs<'a> {
    buf: &'a [u8],
    off: usize,
    failed: bool,
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<(u16, &'a [u8]), NlError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (buf, off) = (self.buf, self.off);
        if self.failed || off.saturating_add(4) > buf.len() {
            return None;
        }
        let (Some(len), Some(ty)) = (ne_u16(buf, off), ne_u16(buf, off + 2)) else {
            self.failed = true;
            return Some(Err(NlError::Truncated(off)));
        };
        let len = len as usize;
        if len < 4 || off + len > buf.len() {
            self.failed = true;
            return Some(Err(NlError::BadLength { offset: off, len }));
        }
        self.off = off + align4(len);
        Some(Ok((ty & NLA_TYPE_MASK, &buf[off + 4..off + len])))
    }
}

/// Why a dump over a `Socket` failed: the socket, or the reply (`E`, the protocol's parser).
#[derive(Debug)]
pub enum DumpError<E> {
    Send(std::io::Error),
    Recv(std::io::Error),
    /// The socket returned no bytes.
    Closed,
    /// No end after `MAX_DATAGRAMS` datagrams.
    Endless,
    Reply(E),
}

/// A blocking netlink socket in the calling thread's network namespace (the one current when
/// it was opened).
pub struct Socket {
    fd: OwnedFd,
}

impl Socket {
    /// `socket(AF_NETLINK, ty | SOCK_CLOEXEC, protocol)`.
    pub fn open(ty: SockType, protocol: SockProtocol) -> std::io::Result<Socket> {
        let fd = socket::socket(AddressFamily::Netlink, ty, SockFlag::SOCK_CLOEXEC, protocol)?;
        Ok(Socket { fd })
    }

    /// Bind to multicast `groups` (0: none).
    pub fn bind(&self, groups: u32) -> std::io::Result<()> {
        Ok(socket::bind(
            self.fd.as_raw_fd(),
            &NetlinkAddr::new(0, groups),
        )?)
    }

    /// `SO_RCVTIMEO`: a receive waits at most `timeout`, then fails with EAGAIN.
    pub fn set_receive_timeout(&self, timeout: std::time::Duration) -> std::io::Result<()> {
        let tv = nix::sys::time::TimeVal::new(
            timeout.as_secs() as nix::sys::time::time_t,
            timeout.subsec_micros() as nix::sys::time::suseconds_t,
        );
        Ok(socket::setsockopt(&self.fd, sockopt::ReceiveTimeout, &tv)?)
    }

    /// Send one request to the kernel.
    pub fn send(&self, req: &[u8]) -> std::io::Result<()> {
        // pid 0 addresses the kernel.
        socket::sendto(
            self.fd.as_raw_fd(),
            req,
            &NetlinkAddr::new(0, 0),
            MsgFlags::empty(),
        )?;
        Ok(())
    }

    /// One datagram into `buf`; its length.
    pub fn recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        Ok(socket::recv(self.fd.as_raw_fd(), buf, MsgFlags::empty())?)
    }

    /// Send `req` and hand each datagram of the reply to `datagram`, which says whether the
    /// dump ended in it. One buffer of `RECV_BUFFER` bytes, at most `MAX_DATAGRAMS` reads;
    /// an interrupted read is retried.
    pub fn dump<E>(
        &self,
        req: &[u8],
        mut datagram: impl FnMut(&[u8]) -> Result<bool, E>,
    ) -> Result<(), DumpError<E>> {
        self.send(req).map_err(DumpError::Send)?;
        let mut buf = vec![0u8; RECV_BUFFER];
        for _ in 0..MAX_DATAGRAMS {
            let n = match self.recv(&mut buf) {
                Ok(0) => return Err(DumpError::Closed),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(DumpError::Recv(e)),
            };
            if datagram(&buf[..n]).map_err(DumpError::Reply)? {
                return Ok(());
            }
        }
        Err(DumpError::Endless)
    }
}

impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(ty: u16, body: &[u8]) -> Vec<u8> {
        let mut b = request(ty, 2, 7, body);
        while !b.len().is_multiple_of(4) {
            b.push(0);
        }
        b
    }

    #[test]
    fn request_header_layout() {
        let r = request(18, NLM_F_REQUEST | NLM_F_DUMP, 9, &[0xAA; 5]);
        assert_eq!(r.len(), 21);
        assert_eq!(ne_u32(&r, 0), Some(21));
        assert_eq!(ne_u16(&r, 4), Some(18));
        assert_eq!(ne_u16(&r, 6), Some(0x301));
        assert_eq!(ne_u32(&r, 8), Some(9));
        assert_eq!(ne_u32(&r, 12), Some(0));
        assert_eq!(&r[16..], &[0xAA; 5]);
    }

    #[test]
    fn messages_walk_padded_runs_and_stop_at_garbage() {
        let mut b = msg(20, &[1, 2, 3]);
        b.extend(msg(NLMSG_DONE, &0i32.to_ne_bytes()));
        let got: Vec<_> = messages(&b).collect::<Result<_, _>>().unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].ty, got[0].flags, got[0].seq), (20, 2, 7));
        assert_eq!(got[0].body, &[1, 2, 3]);
        assert_eq!(dump_step(&got[1]), Ok(Step::Done));
        // A partial header at the end, and a length past the datagram.
        let mut t = b.clone();
        t.extend([1, 2, 3]);
        assert_eq!(messages(&t).last(), Some(Err(NlError::Truncated(b.len()))));
        let mut l = b.clone();
        l[0..4].copy_from_slice(&1000u32.to_ne_bytes());
        assert!(matches!(
            messages(&l).next(),
            Some(Err(NlError::BadLength {
                offset: 0,
                len: 1000
            }))
        ));
        assert_eq!(messages(&l).count(), 1);
    }

    #[test]
    fn dump_steps_follow_netlink_7() {
        let step = |ty, body: &[u8]| dump_step(&messages(&msg(ty, body)).next().unwrap().unwrap());
        assert_eq!(step(NLMSG_ERROR, &0i32.to_ne_bytes()), Ok(Step::Skip));
        assert_eq!(step(NLMSG_NOOP, &[]), Ok(Step::Skip));
        assert_eq!(step(44, &[]), Ok(Step::Data));
        assert_eq!(step(NLMSG_DONE, &[]), Ok(Step::Done));
        assert!(matches!(
            step(NLMSG_ERROR, &(-libc::EPERM).to_ne_bytes()),
            Err(NlError::Kernel {
                errno: libc::EPERM,
                ..
            })
        ));
        assert!(matches!(
            step(NLMSG_DONE, &(-libc::EINVAL).to_ne_bytes()),
            Err(NlError::Kernel {
                errno: libc::EINVAL,
                ..
            })
        ));
        assert_eq!(step(NLMSG_ERROR, &[1]), Err(NlError::Truncated(0)));
        assert!(step(NLMSG_ERROR, &i32::MIN.to_ne_bytes()).is_err());
    }

    #[test]
    fn attrs_mask_flags_and_never_overrun() {
        let mut b = Vec::new();
        b.extend_from_slice(&7u16.to_ne_bytes());
        b.extend_from_slice(&(0x8000u16 | 2).to_ne_bytes());
        b.extend_from_slice(&[9, 9, 9, 0]);
        b.extend_from_slice(&4u16.to_ne_bytes());
        b.extend_from_slice(&5u16.to_ne_bytes());
        let got: Vec<_> = attrs(&b).collect::<Result<_, _>>().unwrap();
        assert_eq!(got, vec![(2, &[9u8, 9, 9][..]), (5, &[][..])]);
        let mut bad = b.clone();
        bad[0..2].copy_from_slice(&200u16.to_ne_bytes());
        assert_eq!(attrs(&bad).count(), 1);
        assert!(attrs(&bad).next().unwrap().is_err());
        for cut in 0..b.len() {
            let _ = attrs(&b[..cut]).count();
            let _ = messages(&b[..cut]).count();
        }
    }

    #[test]
    fn a_route_dump_over_the_socket_ends() {
        // RTM_GETLINK of every interface: at least `lo`, then NLMSG_DONE.
        let s = Socket::open(SockType::Raw, SockProtocol::NetlinkRoute).unwrap();
        s.set_receive_timeout(std::time::Duration::from_secs(2))
            .unwrap();
        let req = request(18, NLM_F_REQUEST | NLM_F_DUMP, 1, &[0u8; 16]);
        let mut links = 0;
        let r = s.dump(&req, |d| -> Result<bool, NlError> {
            for m in messages(d) {
                match dump_step(&m?)? {
                    Step::Done => return Ok(true),
                    Step::Data => links += 1,
                    Step::Skip => {}
                }
            }
            Ok(false)
        });
        assert!(r.is_ok(), "{r:?}");
        assert!(links >= 1);
    }
}
