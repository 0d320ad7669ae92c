//! The flight recorder's ring: a recording kept on the node within a fixed number of bytes,
//! newest kept (`dpscope record --ring-size MIB -o DIR`).
//!
//! The ring is a directory of segment files `seg-<16 digits>.jsonl`, numbered in the order they
//! were started. Each segment is a compact recording of its own (docs/snapshot.md): its first
//! line is a keyframe, its other lines refer to keyframes in the same file. So every segment
//! loads on its own, and a segment cut at any byte (a node that lost power, a copy taken while
//! the recorder writes) still loads up to the cut.
//!
//! The bound: the bytes of all segments never exceed the ring size. Before a line is written,
//! a full segment is closed (a segment holds at most an eighth of the ring), and the oldest
//! segments are deleted until the new line fits. A single snapshot larger than the whole ring
//! is not written (and the recorder says so) rather than breaking the bound.
//!
//! Reading: [`load`] (every segment, oldest first) and [`export`] (one compact recording of the
//! snapshots taken since a time, written segment by segment, for `dpscope history`).

use crate::model::io::{self as snapio, LoadError, Loaded};
use crate::model::recording::{Writer, KEYFRAME_EVERY};
use crate::model::Snapshot;
use crate::safe_fs;
use crate::sanitize::JsonSafe;
use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::path::Path;

/// Segments per ring: deleting the oldest frees an eighth of the bound.
pub const SEGMENTS: u64 = 8;

const PREFIX: &str = "seg-";
const SUFFIX: &str = ".jsonl";

