//! Compact recordings (`dpscope record`, `R` in the live UI): JSON lines, one snapshot per line,
//! where a line may leave out the sections that are equal to its keyframe.
//!
//! * A **keyframe** is a complete snapshot, exactly what `dpscope snapshot` writes but on one
//!   line: it loads on its own, with any tool. The first line is a keyframe, and so is every
//!   [`KEYFRAME_EVERY`]th line after it.
//! * Any other line carries the header fields (`schema`, `taken_at`, `monotonic_ns`,
//!   `boottime_ns`), a `"recording": {"keyframe": K, "same": [...]}` object, and every section
//!   *not* named in `same`. It is rebuilt by copying the named sections from the keyframe on line
//!   K (never from the line before it, so a corrupt line costs only itself; a corrupt keyframe
//!   costs the lines that refer to it, and the reader says which).
//!
//! Comparison and writing work on the typed snapshot, section by section: nothing builds a JSON
//! tree of a snapshot (a 500k-entry conntrack table would cost gigabytes as `serde_json::Value`).

use super::Snapshot;
use serde::{Deserialize, Serialize};
use std::io::Write;

/// Lines between two keyframes.
pub const KEYFRAME_EVERY: usize = 60;

/// A conntrack table of at least this many entries that differs from the keyframe's makes
/// its line a keyframe: the table is most of the line, and the lines after it (which carry
/// the same table until the collector reads it again) then leave it out.
pub const KEYFRAME_CT_ENTRIES: usize = 4096;

/// The `recording` object of a line that refers to a keyframe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRef {
    /// Line number (1-based) of the keyframe the omitted sections come from.
    pub keyframe: usize,
    /// Sections omitted from this line because they equal the keyframe's.
    pub same: Vec<String>,
}

/// Every section of a snapshot below the header, in file order. One list drives comparison,
/// writing and rebuilding, and a test checks it against the serialised field names.
macro_rules! sections {
    ($m:ident) => {
        $m!(
            node,
            programs,
            maps,
            attachments,
            links,
            details,
            tailcalls,
            services,
            conntrack,
            identities,
            endpoints,
            policy,
            metrics,
            retransmits,
            drops,
            denials,
            cilium,
            xdp_errors,
            flows
        )
    };
}

/// Section names, in file order.
pub fn section_names() -> &'static [&'static str] {
    macro_rules! names {
        ($($f:ident),*) => { &[$(stringify!($f)),*] };
    }
    sections!(names)
}

/// Sections of `s` equal to the keyframe's.
fn same_sections(kf: &Snapshot, s: &Snapshot) -> Vec<&'static str> {
    let mut out = Vec::new();
    macro_rules! cmp {
        ($($f:ident),*) => { $(if kf.$f == s.$f { out.push(stringify!($f)); })* };
    }
    sections!(cmp);
    out
}

/// `s` as if the CT maps had not been read for it.
fn without_conntrack(s: &Snapshot) -> Snapshot {
    let mut t = s.clone();
    t.conntrack = Default::default();
    if let Some(c) = &mut t.cilium {
        c.ct_read_ns = None;
        c.ct_total = None;
    }
    t
}

/// Give each snapshot for which the CT maps were not read the table last read before it, with
/// its read time (the table's age shows), as the live UI passed it on: a recording of complete
/// lines carries each table once, on the line of its read ([`Writer`]).
pub fn fill_conntrack_forward(snaps: &mut [Snapshot]) {
    let mut last: Option<(std::sync::Arc<Vec<super::CtEntry>>, Option<u64>, u64)> = None;
    for s in snaps {
        let mono = s.monotonic_ns;
        let unavailable = s.unavailable_reason("conntrack").is_some();
        let Some(c) = s.cilium.as_mut() else {
            last = None;
            continue;
        };
        match c.ct_read_ns {
            Some(read) => last = Some((s.conntrack.clone(), c.ct_total, read)),
            None if unavailable || !s.conntrack.is_empty() => last = None,
            None => {
                if let Some((table, total, read)) = last.as_ref().filter(|l| l.2 <= mono) {
                    s.conntrack = table.clone();
                    c.ct_total = *total;
                    c.ct_read_ns = Some(*read);
                }
            }
        }
    }
}

/// Whether `s` brings a big conntrack table its keyframe does not have ([`KEYFRAME_CT_ENTRIES`]).
fn new_big_table(kf: &Snapshot, s: &Snapshot) -> bool {
    s.conntrack.len() >= KEYFRAME_CT_ENTRIES
        && !std::sync::Arc::ptr_eq(&kf.conntrack, &s.conntrack)
        && kf.conntrack != s.conntrack
}

