//! `dpscope show conntrack` as a stream: each entry is written the moment it is decoded, in
//! the form people pipe into other tools: the JSON array of the CLI contract (compact, or
//! pretty for a terminal), JSON lines, CSV with one column per JSON field, and the text lines
//! of `cilium-dbg bpf ct list global` (cilium-maps.md §6.2).
//!
//! Pure: entries in, bytes out. Half a million entries are written in a fraction of a second,
//! so nothing here goes through `fmt` or serde on the common path; strings that are not plain
//! ASCII (only a hand-edited snapshot file has them) take the slow, escaping path. The JSON is
//! byte for byte what serde_json writes for the same entries (tests pin it).

use crate::model::{Addr, CtEntry, CtFlags, Service, TcpFlags, Word};
use std::collections::HashMap;

/// How `show conntrack` writes the entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFormat {
    /// The JSON array; `pretty` as serde_json's pretty printer (for a terminal).
    Json { pretty: bool },
    /// One compact JSON object per line.
    Jsonl,
    /// RFC 4180, a header row of the JSON field names, then one row per entry.
    Csv,
    /// `cilium-dbg bpf ct list global` lines.
    Cilium,
}

/// What names a service entry: frontends by rev-NAT id, backends by id (from the LB maps).
#[derive(Debug, Clone, Default)]
pub struct ServiceNames {
    frontends: HashMap<u16, String>,
    backends: HashMap<u32, String>,
}

impl ServiceNames {
    pub fn new(services: &[Service]) -> ServiceNames {
        let mut n = ServiceNames::default();
        for s in services {
            if s.rev_nat_id != 0 && !s.frontend.is_empty() {
                n.frontends
                    .entry(s.rev_nat_id)
                    .or_insert_with(|| s.frontend.clone());
            }
            for b in &s.backends {
                if let Some(a) = b.address.as_deref().filter(|a| !a.is_empty()) {
                    let mut t = super::cilium::host_port(a, b.port.unwrap_or(0));
                    if let Some(p) = b.protocol.as_deref().filter(|p| !p.is_empty()) {
                        t.push('/');
                        t.push_str(p);
                    }
                    n.backends.entry(b.backend_id).or_insert(t);
                }
            }
        }
        n
    }

    /// `10.96.0.10:53/UDP` for rev-NAT id 3, when a service has it.
    pub fn frontend(&self, rev_nat_id: u16) -> Option<&str> {
        self.frontends.get(&rev_nat_id).map(String::as_str)
    }

    /// `10.244.1.17:53/UDP` for backend 42, when a service lists it.
    pub fn backend(&self, id: u64) -> Option<&str> {
        u32::try_from(id)
            .ok()
            .and_then(|id| self.backends.get(&id))
            .map(String::as_str)
    }
}

/// The JSON field names of an entry, in serde's order (the CSV header).
pub const FIELDS: &[&str] = &[
    "table",
    "protocol",
    "direction",
    "related",
    "src",
    "src_port",
    "dst",
    "dst_port",
    "flags",
    "expires_in_s",
    "rev_nat_id",
    "src_identity",
    "packets",
    "bytes",
    "tx_flags_seen",
    "rx_flags_seen",
    "lifetime",
    "backend_id",
    "ifindex",
    "nat_port",
    "nat_addr",
    "layout",
    "raw",
    "flags_word",
    "last_rx_report",
    "last_tx_report",
    "tx_counters",
];

/// Writes entries one after another in one format; `begin` before the first, `end` after the
/// last (the JSON array's brackets, the CSV header, the blank line `cilium-dbg` prints after
/// each table).
pub struct Writer<'a> {
    format: StreamFormat,
    names: &'a ServiceNames,
    count: u64,
    /// The table of the previous entry (text lines: a blank line between tables).
    table: Option<Word>,
}

