//! Untrusted strings made safe for a terminal or a text file: the one boundary every string
//! from the kernel, another process or a file passes before dpscope prints or writes it as
//! text (`show` tables, `diff`, the Ctrl-s CSV and Markdown, error messages).
//!
//! A leaf module: it imports nothing from the crate.
//!
//! * C0 and C1 controls and DEL become visible escapes, as `ls` and `bpftool` show them:
//!   `\x1b`, `\x7f`, `\u{9b}`; a newline is `\n`, so it never ends a row.
//! * Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F,
//!   U+061C) are shown the same way, so they cannot reorder what follows them.
//! * CSV cells that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) get a
//!   leading `'`, unless the cell is a plain number or the sign alone.
//! * Markdown cells escape `\`, `|`, backticks, `[`, `]` and HTML (`<`, `>`, `&`).
//! * JSON stays lossless: [`JsonSafe`] writes DEL, C1 controls and bidi controls as `\uXXXX`
//!   escapes (serde_json escapes only C0), which any JSON reader turns back into the same
//!   string.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;

/// A character that must not reach a terminal raw.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// Characters that change the direction of the text after them.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

fn push_escape(out: &mut String, c: char) {
    let cp = c as u32;
    // Writing into a String cannot fail.
    let _ = match c {
        '\n' => write!(out, "\\n"),
        '\r' => write!(out, "\\r"),
        '\t' => write!(out, "\\t"),
        _ if cp < 0x80 => write!(out, "\\x{cp:02x}"),
        _ => write!(out, "\\u{{{cp:x}}}"),
    };
}