/// Copy section `name` from the keyframe; false for a name this dpscope does not know.
fn copy_section(name: &str, kf: &Snapshot, s: &mut Snapshot) -> bool {
    macro_rules! copy {
        ($($f:ident),*) => {
            match name {
                $(stringify!($f) => { s.$f = kf.$f.clone(); true })*
                _ => false,
            }
        };
    }
    sections!(copy)
}

/// Writes a recording line by line.
pub struct Writer<W: Write> {
    w: W,
    line: usize,
    keyframe: Option<(usize, Snapshot)>,
    every: usize,
    /// `cilium.ct_read_ns` of the conntrack table a complete line last carried.
    ct_written: Option<u64>,
}

impl<W: Write> Writer<W> {
    /// A writer of compact lines (`compact`) or of a complete snapshot on every line.
    pub fn new(w: W, compact: bool) -> Self {
        Self::with_keyframe_every(w, if compact { KEYFRAME_EVERY } else { 1 })
    }

    pub fn with_keyframe_every(w: W, every: usize) -> Self {
        Writer {
            w,
            line: 0,
            keyframe: None,
            every: every.max(1),
            ct_written: None,
        }
    }

    /// Lines written so far.
    pub fn lines(&self) -> usize {
        self.line
    }

    /// Append one snapshot (and flush, so a killed recorder leaves whole lines behind).
    pub fn write(&mut self, s: &Snapshot) -> std::io::Result<()> {
        self.line += 1;
        let reference = match &self.keyframe {
            Some((k, kf)) if self.line - k < self.every && !new_big_table(kf, s) => {
                Some((*k, same_sections(kf, s)))
            }
            _ => None,
        };
        match reference {
            None => {
                let read = s.cilium.as_ref().and_then(|c| c.ct_read_ns);
                if self.every == 1 && read.is_some() && read == self.ct_written {
                    // The table an earlier line carries (the collector passes it on between
                    // reads of the CT maps): left out, and given back by the reader
                    // ([`fill_conntrack_forward`]). Hundreds of MB a line on a full node.
                    serde_json::to_writer(&mut self.w, &without_conntrack(s))?;
                } else {
                    serde_json::to_writer(&mut self.w, s)?;
                    self.ct_written = read;
                }
                // Only compact recordings compare against it: a complete-lines recording
                // would copy every snapshot (hundreds of MB with a big conntrack table) for nothing.
                if self.every > 1 {
                    self.keyframe = Some((self.line, s.clone()));
                }
            }
            Some((keyframe, same)) => self.write_delta(s, keyframe, &same)?,
        }
        self.w.write_all(b"\n")?;
        self.w.flush()
    }

    fn write_delta(&mut self, s: &Snapshot, keyframe: usize, same: &[&str]) -> std::io::Result<()> {
        let w = &mut self.w;
        let line_ref = LineRef {
            keyframe,
            same: same.iter().map(|n| n.to_string()).collect(),
        };
        w.write_all(b"{\"schema\":")?;
        serde_json::to_writer(&mut *w, &s.schema)?;
        w.write_all(b",\"taken_at\":")?;
        serde_json::to_writer(&mut *w, &s.taken_at)?;
        write!(
            w,
            ",\"monotonic_ns\":{},\"boottime_ns\":{},\"recording\":",
            s.monotonic_ns, s.boottime_ns
        )?;
        serde_json::to_writer(&mut *w, &line_ref)?;
        macro_rules! put {
            ($($f:ident),*) => {
                $(
                    if !same.contains(&stringify!($f)) {
                        w.write_all(concat!(",\"", stringify!($f), "\":").as_bytes())?;
                        serde_json::to_writer(&mut *w, &s.$f)?;
                    }
                )*
            };
        }
        sections!(put);
        w.write_all(b"}")
    }

    /// The output (the ring takes each line out of a `Vec` before it goes to a file).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.w
    }

    pub fn into_inner(self) -> W {
        self.w
    }
}

/// Rebuilds lines that refer to a keyframe; the loader tells it where each complete line went.
#[derive(Default)]
pub struct Rebuilder {
    /// Line number of the last complete line and its index among the loaded snapshots.
    keyframe: Option<(usize, usize)>,
}

impl Rebuilder {
    /// A complete line `line` was loaded as `loaded[index]`.
    pub fn keyframe(&mut self, line: usize, index: usize) {
        self.keyframe = Some((line, index));
    }

    /// Index (as given to [`Rebuilder::keyframe`]) of the keyframe later lines are rebuilt from.
    pub fn keyframe_index(&self) -> Option<usize> {
        self.keyframe.map(|(_, i)| i)
    }