impl<'a> Writer<'a> {
    pub fn new(format: StreamFormat, names: &'a ServiceNames) -> Writer<'a> {
        Writer {
            format,
            names,
            count: 0,
            table: None,
        }
    }

    /// Entries written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn begin(&mut self, out: &mut Vec<u8>) {
        match self.format {
            StreamFormat::Json { .. } => out.push(b'['),
            StreamFormat::Csv => {
                for (i, f) in FIELDS.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(f.as_bytes());
                }
                out.extend_from_slice(b"\r\n");
            }
            StreamFormat::Jsonl | StreamFormat::Cilium => {}
        }
    }

    pub fn entry(&mut self, e: &CtEntry, out: &mut Vec<u8>) {
        match self.format {
            StreamFormat::Json { pretty } => {
                if self.count > 0 {
                    out.push(b',');
                }
                if pretty {
                    out.extend_from_slice(b"\n  ");
                }
                json_entry(e, pretty, out);
            }
            StreamFormat::Jsonl => {
                json_entry(e, false, out);
                out.push(b'\n');
            }
            StreamFormat::Csv => csv_entry(e, out),
            StreamFormat::Cilium => {
                if self.table.as_ref().is_some_and(|t| *t != e.table) {
                    out.push(b'\n');
                }
                if self.table.as_ref() != Some(&e.table) {
                    self.table = Some(e.table.clone());
                }
                cilium_line(e, self.names, out);
            }
        }
        self.count += 1;
    }

    pub fn end(&mut self, out: &mut Vec<u8>) {
        match self.format {
            StreamFormat::Json { pretty } => {
                if pretty && self.count > 0 {
                    out.push(b'\n');
                }
                out.extend_from_slice(b"]\n");
            }
            StreamFormat::Cilium if self.count > 0 => out.push(b'\n'),
            _ => {}
        }
    }
}

/// Every entry of `entries` in `format` (a saved snapshot's table; tests).
pub fn write_all<'e>(
    format: StreamFormat,
    names: &ServiceNames,
    entries: impl IntoIterator<Item = &'e CtEntry>,
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = Writer::new(format, names);
    w.begin(&mut out);
    for e in entries {
        w.entry(e, &mut out);
    }
    w.end(&mut out);
    out
}

// ---- numbers and strings ----

fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

fn push_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    push_u64(out, n.unsigned_abs());
}

/// `0x` and at least `digits` lower-case hex digits (Go's `%#0Nx`, whose width counts digits).
fn push_hex(out: &mut Vec<u8>, n: u64, digits: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(b"0x");
    let mut buf = [0u8; 16];
    let mut i = buf.len();
    let mut v = n;
    loop {
        i -= 1;
        buf[i] = HEX[(v & 0xf) as usize];
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    for _ in (buf.len() - i)..digits {
        out.push(b'0');
    }
    out.extend_from_slice(&buf[i..]);
}

/// Printable ASCII only: written as it is in JSON (minus `"` and `\`), text and CSV.
fn plain(b: &[u8]) -> bool {
    b.iter()
        .all(|&c| (0x20..0x7f).contains(&c) && c != b'"' && c != b'\\')
}

/// A JSON string exactly as serde_json, behind `sanitize::JsonSafe`, writes it.
fn json_str(out: &mut Vec<u8>, s: &[u8]) {
    if plain(s) {
        out.push(b'"');
        out.extend_from_slice(s);
        out.push(b'"');
        return;
    }
    let text = String::from_utf8_lossy(s);
    match crate::sanitize::to_json_string(&*text) {
        Ok(j) => out.extend_from_slice(j.as_bytes()),
        // Serialising a string cannot fail; an empty string keeps the JSON valid regardless.
        Err(_) => out.extend_from_slice(b"\"\""),
    }
}

/// Text for a terminal or a text file: control and bidi characters as visible escapes.
fn text_str(out: &mut Vec<u8>, s: &[u8]) {
    if s.iter().all(|&c| (0x20..0x7f).contains(&c)) {
        out.extend_from_slice(s);
    } else {
        let t = String::from_utf8_lossy(s);
        out.extend_from_slice(crate::sanitize::text(&t).as_bytes());
    }
}

/// One CSV cell of text (quoted, escaped and formula-guarded as every CSV dpscope writes).
fn csv_str(out: &mut Vec<u8>, s: &[u8]) {
    let safe =
        plain(s) && !s.contains(&b',') && !matches!(s.first(), Some(b'=' | b'+' | b'-' | b'@'));
    if safe {
        out.extend_from_slice(s);
    } else {
        let t = String::from_utf8_lossy(s);
        out.extend_from_slice(crate::sanitize::csv_cell(&t).as_bytes());
    }
}

// ---- JSON ----

/// Separators of one JSON object, compact or as serde_json's pretty printer at depth 1.
struct Obj<'o> {
    out: &'o mut Vec<u8>,
    pretty: bool,
    first: bool,
}

