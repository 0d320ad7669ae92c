//! The whole collector on a real kernel: a veth with XDP (skb), two tc filters at different
//! prefs and a tcx program on one hook, and a pinned BTF map in a private bpffs. The snapshot
//! must show every one of them where it is, flag the stacked hook, name the pinned map by its
//! pin path, and decode the map's entries through BTF exactly as the test wrote them.

mod common;

use common::{Bpffs, Clsact, LinkFd, Netns, VethPair};
use dpscope::bpf::collector::{Collector, Config, Request};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{MapCore, MapFlags};
use std::mem::MaybeUninit;
use std::os::fd::AsFd;

mod fixture {
    include!(concat!(env!("OUT_DIR"), "/fixture.skel.rs"));
}

fn key(ip: u32, port: u16, proto: u8) -> Vec<u8> {
    let mut k = ip.to_ne_bytes().to_vec();
    k.extend_from_slice(&port.to_ne_bytes());
    k.push(proto);
    k.push(0);
    k
}

fn val(packets: u64, bytes: u64, label: &str) -> Vec<u8> {
    let mut v = packets.to_ne_bytes().to_vec();
    v.extend_from_slice(&bytes.to_ne_bytes());
    let mut l = [0u8; 8];
    l[..label.len()].copy_from_slice(label.as_bytes());
    v.extend_from_slice(&l);
    v
}

/// (hook, program name, XDP mode, tc pref, position)
type HookRow = (String, String, Option<String>, Option<u32>, u32);

#[test]
fn collector_sees_every_attachment_pin_and_btf_entry() {
    if !common::require_priv("collector_sees_every_attachment_pin_and_btf_entry") {
        return;
    }
    let ns = Netns::new();
    let veth = VethPair::new(&ns);
    let fs = Bpffs::new();
    let ifx = veth.host_ifindex();

    let mut obj = MaybeUninit::uninit();
    let open = fixture::FixtureSkelBuilder::default()
        .open(&mut obj)
        .expect("open fixture");
    let mut skel = open.load().expect("load fixture");
    let pin = fs.join("fixture_btf_hash");
    skel.maps.fixture_btf_hash.pin(&pin).expect("pin map");
    for (k, v) in [
        (key(0x0a00_0001, 80, 6), val(42, 4200, "web")),
        (key(0x0a00_0002, 53, 17), val(7, 512, "dns")),
    ] {
        skel.maps
            .fixture_btf_hash
            .update(&k, &v, MapFlags::ANY)
            .expect("write entry");
    }
    let p1 = fs.join("tc_first");
    let p2 = fs.join("tc_second");
    skel.progs.fixture_tc_ingress_first.pin(&p1).expect("pin");
    skel.progs.fixture_tc_ingress_second.pin(&p2).expect("pin");
    let progs = &skel.progs;
    let _xdp = LinkFd::create(
        progs.xdp_pass_fixture.as_fd(),
        ifx,
        libbpf_sys::BPF_XDP,
        libbpf_sys::XDP_FLAGS_SKB_MODE,
    );
    let clsact = Clsact::new(&veth.host);
    clsact.add_bpf_filter("ingress", 10, 1, &p1, true);
    clsact.add_bpf_filter("ingress", 20, 1, &p2, true);
    let _tcx = LinkFd::create(
        progs.fixture_tcx_ingress.as_fd(),
        ifx,
        libbpf_sys::BPF_TCX_INGRESS,
        0,
    );

    let mut c = Collector::new(Config {
        bpffs_roots: vec![fs.path.clone()],
        ..Config::default()
    });
    let first = c.collect();
    let map = first
        .maps
        .iter()
        .find(|m| m.kernel_name == "fixture_btf_has")
        .expect("fixture map listed");
    assert_eq!(map.name, "fixture_btf_hash", "full name from the pin path");
    assert_eq!(map.pinned, vec![pin.display().to_string()]);
    assert_eq!(map.entries, Some(2));
    assert!(map.btf_key_type_id != 0 && map.btf_value_type_id != 0);
    assert!(first
        .node
        .bpffs_roots
        .contains(&fs.path.display().to_string()));

    // Every program on the host veth, with hook, mode, pref and order.
    let on: Vec<HookRow> = first
        .attachments
        .iter()
        .filter(|a| a.ifindex == ifx)
        .map(|a| {
            (
                a.hook.clone(),
                a.prog_name.clone(),
                a.mode.clone(),
                a.priority,
                a.position,
            )
        })
        .collect();
    assert_eq!(
        on,
        vec![
            (
                "xdp".into(),
                "xdp_pass_fixture".into(),
                Some("skb".into()),
                None,
                0
            ),
            (
                "tcx_ingress".into(),
                "fixture_tcx_ingress".into(),
                None,
                None,
                0
            ),
            (
                "tc_ingress".into(),
                "fixture_tc_ingress_first".into(),
                None,
                Some(10),
                0
            ),
            (
                "tc_ingress".into(),
                "fixture_tc_ingress_second".into(),
                None,
                Some(20),
                1
            ),
        ]
    );
    for a in first
        .attachments
        .iter()
        .filter(|a| a.ifindex == ifx && a.hook != "xdp")
    {
        assert!(
            a.warnings
                .iter()
                .any(|w| w.starts_with("stacked: 3 programs")),
            "{a:#?}"
        );
    }
    // Programs carry their full BTF names and the collector's run stats fields.
    let tcx = first
        .programs
        .iter()
        .find(|p| p.name == "fixture_tcx_ingress")
        .expect("tcx program listed");
    assert_eq!(tcx.prog_type, "sched_cls");
    assert!(tcx.load_time.is_some());

    // Drill into the map: the next snapshot carries the page, decoded through BTF.
    c.handle(&Request::MapPage {
        map_id: map.id,
        offset: 0,
        limit: 50,
    });
    let second = c.collect();
    let page = second
        .details
        .maps
        .iter()
        .find(|d| d.map_id == map.id)
        .expect("map page captured");
    assert_eq!(page.format, "btf");
    assert!(!page.more);
    let mut rows: Vec<(String, String)> = page
        .entries
        .iter()
        .map(|e| (e.key.clone(), e.value.clone()))
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        vec![
            (
                "{ip: 167772161, port: 80, proto: 6, pad: 0}".to_string(),
                "{packets: 42, bytes: 4200, label: \"web\"}".to_string()
            ),
            (
                "{ip: 167772162, port: 53, proto: 17, pad: 0}".to_string(),
                "{packets: 7, bytes: 512, label: \"dns\"}".to_string()
            ),
        ]
    );
    // Program detail on request: disassembly of the tcx program.
    c.handle(&Request::ProgramDetail(tcx.id));
    let third = c.collect();
    let d = third
        .details
        .programs
        .iter()
        .find(|d| d.id == tcx.id)
        .expect("program detail captured");
    assert!(
        d.insns.iter().any(|l| l.trim_end().ends_with("exit")),
        "{:#?}",
        d.insns
    );
    c.handle(&Request::ClearDetails);
    assert!(c.collect().details.programs.is_empty());
}
