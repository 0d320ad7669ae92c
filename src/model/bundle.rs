//! A bundle: one snapshot per node, gathered by `kubectl dpscope snapshot -o DIR`.
//!
//! The directory holds `<node>.json` (what `dpscope snapshot` printed on that node) and
//! `manifest.json` (schema `dpscope.bundle/v1`): every node asked, when, and for the nodes that
//! gave no snapshot, why. A node that did not answer is a row with its reason, never silently
//! missing. A directory without a manifest (snapshots copied by hand) is read as a bundle of
//! its `*.json` files, each named by its file name.

use super::io::{self as snapio, LoadError};
use super::Snapshot;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};

pub const BUNDLE_SCHEMA: &str = "dpscope.bundle/v1";
pub const MANIFEST: &str = "manifest.json";
/// Nodes read from one bundle at most.
pub const MAX_NODES: usize = 5000;
/// A manifest larger than this is refused.
const MAX_MANIFEST_BYTES: u64 = 16 << 20;
/// Node files read from one bundle at most, together: past it, the remaining nodes are listed
/// as `unreadable` with the reason (open such a node's file on its own).
pub const MAX_BUNDLE_BYTES: u64 = 2 << 30;
/// Longest node name kept (a Kubernetes node name is at most 253 characters).
pub const MAX_NODE_NAME: usize = 253;

/// Open `path` for reading only if it is a regular file and not a symbolic link: a bundle is
/// someone else's directory, and a node file linked to a FIFO, a device or another user's
/// file must not be read (or block the reader).
fn open_plain(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                std::io::Error::other("a symbolic link; bundle files must be plain files")
            } else {
                e
            }
        })?;
    if !f.metadata()?.is_file() {
        return Err(std::io::Error::other(
            "not a regular file; bundle files must be plain files",
        ));
    }
    Ok(f)
}

/// A node's name as shown and looked up: control and bidi characters as visible escapes, at
/// most [`MAX_NODE_NAME`] characters.
pub fn node_name(raw: &str) -> String {
    crate::sanitize::text_capped(raw, MAX_NODE_NAME)
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Manifest {
    pub schema: String,
    /// When the plugin started gathering (RFC 3339).
    pub created_at: String,
    /// Namespace and label selector of the DaemonSet's pods, and the node selector asked for.
    pub namespace: String,
    pub pod_selector: String,
    pub node_selector: String,
    /// Seconds each node had before it counted as not answering.
    pub timeout_s: f64,
    /// Seconds `dpscope snapshot` observed on each node (own probes' counting window).
    pub duration_s: f64,
    pub nodes: Vec<ManifestNode>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ManifestNode {
    pub node: String,
    pub pod: String,
    /// The snapshot's file name in the bundle (for `ok` nodes).
    pub file: String,
    /// `ok`, `timeout`, `failed`, `no-pod`.
    pub status: String,
    /// Why there is no snapshot (kubectl's message, the timeout).
    pub reason: String,
    pub started_at: String,
    pub finished_at: String,
    pub seconds: f64,
}

/// One node of a loaded bundle.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleNode {
    pub name: String,
    /// `ok`, or why there is no snapshot (`timeout`, `failed`, `no-pod`, `unreadable`).
    pub status: String,
    pub reason: String,
    pub snapshot: Option<Snapshot>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// In manifest order (by name without a manifest).
    pub nodes: Vec<BundleNode>,
}

impl Bundle {
    /// Nodes with a snapshot, in order.
    pub fn snapshots(&self) -> impl Iterator<Item = (&str, &Snapshot)> {
        self.nodes
            .iter()
            .filter_map(|n| n.snapshot.as_ref().map(|s| (n.name.as_str(), s)))
    }

    pub fn node(&self, name: &str) -> Option<&BundleNode> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// The own probes' counting window, when the manifest says it.
    pub fn window_s(&self) -> Option<f64> {
        let d = self.manifest.duration_s;
        (d.is_finite() && d > 0.0).then_some(d)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("cannot read {path}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a dpscope bundle manifest ({msg})")]
    Manifest { path: String, msg: String },
    #[error("{path}: holds no node snapshot (no manifest.json and no *.json file)")]
    Empty { path: String },
    #[error("{path}: more than {MAX_NODES} nodes")]
    TooMany { path: String },
}

/// Whether `dir` looks like a bundle: a directory with a manifest, or with `*.json` files.
pub fn is_bundle(dir: &Path) -> bool {
    dir.is_dir()
        && (dir.join(MANIFEST).is_file()
            || std::fs::read_dir(dir).is_ok_and(|mut r| {
                r.any(|e| e.is_ok_and(|e| json_file_name(&e.file_name().to_string_lossy())))
            }))
}

fn json_file_name(name: &str) -> bool {
    name.ends_with(".json") && name != MANIFEST && safe_file_name(name)
}

/// A plain file name inside the bundle: no directories, no parent, not hidden.
pub fn safe_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.contains('/')
        && !name.contains('\0')
        && name.len() <= 255
}

