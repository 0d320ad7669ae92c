//! Terminal escape injection: strings set by other processes (comm, paths) or by whoever wrote
//! a snapshot file reach the operator's terminal and text files only as visible escapes.
//!
//! A crafted snapshot carries the payload in every string field that still loads with it; every
//! pane is printed in every format (`show`), diffed (`diff`), and exported (`Ctrl-s`). Live: a
//! process names itself with the payload (`prctl(PR_SET_NAME)`) and is refused an open of a
//! path holding escape codes, then holds a BPF program; `show denials` and `show programs`
//! print both.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_dpscope");

/// Clears the screen, sets the window title, writes the clipboard (OSC 52), a C1 CSI, a forged
/// table row, a bidi override and DEL.
const PAYLOAD: &str = "x\x1b]0;pwned\x07\x1b[2J\x1b]52;c;cm0gLXJmIH4=\x07\u{9b}31m\r\nFORGED ROW | 1 | 2\u{202e}gnp.exe\u{7f}=cmd|'/c calc'!A0<img src=x onerror=alert(1)>`";

/// Characters that must never reach a terminal raw (newline aside, where the format has rows).
fn raw_unsafe(s: &str, allow: &[char]) -> Vec<char> {
    s.chars()
        .filter(|c| !allow.contains(c) && dpscope::sanitize::is_unsafe(*c))
        .take(20)
        .collect()
}

fn fixture(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let loaded = dpscope::model::io::load(&p).unwrap();
    serde_json::to_value(&loaded.snapshots[0]).unwrap()
}

/// Every pane's rows: the rich fixture, with the panes it leaves empty from the others.
fn every_pane() -> Value {
    let mut base = fixture("rich.json");
    for other in ["cilium.json", "denials.json", "probes.json"] {
        let o = fixture(other);
        for (k, v) in o.as_object().unwrap() {
            let empty = base
                .get(k)
                .is_none_or(|b| b.as_array().is_some_and(|a| a.is_empty()));
            if empty && v.as_array().is_some_and(|a| !a.is_empty()) {
                base[k] = v.clone();
            }
        }
    }
    base
}

fn loads(v: &Value) -> bool {
    serde_json::from_value::<dpscope::model::Snapshot>(v.clone()).is_ok()
}

