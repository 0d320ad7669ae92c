//! Bad input is a clear line and exit 2, never a panic, a silent default or a leak: numbers
//! out of range, typos in probe and pane names, corrupt lines of a recording, floods of objects
//! under a memory limit, and (under sudo) a config file that is not the invoking user's to show.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_dpscope");

fn demo() -> String {
    format!("{}/assets/demo.json", env!("CARGO_MANIFEST_DIR"))
}

fn dpscope(args: &[&str], config: Option<&Path>) -> Output {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_remove("SUDO_UID")
        .env_remove("SUDO_GID")
        .env_remove("SUDO_USER");
    match config {
        Some(p) => c.env("DPSCOPE_CONFIG", p),
        None => c.env("DPSCOPE_CONFIG", "/dev/null"),
    };
    c.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit 2 with one `dpscope: error:` line that contains every one of `want`.
fn assert_bad_input(o: &Output, want: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(err.starts_with("dpscope: error: "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for w in want {
        assert!(err.contains(w), "{w:?} not in {err}");
    }
}

#[test]
fn huge_numbers_are_one_line_and_exit_2() {
    let d = demo();
    for args in [
        vec!["--interval", "1e300", "show", "programs", "--from", &d],
        vec!["snapshot", "--duration", "1e300"],
        vec!["record", "-o", "/nonexistent/x", "--duration", "1e300"],
        vec![
            "record",
            "-o",
            "/nonexistent/x",
            "--duration",
            "1",
            "--every",
            "1e300",
        ],
        vec!["show", "programs", "--duration", "1e300"],
        vec!["snapshot", "--duration=-1"],
        vec!["--interval", "inf", "show", "programs", "--from", &d],
    ] {
        let o = dpscope(&args, None);
        assert_bad_input(&o, &["seconds"]);
    }
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("c.toml");
    std::fs::write(&cfg, "interval = 1e300\n").unwrap();
    let o = dpscope(&["show", "programs", "--from", &d], Some(&cfg));
    assert_bad_input(&o, &["interval", "seconds"]);
}

#[test]
fn typos_name_the_valid_choices() {
    let d = demo();
    let o = dpscope(
        &["--probe", "nosuch", "show", "programs", "--from", &d],
        None,
    );
    assert_bad_input(&o, &["nosuch", "drops", "retransmits", "syscall_denials"]);
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("c.toml");
    std::fs::write(&cfg, "probes = [\"drops\", \"nosuch\"]\n").unwrap();
    let o = dpscope(&["show", "programs", "--from", &d], Some(&cfg));
    assert_bad_input(&o, &["nosuch", "drops", "flows"]);
    std::fs::write(&cfg, "pane = \"nope\"\n").unwrap();
    let o = dpscope(&["show", "programs", "--from", &d], Some(&cfg));
    assert_bad_input(&o, &["nope", "conntrack"]);
    let o = dpscope(&["show", "nope", "--from", &d], None);
    assert_bad_input(&o, &["nope", "conntrack"]);
}

/// One snapshot of the rich fixture.
fn rich() -> dpscope::model::Snapshot {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rich.json");
    dpscope::model::io::load(&p).unwrap().snapshots.remove(0)
}

/// A recording of three good lines with a corrupt one and one of another schema between them.
fn damaged_recording(dir: &Path) -> PathBuf {
    let good = dpscope::model::io::to_json_line(&rich());
    let other = r#"{"schema":"dpscope.snapshot/v7","programs":[]}"#;
    let p = dir.join("rec.jsonl");
    std::fs::write(
        &p,
        format!("{good}\n{{\"schema\": broken\n{good}\n{other}\n{good}\n"),
    )
    .unwrap();
    p
}

#[test]
fn show_and_diff_say_which_lines_of_a_recording_they_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let rec = damaged_recording(tmp.path());
    let rec = rec.to_string_lossy().into_owned();
    for args in [
        vec!["show", "programs", "--from", &rec],
        vec!["diff", &rec],
        vec!["diff", &rec, &rec],
    ] {
        let o = dpscope(&args, None);
        assert!(o.status.success(), "{args:?}: {o:?}");
        let err = stderr(&o);
        assert!(
            err.contains("warning") && err.contains("skipped 2 unreadable line(s)"),
            "{args:?}: {err}"
        );
        assert!(err.contains(": 2, 4 "), "{args:?}: {err}");
    }
}

#[test]
fn a_truncated_pretty_snapshot_names_the_line_it_ends_on() {
    let tmp = tempfile::tempdir().unwrap();
    let pretty = dpscope::model::io::to_json_pretty(&rich());
    let cut: Vec<&str> = pretty.lines().take(40).collect();
    let p = tmp.path().join("cut.json");
    std::fs::write(&p, cut.join("\n")).unwrap();
    let o = dpscope(&["show", "programs", "--from", &p.to_string_lossy()], None);
    assert_bad_input(&o, &["line 40"]);
}

/// 15 MB of empty program objects: refused at the cap with exit 2 under a 1 GiB address-space
/// limit (the whole-file JSON tree took 5.4 GB and aborted with 134).
#[test]
fn a_flood_of_empty_objects_is_refused_within_a_memory_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("flood.json");
    let n = 15 * 1024 * 1024 / 3;
    let mut text = String::with_capacity(n * 3 + 64);
    text.push_str("{\"schema\":\"dpscope.snapshot/v1\",\"programs\":[");
    for i in 0..n {
        if i > 0 {
            text.push(',');
        }
        text.push_str("{}");
    }
    text.push_str("]}");
    std::fs::write(&p, &text).unwrap();
    let o = Command::new("prlimit")
        .arg(format!("--as={}", 1u64 << 30))
        .arg(BIN)
        .args(["show", "programs", "--from"])
        .arg(&p)
        .env("DPSCOPE_CONFIG", "/dev/null")
        .output()
        .expect("prlimit (util-linux) runs");
    assert_bad_input(&o, &["programs holds more than", "refusing"]);
    // The same flood as a recording line.
    let rec = tmp.path().join("flood.jsonl");
    std::fs::write(&rec, format!("{text}\n")).unwrap();
    let o = Command::new("prlimit")
        .arg(format!("--as={}", 1u64 << 30))
        .arg(BIN)
        .args(["diff"])
        .arg(&rec)
        .arg(&p)
        .env("DPSCOPE_CONFIG", "/dev/null")
        .output()
        .unwrap();
    assert_bad_input(&o, &["programs holds more than"]);
    // The same count of empty conntrack entries (288 bytes each in memory, under the per-pane
    // cap of 16M): refused by the memory they would take, within the same limit.
    let ct = tmp.path().join("ct-flood.json");
    std::fs::write(&ct, text.replace("\"programs\"", "\"conntrack\"")).unwrap();
    let o = Command::new("prlimit")
        .arg(format!("--as={}", 1u64 << 30))
        .arg(BIN)
        .args(["show", "conntrack", "--from"])
        .arg(&ct)
        .env("DPSCOPE_CONFIG", "/dev/null")
        .output()
        .unwrap();
    assert_bad_input(&o, &["conntrack holds", "in memory", "refusing"]);
}

#[test]
fn config_errors_echo_at_most_200_safe_characters() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("c.toml");
    let long = format!("theme = \"x\" \x1b]0;t\x07 {}\n", "y".repeat(5000));
    std::fs::write(&cfg, long).unwrap();
    let o = dpscope(&["show", "programs", "--from", &demo()], Some(&cfg));
    assert_bad_input(&o, &["line 1"]);
    let err = stderr(&o);
    assert!(err.len() < 700, "{} chars: {err}", err.len());
    assert!(!err.contains('\x1b'), "{err:?}");
}

