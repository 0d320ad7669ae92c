//! Builds the demo node on the running kernel and records `assets/demo.json` from it (run as
//! root): `cargo run --example demo_node -- assets/demo.json`
//!
//! The scenario (tests/demo_scenario/mod.rs, also run by tests/demo_node.rs) builds a
//! Cilium-shaped endpoint whose datapath tail-calls from the pod's veth and drops what its policy
//! denies, a stale tc filter, a lossy transfer, XDP aborts and a Landlock denial, and collects one
//! snapshot per phase. Everything it creates is removed again before the recording is written.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/demo_scenario/mod.rs"]
mod demo_scenario;

fn main() -> anyhow::Result<()> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "assets/demo.json".into());
    let (mut snaps, built) = demo_scenario::run(demo_scenario::Options::full());
    // The machine this runs on may be shared: keep the scenario's objects only.
    for s in &mut snaps {
        demo_scenario::scope(s, &built);
    }
    let mut file = Vec::new();
    let mut w = dpscope::model::recording::Writer::new(&mut file, true);
    for s in &snaps {
        w.write(s)?;
    }
    drop(w);
    std::fs::write(&out, &file)?;
    let last = snaps.last().expect("at least one snapshot");
    eprintln!(
        "wrote {out} ({} bytes, {} snapshots): {} programs, {} maps, {} attachments, {} drops, \
         {} retransmits, {} denials, {} CT entries",
        file.len(),
        snaps.len(),
        last.programs.len(),
        last.maps.len(),
        last.attachments.len(),
        last.drops.len(),
        last.retransmits.len(),
        last.denials.len(),
        last.conntrack.len(),
    );
    Ok(())
}
