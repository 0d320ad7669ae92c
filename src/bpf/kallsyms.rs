//! Kernel symbol table from `/proc/kallsyms`: address → name (exact or nearest below) and
//! name → address. Parsed once into a sorted table; the parser is pure over text.
//!
//! With `kernel.kptr_restrict` in force (or without CAP_SYSLOG) every address reads as zero:
//! the table is then empty and [`Kallsyms::unavailable_reason`] says why.

use std::collections::HashMap;
use std::sync::OnceLock;

/// A sorted kernel symbol table.
#[derive(Debug, Clone, Default)]
pub struct Kallsyms {
    /// (address, name), sorted by address; for equal addresses the first-listed name first.
    syms: Vec<(u64, String)>,
    by_name: HashMap<String, u64>,
    unavailable: Option<String>,
}

impl Kallsyms {
    /// Parses the text of `/proc/kallsyms` (`ADDR TYPE NAME [MODULE]` per line). Malformed
    /// lines are skipped. If every address is zero, the table is reported unavailable.
    pub fn parse(text: &str) -> Self {
        let mut syms = Vec::new();
        let mut lines = 0usize;
        for line in text.lines() {
            let mut it = line.split_whitespace();
            let (Some(addr), Some(_kind), Some(name)) = (it.next(), it.next(), it.next()) else {
                continue;
            };
            let Ok(addr) = u64::from_str_radix(addr, 16) else {
                continue;
            };
            lines += 1;
            if addr != 0 {
                syms.push((addr, name.to_string()));
            }
        }
        let unavailable = if lines > 0 && syms.is_empty() {
            Some(
                "kernel symbol addresses are hidden (kernel.kptr_restrict or missing CAP_SYSLOG)"
                    .to_string(),
            )
        } else if lines == 0 {
            Some("no kernel symbols found in /proc/kallsyms".to_string())
        } else {
            None
        };
        Self::build(syms, unavailable)
    }

    /// Builds a table from explicit symbols (tests, or other sources).
    pub fn from_symbols<I, S>(symbols: I) -> Self
    where
        I: IntoIterator<Item = (u64, S)>,
        S: Into<String>,
    {
        let syms = symbols.into_iter().map(|(a, n)| (a, n.into())).collect();
        Self::build(syms, None)
    }

    /// A table with no symbols, reporting `reason`.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self::build(Vec::new(), Some(reason.into()))
    }

    fn build(mut syms: Vec<(u64, String)>, unavailable: Option<String>) -> Self {
        // Stable sort keeps the first-listed name first among aliases of one address.
        syms.sort_by_key(|(a, _)| *a);
        let mut by_name = HashMap::with_capacity(syms.len());
        for (a, n) in &syms {
            by_name.entry(n.clone()).or_insert(*a);
        }
        Kallsyms {
            syms,
            by_name,
            unavailable,
        }
    }

    /// Reads and parses `/proc/kallsyms`. Never fails: problems become an unavailable table.
    pub fn load() -> Self {
        match std::fs::read_to_string("/proc/kallsyms") {
            Ok(text) => Self::parse(&text),
            Err(e) => Self::unavailable(format!("cannot read /proc/kallsyms: {e}")),
        }
    }

    /// The process-wide table, loaded on first use.
    pub fn global() -> &'static Kallsyms {
        static GLOBAL: OnceLock<Kallsyms> = OnceLock::new();
        GLOBAL.get_or_init(Kallsyms::load)
    }

    pub fn is_available(&self) -> bool {
        self.unavailable.is_none() && !self.syms.is_empty()
    }

    /// Why there are no usable symbols, if so.
    pub fn unavailable_reason(&self) -> Option<&str> {
        self.unavailable.as_deref()
    }

    pub fn len(&self) -> usize {
        self.syms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.syms.is_empty()
    }

    /// Name of the symbol at exactly `addr`.
    pub fn lookup_exact(&self, addr: u64) -> Option<&str> {
        let i = self.syms.partition_point(|(a, _)| *a < addr);
        match self.syms.get(i) {
            Some((a, n)) if *a == addr => Some(n.as_str()),
            _ => None,
        }
    }

    /// Name of the symbol at `addr`, or of the nearest symbol below it.
    pub fn lookup(&self, addr: u64) -> Option<&str> {
        self.lookup_with_offset(addr).map(|(n, _)| n)
    }

    /// Nearest symbol at or below `addr`, with the offset of `addr` from it.
    pub fn lookup_with_offset(&self, addr: u64) -> Option<(&str, u64)> {
        if let Some(n) = self.lookup_exact(addr) {
            return Some((n, 0));
        }
        let i = self.syms.partition_point(|(a, _)| *a <= addr);
        let (a, n) = self.syms.get(i.checked_sub(1)?)?;
        Some((n.as_str(), addr - a))
    }

    /// Address of the first symbol called `name`.
    pub fn address_of(&self, name: &str) -> Option<u64> {
        self.by_name.get(name).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
ffffffff81000000 T _stext
ffffffff81000000 T _text
ffffffff814cc810 T __bpf_call_base
ffffffff81e9b040 T bpf_skb_store_bytes
ffffffff81e9d210 T bpf_redirect
ffffffffc0a01000 t veth_xmit\t[veth]
garbage line
";

    #[test]
    fn parses_and_looks_up() {
        let k = Kallsyms::parse(TEXT);
        assert!(k.is_available());
        assert_eq!(k.len(), 6);
        assert_eq!(
            k.lookup_exact(0xffffffff81e9b040),
            Some("bpf_skb_store_bytes")
        );
        assert_eq!(k.lookup(0xffffffff81e9b041), Some("bpf_skb_store_bytes"));
        assert_eq!(
            k.lookup_with_offset(0xffffffff81e9d214),
            Some(("bpf_redirect", 4))
        );
        assert_eq!(k.lookup(0xffffffff81000000), Some("_stext"));
        assert_eq!(k.lookup(0x10), None);
        assert_eq!(k.lookup_exact(0xffffffff81e9b041), None);
        assert_eq!(k.address_of("__bpf_call_base"), Some(0xffffffff814cc810));
        assert_eq!(k.address_of("veth_xmit"), Some(0xffffffffc0a01000));
        assert_eq!(k.address_of("nope"), None);
    }

    #[test]
    fn zero_addresses_mean_unavailable() {
        let k = Kallsyms::parse("0000000000000000 T _stext\n0000000000000000 T bpf_redirect\n");
        assert!(!k.is_available());
        assert!(k
            .unavailable_reason()
            .unwrap_or("")
            .contains("kptr_restrict"));
        assert_eq!(k.lookup(0), None);
        assert_eq!(k.address_of("bpf_redirect"), None);
    }

    #[test]
    fn empty_text_is_unavailable() {
        assert!(!Kallsyms::parse("").is_available());
    }
}
