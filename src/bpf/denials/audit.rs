//! Read-only listener on the kernel audit netlink multicast group (AUDIT_NLGRP_READLOG).
//!
//! Joining the read-log group needs CAP_AUDIT_READ and never disturbs auditd: dpscope sends no
//! configuration message, it only reads copies of the records. Records are grouped by serial,
//! turned into `AuditEvent`s (`attribution`) on their own thread and kept in a bounded buffer.

use super::attribution::{self, AuditEvent, AUDIT_EOE};
use crate::bpf::nl;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

const AUDIT_NLGRP_READLOG: u32 = 1;
const AUDIT_GET: u16 = 1000;
/// Events buffered between two collections at most.
const BUFFER: usize = 4096;

pub struct Shared {
    events: Mutex<VecDeque<AuditEvent>>,
    stop: AtomicBool,
    records: AtomicU64,
    error: Mutex<Option<String>>,
}

/// The listener, or why there is none.
pub enum AuditState {
    Off(String),
    Running {
        shared: Arc<Shared>,
        /// Kernel audit status when the listener started (AUDIT_GET), None if unknown.
        at_start: Option<Status>,
    },
}

impl Drop for AuditState {
    fn drop(&mut self) {
        if let AuditState::Running { shared, .. } = self {
            shared.stop.store(true, Ordering::Relaxed);
        }
    }
}

fn netlink_socket(groups: u32) -> Result<nl::Socket, String> {
    let sock = nl::Socket::open(nl::SockType::Raw, nl::SockProtocol::NetlinkAudit)
        .map_err(|e| format!("audit netlink socket: {e}"))?;
    sock.bind(groups)
        .map_err(|e| format!("joining the audit read-log group: {e}"))?;
    if groups != 0 {
        grow_receive_buffer(&sock);
    }
    // Best effort: without it the reader only flushes on the next record.
    let _ = sock.set_receive_timeout(std::time::Duration::from_millis(300));
    Ok(sock)
}

/// Bytes of kernel receive buffer asked for the read-log socket. A burst of denials (a
/// crash-looping pod, a misconfigured policy) emits several records per attempt; with the
/// default ~200 KiB buffer a few hundred records overrun it before the reader thread runs on a
/// busy 2-core node. The kernel charges only what is queued, so a large cap costs nothing idle.
const RECEIVE_BUFFER: usize = 16 << 20;

/// Raise the socket's receive buffer past rmem_max when privileged (SO_RCVBUFFORCE), else to
/// what rmem_max allows (SO_RCVBUF). Best effort: overruns are still detected and reported.
fn grow_receive_buffer(fd: &nl::Socket) {
    use nix::sys::socket::{setsockopt, sockopt};
    if setsockopt(fd, sockopt::RcvBufForce, &RECEIVE_BUFFER).is_err() {
        let _ = setsockopt(fd, sockopt::RcvBuf, &RECEIVE_BUFFER);
    }
}

/// The fields of the kernel's `struct audit_status` dpscope reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub enabled: bool,
    pub backlog_limit: u32,
    /// Records the kernel dropped since boot (backlog or rate limit exceeded).
    pub lost: u32,
}

/// Parse an AUDIT_GET reply (netlink header + `struct audit_status`).
pub fn parse_status(buf: &[u8]) -> Option<Status> {
    let m = nl::messages(buf).next()?.ok()?;
    let u32_at = |o: usize| crate::bytes::array(m.body, o).map(u32::from_ne_bytes);
    if m.ty != AUDIT_GET || m.body.len() < 28 {
        return None;
    }
    // mask, enabled, failure, pid, rate_limit, backlog_limit, lost
    Some(Status {
        enabled: u32_at(4)? != 0,
        backlog_limit: u32_at(20)?,
        lost: u32_at(24)?,
    })
}

/// Kernel audit status (AUDIT_GET, a read-only query), None if unknown.
fn audit_status() -> Option<Status> {
    let sock = netlink_socket(0).ok()?;
    sock.send(&nl::request(AUDIT_GET, nl::NLM_F_REQUEST, 0, &[]))
        .ok()?;
    let mut buf = [0u8; 256];
    let n = sock.recv(&mut buf).ok()?;
    parse_status(buf.get(..n)?)
}

/// What the Node pane says about records the kernel dropped while dpscope listened.
pub fn kernel_loss_note(start: Option<Status>, now: Option<Status>) -> Option<String> {
    let (start, now) = (start?, now?);
    let lost = now.lost.wrapping_sub(start.lost);
    (lost > 0).then(|| {
        format!(
            "the kernel dropped {lost} audit records since dpscope started (backlog limit {}; \
             auditd's usual -b 8192 avoids this), so some denials may stay unattributed",
            now.backlog_limit
        )
    })
}

impl AuditState {
    /// Join the read-log group and start the reader thread; Off with the reason on failure.
    pub fn start() -> AuditState {
        let fd = match netlink_socket(AUDIT_NLGRP_READLOG) {
            Ok(fd) => fd,
            Err(e) => {
                return AuditState::Off(format!("{e} (needs CAP_AUDIT_READ and CONFIG_AUDIT)"))
            }
        };
        let shared = Arc::new(Shared {
            events: Mutex::new(VecDeque::new()),
            stop: AtomicBool::new(false),
            records: AtomicU64::new(0),
            error: Mutex::new(None),
        });
        let s2 = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("dpscope-audit".into())
            .spawn(move || reader(fd, s2));
        match spawned {
            Ok(_) => AuditState::Running {
                shared,
                at_start: audit_status(),
            },
            Err(e) => AuditState::Off(format!("cannot start the audit reader thread: {e}")),
        }
    }

