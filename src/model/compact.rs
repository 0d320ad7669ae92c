//! Compact field types for big tables (half a million conntrack entries): the same JSON as the
//! `String` / `Vec<String>` fields they replace, without a heap allocation for the values a
//! decoder produces.
//!
//! Each type keeps what it cannot represent compactly as the original text, so any file loads
//! and writes back byte for byte. Values are canonical (a text that is also a compact value is
//! always stored compactly), so the derived `PartialEq` / `Hash` compare what the JSON says.

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use std::fmt::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

// ---- short text on the stack ----

/// Up to 48 bytes of text without an allocation (an address, an `Unknown=0x0800` label).
#[derive(Clone, Copy)]
pub struct StackText {
    buf: [u8; 48],
    len: u8,
}

impl StackText {
    fn new() -> StackText {
        StackText {
            buf: [0; 48],
            len: 0,
        }
    }

    pub fn as_str(&self) -> &str {
        // Only whole `&str`s are ever appended, so the bytes are UTF-8.
        std::str::from_utf8(&self.buf[..usize::from(self.len)]).unwrap_or("")
    }

    fn push_u8(&mut self, v: u8) {
        if v >= 100 {
            self.push_byte(b'0' + v / 100);
        }
        if v >= 10 {
            self.push_byte(b'0' + (v / 10) % 10);
        }
        self.push_byte(b'0' + v % 10);
    }

    fn push_byte(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(usize::from(self.len)) {
            *slot = b;
            self.len += 1;
        }
    }
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let at = usize::from(self.len);
        let dst = self.buf.get_mut(at..at + s.len()).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len += s.len() as u8;
        Ok(())
    }
}

impl std::ops::Deref for StackText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

// ---- Addr ----

/// An IP address as a table row holds it: 4 or 16 bytes inline, written as the standard text
/// form (`10.0.1.12`, `fd00::12`). Any other text (an empty field, a hand-edited file) is kept
/// as it was.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Addr(AddrRepr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum AddrRepr {
    V4([u8; 4]),
    V6([u8; 16]),
    /// Never the canonical text of an IP address.
    Text(Box<str>),
}

impl Default for Addr {
    fn default() -> Self {
        Addr(AddrRepr::Text(Box::from("")))
    }
}

impl Addr {
    pub fn v4(octets: [u8; 4]) -> Addr {
        Addr(AddrRepr::V4(octets))
    }

    pub fn v6(octets: [u8; 16]) -> Addr {
        Addr(AddrRepr::V6(octets))
    }

    /// The address, unless the field holds other text.
    pub fn ip(&self) -> Option<IpAddr> {
        match &self.0 {
            AddrRepr::V4(o) => Some(IpAddr::V4(Ipv4Addr::from(*o))),
            AddrRepr::V6(o) => Some(IpAddr::V6(Ipv6Addr::from(*o))),
            AddrRepr::Text(_) => None,
        }
    }

    /// The text form, on the stack for addresses.
    pub fn text(&self) -> AddrText<'_> {
        match &self.0 {
            AddrRepr::V4(o) => {
                let mut t = StackText::new();
                for (i, b) in o.iter().enumerate() {
                    if i > 0 {
                        t.push_byte(b'.');
                    }
                    t.push_u8(*b);
                }
                AddrText::Stack(t)
            }
            AddrRepr::V6(o) => {
                let mut t = StackText::new();
                // At most 39 characters (45 with an embedded IPv4): always fits.
                let _ = write!(t, "{}", Ipv6Addr::from(*o));
                AddrText::Stack(t)
            }
            AddrRepr::Text(s) => AddrText::Borrowed(s),
        }
    }

    pub fn is_empty(&self) -> bool {
        matches!(&self.0, AddrRepr::Text(s) if s.is_empty())
    }

    /// Whether the text form contains `:` (IPv6), so `addr:port` needs brackets.
    pub fn has_colon(&self) -> bool {
        match &self.0 {
            AddrRepr::V4(_) => false,
            AddrRepr::V6(_) => true,
            AddrRepr::Text(s) => s.contains(':'),
        }
    }
}

/// The text of an [`Addr`]: formatted on the stack, or borrowed from the stored text.
pub enum AddrText<'a> {
    Stack(StackText),
    Borrowed(&'a str),
}

