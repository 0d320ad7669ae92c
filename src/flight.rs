//! The flight recorder's commands: `record --ring-size MIB -o DIR` and `history DIR`, and
//! loading a path that may be a ring directory (`replay DIR`, `show --from DIR`, `diff DIR`), and
//! `diff --nodes BUNDLE_DIR`.

use super::BadInput;
use anyhow::Context;
use dpscope::bpf::collector::{Collector, Config};
use dpscope::model::io::{self as snapio, LoadError, Loaded};
use dpscope::ring::{self, Pushed, Ring};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A bundle of node snapshots (not a flight recorder's ring): what `replay DIR` shows side by
/// side.
pub fn is_bundle(path: &Path) -> bool {
    path.is_dir() && !ring::is_ring(path) && dpscope::model::bundle::is_bundle(path)
}

/// A saved snapshot, a recording, or a flight recorder's ring directory.
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    if path.is_dir() {
        if !ring::is_ring(path) && dpscope::model::bundle::is_bundle(path) {
            return Err(LoadError::Corrupt {
                path: path.display().to_string(),
                line: 0,
                msg: "a bundle of node snapshots: open it with `dpscope replay DIR`, compare the \
                      nodes with `dpscope diff --nodes DIR`, or open one node's file"
                    .into(),
            });
        }
        return ring::load(path);
    }
    snapio::load(path)
}

/// Record into the ring at `dir` every `every` until `total` (forever when None).
pub fn record_ring(
    cfg: Config,
    dir: &Path,
    bytes: u64,
    total: Option<Duration>,
    every: Duration,
) -> anyhow::Result<()> {
    let mut ring = match Ring::open(dir, bytes) {
        Ok(r) => r,
        // A directory refused as unsafe, or not one: the user's input (exit 2).
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            return Err(BadInput(e.to_string()).into())
        }
        Err(e) => {
            return Err(e).with_context(|| format!("opening the ring directory {}", dir.display()))
        }
    };
    let mut c = Collector::new(cfg);
    let start = Instant::now();
    loop {
        let snap = c.collect();
        match ring
            .push(&snap)
            .with_context(|| format!("writing the ring in {}", dir.display()))?
        {
            Pushed::TooBig(b) => eprintln!(
                "dpscope: warning: a snapshot of {b} bytes is larger than the whole ring ({} bytes); not recorded",
                ring.limit()
            ),
            Pushed::Appended | Pushed::Rotated { .. } => {}
        }
        let next =
            every.mul_f64(((start.elapsed().as_secs_f64() / every.as_secs_f64()).floor()) + 1.0);
        if total.is_some_and(|t| next > t) {
            return Ok(());
        }
        std::thread::sleep(next.saturating_sub(start.elapsed()));
    }
}

/// `dpscope history DIR [--since SPAN] [-o FILE]`.
pub fn history(dir: &Path, since: Option<&str>, output: Option<PathBuf>) -> anyhow::Result<()> {
    if !dir.is_dir() {
        return Err(BadInput(format!(
            "{}: not a directory (history reads a ring written by record --ring-size)",
            dir.display()
        ))
        .into());
    }
    let since = match since {
        None => None,
        Some(text) => {
            let span = dpscope::cli::since_span(text)?;
            Some(time::OffsetDateTime::now_utc() - span)
        }
    };
    let (written, problems) = match output {
        Some(path) => {
            // Never through a symlink; under sudo as the invoking user.
            let file = dpscope::safe_fs::create_output(&path).map_err(BadInput)?;
            let mut w = std::io::BufWriter::new(file);
            let r = ring::export(dir, since, &mut w)?;
            w.flush().context("writing the recording")?;
            r
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            let r = ring::export(dir, since, &mut w);
            match r {
                Err(ring::ExportError::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                    return Ok(())
                }
                r => {
                    let r = r?;
                    match w.flush() {
                        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                        f => f.context("writing to stdout")?,
                    }
                    r
                }
            }
        }
    };
    for p in problems {
        eprintln!("dpscope: warning: {}", dpscope::sanitize::text(&p));
    }
    if written == 0 {
        eprintln!("dpscope: warning: no snapshot in {} matched", dir.display());
    }
    Ok(())
}

/// `dpscope diff --nodes BUNDLE_DIR [--json]`.
pub fn diff_nodes(dir: &Path, json: bool) -> anyhow::Result<()> {
    use dpscope::model::{bundle, node_diff};
    if !dir.is_dir() {
        return Err(BadInput(format!(
            "{}: not a directory (diff --nodes reads a bundle written by kubectl dpscope snapshot)",
            dir.display()
        ))
        .into());
    }
    // One node at a time: a node's facts are kept, its snapshot (maybe half a million CT
    // entries) is dropped before the next one loads.
    let manifest = bundle::load_manifest(dir).map_err(|e| BadInput(e.to_string()))?;
    let mut facts = Vec::new();
    let mut missing = Vec::new();
    for m in &manifest.nodes {
        let n = bundle::load_node(dir, m);
        match &n.snapshot {
            Some(s) => facts.push((n.name.clone(), node_diff::facts(s))),
            None => missing.push(node_diff::NodeProblem {
                node: n.name.clone(),
                status: n.status.clone(),
                reason: n.reason.clone(),
            }),
        }
    }
    if facts.is_empty() {
        return Err(BadInput(format!(
            "{}: no node in the bundle has a snapshot",
            dir.display()
        ))
        .into());
    }
    let d = node_diff::compare_facts(facts, missing);
    let text = if json {
        // DEL, C1 and bidi controls in node names and reasons as `\u` escapes.
        let mut t = dpscope::sanitize::to_json_string_pretty(&d).context("encoding the diff")?;
        t.push('\n');
        t
    } else {
        d.to_text()
    };
    super::write_out(None, &text)
}
