//! Real-kernel test of the attachments collector: a veth pair (host end in the root netns,
//! peer in a fresh netns) carrying XDP (skb mode, via a link), two legacy tc cls_bpf filters
//! and a tcx program, all from the fixture object.

mod common;

use std::mem::MaybeUninit;
use std::os::fd::AsFd;

use libbpf_rs::skel::{OpenSkel, SkelBuilder};

use common::{Bpffs, Clsact, LinkFd, Netns, VethPair};
use dpscope::model::{Attachment, Program};

mod fixture {
    include!(concat!(env!("OUT_DIR"), "/fixture.skel.rs"));
}

fn rows_on(c: &[Attachment], ifindex: u32, hook: &str) -> Vec<Attachment> {
    c.iter()
        .filter(|a| a.ifindex == ifindex && a.hook == hook)
        .cloned()
        .collect()
}

/// The kernel frees links, network namespaces and their devices asynchronously (deferred work,
/// RCU): under load a check made right after the last fd closes can run too early. Poll.
fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn link_gone(id: u32) -> bool {
    // SAFETY: plain syscall wrapper; we close the fd if one comes back.
    let fd = unsafe { libbpf_sys::bpf_link_get_fd_by_id(id) };
    if fd >= 0 {
        // SAFETY: fd is ours.
        unsafe { libc::close(fd) };
        return false;
    }
    true
}

