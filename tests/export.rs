//! `Ctrl-s` export: snapshot JSON, pane CSV/Markdown, screen text and HTML.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use dpscope::app::state::Message;
use dpscope::app::{Action, App, UiOptions};
use dpscope::model::{PaneId, Snapshot};
use dpscope::pane::plain;
use dpscope::tui::export::{export_to, html_escape, screen_text};
use dpscope::tui::jobs::Jobs;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;

fn fixture(name: &str) -> Snapshot {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    dpscope::model::io::load(&path).unwrap().snapshots.remove(0)
}

fn app(dump: &std::path::Path) -> App {
    let opts = UiOptions {
        interval_ms: 1000,
        dump_dir: Some(dump.to_path_buf()),
        ..Default::default()
    };
    let mut app = App::with_snapshot(fixture("rich_prev.json"), &opts);
    app.update(Action::Snapshot(Box::new(fixture("rich.json"))));
    app.update(Action::Resize(100, 30));
    // No event loop: the export is written on the calling thread.
    app.jobs = Some(std::sync::Arc::new(dpscope::tui::jobs::Inline));
    app
}

/// The app as the event loop runs it: export (and the baseline diff) on other threads, their
/// results on the returned channel.
fn with_jobs(mut app: App) -> (App, UnboundedReceiver<Action>) {
    let (jobs, rx) = Jobs::start();
    app.jobs = Some(std::sync::Arc::new(jobs));
    (app, rx)
}

/// Apply what the background jobs send until the status line is no longer "exporting…" (as a
/// user waits for it), at most 10 s.
fn wait_for_export(app: &mut App, rx: &mut UnboundedReceiver<Action>) -> Message {
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.message.as_ref().is_some_and(|m| m.text == "exporting…") {
        assert!(Instant::now() < deadline, "still exporting after 10 s");
        match rx.try_recv() {
            Ok(a) => {
                app.update(a);
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    app.message.clone().expect("a status line")
}

#[test]
fn export_writes_a_loadable_snapshot_pane_tables_and_the_screen() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dumps");
    let app = app(&dir);
    let out = export_to(&app, &dir, "20261121T031244.000Z").unwrap();
    assert_eq!(out.dir, dir);
    for f in out.files() {
        assert!(f.starts_with(&dir) && f.is_file(), "{}", f.display());
    }

    // The snapshot reloads as `replay` would read it, unchanged.
    let loaded = dpscope::model::io::load(&out.snapshot).unwrap();
    assert_eq!(loaded.snapshots, vec![(*app.snapshot).clone()]);

    // The pane (programs, the first) as CSV: a header plus one line per table row.
    let table = plain::pane_table(PaneId::Programs, &app.snapshot, app.prev.as_deref());
    let csv = std::fs::read_to_string(out.csv.as_ref().unwrap()).unwrap();
    assert!(out
        .csv
        .as_ref()
        .unwrap()
        .ends_with("dpscope-20261121T031244.000Z-programs.csv"));
    assert_eq!(csv.lines().count(), table.rows.len() + 1, "{csv}");
    assert_eq!(table.rows.len(), app.snapshot.programs.len());
    let md = std::fs::read_to_string(out.markdown.as_ref().unwrap()).unwrap();
    assert!(md.starts_with("### dpscope — programs on worker-3"), "{md}");
    assert!(md.contains("* filter: none") && md.contains(&app.snapshot.taken_at));
    let md_rows = md.lines().filter(|l| l.starts_with('|')).count();
    assert_eq!(md_rows, table.rows.len() + 2, "{md}");

    // The screen at the terminal's size, as text and as HTML holding that text.
    let screen = std::fs::read_to_string(&out.screen_text).unwrap();
    assert_eq!(screen, screen_text(&app).unwrap());
    assert_eq!(screen.lines().count(), 30);
    assert!(screen.lines().any(|l| l.chars().count() > 80));
    assert!(screen.contains("Programs"), "{screen}");
    // HTML that looks like the terminal: coloured spans, and the screen's text once the
    // markup is taken out.
    let html = std::fs::read_to_string(&out.screen_html).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert!(
        html.contains("<span style=\"color:#"),
        "no colours in the HTML"
    );
    let pre = &html[html.find("<pre>\n").unwrap() + 6..html.find("</pre>").unwrap()];
    assert_eq!(unescape(&common::strip_tags(pre)), screen);
    assert!(!html_escape(&screen).is_empty());
    // ANSI: the same text with colour escape sequences.
    let ansi = std::fs::read_to_string(&out.screen_ansi).unwrap();
    assert!(ansi.contains("\x1b[0;") && ansi.contains("\x1b[0m\n"));
    let stripped: String = strip_ansi(&ansi)
        .lines()
        .map(|l| format!("{}\n", l.trim_end()))
        .collect();
    assert_eq!(stripped, screen);
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The exported CSV and Markdown hold the rows the pane shows: its filter and its sort.
#[test]
fn export_tables_follow_the_filter_and_sort_on_screen() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dumps");
    let mut app = app(&dir);
    app.update(Action::OpenFilter);
    for c in "sched_cls".chars() {
        app.update(Action::InputChar(c));
    }
    app.update(Action::InputSubmit);
    app.update(Action::SortNext); // by the column after the default one
    let out = export_to(&app, &dir, "x").unwrap();
    let csv = std::fs::read_to_string(out.csv.unwrap()).unwrap();
    let ids: Vec<u64> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    let shown: Vec<u64> = app
        .pane_keys()
        .into_iter()
        .map(|k| match k {
            dpscope::pane::RowKey::Id(id) => id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(!shown.is_empty() && shown.len() < app.snapshot.programs.len());
    assert_eq!(ids, shown);
    let md = std::fs::read_to_string(out.markdown.unwrap()).unwrap();
    assert!(md.contains("* filter: `sched_cls`"), "{md}");
}

/// Marks (`m`) export as the pane shows them, trees as tables: the marked subtree's rows first
/// in the CSV and Markdown, the ★ on the exported screen.
#[test]
fn export_keeps_marks_of_a_tree_pane() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dumps");
    let mut app = app(&dir);
    app.update(Action::GotoPane(PaneId::Attachments));
    app.view_mut().selected = Some(dpscope::pane::RowKey::Path("if14/tc_egress/p42".into()));
    app.update(Action::ToggleMark);
    let out = export_to(&app, &dir, "m").unwrap();
    let csv = std::fs::read_to_string(out.csv.unwrap()).unwrap();
    let first: Vec<&str> = csv.lines().skip(1).take(2).collect();
    assert!(
        first.iter().all(|l| l.starts_with("lxc8a3f1c2e7d,")),
        "{csv}"
    );
    let md = std::fs::read_to_string(out.markdown.unwrap()).unwrap();
    let md_first = md
        .lines()
        .find(|l| l.starts_with("| lxc") || l.starts_with("| eth0"));
    assert!(md_first.unwrap().starts_with("| lxc8a3f1c2e7d |"), "{md}");
    let screen = std::fs::read_to_string(&out.screen_text).unwrap();
    assert!(screen.contains("★ #0 cil_to_container id 42"), "{screen}");
}

/// `Ctrl-s` says "exporting…" at once, writes on its own thread, then the status line gives
/// the directory and the files; the screen written is the one of the key press.
#[test]
fn ctrl_s_exports_to_the_dump_dir_and_says_where() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    let (mut app, mut rx) = with_jobs(app(&dir));
    let screen = screen_text(&app).unwrap();
    app.handle_key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
    assert_eq!(app.message.as_ref().unwrap().text, "exporting…");
    // Something changes on screen while the files are written: not in the export.
    app.update(Action::Down);
    let msg = wait_for_export(&mut app, &mut rx);
    assert!(!msg.error, "{}", msg.text);
    assert!(
        msg.text.contains(&dir.display().to_string()),
        "{}",
        msg.text
    );
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 6, "{names:?}");
    for suffix in [
        ".json",
        "-programs.csv",
        "-programs.md",
        "-screen.txt",
        "-screen.ansi",
        "-screen.html",
    ] {
        let name = names
            .iter()
            .find(|n| n.ends_with(suffix))
            .unwrap_or_else(|| panic!("{suffix}: {names:?}"));
        // The status line names every file.
        let shown: &str = if suffix == ".json" { name } else { suffix };
        assert!(msg.text.contains(shown), "{shown}: {}", msg.text);
    }
    let txt = names.iter().find(|n| n.ends_with("-screen.txt")).unwrap();
    assert_eq!(std::fs::read_to_string(dir.join(txt)).unwrap(), screen);
}

#[test]
fn export_into_an_unwritable_place_is_an_error_message() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    // On the calling thread (no event loop) and through the export thread alike.
    let mut app = app(&file);
    app.update(Action::Export);
    let (mut threaded, mut rx) = with_jobs(app.clone());
    threaded.update(Action::Export);
    let threaded = wait_for_export(&mut threaded, &mut rx);
    // An app the terminal shell did not set up has no one to draw the screen: it says so.
    let mut bare = app.clone();
    bare.jobs = None;
    bare.update(Action::Export);
    let bare = bare.message.clone().unwrap();
    assert!(
        bare.error && bare.text.contains("no terminal shell"),
        "{}",
        bare.text
    );
    for msg in [app.message.clone().unwrap(), threaded] {
        assert!(
            msg.error && msg.text.starts_with("export failed: "),
            "{}",
            msg.text
        );
    }
}