impl Obj<'_> {
    fn key(&mut self, k: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        if self.pretty {
            self.out.extend_from_slice(b"\n    \"");
        } else {
            self.out.push(b'"');
        }
        self.out.extend_from_slice(k.as_bytes());
        self.out
            .extend_from_slice(if self.pretty { b"\": " } else { b"\":" });
    }

    fn str(&mut self, k: &str, v: &[u8]) {
        self.key(k);
        json_str(self.out, v);
    }

    fn u64(&mut self, k: &str, v: u64) {
        self.key(k);
        push_u64(self.out, v);
    }

    fn opt_u64(&mut self, k: &str, v: Option<u64>) {
        self.key(k);
        match v {
            Some(v) => push_u64(self.out, v),
            None => self.out.extend_from_slice(b"null"),
        }
    }

    fn labels(&mut self, k: &str, each: impl FnOnce(&mut dyn FnMut(&str))) {
        self.key(k);
        self.out.push(b'[');
        let (out, pretty) = (&mut *self.out, self.pretty);
        let mut n = 0;
        each(&mut |l: &str| {
            if n > 0 {
                out.push(b',');
            }
            if pretty {
                out.extend_from_slice(b"\n      ");
            }
            json_str(out, l.as_bytes());
            n += 1;
        });
        if pretty && n > 0 {
            self.out.extend_from_slice(b"\n    ");
        }
        self.out.push(b']');
    }
}

fn word(w: &Word) -> &[u8] {
    w.as_str().as_bytes()
}

/// One entry as a JSON object: the fields of `CtEntry` in serde's order and form.
pub fn json_entry(e: &CtEntry, pretty: bool, out: &mut Vec<u8>) {
    out.push(b'{');
    let mut o = Obj {
        out,
        pretty,
        first: true,
    };
    o.str("table", word(&e.table));
    o.str("protocol", word(&e.protocol));
    o.str("direction", word(&e.direction));
    o.key("related");
    o.out
        .extend_from_slice(if e.related { b"true" } else { b"false" });
    o.str("src", e.src.text().as_bytes());
    o.u64("src_port", u64::from(e.src_port));
    o.str("dst", e.dst.text().as_bytes());
    o.u64("dst_port", u64::from(e.dst_port));
    o.labels("flags", |f| e.flags.for_each(f));
    o.key("expires_in_s");
    push_i64(o.out, e.expires_in_s);
    o.u64("rev_nat_id", u64::from(e.rev_nat_id));
    o.u64("src_identity", u64::from(e.src_identity));
    o.opt_u64("packets", e.packets);
    o.opt_u64("bytes", e.bytes);
    o.labels("tx_flags_seen", |f| e.tx_flags_seen.for_each(f));
    o.labels("rx_flags_seen", |f| e.rx_flags_seen.for_each(f));
    o.u64("lifetime", u64::from(e.lifetime));
    o.opt_u64("backend_id", e.backend_id);
    o.opt_u64("ifindex", e.ifindex.map(u64::from));
    o.opt_u64("nat_port", e.nat_port.map(u64::from));
    match &e.nat_addr {
        Some(a) => o.str("nat_addr", a.text().as_bytes()),
        None => {
            o.key("nat_addr");
            o.out.extend_from_slice(b"null");
        }
    }
    match &e.layout {
        Some(l) => o.str("layout", word(l)),
        None => {
            o.key("layout");
            o.out.extend_from_slice(b"null");
        }
    }
    match &e.raw {
        Some(r) => o.str("raw", r.as_bytes()),
        None => {
            o.key("raw");
            o.out.extend_from_slice(b"null");
        }
    }
    o.opt_u64("flags_word", e.flags_word.map(u64::from));
    o.u64("last_rx_report", u64::from(e.last_rx_report));
    o.u64("last_tx_report", u64::from(e.last_tx_report));
    // Only releases up to 1.15 have them (serde leaves the field out otherwise).
    if let Some(tx) = &e.tx_counters {
        o.key("tx_counters");
        o.out.push(b'[');
        for (i, v) in tx.iter().enumerate() {
            if i > 0 {
                o.out.push(b',');
            }
            if o.pretty {
                o.out.extend_from_slice(b"\n      ");
            }
            push_u64(o.out, *v);
        }
        if o.pretty {
            o.out.extend_from_slice(b"\n    ");
        }
        o.out.push(b']');
    }
    if pretty {
        o.out.extend_from_slice(b"\n  ");
    }
    o.out.push(b'}');
}