#[test]
fn xdp_tc_tcx_on_veth_are_collected_in_order() {
    if !common::require_priv("xdp_tc_tcx_on_veth_are_collected_in_order") {
        return;
    }
    let (ns_name, host, bpffs_path, tcx_link_id, xdp_link_id);
    {
        let ns = Netns::new();
        let veth = VethPair::new(&ns);
        let fs = Bpffs::new();
        ns_name = ns.name.clone();
        host = veth.host.clone();
        bpffs_path = fs.path.clone();
        let ifx = veth.host_ifindex();

        let mut obj = MaybeUninit::uninit();
        let open = fixture::FixtureSkelBuilder::default()
            .open(&mut obj)
            .expect("open fixture");
        let mut skel = open.load().expect("load fixture");

        skel.maps
            .fixture_btf_hash
            .pin(fs.join("fixture_btf_hash"))
            .expect("pin map");
        assert!(fs.join("fixture_btf_hash").exists());
        let p1 = fs.join("tc_first");
        let p2 = fs.join("tc_second");
        skel.progs
            .fixture_tc_ingress_first
            .pin(&p1)
            .expect("pin first");
        skel.progs
            .fixture_tc_ingress_second
            .pin(&p2)
            .expect("pin second");

        let progs = &skel.progs;
        let programs: Vec<Program> = vec![
            common::program_model(progs.xdp_pass_fixture.as_fd(), "xdp_pass_fixture", "xdp"),
            common::program_model(
                progs.fixture_tc_ingress_first.as_fd(),
                "fixture_tc_ingress_first",
                "sched_cls",
            ),
            common::program_model(
                progs.fixture_tc_ingress_second.as_fd(),
                "fixture_tc_ingress_second",
                "sched_cls",
            ),
            common::program_model(
                progs.fixture_tcx_ingress.as_fd(),
                "fixture_tcx_ingress",
                "sched_cls",
            ),
        ];
        let (xdp_id, first_id, second_id, tcx_id) = (
            programs[0].id,
            programs[1].id,
            programs[2].id,
            programs[3].id,
        );

        let xdp = LinkFd::create(
            progs.xdp_pass_fixture.as_fd(),
            ifx,
            libbpf_sys::BPF_XDP,
            libbpf_sys::XDP_FLAGS_SKB_MODE,
        );
        xdp_link_id = xdp.id();
        let clsact = Clsact::new(&host);
        // Added out of order on purpose: the run order is by pref, not by insertion.
        clsact.add_bpf_filter("ingress", 20, 1, &p2, true);
        clsact.add_bpf_filter("ingress", 10, 1, &p1, true);
        let tcx = LinkFd::create(
            progs.fixture_tcx_ingress.as_fd(),
            ifx,
            libbpf_sys::BPF_TCX_INGRESS,
            0,
        );
        tcx_link_id = tcx.id();

        let c = dpscope::bpf::attach::collect(&programs);

        // XDP, generic mode, through a link.
        let x = rows_on(&c.attachments, ifx, "xdp");
        assert_eq!(x.len(), 1, "xdp rows: {x:#?}");
        assert_eq!(x[0].prog_id, xdp_id);
        assert_eq!(x[0].ifname, host);
        assert_eq!(x[0].mode.as_deref(), Some("skb"));
        assert_eq!(x[0].prog_name, "xdp_pass_fixture");
        assert_eq!(x[0].link_id, Some(xdp_link_id));
        assert!(x[0].warnings.iter().any(|w| w.starts_with("generic XDP")));
        assert!(!x[0].warnings.iter().any(|w| w.starts_with("stacked")));

        // Legacy tc, in pref order.
        let t = rows_on(&c.attachments, ifx, "tc_ingress");
        assert_eq!(t.len(), 2, "tc rows: {t:#?}");
        assert_eq!(
            t.iter()
                .map(|a| (a.position, a.priority, a.handle, a.prog_id))
                .collect::<Vec<_>>(),
            vec![
                (0, Some(10), Some(1), first_id),
                (1, Some(20), Some(1), second_id)
            ]
        );
        assert_eq!(t[0].prog_name, "fixture_tc_ingress_first");
        assert_eq!(t[1].prog_name, "fixture_tc_ingress_second");
        assert!(t.iter().all(|a| a.direct_action == Some(true)));
        assert!(t.iter().all(|a| a.ifname == host && a.link_id.is_none()));

        // tcx, through a link.
        let k = rows_on(&c.attachments, ifx, "tcx_ingress");
        assert_eq!(k.len(), 1, "tcx rows: {k:#?}");
        assert_eq!(k[0].prog_id, tcx_id);
        assert_eq!(k[0].position, 0);
        assert_eq!(k[0].link_id, Some(tcx_link_id));
        assert_eq!(k[0].prog_name, "fixture_tcx_ingress");
        assert!(rows_on(&c.attachments, ifx, "tc_egress").is_empty());
        assert!(rows_on(&c.attachments, ifx, "tcx_egress").is_empty());

        // tc and tcx ingress are one direction: three programs stacked.
        for a in t.iter().chain(k.iter()) {
            assert!(
                a.warnings
                    .iter()
                    .any(|w| w == "stacked: 3 programs on ingress (1 tcx, then 2 tc)"),
                "{a:#?}"
            );
            assert!(!a.likely_stale, "{a:#?}");
        }

        // Rows of one interface come in run order: xdp, tcx, tc.
        let hooks: Vec<&str> = c
            .attachments
            .iter()
            .filter(|a| a.ifindex == ifx)
            .map(|a| a.hook.as_str())
            .collect();
        assert_eq!(
            hooks,
            vec!["xdp", "tcx_ingress", "tc_ingress", "tc_ingress"]
        );

        // Link enumeration.
        let l = c
            .links
            .iter()
            .find(|l| l.id == tcx_link_id)
            .unwrap_or_else(|| panic!("tcx link {tcx_link_id} missing: {:#?}", c.links));
        assert_eq!(l.link_type, "tcx");
        assert_eq!(l.target, host);
        assert_eq!(l.attach_type, "tcx_ingress");
        assert_eq!(l.prog_id, tcx_id);
        assert_eq!(l.prog_name, "fixture_tcx_ingress");
        let l = c
            .links
            .iter()
            .find(|l| l.id == xdp_link_id)
            .unwrap_or_else(|| panic!("xdp link {xdp_link_id} missing"));
        assert_eq!(l.link_type, "xdp");
        assert_eq!(l.target, host);

        // From inside the netns: the collector sees the namespace of the calling thread.
        let peer = veth.peer.clone();
        let tcx_prog = progs
            .fixture_tcx_ingress
            .as_fd()
            .try_clone_to_owned()
            .expect("dup prog fd");
        let (inner, peer_link_id, peer_ifx) = common::in_netns(&ns_name, || {
            let pifx = common::ifindex(&peer).expect("peer in netns");
            let l = LinkFd::create(tcx_prog.as_fd(), pifx, libbpf_sys::BPF_TCX_INGRESS, 0);
            let id = l.id();
            (dpscope::bpf::attach::collect(&programs), id, pifx)
        });
        assert!(
            !inner.attachments.iter().any(|a| a.ifname == host),
            "host interface seen from the netns"
        );
        let p = rows_on(&inner.attachments, peer_ifx, "tcx_ingress");
        assert_eq!(p.len(), 1, "{:#?}", inner.attachments);
        assert_eq!(
            (p[0].ifname.as_str(), p[0].link_id),
            (peer.as_str(), Some(peer_link_id))
        );
        let l = inner
            .links
            .iter()
            .find(|l| l.id == peer_link_id)
            .expect("peer link");
        assert_eq!(l.target, peer);
        // The host link, seen from the netns, is not mistaken for a local interface.
        let l = inner
            .links
            .iter()
            .find(|l| l.id == tcx_link_id)
            .expect("host link");
        assert!(l.target != host && l.target.contains("netns"), "{l:#?}");
        eventually("peer link still exists", || link_gone(peer_link_id));

        drop(tcx);
        drop(clsact);
        drop(xdp);
    }
    // Every guard dropped: nothing left behind.
    eventually(&format!("netns {ns_name} left behind"), || {
        !Netns::exists(&ns_name)
    });
    eventually(&format!("veth {host} left behind"), || {
        common::ifindex(&host).is_none()
    });
    assert!(!Bpffs::is_mounted(&bpffs_path), "bpffs still mounted");
    assert!(!bpffs_path.exists(), "bpffs mount point left behind");
    eventually("tcx link still exists", || link_gone(tcx_link_id));
    eventually("xdp link still exists", || link_gone(xdp_link_id));
}

