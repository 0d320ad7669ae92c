//! Reading and writing snapshot files: one JSON object (`snapshot`) or JSON lines (`record`).
//!
//! Loading is strict about the schema name and lenient about missing fields (older files load),
//! and every failure is a typed error with a one-line message naming the file and the problem.
//!
//! Memory stays bounded on any input: the file is never read whole, nor parsed into a JSON
//! tree. It is deserialised straight into the typed [`Snapshot`] from a buffered reader, line by
//! line for a recording, through [`Capped`], which refuses (as it reads, before anything is
//! allocated for them) more objects in one pane than [`max_objects`] allows, nested arrays
//! longer than [`MAX_NESTED`], strings longer than [`MAX_STRING`] bytes, nesting deeper than
//! [`MAX_DEPTH`], and objects that would take more than [`MAX_AMPLIFICATION`] times their text
//! in memory. Past a cap, loading stops with [`LoadError::TooBig`] (exit 2). A recording keeps
//! its newest snapshots within [`MAX_RECORDING_BYTES`] in all ([`Window`]).

use super::{Snapshot, SCHEMA};
use std::io::{BufRead, Read};
use std::path::Path;

/// Longest string accepted in a snapshot file, in bytes as written.
pub const MAX_STRING: usize = 16 << 20;
/// Most elements of an array below a pane (backends of a service, slots of a prog array,
/// instructions of a program...).
pub const MAX_NESTED: usize = 1 << 20;
/// Deepest nesting of arrays and objects.
pub const MAX_DEPTH: usize = 32;

/// Memory a snapshot may take beyond [`MAX_AMPLIFICATION`] times its text: what small files
/// need whatever their shape.
pub const AMPLIFICATION_SLACK: usize = 64 << 20;
/// The most memory one byte of snapshot text may become. A snapshot dpscope wrote takes less
/// memory than its text (every field is written, with its name); a flood of objects without
/// fields (`{},{},…`: 3 bytes of text, a 288-byte conntrack entry) is refused by this rule
/// long before the per-pane caps ([`max_objects`]) would stop it.
pub const MAX_AMPLIFICATION: usize = 4;

/// Bytes in memory of one element of an array below a pane (the largest of those types).
const NESTED_ELEMENT_BYTES: usize = 64;

/// Bytes in memory of one object of a pane's array: the size of its type.
pub fn object_bytes(section: &str) -> usize {
    use super::*;
    use std::mem::size_of;
    match section {
        "programs" => size_of::<Program>(),
        "maps" => size_of::<MapInfo>(),
        "attachments" => size_of::<Attachment>(),
        "links" => size_of::<LinkInfo>(),
        "tailcalls" => size_of::<TailCallMap>(),
        "services" => size_of::<Service>(),
        "conntrack" => size_of::<CtEntry>(),
        "identities" => size_of::<IdentityEntry>(),
        "endpoints" => size_of::<Endpoint>(),
        "policy" => size_of::<PolicyEntry>(),
        "metrics" => size_of::<MetricEntry>(),
        "retransmits" => size_of::<Retransmit>(),
        "drops" => size_of::<Drop>(),
        "denials" => size_of::<Denial>(),
        "xdp_errors" => size_of::<XdpEvent>(),
        "flows" => size_of::<Flow>(),
        _ => NESTED_ELEMENT_BYTES,
    }
}

/// Most objects one pane of one snapshot may hold: well above what a real node has (a Cilium
/// node at its configured map limits), far below what exhausts memory.
pub fn max_objects(section: &str) -> usize {
    match section {
        "conntrack" => 16_000_000,
        "identities" | "policy" => 8_000_000,
        "services" | "metrics" | "retransmits" | "drops" | "denials" | "flows" | "xdp_errors" => {
            1_000_000
        }
        _ => 100_000,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is empty: not a dpscope snapshot")]
    Empty { path: String },
    #[error("{path}: not a dpscope snapshot (line {line}: {msg})")]
    Corrupt {
        path: String,
        line: usize,
        msg: String,
    },
    #[error("{path}: unsupported snapshot schema {found:?} (this dpscope reads {SCHEMA})")]
    Schema { path: String, found: String },
    #[error("{path}: line {line}: {what}; refusing to load it")]
    TooBig {
        path: String,
        line: usize,
        what: String,
    },
}

/// Most memory ([`memory`]) all the snapshots of one loaded recording take together: 2 GiB, a
/// dozen snapshots of a half-million-entry conntrack table. A longer recording keeps its newest
/// snapshots within this budget ([`Window`]) and says how many older ones it left out
/// ([`Loaded::dropped`]). A single snapshot is always kept, whatever its size (its own caps
/// bound it).
pub const MAX_RECORDING_BYTES: usize = 2 << 30;

/// A file opened for replay: one snapshot or a recording of several, oldest first.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub snapshots: Vec<Snapshot>,
    /// Lines of a recording that could not be read (line number, reason); the rest still opened.
    pub skipped: Vec<(usize, String)>,
    /// Older snapshots left out to keep the recording within [`MAX_RECORDING_BYTES`].
    pub dropped: usize,
}

