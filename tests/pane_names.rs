//! One name and one set of aliases per pane (`model::PaneId`), the same wherever a pane is
//! named, and one set of objects per pane, the same in every form `show` prints.
//!
//! The binary is driven as a user would: `show WORD`, `--pane WORD`, the config file's
//! `pane = "WORD"`, `show PANE --json` against `show PANE`.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dpscope::app::palette::{self, Command};
use dpscope::model::{PaneId, Snapshot};
use serde_json::Value;
use std::path::Path;
use std::process::{Command as Process, Output};

const BIN: &str = env!("CARGO_BIN_EXE_dpscope");

fn run(args: &[&str], config: Option<&Path>) -> Output {
    let mut c = Process::new(BIN);
    c.args(args).env_remove("NO_COLOR");
    match config {
        Some(path) => c.env("DPSCOPE_CONFIG", path),
        // A config file on this machine must not change what the test sees.
        None => c.env("DPSCOPE_CONFIG", "/dev/null"),
    };
    c.output().unwrap()
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn fixture(name: &str) -> Snapshot {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    dpscope::model::io::load(&path)
        .unwrap()
        .snapshots
        .pop()
        .unwrap()
}

/// One snapshot with something in every pane: the rich fixture plus the Cilium, probe and
/// denial fixtures' tables; as JSON, the way the binary writes it.
fn everything() -> Value {
    let mut s = fixture("rich.json");
    let c = fixture("cilium.json");
    (s.tailcalls, s.services, s.conntrack) = (c.tailcalls, c.services, c.conntrack);
    (s.identities, s.endpoints, s.policy, s.metrics) =
        (c.identities, c.endpoints, c.policy, c.metrics);
    s.cilium = c.cilium;
    let p = fixture("probes.json");
    (s.retransmits, s.drops, s.xdp_errors, s.flows) =
        (p.retransmits, p.drops, p.xdp_errors, p.flows);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/denials.json");
    let mut recording = dpscope::model::io::load(&path).unwrap().snapshots;
    s.denials = recording.swap_remove(1).denials;
    serde_json::to_value(&s).unwrap()
}

fn write(dir: &Path, name: &str, v: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string(v).unwrap()).unwrap();
    path.display().to_string()
}

#[test]
fn every_pane_word_opens_the_same_pane_in_the_palette() {
    for (word, pane) in PaneId::words() {
        for typed in [
            word.to_string(),
            format!(":{word}"),
            word.to_ascii_uppercase(),
        ] {
            assert_eq!(
                palette::resolve(&typed),
                Some(Command::Pane(pane)),
                "{typed}"
            );
        }
        assert_eq!(PaneId::parse(word), Some(pane), "{word}");
    }
}

/// `:tcp` opened the Retransmits pane while `show tcp` and `--pane tcp` were unknown panes,
/// and `show id` worked where `:id` did not: every word now works everywhere.
#[test]
fn every_pane_word_works_the_same_in_show_pane_and_config() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = write(tmp.path(), "snap.json", &everything());
    for pane in PaneId::ALL {
        let want = ok(
            &run(&["show", pane.name(), "--from", &snap], None),
            pane.name(),
        );
        for word in std::iter::once(pane.name()).chain(pane.aliases().iter().copied()) {
            for w in [word.to_string(), word.to_ascii_uppercase()] {
                let got = ok(&run(&["show", &w, "--from", &snap], None), &w);
                assert_eq!(got, want, "show {w} is not show {pane}");
                ok(
                    &run(&["--pane", &w, "show", "node", "--from", &snap], None),
                    &w,
                );
                let cfg = tmp.path().join("config.toml");
                std::fs::write(&cfg, format!("pane = \"{w}\"\n")).unwrap();
                ok(&run(&["show", "node", "--from", &snap], Some(&cfg)), &w);
            }
        }
    }
    // A word that names no pane is the same one-line error (exit 2) everywhere.
    let cfg = tmp.path().join("bad.toml");
    std::fs::write(&cfg, "pane = \"nope\"\n").unwrap();
    for out in [
        run(&["show", "nope", "--from", &snap], None),
        run(&["--pane", "nope", "show", "node", "--from", &snap], None),
        run(&["show", "node", "--from", &snap], Some(&cfg)),
    ] {
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.starts_with("dpscope: error: unknown pane \"nope\""),
            "{err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
}