#[test]
fn older_twin_is_flagged_stale_and_non_da_noted() {
    if !common::require_priv("older_twin_is_flagged_stale_and_non_da_noted") {
        return;
    }
    let ns = Netns::new();
    let veth = VethPair::new(&ns);
    let fs = Bpffs::new();
    let ifx = veth.host_ifindex();

    // Two loads of the same object: the "old agent" and the "upgraded agent".
    let mut obj_old = MaybeUninit::uninit();
    let mut old = fixture::FixtureSkelBuilder::default()
        .open(&mut obj_old)
        .expect("open")
        .load()
        .expect("load old");
    let mut obj_new = MaybeUninit::uninit();
    let mut new = fixture::FixtureSkelBuilder::default()
        .open(&mut obj_new)
        .expect("open")
        .load()
        .expect("load new");
    let (po, pn) = (fs.join("old"), fs.join("new"));
    old.progs
        .fixture_tc_ingress_first
        .pin(&po)
        .expect("pin old");
    new.progs
        .fixture_tc_ingress_first
        .pin(&pn)
        .expect("pin new");
    let name = "fixture_tc_ingress_first";
    let programs = vec![
        common::program_model(
            old.progs.fixture_tc_ingress_first.as_fd(),
            name,
            "sched_cls",
        ),
        common::program_model(
            new.progs.fixture_tc_ingress_first.as_fd(),
            name,
            "sched_cls",
        ),
    ];
    assert!(programs[0].load_time_ns < programs[1].load_time_ns);

    let clsact = Clsact::new(&veth.host);
    clsact.add_bpf_filter("ingress", 5, 1, &po, true);
    clsact.add_bpf_filter("ingress", 6, 1, &pn, true);
    clsact.add_bpf_filter("egress", 1, 7, &pn, false);

    let c = dpscope::bpf::attach::collect(&programs);
    let t = rows_on(&c.attachments, ifx, "tc_ingress");
    assert_eq!(t.len(), 2, "{t:#?}");
    assert_eq!(t[0].prog_id, programs[0].id);
    assert!(t[0].likely_stale, "{:#?}", t[0]);
    assert!(t[0].warnings.iter().any(|w| w.starts_with(&format!(
        "likely stale: same name as prog {}",
        programs[1].id
    ))));
    assert!(!t[1].likely_stale);
    assert!(t.iter().all(|a| a
        .warnings
        .contains(&"stacked: 2 programs on tc ingress".to_string())));

    let e = rows_on(&c.attachments, ifx, "tc_egress");
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!((e[0].priority, e[0].handle), (Some(1), Some(7)));
    assert_eq!(e[0].direct_action, Some(false));
    assert!(e[0]
        .warnings
        .iter()
        .any(|w| w.starts_with("no direct-action (da)")));
    assert!(!e[0].warnings.iter().any(|w| w.starts_with("stacked")));
}