/// `s` with every control and bidi character as a visible escape; borrowed when clean.
pub fn text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`text`], keeping newlines and tabs: for text whose line structure is dpscope's own, such
/// as an error message of several lines.
pub fn lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && c != '\t' && is_unsafe(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c != '\n' && c != '\t' && is_unsafe(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`text`], cut to at most `max` characters (an ellipsis marks the cut).
pub fn text_capped(s: &str, max: usize) -> String {
    let t = text(s);
    if t.chars().count() <= max {
        return t.into_owned();
    }
    let mut out: String = t.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// One CSV field (RFC 4180), made safe: escapes as [`text`], a formula guard, quotes.
pub fn csv_cell(s: &str) -> String {
    let t = text(s);
    let guarded = match t.chars().next() {
        // A number (`-12`) or a lone sign (`-`, the empty marker) is no formula.
        Some('=' | '+' | '-' | '@') if t.len() > 1 && t.trim().parse::<f64>().is_err() => {
            Cow::Owned(format!("'{t}"))
        }
        _ => t,
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded.into_owned()
    }
}

/// Inline Markdown text (a table cell, a list item), made safe: escapes as [`text`], then
/// Markdown and HTML markup.
pub fn md_cell(s: &str) -> String {
    let t = text(s);
    let mut out = String::with_capacity(t.len());
    for c in t.chars() {
        match c {
            '\\' | '|' | '`' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
    }
    out
}

/// A Markdown code span of `s` (made safe as [`text`]); plain escaped text ([`md_cell`]) when
/// `s` holds a backtick, which would end the span.
pub fn md_code(s: &str) -> String {
    let t = text(s);
    if t.contains('`') {
        md_cell(&t)
    } else {
        format!("`{t}`")
    }
}

/// Remove what must not reach the terminal from a drawn frame: ratatui drops C0 and C1
/// controls from what it draws, but bidi controls (zero-width, so they sit in a cell with the
/// character before them) would reach the terminal and reorder the rest of the line. Applied
/// to every frame before it is sent, and to the screen the exports write.
pub fn buffer(buf: &mut ratatui::buffer::Buffer) {
    for cell in buf.content.iter_mut() {
        if cell.symbol().chars().any(is_unsafe) {
            let kept: String = cell.symbol().chars().filter(|&c| !is_unsafe(c)).collect();
            cell.set_symbol(if kept.is_empty() { " " } else { &kept });
        }
    }
}

/// A writer of JSON text that escapes DEL, C1 controls and bidi controls as `\uXXXX`.
///
/// Correct for what serde_json writes: outside strings JSON text is ASCII, so every non-ASCII
/// character it meets is inside a string, where the escape means the same character. A
/// character split across two `write` calls is held back until it is whole.
pub struct JsonSafe<W: io::Write> {
    inner: W,
    /// Bytes of an incomplete UTF-8 sequence from the end of the last write.
    pending: [u8; 3],
    npending: usize,
}

impl<W: io::Write> JsonSafe<W> {
    pub fn new(inner: W) -> Self {
        JsonSafe {
            inner,
            pending: [0; 3],
            npending: 0,
        }
    }

    pub fn into_inner(mut self) -> io::Result<W> {
        self.flush_pending()?;
        // Moving out of a type without Drop.
        Ok(self.inner)
    }

    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    fn flush_pending(&mut self) -> io::Result<()> {
        if self.npending > 0 {
            let n = self.npending;
            self.npending = 0;
            let p = self.pending;
            self.inner.write_all(&p[..n])?;
        }
        Ok(())
    }

    /// Write `buf`, a run of whole characters.
    fn write_whole(&mut self, buf: &[u8]) -> io::Result<()> {
        let mut start = 0;
        let mut i = 0;
        while i < buf.len() {
            let b = buf[i];
            // Lead bytes of the characters to escape: C2 (U+0080–U+009F), D8 (U+061C),
            // E2 (U+200E/F, U+202A–E, U+2066–9); and DEL.
            let len = match b {
                // DEL, which serde_json leaves raw.
                0x7F => 1,
                0xC2 | 0xD8 => 2,
                0xE2 => 3,
                _ => {
                    i += 1;
                    continue;
                }
            };
            let ch = buf
                .get(i..i + len)
                .and_then(|s| std::str::from_utf8(s).ok())
                .and_then(|s| s.chars().next());
            match ch {
                Some(c) if c.is_control() || is_bidi_control(c) => {
                    self.inner.write_all(&buf[start..i])?;
                    write!(self.inner, "\\u{:04x}", c as u32)?;
                    i += len;
                    start = i;
                }
                _ => i += 1,
            }
        }
        self.inner.write_all(&buf[start..])
    }
}

/// Length of the UTF-8 sequence a lead byte starts (1 for ASCII and stray bytes).
fn seq_len(b: u8) -> usize {
    match b {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

impl<W: io::Write> io::Write for JsonSafe<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        if self.npending > 0 {
            let need = seq_len(self.pending[0]) - self.npending;
            let take = need.min(rest.len());
            let mut tmp = [0u8; 4];
            tmp[..self.npending].copy_from_slice(&self.pending[..self.npending]);
            tmp[self.npending..self.npending + take].copy_from_slice(&rest[..take]);
            if take < need {
                self.pending[self.npending..self.npending + take].copy_from_slice(&rest[..take]);
                self.npending += take;
                return Ok(buf.len());
            }
            let n = self.npending + take;
            self.npending = 0;
            self.write_whole(&tmp[..n])?;
            rest = &rest[take..];
        }
        // Hold back an incomplete character at the end.
        let mut cut = rest.len();
        for back in 1..=3.min(rest.len()) {
            let b = rest[rest.len() - back];
            if b & 0xC0 != 0x80 {
                if seq_len(b) > back {
                    cut = rest.len() - back;
                }
                break;
            }
        }
        self.write_whole(&rest[..cut])?;
        let tail = &rest[cut..];
        self.pending[..tail.len()].copy_from_slice(tail);
        self.npending = tail.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_pending()?;
        self.inner.flush()
    }
}

/// Serialise `v` as compact JSON through [`JsonSafe`].
pub fn to_json_string<T: serde::Serialize + ?Sized>(v: &T) -> serde_json::Result<String> {
    let mut w = JsonSafe::new(Vec::new());
    serde_json::to_writer(&mut w, v)?;
    finish(w)
}

/// Serialise `v` as pretty JSON through [`JsonSafe`].
pub fn to_json_string_pretty<T: serde::Serialize + ?Sized>(v: &T) -> serde_json::Result<String> {
    let mut w = JsonSafe::new(Vec::new());
    serde_json::to_writer_pretty(&mut w, v)?;
    finish(w)
}

fn finish(w: JsonSafe<Vec<u8>>) -> serde_json::Result<String> {
    let bytes = w.into_inner().map_err(serde_json::Error::io)?;
    // serde_json writes UTF-8 and the escapes are ASCII.
    String::from_utf8(bytes).map_err(|e| serde_json::Error::io(io::Error::other(e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const PAYLOAD: &str =
        "a\x1b]0;pwned\x07b\x1b[2J\x1b]52;c;cm0gLXJm\x07\u{9b}31m\n\rx\u{7f}\u{202e}evil\u{2066}";

    fn clean(s: &str) -> bool {
        !s.chars().any(is_unsafe)
    }

    #[test]
    fn controls_and_bidi_become_visible_escapes() {
        let t = text(PAYLOAD);
        assert!(clean(&t), "{t:?}");
        assert_eq!(
            t,
            "a\\x1b]0;pwned\\x07b\\x1b[2J\\x1b]52;c;cm0gLXJm\\x07\\u{9b}31m\\n\\rx\\x7f\\u{202e}evil\\u{2066}"
        );
        assert!(matches!(text("plain ünïcode 名前"), Cow::Borrowed(_)));
        assert_eq!(lines("a\nb\x1bc"), "a\nb\\x1bc");
        assert_eq!(text_capped("abcdef", 4), "abc…");
        assert_eq!(text_capped("\x1b\x1b", 200), "\\x1b\\x1b");
    }

    #[test]
    fn csv_cells_guard_formulas_but_not_numbers() {
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("+cmd"), "'+cmd");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("-2+3"), "'-2+3");
        assert_eq!(csv_cell("-12"), "-12");
        assert_eq!(csv_cell("-"), "-");
        assert_eq!(csv_cell("-1.5"), "-1.5");
        assert_eq!(csv_cell("a,\"b\""), "\"a,\"\"b\"\"\"");
        let c = csv_cell(PAYLOAD);
        assert!(clean(&c) && !c.contains('\n'), "{c:?}");
    }

    #[test]
    fn markdown_cells_escape_markup() {
        assert_eq!(
            md_cell("a|b`c`<img src=x onerror=alert(1)>&[l](u)\\"),
            "a\\|b\\`c\\`&lt;img src=x onerror=alert(1)&gt;&amp;\\[l\\](u)\\\\"
        );
        let c = md_cell(PAYLOAD);
        assert!(clean(&c) && !c.contains('\n'), "{c:?}");
        assert_eq!(md_code("a|b"), "`a|b`");
        assert_eq!(md_code("a`b"), "a\\`b");
    }

    #[test]
    fn drawn_frames_lose_bidi_controls_and_keep_their_width() {
        use ratatui::buffer::Buffer;
        use ratatui::layout::Rect;
        let mut buf = Buffer::empty(Rect::new(0, 0, 12, 1));
        buf.set_string(
            0,
            0,
            "ab\u{202e}cd\u{2066}",
            ratatui::style::Style::default(),
        );
        let before: Vec<u16> = buf
            .content
            .iter()
            .map(|c| c.symbol().len() as u16)
            .collect();
        buffer(&mut buf);
        let text: String = buf.content.iter().map(|c| c.symbol()).collect();
        assert!(clean(&text), "{text:?}");
        assert!(text.starts_with("abcd"), "{text:?}");
        assert_eq!(buf.content.len(), before.len());
    }

    #[test]
    fn json_escapes_c1_and_bidi_and_stays_lossless() {
        let s = to_json_string(&serde_json::json!({ "name": PAYLOAD })).unwrap();
        assert!(clean(&s), "{s}");
        assert!(s.contains("\\u009b") && s.contains("\\u202e"), "{s}");
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["name"], PAYLOAD);
        // Ordinary non-ASCII passes through as it is.
        let s = to_json_string("é名€\u{2028}").unwrap();
        assert_eq!(s, "\"é名€\u{2028}\"");
    }

    #[test]
    fn json_characters_split_across_writes_are_still_escaped() {
        let text = serde_json::to_string(&format!("x{PAYLOAD}ü€名")).unwrap();
        let bytes = text.as_bytes();
        for chunk in 1..=5 {
            let mut w = JsonSafe::new(Vec::new());
            for part in bytes.chunks(chunk) {
                w.write_all(part).unwrap();
            }
            let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
            assert!(clean(&out), "chunk {chunk}: {out}");
            let back: String = serde_json::from_str(&out).unwrap();
            assert_eq!(back, format!("x{PAYLOAD}ü€名"), "chunk {chunk}");
        }
    }
}