/// Parse a manifest's text.
pub fn parse_manifest(path: &str, text: &str) -> Result<Manifest, BundleError> {
    let m: Manifest = serde_json::from_str(text).map_err(|e| BundleError::Manifest {
        path: path.to_string(),
        msg: e.to_string(),
    })?;
    if m.schema != BUNDLE_SCHEMA {
        return Err(BundleError::Manifest {
            path: path.to_string(),
            msg: format!("schema {:?}, this dpscope reads {BUNDLE_SCHEMA}", m.schema),
        });
    }
    if m.nodes.len() > MAX_NODES {
        return Err(BundleError::TooMany {
            path: path.to_string(),
        });
    }
    Ok(m)
}

fn read_manifest(path: &Path) -> Result<Manifest, BundleError> {
    let name = path.display().to_string();
    let io = |source| BundleError::Io {
        path: name.clone(),
        source,
    };
    let f = open_plain(path).map_err(io)?;
    let mut text = String::new();
    f.take(MAX_MANIFEST_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(BundleError::Manifest {
            path: name,
            msg: format!("larger than {} MiB", MAX_MANIFEST_BYTES >> 20),
        });
    }
    parse_manifest(&name, &text)
}

/// Load a bundle directory. Node files that cannot be read become `unreadable` nodes with the
/// reason; only a bad manifest or an empty directory is an error.
pub fn load(dir: &Path) -> Result<Bundle, BundleError> {
    let manifest = load_manifest(dir)?;
    let mut budget = MAX_BUNDLE_BYTES;
    let nodes = manifest
        .nodes
        .iter()
        .map(|m| {
            let size = std::fs::symlink_metadata(dir.join(&m.file)).map_or(0, |md| md.len());
            if m.status.is_empty() || m.status == "ok" {
                if size > budget {
                    return BundleNode {
                        name: node_name(&m.node),
                        status: "unreadable".into(),
                        reason: format!(
                            "the bundle's node files are larger than {} GiB together; open {} on its own",
                            MAX_BUNDLE_BYTES >> 30,
                            crate::sanitize::text(&m.file)
                        ),
                        snapshot: None,
                    };
                }
                budget -= size;
            }
            load_node(dir, m)
        })
        .collect();
    Ok(Bundle {
        dir: dir.to_path_buf(),
        manifest,
        nodes,
    })
}

