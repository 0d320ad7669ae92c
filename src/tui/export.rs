//! One-key export (`Ctrl-s`): the snapshot (JSON, loadable by `replay`), the current pane as
//! CSV and Markdown, and the screen as plain text and standalone HTML, into the dump directory.
//! The UI task only captures an [`ExportJob`] (the screen of the key press, the snapshots by
//! `Arc`); the files are written on a thread of their own (`jobs::Jobs::export`).

pub use crate::app::work::{timestamp, Exported, DEFAULT_DUMP_DIR};
use crate::app::App;
use crate::bpf::collector::{add_conntrack, has_conntrack};
use crate::model::{PaneId, Snapshot};
use crate::pane::plain::{self, Format};
use crate::pane::TableView;
use crate::views;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use ratatui::Terminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Everything one export writes, captured at the key press: the screen as drawn then, the
/// snapshots (shared, not copied) and the view. Writing it is the slow part (hundreds of MB
/// of JSON and a row per conntrack entry) and runs on a thread of its own
/// (`jobs::Jobs::export`).
#[derive(Debug, Clone)]
pub struct ExportJob {
    pub dir: PathBuf,
    pub stamp: String,
    pane: PaneId,
    snapshot: Arc<Snapshot>,
    prev: Option<Arc<Snapshot>>,
    view: TableView,
    /// The Markdown report's lines above the row count.
    report_head: String,
    screen: Buffer,
    /// Live: where to read the CT maps if the snapshot has no CT table (taken with the
    /// Conntrack pane closed), so the file carries it. `None` in replay.
    ct_roots: Option<Vec<PathBuf>>,
}

impl ExportJob {
    /// Take what the export needs from the app now; the screen is rendered here, so it is
    /// the screen of the key press whatever arrives while the files are written.
    pub fn capture(app: &App, dir: &Path, stamp: &str) -> Result<ExportJob, String> {
        let pane = app.pane;
        Ok(ExportJob {
            dir: dir.to_path_buf(),
            stamp: stamp.to_string(),
            pane,
            snapshot: app.snapshot.clone(),
            prev: app.prev.clone(),
            view: app.view().clone(),
            report_head: report_head(app, pane),
            screen: screen_buffer(app)?,
            ct_roots: app
                .bpffs_roots
                .clone()
                .filter(|_| app.is_live() && !has_conntrack(&app.snapshot)),
        })
    }

