//! deploy/*.yaml read into the Kubernetes API types (k8s-openapi), with what the probes need
//! checked: privileges, host namespaces, mounts, tolerations, resources; and the recorder's
//! arguments run through the real dpscope.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Container, Namespace, PodSpec};
use serde::Deserialize;
use std::path::Path;

fn deploy_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy"))
}

/// Every YAML document of every file in deploy/, as (kind, document).
fn documents() -> Vec<(String, serde_yaml::Value)> {
    let mut files: Vec<_> = std::fs::read_dir(deploy_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let v = serde_yaml::Value::deserialize(doc).unwrap();
            if v.is_null() {
                continue;
            }
            let kind = v["kind"].as_str().unwrap_or_default().to_string();
            out.push((kind, v));
        }
    }
    out
}

fn typed<T: serde::de::DeserializeOwned>(kind: &str) -> Vec<T> {
    documents()
        .into_iter()
        .filter(|(k, _)| k == kind)
        .map(|(_, v)| {
            serde_yaml::from_value(v).unwrap_or_else(|e| panic!("{kind} does not deserialize: {e}"))
        })
        .collect()
}

fn daemonset() -> DaemonSet {
    let mut ds: Vec<DaemonSet> = typed("DaemonSet");
    assert_eq!(ds.len(), 1);
    ds.remove(0)
}

fn pod_spec(ds: &DaemonSet) -> PodSpec {
    ds.spec.as_ref().unwrap().template.spec.clone().unwrap()
}

fn container(spec: &PodSpec) -> Container {
    assert_eq!(spec.containers.len(), 1);
    spec.containers[0].clone()
}

#[test]
fn every_document_is_a_known_kubernetes_type() {
    let docs = documents();
    let kinds: Vec<&str> = docs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["DaemonSet", "Namespace"]);
    let ns: Vec<Namespace> = typed("Namespace");
    let ds = daemonset();
    assert_eq!(ns[0].metadata.name, ds.metadata.namespace);
    assert_eq!(ds.metadata.namespace.as_deref(), Some("dpscope"));
}

#[test]
fn the_daemonset_has_the_privileges_and_host_namespaces_the_probes_need() {
    let ds = daemonset();
    let spec = pod_spec(&ds);
    assert_eq!(
        spec.host_pid,
        Some(true),
        "owners of BPF objects: the node's processes"
    );
    assert_eq!(
        spec.host_network,
        Some(true),
        "tc/XDP/tcx hooks of the node's interfaces"
    );
    assert_eq!(spec.dns_policy.as_deref(), Some("ClusterFirstWithHostNet"));
    let c = container(&spec);
    let sc = c.security_context.clone().unwrap();
    assert_eq!(
        sc.privileged,
        Some(true),
        "CAP_BPF, PERFMON, NET_ADMIN, SYS_ADMIN"
    );
    // Every node: one toleration with no key and operator Exists matches every taint.
    let tol = spec.tolerations.clone().unwrap();
    assert!(
        tol.iter().any(|t| t.operator.as_deref() == Some("Exists")
            && t.key.is_none()
            && t.effect.is_none()),
        "{tol:?}"
    );
    // Labels: the selector picks the template's pods, and the plugin finds them by name.
    let sel = ds
        .spec
        .as_ref()
        .unwrap()
        .selector
        .match_labels
        .clone()
        .unwrap();
    let labels = ds
        .spec
        .as_ref()
        .unwrap()
        .template
        .metadata
        .as_ref()
        .unwrap()
        .labels
        .clone()
        .unwrap();
    for (k, v) in &sel {
        assert_eq!(labels.get(k), Some(v));
    }
    assert_eq!(
        sel.get("app.kubernetes.io/name").map(String::as_str),
        Some("dpscope")
    );
    let plugin = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/plugin/kubectl-dpscope"
    ))
    .unwrap();
    assert!(plugin.contains("app.kubernetes.io/name=dpscope"));
    assert!(plugin.contains("NAMESPACE:-dpscope}"));
}

