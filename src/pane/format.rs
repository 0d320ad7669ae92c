//! Number, size, rate and age formatting shared by the TUI and plain output.

/// Placeholder for "no value" (no rate yet, not counted).
pub const NONE: &str = "-";

pub fn bytes(n: u64) -> String {
    humansize::format_size(n, humansize::BINARY)
}

/// `950`, `1.2k`, `3.4M`, `1.1G`.
pub fn si(v: f64) -> String {
    let a = v.abs();
    if a < 1_000.0 {
        if v.fract() == 0.0 || a >= 100.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.1}")
        }
    } else if a < 1e6 {
        format!("{:.1}k", v / 1e3)
    } else if a < 1e9 {
        format!("{:.1}M", v / 1e6)
    } else {
        format!("{:.1}G", v / 1e9)
    }
}

pub fn per_sec(v: Option<f64>) -> String {
    v.map_or_else(|| NONE.to_string(), |v| format!("{}/s", si(v)))
}

/// `350 ns`, `12.3 µs`, `4.1 ms`.
pub fn nanos(v: Option<f64>) -> String {
    match v {
        None => NONE.to_string(),
        Some(v) if v < 10_000.0 => format!("{v:.0} ns"),
        Some(v) if v < 10_000_000.0 => format!("{:.1} µs", v / 1e3),
        Some(v) => format!("{:.1} ms", v / 1e6),
    }
}

pub fn percent(v: Option<f64>) -> String {
    match v {
        None => NONE.to_string(),
        Some(v) if v >= 10.0 => format!("{v:.0} %"),
        Some(v) => format!("{v:.1} %"),
    }
}

/// Age like `3d4h`, `5h12m`, `4m10s`, `12s`.
pub fn age(ns: u64) -> String {
    let s = ns / 1_000_000_000;
    let (d, h, m, sec) = (s / 86_400, (s / 3_600) % 24, (s / 60) % 60, s % 60);
    if d > 0 {
        format!("{d}d{h}h")
    } else if h > 0 {
        format!("{h}h{m}m")
    } else if m > 0 {
        format!("{m}m{sec}s")
    } else {
        format!("{sec}s")
    }
}

/// Age of an object loaded at `load_ns` (CLOCK_BOOTTIME) seen at `boot_ns`.
pub fn age_since(load_ns: u64, boot_ns: u64) -> String {
    if load_ns == 0 || boot_ns < load_ns {
        NONE.to_string()
    } else {
        age(boot_ns - load_ns)
    }
}

/// `cilium-agent[1234]`, `+2` more when several processes hold the object.
pub fn procs(p: &[crate::model::ProcRef]) -> String {
    match p {
        [] => NONE.to_string(),
        [one] => format!("{}[{}]", one.comm, one.pid),
        [first, rest @ ..] => format!("{}[{}] +{}", first.comm, first.pid, rest.len()),
    }
}

pub fn ids(v: &[u32]) -> String {
    if v.is_empty() {
        return NONE.to_string();
    }
    v.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(si(950.0), "950");
        assert_eq!(si(1_234.0), "1.2k");
        assert_eq!(per_sec(Some(1_200.0)), "1.2k/s");
        assert_eq!(nanos(Some(350.0)), "350 ns");
        assert_eq!(nanos(Some(12_345.0)), "12.3 µs");
        assert_eq!(percent(Some(2.44)), "2.4 %");
        assert_eq!(age((3 * 86_400 + 4 * 3_600 + 5) * 1_000_000_000), "3d4h");
        assert_eq!(age(72 * 1_000_000_000), "1m12s");
        assert_eq!(bytes(1536), "1.50 KiB");
    }
}