/// The snapshot arrays a pane's JSON form holds: the array itself, or each array of an object
/// (the Attachments pane: `{"attachments": [...], "links": [...]}`).
fn sections(snap: &Value, json: &Value) -> Vec<String> {
    let Value::Object(top) = snap else {
        panic!("snapshot is not an object")
    };
    let parts: Vec<&Value> = match json {
        Value::Array(_) => vec![json],
        Value::Object(o) => o.values().collect(),
        _ => vec![],
    };
    top.iter()
        .filter(|(_, v)| v.is_array() && parts.contains(v))
        .map(|(k, _)| k.clone())
        .collect()
}

/// Rows of a text table (its header line off). `show policy` frames each endpoint the way
/// `cilium-dbg bpf policy get` does (its id, a header, and for an empty policy map the CLI's
/// "Policy stats empty" line): those frame lines are not rows of objects.
fn text_rows(text: &str) -> usize {
    text.lines()
        .skip(1)
        .filter(|l| !l.starts_with('(') && !l.is_empty())
        .filter(|l| {
            !l.starts_with("Endpoint ID:")
                && !l.starts_with("POLICY ")
                && !l.starts_with("Policy stats empty.")
        })
        .count()
}

/// `show links` printed the attachments table but `show links --json` the BPF links, and
/// `show attachments` listed links its JSON did not hold. Now each pane's text rows come from
/// exactly the objects its JSON holds: without those objects the table is empty; with only
/// them (every other array emptied) it is the same table.
#[test]
fn every_pane_shows_the_same_objects_as_text_and_json() {
    let tmp = tempfile::tempdir().unwrap();
    let full = everything();
    let path = write(tmp.path(), "full.json", &full);
    // Node is one object whose fields are the rows; every other pane is a list of objects.
    for pane in PaneId::ALL.into_iter().filter(|p| *p != PaneId::Node) {
        let name = pane.name();
        let json: Value = serde_json::from_str(&ok(
            &run(&["show", name, "--json", "--from", &path], None),
            name,
        ))
        .unwrap();
        if pane == PaneId::Tailcalls {
            tailcalls_json_is_the_tree_the_text_shows(&full, &json, &path, tmp.path());
            continue;
        }
        let mine = sections(&full, &json);
        assert!(
            !mine.is_empty(),
            "{name}: --json is no snapshot array: {json}"
        );
        let rows = text_rows(&ok(&run(&["show", name, "--from", &path], None), name));
        assert!(rows > 0, "{name}: the fixture has rows for every pane");

        let mut without = full.clone();
        for k in &mine {
            without[k.as_str()] = Value::Array(vec![]);
        }
        let p = write(tmp.path(), &format!("without-{name}.json"), &without);
        let text = ok(&run(&["show", name, "--from", &p], None), name);
        assert_eq!(
            text_rows(&text),
            0,
            "{name}: rows shown without the objects of its JSON ({mine:?}):\n{text}"
        );

        let mut only = full.clone();
        if let Value::Object(o) = &mut only {
            for (k, v) in o.iter_mut() {
                // Programs stay: other panes name the programs they point at.
                if v.is_array() && !mine.contains(k) && k != "programs" {
                    *v = Value::Array(vec![]);
                }
            }
        }
        let p = write(tmp.path(), &format!("only-{name}.json"), &only);
        let text = ok(&run(&["show", name, "--from", &p], None), name);
        assert_eq!(
            text_rows(&text),
            rows,
            "{name}: rows come from objects its JSON ({mine:?}) does not hold:\n{text}"
        );
    }
}