// ---- CSV ----

fn csv_labels(out: &mut Vec<u8>, each: impl FnOnce(&mut dyn FnMut(&str))) {
    let mut joined = String::new();
    each(&mut |l: &str| {
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(l);
    });
    csv_str(out, joined.as_bytes());
}

fn csv_opt(out: &mut Vec<u8>, v: Option<u64>) {
    if let Some(v) = v {
        push_u64(out, v);
    }
}

/// One CSV row: the JSON fields in order; labels (and the two tx counters) joined by a space,
/// `null` (or an absent field) as an empty cell.
pub fn csv_entry(e: &CtEntry, out: &mut Vec<u8>) {
    csv_str(out, word(&e.table));
    out.push(b',');
    csv_str(out, word(&e.protocol));
    out.push(b',');
    csv_str(out, word(&e.direction));
    out.push(b',');
    out.extend_from_slice(if e.related { b"true" } else { b"false" });
    out.push(b',');
    csv_str(out, e.src.text().as_bytes());
    out.push(b',');
    push_u64(out, u64::from(e.src_port));
    out.push(b',');
    csv_str(out, e.dst.text().as_bytes());
    out.push(b',');
    push_u64(out, u64::from(e.dst_port));
    out.push(b',');
    csv_labels(out, |f| e.flags.for_each(f));
    out.push(b',');
    push_i64(out, e.expires_in_s);
    out.push(b',');
    push_u64(out, u64::from(e.rev_nat_id));
    out.push(b',');
    push_u64(out, u64::from(e.src_identity));
    out.push(b',');
    csv_opt(out, e.packets);
    out.push(b',');
    csv_opt(out, e.bytes);
    out.push(b',');
    csv_labels(out, |f| e.tx_flags_seen.for_each(f));
    out.push(b',');
    csv_labels(out, |f| e.rx_flags_seen.for_each(f));
    out.push(b',');
    push_u64(out, u64::from(e.lifetime));
    out.push(b',');
    csv_opt(out, e.backend_id);
    out.push(b',');
    csv_opt(out, e.ifindex.map(u64::from));
    out.push(b',');
    csv_opt(out, e.nat_port.map(u64::from));
    out.push(b',');
    if let Some(a) = &e.nat_addr {
        csv_str(out, a.text().as_bytes());
    }
    out.push(b',');
    if let Some(l) = &e.layout {
        csv_str(out, word(l));
    }
    out.push(b',');
    if let Some(r) = &e.raw {
        csv_str(out, r.as_bytes());
    }
    out.push(b',');
    csv_opt(out, e.flags_word.map(u64::from));
    out.push(b',');
    push_u64(out, u64::from(e.last_rx_report));
    out.push(b',');
    push_u64(out, u64::from(e.last_tx_report));
    out.push(b',');
    if let Some(tx) = &e.tx_counters {
        push_u64(out, tx[0]);
        out.push(b' ');
        push_u64(out, tx[1]);
    }
    out.extend_from_slice(b"\r\n");
}

// ---- cilium-dbg bpf ct list ----