impl Loaded {
    /// "kept the newest 12 snapshots; the 30 before them were left out: ...", or `None` when the
    /// whole recording was kept.
    pub fn dropped_summary(&self) -> Option<String> {
        (self.dropped > 0).then(|| {
            format!(
                "kept the newest {} snapshot(s) of the recording; the {} before them were left out (all of them would take more than {} MiB, the most dpscope keeps in memory)",
                self.snapshots.len(),
                self.dropped,
                MAX_RECORDING_BYTES >> 20
            )
        })
    }

    /// "skipped 2 unreadable line(s): 3, 7 (line 3: ...)", or `None` when none was skipped.
    pub fn skipped_summary(&self) -> Option<String> {
        let (first_line, first_why) = self.skipped.first()?;
        const LIST: usize = 20;
        let mut lines: Vec<String> = self
            .skipped
            .iter()
            .take(LIST)
            .map(|(l, _)| l.to_string())
            .collect();
        if self.skipped.len() > LIST {
            lines.push("…".into());
        }
        Some(format!(
            "skipped {} unreadable line(s) of the recording: {} (line {first_line}: {first_why})",
            self.skipped.len(),
            lines.join(", ")
        ))
    }
}

// ---- the window of kept snapshots ----

/// Memory one snapshot takes, as counted against [`MAX_RECORDING_BYTES`]: the rows of every
/// pane at the size of their type, the elements of the lists below them, and the text of the
/// details (instructions, map entries). Strings in rows are not counted (most are short).
pub fn memory(s: &Snapshot) -> usize {
    let d = &s.details;
    let rows = |name: &str, n: usize| n * object_bytes(name);
    let nested = |n: usize| n * NESTED_ELEMENT_BYTES;
    std::mem::size_of::<Snapshot>()
        + rows("programs", s.programs.len())
        + rows("maps", s.maps.len())
        + rows("attachments", s.attachments.len())
        + rows("links", s.links.len())
        + nested(d.programs.iter().map(|p| 1 + p.insns.len()).sum::<usize>())
        + d.programs
            .iter()
            .flat_map(|p| &p.insns)
            .map(String::len)
            .sum::<usize>()
        + nested(d.maps.iter().map(|m| 1 + m.entries.len()).sum::<usize>())
        + d.maps
            .iter()
            .flat_map(|m| &m.entries)
            .map(|e| e.key.len() + e.value.len())
            .sum::<usize>()
        + rows("tailcalls", s.tailcalls.len())
        + nested(s.tailcalls.iter().map(|t| t.slots.len()).sum::<usize>())
        + rows("services", s.services.len())
        + nested(s.services.iter().map(|v| v.backends.len()).sum::<usize>())
        + rows("conntrack", s.conntrack.len())
        + rows("identities", s.identities.len())
        + rows("endpoints", s.endpoints.len())
        + rows("policy", s.policy.len())
        + rows("metrics", s.metrics.len())
        + rows("retransmits", s.retransmits.len())
        + rows("drops", s.drops.len())
        + rows("denials", s.denials.len())
        + rows("xdp_errors", s.xdp_errors.len())
        + rows("flows", s.flows.len())
}

/// The snapshots of a recording being loaded, newest kept within a budget of bytes (at least
/// the newest snapshot, whatever its size). Indices are absolute: the n-th snapshot pushed is
/// `n` whether or not older ones were left out since.
pub struct Window {
    snaps: std::collections::VecDeque<(Snapshot, usize)>,
    total: usize,
    budget: usize,
    /// Absolute index of `snaps[0]` (= snapshots left out so far).
    dropped: usize,
    /// The keyframe later lines are rebuilt from, kept after it left the window.
    keyframe: Option<(usize, Snapshot)>,
}

impl Window {
    pub fn new(budget: usize) -> Window {
        Window {
            snaps: Default::default(),
            total: 0,
            budget,
            dropped: 0,
            keyframe: None,
        }
    }

    /// Absolute index the next snapshot pushed gets.
    pub fn next_index(&self) -> usize {
        self.dropped + self.snaps.len()
    }

    /// The snapshot with absolute index `i`, if still held.
    pub fn get(&self, i: usize) -> Option<&Snapshot> {
        match &self.keyframe {
            Some((k, s)) if *k == i => Some(s),
            _ => self.snaps.get(i.checked_sub(self.dropped)?).map(|(s, _)| s),
        }
    }

