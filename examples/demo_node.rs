//! Builds a small but rich BPF node and captures `assets/demo.json` from it (run as root):
//! `cargo run --example demo_node -- assets/demo.json`
//!
//! A veth pair into a private netns carries XDP (skb mode), a tcx program and two tc filters of
//! the same name on one hook, the older one a leftover (the "stale tc filter after an upgrade"
//! incident); maps of several kinds are pinned in a private bpffs with BTF entries written;
//! traffic runs so counters move. Everything is removed again when the capture is written.

#[path = "../tests/common/mod.rs"]
mod common;

use common::{Bpffs, Clsact, LinkFd, Netns, VethPair};
use dpscope::bpf::collector::{Collector, Config};
use libbpf_rs::skel::{OpenSkel, Skel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags};
use std::mem::MaybeUninit;
use std::os::fd::AsFd;

mod fixture {
    include!(concat!(env!("OUT_DIR"), "/fixture.skel.rs"));
}
mod agree {
    include!(concat!(env!("OUT_DIR"), "/agree.skel.rs"));
}
mod detail {
    include!(concat!(env!("OUT_DIR"), "/detail_fixture.skel.rs"));
}

fn main() -> anyhow::Result<()> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "assets/demo.json".into());
    libbpf_rs::set_print(None);
    let ns = Netns::new();
    let veth = VethPair::new(&ns);
    let fs = Bpffs::new();
    let ifx = veth.host_ifindex();
    common::run("ip", &["addr", "add", "10.199.0.1/24", "dev", &veth.host]);
    common::run(
        "ip",
        &[
            "-n",
            &ns.name,
            "addr",
            "add",
            "10.199.0.2/24",
            "dev",
            &veth.peer,
        ],
    );
    common::run("ip", &["-n", &ns.name, "link", "set", &veth.peer, "up"]);

    // The "old" datapath, loaded first; the upgrade loads the "new" one but leaves the old tc
    // filter in front of it at a lower pref, where it keeps answering every packet.
    let mut old_obj = MaybeUninit::uninit();
    let mut old = fixture::FixtureSkelBuilder::default()
        .open(&mut old_obj)?
        .load()?;
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let mut new_obj = MaybeUninit::uninit();
    let mut new = fixture::FixtureSkelBuilder::default()
        .open(&mut new_obj)?
        .load()?;
    let old_pin = fs.join("old_tc_ingress");
    let new_pin = fs.join("new_tc_ingress");
    old.progs.fixture_tc_ingress_first.pin(&old_pin)?;
    new.progs.fixture_tc_ingress_first.pin(&new_pin)?;
    new.maps.fixture_btf_hash.pin(fs.join("fixture_btf_hash"))?;
    for (i, label) in ["web", "dns", "db", "cache"].iter().enumerate() {
        let mut k = (0x0a00_0001u32 + i as u32).to_ne_bytes().to_vec();
        k.extend_from_slice(&[80, 0, 6, 0]);
        let mut v = ((i as u64 + 1) * 100).to_ne_bytes().to_vec();
        v.extend_from_slice(&((i as u64 + 1) * 64_000).to_ne_bytes());
        let mut l = [0u8; 8];
        l[..label.len()].copy_from_slice(label.as_bytes());
        v.extend_from_slice(&l);
        new.maps.fixture_btf_hash.update(&k, &v, MapFlags::ANY)?;
    }
    let _xdp = LinkFd::create(
        new.progs.xdp_pass_fixture.as_fd(),
        ifx,
        libbpf_sys::BPF_XDP,
        libbpf_sys::XDP_FLAGS_SKB_MODE,
    );
    let clsact = Clsact::new(&veth.host);
    clsact.add_bpf_filter("ingress", 10, 1, &old_pin, true);
    clsact.add_bpf_filter("ingress", 20, 1, &new_pin, true);
    let _tcx = LinkFd::create(
        new.progs.fixture_tcx_ingress.as_fd(),
        ifx,
        libbpf_sys::BPF_TCX_INGRESS,
        0,
    );

    let mut agree_obj = MaybeUninit::uninit();
    let mut agree = agree::AgreeSkelBuilder::default()
        .open(&mut agree_obj)?
        .load()?;
    agree.attach()?;
    agree.maps.agree_hash.pin(fs.join("agree_hash"))?;
    agree
        .maps
        .agree_lru_hash_with_long_name
        .pin(fs.join("agree_lru_hash_with_long_name"))?;
    let mut detail_obj = MaybeUninit::uninit();
    let mut detail = detail::DetailFixtureSkelBuilder::default()
        .open(&mut detail_obj)?
        .load()?;
    detail.maps.detail_flows.pin(fs.join("detail_flows"))?;

    let mut c = Collector::new(Config {
        bpffs_roots: vec![fs.path.clone()],
        all_details: true,
        ..Config::default()
    });
    // A short recording (JSON lines) so that replay shows rates between snapshots. Traffic:
    // ICMP across the veth (replies arrive on the host end's ingress) and getpid syscalls.
    let mut lines = String::new();
    let mut snap = c.collect();
    for round in 0..3u32 {
        lines.push_str(&dpscope::model::io::to_json_line(&snap));
        lines.push('\n');
        let started = std::time::Instant::now();
        let count = (20 + 20 * round).to_string();
        let ping = [
            "-c",
            &count,
            "-i",
            "0.02",
            "-q",
            "-I",
            &veth.host,
            "10.199.0.2",
        ];
        common::run("ping", &ping);
        for _ in 0..(3000 * (round + 1)) {
            // SAFETY: getpid has no preconditions; it drives the agree_tp tracepoint program.
            unsafe { libc::syscall(libc::SYS_getpid) };
        }
        std::thread::sleep(std::time::Duration::from_secs(1).saturating_sub(started.elapsed()));
        snap = c.collect();
    }
    lines.push_str(&dpscope::model::io::to_json_line(&snap));
    lines.push('\n');
    std::fs::write(&out, lines)?;
    eprintln!(
        "wrote {out}: {} programs, {} maps, {} attachments",
        snap.programs.len(),
        snap.maps.len(),
        snap.attachments.len()
    );
    drop(detail);
    drop(agree);
    drop(new);
    drop(old);
    Ok(())
}
