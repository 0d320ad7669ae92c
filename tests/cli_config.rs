//! The config file (`~/.config/dpscope/config.toml`, or `$DPSCOPE_CONFIG`): bad files are a
//! one-line error with exit 2; good ones give defaults that flags override.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

const BIN: &str = env!("CARGO_BIN_EXE_dpscope");

fn demo() -> String {
    format!("{}/assets/demo.json", env!("CARGO_MANIFEST_DIR"))
}

fn with_config(text: &str, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, text).unwrap();
    std::process::Command::new(BIN)
        .args(args)
        .env("DPSCOPE_CONFIG", &cfg)
        .env_remove("NO_COLOR")
        .output()
        .unwrap()
}

#[test]
fn a_bad_config_file_is_one_line_naming_it_and_exit_2() {
    for (text, needle) in [
        ("thme = \"default\"\n", "thme"),
        ("interval = \"fast\"\n", "interval"),
        ("theme = \"sparkly\"\n", "unknown theme \"sparkly\""),
        ("interval = 0.01\n", "must be from 0.1 to"),
        ("[keys]\nsortt = \"x\"\n", "keys.sortt: no such action"),
        (
            "[keys]\nsort = \"ctrl-\"\n",
            "keys.sort: `ctrl-` is not a key",
        ),
        (
            "[keys]\nsort = \"j\"\n",
            "keys.sort: j is already bound to down",
        ),
        ("[keys]\nsort = 5\n", "keys"),
        ("mouse = \"yes\"\n", "mouse"),
    ] {
        let out = with_config(text, &["show", "node", "--from", &demo()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert!(err.starts_with("dpscope: error: "), "{err}");
        assert!(err.contains(needle), "{text}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
}

#[test]
fn a_missing_explicit_config_file_is_an_error() {
    let out = std::process::Command::new(BIN)
        .args(["show", "node", "--from", &demo()])
        .env("DPSCOPE_CONFIG", "/nonexistent/dpscope.toml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/dpscope.toml"));
}

#[test]
fn a_good_config_file_is_used_and_flags_win() {
    let text = "theme = \"high-contrast\"\ninterval = 2.0\npane = \"maps\"\nprobes = []\n";
    let out = with_config(text, &["show", "programs", "--from", &demo()]);
    assert!(out.status.success(), "{out:?}");
    // A flag overrides the file's value (here: an invalid one, to see which is used).
    let out = with_config(
        text,
        &["--theme", "nope", "show", "node", "--from", &demo()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"nope\""));
}