fn leaf_paths(v: &Value, path: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    match v {
        Value::String(_) => out.push(path.clone()),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                path.push(Value::from(i));
                leaf_paths(x, path, out);
                path.pop();
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                path.push(Value::from(k.clone()));
                leaf_paths(x, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn at<'a>(v: &'a mut Value, path: &[Value]) -> &'a mut Value {
    path.iter().fold(v, |v, k| match k {
        Value::Number(n) => &mut v[n.as_u64().unwrap() as usize],
        Value::String(s) => &mut v[s.as_str()],
        _ => unreachable!(),
    })
}

/// The crafted snapshot: the payload appended to every string that may hold one.
fn crafted() -> Value {
    let mut v = every_pane();
    let mut paths = Vec::new();
    leaf_paths(&v, &mut Vec::new(), &mut paths);
    for p in paths {
        if matches!(p.first().and_then(|k| k.as_str()), Some("schema")) {
            continue;
        }
        let old = at(&mut v, &p).clone();
        let s = old.as_str().unwrap();
        *at(&mut v, &p) = Value::from(format!("{s}{PAYLOAD}"));
        if !loads(&v) {
            *at(&mut v, &p) = old;
        }
    }
    v
}

fn write_crafted(dir: &Path) -> PathBuf {
    let p = dir.join("crafted.json");
    std::fs::write(&p, serde_json::to_string_pretty(&crafted()).unwrap()).unwrap();
    p
}

fn show(file: &Path, pane: &str, format: &str) -> String {
    let out = Command::new(BIN)
        .args(["show", pane, "--format", format, "--from"])
        .arg(file)
        .env("DPSCOPE_CONFIG", "/dev/null")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "show {pane} --format {format}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Some string of the JSON holds the payload exactly: JSON stays lossless.
fn holds_payload(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains(PAYLOAD),
        Value::Array(a) => a.iter().any(holds_payload),
        Value::Object(o) => o.values().any(holds_payload),
        _ => false,
    }
}

#[test]
fn every_pane_in_every_format_shows_crafted_strings_as_visible_escapes() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write_crafted(tmp.path());
    let mut shown_escaped = Vec::new();
    let mut panes: Vec<&str> = dpscope::model::PaneId::ALL
        .iter()
        .map(|p| p.name())
        .collect();
    if !panes.contains(&"links") {
        panes.push("links");
    }
    for pane in panes {
        for format in ["text", "table", "csv", "md", "json"] {
            let out = show(&file, pane, format);
            let allow: &[char] = match format {
                "csv" => &['\r', '\n'],
                _ => &['\n'],
            };
            let bad = raw_unsafe(&out, allow);
            assert!(
                bad.is_empty(),
                "show {pane} --format {format}: raw {bad:?} in\n{out}"
            );
            match format {
                "json" => {
                    let v: Value = serde_json::from_str(&out).unwrap();
                    if holds_payload(&v) {
                        shown_escaped.push(format!("{pane}/json"));
                    }
                }
                _ => {
                    // Markdown also escapes the `]`.
                    let shown = if format == "md" {
                        "\\\\x1b\\]0;pwned\\\\x07"
                    } else {
                        "\\x1b]0;pwned\\x07"
                    };
                    if out.contains(shown) {
                        shown_escaped.push(format!("{pane}/{format}"));
                    }
                    // A newline in a name never starts a row of its own.
                    assert!(
                        !out.lines().any(|l| l.starts_with("FORGED ROW")),
                        "show {pane} --format {format}: forged row\n{out}"
                    );
                }
            }
            if format == "csv" && out.contains("=cmd") {
                assert!(!out.contains(",=cmd"), "unguarded formula\n{out}");
            }
            if format == "md" {
                assert!(!out.contains("<img"), "raw HTML in Markdown\n{out}");
            }
        }
    }
    // The payload really went through the panes that show names, comm and paths.
    for want in [
        "programs/text",
        "maps/csv",
        "denials/md",
        "retransmits/text",
        "attachments/text",
        "node/json",
        "conntrack/json",
    ] {
        assert!(
            shown_escaped.iter().any(|s| s == want),
            "{want} never showed the payload: {shown_escaped:?}"
        );
    }
}

#[test]
fn diff_text_and_json_are_safe() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.json");
    std::fs::write(&a, serde_json::to_string(&every_pane()).unwrap()).unwrap();
    let b = write_crafted(tmp.path());
    for json in [false, true] {
        let mut c = Command::new(BIN);
        c.arg("diff").arg(&a).arg(&b);
        if json {
            c.arg("--json");
        }
        let out = c.env("DPSCOPE_CONFIG", "/dev/null").output().unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        let bad = raw_unsafe(&text, &['\n']);
        assert!(bad.is_empty(), "diff (json {json}): raw {bad:?}\n{text}");
        if json {
            assert!(holds_payload(&serde_json::from_str(&text).unwrap()));
        } else {
            assert!(text.contains("\\x1b]0;pwned"), "{text}");
            assert!(!text.lines().any(|l| l.starts_with("FORGED ROW")), "{text}");
        }
    }
}

/// `diff --nodes` of a bundle whose node names (file names) and snapshots carry the payload.
#[test]
fn diff_nodes_text_and_json_are_safe() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("a.json"),
        serde_json::to_string(&every_pane()).unwrap(),
    )
    .unwrap();
    let name = "n\u{9b}31m\u{202e}\x1b]0;pwned\x07.json";
    std::fs::write(
        tmp.path().join(name),
        serde_json::to_string_pretty(&crafted()).unwrap(),
    )
    .unwrap();
    for json in [false, true] {
        let mut c = Command::new(BIN);
        c.arg("diff").arg("--nodes").arg(tmp.path());
        if json {
            c.arg("--json");
        }
        let out = c.env("DPSCOPE_CONFIG", "/dev/null").output().unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        let bad = raw_unsafe(&text, &['\n']);
        assert!(
            bad.is_empty(),
            "diff --nodes (json {json}): raw {bad:?}\n{text}"
        );
        if json {
            let _: Value = serde_json::from_str(&text).unwrap();
            assert!(text.contains("\\u009b"), "{text}");
        }
    }
}