    /// Add the newest snapshot. `keyframe` is the absolute index of the snapshot that lines
    /// after this one may be rebuilt from: held (outside the budget) even when it leaves the
    /// window.
    pub fn push(&mut self, s: Snapshot, keyframe: Option<usize>) {
        if self.keyframe.as_ref().map(|(k, _)| Some(*k)) != Some(keyframe) {
            self.keyframe = None;
        }
        let n = memory(&s);
        self.total += n;
        self.snaps.push_back((s, n));
        while self.total > self.budget && self.snaps.len() > 1 {
            let Some((old, n)) = self.snaps.pop_front() else {
                break;
            };
            self.total -= n;
            if Some(self.dropped) == keyframe {
                self.keyframe = Some((self.dropped, old));
            }
            self.dropped += 1;
        }
    }

    /// The kept snapshots, oldest first, with the lines skipped while loading them.
    pub fn into_loaded(self, skipped: Vec<(usize, String)>) -> Loaded {
        let mut snapshots: Vec<Snapshot> = self.snaps.into_iter().map(|(s, _)| s).collect();
        super::recording::fill_conntrack_forward(&mut snapshots);
        Loaded {
            snapshots,
            skipped,
            dropped: self.dropped,
        }
    }
}

// ---- the capped reader ----

/// What a [`Capped`] reader refused.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CapHit {
    line: usize,
    what: String,
}

#[derive(Debug, Clone, Copy)]
enum Frame {
    /// An array with `commas` separators so far, holding at most `cap` elements.
    Array {
        commas: usize,
        cap: usize,
        top: bool,
        /// Bytes in memory of one element.
        elem: usize,
    },
    /// An object; `key` while the next string is a key.
    Object { key: bool },
}

/// A reader that enforces the caps on the JSON text passing through it, and in line mode ends
/// each value at its newline (so a corrupt line costs only itself).
struct Capped<R: BufRead> {
    inner: R,
    /// Stop at each newline (JSON lines) instead of reading the whole file as one value.
    lines: bool,
    /// 1-based number of the line being read.
    line: usize,
    /// The current line ended (line mode): reads return 0 until [`Capped::next_line`].
    at_newline: bool,
    eof: bool,
    stack: Vec<Frame>,
    in_string: bool,
    escape: bool,
    string_len: usize,
    /// The top-level key being read / last read (which pane an array belongs to).
    key: Vec<u8>,
    capturing_key: bool,
    hit: Option<CapHit>,
    /// Bytes of text of the current value (line, or file) scanned so far.
    text: usize,
    /// Bytes the elements of its arrays will take in memory, as far as they have been read.
    memory: usize,
    /// [`AMPLIFICATION_SLACK`] (smaller in tests).
    slack: usize,
}

impl<R: BufRead> Capped<R> {
    fn new(inner: R, lines: bool) -> Self {
        Capped {
            inner,
            lines,
            line: 1,
            at_newline: false,
            eof: false,
            stack: Vec::new(),
            in_string: false,
            escape: false,
            string_len: 0,
            key: Vec::new(),
            capturing_key: false,
            hit: None,
            text: 0,
            memory: 0,
            slack: AMPLIFICATION_SLACK,
        }
    }

    fn reset_value(&mut self) {
        self.stack.clear();
        self.in_string = false;
        self.escape = false;
        self.capturing_key = false;
        self.key.clear();
        self.text = 0;
        self.memory = 0;
    }

    /// One more array element of `elem` bytes: refused when the memory it all takes grows past
    /// [`MAX_AMPLIFICATION`] times the text read (beyond [`AMPLIFICATION_SLACK`]).
    fn account(&mut self, elem: usize, elements: usize, top: bool) -> Result<(), String> {
        self.memory = self.memory.saturating_add(elem);
        if self.memory > self.slack && self.memory / MAX_AMPLIFICATION > self.text {
            let what = if top {
                String::from_utf8_lossy(&self.key).into_owned()
            } else {
                "a nested array".to_string()
            };
            return Err(format!(
                "{what} holds {elements} or more objects in {} bytes of text, which would take more than {MAX_AMPLIFICATION}× that in memory (objects without their fields?)",
                self.text
            ));
        }
        Ok(())
    }

