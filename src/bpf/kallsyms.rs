//! Kernel symbol table from `/proc/kallsyms`: address → name (exact or nearest below) and
//! name → address. Parsed once into a sorted table; the parser is pure over text.
//!
//! With `kernel.kptr_restrict` in force (or without CAP_SYSLOG) every address reads as zero:
//! the table is then empty and [`Kallsyms::unavailable_reason`] says why.

use std::sync::OnceLock;

/// A sorted kernel symbol table.
#[derive(Debug, Clone, Default)]
pub struct Kallsyms {
    /// Every name, one after the other (one allocation for ~120,000 names, not one each).
    names: String,
    /// (address, start of the name in `names`, its length), sorted by address; for equal
    /// addresses the first-listed name first.
    syms: Vec<(u64, u32, u32)>,
    /// Where helper calls are relative to (`__bpf_call_base`), looked up once.
    call_base: Option<u64>,
    unavailable: Option<String>,
}

impl Kallsyms {
    /// Parses the text of `/proc/kallsyms` (`ADDR TYPE NAME [MODULE]` per line). Malformed
    /// lines are skipped. If every address is zero, the table is reported unavailable.
    pub fn parse(text: &str) -> Self {
        let mut names = String::with_capacity(text.len() / 2);
        let mut syms = Vec::with_capacity(text.len() / 40);
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
                syms.push((addr, names.len() as u32, name.len() as u32));
                names.push_str(name);
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
        Self::build(names, syms, unavailable)
    }

    /// Builds a table from explicit symbols (tests, or other sources).
    pub fn from_symbols<I, S>(symbols: I) -> Self
    where
        I: IntoIterator<Item = (u64, S)>,
        S: Into<String>,
    {
        let mut names = String::new();
        let mut syms = Vec::new();
        for (a, n) in symbols {
            let n: String = n.into();
            syms.push((a, names.len() as u32, n.len() as u32));
            names.push_str(&n);
        }
        Self::build(names, syms, None)
    }

    /// A table with no symbols, reporting `reason`.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self::build(String::new(), Vec::new(), Some(reason.into()))
    }

    fn build(names: String, mut syms: Vec<(u64, u32, u32)>, unavailable: Option<String>) -> Self {
        // Stable sort keeps the first-listed name first among aliases of one address.
        syms.sort_by_key(|(a, _, _)| *a);
        let mut k = Kallsyms {
            names,
            syms,
            call_base: None,
            unavailable,
        };
        k.call_base = k.find("__bpf_call_base");
        k
    }

    fn name(&self, s: &(u64, u32, u32)) -> &str {
        self.names
            .get(s.1 as usize..(s.1 as usize + s.2 as usize))
            .unwrap_or("")
    }

    /// The lowest address of a symbol called `name` (a walk over the table).
    fn find(&self, name: &str) -> Option<u64> {
        self.syms.iter().find(|s| self.name(s) == name).map(|s| s.0)
    }

    /// Reads and parses `/proc/kallsyms`. Never fails: problems become an unavailable table.
    pub fn load() -> Self {
        match std::fs::read_to_string("/proc/kallsyms") {
            Ok(text) => Self::parse(&text),
            Err(e) => Self::unavailable(format!("cannot read /proc/kallsyms: {e}")),
        }
    }

    /// The kernel's and its modules' symbols only: `/proc/kallsyms` read up to the first BPF
    /// program's symbol (`[bpf]`, listed after the modules'). What helper and kfunc calls
    /// point at; the kernel does not format the program symbols (one list walk each).
    pub fn load_kernel() -> Self {
        use std::io::Read;
        let mut f = match std::fs::File::open("/proc/kallsyms") {
            Ok(f) => f,
            Err(e) => return Self::unavailable(format!("cannot read /proc/kallsyms: {e}")),
        };
        let mut buf: Vec<u8> = Vec::with_capacity(8 << 20);
        let mut chunk = vec![0u8; 1 << 20];
        loop {
            let n = match f.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Self::unavailable(format!("cannot read /proc/kallsyms: {e}")),
            };
            // A line split across reads is seen whole in the next round (from its start).
            let from = buf.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            buf.extend_from_slice(&chunk[..n]);
            if let Some(at) = find(&buf[from..], b"\t[bpf]") {
                let end = buf[..from + at]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |i| i + 1);
                buf.truncate(end);
                break;
            }
        }
        Self::parse(&String::from_utf8_lossy(&buf))
    }

    /// The process-wide table of the kernel's and modules' symbols ([`Kallsyms::load_kernel`]),
    /// loaded on first use.
    pub fn kernel() -> &'static Kallsyms {
        static KERNEL: OnceLock<Kallsyms> = OnceLock::new();
        KERNEL.get_or_init(Kallsyms::load_kernel)
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
        let i = self.syms.partition_point(|(a, _, _)| *a < addr);
        match self.syms.get(i) {
            Some(s) if s.0 == addr => Some(self.name(s)),
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
        let i = self.syms.partition_point(|(a, _, _)| *a <= addr);
        let s = self.syms.get(i.checked_sub(1)?)?;
        Some((self.name(s), addr - s.0))
    }

    /// Address of the first symbol called `name` (`__bpf_call_base` is kept; others are a walk
    /// over the table).
    pub fn address_of(&self, name: &str) -> Option<u64> {
        if name == "__bpf_call_base" {
            return self.call_base;
        }
        self.find(name)
    }
}

/// Where `needle` first occurs in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
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
    fn the_kernel_table_ends_before_the_first_program_symbol() {
        let text = "ffffffff81000000 T _stext\nffffffffc0a01000 t veth_xmit\t[veth]\nffffffffc0b00000 t bpf_prog_1234_x\t[bpf]\nffffffffc0b01000 t bpf_prog_5678_y\t[bpf]\n";
        let end = find(text.as_bytes(), b"\t[bpf]").unwrap();
        assert!(text[..end].ends_with("bpf_prog_1234_x"));
        let k = Kallsyms::parse(&text[..text[..end].rfind('\n').unwrap() + 1]);
        assert_eq!(k.len(), 2);
        assert_eq!(k.lookup_exact(0xffffffffc0a01000), Some("veth_xmit"));
        assert!(Kallsyms::kernel().len() <= Kallsyms::global().len());
    }

    #[test]
    fn empty_text_is_unavailable() {
        assert!(!Kallsyms::parse("").is_available());
    }
}