impl AddrText<'_> {
    /// The text's bytes (without the UTF-8 check of going through `str`).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            AddrText::Stack(t) => &t.buf[..usize::from(t.len)],
            AddrText::Borrowed(s) => s.as_bytes(),
        }
    }
}

impl std::ops::Deref for AddrText<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            AddrText::Stack(t) => t.as_str(),
            AddrText::Borrowed(s) => s,
        }
    }
}

impl From<IpAddr> for Addr {
    fn from(ip: IpAddr) -> Addr {
        match ip {
            IpAddr::V4(a) => Addr::v4(a.octets()),
            IpAddr::V6(a) => Addr::v6(a.octets()),
        }
    }
}

impl From<Ipv4Addr> for Addr {
    fn from(a: Ipv4Addr) -> Addr {
        Addr::v4(a.octets())
    }
}

impl From<Ipv6Addr> for Addr {
    fn from(a: Ipv6Addr) -> Addr {
        Addr::v6(a.octets())
    }
}

impl From<&str> for Addr {
    fn from(s: &str) -> Addr {
        match s.parse::<IpAddr>().map(Addr::from) {
            Ok(a) if *a.text() == *s => a,
            _ => Addr(AddrRepr::Text(Box::from(s))),
        }
    }
}

impl From<String> for Addr {
    fn from(s: String) -> Addr {
        match s.parse::<IpAddr>().map(Addr::from) {
            Ok(a) if *a.text() == *s => a,
            _ => Addr(AddrRepr::Text(s.into_boxed_str())),
        }
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.text())
    }
}

impl fmt::Debug for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.text(), f)
    }
}

impl PartialEq<str> for Addr {
    fn eq(&self, other: &str) -> bool {
        *self.text() == *other
    }
}

impl PartialEq<&str> for Addr {
    fn eq(&self, other: &&str) -> bool {
        *self.text() == **other
    }
}

impl Serialize for Addr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text())
    }
}

impl<'de> Deserialize<'de> for Addr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Addr, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Addr;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an address string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Addr, E> {
                Ok(Addr::from(v))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Addr, E> {
                Ok(Addr::from(v))
            }
        }
        d.deserialize_str(V)
    }
}

// ---- Word ----

/// The fixed vocabulary of conntrack entries: table names, protocols, directions, layouts.
/// Index 0 is the empty word.
const VOCAB: &[&str] = &[
    "",
    "ct4_global",
    "ct6_global",
    "ct_any4_global",
    "ct_any6_global",
    "ANY",
    "ICMP",
    "IGMP",
    "TCP",
    "UDP",
    "ICMPv6",
    "VRRP",
    "SCTP",
    "IN",
    "OUT",
    "SVC",
    "1.14",
    "1.15",
    "1.16",
    "1.17",
    "1.18",
    "1.19/main",
    "1.19/main (assumed: no map tells the release)",
];

/// A short string from a small vocabulary (`TCP`, `OUT`, `ct4_global`, `1.18`...): one byte for
/// a known word, shared by every row; any other text is owned.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Word(WordRepr);

// `Box<String>`, not `Box<str>`: a thin pointer keeps a `Word` at 16 bytes.
#[allow(clippy::box_collection)]
#[derive(Clone, PartialEq, Eq, Hash)]
enum WordRepr {
    Known(u8),
    /// Never a vocabulary word.
    Owned(Box<String>),
}

impl Default for Word {
    fn default() -> Self {
        Word(WordRepr::Known(0))
    }
}

impl Word {
    pub const ANY: Word = Word(WordRepr::Known(5));
    pub const ICMP: Word = Word(WordRepr::Known(6));
    pub const IGMP: Word = Word(WordRepr::Known(7));
    pub const TCP: Word = Word(WordRepr::Known(8));
    pub const UDP: Word = Word(WordRepr::Known(9));
    pub const ICMPV6: Word = Word(WordRepr::Known(10));
    pub const VRRP: Word = Word(WordRepr::Known(11));
    pub const SCTP: Word = Word(WordRepr::Known(12));
    pub const IN: Word = Word(WordRepr::Known(13));
    pub const OUT: Word = Word(WordRepr::Known(14));
    pub const SVC: Word = Word(WordRepr::Known(15));

