//! The import graph of `src/` has no cycle: every top-level module imports only modules of a
//! lower layer (docs/architecture.md, "Layers"):
//!
//! ```text
//! leaves (sanitize, safe_fs, signals, bytes) ← model ← {text, ring, config} ← {bpf, pane}
//!     ← app ← views ← {tui, cli}
//! ```
//!
//! It reads every `crate::…` path in the library's sources (comments aside, `crate::{a, b}`
//! groups included, over several lines too) and fails naming the file and line of each import
//! that goes up or sideways. The binary (`main.rs` and its own modules) sits above all of it.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Each top-level module's layer. A module may import its own and lower layers only.
const LAYERS: &[(&str, u8)] = &[
    ("sanitize", 0),
    ("safe_fs", 0),
    ("signals", 0),
    ("bytes", 0),
    ("model", 1),
    ("text", 2),
    ("ring", 2),
    ("config", 2),
    ("bpf", 3),
    ("pane", 3),
    ("app", 4),
    ("views", 5),
    ("tui", 6),
    ("cli", 6),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

/// The top-level modules that `crate::` paths in `text` name.
fn crate_roots(text: &str) -> Vec<String> {
    crate_roots_at(text).into_iter().map(|(_, m)| m).collect()
}

/// The top-level modules that `crate::` paths in `text` name, with the offset of each path.
fn crate_roots_at(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(i) = text[pos..].find("crate::") {
        let start = pos + i;
        // `dpscope_crate::x` or `my_crate::x` are not `crate::`.
        let before = text[..start].chars().next_back();
        pos = start + "crate::".len();
        let rest = &text[pos..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // The first name of every item at the group's own depth.
            let mut depth = 0usize;
            let mut at_item = true;
            let mut name = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => at_item = true,
                    _ if at_item && (c.is_alphanumeric() || c == '_') => name.push(c),
                    _ if at_item && !name.is_empty() => {
                        out.push((start, std::mem::take(&mut name)));
                        at_item = false;
                    }
                    _ => {}
                }
            }
            if !name.is_empty() {
                out.push((start, name));
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push((start, name));
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("src/ is readable") {
        let p = e.expect("a directory entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `src/app/state.rs` → `app`; `src/text.rs` → `text`; the crate roots → `None`.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let m = first.strip_suffix(".rs").unwrap_or(first);
    (m != "lib" && m != "main").then(|| m.to_string())
}

/// The library's top-level modules (`pub mod x;` in lib.rs).
fn lib_modules(src: &Path) -> Vec<String> {
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs is readable");
    lib.lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod ")?.strip_suffix(';'))
        .map(str::to_string)
        .collect()
}

/// Every `(file:line, from, to)` import between top-level modules of the library.
fn imports(src: &Path) -> Vec<(String, String, String)> {
    let modules = lib_modules(src);
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let Some(from) = module_of(src, &f).filter(|m| modules.contains(m)) else {
            continue;
        };
        let text = std::fs::read_to_string(&f).expect("a source file is readable");
        // Comments out, lines kept: a group may span lines, the report names where it starts.
        let lines: Vec<&str> = text
            .lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect();
        for (n, line) in lines.iter().enumerate() {
            if !line.contains("crate::") {
                continue;
            }
            let upto = (n + 40).min(lines.len());
            let from_here = lines[n..upto].join("\n");
            // Only the paths that start on this line (later lines are scanned on their own).
            let first_len = line.len();
            for (at, to) in crate_roots_at(&from_here) {
                if at < first_len && to != from {
                    let shown = f.strip_prefix(src.parent().unwrap_or(src)).unwrap_or(&f);
                    out.push((format!("{}:{}", shown.display(), n + 1), from.clone(), to));
                }
            }
        }
    }
    out
}

#[test]
fn every_import_goes_down_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut bad = Vec::new();
    let mut unknown = BTreeMap::new();
    let all = imports(&src);
    for (at, from, to) in &all {
        match (layer(from), layer(to)) {
            (Some(a), Some(b)) if b < a => {}
            (Some(_), Some(_)) => bad.push(format!("{at}: {from} imports {to}")),
            (None, _) => {
                unknown.insert(from.clone(), at.clone());
            }
            (_, None) => {
                unknown.insert(to.clone(), at.clone());
            }
        }
    }
    for m in lib_modules(&src) {
        if layer(&m).is_none() {
            unknown.insert(m, "src/lib.rs".to_string());
        }
    }
    assert!(
        unknown.is_empty(),
        "modules with no layer in LAYERS (add them): {unknown:?}"
    );
    assert!(
        bad.is_empty(),
        "imports against the layers:\n{}",
        bad.join("\n")
    );
    // The scan sees the imports it is meant to judge (a scan that reads nothing passes).
    for (from, to) in [
        ("bpf", "model"),
        ("app", "pane"),
        ("views", "app"),
        ("tui", "views"),
    ] {
        assert!(
            all.iter().any(|(_, f, t)| f == from && t == to),
            "no {from} → {to} import seen"
        );
    }
}

#[test]
fn the_scanner_reads_groups_and_skips_lookalikes() {
    assert_eq!(crate_roots("use crate::model::Snapshot;"), ["model"]);
    assert_eq!(
        crate_roots("use crate::{app::App, pane::{self, Pane}, text};"),
        ["app", "pane", "text"]
    );
    assert_eq!(
        crate_roots("let x = my_crate::views::f();"),
        Vec::<String>::new()
    );
    assert_eq!(
        crate_roots("f(crate::views::draw(x), crate::tui::run())"),
        ["views", "tui"]
    );
    assert_eq!(
        crate_roots("use crate::{\n    model::Snapshot,\n    views::{self, draw},\n};"),
        ["model", "views"]
    );
}