    /// Fill the sections `r` names from its keyframe, which `loaded` gives by its index. Err:
    /// why the line cannot be rebuilt.
    pub fn rebuild<'a>(
        &self,
        r: &LineRef,
        s: &mut Snapshot,
        loaded: impl FnOnce(usize) -> Option<&'a Snapshot>,
    ) -> Result<(), String> {
        let kf = match self.keyframe {
            Some((line, i)) if line == r.keyframe => loaded(i),
            _ => None,
        };
        let kf = match kf {
            Some(kf) => kf,
            None => {
                return Err(format!(
                    "rebuilt from its keyframe on line {}, which is missing or unreadable",
                    r.keyframe
                ))
            }
        };
        for name in &r.same {
            if !copy_section(name, kf, s) {
                return Err(format!("unknown section {name:?} in \"same\""));
            }
        }
        Ok(())
    }
}

/// Deserialises one snapshot (a file, or a line of a recording) straight into the typed
/// [`Snapshot`], with the line's `recording` object if it has one: no JSON tree is built. The
/// schema is checked as soon as it is read, so a line of another schema is not parsed further;
/// what it was is left in `schema` for the caller to report.
pub struct LineSeed<'a> {
    pub schema: &'a mut Option<String>,
}

impl<'de> serde::de::DeserializeSeed<'de> for LineSeed<'_> {
    type Value = (Snapshot, Option<LineRef>);
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for LineSeed<'_> {
    type Value = (Snapshot, Option<LineRef>);

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a dpscope snapshot object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        use serde::de::Error;
        let mut s = Snapshot::default();
        let mut line_ref = None;
        while let Some(key) = m.next_key::<String>()? {
            macro_rules! field {
                ($($f:ident),*) => {
                    match key.as_str() {
                        "schema" => {
                            let v: String = m.next_value()?;
                            let ok = v == super::SCHEMA;
                            *self.schema = Some(v.clone());
                            if !ok {
                                return Err(A::Error::custom(format!("schema {v:?}")));
                            }
                            s.schema = v;
                        }
                        "taken_at" => s.taken_at = m.next_value()?,
                        "monotonic_ns" => s.monotonic_ns = m.next_value()?,
                        "boottime_ns" => s.boottime_ns = m.next_value()?,
                        "recording" => line_ref = Some(m.next_value()?),
                        $(stringify!($f) => s.$f = m.next_value()?,)*
                        // Fields of a newer dpscope: ignored, as the derived reader did.
                        _ => {
                            m.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                };
            }
            sections!(field);
        }
        if self.schema.is_none() {
            return Err(A::Error::custom("no \"schema\" field"));
        }
        Ok((s, line_ref))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rich() -> Snapshot {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rich.json");
        let text = std::fs::read_to_string(path).unwrap();
        super::super::io::parse("rich", &text)
            .unwrap()
            .snapshots
            .remove(0)
    }

    #[test]
    fn the_section_list_is_every_serialised_field_below_the_header() {
        let v = serde_json::to_value(Snapshot::empty()).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        let header = ["schema", "taken_at", "monotonic_ns", "boottime_ns"];
        let mut want: Vec<&str> = header.to_vec();
        want.extend(section_names());
        assert_eq!(keys, want);
    }

    fn write_all(snaps: &[Snapshot], every: usize) -> String {
        let mut w = Writer::with_keyframe_every(Vec::new(), every);
        for s in snaps {
            w.write(s).unwrap();
        }
        String::from_utf8(w.into_inner()).unwrap()
    }

    fn series() -> Vec<Snapshot> {
        let base = rich();
        (0..7u64)
            .map(|i| {
                let mut s = base.clone();
                s.taken_at = format!("2026-11-21T10:00:0{i}Z");
                s.monotonic_ns += i * 1_000_000_000;
                s.programs[0].run_cnt += i * 10;
                if i >= 4 {
                    s.maps.pop();
                }
                s
            })
            .collect()
    }

    #[test]
    fn compact_lines_rebuild_to_exactly_what_was_recorded() {
        let snaps = series();
        let text = write_all(&snaps, 3);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 7);
        // Keyframes on lines 1, 4 and 7 are plain snapshots; the others omit what is unchanged.
        for (i, l) in lines.iter().enumerate() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let keyframe = i % 3 == 0;
            assert_eq!(v.get("recording").is_none(), keyframe, "line {}", i + 1);
            if !keyframe {
                assert_eq!(v["recording"]["keyframe"], (i / 3) * 3 + 1);
                assert!(v.get("links").is_none() && v.get("programs").is_some());
                assert!(l.len() < lines[0].len());
            }
        }
        let loaded = super::super::io::parse("rec.jsonl", &text).unwrap();
        assert!(loaded.skipped.is_empty());
        assert_eq!(loaded.snapshots, snaps);
    }

    #[test]
    fn a_corrupt_keyframe_costs_the_lines_that_refer_to_it_and_says_so() {
        let snaps = series();
        let text = write_all(&snaps, 3);
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        lines[3] = lines[3][..lines[3].len() / 2].to_string(); // keyframe on line 4
        let loaded = super::super::io::parse("rec.jsonl", &lines.join("\n")).unwrap();
        let skipped: Vec<usize> = loaded.skipped.iter().map(|(l, _)| *l).collect();
        assert_eq!(skipped, vec![4, 5, 6]);
        assert!(loaded.skipped[1].1.contains("keyframe on line 4"));
        assert_eq!(loaded.snapshots.len(), 4);
        assert_eq!(loaded.snapshots[3], snaps[6]);
        // A corrupt delta line costs only itself.
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        lines[1] = "{\"schema\": broken".into();
        let loaded = super::super::io::parse("rec.jsonl", &lines.join("\n")).unwrap();
        assert_eq!(loaded.skipped.len(), 1);
        assert_eq!(loaded.snapshots.len(), 6);
        assert_eq!(loaded.snapshots[1], snaps[2]);
    }

    #[test]
    fn a_new_big_conntrack_table_starts_a_keyframe_that_later_lines_share() {
        use crate::model::CtEntry;
        let table = |expires: i64| -> std::sync::Arc<Vec<CtEntry>> {
            std::sync::Arc::new(
                (0..KEYFRAME_CT_ENTRIES as i64)
                    .map(|i| CtEntry {
                        src_port: i as u16,
                        expires_in_s: expires + i,
                        ..Default::default()
                    })
                    .collect(),
            )
        };
        let (a, b) = (table(100), table(90));
        let mut snaps = series();
        // Read at line 1, passed on to line 3, read again for line 4, passed on to line 7.
        for (i, s) in snaps.iter_mut().enumerate() {
            s.conntrack = if i < 3 { a.clone() } else { b.clone() };
        }
        let text = write_all(&snaps, 60);
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let keyframe_of = |l: &serde_json::Value| l["recording"]["keyframe"].as_u64();
        let kf: Vec<Option<u64>> = lines.iter().map(keyframe_of).collect();
        assert_eq!(
            kf,
            vec![None, Some(1), Some(1), None, Some(4), Some(4), Some(4)]
        );
        // Only the keyframes carry the table.
        for (i, l) in lines.iter().enumerate() {
            assert_eq!(
                l.get("conntrack").is_some(),
                kf[i].is_none(),
                "line {}",
                i + 1
            );
        }
        let loaded = super::super::io::parse("rec.jsonl", &text).unwrap();
        assert_eq!(loaded.snapshots, snaps);
        // A small table that changes stays in the lines (no keyframe for it).
        let mut small = series();
        for (i, s) in small.iter_mut().enumerate() {
            s.conntrack = std::sync::Arc::new(vec![CtEntry {
                expires_in_s: i as i64,
                ..Default::default()
            }]);
        }
        let text = write_all(&small, 60);
        assert_eq!(
            text.lines()
                .filter(|l| !l.contains("\"recording\""))
                .count(),
            1
        );
    }

    #[test]
    fn complete_lines_carry_each_conntrack_read_once_and_load_with_it_on_every_line() {
        use crate::model::{CiliumInfo, CtEntry};
        let table = |n: i64| {
            std::sync::Arc::new(
                (0..3)
                    .map(|i| CtEntry {
                        expires_in_s: n + i,
                        ..Default::default()
                    })
                    .collect::<Vec<_>>(),
            )
        };
        let (a, b) = (table(100), table(50));
        let mut snaps = series();
        snaps.truncate(5);
        for (i, s) in snaps.iter_mut().enumerate() {
            // Read for line 1, passed on to 2 and 3, read again for line 4, passed on to 5.
            let (t, read) = if i < 3 { (&a, 1) } else { (&b, 3) };
            s.conntrack = t.clone();
            s.cilium = Some(CiliumInfo {
                ct_read_ns: Some(s.monotonic_ns - 1000 + read),
                ..Default::default()
            });
        }
        snaps[4].cilium.as_mut().unwrap().ct_read_ns = snaps[3].cilium.as_ref().unwrap().ct_read_ns;
        snaps[1].cilium.as_mut().unwrap().ct_read_ns = snaps[0].cilium.as_ref().unwrap().ct_read_ns;
        snaps[2].cilium.as_mut().unwrap().ct_read_ns = snaps[0].cilium.as_ref().unwrap().ct_read_ns;
        let text = write_all(&snaps, 1);
        let carried: Vec<usize> = text
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                assert!(v.get("recording").is_none(), "every line complete");
                v["conntrack"].as_array().unwrap().len()
            })
            .collect();
        assert_eq!(carried, vec![3, 0, 0, 3, 0]);
        let loaded = super::super::io::parse("rec.jsonl", &text).unwrap();
        assert_eq!(loaded.snapshots, snaps);
        assert!(std::sync::Arc::ptr_eq(
            &loaded.snapshots[3].conntrack,
            &loaded.snapshots[4].conntrack
        ));
    }
}