/// The segment number of a file name this module wrote (`seg-0000000000000042.jsonl`).
pub fn segment_number(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    if digits.len() != 16 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn segment_name(n: u64) -> String {
    format!("{PREFIX}{n:016}{SUFFIX}")
}

/// The ring's segments on disk, oldest first: (number, bytes). Other files are left alone.
pub fn segments(dir: &Path) -> std::io::Result<Vec<(u64, u64)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let Some(n) = e.file_name().to_str().and_then(segment_number) else {
            continue;
        };
        // symlink_metadata: a symlink planted in the ring is neither followed nor counted.
        let md = std::fs::symlink_metadata(e.path())?;
        if md.file_type().is_file() {
            out.push((n, md.len()));
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// The segments of a ring directory opened for writing, oldest first: (number, bytes).
fn segments_of(dir: &safe_fs::Dir) -> std::io::Result<Vec<(u64, u64)>> {
    let mut out: Vec<(u64, u64)> = dir
        .regular_files()?
        .into_iter()
        .filter_map(|(name, len)| Some((segment_number(name.to_str()?)?, len)))
        .collect();
    out.sort_unstable();
    Ok(out)
}

fn remove_segment(dir: &safe_fs::Dir, n: u64) -> std::io::Result<()> {
    dir.remove(&segment_name(n)).map_err(std::io::Error::other)
}

/// What happened to one snapshot given to [`Ring::push`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// Appended to the current segment.
    Appended,
    /// Started a new segment (a keyframe), after deleting this many old segments.
    Rotated { deleted: usize },
    /// Not written: this snapshot alone is larger than the ring (bytes).
    TooBig(u64),
}

/// Lines are made in memory first (to know their size), DEL, C1 and bidi controls written as
/// `\u` escapes like every JSON dpscope writes (`sanitize::JsonSafe`).
type LineWriter = Writer<JsonSafe<Vec<u8>>>;

struct Current {
    number: u64,
    file: File,
    writer: LineWriter,
}

/// A ring being written.
pub struct Ring {
    /// The directory, opened once and checked (`safe_fs`): segments are created and removed
    /// relative to it, never through a symlink, under sudo as the invoking user.
    dir: safe_fs::Dir,
    limit: u64,
    segment_limit: u64,
    /// Closed and current segments on disk, oldest first: (number, bytes).
    on_disk: VecDeque<(u64, u64)>,
    current: Option<Current>,
    next_number: u64,
}

impl Ring {
    /// Open (or create, mode 0700) the ring directory `dir` with a bound of `limit` bytes. A ring
    /// left by an earlier recorder is kept and continued (a new segment is started), trimmed to
    /// the bound if the bound shrank. The directory is checked as the dump directory is
    /// ([`safe_fs::Dir::open`]): not a symlink, the writer's or root's, not writable by others.
    pub fn open(dir: &Path, limit: u64) -> std::io::Result<Ring> {
        if limit == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the ring size must be more than 0 bytes",
            ));
        }
        let invalid = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, m);
        let writer = safe_fs::Writer::current().map_err(invalid)?;
        let dir = safe_fs::Dir::open(dir, &writer, true).map_err(invalid)?;
        let on_disk: VecDeque<(u64, u64)> = segments_of(&dir)?.into();
        let next_number = on_disk.back().map_or(1, |(n, _)| n + 1);
        let mut ring = Ring {
            dir,
            limit,
            segment_limit: (limit / SEGMENTS).max(1),
            on_disk,
            current: None,
            next_number,
        };
        ring.trim_to(limit)?;
        Ok(ring)
    }

    /// Bytes of all segments on disk.
    pub fn bytes(&self) -> u64 {
        self.on_disk.iter().map(|(_, b)| b).sum()
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Delete the oldest segments until at most `room` bytes are used; the number deleted.
    fn trim_to(&mut self, room: u64) -> std::io::Result<usize> {
        let mut deleted = 0;
        while self.bytes() > room {
            let Some((n, _)) = self.on_disk.pop_front() else {
                break;
            };
            if self.current.as_ref().is_some_and(|c| c.number == n) {
                self.current = None;
            }
            remove_segment(&self.dir, n)?;
            deleted += 1;
        }
        Ok(deleted)
    }

    /// Append one snapshot, keeping the ring within its bound.
    pub fn push(&mut self, s: &Snapshot) -> std::io::Result<Pushed> {
        if let Some(cur) = self.current.as_mut() {
            cur.writer.write(s)?;
            let line = std::mem::take(cur.writer.get_mut().get_mut());
            let len = line.len() as u64;
            let used = self.on_disk.back().map_or(0, |(_, b)| *b);
            if used + len <= self.segment_limit {
                // The segment grows: older segments make room first (never the current one;
                // when it alone leaves no room, a new segment starts below).
                while self.bytes() + len > self.limit && self.on_disk.len() > 1 {
                    if let Some((n, _)) = self.on_disk.pop_front() {
                        remove_segment(&self.dir, n)?;
                    }
                }
            }
            if used + len <= self.segment_limit && self.bytes() + len <= self.limit {
                let cur = self
                    .current
                    .as_mut()
                    .ok_or_else(|| std::io::Error::other("the ring's current segment vanished"))?;
                cur.file.write_all(&line)?;
                if let Some(last) = self.on_disk.back_mut() {
                    last.1 += line.len() as u64;
                }
                return Ok(Pushed::Appended);
            }
        }
        // A new segment, starting with a keyframe.
        self.current = None;
        let mut writer: LineWriter =
            Writer::with_keyframe_every(JsonSafe::new(Vec::new()), KEYFRAME_EVERY);
        writer.write(s)?;
        let line = std::mem::take(writer.get_mut().get_mut());
        let len = line.len() as u64;
        if len > self.limit {
            return Ok(Pushed::TooBig(len));
        }
        let deleted = self.trim_to(self.limit - len)?;
        let number = self.next_number;
        self.next_number += 1;
        let mut file = self
            .dir
            .create_new(&segment_name(number))
            .map_err(std::io::Error::other)?;
        self.on_disk.push_back((number, 0));
        file.write_all(&line)?;
        if let Some(last) = self.on_disk.back_mut() {
            last.1 = len;
        }
        self.current = Some(Current {
            number,
            file,
            writer,
        });
        Ok(Pushed::Rotated { deleted })
    }
}

