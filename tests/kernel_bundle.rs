//! Bundles from real snapshots: one "node" per fixture state, each a real collection on this
//! kernel (the collector with its drop probe), then `dpscope diff --nodes` and the Cluster rows
//! must find exactly the differences the states have:
//!
//! * node-a: the baseline (a tc filter at pref 1 on a veth, a pinned hash map of 1024 slots);
//! * node-b: also an older twin of the filter's program at pref 2 (a stale filter);
//! * node-c: the map recreated with 2048 slots;
//! * node-d: drops (an iptables DROP in a network namespace, real UDP traffic).
//!
//! Other tests load and unload objects on this kernel at the same time, so each snapshot is cut
//! down to the objects this test created (its programs, their maps and its map, its veth's
//! attachments, drops in its namespace) before it goes into the bundle.
//!
//! `DPSCOPE_SAVE_BUNDLE=DIR` copies the bundle there (tests/fixtures/bundle was made that way).

mod common;

use dpscope::bpf::collector::{Collector, Config};
use dpscope::model::{bundle, cluster, node_diff, Snapshot};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{MapHandle, MapType};
use std::collections::BTreeSet;
use std::mem::MaybeUninit;
use std::net::UdpSocket;
use std::os::fd::AsFd;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod fixture {
    include!(concat!(env!("OUT_DIR"), "/fixture.skel.rs"));
}

fn ns_inode(name: &str) -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/run/netns/{name}"))
        .unwrap()
        .ino() as u32
}

/// What this test created, and nothing else.
struct Ours {
    prog_ids: BTreeSet<u32>,
    map_names: BTreeSet<String>,
    ifname: String,
    netns: u32,
}

impl Ours {
    fn cut(&self, mut s: Snapshot) -> Snapshot {
        s.programs.retain(|p| self.prog_ids.contains(&p.id));
        let map_ids: BTreeSet<u32> = s.programs.iter().flat_map(|p| p.map_ids.clone()).collect();
        s.maps
            .retain(|m| map_ids.contains(&m.id) || self.map_names.contains(&m.name));
        s.attachments.retain(|a| a.ifname == self.ifname);
        s.links.clear();
        s.tailcalls.clear();
        s.drops.retain(|d| d.netns == self.netns);
        s.retransmits.clear();
        s.denials.clear();
        s.flows.clear();
        s.xdp_errors.clear();
        s.details = Default::default();
        s.node.warnings.clear();
        s.node.collect_phases.clear();
        s
    }
}

fn create_map(fs: &common::Bpffs, name: &str, slots: u32) -> MapHandle {
    let opts = libbpf_sys::bpf_map_create_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_map_create_opts>() as _,
        ..Default::default()
    };
    let mut m =
        MapHandle::create(MapType::Hash, Some("dpsk8s_map"), 4, 8, slots, &opts).expect("hash map");
    m.pin(fs.join(name)).expect("pin");
    m
}

