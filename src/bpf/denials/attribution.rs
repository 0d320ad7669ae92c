//! Which module said no: pure joining of kernel audit records (SELinux AVC, AppArmor,
//! Landlock) to denial rows by pid and time, container ids from cgroup paths, and the BPF LSM
//! deniers. No I/O: the audit socket lives in `audit`.

use crate::model::Denial;
use std::collections::VecDeque;

pub const AUDIT_SYSCALL: u16 = 1300;
pub const AUDIT_EOE: u16 = 1320;
pub const AUDIT_AVC: u16 = 1400;
pub const AUDIT_LANDLOCK_ACCESS: u16 = 1423;

/// One denial as the audit subsystem told it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Wall-clock ns since the epoch (from `audit(SECS.MILLIS:SERIAL)`).
    pub time_ns: i128,
    pub serial: u64,
    pub pid: Option<u32>,
    /// "denied by ..." text.
    pub denied_by: String,
    /// Path, name or address the record names, when it does.
    pub target: Option<String>,
}

/// `audit(1795289592.201:3): rest` → (time ns, serial, rest).
pub fn parse_header(text: &str) -> Option<(i128, u64, &str)> {
    let t = text.strip_prefix("audit(")?;
    let close = t.find("):")?;
    let (stamp, rest) = (&t[..close], t[close + 2..].trim_start());
    let (time, serial) = stamp.split_once(':')?;
    let (secs, millis) = time.split_once('.')?;
    let ns = secs.parse::<i128>().ok()? * 1_000_000_000 + millis.parse::<i128>().ok()? * 1_000_000;
    Some((ns, serial.parse().ok()?, rest))
}

/// Value of `key=` in an audit record: quoted strings, hex-encoded strings (for the string
/// fields) and bare words.
pub fn field(text: &str, key: &str) -> Option<String> {
    let pat = format!("{key}=");
    let mut from = 0;
    while let Some(i) = text[from..].find(&pat) {
        let at = from + i;
        let before_ok = at == 0 || text.as_bytes()[at - 1] == b' ';
        let v = &text[at + pat.len()..];
        if before_ok {
            if let Some(q) = v.strip_prefix('"') {
                return q.find('"').map(|e| q[..e].to_string());
            }
            let word = v.split_whitespace().next().unwrap_or("");
            let stringy = matches!(key, "path" | "name" | "comm" | "exe" | "profile");
            if stringy && word.len().is_multiple_of(2) && !word.is_empty() {
                if let Some(d) = hex_decode(word) {
                    return Some(d);
                }
            }
            return Some(word.to_string());
        }
        from = at + pat.len();
    }
    None
}