/// Run dpscope as root for `user` as sudo would, with `DPSCOPE_CONFIG` (kept by `sudo -E`).
fn as_sudo(user: &common::TestUser, config: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .envs(user.sudo_env())
        .env("DPSCOPE_CONFIG", config)
        .output()
        .unwrap()
}

const SHADOW: &str = "root:$6$SeCrEtHaSh$abcdefghijklmnop:19000:0:99999:7:::\n";

#[test]
fn under_sudo_a_config_that_is_not_the_users_is_neither_read_nor_echoed() {
    if !common::require_priv("under_sudo_a_config_that_is_not_the_users_is_neither_read") {
        return;
    }
    let user = common::TestUser::new();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let secret = tmp.path().join("shadow");
    std::fs::write(&secret, SHADOW).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir(&home).unwrap();
    user.own(&home);
    let d = demo();
    let show = ["show", "programs", "--from", d.as_str()];

    // The user's config is a symlink to a root-only file: not followed, nothing of it shown.
    let link = home.join("config.toml");
    std::os::unix::fs::symlink(&secret, &link).unwrap();
    user.own(&link);
    let o = as_sudo(&user, &link, &show);
    assert_bad_input(&o, &["symlink"]);
    assert!(!stderr(&o).contains("SeCrEt"), "{}", stderr(&o));

    // A hard link or copy owned by root that the user cannot read: no content echoed.
    let unreadable = home.join("root-owned.toml");
    std::fs::write(&unreadable, SHADOW).unwrap();
    std::fs::set_permissions(&unreadable, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = as_sudo(&user, &unreadable, &show);
    assert_bad_input(&o, &["content not shown"]);
    assert!(!stderr(&o).contains("SeCrEt"), "{}", stderr(&o));

    // Owned by another (non-root) user: refused.
    let other = common::TestUser::new();
    let theirs = home.join("theirs.toml");
    std::fs::write(&theirs, "theme = \"default\"\n").unwrap();
    other.own(&theirs);
    let o = as_sudo(&user, &theirs, &show);
    assert_bad_input(&o, &["belongs to"]);

    // The user's own broken file: its line is echoed (they can read it anyway).
    let mine = home.join("mine.toml");
    std::fs::write(&mine, "thme = \"x\"\n").unwrap();
    user.own(&mine);
    let o = as_sudo(&user, &mine, &show);
    assert_bad_input(&o, &["thme"]);
}

/// Child half of the `~` test: print the dump directory the config file gives.
#[test]
fn child_print_dump_dir() {
    if std::env::var_os("DPSCOPE_TEST_PRINT_DUMP_DIR").is_none() {
        return;
    }
    let (_, c) = dpscope::config::load().unwrap().unwrap();
    println!("DUMP_DIR={}", c.dump_dir.unwrap().display());
}

#[test]
fn under_sudo_tilde_in_the_users_config_is_the_users_home() {
    if !common::require_priv("under_sudo_tilde_in_the_users_config_is_the_users_home") {
        return;
    }
    let user = common::TestUser::new();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("config.toml");
    std::fs::write(&cfg, "dump_dir = \"~/incidents\"\n").unwrap();
    user.own(&cfg);
    let o = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_print_dump_dir", "--nocapture"])
        .envs(user.sudo_env())
        .env("DPSCOPE_CONFIG", &cfg)
        .env("DPSCOPE_TEST_PRINT_DUMP_DIR", "1")
        .env("HOME", "/root")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let home = common::run("getent", &["passwd", &user.name]);
    let home = home.trim().split(':').nth(5).unwrap().to_string();
    assert!(
        out.contains(&format!("DUMP_DIR={home}/incidents")),
        "{out} {}",
        String::from_utf8_lossy(&o.stderr)
    );
}