/// The bundle's manifest (or the one a directory of `*.json` files stands for), without
/// loading any node: for a reader that takes one node at a time ([`load_node`]).
pub fn load_manifest(dir: &Path) -> Result<Manifest, BundleError> {
    let manifest_path = dir.join(MANIFEST);
    let manifest = if manifest_path.exists() {
        read_manifest(&manifest_path)?
    } else {
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .map_err(|source| BundleError::Io {
                path: dir.display().to_string(),
                source,
            })?
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str().map(String::from))
            .filter(|n| json_file_name(n))
            .collect();
        if files.len() > MAX_NODES {
            return Err(BundleError::TooMany {
                path: dir.display().to_string(),
            });
        }
        files.sort();
        Manifest {
            schema: BUNDLE_SCHEMA.into(),
            nodes: files
                .into_iter()
                .map(|f| ManifestNode {
                    node: f.trim_end_matches(".json").to_string(),
                    file: f,
                    status: "ok".into(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    };
    if manifest.nodes.is_empty() {
        return Err(BundleError::Empty {
            path: dir.display().to_string(),
        });
    }
    Ok(manifest)
}

/// One node of the bundle in `dir`: its newest snapshot, or why there is none.
pub fn load_node(dir: &Path, m: &ManifestNode) -> BundleNode {
    let mut node = BundleNode {
        name: node_name(&m.node),
        status: if m.status.is_empty() {
            "ok".into()
        } else {
            crate::sanitize::text_capped(&m.status, 32)
        },
        reason: crate::sanitize::text_capped(&m.reason, 1024),
        snapshot: None,
    };
    if node.status != "ok" {
        return node;
    }
    let unreadable = |node: &mut BundleNode, why: String| {
        node.status = "unreadable".into();
        node.reason = why;
    };
    if !safe_file_name(&m.file) {
        unreadable(
            &mut node,
            format!(
                "file name {:?} is not a plain name in the bundle",
                crate::sanitize::text_capped(&m.file, 300)
            ),
        );
        return node;
    }
    let path = dir.join(&m.file);
    let name = path.display().to_string();
    let open = || -> std::io::Result<std::io::BufReader<std::fs::File>> {
        Ok(std::io::BufReader::with_capacity(
            1 << 20,
            open_plain(&path)?,
        ))
    };
    let loaded = match open() {
        Ok(r) => {
            let mut win = snapio::Window::new(snapio::MAX_RECORDING_BYTES);
            snapio::load_from(&name, r, &mut || Ok(Box::new(open()?)), &mut win)
                .map(|skipped| win.into_loaded(skipped))
        }
        Err(source) => Err(LoadError::Io {
            path: name.clone(),
            source,
        }),
    };
    match loaded {
        Ok(loaded) => node.snapshot = loaded.snapshots.into_iter().last(),
        Err(e @ (LoadError::Io { .. } | LoadError::Empty { .. })) => {
            let cause = match &e {
                LoadError::Io { source, .. } => format!("{e}: {source}"),
                _ => e.to_string(),
            };
            unreadable(&mut node, crate::sanitize::text(&cause).into_owned())
        }
        Err(e) => unreadable(
            &mut node,
            crate::sanitize::text(&e.to_string()).into_owned(),
        ),
    }
    node
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(host: &str) -> String {
        let mut s = Snapshot::empty();
        s.node.hostname = host.into();
        s.taken_at = "2026-11-21T10:00:00Z".into();
        snapio::to_json_pretty(&s)
    }

    #[test]
    fn a_manifest_bundle_lists_every_node_with_its_reason() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("node-a.json"), snap("node-a")).unwrap();
        std::fs::write(d.path().join("node-c.json"), "{\"schema\": brok").unwrap();
        let manifest = serde_json::json!({
            "schema": BUNDLE_SCHEMA,
            "duration_s": 2,
            "nodes": [
                {"node": "node-a", "file": "node-a.json", "status": "ok"},
                {"node": "node-b", "status": "timeout", "reason": "no answer within 30 s"},
                {"node": "node-c", "file": "node-c.json", "status": "ok"},
                {"node": "node-d", "file": "../etc/passwd", "status": "ok"},
                {"node": "node-e", "file": "missing.json", "status": "ok"}
            ]
        });
        std::fs::write(d.path().join(MANIFEST), manifest.to_string()).unwrap();
        assert!(is_bundle(d.path()));
        let b = load(d.path()).unwrap();
        assert_eq!(b.window_s(), Some(2.0));
        let st: Vec<(&str, &str)> = b
            .nodes
            .iter()
            .map(|n| (n.name.as_str(), n.status.as_str()))
            .collect();
        assert_eq!(
            st,
            [
                ("node-a", "ok"),
                ("node-b", "timeout"),
                ("node-c", "unreadable"),
                ("node-d", "unreadable"),
                ("node-e", "unreadable")
            ]
        );
        assert_eq!(b.snapshots().count(), 1);
        assert_eq!(b.nodes[1].reason, "no answer within 30 s");
        assert!(b.nodes[3].reason.contains("not a plain name"));
        assert!(
            b.nodes[4].reason.contains("missing.json"),
            "{}",
            b.nodes[4].reason
        );
    }

    #[test]
    fn without_a_manifest_every_json_file_is_a_node() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("b.json"), snap("b")).unwrap();
        std::fs::write(d.path().join("a.json"), snap("a")).unwrap();
        std::fs::write(d.path().join(".hidden.json"), snap("h")).unwrap();
        std::fs::write(d.path().join("notes.txt"), "x").unwrap();
        let b = load(d.path()).unwrap();
        let names: Vec<&str> = b.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let empty = tempfile::tempdir().unwrap();
        assert!(!is_bundle(empty.path()));
        assert!(matches!(load(empty.path()), Err(BundleError::Empty { .. })));
    }

    #[test]
    fn bad_manifests_are_refused_with_a_reason() {
        for (text, want) in [
            ("{", "not a dpscope bundle manifest"),
            (r#"{"schema":"other/v9","nodes":[]}"#, "other/v9"),
            (
                r#"{"schema":"dpscope.bundle/v1","nodes":"x"}"#,
                "not a dpscope bundle",
            ),
        ] {
            let e = parse_manifest("m.json", text).unwrap_err().to_string();
            assert!(e.contains(want), "{text}: {e}");
        }
    }
}
