//! End-to-end: the real `dpscope` binary in tmux, driven by keys, screen read with capture-pane.
//! Replay needs no privileges; the live test loads a fixture program and finds it on screen.

mod common;

use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags};
use std::mem::MaybeUninit;
use std::os::fd::AsFd;
use std::process::Command;
use std::time::{Duration, Instant};

mod fixture {
    include!(concat!(env!("OUT_DIR"), "/fixture.skel.rs"));
}

const BIN: &str = env!("CARGO_BIN_EXE_dpscope");

/// Tests of this binary that load the fixture object take turns: the recording test asserts
/// exactly which programs came and went.
static KERNEL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn kernel_turn() -> std::sync::MutexGuard<'static, ()> {
    KERNEL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A tmux server of our own (own socket), killed on drop even if the test fails.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// Start `cmd` in a 120x40 window; the shell prints `EXITED:<status>` when dpscope ends
    /// and stays open so the screen after quit can be read.
    fn start(cmd: &str, env: &[(&str, &str)]) -> Tmux {
        let socket = common::unique_name("dpst");
        let mut envs = String::new();
        for (k, v) in env {
            envs.push_str(&format!("{k}={v} "));
        }
        let script = format!("{envs}{cmd}; echo EXITED:$?; sleep 30");
        let ok = Command::new("tmux")
            .args(["-L", &socket, "new-session", "-d", "-x", "120", "-y", "40"])
            .args(["bash", "-c", &script])
            .status()
            .expect("tmux runs (installed by scripts/setup.sh)")
            .success();
        assert!(ok, "tmux new-session failed");
        Tmux { socket }
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            let ok = Command::new("tmux")
                .args(["-L", &self.socket, "send-keys", "-t", "0", k])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "send-keys {k}");
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    fn text(&self, s: &str) {
        let ok = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "0", "-l", s])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "send-keys -l {s}");
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-t", "0"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen with its escape sequences (`capture-pane -e`).
    fn screen_escapes(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-e", "-p", "-t", "0"])
            .output()
            .expect("capture-pane -e");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn alternate_screen(&self) -> bool {
        let out = Command::new("tmux")
            .args([
                "-L",
                &self.socket,
                "display",
                "-p",
                "-t",
                "0",
                "#{alternate_on}",
            ])
            .output()
            .expect("display");
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    /// Wait until the screen satisfies `pred` (the UI redraws asynchronously).
    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_text(&self, needle: &str) -> String {
        self.wait_for(needle, |s| s.contains(needle))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

fn demo() -> String {
    format!("{}/assets/demo.json", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn replay_demo_switch_filter_drill_down_back_quit() {
    let t = Tmux::start(
        &format!("{BIN} replay {}", demo()),
        &[("TERM", "xterm-256color")],
    );
    let s = t.wait_text("REPLAY");
    assert!(s.contains("Programs ("), "{s}");
    assert!(s.contains("agree_tp"), "{s}");
    assert!(
        t.alternate_screen(),
        "full-screen UI uses the alternate screen"
    );

    // Maps pane, filter to the agree_* maps, then invert the filter.
    t.keys(&["2"]);
    t.wait_text("agree_lru_hash_with_long_name");
    t.keys(&["/"]);
    t.text("agree");
    t.keys(&["Enter"]);
    let s = t.wait_for("filtered maps", |s| {
        s.contains("agree_hash") && !s.contains("fixture_btf_hash")
    });
    assert!(s.contains("agree"), "{s}");
    t.keys(&["Escape"]);
    t.wait_text("fixture_btf_hash");

    // Attachments: the stale twin is flagged.
    t.keys(&["3"]);
    let s = t.wait_text("STALE?");
    assert!(s.contains("tc ingress"), "{s}");
    assert!(s.contains("stacked"), "{s}");

    // Command palette to programs, drill into the selected program, back.
    t.keys(&[":"]);
    t.text("progs");
    t.keys(&["Enter"]);
    t.wait_text("EVENTS/S");
    t.keys(&["Enter"]);
    let s = t.wait_text("Disassembly");
    assert!(s.contains("exit"), "disassembly shown: {s}");
    t.keys(&["Escape"]);
    t.wait_text("EVENTS/S");

    // Help overlay comes from the key table.
    t.keys(&["?"]);
    let s = t.wait_text("quit");
    assert!(s.contains("filter"), "{s}");
    t.keys(&["?"]);

    // Time travel one snapshot back.
    t.keys(&["["]);
    t.wait_text("(3/4)");

    t.keys(&["q"]);
    let s = t.wait_text("EXITED:0");
    assert!(!t.alternate_screen(), "terminal restored after q:\n{s}");
}

/// Ctrl-s in a real terminal: the files appear in the dump directory, the JSON opens again
/// with dpscope, the CSV has the table's rows, and the HTML holds the screen's text.
#[test]
fn ctrl_s_in_tmux_writes_files_that_reload_and_match_the_screen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dump = dir.path().join("dumps");
    let t = Tmux::start(
        &format!("{BIN} --dump-dir {} replay {}", dump.display(), demo()),
        &[("TERM", "xterm-256color")],
    );
    t.wait_text("REPLAY");
    t.keys(&["2"]);
    let before = t.wait_text("agree_lru_hash_with_long_name");
    t.keys(&["C-s"]);
    // The files are written off the UI task: "exporting…", then the status line names the
    // directory and the snapshot file once they are all written.
    let done = format!("exported to {}: dpscope-", dump.display());
    let after = t.wait_text(&done);
    assert!(after.contains(".json, -maps.csv"), "{after}");
    let mut names: Vec<String> = std::fs::read_dir(&dump)
        .expect("dump dir created")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let file = |suffix: &str| {
        let n = names
            .iter()
            .find(|n| n.ends_with(suffix))
            .unwrap_or_else(|| panic!("no *{suffix} in {names:?}"));
        dump.join(n)
    };
    assert_eq!(names.len(), 6, "{names:?}");

    // The snapshot opens again (same loader as replay) and prints the same maps.
    let json = file(".json");
    let shown = Command::new(BIN)
        .args(["show", "maps", "--from", &json.display().to_string()])
        .output()
        .expect("show --from");
    assert!(shown.status.success(), "{shown:?}");
    let original = Command::new(BIN)
        .args(["show", "maps", "--from", &demo()])
        .output()
        .expect("show --from demo");
    assert_eq!(shown.stdout, original.stdout);

    // CSV: one row per table row on screen, same ids in the same order.
    let csv = std::fs::read_to_string(file("-maps.csv")).expect("csv");
    let csv_ids: Vec<String> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap_or("").to_string())
        .collect();
    let screen_ids: Vec<String> = before
        .lines()
        .filter(|l| l.starts_with('│'))
        .filter_map(|l| {
            let l = l.trim_start_matches(['│', '▶', ' ']);
            let first = l.split_whitespace().next()?;
            first.parse::<u32>().ok().map(|id| id.to_string())
        })
        .collect();
    assert!(!screen_ids.is_empty());
    assert_eq!(csv_ids, screen_ids, "{csv}");

    // HTML: a complete page whose text is the screen as it was when Ctrl-s was pressed.
    let html = std::fs::read_to_string(file("-screen.html")).expect("html");
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    for line in before.lines().take(30).filter(|l| !l.trim().is_empty()) {
        let esc = line
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        let plain_html = common::strip_tags(&html);
        assert!(plain_html.contains(esc.trim_end()), "HTML lacks {line:?}");
    }
    t.keys(&["q"]);
    t.wait_text("EXITED:0");
}

/// The config file's pane and dump directory apply to the full-screen UI.
#[test]
fn the_config_file_sets_the_first_pane_and_the_dump_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dump = dir.path().join("from-config");
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "pane = \"maps\"\ndump_dir = \"{}\"\ntheme = \"colorblind\"\n",
            dump.display()
        ),
    )
    .expect("config");
    let t = Tmux::start(
        &format!("{BIN} replay {}", demo()),
        &[
            ("TERM", "xterm-256color"),
            ("DPSCOPE_CONFIG", &cfg.display().to_string()),
        ],
    );
    t.wait_text("agree_lru_hash_with_long_name");
    t.keys(&["C-s"]);
    t.wait_text(&format!("exported to {}", dump.display()));
    let n = std::fs::read_dir(&dump).map(|d| d.count()).unwrap_or(0);
    assert_eq!(n, 6, "exports go to the config's dump_dir");
    t.keys(&["q"]);
    t.wait_text("EXITED:0");
}