    /// Go on to the next line (line mode), skipping what is left of this one.
    fn next_line(&mut self) -> std::io::Result<()> {
        while !self.at_newline && !self.eof {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                self.eof = true;
                break;
            }
            match buf.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.inner.consume(i + 1);
                    self.at_newline = true;
                }
                None => {
                    let n = buf.len();
                    self.inner.consume(n);
                }
            }
        }
        if self.at_newline {
            self.line += 1;
        }
        self.at_newline = false;
        self.reset_value();
        self.hit = None;
        Ok(())
    }

    fn refuse(&mut self, what: String) -> std::io::Error {
        self.hit = Some(CapHit {
            line: self.line,
            what: what.clone(),
        });
        std::io::Error::new(std::io::ErrorKind::InvalidData, what)
    }

    /// Account for one byte of JSON text.
    fn scan(&mut self, b: u8) -> Result<(), String> {
        self.text += 1;
        if self.in_string {
            if self.escape {
                self.escape = false;
            } else if b == b'\\' {
                self.escape = true;
            } else if b == b'"' {
                self.in_string = false;
                self.capturing_key = false;
                return Ok(());
            }
            self.string_len += 1;
            if self.string_len > MAX_STRING {
                return Err(format!("a string longer than {MAX_STRING} bytes"));
            }
            if self.capturing_key && self.key.len() < 32 {
                self.key.push(b);
            }
            return Ok(());
        }
        match b {
            b'"' => {
                self.in_string = true;
                self.string_len = 0;
                if let [Frame::Object { key: true }] = self.stack.as_slice() {
                    self.capturing_key = true;
                    self.key.clear();
                }
            }
            b'{' | b'[' => {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(format!("nesting deeper than {MAX_DEPTH} levels"));
                }
                let top = matches!(self.stack.as_slice(), [Frame::Object { key: false }]);
                if b == b'{' {
                    self.stack.push(Frame::Object { key: true });
                } else {
                    let (cap, elem) = if top {
                        let key = String::from_utf8_lossy(&self.key);
                        (max_objects(&key), object_bytes(&key))
                    } else {
                        (MAX_NESTED, NESTED_ELEMENT_BYTES)
                    };
                    // The first element (an empty array costs one too: a rounding error).
                    self.account(elem, 1, top)?;
                    self.stack.push(Frame::Array {
                        commas: 0,
                        cap,
                        top,
                        elem,
                    });
                }
            }
            b'}' | b']' => {
                self.stack.pop();
            }
            b':' => {
                if let Some(Frame::Object { key }) = self.stack.last_mut() {
                    *key = false;
                }
            }
            b',' => match self.stack.last_mut() {
                Some(Frame::Object { key }) => *key = true,
                Some(Frame::Array {
                    commas,
                    cap,
                    top,
                    elem,
                }) => {
                    *commas += 1;
                    let (n, elem, top2) = (*commas + 1, *elem, *top);
                    if *commas >= *cap {
                        let (cap, top) = (*cap, *top);
                        return Err(if top {
                            format!(
                                "{} holds more than {cap} objects (the most dpscope loads in one pane)",
                                String::from_utf8_lossy(&self.key)
                            )
                        } else {
                            format!("an array of more than {cap} elements")
                        });
                    }
                    self.account(elem, n, top2)?;
                }
                None => {}
            },
            _ => {}
        }
        Ok(())
    }
}

impl<R: BufRead> Read for Capped<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.at_newline || self.eof || out.is_empty() {
            return Ok(0);
        }
        if let Some(h) = &self.hit {
            let what = h.what.clone();
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, what));
        }
        let buf = self.inner.fill_buf()?;
        if buf.is_empty() {
            self.eof = true;
            return Ok(0);
        }
        let mut n = buf.len().min(out.len());
        if self.lines {
            if let Some(i) = buf[..n].iter().position(|&b| b == b'\n') {
                n = i;
                if n == 0 {
                    self.inner.consume(1);
                    self.at_newline = true;
                    return Ok(0);
                }
            }
        }
        out[..n].copy_from_slice(&buf[..n]);
        self.inner.consume(n);
        for &b in &out[..n] {
            if b == b'\n' {
                self.line += 1;
            }
            if let Err(what) = self.scan(b) {
                return Err(self.refuse(what));
            }
        }
        Ok(n)
    }
}

// ---- loading ----