    fn known(s: &str) -> Option<u8> {
        VOCAB.iter().position(|w| *w == s).map(|i| i as u8)
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            WordRepr::Known(i) => VOCAB.get(usize::from(*i)).copied().unwrap_or(""),
            WordRepr::Owned(s) => s,
        }
    }

    /// The vocabulary index of a known word (cheap keys for sorting and grouping).
    pub fn known_index(&self) -> Option<u8> {
        match &self.0 {
            WordRepr::Known(i) => Some(*i),
            WordRepr::Owned(_) => None,
        }
    }

    /// Whether the word is shared (no allocation of its own).
    pub fn is_shared(&self) -> bool {
        self.known_index().is_some()
    }
}

impl std::ops::Deref for Word {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Word {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Word {
    fn from(s: &str) -> Word {
        match Word::known(s) {
            Some(i) => Word(WordRepr::Known(i)),
            None => Word(WordRepr::Owned(Box::new(s.to_string()))),
        }
    }
}

impl From<String> for Word {
    fn from(s: String) -> Word {
        match Word::known(&s) {
            Some(i) => Word(WordRepr::Known(i)),
            None => Word(WordRepr::Owned(Box::new(s))),
        }
    }
}

impl fmt::Display for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl fmt::Debug for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq<str> for Word {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Word {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for Word {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Word {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Word, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Word;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Word, E> {
                Ok(Word::from(v))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Word, E> {
                Ok(Word::from(v))
            }
        }
        d.deserialize_str(V)
    }
}

// ---- label sets (CT flags, TCP flags seen) ----

/// Labels named by bits, in bit order, as a bitset; any other list of labels as it was.
#[allow(clippy::box_collection)]
#[derive(Clone, PartialEq, Eq, Hash)]
enum LabelSet {
    /// `alt`: the alternative name of the one bit that has two (`DSR` / `DSRInternal`); kept
    /// `false` when that bit is clear.
    Bits { bits: u16, alt: bool },
    /// Never a list that `Bits` can write. Boxed twice: a thin pointer keeps the type at 16 bytes.
    List(Box<Vec<String>>),
}

/// How one label set names its bits.
struct Names {
    /// (bit, name, alternative name).
    bits: &'static [(u16, &'static str, Option<&'static str>)],
    /// Bits written as one `Unknown=0x....` label after the named ones.
    unknown: u16,
}

impl LabelSet {
    fn from_bits(names: &Names, bits: u16, alt: bool) -> LabelSet {
        let known = names.bits.iter().fold(0, |m, b| m | b.0);
        let bits = bits & (known | names.unknown);
        let alt_bit = names.bits.iter().find(|b| b.2.is_some()).map_or(0, |b| b.0);
        LabelSet::Bits {
            bits,
            alt: alt && bits & alt_bit != 0,
        }
    }

    fn for_each(&self, names: &Names, mut f: impl FnMut(&str)) {
        match self {
            LabelSet::Bits { bits, alt } => {
                for (bit, name, alt_name) in names.bits {
                    if bits & bit != 0 {
                        f(match (alt, alt_name) {
                            (true, Some(a)) => a,
                            _ => name,
                        });
                    }
                }
                if bits & names.unknown != 0 {
                    f(&unknown_label(bits & names.unknown));
                }
            }
            LabelSet::List(l) => l.iter().for_each(|s| f(s)),
        }
    }

    fn len(&self, names: &Names) -> usize {
        let mut n = 0;
        self.for_each(names, |_| n += 1);
        n
    }

    /// The bitset that writes exactly `labels`, if there is one.
    fn parse<S: AsRef<str>>(names: &Names, labels: &[S]) -> Option<LabelSet> {
        let mut bits = 0u16;
        let mut alt = false;
        let mut next = 0; // index into names.bits: labels come in bit order, once each
        let mut it = labels.iter().map(AsRef::as_ref).peekable();
        while let Some(l) = it.peek() {
            let found = names.bits[next..]
                .iter()
                .position(|(_, n, a)| *n == *l || *a == Some(*l));
            let Some(pos) = found else { break };
            let (bit, name, _) = names.bits[next + pos];
            bits |= bit;
            if name != *l {
                alt = true;
            }
            next += pos + 1;
            it.next();
        }
        if let Some(l) = it.next() {
            let v = l
                .strip_prefix("Unknown=0x")
                .and_then(|h| u16::from_str_radix(h, 16).ok())
                .filter(|v| *v != 0 && v & !names.unknown == 0)?;
            if *unknown_label(v) != *l || it.next().is_some() {
                return None;
            }
            bits |= v;
        }
        Some(LabelSet::Bits { bits, alt })
    }

