//! kubectl-dpscope (plugin/kubectl-dpscope) tested on what runs here: its argument handling,
//! the bundle and manifest it writes, nodes that time out, fail or have no pod.
//!
//! No Kubernetes API server can run on this machine. A stand-in `kubectl`
//! (tests/plugin/fake-kubectl) is put first on PATH: it answers the plugin's `get nodes`,
//! `get pods` and `exec` calls from files this test writes, and an `exec` into an answering pod
//! runs the real local dpscope on this kernel. This tests the plugin's own logic, not a
//! cluster.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use dpscope::model::bundle;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

struct Fake {
    dir: tempfile::TempDir,
}

impl Fake {
    /// nodes: (name, labels); pods: (node, pod, phase, behaviour).
    fn new(nodes: &[(&str, &str)], pods: &[(&str, &str, &str, &str)]) -> Fake {
        let dir = tempfile::Builder::new()
            .prefix("dpscope-kube")
            .tempdir()
            .unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::create_dir_all(root.join("kube/behave")).unwrap();
        std::fs::copy(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/plugin/fake-kubectl"),
            root.join("bin/kubectl"),
        )
        .unwrap();
        let nodes: String = nodes.iter().map(|(n, l)| format!("{n} {l}\n")).collect();
        std::fs::write(root.join("kube/nodes"), nodes).unwrap();
        let mut lines = String::new();
        for (node, pod, phase, behave) in pods {
            lines.push_str(&format!("{node} {pod} {phase}\n"));
            std::fs::write(root.join("kube/behave").join(pod), format!("{behave}\n")).unwrap();
        }
        std::fs::write(root.join("kube/pods"), lines).unwrap();
        std::fs::create_dir_all(root.join("tmp")).unwrap();
        Fake { dir }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn plugin(&self, args: &[&str]) -> Output {
        let path = format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/plugin/kubectl-dpscope"
        ))
        .args(args)
        .env("PATH", path)
        .env("FAKE_KUBE", self.path("kube"))
        .env("FAKE_RING", self.path("ring"))
        .env("DPSCOPE_BIN", env!("CARGO_BIN_EXE_dpscope"))
        .env("TMPDIR", self.path("tmp"))
        .env_remove("DPSCOPE_NAMESPACE")
        .output()
        .unwrap()
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.path("kube/calls"))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn manifest(dir: &Path) -> bundle::Manifest {
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    bundle::parse_manifest("manifest.json", &text).unwrap()
}