/// The SGR sequences dpscope's own ANSI screen export writes, removed.
fn strip_sgr(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("\x1b[") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(after.len());
        if after[end..].starts_with('m') {
            rest = &after[end + 1..];
        } else {
            out.push_str("\x1b[");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn ctrl_s_files_and_the_screen_are_safe() {
    use dpscope::app::{Action, App, UiOptions};
    let snap: dpscope::model::Snapshot = serde_json::from_value(crafted()).unwrap();
    let opts = UiOptions {
        interval_ms: 1000,
        ..Default::default()
    };
    let tmp = tempfile::tempdir().unwrap();
    for pane in ["programs", "denials", "maps", "retransmits"] {
        let mut app = App::with_snapshot(snap.clone(), &opts);
        app.update(Action::Resize(160, 40));
        app.pane = dpscope::model::PaneId::parse(pane).unwrap();
        let dir = tmp.path().join(pane);
        let e = dpscope::tui::export::export_to(&app, &dir, "T").unwrap();
        let read = |p: &Path| std::fs::read_to_string(p).unwrap();
        let csv = read(e.csv.as_deref().unwrap());
        assert!(
            raw_unsafe(&csv, &['\r', '\n']).is_empty(),
            "{pane} csv\n{csv}"
        );
        assert!(csv.contains("\\x1b]0;pwned"), "{pane} csv\n{csv}");
        let md = read(e.markdown.as_deref().unwrap());
        assert!(raw_unsafe(&md, &['\n']).is_empty(), "{pane} md\n{md}");
        assert!(!md.contains("<img"), "{pane} md\n{md}");
        let json = read(&e.snapshot);
        assert!(raw_unsafe(&json, &['\n']).is_empty(), "{pane} json");
        assert!(holds_payload(&serde_json::from_str(&json).unwrap()));
        // The screen as drawn (what the TUI sends to the terminal) holds no control either.
        let screen = read(&e.screen_text);
        let bad = raw_unsafe(&screen, &['\n']);
        assert!(bad.is_empty(), "{pane} screen: {bad:?}\n{screen}");
        let ansi = read(&e.screen_ansi);
        let bare = strip_sgr(&ansi);
        assert!(
            raw_unsafe(&bare, &['\n']).is_empty(),
            "{pane} ansi\n{bare:?}"
        );
        let html = read(&e.screen_html);
        assert!(raw_unsafe(&html, &['\n']).is_empty(), "{pane} html");
        assert!(!html.contains("<img"), "{pane} html");
    }
}

/// A comm of 15 bytes at most (the kernel's limit): clear screen and set the title.
const COMM: &str = "\x1b]0;pwn\x07\x1b[2J";
const COMM_SHOWN: &str = "\\x1b]0;pwn\\x07\\x1b[2J";

fn set_thread_name(name: &str) {
    let c = std::ffi::CString::new(name).unwrap();
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes.
    let rc = unsafe { libc::prctl(libc::PR_SET_NAME, c.as_ptr(), 0, 0, 0) };
    assert_eq!(rc, 0, "prctl: {}", std::io::Error::last_os_error());
}

/// Child half of the live denial test, run as an unprivileged user: name this thread with the
/// payload and try to open `$DPSCOPE_TEST_SECRET` (root's, 0600) until told to stop.
#[test]
fn child_denied_open() {
    let Some(secret) = std::env::var_os("DPSCOPE_TEST_SECRET") else {
        return;
    };
    set_thread_name(COMM);
    let until = std::time::Instant::now() + std::time::Duration::from_secs(12);
    let mut denied = 0;
    while std::time::Instant::now() < until {
        match std::fs::File::open(&secret) {
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => denied += 1,
            r => panic!("open of root's file as a user: {r:?}"),
        }
        if Path::new(&secret).with_extension("stop").exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(denied > 0);
}

/// Child half of the live programs test: name the process with the payload, load a BPF
/// program, say READY and hold it until stdin closes.
#[test]
fn child_holds_a_program() {
    if std::env::var_os("DPSCOPE_TEST_HOLD").is_none() {
        return;
    }
    // /proc/self/comm is the main thread's name, which is what process lists show.
    std::fs::write("/proc/self/comm", COMM).unwrap();
    set_thread_name(COMM);
    // r0 = 0; exit: the smallest socket filter.
    let insns: [u64; 2] = [0x0000_0000_0000_00b7, 0x0000_0000_0000_0095];
    let license = c"GPL";
    // SAFETY: two valid instructions, a NUL-terminated license; NULL name and opts are allowed.
    let fd = unsafe {
        libbpf_sys::bpf_prog_load(
            libbpf_sys::BPF_PROG_TYPE_SOCKET_FILTER,
            std::ptr::null(),
            license.as_ptr(),
            insns.as_ptr().cast(),
            2,
            std::ptr::null_mut(),
        )
    };
    assert!(fd >= 0, "bpf_prog_load: {}", -fd);
    println!("READY");
    let mut s = String::new();
    let _ = std::io::stdin().read_line(&mut s);
    // SAFETY: our own descriptor.
    unsafe { libc::close(fd) };
}

#[test]
fn live_comm_and_paths_with_escape_codes_are_shown_as_escapes() {
    use std::io::{BufRead, Write};
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    use std::process::Stdio;
    if !common::require_priv("live_comm_and_paths_with_escape_codes_are_shown_as_escapes") {
        return;
    }
    let user = common::TestUser::new();
    let tmp = tempfile::Builder::new()
        .prefix("dpscope-esc-")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let secret = tmp.path().join("s\x1b]0;path\x07\x1b[2Jx");
    std::fs::write(&secret, "x").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();

    // Two live `show denials` (text and JSON) observe while the user's process is refused.
    let watch = |json: bool| {
        let mut c = Command::new(BIN);
        c.args(["show", "denials", "--duration", "6"]);
        if json {
            c.arg("--json");
        }
        c.env("DPSCOPE_CONFIG", "/dev/null")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let text = watch(false);
    let json = watch(true);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // The user runs a copy of this test binary from the 0755 directory: the build tree may sit
    // where the user cannot reach (CI clones into a 0700 mktemp directory).
    let exe = tmp.path().join("child");
    std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let child = Command::new(&exe)
        .args(["--exact", "child_denied_open", "--nocapture"])
        .env("DPSCOPE_TEST_SECRET", &secret)
        .uid(user.uid)
        .gid(user.gid)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let text = text.wait_with_output().unwrap();
    let json = json.wait_with_output().unwrap();
    std::fs::write(secret.with_extension("stop"), "").unwrap();
    let status = child.wait_with_output().unwrap().status;
    assert!(status.success(), "the denied child failed: {status}");

    assert!(text.status.success(), "{text:?}");
    let out = String::from_utf8(text.stdout).unwrap();
    assert!(
        raw_unsafe(&out, &['\n']).is_empty(),
        "raw controls in\n{out:?}"
    );
    assert!(out.contains(COMM_SHOWN), "comm not shown escaped:\n{out}");
    assert!(out.contains("s\\x1b]0;path\\x07\\x1b[2Jx"), "path:\n{out}");
    assert!(json.status.success(), "{json:?}");
    let out = String::from_utf8(json.stdout).unwrap();
    assert!(
        raw_unsafe(&out, &['\n']).is_empty(),
        "raw controls in\n{out:?}"
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    let target = secret.to_string_lossy();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|d| d["comm"] == COMM && d["target"] == *target),
        "JSON lost the strings: {out}"
    );

    // A process with that name holding a BPF program: `show programs` lists it as owner.
    let mut holder = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_holds_a_program", "--nocapture"])
        .env("DPSCOPE_TEST_HOLD", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(holder.stdout.take().unwrap()).lines();
    assert!(lines.any(|l| l.is_ok_and(|l| l.contains("READY"))));
    let out = Command::new(BIN)
        .args(["show", "programs"])
        .env("DPSCOPE_CONFIG", "/dev/null")
        .output()
        .unwrap();
    let _ = holder.stdin.take().map(|mut s| s.write_all(b"\n"));
    let _ = holder.wait();
    assert!(out.status.success(), "{out:?}");
    let out = String::from_utf8(out.stdout).unwrap();
    assert!(
        raw_unsafe(&out, &['\n']).is_empty(),
        "raw controls in\n{out:?}"
    );
    assert!(
        out.contains(COMM_SHOWN),
        "owner comm not shown escaped:\n{out}"
    );
}
