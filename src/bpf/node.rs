//! Facts about the node: kernel, BTF, LSMs, lockdown, JIT and BPF sysctls.

use crate::model::Node;

fn read_trim(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

fn read_num(path: &str) -> Option<i64> {
    read_trim(path)?.parse().ok()
}

/// The bracketed word of /sys/kernel/security/lockdown (`none [integrity] confidentiality`).
pub fn parse_lockdown(text: &str) -> Option<String> {
    let start = text.find('[')?;
    let end = text[start..].find(']')? + start;
    Some(text[start + 1..end].to_string())
}

/// Node facts. Unreadable files leave their field empty rather than failing.
pub fn collect() -> Node {
    let uts = nix::sys::utsname::uname().ok();
    let s = |f: fn(&nix::sys::utsname::UtsName) -> &std::ffi::OsStr| {
        uts.as_ref()
            .map(|u| f(u).to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    Node {
        hostname: nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default(),
        kernel_release: s(|u| u.release()),
        kernel_version: s(|u| u.version()),
        arch: s(|u| u.machine()),
        btf: std::path::Path::new("/sys/kernel/btf/vmlinux").exists(),
        lsms: read_trim("/sys/kernel/security/lsm")
            .map(|l| {
                l.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        lockdown: read_trim("/sys/kernel/security/lockdown").and_then(|t| parse_lockdown(&t)),
        jit_enabled: read_num("/proc/sys/net/core/bpf_jit_enable"),
        jit_harden: read_num("/proc/sys/net/core/bpf_jit_harden"),
        unprivileged_bpf_disabled: read_num("/proc/sys/kernel/unprivileged_bpf_disabled"),
        dpscope_version: env!("CARGO_PKG_VERSION").to_string(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockdown_mode_is_the_bracketed_word() {
        assert_eq!(
            parse_lockdown("none [integrity] confidentiality").as_deref(),
            Some("integrity")
        );
        assert_eq!(parse_lockdown("[none] integrity").as_deref(), Some("none"));
        assert_eq!(parse_lockdown("garbage"), None);
        assert_eq!(parse_lockdown("]["), None);
    }
}