/// The message of a serde_json error without its " at line L column C" (the loader says where).
fn bare_message(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// One parsed value: the snapshot, its `recording` reference, or why not.
enum One {
    Snap(Box<Snapshot>, Option<super::recording::LineRef>),
    Schema(String),
    TooBig(usize, String),
    Corrupt(usize, String, bool),
}

/// Parse one value from `r` (the whole file, or one line), checking nothing follows it.
fn parse_one<R: BufRead>(r: &mut Capped<R>) -> One {
    let start_line = r.line;
    let mut found = None;
    let mut de = serde_json::Deserializer::from_reader(&mut *r);
    let res = serde::de::DeserializeSeed::deserialize(
        super::recording::LineSeed { schema: &mut found },
        &mut de,
    )
    .and_then(|v| de.end().map(|()| v));
    drop(de);
    match res {
        Ok((s, line_ref)) => One::Snap(Box::new(s), line_ref),
        Err(e) => {
            if let Some(h) = r.hit.take() {
                return One::TooBig(h.line, h.what);
            }
            if let Some(f) = found.filter(|f| f != SCHEMA) {
                return One::Schema(f);
            }
            let line = if r.lines { start_line } else { e.line().max(1) };
            let msg = if r.lines && e.column() > 0 {
                format!("{} at column {}", bare_message(&e), e.column())
            } else {
                bare_message(&e)
            };
            One::Corrupt(line, msg, e.is_eof())
        }
    }
}

/// Whether the text starts like a pretty-printed object: `{` alone on its first line.
fn looks_pretty(head: &[u8]) -> bool {
    let t = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&head[..0], |i| &head[i..]);
    t.first() == Some(&b'{')
        && t[1..]
            .iter()
            .take_while(|&&b| b != b'\n')
            .all(|b| b.is_ascii_whitespace())
}

/// Load from any buffered reader into `win`; `reopen` gives the text again from the start (for
/// a multi-line object whose first line is not `{` alone). Returns the lines skipped.
pub(crate) fn load_from<R: BufRead>(
    path: &str,
    mut r: R,
    reopen: &mut dyn FnMut() -> std::io::Result<Box<dyn BufRead>>,
    win: &mut Window,
) -> Result<Vec<(usize, String)>, LoadError> {
    let io = |source| LoadError::Io {
        path: path.to_string(),
        source,
    };
    let head = r.fill_buf().map_err(io)?;
    if head.iter().all(|b| b.is_ascii_whitespace()) {
        // Only whitespace in the first buffer: read on to tell an empty file from a late start.
        let mut rest = Vec::new();
        let n = (&mut r).take(1 << 16).read_to_end(&mut rest).map_err(io)?;
        if n == 0 || rest.iter().all(|b| b.is_ascii_whitespace()) && n < 1 << 16 {
            return Err(LoadError::Empty {
                path: path.to_string(),
            });
        }
        whole(path, reopen().map_err(io)?, win)?;
        return Ok(vec![]);
    }
    if looks_pretty(head) {
        whole(path, Box::new(r), win)?;
        return Ok(vec![]);
    }
    lines(path, r, reopen, win)
}

/// The whole text is one snapshot.
fn whole(path: &str, r: Box<dyn BufRead + '_>, win: &mut Window) -> Result<(), LoadError> {
    let mut c = Capped::new(r, false);
    match parse_one(&mut c) {
        One::Snap(s, None) => {
            win.push(*s, None);
            Ok(())
        }
        One::Snap(_, Some(_)) => Err(LoadError::Corrupt {
            path: path.to_string(),
            line: 1,
            msg: "a recording line that needs its keyframe, alone".into(),
        }),
        One::Schema(found) => Err(LoadError::Schema {
            path: path.to_string(),
            found,
        }),
        One::TooBig(line, what) => Err(LoadError::TooBig {
            path: path.to_string(),
            line,
            what,
        }),
        One::Corrupt(line, msg, _) => Err(LoadError::Corrupt {
            path: path.to_string(),
            line,
            msg,
        }),
    }
}

