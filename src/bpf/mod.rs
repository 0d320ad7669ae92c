//! Everything that talks to the kernel. Nothing here touches the terminal.

/// `skeleton!("drops")`: a private module `skel` holding the skeleton libbpf-cargo generated
/// from `probes/drops.bpf.c` (build.rs). Only its `types` are used: the C structs of the
/// object's records as `#[repr(C)]` Rust structs, regenerated with every edit of the C.
macro_rules! skeleton {
    ($object:literal) => {
        #[allow(clippy::all, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
        #[allow(clippy::undocumented_unsafe_blocks, unsafe_op_in_unsafe_fn, unused)]
        mod skel {
            include!(concat!(env!("OUT_DIR"), "/", $object, ".skel.rs"));
        }
    };
}

pub mod attach;
pub mod batch;
pub mod bpffs;
pub mod btf_cache;
pub mod btf_fmt;
pub mod cilium;
pub mod collector;
pub mod denials;
pub mod global_data;
pub mod iters;
pub mod kallsyms;
pub mod light;
pub mod mapdump;
pub mod maps;
pub mod names;
pub mod nl;
pub mod node;
pub mod probes;
pub mod procs;
pub mod programs;
pub mod stats;
pub mod symbolizer;
pub mod sys;
pub mod tail_sites;
pub mod xlated;