#[test]
fn the_daemonset_mounts_what_dpscope_reads_from_the_host() {
    let spec = pod_spec(&daemonset());
    let c = container(&spec);
    let mounts = c.volume_mounts.clone().unwrap();
    let volumes = spec.volumes.clone().unwrap();
    let host_path_of = |mount_path: &str| -> (String, Option<String>, bool) {
        let m = mounts
            .iter()
            .find(|m| m.mount_path == mount_path)
            .unwrap_or_else(|| panic!("no mount at {mount_path}"));
        let v = volumes.iter().find(|v| v.name == m.name).unwrap();
        let hp = v
            .host_path
            .clone()
            .unwrap_or_else(|| panic!("{} is not a hostPath", v.name));
        (
            hp.path,
            m.mount_propagation.clone(),
            m.read_only.unwrap_or(false),
        )
    };
    for path in ["/sys/fs/bpf", "/run/cilium/bpffs"] {
        let (hp, prop, ro) = host_path_of(path);
        assert_eq!(hp, path);
        // Cilium mounts and pins after the pod started: seen through propagation.
        assert_eq!(prop.as_deref(), Some("HostToContainer"), "{path}");
        assert!(!ro, "{path}");
    }
    for path in [
        "/sys/kernel/btf",
        "/sys/kernel/security",
        "/sys/kernel/tracing",
    ] {
        assert_eq!(host_path_of(path).0, path);
    }
    // The ring lives on the node (survives the pod) and is where the recorder writes.
    let args = c.args.clone().unwrap();
    let out = &args[args.iter().position(|a| a == "-o").unwrap() + 1];
    let ring_mount = mounts
        .iter()
        .find(|m| Path::new(out).starts_with(&m.mount_path))
        .expect("the ring is on a mount");
    assert_eq!(host_path_of(&ring_mount.mount_path).0, "/var/lib/dpscope");
    assert_eq!(
        spec.host_pid,
        Some(true),
        "/proc of the node's PID namespace"
    );
}

#[test]
fn the_recorder_is_small_and_bounded() {
    let c = container(&pod_spec(&daemonset()));
    let args = c.args.clone().unwrap();
    assert_eq!(args[0], "record");
    let ring: f64 = args[args.iter().position(|a| a == "--ring-size").unwrap() + 1]
        .parse()
        .unwrap();
    assert!((1.0..=1024.0).contains(&ring), "ring {ring} MiB");
    assert!(
        !args.iter().any(|a| a == "--duration"),
        "a flight recorder runs until stopped"
    );
    let r = c.resources.clone().unwrap();
    let (req, lim) = (r.requests.unwrap(), r.limits.unwrap());
    for k in ["cpu", "memory"] {
        assert!(req.contains_key(k) && lim.contains_key(k), "{k}");
    }
    assert_eq!(req["cpu"].0, "20m");
    assert_eq!(lim["cpu"].0, "500m");
    assert_eq!(lim["memory"].0, "512Mi");
    assert_eq!(
        c.security_context.unwrap().read_only_root_filesystem,
        Some(true)
    );
}

/// The manifest's arguments, run by the real dpscope (ring in a temp directory, 1 s): a typo in
/// the YAML would be a pod in CrashLoopBackOff on every node.
#[test]
fn the_recorder_arguments_are_accepted_by_dpscope() {
    if !common::require_priv("deploy manifest args") {
        return;
    }
    let c = container(&pod_spec(&daemonset()));
    let mut args = c.args.clone().unwrap();
    let dir = tempfile::Builder::new()
        .prefix("dpscope-deploy")
        .tempdir()
        .unwrap();
    let ring = dir.path().join("ring");
    let o = args.iter().position(|a| a == "-o").unwrap();
    args[o + 1] = ring.display().to_string();
    args.extend(["--duration".into(), "0.5".into()]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dpscope"))
        .args(&args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dpscope::ring::is_ring(&ring));
}