#[test]
fn diff_nodes_and_the_cluster_rows_find_exactly_the_fixture_differences() {
    if !common::require_priv("bundle from real snapshots") {
        return;
    }
    let fs = common::Bpffs::new();
    let ns = common::Netns::new();
    let veth = common::VethPair::new(&ns);
    // Two namespaces for the drops: UDP from a to b, where iptables drops it.
    let (na, nb) = (common::Netns::new(), common::Netns::new());
    let (ia, ib) = (common::unique_name("dka"), common::unique_name("dkb"));
    common::run(
        "ip",
        &[
            "link", "add", &ia, "netns", &na.name, "type", "veth", "peer", "name", &ib, "netns",
            &nb.name,
        ],
    );
    let x = 100 + (std::process::id() % 100) as u8;
    let (ip_a, ip_b) = (format!("10.{x}.250.1"), format!("10.{x}.250.2"));
    for (n, i, ip) in [(&na.name, &ia, &ip_a), (&nb.name, &ib, &ip_b)] {
        common::run(
            "ip",
            &["-n", n, "addr", "add", &format!("{ip}/24"), "dev", i],
        );
        common::run("ip", &["-n", n, "link", "set", i, "up"]);
    }
    common::run(
        "ip",
        &[
            "netns", "exec", &nb.name, "iptables", "-w", "-A", "INPUT", "-p", "udp", "--dport",
            "5071", "-j", "DROP",
        ],
    );

    // The "old agent" is loaded first, so its program is the older twin.
    let mut obj_old = MaybeUninit::uninit();
    let mut old = fixture::FixtureSkelBuilder::default()
        .open(&mut obj_old)
        .expect("open")
        .load()
        .expect("load old");
    std::thread::sleep(Duration::from_millis(20));
    let mut obj_new = MaybeUninit::uninit();
    let mut new = fixture::FixtureSkelBuilder::default()
        .open(&mut obj_new)
        .expect("open")
        .load()
        .expect("load new");
    let (po, pn) = (fs.join("old_filter"), fs.join("new_filter"));
    old.progs
        .fixture_tc_ingress_first
        .pin(&po)
        .expect("pin old");
    new.progs
        .fixture_tc_ingress_first
        .pin(&pn)
        .expect("pin new");
    let prog_ids: BTreeSet<u32> = [
        old.progs.fixture_tc_ingress_first.as_fd(),
        old.progs.fixture_tc_ingress_second.as_fd(),
        old.progs.fixture_tcx_ingress.as_fd(),
        old.progs.xdp_pass_fixture.as_fd(),
        new.progs.fixture_tc_ingress_first.as_fd(),
        new.progs.fixture_tc_ingress_second.as_fd(),
        new.progs.fixture_tcx_ingress.as_fd(),
        new.progs.xdp_pass_fixture.as_fd(),
    ]
    .into_iter()
    .map(|fd| common::prog_info(fd).0)
    .collect();
    let map_name = "dpsk8s_sized";
    let ours = Ours {
        prog_ids,
        map_names: [map_name.to_string()].into(),
        ifname: veth.host.clone(),
        netns: ns_inode(&nb.name),
    };
    let clsact = common::Clsact::new(&veth.host);
    clsact.add_bpf_filter("ingress", 1, 1, &pn, true);
    let mut map = create_map(&fs, map_name, 1024);

    let started = Instant::now();
    let mut c = Collector::new(Config {
        bpffs_roots: vec![fs.path.clone()],
        stats: false,
        probes: true,
        only_probes: vec!["drops".into()],
        ..Default::default()
    });
    let take = |c: &mut Collector| ours.cut(c.collect());
    let node_a = take(&mut c);
    // node-b: the older twin at pref 2, for this snapshot only.
    clsact.add_bpf_filter("ingress", 2, 1, &po, true);
    let node_b = take(&mut c);
    common::run(
        "tc",
        &["filter", "del", "dev", &veth.host, "ingress", "pref", "2"],
    );
    // node-c: the map, recreated bigger.
    std::fs::remove_file(fs.join(map_name)).unwrap();
    drop(map);
    map = create_map(&fs, map_name, 2048);
    let node_c = take(&mut c);
    std::fs::remove_file(fs.join(map_name)).unwrap();
    drop(map);
    let map = create_map(&fs, map_name, 1024);
    // node-d: drops.
    let n = 9;
    common::in_netns(&na.name, || {
        let s = UdpSocket::bind(format!("{ip_a}:0")).unwrap();
        for i in 0..n {
            s.send_to(format!("k8s bundle {i}").as_bytes(), format!("{ip_b}:5071"))
                .unwrap();
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let node_d = take(&mut c);
    let window = started.elapsed().as_secs_f64();
    drop(c);
    drop(map);

    let dir = tempfile::Builder::new()
        .prefix("dpscope-bundle")
        .tempdir()
        .unwrap();
    let snaps = [
        ("node-a", &node_a),
        ("node-b", &node_b),
        ("node-c", &node_c),
        ("node-d", &node_d),
    ];
    let mut nodes = Vec::new();
    for (name, s) in snaps {
        std::fs::write(
            dir.path().join(format!("{name}.json")),
            dpscope::model::io::to_json_pretty(s),
        )
        .unwrap();
        nodes.push(serde_json::json!({"node": name, "pod": format!("dpscope-{name}"), "file": format!("{name}.json"), "status": "ok"}));
    }
    nodes.push(serde_json::json!({"node": "node-e", "status": "timeout", "reason": "no answer within 60 s"}));
    let manifest = serde_json::json!({
        "schema": bundle::BUNDLE_SCHEMA,
        "created_at": node_a.taken_at,
        "namespace": "dpscope",
        "timeout_s": 60,
        "duration_s": (window * 10.0).round() / 10.0,
        "nodes": nodes,
    });
    std::fs::write(
        dir.path().join("manifest.json"),
        serde_json::to_string_pretty(&manifest).unwrap(),
    )
    .unwrap();
    if let Some(save) = std::env::var_os("DPSCOPE_SAVE_BUNDLE") {
        for e in std::fs::read_dir(dir.path()).unwrap() {
            let e = e.unwrap();
            std::fs::create_dir_all(&save).unwrap();
            std::fs::copy(e.path(), Path::new(&save).join(e.file_name())).unwrap();
        }
    }

    // diff --nodes, through the real binary: exactly the three differences.
    let out = Command::new(env!("CARGO_BIN_EXE_dpscope"))
        .args(["diff", "--nodes"])
        .arg(dir.path())
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let got: Vec<(String, String, Vec<String>)> = v["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["category"].as_str().unwrap().to_string(),
                d["kind"].as_str().unwrap().to_string(),
                d["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    let node = |n: &str| vec![n.to_string()];
    assert_eq!(
        got,
        [
            ("attachments".into(), "extra".into(), node("node-b")),
            ("maps".into(), "differs".into(), vec![]),
            ("drops".into(), "extra".into(), node("node-d")),
        ],
        "{}",
        serde_json::to_string_pretty(&v).unwrap()
    );
    assert_eq!(v["missing_nodes"][0]["node"], "node-e");
    let text = Command::new(env!("CARGO_BIN_EXE_dpscope"))
        .args(["diff", "--nodes"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    let tag = &node_a
        .programs
        .iter()
        .find(|p| p.name == "fixture_tc_ingress_first")
        .unwrap()
        .tag;
    for want in [
        format!(
            "node-b: extra tc filter (ingress) at pref 2 on {} (fixture_tc_ingress_first (tag {tag}, likely stale)); 3 of 4 nodes lack it",
            veth.host
        ),
        format!("map {map_name} differs: hash 4/8 max 1024 on node-a, node-b, node-d; hash 4/8 max 2048 on node-c"),
        "node-d: extra drops NETFILTER_DROP; 3 of 4 nodes lack it".to_string(),
        "no snapshot from node-e (timeout): no answer within 60 s".to_string(),
    ] {
        assert!(text.contains(&want), "missing {want:?} in:\n{text}");
    }

    // The Cluster rows of the same bundle.
    let b = bundle::load(dir.path()).unwrap();
    let rows = cluster::rows(&b);
    let r = |n: &str| rows.iter().find(|r| r.node == n).unwrap();
    assert_eq!((r("node-a").stacked, r("node-a").stale), (0, 0));
    assert_eq!((r("node-b").stacked, r("node-b").stale), (1, 1));
    assert_eq!(r("node-d").top_drops[0].reason, "NETFILTER_DROP");
    assert_eq!(r("node-d").top_drops[0].count, n as u64);
    assert!(r("node-d").top_drops[0].per_sec.is_some());
    // The namespace's own noise (IPv6 neighbour discovery as its link came up) is on every
    // node alike; the iptables drops only on node-d.
    for other in ["node-a", "node-b", "node-c"] {
        assert!(
            r(other)
                .top_drops
                .iter()
                .all(|d| d.reason != "NETFILTER_DROP"),
            "{other}"
        );
    }
    assert_eq!(r("node-e").status, "timeout");
    // The same comparison in process.
    let pairs: Vec<(&str, &Snapshot)> = b.snapshots().collect();
    assert_eq!(node_diff::compare(&pairs, vec![]).differences.len(), 3);
    drop(clsact);
    drop(old);
    drop(new);
}
