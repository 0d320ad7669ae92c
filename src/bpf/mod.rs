//! Everything that talks to the kernel. Nothing here touches the terminal.

pub mod attach;
pub mod bpffs;
pub mod btf_cache;
pub mod btf_fmt;
pub mod cilium;
pub mod collector;
pub mod denials;
pub mod global_data;
pub mod iters;
pub mod kallsyms;
pub mod mapdump;
pub mod maps;
pub mod names;
pub mod nl;
pub mod node;
pub mod probes;
pub mod procs;
pub mod programs;
pub mod stats;
pub mod sys;
pub mod tail_sites;
pub mod xlated;
