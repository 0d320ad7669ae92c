//! One-key export (`Ctrl-s`): the snapshot (JSON, loadable by `replay`), the current pane as
//! CSV and Markdown, and the screen as plain text and standalone HTML, into the dump directory.

use super::state::App;
use crate::views;
use crate::views::plain::{self, Format};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::path::{Path, PathBuf};

/// Default dump directory (relative to where dpscope runs); `--dump-dir` overrides it.
pub const DEFAULT_DUMP_DIR: &str = "dpscope-dumps";

/// The files one export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub dir: PathBuf,
    pub snapshot: PathBuf,
    pub csv: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    pub screen_text: PathBuf,
    pub screen_html: PathBuf,
}

impl Exported {
    pub fn files(&self) -> Vec<&Path> {
        let mut v = vec![self.snapshot.as_path()];
        v.extend(self.csv.as_deref());
        v.extend(self.markdown.as_deref());
        v.push(&self.screen_text);
        v.push(&self.screen_html);
        v
    }
}

/// Export into the app's dump directory; the directory written on success.
pub fn export(app: &App) -> Result<PathBuf, String> {
    let stamp = timestamp();
    export_to(app, &app.dump_dir, &stamp).map(|e| e.dir)
}

/// `20261121T203300.123Z`: sortable, and no `:` (not allowed in file names everywhere).
pub fn timestamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    )
}

/// Export into `dir` with file names starting `dpscope-<stamp>`.
pub fn export_to(app: &App, dir: &Path, stamp: &str) -> Result<Exported, String> {
    let created = !dir.exists();
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let pane = views::registry::PANES
        .get(app.pane)
        .map_or("pane", |p| p.name);
    let base = format!("dpscope-{stamp}");
    let write = |name: String, text: &str| -> Result<PathBuf, String> {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path)
    };

    let snapshot = write_snapshot(&dir.join(format!("{base}.json")), &app.snapshot)?;
    let table = plain::pane_table(pane, &app.snapshot, app.prev.as_ref());
    let (csv, markdown) = match &table {
        Some(t) => (
            Some(write(
                format!("{base}-{pane}.csv"),
                &plain::render(t, Format::Csv),
            )?),
            Some(write(
                format!("{base}-{pane}.md"),
                &plain::render(t, Format::Markdown),
            )?),
        ),
        None => (None, None),
    };
    let screen = screen_text(app)?;
    let screen_text = write(format!("{base}-screen.txt"), &screen)?;
    let screen_html = write(
        format!("{base}-screen.html"),
        &screen_html(&screen, &app.snapshot.taken_at),
    )?;
    let out = Exported {
        dir: dir.to_path_buf(),
        snapshot,
        csv,
        markdown,
        screen_text,
        screen_html,
    };
    if let Some((uid, gid)) = sudo_owner() {
        let mut paths: Vec<&Path> = out.files();
        if created {
            paths.push(dir);
        }
        for p in paths {
            nix::unistd::chown(p, Some(uid), Some(gid))
                .map_err(|e| format!("cannot chown {}: {e}", p.display()))?;
        }
    }
    Ok(out)
}

/// Stream the snapshot as pretty JSON (as `dpscope snapshot` writes it) without building the
/// whole text in memory first: a big conntrack table is hundreds of MB of JSON.
fn write_snapshot(path: &Path, snap: &crate::model::Snapshot) -> Result<PathBuf, String> {
    use std::io::Write;
    let err = |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", path.display());
    let file = std::fs::File::create(path).map_err(|e| err(&e))?;
    let mut w = std::io::BufWriter::new(file);
    serde_json::to_writer_pretty(&mut w, snap).map_err(|e| err(&e))?;
    w.flush().map_err(|e| err(&e))?;
    Ok(path.to_path_buf())
}

/// The user behind `sudo`, to give the files back to.
pub fn sudo_owner() -> Option<(nix::unistd::Uid, nix::unistd::Gid)> {
    let uid = std::env::var("SUDO_UID").ok()?.parse().ok()?;
    let gid = std::env::var("SUDO_GID").ok()?.parse().ok()?;
    Some((
        nix::unistd::Uid::from_raw(uid),
        nix::unistd::Gid::from_raw(gid),
    ))
}

/// The current screen as text: `views::draw` on a `TestBackend` of the terminal's size.
pub fn screen_text(app: &App) -> Result<String, String> {
    let (w, h) = (app.width.max(20), app.height.max(10));
    let mut term =
        Terminal::new(TestBackend::new(w, h)).map_err(|e| format!("rendering the screen: {e}"))?;
    term.draw(|f| views::draw(f, app))
        .map_err(|e| format!("rendering the screen: {e}"))?;
    let buf = term.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    Ok(out)
}

pub fn html_escape(s: &str) -> String {
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

    #[test]
    fn timestamp_has_no_colons() {
        let t = timestamp();
        assert!(!t.contains(':') && t.ends_with('Z') && t.len() == 20, "{t}");
    }
}