fn hex_decode(s: &str) -> Option<String> {
    if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect();
    bytes.map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Build an event from all records of one audit serial (type, text after the header).
pub fn event_from_records(
    time_ns: i128,
    serial: u64,
    recs: &[(u16, String)],
) -> Option<AuditEvent> {
    let syscall_pid = recs
        .iter()
        .find(|(t, _)| *t == AUDIT_SYSCALL)
        .and_then(|(_, s)| field(s, "pid"))
        .and_then(|p| p.parse().ok());
    for (t, s) in recs {
        match *t {
            AUDIT_LANDLOCK_ACCESS => {
                let blockers = field(s, "blockers").unwrap_or_default();
                let target = field(s, "path").or_else(|| {
                    let addr = field(s, "daddr").or_else(|| field(s, "saddr"));
                    let port = field(s, "dest").or_else(|| field(s, "src"));
                    match (addr, port) {
                        (Some(a), Some(p)) => Some(format!("{a}:{p}")),
                        (None, Some(p)) => Some(format!("port {p}")),
                        _ => None,
                    }
                });
                return Some(AuditEvent {
                    time_ns,
                    serial,
                    pid: syscall_pid,
                    denied_by: if blockers.is_empty() {
                        "Landlock".into()
                    } else {
                        format!("Landlock ({blockers})")
                    },
                    target,
                });
            }
            AUDIT_AVC if s.contains("apparmor=\"DENIED\"") => {
                let profile = field(s, "profile").unwrap_or_default();
                let op = field(s, "operation").unwrap_or_default();
                return Some(AuditEvent {
                    time_ns,
                    serial,
                    pid: field(s, "pid").and_then(|p| p.parse().ok()).or(syscall_pid),
                    denied_by: format!("AppArmor profile {profile} ({op})"),
                    target: field(s, "name"),
                });
            }
            AUDIT_AVC if s.starts_with("avc:") && s.contains("denied") => {
                if field(s, "permissive").as_deref() == Some("1") {
                    continue; // logged, not enforced
                }
                let perms = s
                    .find('{')
                    .and_then(|a| s[a..].find('}').map(|b| s[a + 1..a + b].trim().to_string()))
                    .unwrap_or_default();
                let sc = field(s, "scontext").unwrap_or_default();
                let tc = field(s, "tcontext").unwrap_or_default();
                let class = field(s, "tclass").unwrap_or_default();
                return Some(AuditEvent {
                    time_ns,
                    serial,
                    pid: field(s, "pid").and_then(|p| p.parse().ok()).or(syscall_pid),
                    denied_by: format!("SELinux ({sc} → {tc}, {class} {{{perms}}})"),
                    target: field(s, "path").or_else(|| field(s, "name")),
                });
            }
            _ => {}
        }
    }
    None
}

/// "denied by" for a BPF LSM mode row from the BPF LSM programs on its hook.
pub fn bpf_lsm_denier(source: &str, progs: &[String]) -> Option<String> {
    if source != "bpf_lsm" {
        return None;
    }
    match progs {
        [] => None,
        [one] => Some(format!("BPF LSM program {one}")),
        many => Some(format!("BPF LSM program (one of {})", many.join(", "))),
    }
}

/// Container or pod named by a cgroup path (docker, containerd, cri-o, podman, kubepods).
pub fn container_of(path: &str) -> Option<String> {
    let mut pod = None;
    let mut ctr = None;
    for part in path.split('/') {
        let p = part.trim_end_matches(".scope").trim_end_matches(".slice");
        if let Some(i) = p.rfind("-pod") {
            pod = Some(p[i + 4..].replace('_', "-"));
        } else if let Some(uid) = p.strip_prefix("pod") {
            if uid.len() >= 32 {
                pod = Some(uid.to_string());
            }
        }
        let id = ["docker-", "cri-containerd-", "crio-", "libpod-"]
            .iter()
            .find_map(|pre| p.strip_prefix(pre))
            .or_else(|| (p.len() == 64 && p.bytes().all(|c| c.is_ascii_hexdigit())).then_some(p));
        if let Some(id) = id {
            if id.len() >= 12 && id.bytes().all(|c| c.is_ascii_hexdigit()) {
                ctr = Some(id[..12].to_string());
            }
        }
    }
    match (pod, ctr) {
        (Some(p), Some(c)) => Some(format!("pod {p} container {c}")),
        (Some(p), None) => Some(format!("pod {p}")),
        (None, Some(c)) => Some(format!("container {c}")),
        (None, None) => None,
    }
}

/// Audit events kept for joining (bounded, newest last).
#[derive(Debug, Default)]
pub struct Joiner {
    events: VecDeque<AuditEvent>,
}

pub const KEEP_EVENTS: usize = 4096;
/// Slack between the probe's clock and the audit timestamp (the row times have 1 s precision).
const SLACK_NS: i128 = 2_000_000_000;

fn parse_time(s: &str) -> Option<i128> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp_nanos())
}

fn target_matches(row: &str, audit: &str) -> bool {
    row == audit || row.ends_with(&format!("/{audit}")) || audit.ends_with(row)
}

