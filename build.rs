//! Compiles BPF C sources into libbpf-rs skeletons in OUT_DIR:
//! `probes/*.bpf.c` (dpscope's own probes) and `tests/bpf/*.bpf.c` (test fixtures).
//! `vmlinux.h` is committed, so only clang is needed (no bpftool at build time).

// A build script reports failure by panicking: that is cargo's contract, not a runtime path.
#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used)]

use libbpf_cargo::SkeletonBuilder;
use std::path::{Path, PathBuf};

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR set by cargo"));
    let arch = match std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
        Ok("x86_64") => "x86",
        Ok("aarch64") => "arm64",
        Ok(other) => other.to_string().leak(),
        Err(_) => "x86",
    };
    println!("cargo:rerun-if-changed=probes");
    println!("cargo:rerun-if-changed=tests/bpf");
    for dir in ["probes", "tests/bpf"] {
        let Ok(rd) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut srcs: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().ends_with(".bpf.c"))
            .collect();
        srcs.sort();
        for src in srcs {
            build_one(&src, &out, arch);
        }
    }
}

/// Objects built for BPF ISA v3 (atomic compare-and-swap; kernel 5.12 and later).
const V3_OBJECTS: &[&str] = &["drops", "flows"];

fn build_one(src: &Path, out: &Path, arch: &str) {
    let file = src.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let stem = file.trim_end_matches(".bpf.c");
    let obj = out.join(format!("{stem}.bpf.o"));
    let skel = out.join(format!("{stem}.skel.rs"));
    // Objects with the inline aggregation table (probes/dps_table.h) need compare-and-swap and
    // exchange: BPF ISA v3. The others keep clang's default.
    let cpu = if V3_OBJECTS.contains(&stem) {
        "-mcpu=v3"
    } else {
        "-mcpu=generic"
    };
    SkeletonBuilder::new()
        .source(src)
        .obj(&obj)
        .clang_args([
            cpu.to_string(),
            "-Iprobes".to_string(),
            format!("-D__TARGET_ARCH_{arch}"),
            "-Wno-compare-distinct-pointer-types".to_string(),
            "-O2".to_string(),
            "-g".to_string(),
        ])
        .build_and_generate(&skel)
        .unwrap_or_else(|e| panic!("building BPF object {}: {e:#}", src.display()));
}