    pub fn running(&self) -> bool {
        matches!(self, AuditState::Running { .. })
    }

    /// Status text for the Node pane.
    pub fn detail(&self) -> String {
        match self {
            AuditState::Off(why) => format!("no module attribution: {why}"),
            AuditState::Running { shared, at_start } => {
                let n = shared.records.load(Ordering::Relaxed);
                let now = audit_status();
                let mut notes: Vec<String> = shared
                    .error
                    .lock()
                    .map(|e| e.clone())
                    .unwrap_or_default()
                    .into_iter()
                    .collect();
                notes.extend(kernel_loss_note(*at_start, now));
                let state = match now.or(*at_start).map(|s| s.enabled) {
                    Some(true) => "kernel audit enabled",
                    Some(false) => "kernel audit DISABLED (no auditd): LSMs emit no records, so denials stay unattributed",
                    None => "kernel audit state unknown",
                };
                let notes: String = notes.iter().map(|n| format!("; {n}")).collect();
                format!("audit read-log listener (AVC, AppArmor, Landlock records): {state}; {n} records read{notes}")
            }
        }
    }

    /// Events received since the last call.
    pub fn drain(&self) -> Vec<AuditEvent> {
        match self {
            AuditState::Off(_) => vec![],
            AuditState::Running { shared, .. } => shared
                .events
                .lock()
                .map(|mut q| q.drain(..).collect())
                .unwrap_or_default(),
        }
    }
}

fn reader(sock: nl::Socket, shared: Arc<Shared>) {
    let mut buf = vec![0u8; nl::RECV_BUFFER];
    // serial → (time, records); flushed on EOE or when too many are open.
    let mut open: BTreeMap<u64, (i128, Vec<(u16, String)>)> = BTreeMap::new();
    let push = |ev: Option<AuditEvent>| {
        if let (Some(ev), Ok(mut q)) = (ev, shared.events.lock()) {
            if q.len() >= BUFFER {
                q.pop_front();
            }
            q.push_back(ev);
        }
    };
    while !shared.stop.load(Ordering::Relaxed) {
        let n = match sock.recv(&mut buf) {
            Ok(n) => n,
            Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EINTR)) => {
                // Quiet period: flush whatever is complete enough.
                for (serial, (t, recs)) in std::mem::take(&mut open) {
                    push(attribution::event_from_records(t, serial, &recs));
                }
                continue;
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                if let Ok(mut g) = shared.error.lock() {
                    *g = Some("some audit records were lost (receive buffer overrun)".into());
                }
                continue;
            }
            Err(e) => {
                if let Ok(mut g) = shared.error.lock() {
                    *g = Some(format!("audit socket read failed: {e}"));
                }
                return;
            }
        };
        // A malformed message ends this datagram's records (the rest cannot be framed).
        for m in nl::messages(&buf[..n]).map_while(Result::ok) {
            let text = String::from_utf8_lossy(m.body);
            let text = text.trim_end_matches('\0').trim_end();
            shared.records.fetch_add(1, Ordering::Relaxed);
            if let Some((t, serial, rest)) = attribution::parse_header(text) {
                if m.ty == AUDIT_EOE {
                    if let Some((t, recs)) = open.remove(&serial) {
                        push(attribution::event_from_records(t, serial, &recs));
                    }
                } else {
                    open.entry(serial)
                        .or_insert_with(|| (t, Vec::new()))
                        .1
                        .push((m.ty, rest.to_string()));
                }
            }
        }
        while open.len() > 64 {
            if let Some((serial, (t, recs))) = open.pop_first() {
                push(attribution::event_from_records(t, serial, &recs));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(enabled: u32, backlog_limit: u32, lost: u32) -> Vec<u8> {
        let mut b = vec![0u8; 16 + 40];
        b[0..4].copy_from_slice(&56u32.to_ne_bytes());
        b[4..6].copy_from_slice(&AUDIT_GET.to_ne_bytes());
        b[20..24].copy_from_slice(&enabled.to_ne_bytes());
        b[36..40].copy_from_slice(&backlog_limit.to_ne_bytes());
        b[40..44].copy_from_slice(&lost.to_ne_bytes());
        b
    }

    #[test]
    fn status_reply_is_parsed_and_checked() {
        assert_eq!(
            parse_status(&reply(1, 64, 7)),
            Some(Status {
                enabled: true,
                backlog_limit: 64,
                lost: 7
            })
        );
        let mut wrong_type = reply(1, 64, 7);
        wrong_type[4] = 2; // NLMSG_ERROR
        wrong_type[5] = 0;
        assert_eq!(parse_status(&wrong_type), None);
        assert_eq!(parse_status(&reply(1, 64, 7)[..40]), None);
    }

    #[test]
    fn kernel_loss_is_reported_only_when_it_grew() {
        let at = |lost| {
            Some(Status {
                enabled: true,
                backlog_limit: 64,
                lost,
            })
        };
        assert_eq!(kernel_loss_note(at(25_720), at(25_720)), None);
        let note = kernel_loss_note(at(25_720), at(26_000)).unwrap();
        assert!(note.contains("dropped 280 audit records"), "{note}");
        assert!(note.contains("backlog limit 64"), "{note}");
        assert_eq!(kernel_loss_note(None, at(1)), None);
        // The counter is a u32 that wraps.
        assert!(kernel_loss_note(at(u32::MAX), at(1))
            .unwrap()
            .contains("dropped 2 "));
    }
}