/// Lines of a JSON tree (`show tailcalls --json`): each node and its `children`.
fn tree_lines(v: &Value) -> usize {
    match v {
        Value::Array(a) => a.iter().map(tree_lines).sum(),
        Value::Object(o) => 1 + o.get("children").map_or(0, tree_lines),
        _ => 0,
    }
}

/// The tail-call pane is a tree rooted at the attach points: its JSON is that tree, one node
/// per text row with the same text, and without the prog arrays there is nothing to show.
fn tailcalls_json_is_the_tree_the_text_shows(
    full: &Value,
    json: &Value,
    path: &str,
    dir: &std::path::Path,
) {
    let text = ok(
        &run(&["show", "tailcalls", "--from", path], None),
        "tailcalls",
    );
    let rows = text_rows(&text);
    assert!(rows > 0, "tailcalls: the fixture has rows");
    assert_eq!(tree_lines(json), rows, "{json}\n{text}");
    let first = json[0]["text"].as_str().unwrap_or_default();
    assert!(
        text.lines().nth(1).is_some_and(|l| l.starts_with(first)),
        "{first:?} vs\n{text}"
    );
    let mut without = full.clone();
    without["tailcalls"] = Value::Array(vec![]);
    let p = write(dir, "without-tailcalls.json", &without);
    let text = ok(
        &run(&["show", "tailcalls", "--from", &p], None),
        "tailcalls",
    );
    assert_eq!(text_rows(&text), 0, "{text}");
}

/// `show PANE --json` of every pane into a pipe is compact, one line (bpftool `-j`), and on a
/// terminal the same JSON pretty-printed (`-p`); only `show conntrack` did this before.
#[test]
fn every_pane_json_is_compact_into_a_pipe_and_pretty_on_a_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write(tmp.path(), "full.json", &everything());
    for pane in PaneId::ALL {
        let name = pane.name();
        let piped = ok(&run(&["show", name, "--json", "--from", &path], None), name);
        let v: Value = serde_json::from_str(&piped).unwrap();
        assert_eq!(
            piped,
            format!("{}\n", serde_json::to_string(&v).unwrap()),
            "{name}"
        );
        // A terminal: `script` gives the command a pty (its output with CRLF line ends).
        let cmd = format!("DPSCOPE_CONFIG=/dev/null {BIN} show {name} --json --from {path}");
        let out = Process::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: script failed");
        let tty = String::from_utf8(out.stdout).unwrap().replace("\r\n", "\n");
        let pretty: Value = serde_json::from_str(&tty).unwrap();
        assert_eq!(pretty, v, "{name}: the same JSON on a terminal");
        assert!(
            tty.lines().count() > 2,
            "{name}: pretty on a terminal:\n{tty}"
        );
        if pane != PaneId::Conntrack {
            // (conntrack streams its own pretty form.)
            assert_eq!(
                tty,
                format!("{}\n", serde_json::to_string_pretty(&v).unwrap()),
                "{name}"
            );
        }
    }
}

/// `show PANE --format table|md|csv` writes each row as it is formatted (`Pane::plain_rows`):
/// the same bytes as the pane's plain table rendered whole (what export writes), in the same
/// order (dpscope's own objects last).
#[test]
fn show_writes_the_rows_of_the_plain_table_in_its_order() {
    use dpscope::pane::plain::{pane_table, render, Format};
    let tmp = tempfile::tempdir().unwrap();
    let full = everything();
    let path = write(tmp.path(), "full.json", &full);
    let snap: Snapshot = serde_json::from_value(full).unwrap();
    for pane in PaneId::ALL {
        let name = pane.name();
        let t = pane_table(pane, &snap, None);
        for (flag, format) in [
            ("table", Format::Text),
            ("md", Format::Markdown),
            ("csv", Format::Csv),
        ] {
            if pane == PaneId::Conntrack && flag == "csv" {
                continue; // streamed in the JSON field order (tests/conntrack_stream.rs)
            }
            let shown = ok(
                &run(&["show", name, "--format", flag, "--from", &path], None),
                name,
            );
            assert_eq!(shown, render(&t, format), "{name} --format {flag}");
        }
    }
}