/// JSON lines: keyframes stand alone, other lines are rebuilt from their keyframe
/// (`recording`); bad lines and lines of another schema are reported and skipped.
fn lines<R: BufRead>(
    path: &str,
    r: R,
    reopen: &mut dyn FnMut() -> std::io::Result<Box<dyn BufRead>>,
    win: &mut Window,
) -> Result<Vec<(usize, String)>, LoadError> {
    let mut c = Capped::new(r, true);
    let mut rebuilder = super::recording::Rebuilder::default();
    let first_index = win.next_index();
    let mut skipped = Vec::new();
    let mut first_err: Option<LoadError> = None;
    let mut first_line_eof = false;
    loop {
        // Blank lines are skipped; the end of the file ends the loop.
        let blank = {
            let buf = c.inner.fill_buf().map_err(|source| LoadError::Io {
                path: path.to_string(),
                source,
            })?;
            if buf.is_empty() {
                break;
            }
            let upto = buf.iter().position(|&b| b == b'\n');
            match upto {
                Some(i) => buf[..i].iter().all(|b| b.is_ascii_whitespace()),
                None => buf.iter().all(|b| b.is_ascii_whitespace()) && buf.len() < 4096,
            }
        };
        let line_no = c.line;
        if blank {
            c.next_line().map_err(|source| LoadError::Io {
                path: path.to_string(),
                source,
            })?;
            continue;
        }
        let err = match parse_one(&mut c) {
            One::Snap(mut s, line_ref) => match line_ref {
                None => {
                    let i = win.next_index();
                    rebuilder.keyframe(line_no, i);
                    win.push(*s, Some(i));
                    None
                }
                Some(r) => match rebuilder.rebuild(&r, &mut s, |i| win.get(i)) {
                    Ok(()) => {
                        win.push(*s, rebuilder.keyframe_index());
                        None
                    }
                    Err(msg) => Some(LoadError::Corrupt {
                        path: path.to_string(),
                        line: line_no,
                        msg,
                    }),
                },
            },
            One::Schema(found) => Some(LoadError::Schema {
                path: path.to_string(),
                found,
            }),
            // A cap is a property of the file, not of a line: stop.
            One::TooBig(line, what) => {
                return Err(LoadError::TooBig {
                    path: path.to_string(),
                    line,
                    what,
                })
            }
            One::Corrupt(line, msg, eof) => {
                if line == 1 && win.next_index() == first_index && skipped.is_empty() {
                    first_line_eof = eof;
                }
                Some(LoadError::Corrupt {
                    path: path.to_string(),
                    line,
                    msg,
                })
            }
        };
        if let Some(e) = err {
            let why = match &e {
                LoadError::Corrupt { msg, .. } => msg.clone(),
                LoadError::Schema { found, .. } => {
                    format!("schema {found:?}, not {SCHEMA}")
                }
                other => other.to_string(),
            };
            skipped.push((line_no, why));
            first_err.get_or_insert(e);
        }
        c.next_line().map_err(|source| LoadError::Io {
            path: path.to_string(),
            source,
        })?;
    }
    if win.next_index() == first_index {
        // A multi-line object whose first line is more than `{`: read it as one value.
        if first_line_eof && skipped.len() > 1 {
            let r = reopen().map_err(|source| LoadError::Io {
                path: path.to_string(),
                source,
            })?;
            whole(path, r, win)?;
            return Ok(vec![]);
        }
        return Err(first_err.unwrap_or(LoadError::Empty {
            path: path.to_string(),
        }));
    }
    Ok(skipped)
}

/// Parse file contents: a single JSON object (possibly pretty-printed) or JSON lines.
pub fn parse(path: &str, text: &str) -> Result<Loaded, LoadError> {
    parse_within(path, text, MAX_RECORDING_BYTES)
}

/// [`parse`], keeping the newest snapshots within `budget` bytes (see [`Window`]).
pub fn parse_within(path: &str, text: &str, budget: usize) -> Result<Loaded, LoadError> {
    let bytes = text.as_bytes();
    let mut win = Window::new(budget);
    let skipped = load_from(
        path,
        std::io::Cursor::new(bytes),
        &mut || Ok(Box::new(std::io::Cursor::new(bytes.to_vec()))),
        &mut win,
    )?;
    Ok(win.into_loaded(skipped))
}

pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    let mut win = Window::new(MAX_RECORDING_BYTES);
    let skipped = load_into(path, &mut win)?;
    Ok(win.into_loaded(skipped))
}

/// Load the file at `path` into `win` (after what it holds already: the segments of a ring);
/// the lines skipped.
pub fn load_into(path: &Path, win: &mut Window) -> Result<Vec<(usize, String)>, LoadError> {
    let name = path.display().to_string();
    let open = || -> std::io::Result<std::io::BufReader<std::fs::File>> {
        Ok(std::io::BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(path)?,
        ))
    };
    let r = open().map_err(|source| LoadError::Io {
        path: name.clone(),
        source,
    })?;
    load_from(&name, r, &mut || Ok(Box::new(open()?)), win)
}