/// Which release's `ct list` line an entry gets, from what its decoder kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineForm {
    /// 1.14: service entries print as `OUT ... service`; 1.14–1.15: rx/tx counters apart.
    V1_14,
    V1_15,
    /// 1.16–1.17: `IfIndex=` before `BackendID=`.
    V1_16,
    V1_18,
    /// main: `NatPort=` at the end.
    Main,
}

fn line_form(e: &CtEntry) -> LineForm {
    let label = e.layout.as_ref().map_or("", |l| l.as_str());
    if label.starts_with("1.14") || label.starts_with("1.15") {
        if label.starts_with("1.14") {
            LineForm::V1_14
        } else {
            LineForm::V1_15
        }
    } else if e.nat_port.is_some() || label.starts_with("1.19") {
        LineForm::Main
    } else if e.ifindex.is_some() || label.starts_with("1.16") || label.starts_with("1.17") {
        LineForm::V1_16
    } else {
        LineForm::V1_18
    }
}

fn endpoint(out: &mut Vec<u8>, a: &Addr, port: u16) {
    text_str(out, a.text().as_bytes());
    out.push(b':');
    push_u64(out, u64::from(port));
}

fn tcp_bits(f: &TcpFlags) -> u64 {
    f.bits().map_or_else(
        || {
            // Labels kept as text (a hand-edited file): the bits they name.
            let mut b = 0u64;
            f.for_each(|l| {
                if let Some(i) = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"]
                    .iter()
                    .position(|n| *n == l)
                {
                    b |= 1 << i;
                }
            });
            b
        },
        u64::from,
    )
}

fn flags_word(e: &CtEntry) -> u64 {
    match (e.flags_word, e.flags.bits()) {
        (Some(w), _) => u64::from(w),
        (None, Some((b, _))) => u64::from(b),
        (None, None) => 0,
    }
}

fn field(out: &mut Vec<u8>, name: &str, v: u64) {
    out.extend_from_slice(name.as_bytes());
    out.push(b'=');
    push_u64(out, v);
    out.push(b' ');
}

fn hex_field(out: &mut Vec<u8>, name: &str, v: u64, digits: usize) {
    out.extend_from_slice(name.as_bytes());
    out.push(b'=');
    push_hex(out, v, digits);
    out.push(b' ');
}

fn flag_list(out: &mut Vec<u8>, flags: &CtFlags) {
    out.extend_from_slice(b"[ ");
    flags.for_each(|l| {
        text_str(out, l.as_bytes());
        out.push(b' ');
    });
    out.extend_from_slice(b"] ");
}