/// Every snapshot in the ring, oldest first (the newest within
/// [`snapio::MAX_RECORDING_BYTES`] over all segments, see [`snapio::Window`]). A segment
/// that cannot be read at all (empty, cut inside its first keyframe) is reported in `skipped`
/// with its name, not fatal; a ring with no readable snapshot is an error.
pub fn load(dir: &Path) -> Result<Loaded, LoadError> {
    let mut win = snapio::Window::new(snapio::MAX_RECORDING_BYTES);
    let mut skipped = Vec::new();
    let segs = segments(dir).map_err(|source| LoadError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    for (n, _) in segs {
        let path = dir.join(segment_name(n));
        match snapio::load_into(&path, &mut win) {
            Ok(s) => skipped.extend(s),
            Err(e @ LoadError::Schema { .. }) => return Err(e),
            // Deleted by the recorder meanwhile: the ring moved on.
            Err(LoadError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {}
            Err(LoadError::Empty { .. }) => {}
            Err(e) => skipped.push((0, e.to_string())),
        }
    }
    let all = win.into_loaded(skipped);
    if all.snapshots.is_empty() {
        return Err(LoadError::Empty {
            path: dir.display().to_string(),
        });
    }
    Ok(all)
}

/// Whether `dir` is a ring: a directory holding at least one segment file.
pub fn is_ring(dir: &Path) -> bool {
    dir.is_dir() && segments(dir).is_ok_and(|s| !s.is_empty())
}

fn each_segment(
    dir: &Path,
    mut f: impl FnMut(Loaded) -> Result<(), LoadError>,
) -> Result<(), LoadError> {
    let segs = segments(dir).map_err(|source| LoadError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    for (n, _) in segs {
        let path = dir.join(segment_name(n));
        match snapio::load(&path) {
            Ok(loaded) => f(loaded)?,
            Err(e @ LoadError::Schema { .. }) => return Err(e),
            // Deleted by the recorder meanwhile: the ring moved on.
            Err(LoadError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {}
            Err(LoadError::Empty { .. }) => {}
            Err(e) => f(Loaded {
                snapshots: Vec::new(),
                skipped: vec![(0, e.to_string())],
                dropped: 0,
            })?,
        }
    }
    Ok(())
}

/// Write the ring's snapshots taken at or after `since` (RFC 3339 times compared as instants;
/// all when `None`) to `out` as one compact recording (controls escaped as in every JSON
/// dpscope writes), segment by segment (memory: one
/// segment). Returns (snapshots written, problems met). A snapshot whose time cannot be read
/// is kept.
pub fn export<W: Write>(
    dir: &Path,
    since: Option<time::OffsetDateTime>,
    out: W,
) -> Result<(usize, Vec<String>), ExportError> {
    let mut w = Writer::with_keyframe_every(JsonSafe::new(out), KEYFRAME_EVERY);
    let mut problems = Vec::new();
    let mut io_err = None;
    each_segment(dir, |loaded| {
        problems.extend(loaded.skipped.into_iter().map(|(_, why)| why));
        for s in loaded.snapshots {
            if since.is_some_and(|t| taken_at(&s).is_some_and(|at| at < t)) {
                continue;
            }
            if let Err(e) = w.write(&s) {
                io_err = Some(e);
                return Err(LoadError::Empty {
                    path: String::new(),
                });
            }
        }
        Ok(())
    })
    .map_err(|e| match io_err.take() {
        Some(io) => ExportError::Write(io),
        None => ExportError::Load(e),
    })?;
    Ok((w.lines(), problems))
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("reading the ring")]
    Load(#[source] LoadError),
    #[error("writing the recording")]
    Write(#[source] std::io::Error),
}

/// When a snapshot was taken, if its `taken_at` is RFC 3339.
pub fn taken_at(s: &Snapshot) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(&s.taken_at, &time::format_description::well_known::Rfc3339).ok()
}

/// `30m`, `2h`, `90s`, `1h30m`, `1d`: a span of time; None for anything else.
pub fn parse_span(text: &str) -> Option<std::time::Duration> {
    let mut total: u64 = 0;
    let mut num: Option<u64> = None;
    for c in text.trim().chars() {
        if let Some(d) = c.to_digit(10) {
            num = Some(num.unwrap_or(0).checked_mul(10)?.checked_add(d as u64)?);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        total = total.checked_add(num.take()?.checked_mul(unit)?)?;
    }
    if num.is_some() || total == 0 {
        return None;
    }
    Some(std::time::Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Program;

    fn snap(i: u64, programs: usize) -> Snapshot {
        let mut s = Snapshot::empty();
        s.taken_at = format!("2026-11-21T10:{:02}:{:02}Z", (i / 60) % 60, i % 60);
        s.monotonic_ns = i * 1_000_000_000;
        s.node.hostname = "node-a".into();
        for p in 0..programs {
            s.programs.push(Program {
                id: p as u32 + 1,
                name: format!("prog_{p}"),
                prog_type: "sched_cls".into(),
                tag: "0123456789abcdef".into(),
                run_cnt: i * 7 + p as u64,
                ..Default::default()
            });
        }
        // Changes only now and then: most lines are small deltas.
        s.node.kernel_release = format!("6.18.{}", i / 25);
        s
    }

    #[test]
    fn segment_names_round_trip_and_strangers_are_ignored() {
        assert_eq!(segment_number(&segment_name(42)), Some(42));
        for other in [
            "seg-1.jsonl",
            "seg-000000000000004x.jsonl",
            "x.jsonl",
            "seg-0000000000000001.json",
        ] {
            assert_eq!(segment_number(other), None, "{other}");
        }
    }

    #[test]
    fn spans() {
        assert_eq!(parse_span("30m").unwrap().as_secs(), 1800);
        assert_eq!(parse_span("1h30m").unwrap().as_secs(), 5400);
        assert_eq!(parse_span("90s").unwrap().as_secs(), 90);
        assert_eq!(parse_span("2d").unwrap().as_secs(), 172_800);
        for bad in ["", "30", "m", "3x", "-5m", "0m", "99999999999999999999h"] {
            assert_eq!(parse_span(bad), None, "{bad}");
        }
    }

    #[test]
    fn stays_within_its_bound_and_keeps_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let ring_dir = dir.path().join("ring");
        let limit = 64 * 1024;
        let mut ring = Ring::open(&ring_dir, limit).unwrap();
        let mut rotations = 0;
        let n = 3000;
        for i in 0..n {
            match ring.push(&snap(i, 12)).unwrap() {
                Pushed::Rotated { .. } => rotations += 1,
                Pushed::Appended => {}
                Pushed::TooBig(b) => panic!("snapshot of {b} bytes too big"),
            }
            let on_disk: u64 = segments(&ring_dir).unwrap().iter().map(|s| s.1).sum();
            assert!(on_disk <= limit, "{on_disk} > {limit} after {i}");
            assert_eq!(on_disk, ring.bytes());
        }
        assert!(
            rotations > SEGMENTS as usize * 2,
            "rotated {rotations} times"
        );
        let loaded = load(&ring_dir).unwrap();
        assert!(loaded.skipped.is_empty(), "{:?}", loaded.skipped);
        // Newest kept, contiguous, oldest gone; at least 7/8 of the ring is in use.
        let last = loaded.snapshots.last().unwrap();
        assert_eq!(last, &snap(n - 1, 12));
        let first = loaded.snapshots.len() as u64;
        for (k, s) in loaded.snapshots.iter().enumerate() {
            assert_eq!(s, &snap(n - first + k as u64, 12));
        }
        assert!(first < n);
        assert!(ring.bytes() >= limit * (SEGMENTS - 1) / SEGMENTS - limit / SEGMENTS);
    }

    #[test]
    fn appends_never_push_the_ring_past_its_bound_whatever_the_line_sizes() {
        // Lines of varying size (a program count that wanders), so a segment's growth after
        // its keyframe, not only new segments, meets the bound.
        let dir = tempfile::tempdir().unwrap();
        for limit in [9_000u64, 20_000, 50_000] {
            let ring_dir = dir.path().join(limit.to_string());
            let mut ring = Ring::open(&ring_dir, limit).unwrap();
            let mut seed = limit;
            for i in 0..600 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let programs = 1 + (seed >> 59) as usize;
                ring.push(&snap(i, programs)).unwrap();
                let on_disk: u64 = segments(&ring_dir).unwrap().iter().map(|s| s.1).sum();
                assert!(on_disk <= limit, "{on_disk} > {limit} after {i}");
            }
            let loaded = load(&ring_dir).unwrap();
            assert_eq!(
                loaded.snapshots.last().unwrap().monotonic_ns,
                599 * 1_000_000_000
            );
        }
    }

    #[test]
    fn a_later_recorder_continues_the_ring_and_a_smaller_bound_trims_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut ring = Ring::open(dir.path(), 32 * 1024).unwrap();
        for i in 0..200 {
            ring.push(&snap(i, 8)).unwrap();
        }
        drop(ring);
        std::fs::write(dir.path().join("notes.txt"), "not ours").unwrap();
        let before = segments(dir.path()).unwrap();
        let mut ring = Ring::open(dir.path(), 32 * 1024).unwrap();
        ring.push(&snap(200, 8)).unwrap();
        let after = segments(dir.path()).unwrap();
        assert_eq!(after.last().unwrap().0, before.last().unwrap().0 + 1);
        let loaded = load(dir.path()).unwrap();
        assert_eq!(loaded.snapshots.last().unwrap(), &snap(200, 8));
        drop(ring);
        let ring = Ring::open(dir.path(), 8 * 1024).unwrap();
        assert!(ring.bytes() <= 8 * 1024);
        assert!(dir.path().join("notes.txt").exists());
    }

    #[test]
    fn segments_follow_the_directory_opened_not_a_path_swapped_for_a_symlink() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let ring_dir = dir.path().join("ring");
        let mut ring = Ring::open(&ring_dir, 8 * 1024).unwrap();
        ring.push(&snap(0, 4)).unwrap();
        // Another directory holding files named like segments (someone else's), and the
        // ring's path swapped for a symlink to it while the recorder runs.
        let other = dir.path().join("other");
        std::fs::create_dir(&other).unwrap();
        for n in 1..=40 {
            std::fs::write(other.join(segment_name(n)), "theirs\n").unwrap();
        }
        let moved = dir.path().join("moved");
        std::fs::rename(&ring_dir, &moved).unwrap();
        std::os::unix::fs::symlink(&other, &ring_dir).unwrap();
        for i in 1..400 {
            ring.push(&snap(i, 4)).unwrap();
        }
        // Nothing created or deleted in the other directory; the ring went on where it was.
        let mut names: Vec<String> = std::fs::read_dir(&other)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names.len(), 40, "{names:?}");
        for n in 1..=40 {
            let t = std::fs::read_to_string(other.join(segment_name(n))).unwrap();
            assert_eq!(t, "theirs\n");
        }
        let loaded = load(&moved).unwrap();
        assert_eq!(loaded.snapshots.last().unwrap(), &snap(399, 4));
        let on_disk: u64 = segments(&moved).unwrap().iter().map(|s| s.1).sum();
        assert!(on_disk <= 8 * 1024);
        // New segments are private.
        for (n, _) in segments(&moved).unwrap() {
            let m = std::fs::metadata(moved.join(segment_name(n))).unwrap();
            assert_eq!(m.permissions().mode() & 0o777, 0o600);
        }
        // The symlink itself is refused as a ring directory.
        let e = Ring::open(&ring_dir, 8 * 1024).err().unwrap();
        assert!(e.to_string().contains("symlink"), "{e}");
    }

    #[test]
    fn a_ring_directory_others_can_write_to_is_refused_and_a_new_one_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = Ring::open(&open, 8 * 1024).err().unwrap();
        assert!(e.to_string().contains("sticky"), "{e}");
        assert!(segments(&open).unwrap().is_empty());
        let new = dir.path().join("a/b");
        Ring::open(&new, 8 * 1024)
            .unwrap()
            .push(&snap(0, 1))
            .unwrap();
        for d in [dir.path().join("a"), new] {
            let m = std::fs::metadata(&d).unwrap();
            assert_eq!(m.permissions().mode() & 0o777, 0o700, "{}", d.display());
        }
    }

    #[test]
    fn segments_and_history_escape_c1_and_bidi_controls_and_stay_lossless() {
        let dir = tempfile::tempdir().unwrap();
        let mut ring = Ring::open(dir.path(), 64 * 1024).unwrap();
        let evil = "x\u{9b}31m\u{202e}gnp\u{7f}\u{1b}[2J";
        let snaps: Vec<Snapshot> = (0..3)
            .map(|i| {
                let mut s = snap(i, 2);
                s.programs[0].name = format!("{evil}{i}");
                s.node.hostname = evil.into();
                s
            })
            .collect();
        for s in &snaps {
            ring.push(s).unwrap();
        }
        let mut out = Vec::new();
        export(dir.path(), None, &mut out).unwrap();
        let (n, _) = segments(dir.path()).unwrap()[0];
        let seg = std::fs::read(dir.path().join(segment_name(n))).unwrap();
        for (what, bytes) in [("segment", &seg), ("history", &out)] {
            let text = std::str::from_utf8(bytes).unwrap();
            let raw: Vec<char> = text
                .chars()
                .filter(|&c| c != '\n' && crate::sanitize::is_unsafe(c))
                .collect();
            assert!(raw.is_empty(), "{what}: raw {raw:?}");
            assert!(text.contains("\\u009b"), "{what}: {text}");
            assert_eq!(
                snapio::parse(what, text).unwrap().snapshots,
                snaps,
                "{what}"
            );
        }
    }

    #[test]
    fn a_snapshot_bigger_than_the_ring_is_refused_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut ring = Ring::open(dir.path(), 2048).unwrap();
        assert!(matches!(
            ring.push(&snap(0, 200)).unwrap(),
            Pushed::TooBig(_)
        ));
        assert_eq!(ring.bytes(), 0);
        assert!(matches!(
            ring.push(&snap(1, 1)).unwrap(),
            Pushed::Rotated { .. }
        ));
        assert!(ring.bytes() <= 2048);
    }

    #[test]
    fn a_ring_cut_at_any_byte_replays_up_to_the_cut() {
        let dir = tempfile::tempdir().unwrap();
        let mut ring = Ring::open(dir.path(), 1 << 20).unwrap();
        let snaps: Vec<Snapshot> = (0..8).map(|i| snap(i, 2)).collect();
        for s in &snaps {
            ring.push(s).unwrap();
        }
        let segs = segments(dir.path()).unwrap();
        assert_eq!(segs.len(), 1);
        let path = dir.path().join(segment_name(segs[0].0));
        let full = std::fs::read(&path).unwrap();
        let ends: Vec<usize> = full
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i)
            .collect();
        let expect = |cut: usize| ends.iter().filter(|&&e| e <= cut).count();
        // Every byte, through the parser a segment is read with (in memory: fast).
        for cut in 0..=full.len() {
            let text = String::from_utf8_lossy(&full[..cut]);
            let whole = expect(cut);
            match snapio::parse("seg", &text) {
                Ok(l) => assert_eq!(l.snapshots, snaps[..whole], "cut at {cut}"),
                Err(e) => assert_eq!(whole, 0, "cut at {cut}: {e}"),
            }
        }
        // And the ring on disk, cut at a spread of bytes (every line end and its neighbours).
        let cuts = ends
            .iter()
            .flat_map(|&e| [e.saturating_sub(1), e, e + 1])
            .chain([0, 1, full.len()]);
        for cut in cuts.filter(|&c| c <= full.len()) {
            std::fs::write(&path, &full[..cut]).unwrap();
            let whole = expect(cut);
            match load(dir.path()) {
                Ok(l) => assert_eq!(l.snapshots, snaps[..whole], "cut at {cut}"),
                Err(e) => assert_eq!(whole, 0, "cut at {cut}: {e}"),
            }
        }
    }

    #[test]
    fn export_since_writes_one_recording_of_the_newer_snapshots() {
        let dir = tempfile::tempdir().unwrap();
        let mut ring = Ring::open(dir.path(), 64 * 1024).unwrap();
        let snaps: Vec<Snapshot> = (0..400).map(|i| snap(i, 4)).collect();
        for s in &snaps {
            ring.push(s).unwrap();
        }
        assert!(segments(dir.path()).unwrap().len() > 2);
        let since = taken_at(&snaps[390]);
        let mut out = Vec::new();
        let (n, problems) = export(dir.path(), since, &mut out).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(n, 10);
        let text = String::from_utf8(out).unwrap();
        let loaded = snapio::parse("history", &text).unwrap();
        assert_eq!(loaded.snapshots, snaps[390..]);
        // Everything still in the ring, as one file, equals the ring loaded segment by segment.
        let mut all = Vec::new();
        export(dir.path(), None, &mut all).unwrap();
        let whole = snapio::parse("history", &String::from_utf8(all).unwrap()).unwrap();
        assert_eq!(whole.snapshots, load(dir.path()).unwrap().snapshots);
    }
}