#[test]
fn replay_of_a_corrupt_file_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        "{\"schema\": \"dpscope.snapshot/v1\", \"programs\": [",
    )
    .unwrap();
    let out = Command::new(BIN).arg("replay").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("dpscope: error: "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");

    std::fs::write(&bad, "{\"schema\": \"dpscope.snapshot/v9\"}").unwrap();
    let out = Command::new(BIN).arg("replay").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("dpscope.snapshot/v9"));

    let out = Command::new(BIN)
        .args(["replay", "/nonexistent/dpscope.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    let out = Command::new(BIN)
        .args(["show", "nosuchpane", "--from"])
        .arg(demo())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown pane"));
}

#[test]
fn show_from_a_snapshot_needs_no_privileges_and_matches_formats() {
    let run = |args: &[&str]| {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let d = demo();
    let json = run(&["show", "programs", "--json", "--from", &d]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let n = v.as_array().unwrap().len();
    assert!(n >= 10, "{n} programs");
    let csv = run(&["show", "programs", "--format", "csv", "--from", &d]);
    assert_eq!(
        csv.trim_end().lines().count(),
        n + 1,
        "header + one line per program"
    );
    let text = run(&["show", "attachments", "--from", &d]);
    assert!(text.contains("STALE?"), "{text}");
    let md = run(&["show", "maps", "--format", "md", "--from", &d]);
    assert!(md.lines().nth(1).unwrap().starts_with("| ---"), "{md}");
    let node = run(&["show", "node", "--json", "--from", &d]);
    assert!(node.contains("\"kernel_release\""));
}

#[test]
fn live_mode_shows_a_loaded_program_pauses_drills_down_and_quits() {
    if !common::require_priv("live_mode_shows_a_loaded_program_pauses_drills_down_and_quits") {
        return;
    }
    let _turn = kernel_turn();
    let mut obj = MaybeUninit::uninit();
    let skel = fixture::FixtureSkelBuilder::default()
        .open(&mut obj)
        .expect("open")
        .load()
        .expect("load");
    let fs = common::Bpffs::new();
    let t = Tmux::start(
        &format!("{BIN} --bpffs {} --interval 0.5", fs.path.display()),
        &[("TERM", "xterm-256color")],
    );
    let s = t.wait_text("fixture_tcx_ingress");
    assert!(!s.contains("REPLAY"), "{s}");
    assert!(s.contains("stats on"), "{s}");

    t.keys(&["Space"]);
    t.wait_text("PAUSED");
    t.keys(&["Space"]);
    t.wait_for("resumed", |s| !s.contains("PAUSED"));

    t.keys(&["/"]);
    t.text("fixture_tcx");
    t.keys(&["Enter"]);
    t.wait_for("filtered to one program", |s| {
        s.contains("fixture_tcx_ingress") && !s.contains("xdp_pass_fixture")
    });
    t.keys(&["Enter"]);
    // The collector answers the detail request with the disassembly.
    let s = t.wait_for("disassembly", |s| {
        s.contains("Disassembly") && s.contains("exit")
    });
    assert!(s.contains("fixture_tcx_ingress"), "{s}");
    t.keys(&["Escape", "Escape"]);
    t.wait_text("xdp_pass_fixture");

    t.keys(&["q"]);
    t.wait_text("EXITED:0");
    assert!(!t.alternate_screen());
    drop(skel);
}

#[test]
fn live_without_privileges_names_what_is_missing_and_exits_1() {
    if !common::require_priv("live_without_privileges_names_what_is_missing_and_exits_1") {
        return;
    }
    // Drop to nobody (no capabilities) for the child only. The checkout may sit in a private
    // (0700) directory, so the binary and the demo are copied somewhere nobody can reach.
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = dir.path().join("dpscope");
    std::fs::copy(BIN, &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let snap = dir.path().join("demo.json");
    std::fs::copy(demo(), &snap).unwrap();
    std::fs::set_permissions(&snap, std::fs::Permissions::from_mode(0o644)).unwrap();
    let nobody = ["--reuid=65534", "--regid=65534", "--clear-groups"];
    let out = Command::new("setpriv")
        .args(nobody)
        .arg(&bin)
        .args(["show", "programs"])
        .output()
        .expect("setpriv (util-linux) runs");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("dpscope: error: "), "{err}");
    assert!(err.contains("CAP_BPF") && err.contains("root"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    // Replay needs no privileges at all.
    let out = Command::new("setpriv")
        .args(nobody)
        .arg(&bin)
        .args(["show", "maps", "--from"])
        .arg(&snap)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// The Cilium panes in the real binary: replay a Cilium node, open a service's backends, step
/// the policy endpoint, jump by palette alias, quit.
#[test]
fn replay_cilium_panes_expand_step_and_jump() {
    let file = format!("{}/tests/fixtures/cilium.json", env!("CARGO_MANIFEST_DIR"));
    let t = Tmux::start(
        &format!("{BIN} replay {file}"),
        &[("TERM", "xterm-256color")],
    );
    t.wait_text("REPLAY");
    t.keys(&["7"]);
    t.wait_text("Services (21)");
    t.keys(&["/"]);
    t.text("10.96.12.40");
    t.keys(&["Enter", "Enter"]);
    let s = t.wait_text("[terminating]");
    assert!(s.contains("slot 3"), "{s}");
    t.keys(&["Left"]);
    t.wait_for("collapsed", |s| !s.contains("[terminating]"));
    t.keys(&[":"]);
    t.text("policy");
    t.keys(&["Enter"]);
    t.wait_text("endpoint 412");
    t.keys(&[">"]);
    t.wait_text("endpoint 1187");
    t.keys(&[":"]);
    t.text("ct");
    t.keys(&["Enter"]);
    t.wait_text("Conntrack (62)");
    t.keys(&[":"]);
    t.text("tail");
    t.keys(&["Enter"]);
    t.wait_text("cil_from_container #41 · endpoint 412");
    t.keys(&["q"]);
    t.wait_text("EXITED:0");
}

#[test]
fn tailcall_graph_exports_as_dot() {
    let file = format!("{}/tests/fixtures/cilium.json", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(BIN)
        .args(["show", "tailcalls", "--format", "dot", "--from", &file])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let dot = String::from_utf8(out.stdout).unwrap();
    assert!(dot.starts_with("digraph tailcalls {"), "{dot}");
    assert!(dot.trim_end().ends_with('}'), "{dot}");
    assert!(dot.contains("cilium_calls_00412"), "{dot}");
    // Rooted where packets enter: the pod's veth → its entry program.
    assert!(
        dot.contains("\"if14\" -> \"prog41\" [label=\"tcx ingress\", style=bold]"),
        "{dot}"
    );
    assert!(
        dot.contains("called but empty") && !dot.contains("\"prog0\""),
        "{dot}"
    );
    let out = Command::new(BIN)
        .args(["show", "maps", "--format", "dot", "--from", &file])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// SGR parameters that set a colour (30-37, 38;…, 40-47, 48;…, 90-97, 100-107).
fn has_colour(escaped: &str) -> bool {
    escaped.split("\x1b[").skip(1).any(|seq| {
        let params = seq.split('m').next().unwrap_or("");
        params.split(';').any(|p| {
            matches!(
                p.parse::<u32>(),
                Ok(30..=38 | 40..=48 | 90..=97 | 100..=107)
            )
        })
    })
}

#[test]
fn no_color_means_no_colour_escapes_and_themes_apply() {
    let t = Tmux::start(
        &format!("{BIN} replay {}", demo()),
        &[("TERM", "xterm-256color"), ("NO_COLOR", "1")],
    );
    t.wait_text("REPLAY");
    t.keys(&["3"]);
    t.wait_text("STALE?");
    let s = t.screen_escapes();
    assert!(!has_colour(&s), "colour escapes with NO_COLOR:\n{s:?}");
    drop(t);
    let t = Tmux::start(
        &format!("{BIN} --theme colorblind replay {}", demo()),
        &[("TERM", "xterm-256color"), ("COLORTERM", "truecolor")],
    );
    t.wait_text("REPLAY");
    assert!(has_colour(&t.screen_escapes()), "the theme paints colours");
    let out = Command::new(BIN)
        .args(["--theme", "neon", "replay", &demo()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("colorblind"));
}

/// A child process killed (and reaped) on drop, so a failing test leaves no recorder behind.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn lines_in(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().filter(|l| l.ends_with('}')).count())
        .unwrap_or(0)
}

fn wait_lines(path: &std::path::Path, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while lines_in(path) < n {
        assert!(
            Instant::now() < deadline,
            "recording never reached {n} lines"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What a recorded snapshot says about the objects the test created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    loaded: bool,
    entries: Option<u64>,
    attached: bool,
}

/// Record a live session while the kernel changes under it (a program object is loaded, map
/// entries are written, a tcx program is attached), replay it in tmux stepping through time,
/// and check each step's screen against that step's recorded state; `diff` of the recording's
/// first and last snapshots lists exactly the test's changes.
#[test]
fn a_recorded_session_replays_step_by_step_and_diff_lists_exactly_the_changes() {
    if !common::require_priv("a_recorded_session_replays_step_by_step") {
        return;
    }
    let _turn = kernel_turn();
    let ns = common::Netns::new();
    let veth = common::VethPair::new(&ns);
    let fs = common::Bpffs::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = dir.path().join("session.jsonl");
    let recorder = Child(
        Command::new(BIN)
            .args(["--bpffs", &fs.path.display().to_string(), "--no-probes"])
            .args(["record", "-o", &rec.display().to_string()])
            .args(["--duration", "9", "--every", "0.5"])
            .stdin(std::process::Stdio::null())
            .spawn()
            .expect("start dpscope record"),
    );
    wait_lines(&rec, 3);

    let mut obj = MaybeUninit::uninit();
    let skel = fixture::FixtureSkelBuilder::default()
        .open(&mut obj)
        .expect("open")
        .load()
        .expect("load");
    wait_lines(&rec, lines_in(&rec) + 2);
    for ip in 1..=3u32 {
        let mut k = ip.to_ne_bytes().to_vec();
        k.extend_from_slice(&[0, 80, 6, 0]);
        skel.maps
            .fixture_btf_hash
            .update(&k, &[0u8; 24], MapFlags::ANY)
            .expect("map entry");
    }
    wait_lines(&rec, lines_in(&rec) + 2);
    let link = common::LinkFd::create(
        skel.progs.fixture_tcx_ingress.as_fd(),
        veth.host_ifindex(),
        libbpf_sys::BPF_TCX_INGRESS,
        0,
    );
    wait_lines(&rec, lines_in(&rec) + 2);
    let mut recorder = recorder;
    let status = recorder.0.wait().expect("record ends after --duration");
    assert!(status.success(), "record: {status}");

    // The recorded states, read back with dpscope's own loader.
    let loaded = dpscope::model::io::load(&rec).expect("recording loads");
    assert!(loaded.skipped.is_empty(), "{:?}", loaded.skipped);
    let seen: Vec<Seen> = loaded
        .snapshots
        .iter()
        .map(|s| Seen {
            loaded: s.programs.iter().any(|p| p.name == "fixture_tcx_ingress"),
            entries: s
                .maps
                .iter()
                // The kernel keeps 15 characters of an unpinned map's name.
                .find(|m| m.name.starts_with("fixture_btf_has"))
                .and_then(|m| m.entries),
            attached: s
                .attachments
                .iter()
                .any(|a| a.ifname == veth.host && a.prog_name == "fixture_tcx_ingress"),
        })
        .collect();
    let phases: Vec<Seen> = seen.iter().fold(Vec::new(), |mut v, s| {
        if v.last() != Some(s) {
            v.push(*s);
        }
        v
    });
    let state = |loaded, entries, attached| Seen {
        loaded,
        entries,
        attached,
    };
    assert_eq!(
        phases,
        vec![
            state(false, None, false),
            state(true, Some(0), false),
            state(true, Some(3), false),
            state(true, Some(3), true),
        ],
        "every change must be captured by at least one snapshot: {seen:?}"
    );

    // diff of the first and last snapshot: exactly what the test did.
    let out = Command::new(BIN)
        .args(["diff", &rec.display().to_string(), "--json"])
        .output()
        .expect("diff");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).expect("diff JSON");
    let mut changes: Vec<String> = Vec::new();
    for pane in d["panes"].as_array().expect("panes") {
        for c in pane["changes"].as_array().expect("changes") {
            let label = c["label"].as_str().unwrap_or_default();
            // Stable words of the label: pane, change, the object's name, and for attachments
            // whether it is on the test's veth.
            let name = label
                .split_whitespace()
                .find(|w| w.contains("fixture"))
                .unwrap_or(label);
            let on = if label.contains(&veth.host) {
                " on the veth"
            } else {
                ""
            };
            changes.push(format!(
                "{} {} {name}{on}",
                pane["pane"].as_str().unwrap_or(""),
                c["change"].as_str().unwrap_or("")
            ));
        }
    }
    changes.sort();
    let mut want = vec![
        "programs added fixture_tc_ingress_first".to_string(),
        "programs added fixture_tc_ingress_second".into(),
        "programs added fixture_tcx_ingress".into(),
        "programs added xdp_pass_fixture".into(),
        "maps added fixture_btf_has".into(),
        "maps added fixture_counts".into(),
        "attachments added fixture_tcx_ingress on the veth".into(),
    ];
    want.sort();
    assert_eq!(
        changes,
        want,
        "diff:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Replay it: step from the first snapshot to the last, checking each screen.
    let n = seen.len();
    let t = Tmux::start(
        &format!("{BIN} replay {}", rec.display()),
        &[("TERM", "xterm-256color")],
    );
    t.wait_text("REPLAY");
    let at = |i: usize| format!("({}/{n})", i + 1);
    let walk = |check: &dyn Fn(&str, Seen)| {
        t.keys(&["Home"]);
        for (i, want) in seen.iter().enumerate() {
            let s = t.wait_text(&at(i));
            check(&s, *want);
            if i + 1 < n {
                t.keys(&["]"]);
            }
        }
    };
    // Programs pane, filtered to the fixture.
    t.keys(&["1", "/"]);
    t.text("fixture_");
    t.keys(&["Enter"]);
    walk(&|s, want| {
        assert_eq!(
            s.contains("fixture_tcx_ingress"),
            want.loaded,
            "{want:?}\n{s}"
        );
    });
    // Maps pane: the hash map's entry count at each step.
    t.keys(&["2", "/"]);
    t.text("fixture_btf");
    t.keys(&["Enter"]);
    walk(&|s, want| {
        let row = s.lines().find(|l| l.contains("fixture_btf_has"));
        match want.entries {
            None => assert!(row.is_none(), "{want:?}\n{s}"),
            Some(e) => {
                let row = row.unwrap_or_else(|| panic!("no map row\n{s}"));
                let cols: Vec<&str> = row.split_whitespace().collect();
                let max = cols.iter().position(|c| *c == "1024").expect("MAX column");
                assert_eq!(cols.get(max + 1), Some(&e.to_string().as_str()), "{row}");
            }
        }
    });
    // Attachments: the veth's tcx hook.
    t.keys(&["3", "/"]);
    t.text(&veth.host);
    t.keys(&["Enter"]);
    walk(&|s, want| {
        assert_eq!(
            s.contains("fixture_tcx_ingress") && s.contains(&veth.host),
            want.attached,
            "{want:?}\n{s}"
        );
    });
    t.keys(&["q"]);
    t.wait_text("EXITED:0");
    drop(link);
    drop(skel);
}

/// Line and column (0-based, in characters) where `needle` is on the screen.
fn find(screen: &str, needle: &str) -> (u16, u16) {
    for (y, line) in screen.lines().enumerate() {
        if let Some(b) = line.find(needle) {
            return (y as u16, line[..b].chars().count() as u16);
        }
    }
    panic!("{needle:?} not on screen:\n{screen}");
}

#[test]
fn mouse_and_rebound_keys_from_the_config_file_drive_the_ui() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        "mouse = true\n\n[keys]\nquit = \"Q\"\nsort = [\"f5\"]\n",
    )
    .expect("config");
    let t = Tmux::start(
        &format!("{BIN} replay {}", demo()),
        &[
            ("TERM", "xterm-256color"),
            ("DPSCOPE_CONFIG", &cfg.display().to_string()),
        ],
    );
    let s = t.wait_text("agree_tp");
    let mouse_on = || {
        let out = Command::new("tmux")
            .args([
                "-L",
                &t.socket,
                "display",
                "-p",
                "-t",
                "0",
                "#{mouse_any_flag}",
            ])
            .output()
            .expect("display");
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    };
    assert!(mouse_on(), "dpscope asked the terminal for mouse reports");
    // What a terminal sends for a left click and for the wheel (SGR encoding, 1-based).
    let click = |y: u16, x: u16| {
        t.text(&format!(
            "\x1b[<0;{};{}M\x1b[<0;{};{}m",
            x + 1,
            y + 1,
            x + 1,
            y + 1
        ))
    };
    let wheel_down = |y: u16, x: u16| t.text(&format!("\x1b[<65;{};{}M", x + 1, y + 1));

    // Click the Maps tab.
    let (y, x) = find(&s, "2 Maps");
    click(y, x + 2);
    let s = t.wait_text("┌ Maps (");
    // Click a row: the ▶ moves onto that line.
    let (y, _) = find(&s, "fixture_btf_hash ");
    click(y, 30);
    let s = t.wait_for("selection on the clicked row", |s| {
        s.lines()
            .nth(y as usize)
            .is_some_and(|l| l.contains('▶') && l.contains("fixture_btf_hash "))
    });
    // The wheel moves the selection 3 rows down.
    wheel_down(y, 30);
    t.wait_for("selection 3 rows lower", |s| {
        s.lines()
            .nth(y as usize + 3)
            .is_some_and(|l| l.contains('▶'))
    });
    // Clicking the selected row opens it, like Enter.
    let (y3, _) = find(&t.screen(), "▶");
    click(y3, 30);
    t.wait_text("(Esc back)");
    let _ = s;
    t.keys(&["Escape"]);
    t.wait_text("┌ Maps (");

    // Rebound keys: F5 sorts, s does nothing now, q does not quit, help lists the new keys.
    t.keys(&["s"]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(t.screen().contains("MEMORY▼"), "s no longer sorts");
    t.keys(&["F5"]);
    t.wait_for("F5 sorts by the next column", |s| {
        !s.contains("MEMORY▼") && (s.contains('▼') || s.contains('▲'))
    });
    t.keys(&["q"]);
    t.keys(&["?"]);
    let help = t.wait_text("Keys (");
    assert!(help.contains(" Q         quit"), "{help}");
    assert!(
        help.contains(" F5        sort by the next column"),
        "{help}"
    );
    t.keys(&["Escape", "Q"]);
    t.wait_text("EXITED:0");
    assert!(!mouse_on(), "mouse reports are off again after quit");
}

/// SIGTERM, SIGINT, SIGHUP and SIGQUIT while the full-screen UI runs: the terminal comes back
/// cooked, on the main screen, with the cursor shown, and the exit status is 128 + signal.
#[test]
fn every_terminating_signal_restores_the_terminal() {
    for (sig, n) in [("TERM", 15), ("INT", 2), ("HUP", 1), ("QUIT", 3)] {
        let t = Tmux::start(
            &format!(
                "{BIN} replay {}; echo DPSCOPE_EXITED:$?; stty -a | tr -s ' ;\\n' '\\n\\n\\n' | grep -x -e '-\\?icanon' -e '-\\?echo' | sed 's/^/STTY:/'",
                demo()
            ),
            &[("TERM", "xterm-256color")],
        );
        t.wait_text("REPLAY");
        assert!(
            t.alternate_screen(),
            "{sig}: the UI is on the alternate screen"
        );
        let out = Command::new("tmux")
            .args(["-L", &t.socket, "display", "-p", "-t", "0", "#{pane_pid}"])
            .output()
            .unwrap();
        let shell = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let children =
            std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).unwrap();
        let pid = children.split_whitespace().next().expect("dpscope runs");
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), pid])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig} {pid}");
        let s = t.wait_for("both stty lines", |s| s.matches("STTY:").count() >= 2);
        assert!(
            s.contains(&format!("DPSCOPE_EXITED:{}", 128 + n)),
            "{sig}: exit status\n{s}"
        );
        assert!(
            s.contains("STTY:icanon") && s.contains("STTY:echo") && !s.contains("STTY:-"),
            "{sig}: terminal left raw\n{s}"
        );
        assert!(
            !t.alternate_screen(),
            "{sig}: still on the alternate screen\n{s}"
        );
        let cursor = Command::new("tmux")
            .args([
                "-L",
                &t.socket,
                "display",
                "-p",
                "-t",
                "0",
                "#{cursor_flag}",
            ])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&cursor.stdout).trim(),
            "1",
            "{sig}: cursor hidden"
        );
    }
}
