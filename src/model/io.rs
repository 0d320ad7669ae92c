//! Reading and writing snapshot files: one JSON object (`snapshot`) or JSON lines (`record`).
//!
//! Loading is strict about the schema name and lenient about missing fields (older files load),
//! and every failure is a typed error with a one-line message naming the file and the problem.

use super::{Snapshot, SCHEMA};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is empty: not a dpscope snapshot")]
    Empty { path: String },
    #[error("{path}: not a dpscope snapshot (line {line}: {msg})")]
    Corrupt {
        path: String,
        line: usize,
        msg: String,
    },
    #[error("{path}: unsupported snapshot schema {found:?} (this dpscope reads {SCHEMA})")]
    Schema { path: String, found: String },
}

/// A file opened for replay: one snapshot or a recording of several, oldest first.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub snapshots: Vec<Snapshot>,
    /// Lines of a recording that could not be read (line number, reason); the rest still opened.
    pub skipped: Vec<(usize, String)>,
}

/// Parse file contents: a single JSON object (possibly pretty-printed) or JSON lines.
pub fn parse(path: &str, text: &str) -> Result<Loaded, LoadError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(LoadError::Empty {
            path: path.to_string(),
        });
    }
    // A whole-file object first: covers pretty-printed snapshots.
    match serde_json::from_str::<serde_json::Value>(trimmed) {
        Ok(value) => {
            let snap = from_value(path, 1, value)?;
            return Ok(Loaded {
                snapshots: vec![snap],
                skipped: vec![],
            });
        }
        Err(e) if !trimmed.contains('\n') => {
            return Err(LoadError::Corrupt {
                path: path.to_string(),
                line: e.line(),
                msg: e.to_string(),
            })
        }
        Err(_) => {}
    }
    // JSON lines: keyframes stand alone, other lines are rebuilt from their keyframe
    // (`recording`); bad lines are reported and skipped.
    let mut rebuilder = super::recording::Rebuilder::default();
    let mut snapshots = Vec::new();
    let mut skipped = Vec::new();
    let mut first_err = None;
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let parsed = serde_json::from_str::<serde_json::Value>(line)
            .map_err(|e| LoadError::Corrupt {
                path: path.to_string(),
                line: line_no,
                msg: e.to_string(),
            })
            .and_then(|mut v| {
                let line_ref = v
                    .as_object_mut()
                    .and_then(|o| o.remove("recording"))
                    .map(serde_json::from_value::<super::recording::LineRef>)
                    .transpose()
                    .map_err(|e| LoadError::Corrupt {
                        path: path.to_string(),
                        line: line_no,
                        msg: format!("bad \"recording\" field: {e}"),
                    })?;
                let mut s = from_value(path, line_no, v)?;
                match line_ref {
                    None => rebuilder.keyframe(line_no, snapshots.len()),
                    Some(r) => rebuilder.rebuild(&r, &mut s, &snapshots).map_err(|msg| {
                        LoadError::Corrupt {
                            path: path.to_string(),
                            line: line_no,
                            msg,
                        }
                    })?,
                }
                Ok(s)
            });
        match parsed {
            Ok(s) => snapshots.push(s),
            Err(e @ LoadError::Schema { .. }) => return Err(e),
            Err(e) => {
                skipped.push((line_no, e.to_string()));
                first_err.get_or_insert(e);
            }
        }
    }
    if snapshots.is_empty() {
        return Err(first_err.unwrap_or(LoadError::Empty {
            path: path.to_string(),
        }));
    }
    Ok(Loaded { snapshots, skipped })
}

fn from_value(path: &str, line: usize, value: serde_json::Value) -> Result<Snapshot, LoadError> {
    let schema = value
        .get("schema")
        .and_then(|s| s.as_str())
        .ok_or_else(|| LoadError::Corrupt {
            path: path.to_string(),
            line,
            msg: "no \"schema\" field".to_string(),
        })?;
    if schema != SCHEMA {
        return Err(LoadError::Schema {
            path: path.to_string(),
            found: schema.to_string(),
        });
    }
    serde_json::from_value(value).map_err(|e| LoadError::Corrupt {
        path: path.to_string(),
        line,
        msg: e.to_string(),
    })
}

pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: name.clone(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    parse(&name, &text)
}

/// Pretty JSON of one snapshot, as `dpscope snapshot` writes it.
/// DEL, C1 and bidi controls are `\u` escapes (`sanitize::JsonSafe`): lossless, and safe to `cat`.
pub fn to_json_pretty(s: &Snapshot) -> String {
    // Serialising plain data structures with string keys cannot fail.
    crate::sanitize::to_json_string_pretty(s).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// One compact line, as `dpscope record` writes it (escapes as [`to_json_pretty`]).
pub fn to_json_line(s: &Snapshot) -> String {
    crate::sanitize::to_json_string(s).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Program;

    fn sample() -> Snapshot {
        let mut s = Snapshot::empty();
        s.taken_at = "2026-11-21T10:00:00Z".into();
        s.monotonic_ns = 42;
        s.programs.push(Program {
            id: 7,
            name: "cil_from_container".into(),
            kernel_name: "cil_from_conta".into(),
            prog_type: "sched_cls".into(),
            run_cnt: 10,
            ..Default::default()
        });
        s
    }

    #[test]
    fn snapshot_json_round_trips() {
        let s = sample();
        let back = parse("x", &to_json_pretty(&s)).unwrap();
        assert_eq!(back.snapshots, vec![s.clone()]);
        let line = to_json_line(&s);
        assert!(!line.contains('\n'));
        assert_eq!(parse("x", &line).unwrap().snapshots, vec![s]);
    }

    #[test]
    fn contract_field_names_are_used() {
        let v: serde_json::Value = serde_json::from_str(&to_json_line(&sample())).unwrap();
        assert_eq!(v["schema"], SCHEMA);
        assert_eq!(v["programs"][0]["type"], "sched_cls");
        assert_eq!(v["programs"][0]["kernel_name"], "cil_from_conta");
        assert!(v["node"]["unavailable"].is_array());
    }

    #[test]
    fn corrupt_and_truncated_files_are_errors_not_panics() {
        let full = to_json_pretty(&sample());
        for cut in [1, 10, full.len() / 2, full.len() - 1] {
            let err = parse("snap.json", &full[..cut]);
            assert!(err.is_err(), "cut at {cut} parsed");
        }
        assert!(matches!(parse("e", "  \n"), Err(LoadError::Empty { .. })));
        assert!(matches!(
            parse("g", "\u{0}\u{1}garbage"),
            Err(LoadError::Corrupt { .. })
        ));
        assert!(matches!(
            parse("a", "[1,2,3]"),
            Err(LoadError::Corrupt { .. })
        ));
        let wrong_type = r#"{"schema":"dpscope.snapshot/v1","programs":"nope"}"#;
        assert!(matches!(
            parse("t", wrong_type),
            Err(LoadError::Corrupt { .. })
        ));
    }

    #[test]
    fn other_schema_is_refused_with_its_name() {
        let err = parse("old.json", r#"{"schema":"dpscope.snapshot/v0"}"#).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("dpscope.snapshot/v0") && msg.contains(SCHEMA),
            "{msg}"
        );
    }

    #[test]
    fn recording_with_a_corrupt_line_still_opens_the_rest() {
        let a = to_json_line(&sample());
        let text = format!("{a}\n{{\"schema\": broken\n{a}\n");
        let loaded = parse("rec.jsonl", &text).unwrap();
        assert_eq!(loaded.snapshots.len(), 2);
        assert_eq!(loaded.skipped.len(), 1);
        assert_eq!(loaded.skipped[0].0, 2);
    }

    #[test]
    fn missing_fields_default_so_older_files_load() {
        let s = parse("min", r#"{"schema":"dpscope.snapshot/v1"}"#).unwrap();
        assert!(s.snapshots[0].programs.is_empty());
    }
}
