//! `dpscope diff A B [--json]` on real files through the real binary.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn dpscope(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dpscope"))
        .args(args)
        .output()
        .unwrap()
}

/// `rich.json` changed the way an incident changes a node: program 130 unloaded and its id
/// reused by a new load, map 102 grew, the first attachment moved.
fn changed_copy(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(fixture("rich.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["taken_at"] = "2026-11-21T03:20:00Z".into();
    for p in v["programs"].as_array_mut().unwrap() {
        if p["id"] == 130 {
            p["tag"] = "feedfacefeedface".into();
            p["load_time_ns"] = 300000000000000u64.into();
        }
    }
    for m in v["maps"].as_array_mut().unwrap() {
        if m["id"] == 102 {
            m["entries"] = 490000.into();
        }
    }
    v["attachments"][0]["position"] = 5.into();
    let path = dir.join("after.json");
    std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
    path
}

#[test]
fn diff_text_names_each_change_by_pane() {
    let dir = tempfile::tempdir().unwrap();
    let b = changed_copy(dir.path());
    let a = fixture("rich.json");
    let out = dpscope(&["diff", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("diff 2026-11-21T03:12:44Z → 2026-11-21T03:20:00Z"));
    assert!(text.contains("programs (+1 -1 ~0)"), "{text}");
    assert!(text.contains("  - prog 130 ") && text.contains("  + prog 130 "));
    assert!(text.contains("tag feedfacefeedface"), "{text}");
    assert!(text.contains("maps (+0 -0 ~1)"), "{text}");
    assert!(text.contains("entries 482345 → 490000"), "{text}");
    assert!(text.contains("attachments (+0 -0 ~1)"), "{text}");
    assert!(text.contains("→ 5"), "{text}");
    assert!(
        text.contains("conntrack (+0 -0 ~0)\n  (no changes)"),
        "{text}"
    );

    // Same file twice: nothing changed, still exit 0.
    let same = dpscope(&["diff", a.to_str().unwrap(), a.to_str().unwrap()]);
    assert_eq!(same.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&same.stdout).contains("  + "));
}

#[test]
fn diff_json_is_structured() {
    let dir = tempfile::tempdir().unwrap();
    let b = changed_copy(dir.path());
    let a = fixture("rich.json");
    let out = dpscope(&["diff", a.to_str().unwrap(), b.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["from"], "2026-11-21T03:12:44Z");
    let progs = &v["panes"][0];
    assert_eq!(progs["pane"], "programs");
    let changes = progs["changes"].as_array().unwrap();
    let kinds: Vec<&str> = changes
        .iter()
        .map(|c| c["change"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["removed", "added"]);
    let maps = v["panes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pane"] == "maps")
        .unwrap();
    assert_eq!(maps["changes"][0]["change"], "changed");
    assert_eq!(maps["changes"][0]["detail"], "entries 482345 → 490000");
}

#[test]
fn diff_bad_files_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{ not json").unwrap();
    let a = fixture("rich.json");
    for args in [
        vec!["diff", a.to_str().unwrap(), bad.to_str().unwrap()],
        vec!["diff", "/nonexistent/x.json", a.to_str().unwrap()],
    ] {
        let out = dpscope(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("dpscope: error: "), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}