#[test]
fn bad_arguments_are_usage_errors_and_touch_nothing() {
    let f = Fake::new(
        &[("node-a", "")],
        &[("node-a", "dpscope-a", "Running", "ok")],
    );
    let existing = f.path("full");
    std::fs::create_dir(&existing).unwrap();
    std::fs::write(existing.join("x"), "x").unwrap();
    let full = existing.display().to_string();
    let out = f.path("out").display().to_string();
    let cases: Vec<Vec<&str>> = vec![
        vec![],
        vec!["frobnicate"],
        vec!["snapshot"],
        vec!["snapshot", "-o"],
        vec!["snapshot", "-o", &out, "-l", "role=x", "node-a"],
        vec!["snapshot", "-o", &out, "../etc"],
        vec!["snapshot", "-o", &out, "Node_A"],
        vec!["snapshot", "-o", &out, "--timeout", "abc"],
        vec!["snapshot", "-o", &out, "--timeout", "0"],
        vec!["snapshot", "-o", &out, "--parallel", "0"],
        vec!["snapshot", "-o", &out, "--bogus"],
        vec!["snapshot", "-o", &full],
        vec!["-n", "Bad_NS", "pods"],
        vec!["history"],
        vec!["history", "node-a"],
        vec!["history", "node-a", "-o", "/tmp/x", "--since", "30 minutes"],
        vec!["history", "node-a", "node-b", "-o", "/tmp/x"],
        vec!["tui"],
        vec!["tui", "a/b"],
    ];
    for args in cases {
        let o = f.plugin(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("kubectl-dpscope") || args.is_empty(),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    assert!(!f.path("out").exists());
    assert!(f.calls().is_empty(), "{:?}", f.calls());
    let help = f.plugin(&["help"]);
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("kubectl dpscope snapshot"));
}

/// Four nodes: one answers (the real dpscope on this kernel), one never answers, one's exec
/// fails, one has no dpscope pod. All four are in the manifest; only the first has a file.
#[test]
fn the_bundle_lists_every_node_with_a_reason_and_slow_nodes_time_out_in_parallel() {
    if !common::require_priv("kubectl plugin snapshot") {
        return;
    }
    let f = Fake::new(
        &[
            ("node-a", "role=web"),
            ("node-b", "role=web"),
            ("node-c", "role=db"),
            ("node-d", "role=db"),
            ("node-e", "role=web"),
        ],
        &[
            ("node-a", "dpscope-aaaaa", "Running", "ok"),
            ("node-b", "dpscope-bbbbb", "Running", "sleep 60"),
            (
                "node-c",
                "dpscope-ccccc",
                "Running",
                "fail 1 error: unable to upgrade connection: container not found (\"dpscope\")",
            ),
            ("node-e", "dpscope-eeeee", "Running", "sleep 60"),
        ],
    );
    let out = f.path("bundle");
    let t0 = Instant::now();
    let o = f.plugin(&[
        "snapshot",
        "-o",
        out.to_str().unwrap(),
        "--timeout",
        "15",
        "--duration",
        "0.2",
        "--",
        "--no-probes",
    ]);
    let took = t0.elapsed();
    assert!(o.status.success(), "{}", stderr(&o));
    // Two nodes that never answer, each given 15 s (the answering node's real snapshot may
    // take seconds on a loaded machine), at the same time: under 2 × 15 s.
    assert!(took < Duration::from_secs(29), "{took:?}");
    let err = stderr(&o);
    assert!(err.contains("4 of 5 nodes gave no snapshot"), "{err}");
    assert!(err.contains("1 of 5 nodes in"), "{err}");

    let m = manifest(&out);
    assert_eq!(m.schema, bundle::BUNDLE_SCHEMA);
    assert_eq!(m.namespace, "dpscope");
    assert_eq!((m.timeout_s, m.duration_s), (15.0, 0.2));
    let st: Vec<(&str, &str)> = m
        .nodes
        .iter()
        .map(|n| (n.node.as_str(), n.status.as_str()))
        .collect();
    assert_eq!(
        st,
        [
            ("node-a", "ok"),
            ("node-b", "timeout"),
            ("node-c", "failed"),
            ("node-d", "no-pod"),
            ("node-e", "timeout")
        ]
    );
    let by = |n: &str| m.nodes.iter().find(|x| x.node == n).unwrap();
    assert_eq!(by("node-a").file, "node-a.json");
    assert_eq!(by("node-a").pod, "dpscope-aaaaa");
    assert!(by("node-b").reason.contains("no answer within 15 s"));
    assert!(
        by("node-b").seconds >= 14.9 && by("node-b").seconds < 25.0,
        "{}",
        by("node-b").seconds
    );
    assert!(
        by("node-c").reason.contains("unable to upgrade connection"),
        "{}",
        by("node-c").reason
    );
    assert!(by("node-c").reason.contains("exited 1"));
    assert!(by("node-d").reason.contains("no running dpscope pod"));
    for n in &m.nodes {
        assert!(
            n.started_at.ends_with('Z') && n.finished_at >= n.started_at,
            "{n:?}"
        );
    }
    // Only the answering node has a file, and it is a real snapshot of this machine.
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["manifest.json", "node-a.json"]);
    let b = bundle::load(&out).unwrap();
    let snap = b.node("node-a").unwrap().snapshot.as_ref().unwrap();
    assert!(!snap.programs.is_empty());
    assert_eq!(b.nodes.len(), 5);
    // The plugin asked kubectl for what it needed: nodes, pods, and one exec per pod.
    let calls = f.calls();
    assert!(
        calls
            .iter()
            .any(|c| c.starts_with("get nodes -o jsonpath=")),
        "{calls:?}"
    );
    assert!(calls
        .iter()
        .any(|c| c.starts_with("get pods -n dpscope -l app.kubernetes.io/name=dpscope")));
    let execs: Vec<&String> = calls.iter().filter(|c| c.starts_with("exec ")).collect();
    assert_eq!(execs.len(), 4, "{execs:?}");
    assert!(execs.iter().any(|c| {
        c.as_str()
        == "exec -n dpscope dpscope-aaaaa -c dpscope -- dpscope --no-probes snapshot --duration 0.2"
    }));
    // The bundle is what diff --nodes reads: the nodes without a snapshot are named.
    let d = Command::new(env!("CARGO_BIN_EXE_dpscope"))
        .args(["diff", "--nodes"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(d.status.success(), "{}", stderr(&d));
    let text = String::from_utf8_lossy(&d.stdout);
    assert!(
        text.contains("no snapshot from node-b (timeout): no answer within 15 s"),
        "{text}"
    );
    assert!(text.contains("no snapshot from node-d (no-pod)"), "{text}");
    // No temporary files left behind.
    assert_eq!(std::fs::read_dir(f.path("tmp")).unwrap().count(), 0);
}

#[test]
fn a_label_selector_or_node_names_pick_the_nodes() {
    if !common::require_priv("kubectl plugin selector") {
        return;
    }
    let pods = [
        ("node-a", "dpscope-a", "Running", "ok"),
        ("node-b", "dpscope-b", "Running", "ok"),
        ("node-c", "dpscope-c", "Pending", "ok"),
    ];
    let f = Fake::new(
        &[
            ("node-a", "role=web"),
            ("node-b", "role=db"),
            ("node-c", "role=web"),
        ],
        &pods,
    );
    let out = f.path("web");
    let o = f.plugin(&[
        "snapshot",
        "-l",
        "role=web",
        "-o",
        out.to_str().unwrap(),
        "--duration",
        "0",
        "--",
        "--no-probes",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = manifest(&out);
    let st: Vec<(&str, &str)> = m
        .nodes
        .iter()
        .map(|n| (n.node.as_str(), n.status.as_str()))
        .collect();
    // node-c's pod is not running: listed with the reason, not asked.
    assert_eq!(st, [("node-a", "ok"), ("node-c", "no-pod")]);
    assert_eq!(m.node_selector, "role=web");
    assert!(f
        .calls()
        .iter()
        .any(|c| c.starts_with("get nodes -l role=web")));

    let out2 = f.path("named");
    let o = f.plugin(&[
        "-n",
        "tools",
        "snapshot",
        "node-b",
        "-o",
        out2.to_str().unwrap(),
        "--duration",
        "0",
        "--",
        "--no-probes",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = manifest(&out2);
    assert_eq!(m.nodes.len(), 1);
    assert_eq!(
        (m.nodes[0].node.as_str(), m.nodes[0].status.as_str()),
        ("node-b", "ok")
    );
    assert_eq!(m.namespace, "tools");
    assert!(f
        .calls()
        .iter()
        .any(|c| c.contains("exec -n tools dpscope-b")));

    // No node answers: exit 1, and the manifest still says why.
    let f = Fake::new(
        &[("node-x", "")],
        &[("node-x", "dpscope-x", "Running", "fail 7 boom")],
    );
    let out3 = f.path("none");
    let o = f.plugin(&["snapshot", "-o", out3.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let m = manifest(&out3);
    assert_eq!(m.nodes[0].status, "failed");
    assert!(
        m.nodes[0].reason.contains("exited 7: boom"),
        "{:?}",
        m.nodes[0]
    );
}

#[test]
fn history_copies_the_flight_recording_and_tui_execs_interactively() {
    if !common::require_priv("kubectl plugin history") {
        return;
    }
    let f = Fake::new(
        &[("node-a", "")],
        &[("node-a", "dpscope-a", "Running", "ok")],
    );
    // The pod's ring: written by the real recorder.
    let rec = Command::new(env!("CARGO_BIN_EXE_dpscope"))
        .args([
            "--no-probes",
            "record",
            "--ring-size",
            "64",
            "--every",
            "0.3",
            "--duration",
            "1",
            "-o",
        ])
        .arg(f.path("ring"))
        .output()
        .unwrap();
    assert!(rec.status.success(), "{}", stderr(&rec));
    let file = f.path("node-a.jsonl");
    let o = f.plugin(&[
        "history",
        "node-a",
        "--since",
        "30m",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let loaded = dpscope::model::io::load(&file).unwrap();
    let ring = dpscope::ring::load(&f.path("ring")).unwrap();
    assert!(!loaded.snapshots.is_empty());
    assert_eq!(loaded.snapshots, ring.snapshots);
    assert!(f
        .calls()
        .iter()
        .any(|c| c == "exec -n dpscope dpscope-a -c dpscope -- dpscope history /var/lib/dpscope/ring --since 30m"));
    // A node without a pod: a clear failure, no file.
    let o = f.plugin(&["history", "node-z", "-o", f.path("z").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no running dpscope pod on node node-z"));
    assert!(!f.path("z").exists());
    // A failing exec leaves no partial file.
    std::fs::write(
        f.path("kube/behave/dpscope-a"),
        "fail 2 dpscope: error: no ring\n",
    )
    .unwrap();
    let o = f.plugin(&["history", "node-a", "-o", f.path("y").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no ring"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_dir(f.dir.path())
            .unwrap()
            .filter(|e| e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('y'))
            .count(),
        0
    );
    // tui: kubectl exec -it into the node's pod, extra arguments passed on.
    std::fs::write(f.path("kube/behave/dpscope-a"), "ok\n").unwrap();
    let o = f.plugin(&["tui", "node-a", "--", "--version"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("dpscope "));
    assert!(f
        .calls()
        .iter()
        .any(|c| c == "exec -it -n dpscope dpscope-a -c dpscope -- dpscope --version"));
}
