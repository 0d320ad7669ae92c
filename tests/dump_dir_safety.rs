//! Files dpscope writes as root (`snapshot -o`, `record -o`, `Ctrl-s`, `R`) cannot be
//! redirected by another local user: no write or chown through a symlink, no directory another
//! user controls, and under sudo nothing the invoking user could not write themselves.
//!
//! Each test makes its own unprivileged user (`useradd`, removed on drop) and runs dpscope as
//! sudo would: root, with `SUDO_UID`/`SUDO_GID`/`SUDO_USER` naming that user. Library paths
//! (`Ctrl-s`, `R`) run in a child run of this test binary, so the environment is the child's.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::TestUser;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_dpscope");
const VICTIM: &str = "root-only secret\n";

/// A scene: `base` (0755, root), `base/victim` (root, 0600), `base/user` (the user's, 0700),
/// `base/rootdir` (root, 0700).
struct Scene {
    _tmp: tempfile::TempDir,
    base: PathBuf,
    user: TestUser,
}

impl Scene {
    fn new() -> Scene {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().to_path_buf();
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).unwrap();
        let user = TestUser::new();
        let victim = base.join("victim");
        std::fs::write(&victim, VICTIM).unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
        let udir = base.join("user");
        std::fs::create_dir(&udir).unwrap();
        std::fs::set_permissions(&udir, std::fs::Permissions::from_mode(0o700)).unwrap();
        user.own(&udir);
        let rootdir = base.join("rootdir");
        std::fs::create_dir(&rootdir).unwrap();
        std::fs::set_permissions(&rootdir, std::fs::Permissions::from_mode(0o700)).unwrap();
        Scene {
            _tmp: tmp,
            base,
            user,
        }
    }

    fn victim(&self) -> PathBuf {
        self.base.join("victim")
    }
    fn udir(&self) -> PathBuf {
        self.base.join("user")
    }
    fn rootdir(&self) -> PathBuf {
        self.base.join("rootdir")
    }

    /// A symlink the user planted at `at`, pointing to the root-only victim.
    fn plant(&self, at: &Path) {
        std::os::unix::fs::symlink(self.victim(), at).unwrap();
        self.user.own(at);
    }

    /// The victim is as root left it: same content, owner and mode.
    fn assert_victim_untouched(&self) {
        let v = self.victim();
        assert_eq!(
            std::fs::read_to_string(&v).unwrap(),
            VICTIM,
            "victim rewritten"
        );
        let m = std::fs::metadata(&v).unwrap();
        assert_eq!((m.uid(), m.gid()), (0, 0), "victim chowned");
        assert_eq!(m.mode() & 0o777, 0o600);
    }

    /// A regular file of the user's, mode 0600.
    fn assert_users_file(&self, p: &Path) {
        let m = std::fs::symlink_metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(m.is_file(), "{} is not a regular file", p.display());
        assert_eq!(
            (m.uid(), m.gid()),
            (self.user.uid, self.user.gid),
            "{}",
            p.display()
        );
        assert_eq!(m.mode() & 0o777, 0o600, "{}", p.display());
    }

    /// Run dpscope as root; with `sudo`, as sudo runs it for the user.
    fn dpscope(&self, sudo: bool, args: &[&str]) -> Output {
        let mut c = Command::new(BIN);
        c.args(["--no-probes", "--no-stats"]).args(args);
        c.env_remove("SUDO_UID")
            .env_remove("SUDO_GID")
            .env_remove("SUDO_USER")
            .env("DPSCOPE_CONFIG", "/dev/null");
        if sudo {
            c.envs(self.user.sudo_env());
        }
        c.output().unwrap()
    }

    /// Run `test` of this binary in a child with the user's sudo environment and `env`.
    fn child(&self, test: &str, env: &[(&str, &Path)]) -> Output {
        let mut c = Command::new(std::env::current_exe().unwrap());
        c.args(["--exact", test, "--nocapture", "--test-threads=1"])
            .envs(self.user.sudo_env())
            .env("DPSCOPE_CONFIG", "/dev/null");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn snapshot_and_record_o_replace_a_planted_symlink_and_never_write_through_it() {
    if !common::require_priv("snapshot_and_record_o_replace_a_planted_symlink") {
        return;
    }
    let s = Scene::new();
    for (cmd, name) in [("snapshot", "snap.json"), ("record", "rec.jsonl")] {
        let out_path = s.udir().join(name);
        s.plant(&out_path);
        let out_arg = out_path.to_string_lossy().into_owned();
        let args: Vec<&str> = match cmd {
            "snapshot" => vec!["snapshot", "-o", &out_arg, "--duration", "0"],
            _ => vec!["record", "-o", &out_arg, "--duration", "0"],
        };
        let out = s.dpscope(true, &args);
        assert!(out.status.success(), "{cmd}: {}", stderr(&out));
        s.assert_victim_untouched();
        // The user's file replaced the user's symlink: theirs, private, loadable.
        s.assert_users_file(&out_path);
        let loaded = dpscope::model::io::load(&out_path).unwrap();
        assert_eq!(loaded.snapshots.len(), 1, "{cmd}");
    }
}

#[test]
fn as_root_a_directory_another_user_controls_is_refused() {
    if !common::require_priv("as_root_a_directory_another_user_controls_is_refused") {
        return;
    }
    let s = Scene::new();
    // Owned by the user, root not under sudo: refused.
    let target = s.udir().join("x.json");
    let out = s.dpscope(false, &["snapshot", "-o", &target.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = stderr(&out);
    assert!(
        err.contains("refusing") && err.contains(&s.user.name),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!target.exists());
    // World-writable without the sticky bit: refused, whoever owns it.
    let open = s.base.join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let target = open.join("x.json");
    let out = s.dpscope(false, &["snapshot", "-o", &target.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(stderr(&out).contains("sticky"), "{}", stderr(&out));
    assert!(!target.exists());
}

#[test]
fn under_sudo_nothing_is_written_where_the_user_may_not_write() {
    if !common::require_priv("under_sudo_nothing_is_written_where_the_user_may_not_write") {
        return;
    }
    let s = Scene::new();
    let target = s.rootdir().join("x.json");
    let out = s.dpscope(true, &["snapshot", "-o", &target.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = stderr(&out);
    assert!(
        err.contains(&s.user.name) && err.contains("ermission denied"),
        "{err}"
    );
    assert!(!target.exists());
}

/// Child half of the export tests: `Ctrl-s` into `$DPSCOPE_TEST_DIR` with the file stamp
/// `STAMP`, printing the result.
#[test]
fn child_export() {
    let Some(dir) = std::env::var_os("DPSCOPE_TEST_DIR") else {
        return;
    };
    let opts = dpscope::app::UiOptions {
        interval_ms: 1000,
        ..Default::default()
    };
    let snap = dpscope::model::io::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rich.json"
    )))
    .unwrap()
    .snapshots
    .remove(0);
    let mut app = dpscope::app::App::with_snapshot(snap, &opts);
    app.update(dpscope::app::Action::Resize(100, 30));
    match dpscope::tui::export::export_to(&app, Path::new(&dir), "STAMP") {
        Ok(e) => println!("EXPORTED {}", e.files().len()),
        Err(e) => println!("EXPORT FAILED: {e}"),
    }
}

fn export_as_user(s: &Scene, dir: &Path) -> String {
    let out = s.child("child_export", &[("DPSCOPE_TEST_DIR", dir)]);
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn ctrl_s_under_sudo_writes_as_the_user_and_follows_no_symlink() {
    if !common::require_priv("ctrl_s_under_sudo_writes_as_the_user_and_follows_no_symlink") {
        return;
    }
    let s = Scene::new();
    // A new dump directory: the user's, 0700, and six private files of the user's in it.
    let dumps = s.udir().join("dumps");
    let out = export_as_user(&s, &dumps);
    assert!(out.contains("EXPORTED 6"), "{out}");
    let m = std::fs::symlink_metadata(&dumps).unwrap();
    assert_eq!((m.uid(), m.mode() & 0o7777), (s.user.uid, 0o700));
    let mut n = 0;
    for e in std::fs::read_dir(&dumps).unwrap() {
        s.assert_users_file(&e.unwrap().path());
        n += 1;
    }
    assert_eq!(n, 6);

    // Symlinks planted at the names the export will use: none is written or chowned through.
    let planted = s.udir().join("planted");
    std::fs::create_dir(&planted).unwrap();
    s.user.own(&planted);
    for suffix in [".json", "-programs.csv", "-programs.md", "-screen.txt"] {
        s.plant(&planted.join(format!("dpscope-STAMP{suffix}")));
    }
    let out = export_as_user(&s, &planted);
    assert!(
        out.contains("EXPORT FAILED") && out.contains("already exists"),
        "{out}"
    );
    s.assert_victim_untouched();

    // The dump directory itself a symlink to a root-only directory: refused, nothing there.
    let link = s.udir().join("dumplink");
    std::os::unix::fs::symlink(s.rootdir(), &link).unwrap();
    s.user.own(&link);
    let out = export_as_user(&s, &link);
    assert!(
        out.contains("EXPORT FAILED") && out.contains("symlink"),
        "{out}"
    );
    assert_eq!(std::fs::read_dir(s.rootdir()).unwrap().count(), 0);

    // A dump directory (from the user's config) inside a root-only tree: the user cannot
    // create it, so neither does dpscope for them.
    let inside = s.rootdir().join("dumps");
    let out = export_as_user(&s, &inside);
    assert!(
        out.contains("EXPORT FAILED") && out.contains("ermission denied"),
        "{out}"
    );
    assert!(!inside.exists());
}

/// Child half of the `R` test: start a live recording at `$DPSCOPE_TEST_FILE` on a real
/// collector thread and print what it reports.
#[test]
fn child_live_recording() {
    let Some(path) = std::env::var_os("DPSCOPE_TEST_FILE") else {
        return;
    };
    use dpscope::bpf::collector::{spawn, Config, Request, Update};
    let cfg = Config {
        probes: false,
        stats: false,
        program_calls: false,
        interval: std::time::Duration::from_millis(200),
        ..Default::default()
    };
    let (mut updates, requests, _t) = spawn(cfg);
    requests
        .send(Request::StartRecording {
            path: PathBuf::from(path),
            compact: false,
        })
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        if let Some(Update::Recording(r)) = updates.blocking_recv() {
            match r.error {
                Some(e) => println!("RECORDING FAILED: {e}"),
                None => println!("RECORDING {} lines", r.lines),
            }
            return;
        }
    }
    println!("NO RECORDING STATUS");
}

#[test]
fn live_recording_under_sudo_writes_as_the_user_and_follows_no_symlink() {
    if !common::require_priv("live_recording_under_sudo_writes_as_the_user") {
        return;
    }
    let s = Scene::new();
    let planted = s.udir().join("dpscope-planted.jsonl");
    s.plant(&planted);
    let out = s.child("child_live_recording", &[("DPSCOPE_TEST_FILE", &planted)]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("RECORDING FAILED") && text.contains("already exists"),
        "{out:?}"
    );
    s.assert_victim_untouched();

    let fresh = s.udir().join("rec/dpscope-new.jsonl");
    let out = s.child("child_live_recording", &[("DPSCOPE_TEST_FILE", &fresh)]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("RECORDING 1 lines"), "{out:?}");
    s.assert_users_file(&fresh);
    let m = std::fs::metadata(fresh.parent().unwrap()).unwrap();
    assert_eq!((m.uid(), m.mode() & 0o7777), (s.user.uid, 0o700));
}

/// The flight recorder's ring (`record --ring-size`) is written like the dump directory: under
/// sudo as the user (segments theirs, 0600; a root directory refused), as root never into a
/// directory another user controls.
#[test]
fn ring_segments_under_sudo_are_the_users_and_never_land_where_they_may_not_write() {
    if !common::require_priv("ring_segments_under_sudo_are_the_users") {
        return;
    }
    let s = Scene::new();
    let ring = |dir: &Path, sudo: bool| {
        s.dpscope(
            sudo,
            &[
                "record",
                "--ring-size",
                "1",
                "--duration",
                "0",
                "-o",
                &dir.to_string_lossy(),
            ],
        )
    };
    let mine = s.udir().join("ring");
    let out = ring(&mine, true);
    assert!(out.status.success(), "{}", stderr(&out));
    let m = std::fs::metadata(&mine).unwrap();
    assert_eq!((m.uid(), m.mode() & 0o7777), (s.user.uid, 0o700));
    let segs = dpscope::ring::segments(&mine).unwrap();
    assert_eq!(segs.len(), 1, "{segs:?}");
    for e in std::fs::read_dir(&mine).unwrap() {
        s.assert_users_file(&e.unwrap().path());
    }
    assert_eq!(dpscope::ring::load(&mine).unwrap().snapshots.len(), 1);

    // Under sudo, into root's 0700 directory: the user may not, so dpscope does not.
    let roots = s.rootdir().join("ring");
    let out = ring(&roots, true);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        stderr(&out).contains("ermission denied"),
        "{}",
        stderr(&out)
    );
    assert!(!roots.exists());

    // As root (no sudo), the user's directory: refused, nothing created.
    let theirs = s.udir().join("ring2");
    std::fs::create_dir(&theirs).unwrap();
    s.user.own(&theirs);
    let out = ring(&theirs, false);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        stderr(&out).contains("refusing") && stderr(&out).contains(&s.user.name),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_dir(&theirs).unwrap().count(), 0);
}