/// Under sudo (`SUDO_UID`/`SUDO_GID` set) the files are the invoking user's: written as that
/// user, into a directory of theirs. The environment is set in a child run of this test binary,
/// not in this process. (tests/dump_dir_safety.rs has the attacks.)
#[test]
fn export_under_sudo_chowns_to_the_invoking_user() {
    use std::os::unix::fs::MetadataExt;
    const CHILD: &str = "DPSCOPE_TEST_EXPORT_CHILD_DIR";
    if let Some(dir) = std::env::var_os(CHILD) {
        // `Ctrl-s` as the UI runs it: written on the export thread.
        let dir = std::path::PathBuf::from(dir);
        let (mut app, mut rx) = with_jobs(app(&dir));
        app.update(Action::Export);
        let msg = wait_for_export(&mut app, &mut rx);
        assert!(!msg.error, "{}", msg.text);
        return;
    }
    // Root may give files away; anyone may "give" them to themselves.
    let (uid, gid) = if nix::unistd::geteuid().is_root() {
        (65534, 65534)
    } else {
        (
            nix::unistd::getuid().as_raw(),
            nix::unistd::getgid().as_raw(),
        )
    };
    let tmp = tempfile::tempdir().unwrap();
    // The user's own directory, as a dump directory under sudo must be.
    std::os::unix::fs::chown(tmp.path(), Some(uid), Some(gid)).unwrap();
    let dir = tmp.path().join("sudo-dumps");
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "export_under_sudo_chowns_to_the_invoking_user",
            "--nocapture",
        ])
        .env(CHILD, &dir)
        .env("SUDO_UID", uid.to_string())
        .env("SUDO_GID", gid.to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let m = e.unwrap().metadata().unwrap();
        assert_eq!((m.uid(), m.gid()), (uid, gid));
        n += 1;
    }
    assert_eq!(n, 6);
    let m = std::fs::metadata(&dir).unwrap();
    assert_eq!((m.uid(), m.gid()), (uid, gid), "the directory it created");
}