    fn from_list(names: &Names, labels: Vec<String>) -> LabelSet {
        LabelSet::parse(names, &labels).unwrap_or_else(|| LabelSet::List(Box::new(labels)))
    }

    fn serialize<S: Serializer>(&self, names: &Names, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len(names)))?;
        let mut err = None;
        self.for_each(names, |l| {
            if err.is_none() {
                err = seq.serialize_element(l).err();
            }
        });
        match err {
            Some(e) => Err(e),
            None => seq.end(),
        }
    }

    fn eq_list<S: AsRef<str>>(&self, names: &Names, other: &[S]) -> bool {
        let mut i = 0;
        let mut same = true;
        self.for_each(names, |l| {
            same &= other.get(i).is_some_and(|o| o.as_ref() == l);
            i += 1;
        });
        same && i == other.len()
    }

    fn debug(&self, names: &Names, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = Vec::new();
        self.for_each(names, |l| list.push(l.to_string()));
        f.debug_list().entries(list).finish()
    }
}

fn unknown_label(v: u16) -> StackText {
    let mut t = StackText::new();
    let _ = write!(t, "Unknown=0x{v:04x}");
    t
}

struct LabelsVisitor;

impl<'de> Visitor<'de> for LabelsVisitor {
    type Value = Vec<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of strings")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(16));
        while let Some(s) = seq.next_element::<String>()? {
            out.push(s);
        }
        Ok(out)
    }
}

macro_rules! label_type {
    ($(#[$doc:meta])* $name:ident, $names:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        pub struct $name(LabelSet);

        impl Default for $name {
            fn default() -> Self {
                $name(LabelSet::Bits { bits: 0, alt: false })
            }
        }

        impl $name {
            const NAMES: Names = $names;

            /// Every label, in order.
            pub fn for_each(&self, f: impl FnMut(&str)) {
                self.0.for_each(&Self::NAMES, f)
            }

            pub fn len(&self) -> usize {
                self.0.len(&Self::NAMES)
            }

            pub fn is_empty(&self) -> bool {
                matches!(self.0, LabelSet::Bits { bits: 0, .. })
                    || matches!(&self.0, LabelSet::List(l) if l.is_empty())
            }

            /// The labels joined with `sep` (what a table cell shows).
            pub fn join(&self, sep: &str) -> String {
                let mut out = String::new();
                self.for_each(|l| {
                    if !out.is_empty() {
                        out.push_str(sep);
                    }
                    out.push_str(l);
                });
                out
            }

            pub fn to_vec(&self) -> Vec<String> {
                let mut out = Vec::new();
                self.for_each(|l| out.push(l.to_string()));
                out
            }
        }

        impl From<Vec<String>> for $name {
            fn from(l: Vec<String>) -> Self {
                $name(LabelSet::from_list(&Self::NAMES, l))
            }
        }

        impl From<Vec<&str>> for $name {
            fn from(l: Vec<&str>) -> Self {
                match LabelSet::parse(&Self::NAMES, &l) {
                    Some(s) => $name(s),
                    None => $name(LabelSet::List(Box::new(
                        l.into_iter().map(str::to_string).collect(),
                    ))),
                }
            }
        }

        impl<const N: usize> From<[&str; N]> for $name {
            fn from(l: [&str; N]) -> Self {
                Self::from(l.to_vec())
            }
        }

        impl<S: AsRef<str>> PartialEq<Vec<S>> for $name {
            fn eq(&self, other: &Vec<S>) -> bool {
                self.0.eq_list(&Self::NAMES, other)
            }
        }

        impl<S: AsRef<str>, const N: usize> PartialEq<[S; N]> for $name {
            fn eq(&self, other: &[S; N]) -> bool {
                self.0.eq_list(&Self::NAMES, other)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.debug(&Self::NAMES, f)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.0.serialize(&Self::NAMES, s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_seq(LabelsVisitor).map(Self::from)
            }
        }
    };
}

label_type!(
    /// A CT entry's flags (`RxClosing`, `SeenNonSyn`, ...) as `cilium-dbg bpf ct list` names
    /// them; bit 9 is ignored, as by the CLI, and bits 11–15 are one `Unknown=0x....` label.
    CtFlags,
    Names {
        bits: &[
            (0x0001, "RxClosing", None),
            (0x0002, "TxClosing", None),
            (0x0004, "Nat64", None),
            (0x0008, "LBLoopback", None),
            (0x0010, "SeenNonSyn", None),
            (0x0020, "NodePort", None),
            (0x0040, "ProxyRedirect", None),
            (0x0080, "DSRInternal", Some("DSR")),
            (0x0100, "FromL7LB", None),
            (0x0400, "FromTunnel", None),
        ],
        unknown: 0xF800,
    }
);

impl CtFlags {
    /// From the entry's `flags` field; `dsr_name` for releases up to 1.15, which call bit 7
    /// `DSR` (later ones `DSRInternal`).
    pub fn from_bits(bits: u16, dsr_name: bool) -> CtFlags {
        CtFlags(LabelSet::from_bits(&Self::NAMES, bits, dsr_name))
    }

    /// The bits and whether bit 7 is called `DSR`; `None` for labels kept as text.
    pub fn bits(&self) -> Option<(u16, bool)> {
        match &self.0 {
            LabelSet::Bits { bits, alt } => Some((*bits, *alt)),
            LabelSet::List(_) => None,
        }
    }
}

label_type!(
    /// TCP flags seen in one direction (`FIN`, `SYN`, ... `CWR`, in bit order).
    TcpFlags,
    Names {
        bits: &[
            (0x01, "FIN", None),
            (0x02, "SYN", None),
            (0x04, "RST", None),
            (0x08, "PSH", None),
            (0x10, "ACK", None),
            (0x20, "URG", None),
            (0x40, "ECE", None),
            (0x80, "CWR", None),
        ],
        unknown: 0,
    }
);

impl TcpFlags {
    pub fn from_bits(bits: u8) -> TcpFlags {
        TcpFlags(LabelSet::from_bits(&Self::NAMES, u16::from(bits), false))
    }

    /// The flags as the byte the datapath stores (`None` for labels kept as text).
    pub fn bits(&self) -> Option<u8> {
        match &self.0 {
            LabelSet::Bits { bits, .. } => Some(*bits as u8),
            LabelSet::List(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json<T: Serialize>(v: &T) -> String {
        serde_json::to_string(v).unwrap()
    }

    fn back<T: for<'de> Deserialize<'de>>(s: &str) -> T {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn addresses_are_inline_and_written_as_before() {
        for s in [
            "10.0.1.12",
            "0.0.0.0",
            "255.255.255.255",
            "fd00::12",
            "::",
            "::ffff:10.0.0.1",
            "2001:db8:0:1:1:1:1:1",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        ] {
            let a = Addr::from(s);
            assert!(a.ip().is_some(), "{s}");
            assert_eq!(a.to_string(), s);
            assert_eq!(a.to_string(), s.parse::<IpAddr>().unwrap().to_string());
            assert_eq!(json(&a), format!("\"{s}\""));
            assert_eq!(back::<Addr>(&json(&a)), a);
        }
        // Other text is kept exactly, and is not an address.
        for s in ["", "010.0.0.1", "FD00::12", "10.0.0.1/24", "not an address"] {
            let a: Addr = back(&format!("\"{s}\""));
            assert_eq!(a.ip(), None, "{s}");
            assert_eq!(json(&a), format!("\"{s}\""));
        }
        assert_eq!(Addr::default(), Addr::from(""));
        assert!(Addr::default().is_empty());
        assert!(Addr::from("fd00::1").has_colon() && !Addr::from("10.0.0.1").has_colon());
        assert_eq!(Addr::v4([10, 0, 0, 1]), "10.0.0.1");
        assert_eq!(format!("[{:>9}]", Addr::v4([1, 2, 3, 4])), "[  1.2.3.4]");
    }

    #[test]
    fn words_share_the_vocabulary() {
        for w in VOCAB {
            let word = Word::from(*w);
            assert!(word.is_shared(), "{w}");
            assert_eq!(word, *w);
            assert_eq!(back::<Word>(&json(&word)), word);
        }
        let odd = Word::from("47".to_string());
        assert!(!odd.is_shared());
        assert_eq!(json(&odd), "\"47\"");
        assert_eq!(Word::TCP.as_str(), "TCP");
        assert_eq!(Word::SVC, "SVC");
        assert_eq!(Word::from("TCP"), Word::TCP);
        assert_eq!(Word::default(), "");
    }

    #[test]
    fn flag_sets_write_the_same_labels() {
        let f = CtFlags::from_bits(0x0013 | 0x0200, false);
        assert_eq!(f, vec!["RxClosing", "TxClosing", "SeenNonSyn"]);
        assert_eq!(json(&f), r#"["RxClosing","TxClosing","SeenNonSyn"]"#);
        assert_eq!(CtFlags::from_bits(0x80, true), vec!["DSR"]);
        assert_eq!(CtFlags::from_bits(0x80, false), vec!["DSRInternal"]);
        // The DSR naming only matters when the bit is set.
        assert_eq!(
            CtFlags::from_bits(0x10, true),
            CtFlags::from_bits(0x10, false)
        );
        assert_eq!(
            CtFlags::from_bits(0x8801, false),
            vec!["RxClosing", "Unknown=0x8800"]
        );
        assert_eq!(CtFlags::from_bits(0x10, false).join(" "), "SeenNonSyn");
        assert!(CtFlags::default().is_empty());
        assert_eq!(CtFlags::default().len(), 0);
        let t = TcpFlags::from_bits(0x1b);
        assert_eq!(t, vec!["FIN", "SYN", "PSH", "ACK"]);
        assert_eq!(t.len(), 4);
    }

    #[test]
    fn any_label_list_round_trips() {
        let lists: &[&[&str]] = &[
            &[],
            &["SeenNonSyn"],
            &["RxClosing", "TxClosing", "SeenNonSyn"],
            &["DSR", "FromTunnel"],
            &["DSRInternal", "Unknown=0xf800"],
            &["Unknown=0x0800"],
            // Not what a decoder writes: kept as given.
            &["SeenNonSyn", "RxClosing"],
            &["SeenNonSyn", "SeenNonSyn"],
            &["Unknown=0x0001"],
            &["Unknown=0x800"],
            &["Unknown=0x0800", "SeenNonSyn"],
            &["whatever"],
            &[""],
        ];
        for l in lists {
            let text = serde_json::to_string(l).unwrap();
            let f: CtFlags = back(&text);
            assert_eq!(json(&f), text);
            assert_eq!(f, l.to_vec());
            assert_eq!(
                f.to_vec(),
                l.iter().map(|s| s.to_string()).collect::<Vec<_>>()
            );
            assert_eq!(f.len(), l.len());
        }
        // Canonical: the same labels are the same value however they were made.
        assert_eq!(
            back::<CtFlags>(r#"["SeenNonSyn"]"#),
            CtFlags::from_bits(0x10, false)
        );
        for l in [&["ACK", "SYN"][..], &["SYN", "ACK"], &["FIN", "x"]] {
            let text = serde_json::to_string(l).unwrap();
            assert_eq!(json(&back::<TcpFlags>(&text)), text);
        }
        assert_eq!(
            back::<TcpFlags>(r#"["SYN","ACK"]"#),
            TcpFlags::from_bits(0x12)
        );
    }

    #[test]
    fn compact_types_stay_small() {
        assert_eq!(std::mem::size_of::<Word>(), 16);
        assert_eq!(std::mem::size_of::<Option<Word>>(), 16);
        assert_eq!(std::mem::size_of::<CtFlags>(), 16);
        assert_eq!(std::mem::size_of::<TcpFlags>(), 16);
        assert_eq!(std::mem::size_of::<Addr>(), 24);
        assert_eq!(std::mem::size_of::<Option<Addr>>(), 24);
        // A full CT table (524,288 entries) is ~160 MB at this size (the raw flags word, the
        // report times and the ≤ 1.15 tx counters of `cilium-dbg bpf ct list` included).
        #[cfg(target_pointer_width = "64")]
        assert!(
            std::mem::size_of::<crate::model::CtEntry>() <= 304,
            "{}",
            std::mem::size_of::<crate::model::CtEntry>()
        );
    }
}