impl Joiner {
    pub fn add(&mut self, evs: Vec<AuditEvent>) {
        self.events.extend(evs);
        while self.events.len() > KEEP_EVENTS {
            self.events.pop_front();
        }
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Set `denied_by` of rows an audit record explains (same pid, within the row's time span,
    /// same target when the record names one). Rows nothing explains keep what they had.
    pub fn attribute(&self, rows: &mut [Denial]) {
        for row in rows.iter_mut() {
            let (Some(first), Some(last)) =
                (parse_time(&row.first_seen), parse_time(&row.last_seen))
            else {
                continue;
            };
            let hit = self.events.iter().rev().find(|e| {
                e.pid == Some(row.pid)
                    && e.time_ns >= first - SLACK_NS
                    && e.time_ns <= last + SLACK_NS
                    && e.target
                        .as_deref()
                        .is_none_or(|t| target_matches(&row.target, t))
            });
            if let Some(e) = hit {
                row.denied_by = Some(e.denied_by.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LL: &str =
        r#"domain=161bed5e3 blockers=fs.read_file path="/etc/hostname" dev="vda" ino=611"#;
    const SC: &str = r#"arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c items=0 ppid=24517 pid=24562 auid=4294967295 uid=0 comm="python3" exe="/usr/bin/python3" key=(null)"#;

    #[test]
    fn header_and_fields() {
        let (ns, serial, rest) = parse_header("audit(1795289592.201:3): domain=1 x=2").unwrap();
        assert_eq!(ns, 1_795_289_592_201_000_000);
        assert_eq!(serial, 3);
        assert_eq!(rest, "domain=1 x=2");
        assert_eq!(field(SC, "pid").as_deref(), Some("24562"));
        assert_eq!(field(SC, "comm").as_deref(), Some("python3"));
        assert_eq!(field(LL, "path").as_deref(), Some("/etc/hostname"));
        assert_eq!(
            field("name=2F746D702F612062", "name").as_deref(),
            Some("/tmp/a b")
        );
        assert_eq!(field("ppid=1 pid=2", "pid").as_deref(), Some("2"));
        assert!(field(SC, "nothing").is_none());
    }

    #[test]
    fn landlock_selinux_apparmor_records() {
        let e = event_from_records(5, 3, &[(1423, LL.into()), (1300, SC.into())]).unwrap();
        assert_eq!(e.pid, Some(24562));
        assert_eq!(e.denied_by, "Landlock (fs.read_file)");
        assert_eq!(e.target.as_deref(), Some("/etc/hostname"));

        let avc = r#"avc:  denied  { read } for  pid=42 comm="cat" name="shadow" dev="vda" ino=1 scontext=system_u:system_r:httpd_t:s0 tcontext=system_u:object_r:shadow_t:s0 tclass=file permissive=0"#;
        let e = event_from_records(5, 4, &[(1400, avc.into())]).unwrap();
        assert_eq!(e.pid, Some(42));
        assert_eq!(
            e.denied_by,
            "SELinux (system_u:system_r:httpd_t:s0 → system_u:object_r:shadow_t:s0, file {read})"
        );
        let permissive = avc.replace("permissive=0", "permissive=1");
        assert!(event_from_records(5, 4, &[(1400, permissive)]).is_none());

        let aa = r#"apparmor="DENIED" operation="open" class="file" profile="nginx" name="/etc/shadow" pid=7 comm="nginx" requested_mask="r" denied_mask="r""#;
        let e = event_from_records(5, 5, &[(1400, aa.into())]).unwrap();
        assert_eq!(
            (e.pid, e.denied_by.as_str()),
            (Some(7), "AppArmor profile nginx (open)")
        );
        assert!(event_from_records(5, 6, &[(1300, SC.into())]).is_none());
    }

    fn row(pid: u32, target: &str) -> Denial {
        Denial {
            hook: "file_open".into(),
            pid,
            target: target.into(),
            first_seen: "2026-11-21T19:00:00Z".into(),
            last_seen: "2026-11-21T19:00:10Z".into(),
            ..Default::default()
        }
    }

    #[test]
    fn joins_by_pid_time_and_target() {
        let t0 = parse_time("2026-11-21T19:00:05Z").unwrap();
        let ev = |pid, t: i128, target: &str| AuditEvent {
            time_ns: t,
            serial: 1,
            pid: Some(pid),
            denied_by: "Landlock (fs.read_file)".into(),
            target: Some(target.into()),
        };
        let mut j = Joiner::default();
        j.add(vec![
            ev(10, t0, "/etc/hostname"),
            ev(11, t0 + 60_000_000_000, "/x"),
        ]);
        let mut rows = vec![
            row(10, "/etc/hostname"),
            row(10, "/etc/passwd"),
            row(11, "/x"),
            row(12, "/etc/hostname"),
        ];
        j.attribute(&mut rows);
        assert_eq!(
            rows[0].denied_by.as_deref(),
            Some("Landlock (fs.read_file)")
        );
        assert_eq!(rows[1].denied_by, None, "other target");
        assert_eq!(rows[2].denied_by, None, "outside the time span");
        assert_eq!(rows[3].denied_by, None, "no record for that pid: no guess");
    }

    #[test]
    fn bpf_lsm_and_containers() {
        assert_eq!(bpf_lsm_denier("syscall_exit", &["a".into()]), None);
        assert_eq!(
            bpf_lsm_denier("bpf_lsm", &["deny (prog 3)".into()]).as_deref(),
            Some("BPF LSM program deny (prog 3)")
        );
        assert_eq!(bpf_lsm_denier("bpf_lsm", &[]), None);
        let id = "4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c";
        assert_eq!(
            container_of(&format!("/system.slice/docker-{id}.scope")).as_deref(),
            Some("container 4f1c2d3e4f5a")
        );
        assert_eq!(
            container_of(&format!(
                "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1a2b_3c.slice/cri-containerd-{id}.scope"
            ))
            .as_deref(),
            Some("pod 1a2b-3c container 4f1c2d3e4f5a")
        );
        assert_eq!(
            container_of("/user.slice/user-0.slice/session-1.scope"),
            None
        );
    }
}