/// Pretty JSON of one snapshot, as `dpscope snapshot` writes it.
/// DEL, C1 and bidi controls are `\u` escapes (`sanitize::JsonSafe`): lossless, and safe to `cat`.
pub fn to_json_pretty(s: &Snapshot) -> String {
    // Serialising plain data structures with string keys cannot fail.
    crate::sanitize::to_json_string_pretty(s).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// One compact line, as `dpscope record` writes it (escapes as [`to_json_pretty`]).
pub fn to_json_line(s: &Snapshot) -> String {
    crate::sanitize::to_json_string(s).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Program;

    fn sample() -> Snapshot {
        let mut s = Snapshot::empty();
        s.taken_at = "2026-11-21T10:00:00Z".into();
        s.monotonic_ns = 42;
        s.programs.push(Program {
            id: 7,
            name: "cil_from_container".into(),
            kernel_name: "cil_from_conta".into(),
            prog_type: "sched_cls".into(),
            run_cnt: 10,
            ..Default::default()
        });
        s
    }

    #[test]
    fn snapshot_json_round_trips() {
        let s = sample();
        let back = parse("x", &to_json_pretty(&s)).unwrap();
        assert_eq!(back.snapshots, vec![s.clone()]);
        let line = to_json_line(&s);
        assert!(!line.contains('\n'));
        assert_eq!(parse("x", &line).unwrap().snapshots, vec![s]);
    }

    #[test]
    fn contract_field_names_are_used() {
        let v: serde_json::Value = serde_json::from_str(&to_json_line(&sample())).unwrap();
        assert_eq!(v["schema"], SCHEMA);
        assert_eq!(v["programs"][0]["type"], "sched_cls");
        assert_eq!(v["programs"][0]["kernel_name"], "cil_from_conta");
        assert!(v["node"]["unavailable"].is_array());
    }

    #[test]
    fn corrupt_and_truncated_files_are_errors_not_panics() {
        let full = to_json_pretty(&sample());
        for cut in [1, 10, full.len() / 2, full.len() - 1] {
            let err = parse("snap.json", &full[..cut]);
            assert!(err.is_err(), "cut at {cut} parsed");
        }
        assert!(matches!(parse("e", "  \n"), Err(LoadError::Empty { .. })));
        assert!(matches!(
            parse("g", "\u{0}\u{1}garbage"),
            Err(LoadError::Corrupt { .. })
        ));
        assert!(matches!(
            parse("a", "[1,2,3]"),
            Err(LoadError::Corrupt { .. })
        ));
        let wrong_type = r#"{"schema":"dpscope.snapshot/v1","programs":"nope"}"#;
        assert!(matches!(
            parse("t", wrong_type),
            Err(LoadError::Corrupt { .. })
        ));
    }

    #[test]
    fn other_schema_is_refused_with_its_name() {
        let err = parse("old.json", r#"{"schema":"dpscope.snapshot/v0"}"#).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("dpscope.snapshot/v0") && msg.contains(SCHEMA),
            "{msg}"
        );
    }

    #[test]
    fn recording_with_a_corrupt_line_still_opens_the_rest() {
        let a = to_json_line(&sample());
        let text = format!("{a}\n{{\"schema\": broken\n{a}\n");
        let loaded = parse("rec.jsonl", &text).unwrap();
        assert_eq!(loaded.snapshots.len(), 2);
        assert_eq!(loaded.skipped.len(), 1);
        assert_eq!(loaded.skipped[0].0, 2);
    }

    #[test]
    fn a_line_of_another_schema_is_skipped_and_said() {
        let a = to_json_line(&sample());
        let other = r#"{"schema":"dpscope.snapshot/v9","programs":[{"id":1}]}"#;
        let text = format!("{a}\n{other}\n{a}\n");
        let loaded = parse("rec.jsonl", &text).unwrap();
        assert_eq!(loaded.snapshots.len(), 2);
        assert_eq!(loaded.skipped.len(), 1);
        assert_eq!(loaded.skipped[0].0, 2);
        assert!(loaded.skipped[0].1.contains("v9"), "{:?}", loaded.skipped);
        let summary = loaded.skipped_summary().unwrap();
        assert!(
            summary.contains("1 unreadable") && summary.contains(": 2 "),
            "{summary}"
        );
        // Every line of another schema: the file is refused, naming it.
        let e = parse("rec.jsonl", &format!("{other}\n{other}\n")).unwrap_err();
        assert!(matches!(e, LoadError::Schema { .. }), "{e}");
    }

    #[test]
    fn a_truncated_pretty_snapshot_is_reported_at_the_line_where_it_ends() {
        let full = to_json_pretty(&sample());
        let lines: Vec<&str> = full.lines().collect();
        let cut = lines[..12].join("\n");
        match parse("snap.json", &cut) {
            Err(LoadError::Corrupt { line, .. }) => assert_eq!(line, 12, "{cut}"),
            other => panic!("{other:?}"),
        }
        // A pretty object whose first line is more than `{` still loads as one snapshot.
        let squeezed = full.replacen("{\n  ", "{ ", 1);
        assert_eq!(parse("s", &squeezed).unwrap().snapshots.len(), 1);
    }

    #[test]
    fn caps_refuse_floods_of_objects_long_strings_and_deep_nesting() {
        let n = max_objects("programs") + 1;
        let flood = format!(
            "{{\"schema\":\"{SCHEMA}\",\"programs\":[{}{{}}]}}",
            "{},".repeat(n - 1)
        );
        match parse("flood.json", &flood) {
            Err(e @ LoadError::TooBig { .. }) => {
                let m = e.to_string();
                assert!(m.contains("programs holds more than 100000"), "{m}");
            }
            other => panic!("{:?}", other.map(|l| l.snapshots.len())),
        }
        // Just under the cap loads.
        let ok = format!(
            "{{\"schema\":\"{SCHEMA}\",\"programs\":[{}{{}}]}}",
            "{},".repeat(n - 2)
        );
        assert_eq!(
            parse("ok.json", &ok).unwrap().snapshots[0].programs.len(),
            n - 1
        );
        let long = format!(
            "{{\"schema\":\"{SCHEMA}\",\"taken_at\":\"{}\"}}",
            "a".repeat(MAX_STRING + 1)
        );
        assert!(matches!(
            parse("long.json", &long),
            Err(LoadError::TooBig { .. })
        ));
        let deep = format!(
            "{{\"schema\":\"{SCHEMA}\",\"newer\":{}{}}}",
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        assert!(matches!(
            parse("deep.json", &deep),
            Err(LoadError::TooBig { .. })
        ));
        // Strings with escaped quotes and brackets do not confuse the count.
        let tricky = format!(
            "{{\"schema\":\"{SCHEMA}\",\"taken_at\":\"[,,\\\"]{{\",\"programs\":[{{\"name\":\"a,b]\"}}]}}"
        );
        let s = &parse("t.json", &tricky).unwrap().snapshots[0];
        assert_eq!(s.programs[0].name, "a,b]");
    }

    #[test]
    fn a_long_recording_keeps_its_newest_snapshots_within_the_budget_and_says_so() {
        let snap = |i: u64| {
            let mut s = sample();
            s.monotonic_ns = i;
            s.programs = (0..9)
                .map(|p| Program {
                    id: p,
                    run_cnt: i,
                    ..Default::default()
                })
                .collect();
            s
        };
        let each = memory(&snap(0));
        assert!(each > 9 * object_bytes("programs"));
        // Complete lines, and compact lines whose keyframe leaves the window before them.
        for every in [1, 60] {
            let mut w = super::super::recording::Writer::with_keyframe_every(Vec::new(), every);
            for i in 0..50 {
                w.write(&snap(i)).unwrap();
            }
            let text = String::from_utf8(w.into_inner()).unwrap();
            let all = parse("rec.jsonl", &text).unwrap();
            assert_eq!((all.snapshots.len(), all.dropped), (50, 0));
            assert_eq!(all.dropped_summary(), None);
            let kept = parse_within("rec.jsonl", &text, 4 * each + each / 2).unwrap();
            assert!(kept.skipped.is_empty(), "{:?}", kept.skipped);
            assert_eq!(
                (kept.snapshots.len(), kept.dropped),
                (4, 46),
                "every {every}"
            );
            assert_eq!(kept.snapshots, (46..50).map(snap).collect::<Vec<_>>());
            let m = kept.dropped_summary().unwrap();
            assert!(m.contains("newest 4") && m.contains("46 before"), "{m}");
            // A snapshot larger than the budget alone is still kept.
            let one = parse_within("rec.jsonl", &text, each / 3).unwrap();
            assert_eq!(one.snapshots, vec![snap(49)]);
        }
    }

    #[test]
    fn objects_without_fields_are_refused_by_their_memory_but_real_tables_load() {
        // 3 bytes of text per 288-byte conntrack entry: refused early, with a clear message.
        let flood = format!(
            "{{\"schema\":\"{SCHEMA}\",\"conntrack\":[{}{{}}]}}",
            "{},".repeat(2_000_000)
        );
        for text in [flood.clone(), flood.replace("[{}", "[\n{}")] {
            match parse("flood.json", &text) {
                Err(e @ LoadError::TooBig { .. }) => {
                    let m = e.to_string();
                    assert!(
                        m.contains("conntrack holds") && m.contains("in memory"),
                        "{m}"
                    );
                }
                other => panic!("{:?}", other.map(|l| l.snapshots.len())),
            }
        }
        // A table as dpscope writes it (every field, with its name) takes less memory than its
        // text: well past the slack (1 MiB here), it loads; the same count of `{}` does not.
        let slack = 1 << 20;
        let n = 4 * slack / object_bytes("conntrack");
        let load = |text: &str| {
            let mut c = Capped::new(std::io::Cursor::new(text.as_bytes()), false);
            c.slack = slack;
            parse_one(&mut c)
        };
        let mut s = sample();
        s.conntrack = vec![crate::model::CtEntry::default(); n].into();
        match load(&to_json_pretty(&s)) {
            One::Snap(s, _) => assert_eq!(s.conntrack.len(), n),
            _ => panic!("a real table was refused"),
        }
        let empty = format!(
            "{{\"schema\":\"{SCHEMA}\",\"conntrack\":[{}{{}}]}}",
            "{},".repeat(n - 1)
        );
        assert!(matches!(load(&empty), One::TooBig(..)));
    }

    #[test]
    fn missing_fields_default_so_older_files_load() {
        let s = parse("min", r#"{"schema":"dpscope.snapshot/v1"}"#).unwrap();
        assert!(s.snapshots[0].programs.is_empty());
    }
}