    /// Write the files: into the dump directory opened and checked once, each file created
    /// new (0600, never through a symlink), under sudo as the invoking user (`safe_fs`).
    pub fn write(&self) -> Result<Exported, String> {
        let writer = crate::safe_fs::Writer::current()?;
        let dir = crate::safe_fs::Dir::open(&self.dir, &writer, true)?;
        let pane = self.pane;
        let base = format!("dpscope-{}", self.stamp);
        let write = |name: String, text: &str| -> Result<PathBuf, String> {
            use std::io::Write;
            let path = self.dir.join(&name);
            dir.create_new(&name)?
                .write_all(text.as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(path)
        };

        // The live UI reads the CT maps only while their pane is open; the file carries the
        // table whatever pane was open (read here, on the export thread).
        let completed = self.ct_roots.as_ref().map(|roots| {
            let mut s = (*self.snapshot).clone();
            add_conntrack(&mut s, roots);
            s
        });
        let name = format!("{base}.json");
        let snapshot = write_snapshot(
            &self.dir.join(&name),
            dir.create_new(&name)?,
            completed.as_ref().unwrap_or(&self.snapshot),
        )?;
        // The rows as the pane shows them: its filter and sort.
        let table = Some(plain::pane_table_as(
            pane,
            &self.snapshot,
            self.prev.as_deref(),
            &self.view,
        ));
        let (csv, markdown) = match &table {
            Some(t) => (
                Some(write(
                    format!("{base}-{pane}.csv"),
                    &plain::render(t, Format::Csv),
                )?),
                Some(write(
                    format!("{base}-{pane}.md"),
                    &report(&self.report_head, t),
                )?),
            ),
            None => (None, None),
        };
        let buf = &self.screen;
        let screen_text = write(format!("{base}-screen.txt"), &buffer_text(buf))?;
        let screen_ansi = write(format!("{base}-screen.ansi"), &buffer_ansi(buf))?;
        let screen_html = write(
            format!("{base}-screen.html"),
            &buffer_html(buf, &self.snapshot.taken_at),
        )?;
        Ok(Exported {
            dir: self.dir.clone(),
            snapshot,
            csv,
            markdown,
            screen_text,
            screen_ansi,
            screen_html,
        })
    }
}

/// Export into `dir` with file names starting `dpscope-<stamp>`, on the calling thread.
pub fn export_to(app: &App, dir: &Path, stamp: &str) -> Result<Exported, String> {
    ExportJob::capture(app, dir, stamp)?.write()
}

/// Stream the snapshot as pretty JSON (as `dpscope snapshot` writes it) without building the
/// whole text in memory first: a big conntrack table is hundreds of MB of JSON.
fn write_snapshot(
    path: &Path,
    file: std::fs::File,
    snap: &crate::model::Snapshot,
) -> Result<PathBuf, String> {
    use std::io::Write;
    let err = |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", path.display());
    let mut w = crate::sanitize::JsonSafe::new(std::io::BufWriter::new(file));
    serde_json::to_writer_pretty(&mut w, snap).map_err(|e| err(&e))?;
    w.flush().map_err(|e| err(&e))?;
    Ok(path.to_path_buf())
}

/// A Markdown report of the pane, ready to paste into an incident channel: node, time, what
/// the view has in effect, then the rows shown.
pub fn markdown_report(app: &App, pane: PaneId, t: &plain::PlainTable) -> String {
    report(&report_head(app, pane), t)
}

fn report(head: &str, t: &plain::PlainTable) -> String {
    let mut out = head.to_string();
    out.push_str(&format!("* rows: {}\n\n", t.rows.len()));
    out.push_str(&plain::render(t, Format::Markdown));
    out
}

/// The report's lines above the row count: node, time, replay, filter, baseline.
fn report_head(app: &App, pane: PaneId) -> String {
    let n = &app.snapshot.node;
    let v = app.view();
    let mut out = format!("### dpscope — {pane} on {}\n\n", or_dash(&n.hostname));
    out.push_str(&format!(
        "* data taken: {} (kernel {})\n",
        or_dash(&app.snapshot.taken_at),
        or_dash(&n.kernel_release)
    ));
    if let Some(r) = &app.replay {
        out.push_str(&format!(
            "* replay of {}, snapshot {} of {}\n",
            crate::sanitize::md_code(&r.path),
            r.index + 1,
            r.snapshots.len()
        ));
    }
    let filter = if v.filter.is_empty() {
        "none".to_string()
    } else {
        crate::sanitize::md_code(&v.filter)
    };
    out.push_str(&format!("* filter: {filter}\n"));
    if let Some(b) = &app.baseline {
        let only = if b.changes_only {
            ", showing only changed rows"
        } else {
            ""
        };
        out.push_str(&format!("* baseline: {}{only}\n", or_dash(b.taken_at())));
    }
    out
}

/// A value from the snapshot, made safe as Markdown text (`-` when empty).
fn or_dash(s: &str) -> String {
    if s.is_empty() {
        "-".into()
    } else {
        crate::sanitize::md_cell(s)
    }
}

pub fn screen_text(app: &App) -> Result<String, String> {
    screen_buffer(app).map(|b| buffer_text(&b))
}

/// The current screen as cells: `views::draw` on a `TestBackend` of the terminal's size.
pub fn screen_buffer(app: &App) -> Result<Buffer, String> {
    let (w, h) = (app.width.max(20), app.height.max(10));
    let mut term =
        Terminal::new(TestBackend::new(w, h)).map_err(|e| format!("rendering the screen: {e}"))?;
    term.draw(|f| {
        views::draw(f, app);
        crate::sanitize::buffer(f.buffer_mut());
    })
    .map_err(|e| format!("rendering the screen: {e}"))?;
    Ok(term.backend().buffer().clone())
}

/// Rows of cells, trailing blanks of a row dropped (in every rendering, so they agree).
fn rows(buf: &Buffer) -> Vec<Vec<&ratatui::buffer::Cell>> {
    let area = buf.area;
    (area.top()..area.bottom())
        .map(|y| {
            let mut row: Vec<_> = (area.left()..area.right()).map(|x| &buf[(x, y)]).collect();
            while row
                .last()
                .is_some_and(|c| c.symbol().trim().is_empty() && c.bg == Color::Reset)
            {
                row.pop();
            }
            row
        })
        .collect()
}

/// Plain text of the screen.
pub fn buffer_text(buf: &Buffer) -> String {
    let mut out = String::new();
    for row in rows(buf) {
        let line: String = row.iter().map(|c| c.symbol()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The 16 named colours as their index in the terminal's base palette.
fn base_index(c: Color) -> Option<u8> {
    Some(match c {
        Color::Black => 0,
        Color::Red => 1,
        Color::Green => 2,
        Color::Yellow => 3,
        Color::Blue => 4,
        Color::Magenta => 5,
        Color::Cyan => 6,
        Color::Gray => 7,
        Color::DarkGray => 8,
        Color::LightRed => 9,
        Color::LightGreen => 10,
        Color::LightYellow => 11,
        Color::LightBlue => 12,
        Color::LightMagenta => 13,
        Color::LightCyan => 14,
        Color::White => 15,
        _ => return None,
    })
}

/// SGR parameters of a colour (foreground base 30/38, background 40/48).
fn sgr_color(c: Color, fg: bool) -> Option<String> {
    let (base, ext) = if fg { (30, 38) } else { (40, 48) };
    Some(match (c, base_index(c)) {
        (_, Some(i)) if i < 8 => format!("{}", base + i),
        (_, Some(i)) => format!("{}", base + 60 + i - 8),
        (Color::Indexed(i), _) => format!("{ext};5;{i}"),
        (Color::Rgb(r, g, b), _) => format!("{ext};2;{r};{g};{b}"),
        _ => return None,
    })
}

fn sgr(c: &ratatui::buffer::Cell) -> String {
    let mut p = vec!["0".to_string()];
    let m = c.modifier;
    for (flag, code) in [
        (Modifier::BOLD, "1"),
        (Modifier::DIM, "2"),
        (Modifier::ITALIC, "3"),
        (Modifier::UNDERLINED, "4"),
        (Modifier::REVERSED, "7"),
        (Modifier::CROSSED_OUT, "9"),
    ] {
        if m.contains(flag) {
            p.push(code.into());
        }
    }
    p.extend(sgr_color(c.fg, true));
    p.extend(sgr_color(c.bg, false));
    format!("\x1b[{}m", p.join(";"))
}

/// The screen with its colours and attributes as ANSI escape sequences.
pub fn buffer_ansi(buf: &Buffer) -> String {
    let mut out = String::new();
    for row in rows(buf) {
        let mut cur = String::new();
        for c in row {
            let s = sgr(c);
            if s != cur {
                out.push_str(&s);
                cur = s;
            }
            out.push_str(c.symbol());
        }
        out.push_str("\x1b[0m\n");
    }
    out
}

/// CSS colour of a terminal colour (xterm's default palette).
fn css_color(c: Color) -> Option<String> {
    const BASE: [&str; 16] = [
        "#000000", "#cd0000", "#00cd00", "#cdcd00", "#0000ee", "#cd00cd", "#00cdcd", "#e5e5e5",
        "#7f7f7f", "#ff0000", "#00ff00", "#ffff00", "#5c5cff", "#ff00ff", "#00ffff", "#ffffff",
    ];
    let idx = |i: u8| -> String {
        match i {
            0..=15 => BASE[i as usize].to_string(),
            16..=231 => {
                let i = i - 16;
                let v = |x: u8| if x == 0 { 0 } else { 55 + 40 * x };
                format!("#{:02x}{:02x}{:02x}", v(i / 36), v((i / 6) % 6), v(i % 6))
            }
            _ => {
                let g = 8 + 10 * (i - 232);
                format!("#{g:02x}{g:02x}{g:02x}")
            }
        }
    };
    Some(match (c, base_index(c)) {
        (_, Some(i)) | (Color::Indexed(i), _) => idx(i),
        (Color::Rgb(r, g, b), _) => format!("#{r:02x}{g:02x}{b:02x}"),
        _ => return None,
    })
}

fn css(c: &ratatui::buffer::Cell) -> String {
    let (mut fg, mut bg) = (css_color(c.fg), css_color(c.bg));
    if c.modifier.contains(Modifier::REVERSED) {
        (fg, bg) = (
            bg.or_else(|| Some(TERM_BG.into())),
            fg.or_else(|| Some(TERM_FG.into())),
        );
    }
    let mut s = String::new();
    if let Some(f) = fg {
        s.push_str(&format!("color:{f};"));
    }
    if let Some(b) = bg {
        s.push_str(&format!("background:{b};"));
    }
    if c.modifier.contains(Modifier::BOLD) {
        s.push_str("font-weight:bold;");
    }
    if c.modifier.contains(Modifier::DIM) {
        s.push_str("opacity:0.7;");
    }
    if c.modifier.contains(Modifier::ITALIC) {
        s.push_str("font-style:italic;");
    }
    if c.modifier.contains(Modifier::UNDERLINED) {
        s.push_str("text-decoration:underline;");
    }
    s
}

const TERM_BG: &str = "#111111";
const TERM_FG: &str = "#dddddd";

/// A standalone HTML page that looks like the terminal: the screen in a `<pre>`, each run of
/// equally styled cells one `<span>` with inline colours.
pub fn buffer_html(buf: &Buffer, taken_at: &str) -> String {
    let mut body = String::new();
    for row in rows(buf) {
        let mut run = String::new();
        let mut style = String::new();
        let flush = |body: &mut String, run: &mut String, style: &str| {
            if run.is_empty() {
                return;
            }
            if style.is_empty() {
                body.push_str(&html_escape(run));
            } else {
                body.push_str(&format!(
                    "<span style=\"{style}\">{}</span>",
                    html_escape(run)
                ));
            }
            run.clear();
        };
        for c in row {
            let s = css(c);
            if s != style {
                flush(&mut body, &mut run, &style);
                style = s;
            }
            run.push_str(c.symbol());
        }
        flush(&mut body, &mut run, &style);
        body.push('\n');
    }
    format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>dpscope {}</title>\n\
         <style>body{{background:{TERM_BG};color:{TERM_FG}}}pre{{font-family:monospace;line-height:1.2}}</style>\n\
         </head>\n<body>\n<pre>\n{}</pre>\n</body>\n</html>\n",
        html_escape(taken_at),
        body
    )
}

/// HTML text of `s`: markup escaped, and controls other than newlines and tabs as visible
/// escapes (`sanitize::lines`).
pub fn html_escape(s: &str) -> String {
    let s = crate::sanitize::lines(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A standalone HTML page holding the screen text in a `<pre>`.
pub fn screen_html(screen: &str, taken_at: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>dpscope {}</title>\n\
         <style>body{{background:#111;color:#ddd}}pre{{font-family:monospace;line-height:1.2}}</style>\n\
         </head>\n<body>\n<pre>\n{}</pre>\n</body>\n</html>\n",
        html_escape(taken_at),
        html_escape(screen)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_markup() {
        assert_eq!(
            html_escape("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
        let page = screen_html("a < b\n", "T");
        assert!(page.contains("<pre>\na &lt; b\n</pre>"));
    }
}