/// One line of `cilium-dbg bpf ct list global` for the entry's release (cilium-maps.md §6.2),
/// ending in the same space and newline. Service entries then name their frontend and
/// backend (` Service=… Backend=…`), which `cilium-dbg` leaves to be looked up.
pub fn cilium_line(e: &CtEntry, names: &ServiceNames, out: &mut Vec<u8>) {
    if let Some(raw) = &e.raw {
        text_str(out, word(&e.table));
        out.push(b' ');
        text_str(out, raw.as_bytes());
        out.push(b'\n');
        return;
    }
    let form = line_form(e);
    let svc = e.direction == Word::SVC;
    text_str(out, word(&e.protocol));
    if svc && form == LineForm::V1_14 {
        out.extend_from_slice(b" OUT ");
        endpoint(out, &e.dst, e.dst_port);
        out.extend_from_slice(b" -> ");
        endpoint(out, &e.src, e.src_port);
        out.push(b' ');
    } else {
        out.push(b' ');
        text_str(out, word(&e.direction));
        out.push(b' ');
        endpoint(out, &e.src, e.src_port);
        out.extend_from_slice(b" -> ");
        endpoint(out, &e.dst, e.dst_port);
        out.push(b' ');
    }
    if e.related {
        out.extend_from_slice(b"related ");
    }
    if svc && form == LineForm::V1_14 {
        out.extend_from_slice(b"service ");
    }
    field(out, "expires", u64::from(e.lifetime));
    let (packets, bytes) = (e.packets.unwrap_or(0), e.bytes.unwrap_or(0));
    let backend = e.backend_id.unwrap_or(0);
    let rx_seen = tcp_bits(&e.rx_flags_seen);
    let tx_seen = tcp_bits(&e.tx_flags_seen);
    let last_rx = u64::from(e.last_rx_report);
    let last_tx = u64::from(e.last_tx_report);
    if matches!(form, LineForm::V1_14 | LineForm::V1_15) {
        let [tx_p, tx_b] = e.tx_counters.as_deref().copied().unwrap_or_default();
        // Service entries keep the backend id where rx_bytes is.
        let rx_b = if svc {
            backend
        } else {
            bytes.wrapping_sub(tx_b)
        };
        field(out, "RxPackets", packets.wrapping_sub(tx_p));
        field(out, "RxBytes", rx_b);
        hex_field(out, "RxFlagsSeen", rx_seen, 2);
        field(out, "LastRxReport", last_rx);
        field(out, "TxPackets", tx_p);
        field(out, "TxBytes", tx_b);
        hex_field(out, "TxFlagsSeen", tx_seen, 2);
        field(out, "LastTxReport", last_tx);
    } else {
        field(out, "Packets", packets);
        field(out, "Bytes", bytes);
        hex_field(out, "RxFlagsSeen", rx_seen, 2);
        field(out, "LastRxReport", last_rx);
        hex_field(out, "TxFlagsSeen", tx_seen, 2);
        field(out, "LastTxReport", last_tx);
    }
    hex_field(out, "Flags", flags_word(e), 4);
    flag_list(out, &e.flags);
    field(out, "RevNAT", u64::from(e.rev_nat_id));
    field(out, "SourceSecurityID", u64::from(e.src_identity));
    match form {
        LineForm::V1_14 | LineForm::V1_15 => {
            field(out, "IfIndex", u64::from(e.ifindex.unwrap_or(0)));
        }
        LineForm::V1_16 => {
            field(out, "IfIndex", u64::from(e.ifindex.unwrap_or(0)));
            field(out, "BackendID", backend);
        }
        LineForm::V1_18 => field(out, "BackendID", backend),
        LineForm::Main => {
            field(out, "BackendID", backend);
            field(out, "NatPort", u64::from(e.nat_port.unwrap_or(0)));
        }
    }
    if svc {
        if let Some(f) = names.frontend(e.rev_nat_id) {
            out.extend_from_slice(b"Service=");
            text_str(out, f.as_bytes());
            out.push(b' ');
        }
        if let Some(b) = names.backend(backend) {
            out.extend_from_slice(b"Backend=");
            text_str(out, b.as_bytes());
            out.push(b' ');
        }
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ServiceBackend, TcpFlags};

    fn entries() -> Vec<CtEntry> {
        let tcp = CtEntry {
            table: "ct4_global".into(),
            protocol: Word::TCP,
            direction: Word::OUT,
            src: "10.244.1.23".into(),
            src_port: 48526,
            dst: "10.244.2.17".into(),
            dst_port: 80,
            flags: CtFlags::from_bits(0x13, false),
            expires_in_s: 15,
            rev_nat_id: 5,
            src_identity: 28461,
            packets: Some(5),
            bytes: Some(300),
            tx_flags_seen: TcpFlags::from_bits(0x1b),
            rx_flags_seen: TcpFlags::from_bits(0x1b),
            lifetime: 17432,
            layout: Some("1.19/main".into()),
            nat_port: Some(0),
            flags_word: Some(0x13),
            last_rx_report: 17412,
            last_tx_report: 17412,
            ..Default::default()
        };
        let svc = CtEntry {
            table: "ct_any4_global".into(),
            protocol: Word::UDP,
            direction: Word::SVC,
            related: true,
            src: "10.244.1.23".into(),
            src_port: 40000,
            dst: "10.96.0.10".into(),
            dst_port: 53,
            expires_in_s: -3,
            rev_nat_id: 3,
            backend_id: Some(42),
            ifindex: Some(7),
            layout: Some("1.17".into()),
            flags_word: Some(0x0210),
            flags: CtFlags::from_bits(0x0210, false),
            ..Default::default()
        };
        let v6 = CtEntry {
            table: "ct6_global".into(),
            protocol: Word::from("47".to_string()),
            direction: Word::IN,
            src: "fd00::1".into(),
            dst: "fd00::2".into(),
            nat_addr: Some("2001::9".into()),
            flags: CtFlags::from_bits(0xf880, true),
            tx_counters: Some(Box::new([1, 60])),
            packets: Some(3),
            bytes: Some(200),
            layout: Some("1.15".into()),
            ..Default::default()
        };
        // What only a hand-edited file holds: text addresses, label lists, controls.
        let odd = CtEntry {
            table: "t\u{1b}[31m,\"x\"".into(),
            src: "not an address\u{7f}".into(),
            dst: "=cmd|x".into(),
            flags: vec!["SeenNonSyn", "whatever\u{202e}"].into(),
            tx_flags_seen: vec!["SYN", "SYN"].into(),
            raw: Some("key=00 value=\u{85}01".into()),
            layout: Some("layout unknown (key 1 B, value 2 B)".into()),
            expires_in_s: i64::MIN,
            packets: Some(u64::MAX),
            ..Default::default()
        };
        vec![tcp, svc, v6, odd, CtEntry::default()]
    }

    fn serde_compact<T: serde::Serialize>(v: &T) -> String {
        crate::sanitize::to_json_string(v).unwrap()
    }

    #[test]
    fn json_is_exactly_what_serde_writes() {
        let names = ServiceNames::default();
        let all = entries();
        for n in 0..=all.len() {
            let some = &all[..n];
            let compact = write_all(StreamFormat::Json { pretty: false }, &names, some);
            assert_eq!(
                String::from_utf8(compact).unwrap(),
                format!("{}\n", serde_compact(&some)),
                "{n} entries"
            );
            let pretty = write_all(StreamFormat::Json { pretty: true }, &names, some);
            assert_eq!(
                String::from_utf8(pretty).unwrap(),
                format!(
                    "{}\n",
                    crate::sanitize::to_json_string_pretty(&some).unwrap()
                ),
                "{n} entries, pretty"
            );
        }
        let lines = write_all(StreamFormat::Jsonl, &names, &all);
        let lines = String::from_utf8(lines).unwrap();
        assert_eq!(lines.lines().count(), all.len());
        for (line, e) in lines.lines().zip(&all) {
            assert_eq!(line, serde_compact(e));
            assert_eq!(&serde_json::from_str::<CtEntry>(line).unwrap(), e);
        }
        assert_eq!(write_all(StreamFormat::Jsonl, &names, &[]), b"");
    }

    /// Split RFC 4180 text into rows of cells.
    pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
        let mut rows = vec![];
        let mut row = vec![];
        let mut cell = String::new();
        let mut quoted = false;
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                }
                (true, '"') => quoted = false,
                (true, c) => cell.push(c),
                (false, '"') => quoted = true,
                (false, ',') => row.push(std::mem::take(&mut cell)),
                (false, '\r') => {}
                (false, '\n') => {
                    row.push(std::mem::take(&mut cell));
                    rows.push(std::mem::take(&mut row));
                }
                (false, c) => cell.push(c),
            }
        }
        rows
    }

    #[test]
    fn csv_has_every_field_and_guards_cells() {
        let all = entries();
        let text = write_all(StreamFormat::Csv, &ServiceNames::default(), &all);
        let text = String::from_utf8(text).unwrap();
        let rows = parse_csv(&text);
        assert_eq!(rows[0], FIELDS);
        assert_eq!(rows.len(), all.len() + 1);
        assert!(rows.iter().all(|r| r.len() == FIELDS.len()));
        // Every field of the plain entries reads back as its JSON value.
        for (row, e) in rows[1..].iter().zip(&all[..3]) {
            let json: serde_json::Value = serde_json::to_value(e).unwrap();
            for (name, cell) in FIELDS.iter().zip(row) {
                let want = match &json[name] {
                    serde_json::Value::Null => String::new(),
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Array(a) => a
                        .iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                        .collect::<Vec<_>>()
                        .join(" "),
                    v => v.to_string(),
                };
                assert_eq!(cell, &want, "{name}");
            }
        }
        assert!(!text.contains(",=cmd"), "{text}");
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{202e}'),
            "{text}"
        );
    }

    #[test]
    fn text_lines_read_like_cilium_dbg() {
        let all = entries();
        let services = vec![Service {
            frontend: "10.96.0.10:53/UDP".into(),
            rev_nat_id: 3,
            backends: vec![ServiceBackend {
                backend_id: 42,
                address: Some("10.244.1.17".into()),
                port: Some(53),
                protocol: Some("UDP".into()),
                ..Default::default()
            }],
            ..Default::default()
        }];
        let names = ServiceNames::new(&services);
        let line = |e: &CtEntry| {
            let mut out = vec![];
            cilium_line(e, &names, &mut out);
            String::from_utf8(out).unwrap()
        };
        // main (cilium-maps.md §6.2's example).
        assert_eq!(
            line(&all[0]),
            "TCP OUT 10.244.1.23:48526 -> 10.244.2.17:80 expires=17432 Packets=5 Bytes=300 \
             RxFlagsSeen=0x1b LastRxReport=17412 TxFlagsSeen=0x1b LastTxReport=17412 \
             Flags=0x0013 [ RxClosing TxClosing SeenNonSyn ] RevNAT=5 SourceSecurityID=28461 \
             BackendID=0 NatPort=0 \n"
        );
        // 1.18: no NatPort.
        let e = CtEntry {
            nat_port: None,
            layout: Some("1.18".into()),
            ..all[0].clone()
        };
        assert!(line(&e).ends_with("SourceSecurityID=28461 BackendID=0 \n"));
        // 1.16–1.17: IfIndex before BackendID; a service entry names its service and backend;
        // bit 9 is in the word but has no label.
        assert_eq!(
            line(&all[1]),
            "UDP SVC 10.244.1.23:40000 -> 10.96.0.10:53 related expires=0 Packets=0 Bytes=0 \
             RxFlagsSeen=0x00 LastRxReport=0 TxFlagsSeen=0x00 LastTxReport=0 \
             Flags=0x0210 [ SeenNonSyn ] RevNAT=3 SourceSecurityID=0 IfIndex=7 BackendID=42 \
             Service=10.96.0.10:53/UDP Backend=10.244.1.17:53/UDP \n"
        );
        // 1.14–1.15: rx and tx counters apart; DSR; unknown bits.
        assert_eq!(
            line(&all[2]),
            "47 IN fd00::1:0 -> fd00::2:0 expires=0 RxPackets=2 RxBytes=140 RxFlagsSeen=0x00 \
             LastRxReport=0 TxPackets=1 TxBytes=60 TxFlagsSeen=0x00 LastTxReport=0 \
             Flags=0xf880 [ DSR Unknown=0xf800 ] RevNAT=0 SourceSecurityID=0 IfIndex=0 \n"
        );
        // 1.14: a service entry is an OUT line marked `service`, backend id in RxBytes.
        let e = CtEntry {
            layout: Some("1.14".into()),
            ifindex: Some(0),
            ..all[1].clone()
        };
        assert!(
            line(&e).starts_with(
                "UDP OUT 10.96.0.10:53 -> 10.244.1.23:40000 related service expires=0 \
                 RxPackets=0 RxBytes=42 "
            ),
            "{}",
            line(&e)
        );
        // Nothing unsafe reaches the text; a raw entry prints its bytes.
        let odd = line(&all[3]);
        assert!(
            odd.starts_with("t\\x1b[31m,\"x\" key=00 value=\\u{85}01\n"),
            "{odd}"
        );
        let e = CtEntry {
            raw: None,
            ..all[3].clone()
        };
        let t = line(&e);
        assert!(
            !t.chars()
                .any(|c| c != '\n' && crate::sanitize::is_unsafe(c)),
            "{t}"
        );
        // Tables are separated by a blank line, as cilium-dbg prints them.
        let text = write_all(StreamFormat::Cilium, &names, &all[..2]);
        let text = String::from_utf8(text).unwrap();
        assert_eq!(text.lines().filter(|l| l.is_empty()).count(), 2, "{text}");
        assert!(text.ends_with(" \n\n"));
    }
}
