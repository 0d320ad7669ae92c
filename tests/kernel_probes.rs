//! dpscope's own probes on a real kernel with real traffic between two network namespaces
//! joined by a veth pair: drops with the kernel's reasons, TCP retransmits that agree with the
//! kernel's own counters, resets, and the opt-in tcx flow probe. Every namespace, rule and
//! link is removed by a guard, even when a test fails.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{in_netns, Netns};
use dpscope::bpf::collector::{Collector, Config};
use dpscope::bpf::probes::{
    drops::DropProbe, flows::FlowProbe, netns, sockdiag, HeaderReads, MapStats, Probes,
};
use dpscope::model::Snapshot;
use libbpf_rs::{Object, ObjectBuilder};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

static SUBNET: AtomicU8 = AtomicU8::new(1);
/// Every drops probe sees every drop on the node: the LRU flood of one test would evict the
/// rows another test is about to count. Tests that count drops hold this lock.
static DROPS_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn drops_lock() -> std::sync::MutexGuard<'static, ()> {
    DROPS_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}
static HELPERS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/probe_helpers.bpf.o"));

/// Two namespaces joined by a veth pair: `a_if` (10.X.Y.1/24) in `a`, `b_if` (10.X.Y.2/24) in `b`.
/// Dropping it deletes both namespaces (and with them the veth pair and any iptables rules).
struct Pair {
    a: Netns,
    b: Netns,
    a_if: String,
    b_if: String,
    a_ip: String,
    b_ip: String,
}

impl Pair {
    fn new() -> Pair {
        let a = Netns::new();
        let b = Netns::new();
        let a_if = common::unique_name("pa");
        let b_if = common::unique_name("pb");
        common::run(
            "ip",
            &[
                "link", "add", &a_if, "netns", &a.name, "type", "veth", "peer", "name", &b_if,
                "netns", &b.name,
            ],
        );
        let x = 100 + (std::process::id() % 100) as u8;
        let y = SUBNET.fetch_add(1, Ordering::Relaxed);
        let a_ip = format!("10.{x}.{y}.1");
        let b_ip = format!("10.{x}.{y}.2");
        for (ns, ifc, ip) in [(&a.name, &a_if, &a_ip), (&b.name, &b_if, &b_ip)] {
            common::run(
                "ip",
                &["-n", ns, "addr", "add", &format!("{ip}/24"), "dev", ifc],
            );
            common::run("ip", &["-n", ns, "link", "set", ifc, "up"]);
            common::run("ip", &["-n", ns, "link", "set", "lo", "up"]);
        }
        Pair {
            a,
            b,
            a_if,
            b_if,
            a_ip,
            b_ip,
        }
    }

    fn ns_inode(name: &str) -> u32 {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(format!("/run/netns/{name}"))
            .unwrap()
            .ino() as u32
    }
}

/// `ip netns exec NS iptables ARGS` (the rule dies with the namespace; removed explicitly too).
fn iptables(ns: &str, args: &[&str]) {
    let mut v = vec!["netns", "exec", ns, "iptables", "-w"];
    v.extend_from_slice(args);
    common::run("ip", &v);
}

fn config(only: &[&str]) -> Config {
    Config {
        stats: false,
        probes: true,
        only_probes: only.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

fn probe_snapshot(p: &mut Probes) -> Snapshot {
    let mut s = Snapshot::empty();
    p.collect(&mut s);
    s
}

fn udp_burst(ns: &str, from: &str, to: &str, port: u16, n: usize) -> u16 {
    let (from, to) = (from.to_string(), to.to_string());
    in_netns(ns, move || {
        let s = UdpSocket::bind(format!("{from}:0")).unwrap();
        for i in 0..n {
            s.send_to(
                format!("dpscope drop test {i}").as_bytes(),
                format!("{to}:{port}"),
            )
            .unwrap();
            std::thread::sleep(Duration::from_millis(5));
        }
        s.local_addr().unwrap().port()
    })
}

/// Load the test helper object with `drop_udp_port` set.
fn helpers(drop_port: u16) -> Object {
    let mut open = ObjectBuilder::default().open_memory(HELPERS).unwrap();
    let mut rodata = open
        .maps_mut()
        .find(|m| m.name().to_string_lossy().ends_with(".rodata"))
        .unwrap();
    let data = rodata.initial_value_mut().unwrap();
    data[..2].copy_from_slice(&drop_port.to_ne_bytes());
    open.load().unwrap()
}

fn prog_fd<'a>(obj: &'a Object, name: &str) -> std::os::fd::BorrowedFd<'a> {
    let p = obj.progs().find(|p| p.name() == name).unwrap();
    // SAFETY: the fd stays valid as long as `obj` lives, which outlives the borrow.
    unsafe { std::os::fd::BorrowedFd::borrow_raw(std::os::fd::AsRawFd::as_raw_fd(&p.as_fd())) }
}

#[test]
fn drops_carry_kernel_reason_interface_tuple_and_exact_counts() {
    if !common::require_priv("drops_carry_kernel_reason_interface_tuple_and_exact_counts") {
        return;
    }
    let _serial = drops_lock();
    let pair = Pair::new();
    let b_ino = Pair::ns_inode(&pair.b.name);
    // The whole collector, with only the drops probe.
    let mut c = Collector::new(config(&["drops"]));

    // 1. an iptables DROP rule in b
    iptables(
        &pair.b.name,
        &["-A", "INPUT", "-p", "udp", "--dport", "5001", "-j", "DROP"],
    );
    // 2. a tcx program in b that drops UDP to 5002 (held by a link fd, closed at the end)
    let obj = helpers(5002);
    let b_idx = in_netns(&pair.b.name, {
        let b_if = pair.b_if.clone();
        move || common::ifindex(&b_if).unwrap()
    });
    let link = in_netns(&pair.b.name, || {
        common::LinkFd::create(
            prog_fd(&obj, "test_drop_udp"),
            b_idx,
            libbpf_sys::BPF_TCX_INGRESS,
            0,
        )
    });
    // 3. UDP to 5003 where no socket listens
    let n = 7;
    let p1 = udp_burst(&pair.a.name, &pair.a_ip, &pair.b_ip, 5001, n);
    let p2 = udp_burst(&pair.a.name, &pair.a_ip, &pair.b_ip, 5002, n);
    let p3 = udp_burst(&pair.a.name, &pair.a_ip, &pair.b_ip, 5003, n);
    std::thread::sleep(Duration::from_millis(300));
    let snap = c.collect();
    drop(link);

    let st = snap.node.probes.iter().find(|p| p.name == "drops").unwrap();
    assert!(st.loaded && st.attached, "drops probe: {st:?}");
    assert!(snap.unavailable_reason("drops").is_none());
    for (sport, dport, reason) in [
        (p1, 5001, "NETFILTER_DROP"),
        (p2, 5002, "TC_INGRESS"),
        (p3, 5003, "NO_SOCKET"),
    ] {
        let rows: Vec<_> = snap
            .drops
            .iter()
            .filter(|d| {
                d.src == pair.a_ip
                    && d.dst == pair.b_ip
                    && d.src_port == sport
                    && d.dst_port == dport
            })
            .collect();
        assert!(
            !rows.is_empty(),
            "no drop row for port {dport}: {:#?}",
            snap.drops
                .iter()
                .filter(|d| d.dst == pair.b_ip)
                .collect::<Vec<_>>()
        );
        let total: u64 = rows.iter().map(|d| d.count).sum();
        assert_eq!(total, n as u64, "count for {dport}: {rows:#?}");
        for d in rows {
            assert_eq!(d.reason_name, reason, "{d:?}");
            assert_eq!(d.protocol, "UDP");
            assert_eq!(d.netns, b_ino);
            assert_eq!(d.ifindex, b_idx);
            assert!(d.ifname.ends_with(&format!("/{}", pair.b_if)), "{d:?}");
            assert!(
                !d.location.is_empty() && !d.location.starts_with("0x"),
                "location {d:?}"
            );
        }
    }
    // dpscope's own program is marked as such, with its cost measurable.
    let own: Vec<_> = snap.programs.iter().filter(|p| p.dpscope_owned).collect();
    assert!(
        own.iter().any(|p| p.kernel_name == "dpscope_drops"),
        "{own:?}"
    );
}

/// Give both ends of the pair an IPv6 address (fd00:X:Y::1 in a, ::2 in b); returns them.
fn add_ipv6(pair: &Pair) -> (String, String) {
    let y = SUBNET.fetch_add(1, Ordering::Relaxed);
    let x = std::process::id() % 0xffff;
    let (a6, b6) = (
        format!("fd00:{x:x}:{y:x}::1"),
        format!("fd00:{x:x}:{y:x}::2"),
    );
    for (ns, ifc, ip) in [
        (&pair.a.name, &pair.a_if, &a6),
        (&pair.b.name, &pair.b_if, &b6),
    ] {
        common::run(
            "ip",
            &[
                "-n",
                ns,
                "addr",
                "add",
                &format!("{ip}/64"),
                "dev",
                ifc,
                "nodad",
            ],
        );
    }
    (a6, b6)
}

/// The header-read fallback (`bpf_probe_read_kernel` copies, for kernels that refuse the direct
/// loads) finds exactly what the direct loads find, for IPv4 and IPv6: both probes see the same
/// drops at once.
#[test]
fn drops_header_fallback_reads_the_same_rows() {
    if !common::require_priv("drops_header_fallback_reads_the_same_rows") {
        return;
    }
    let _serial = drops_lock();
    let pair = Pair::new();
    let (a6, b6) = add_ipv6(&pair);
    let mut direct = DropProbe::load_with(HeaderReads::Direct).unwrap();
    let mut copied = DropProbe::load_with(HeaderReads::Copied).unwrap();
    assert_eq!(
        (direct.loaded.headers, copied.loaded.headers),
        (HeaderReads::Direct, HeaderReads::Copied)
    );
    let p4 = udp_burst(&pair.a.name, &pair.a_ip, &pair.b_ip, 5007, 4);
    let p6 = udp_burst(
        &pair.a.name,
        &format!("[{a6}]"),
        &format!("[{b6}]"),
        5008,
        3,
    );
    std::thread::sleep(Duration::from_millis(200));
    let mut names = netns::Resolver::default();
    names.refresh();
    let ours = |rows: Vec<dpscope::model::Drop>| {
        let mut v: Vec<_> = rows
            .into_iter()
            .filter(|d| d.dst == pair.b_ip || d.dst == b6)
            .map(|d| {
                (
                    d.src,
                    d.src_port,
                    d.dst,
                    d.dst_port,
                    d.protocol,
                    d.reason_name,
                    d.count,
                    d.netns,
                    d.ifindex,
                    d.location,
                )
            })
            .collect();
        v.sort();
        v
    };
    let (rows, st) = direct.read(&mut names);
    let want = ours(rows);
    let (rows, cst) = copied.read(&mut names);
    let got = ours(rows);
    assert!(
        cst.detail.contains("bpf_probe_read_kernel") && !st.detail.contains("bpf_probe_read"),
        "{st:?} {cst:?}"
    );
    assert_eq!(got, want);
    let count = |src: &str, sport: u16| -> u64 {
        want.iter()
            .filter(|r| r.0 == src && r.1 == sport && r.4 == "UDP" && r.5 == "NO_SOCKET")
            .map(|r| r.6)
            .sum()
    };
    assert_eq!((count(&pair.a_ip, p4), count(&a6, p6)), (4, 3), "{want:#?}");
}

/// Reads TcpRetransSegs from /proc/thread-self/net/snmp (the calling thread's netns).
fn retrans_segs() -> u64 {
    let t = std::fs::read_to_string("/proc/thread-self/net/snmp").unwrap();
    let lines: Vec<&str> = t.lines().filter(|l| l.starts_with("Tcp:")).collect();
    let names: Vec<&str> = lines[0].split_whitespace().collect();
    let vals: Vec<&str> = lines[1].split_whitespace().collect();
    let i = names.iter().position(|n| *n == "RetransSegs").unwrap();
    vals[i].parse().unwrap()
}

#[test]
fn retransmits_agree_with_the_kernel_and_resets_are_counted() {
    if !common::require_priv("retransmits_agree_with_the_kernel_and_resets_are_counted") {
        return;
    }
    let pair = Pair::new();
    let (a_ino, b_ino) = (Pair::ns_inode(&pair.a.name), Pair::ns_inode(&pair.b.name));
    let mut probes = Probes::new(&config(&["retransmits"]));
    let port = 6001;

    // Server in b: reads everything until EOF, returns the byte count.
    let listener = in_netns(&pair.b.name, {
        let ip = pair.b_ip.clone();
        move || TcpListener::bind(format!("{ip}:{port}")).unwrap()
    });
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).unwrap();
        buf.len()
    });
    let before = in_netns(&pair.a.name, retrans_segs);
    // The client socket is created in a (a socket keeps its namespace wherever it is used).
    let mut client = in_netns(&pair.a.name, {
        let (a, b) = (pair.a_ip.clone(), pair.b_ip.clone());
        move || connect(&a, &b, port)
    });
    let sport = client.local_addr().unwrap().port();
    client.write_all(&[7u8; 32 * 1024]).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    // Loss: b drops every segment of this connection for a while; a retransmits (RTO backoff).
    let rule = ["-p", "tcp", "--dport", "6001", "-j", "DROP"];
    iptables(&pair.b.name, &[&["-A", "INPUT"][..], &rule[..]].concat());
    client.write_all(&[8u8; 16 * 1024]).unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    iptables(&pair.b.name, &[&["-D", "INPUT"][..], &rule[..]].concat());
    // Let the stream recover and drain.
    client.write_all(&[9u8; 1024]).unwrap();
    // The 4th RTO retransmit (≈3 s after the loss began) gets through; let everything drain.
    std::thread::sleep(Duration::from_millis(3500));
    let after = in_netns(&pair.a.name, retrans_segs);
    let snap = probe_snapshot(&mut probes);
    let kernel = in_netns(&pair.a.name, sockdiag::dump_tcp)
        .unwrap()
        .into_iter()
        .find(|s| s.src_port == sport && s.dst_port == port)
        .unwrap();

    let row = snap
        .retransmits
        .iter()
        .find(|r| {
            r.netns == a_ino
                && r.src == pair.a_ip
                && r.src_port == sport
                && r.dst == pair.b_ip
                && r.dst_port == port
        })
        .unwrap_or_else(|| panic!("no retransmit row: {:#?}", snap.retransmits));
    let total = u64::from(kernel.total_retrans.unwrap());
    let snmp = after - before;
    eprintln!(
        "probe {} / tcpi_total_retrans {total} / TcpRetransSegs Δ {snmp}",
        row.retransmits
    );
    assert!(
        row.retransmits >= 3,
        "loss for 2.5 s gives several RTO retransmits: {row:?}"
    );
    assert!(
        row.retransmits.abs_diff(total) <= 1,
        "probe {} vs kernel {total}",
        row.retransmits
    );
    assert!(
        row.retransmits.abs_diff(snmp) <= 1,
        "probe {} vs TcpRetransSegs Δ {snmp}",
        row.retransmits
    );
    assert_eq!(
        row.kernel_total_retrans.map(|v| v.abs_diff(total) <= 1),
        Some(true)
    );
    assert!(row.segments_out.is_some_and(|s| s > 0));
    assert_eq!(row.family, "4");
    assert_eq!(
        row.pid,
        Some(std::process::id()),
        "owner resolved from /proc/*/fd: {row:?}"
    );

    drop(client);
    assert_eq!(server.join().unwrap(), 32 * 1024 + 16 * 1024 + 1024);

    // A connection to a closed port: b sends a reset, a receives it.
    let closed = 6002;
    let err = in_netns(&pair.a.name, {
        let b = pair.b_ip.clone();
        move || {
            TcpStream::connect_timeout(
                &format!("{b}:{closed}").parse::<SocketAddr>().unwrap(),
                Duration::from_secs(3),
            )
            .unwrap_err()
            .kind()
        }
    });
    assert_eq!(err, std::io::ErrorKind::ConnectionRefused);
    let snap = probe_snapshot(&mut probes);
    let rx = snap
        .retransmits
        .iter()
        .find(|r| r.netns == a_ino && r.dst == pair.b_ip && r.dst_port == closed)
        .unwrap_or_else(|| panic!("no reset-received row: {:#?}", snap.retransmits));
    assert_eq!(rx.resets_received, 1);
    let tx = snap
        .retransmits
        .iter()
        .find(|r| {
            r.netns == b_ino && r.src == pair.b_ip && r.src_port == closed && r.dst == pair.a_ip
        })
        .unwrap_or_else(|| panic!("no reset-sent row: {:#?}", snap.retransmits));
    assert_eq!(tx.resets_sent, 1);
}

/// connect to `b:port` from namespace-local address `a` (the only route there).
fn connect(a: &str, b: &str, port: u16) -> TcpStream {
    let s = TcpStream::connect_timeout(
        &format!("{b}:{port}").parse().unwrap(),
        Duration::from_secs(3),
    )
    .unwrap();
    assert_eq!(s.local_addr().unwrap().ip().to_string(), a);
    s
}

/// tcx chain (prog ids, in order) of `ifindex` in the calling thread's netns.
fn tcx_chain(ifindex: u32, attach: u32) -> Vec<u32> {
    let mut ids = [0u32; 16];
    let mut opts = libbpf_sys::bpf_prog_query_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_prog_query_opts>() as _,
        prog_ids: ids.as_mut_ptr(),
        ..Default::default()
    };
    opts.__bindgen_anon_1.count = ids.len() as u32;
    // SAFETY: opts points at a live buffer of `count` ids.
    let rc = unsafe { libbpf_sys::bpf_prog_query_opts(ifindex as i32, attach, &mut opts) };
    if rc != 0 {
        return vec![];
    }
    // SAFETY: both union members are the same u32.
    let n = unsafe { opts.__bindgen_anon_1.count } as usize;
    ids[..n].to_vec()
}

#[test]
fn flows_count_a_transfer_each_way_and_run_first_on_tcx() {
    if !common::require_priv("flows_count_a_transfer_each_way_and_run_first_on_tcx") {
        return;
    }
    let pair = Pair::new();
    let b_idx = in_netns(&pair.b.name, {
        let b_if = pair.b_if.clone();
        move || common::ifindex(&b_if).unwrap()
    });
    // Another program already on b's tcx ingress (drops nothing here: port 1 only).
    let obj = helpers(1);
    let other_id = common::prog_info(prog_fd(&obj, "test_drop_udp")).0;
    let other = in_netns(&pair.b.name, || {
        common::LinkFd::create(
            prog_fd(&obj, "test_drop_udp"),
            b_idx,
            libbpf_sys::BPF_TCX_INGRESS,
            0,
        )
    });
    let mut cfg = config(&["flows"]);
    cfg.tc_ifaces = vec![format!("{}/{}", pair.b.name, pair.b_if)];
    let mut probes = Probes::new(&cfg);
    let st = probe_snapshot(&mut probes);
    let fst = st.node.probes.iter().find(|p| p.name == "flows").unwrap();
    assert!(fst.attached, "{fst:?}");
    let own: Vec<u32> = probes.prog_ids();
    let chain = in_netns(&pair.b.name, || {
        tcx_chain(b_idx, libbpf_sys::BPF_TCX_INGRESS)
    });
    assert_eq!(chain.len(), 2, "{chain:?}");
    assert!(
        own.contains(&chain[0]),
        "dpscope's probe runs first: {chain:?} own {own:?}"
    );
    assert_eq!(chain[1], other_id);

    // a → b: 1 MiB + 123 bytes; b → a: 300 000 bytes. Both checked byte for byte.
    let up: Vec<u8> = (0..(1 << 20) + 123).map(|i| (i * 7 % 251) as u8).collect();
    let down: Vec<u8> = (0..300_000).map(|i| (i * 13 % 241) as u8).collect();
    let port = 7001;
    let listener = in_netns(&pair.b.name, {
        let ip = pair.b_ip.clone();
        move || TcpListener::bind(format!("{ip}:{port}")).unwrap()
    });
    let (up2, down2) = (up.clone(), down.clone());
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut got = vec![0u8; up2.len()];
        s.read_exact(&mut got).unwrap();
        s.write_all(&down2).unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).unwrap();
        got == up2 && rest.is_empty()
    });
    let mut client = in_netns(&pair.a.name, {
        let b = pair.b_ip.clone();
        move || TcpStream::connect(format!("{b}:{port}")).unwrap()
    });
    let sport = client.local_addr().unwrap().port();
    client.write_all(&up).unwrap();
    let mut got = Vec::new();
    client.read_to_end(&mut got).unwrap();
    drop(client);
    assert!(server.join().unwrap(), "upload arrived byte-identical");
    assert_eq!(got, down, "download arrived byte-identical");
    // IPv6 rows have their own map (longer key): 3 datagrams a → b, counted on b's ingress.
    let (a6, b6) = add_ipv6(&pair);
    let p6 = udp_burst(
        &pair.a.name,
        &format!("[{a6}]"),
        &format!("[{b6}]"),
        7002,
        3,
    );
    std::thread::sleep(Duration::from_millis(300));
    let snap = probe_snapshot(&mut probes);
    drop(other);

    let find = |dir: &str, src: &str, sp: u16, dst: &str, dp: u16| {
        snap.flows
            .iter()
            .find(|f| {
                f.direction == dir
                    && f.src == src
                    && f.src_port == sp
                    && f.dst == dst
                    && f.dst_port == dp
            })
            .unwrap_or_else(|| panic!("no {dir} flow {src}:{sp} → {dst}:{dp}: {:#?}", snap.flows))
            .clone()
    };
    let ing = find("ingress", &pair.a_ip, sport, &pair.b_ip, port);
    let eg = find("egress", &pair.b_ip, port, &pair.a_ip, sport);
    // Frame bytes = payload + per-packet headers (Ethernet 14 + IPv4 20 + TCP 20..60).
    for (f, payload) in [(&ing, up.len() as u64), (&eg, down.len() as u64)] {
        let lo = payload + f.packets * 54;
        let hi = payload + f.packets * 94;
        eprintln!(
            "{} {} packets {} bytes (payload {payload})",
            f.direction, f.packets, f.bytes
        );
        assert!(
            (lo..=hi).contains(&f.bytes),
            "{f:?}: bytes outside [{lo}, {hi}]"
        );
        assert!(f.packets >= 3);
        assert!(
            f.tcp_flags.iter().any(|x| x == "SYN") && f.tcp_flags.iter().any(|x| x == "FIN"),
            "{f:?}"
        );
        assert_eq!(f.ifname, format!("{}/{}", pair.b.name, pair.b_if));
    }
    let v6 = find("ingress", &a6, p6, &b6, 7002);
    assert_eq!((v6.protocol.as_str(), v6.packets), ("UDP", 3), "{v6:?}");
    let fst = snap.node.probes.iter().find(|p| p.name == "flows").unwrap();
    assert_eq!(fst.map_max_entries, 2 * 16384, "{fst:?}");
    drop(probes);
    let chain = in_netns(&pair.b.name, || {
        tcx_chain(b_idx, libbpf_sys::BPF_TCX_INGRESS)
    });
    assert!(chain.is_empty(), "links closed with the probes: {chain:?}");
}

/// Flow rows are keyed by ifindex, which is per namespace: the same ifindex in a second
/// namespace is refused with the reason instead of being mixed into the first one's rows.
#[test]
fn flows_refuse_an_ifindex_already_counted_in_another_namespace() {
    if !common::require_priv("flows_refuse_an_ifindex_already_counted_in_another_namespace") {
        return;
    }
    let pair = Pair::new();
    for ns in [&pair.a.name, &pair.b.name] {
        common::run(
            "ip",
            &[
                "-n", ns, "link", "add", "dpsv", "index", "4242", "type", "veth", "peer", "name",
                "dpspeer",
            ],
        );
        common::run("ip", &["-n", ns, "link", "set", "dpsv", "up"]);
    }
    let mut cfg = config(&["flows"]);
    cfg.tc_ifaces = vec![
        format!("{}/dpsv", pair.a.name),
        format!("{}/dpsv", pair.b.name),
    ];
    let mut probes = Probes::new(&cfg);
    let snap = probe_snapshot(&mut probes);
    let st = snap.node.probes.iter().find(|p| p.name == "flows").unwrap();
    assert!(st.attached, "{st:?}");
    assert!(
        st.detail.contains(&format!("tcx {}/dpsv", pair.a.name))
            && st.detail.contains(&format!(
                "not attached: {}/dpsv: ifindex 4242 is already counted for {}/dpsv",
                pair.b.name, pair.a.name
            )),
        "{st:?}"
    );
    let chain = in_netns(&pair.b.name, || {
        tcx_chain(4242, libbpf_sys::BPF_TCX_INGRESS)
    });
    assert!(chain.is_empty(), "nothing attached in b: {chain:?}");
}

#[test]
fn xdp_exceptions_are_counted_and_xdp_is_never_replaced() {
    if !common::require_priv("xdp_exceptions_are_counted_and_xdp_is_never_replaced") {
        return;
    }
    let pair = Pair::new();
    let b_ino = Pair::ns_inode(&pair.b.name);
    let idx = |ns: &str, ifc: &str| {
        let ifc = ifc.to_string();
        in_netns(ns, move || common::ifindex(&ifc).unwrap())
    };
    let b_idx = idx(&pair.b.name, &pair.b_if);
    // The node's XDP program on b: aborts UDP to 5004 (skb mode, held by a link fd).
    let obj = helpers(5004);
    let xdp_id = common::prog_info(prog_fd(&obj, "test_xdp_abort")).0;
    let xdp = in_netns(&pair.b.name, || {
        common::LinkFd::create(
            prog_fd(&obj, "test_xdp_abort"),
            b_idx,
            libbpf_sys::BPF_XDP,
            1 << 1,
        )
    });
    // xdp_health, plus the flow counter of `--xdp-iface` on b, beside the node's XDP program.
    let mut cfg = config(&["xdp_health", "flows"]);
    cfg.xdp_ifaces = vec![format!("{}/{}", pair.b.name, pair.b_if)];
    let mut probes = Probes::new(&cfg);
    let n = 9;
    udp_burst(&pair.a.name, &pair.a_ip, &pair.b_ip, 5004, n);
    // and UDP the node's XDP program passes (port with no socket): counted at b's tcx ingress.
    let back = udp_burst(&pair.a.name, &pair.a_ip, &pair.b_ip, 5005, 4);
    std::thread::sleep(Duration::from_millis(300));
    let mut snap = probe_snapshot(&mut probes);
    drop(xdp);

    let st = snap
        .node
        .probes
        .iter()
        .find(|p| p.name == "xdp_health")
        .unwrap();
    assert!(st.attached, "{st:?}");
    snap.xdp_errors.retain(|x| x.netns == b_ino);
    assert_eq!(snap.xdp_errors.len(), 1, "{:#?}", snap.xdp_errors);
    let x = &snap.xdp_errors[0];
    assert_eq!(
        (x.ifindex, x.prog_id, x.action.as_str(), x.count),
        (b_idx, xdp_id, "ABORTED", n as u64)
    );
    assert!(x.ifname.ends_with(&format!("/{}", pair.b_if)), "{x:?}");

    // `--xdp-iface` observes at tcx ingress: on b, beside the node's XDP program, too.
    let fl = snap.node.probes.iter().find(|p| p.name == "flows").unwrap();
    assert!(fl.attached, "{fl:?}");
    assert!(
        fl.detail.contains(&format!(
            "tcx-ingress {}/{} (for --xdp-iface",
            pair.b.name, pair.b_if
        )),
        "{}",
        fl.detail
    );
    // The aborted packets never reach tcx; the passed ones are counted.
    assert!(
        !snap.flows.iter().any(|f| f.dst_port == 5004),
        "{:#?}",
        snap.flows
    );
    let f = snap
        .flows
        .iter()
        .find(|f| {
            f.direction == "ingress"
                && f.src == pair.a_ip
                && f.src_port == back
                && f.dst_port == 5005
        })
        .unwrap_or_else(|| panic!("no ingress flow row: {:#?}", snap.flows));
    assert_eq!(f.packets, 4);
}

/// While `--xdp-iface` counts on an interface, the node's own agent attaches its XDP program
/// there (a BPF link, as Cilium does): dpscope must not hold the XDP hook ("Can't replace active
/// BPF XDP link"), and keeps counting.
#[test]
fn xdp_iface_leaves_the_xdp_hook_to_the_nodes_agent() {
    if !common::require_priv("xdp_iface_leaves_the_xdp_hook_to_the_nodes_agent") {
        return;
    }
    let pair = Pair::new();
    let a_idx = {
        let ifc = pair.a_if.clone();
        in_netns(&pair.a.name, move || common::ifindex(&ifc).unwrap())
    };
    let mut cfg = config(&["flows"]);
    cfg.xdp_ifaces = vec![format!("{}/{}@drv", pair.a.name, pair.a_if)];
    let mut probes = Probes::new(&cfg);
    // The agent arrives after dpscope: its XDP attach must succeed.
    let obj = helpers(5004);
    let agent = in_netns(&pair.a.name, || {
        common::LinkFd::create(
            prog_fd(&obj, "test_xdp_abort"),
            a_idx,
            libbpf_sys::BPF_XDP,
            1 << 1,
        )
    });
    let back = udp_burst(&pair.b.name, &pair.b_ip, &pair.a_ip, 5005, 3);
    std::thread::sleep(Duration::from_millis(300));
    let snap = probe_snapshot(&mut probes);
    drop(agent);
    let fl = snap.node.probes.iter().find(|p| p.name == "flows").unwrap();
    assert!(fl.attached && fl.detail.contains("@drv ignored"), "{fl:?}");
    let f = snap
        .flows
        .iter()
        .find(|f| f.direction == "ingress" && f.src_port == back && f.dst_port == 5005)
        .unwrap_or_else(|| panic!("no ingress flow row: {:#?}", snap.flows));
    assert_eq!(f.packets, 3);
}

#[test]
fn ipv6_drops_and_lru_pressure_are_reported() {
    if !common::require_priv("ipv6_drops_and_lru_pressure_are_reported") {
        return;
    }
    let _serial = drops_lock();
    let pair = Pair::new();
    let (a6, b6) = add_ipv6(&pair);
    let mut probes = Probes::new(&config(&["drops"]));
    // IPv6 UDP to a port with no socket.
    let sport = in_netns(&pair.a.name, {
        let (a6, b6) = (a6.clone(), b6.clone());
        move || {
            let s = UdpSocket::bind(format!("[{a6}]:0")).unwrap();
            for _ in 0..5 {
                s.send_to(b"v6", format!("[{b6}]:5006")).unwrap();
                std::thread::sleep(Duration::from_millis(5));
            }
            s.local_addr().unwrap().port()
        }
    });
    std::thread::sleep(Duration::from_millis(200));
    let snap = probe_snapshot(&mut probes);
    let row = snap
        .drops
        .iter()
        .find(|d| d.src == a6 && d.src_port == sport && d.dst == b6 && d.dst_port == 5006)
        .unwrap_or_else(|| panic!("no IPv6 drop row: {:#?}", snap.drops));
    assert_eq!(
        (row.reason_name.as_str(), row.protocol.as_ref(), row.count),
        ("NO_SOCKET", "UDP", 5)
    );

    // More distinct IPv4 flows than the IPv4 map holds (16384): the LRU evicts and says so.
    in_netns(&pair.a.name, {
        let (a, b) = (pair.a_ip.clone(), pair.b_ip.clone());
        move || {
            let socks: Vec<UdpSocket> = (0..64)
                .map(|_| UdpSocket::bind(format!("{a}:0")).unwrap())
                .collect();
            for port in 0..300u16 {
                for s in &socks {
                    let _ = s.send_to(b"x", format!("{b}:{}", 20000 + port));
                }
            }
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let snap = probe_snapshot(&mut probes);
    let st = snap.node.probes.iter().find(|p| p.name == "drops").unwrap();
    eprintln!("drops map: {st:?}");
    // Two maps of 16384 (IPv4, IPv6): the status counts both.
    assert_eq!(st.map_max_entries, 2 * 16384);
    assert!(st.map_entries.is_some_and(|n| n <= 2 * 16384), "{st:?}");
    assert!(st.detail.contains("/16384, IPv6 "), "{st:?}");
    assert!(
        st.evicted > 0,
        "19 200 distinct flows in a 16 384-entry LRU map: {st:?}"
    );
    // The IPv6 row survives the IPv4 flood: each family has its own map.
    assert!(
        snap.drops
            .iter()
            .any(|d| d.src == a6 && d.src_port == sport),
        "IPv6 row evicted by the IPv4 flood: {st:?}"
    );
    assert!(st.events >= 19_200, "{st:?}");
    assert_eq!(st.failed_inserts, 0, "{st:?}");
}

/// Sends `rounds` rounds of one datagram from each socket to `to` (every socket is its own
/// 5-tuple); panics on a send error, so every datagram counted here left the socket.
fn send_rounds(socks: &[UdpSocket], to: &str, rounds: usize) {
    for _ in 0..rounds {
        for s in socks {
            s.send_to(b"x", to).unwrap();
        }
    }
}

/// The rows of one DropProbe read whose destination is `dst`, by (source port, destination
/// port): summed counts and bytes.
fn drop_counts(
    rows: &[dpscope::model::Drop],
    src: &str,
    dst: &str,
) -> std::collections::HashMap<(u16, u16), (u64, u64)> {
    let mut m = std::collections::HashMap::new();
    for d in rows.iter().filter(|d| d.src == src && d.dst == dst) {
        let e = m.entry((d.src_port, d.dst_port)).or_insert((0, 0));
        e.0 += d.count;
        e.1 += d.bytes;
    }
    m
}

/// The drop table (probes/dps_table.h) is bounded: more distinct keys than it holds evict the
/// rows whose last hit is oldest, the eviction count shown is the kernel's own and accounts for
/// every key that is gone, rows hit since the previous read survive, and the rows that remain
/// have exact counts.
#[test]
fn drop_table_is_bounded_evicts_oldest_and_keeps_exact_counts() {
    if !common::require_priv("drop_table_is_bounded_evicts_oldest_and_keeps_exact_counts") {
        return;
    }
    let _serial = drops_lock();
    let pair = Pair::new();
    let mut probe = DropProbe::load().unwrap();
    let mut names = netns::Resolver::default();
    names.refresh();
    let (a, b) = (pair.a_ip.clone(), pair.b_ip.clone());
    // 64 sockets × 300 ports = 19 200 keys for a 16 384-slot table; each key gets 2 drops,
    // back to back (a key is never evicted between its own two drops).
    let ports: Vec<u16> = in_netns(&pair.a.name, {
        let (a, b) = (a.clone(), b.clone());
        move || {
            let socks: Vec<UdpSocket> = (0..64)
                .map(|_| UdpSocket::bind(format!("{a}:0")).unwrap())
                .collect();
            for port in 0..300u16 {
                for s in &socks {
                    for _ in 0..2 {
                        s.send_to(b"x", format!("{b}:{}", 20000 + port)).unwrap();
                    }
                }
            }
            socks
                .iter()
                .map(|s| s.local_addr().unwrap().port())
                .collect()
        }
    });
    std::thread::sleep(Duration::from_millis(200));
    let t0 = std::time::Instant::now();
    let (rows, st) = probe.read(&mut names);
    let took = t0.elapsed();
    let ours = drop_counts(&rows, &a, &b);
    eprintln!(
        "after the flood: {} of our rows; read in {took:?}; {st:?}",
        ours.len()
    );
    assert_eq!(st.map_max_entries, 2 * 16384);
    assert!(st.map_entries.is_some_and(|n| n <= 2 * 16384), "{st:?}");
    assert!(
        st.detail.contains("IPv4 ") && st.detail.contains("/16384, IPv6 "),
        "{st:?}"
    );
    assert!(st.evicted > 0, "19 200 keys in 16 384 slots: {st:?}");
    assert!(ours.len() <= 16384 && !ours.is_empty(), "{}", ours.len());
    // Every key is still there or was evicted (evictions of other drops on the node only add).
    assert!(
        ours.len() as u64 + st.evicted >= 64 * 300,
        "{} rows + {} evicted < 19 200 keys",
        ours.len(),
        st.evicted
    );
    // Exact counts in every remaining row, and equal byte counts (same datagram size).
    let per_row_bytes = ours.values().next().unwrap().1;
    for (k, (count, bytes)) in &ours {
        assert!(
            ports.contains(&k.0) && (20000..20300).contains(&k.1),
            "{k:?}"
        );
        assert_eq!((*count, *bytes), (2, per_row_bytes), "row {k:?}");
    }
    // The count shown is the kernel's: its own eviction counter, and inserted − evicted =
    // slots in use. Other drops on the node can land between reading the tables and the
    // counters: retry until a read is not raced.
    status_is_the_kernels("drop", || {
        let before = probe.loaded.stats("dps_drops_stats");
        let st = probe.read(&mut names).1;
        (before, st, probe.loaded.stats("dps_drops_stats"))
    });

    // Recency: the reads above started a new epoch. Hit 100 surviving rows again, then insert
    // 1 000 new keys: the victims are rows not hit since, so those 100 survive, with 3 drops.
    let mut keep: Vec<(u16, u16)> = ours.keys().copied().collect();
    keep.sort();
    keep.truncate(100);
    rehit_then_flood(&pair, &keep);
    std::thread::sleep(Duration::from_millis(200));
    let (rows, st) = probe.read(&mut names);
    let now = drop_counts(&rows, &a, &b);
    let lost: Vec<_> = keep
        .iter()
        .filter(|k| now.get(k).map(|v| v.0) != Some(3))
        .collect();
    assert!(
        lost.is_empty(),
        "recently hit rows evicted or miscounted: {lost:?} {st:?}"
    );
    let new_keys = now.keys().filter(|k| k.1 >= 21000).count();
    assert_eq!(new_keys, 1000, "{st:?}");
}

/// The rows of one FlowProbe read on ingress from `src` to `dst`, by (source port,
/// destination port): packets and bytes.
fn flow_counts(
    rows: &[dpscope::model::Flow],
    src: &str,
    dst: &str,
) -> std::collections::HashMap<(u16, u16), (u64, u64)> {
    let mut m = std::collections::HashMap::new();
    for f in rows
        .iter()
        .filter(|f| f.direction == "ingress" && f.src == src && f.dst == dst)
    {
        let e = m.entry((f.src_port, f.dst_port)).or_insert((0, 0));
        e.0 += f.packets;
        e.1 += f.bytes;
    }
    m
}

/// The flow table (probes/dps_table.h, as for drops) is bounded: more distinct flows than it
/// holds evict the rows whose last hit is oldest, the eviction count shown is the kernel's own
/// and accounts for every flow that is gone, rows hit since the previous read survive, and the
/// rows that remain have exact counts.
#[test]
fn flow_table_is_bounded_evicts_oldest_and_keeps_exact_counts() {
    if !common::require_priv("flow_table_is_bounded_evicts_oldest_and_keeps_exact_counts") {
        return;
    }
    // Its 38,400 packets to closed ports are drops too: they would flood the drop tables of a
    // drop test running beside it.
    let _serial = drops_lock();
    let pair = Pair::new();
    let mut probe = FlowProbe::load(&[format!("{}/{}", pair.b.name, pair.b_if)], &[]).unwrap();
    let (a, b) = (pair.a_ip.clone(), pair.b_ip.clone());
    // 64 sockets × 300 ports = 19 200 flows into b's ingress for a 16 384-slot table; each gets
    // 2 packets, back to back (a flow is never evicted between its own two packets).
    let ports: Vec<u16> = in_netns(&pair.a.name, {
        let (a, b) = (a.clone(), b.clone());
        move || {
            let socks: Vec<UdpSocket> = (0..64)
                .map(|_| UdpSocket::bind(format!("{a}:0")).unwrap())
                .collect();
            for port in 0..300u16 {
                for s in &socks {
                    for _ in 0..2 {
                        s.send_to(b"x", format!("{b}:{}", 20000 + port)).unwrap();
                    }
                }
            }
            socks
                .iter()
                .map(|s| s.local_addr().unwrap().port())
                .collect()
        }
    });
    std::thread::sleep(Duration::from_millis(200));
    let t0 = std::time::Instant::now();
    let (rows, st) = probe.read();
    let took = t0.elapsed();
    let ours = flow_counts(&rows, &a, &b);
    eprintln!(
        "after the flood: {} of our rows; read in {took:?}; {st:?}",
        ours.len()
    );
    assert_eq!(st.map_max_entries, 2 * 16384);
    assert!(st.map_entries.is_some_and(|n| n <= 2 * 16384), "{st:?}");
    assert!(
        st.detail.contains("IPv4 ") && st.detail.contains("/16384, IPv6 "),
        "{st:?}"
    );
    assert!(st.evicted > 0, "19 200 flows in 16 384 slots: {st:?}");
    assert!(ours.len() <= 16384 && !ours.is_empty(), "{}", ours.len());
    assert!(
        ours.len() as u64 + st.evicted >= 64 * 300,
        "{} rows + {} evicted < 19 200 flows",
        ours.len(),
        st.evicted
    );
    let per_row_bytes = ours.values().next().unwrap().1;
    for (k, (packets, bytes)) in &ours {
        assert!(
            ports.contains(&k.0) && (20000..20300).contains(&k.1),
            "{k:?}"
        );
        assert_eq!((*packets, *bytes), (2, per_row_bytes), "row {k:?}");
    }
    // The count shown is the kernel's: its own eviction counter, and inserted − evicted =
    // slots in use (retried until no packet lands between the table and counter reads).
    status_is_the_kernels("flow", || {
        let before = probe.loaded.stats("dps_flows_stats");
        let st = probe.read().1;
        (before, st, probe.loaded.stats("dps_flows_stats"))
    });

    // Recency: hit 100 surviving rows again, then start 1 000 new flows: the victims are rows
    // not hit since the last read, so those 100 survive, with 3 packets.
    let mut keep: Vec<(u16, u16)> = ours.keys().copied().collect();
    keep.sort();
    keep.truncate(100);
    rehit_then_flood(&pair, &keep);
    std::thread::sleep(Duration::from_millis(200));
    let (rows, st) = probe.read();
    let now = flow_counts(&rows, &a, &b);
    let lost: Vec<_> = keep
        .iter()
        .filter(|k| now.get(k).map(|v| v.0) != Some(3))
        .collect();
    assert!(
        lost.is_empty(),
        "recently hit rows evicted or miscounted: {lost:?} {st:?}"
    );
    let new_keys = now.keys().filter(|k| k.1 >= 21000).count();
    assert_eq!(new_keys, 1000, "{st:?}");
}

/// Drops of the same keys on both CPUs at once (the insert race of probes/dps_table.h: a key
/// can land in two slots) sum exactly.
#[test]
fn concurrent_drops_of_the_same_keys_sum_exactly() {
    if !common::require_priv("concurrent_drops_of_the_same_keys_sum_exactly") {
        return;
    }
    let _serial = drops_lock();
    let pair = Pair::new();
    let mut probe = DropProbe::load().unwrap();
    let mut names = netns::Resolver::default();
    names.refresh();
    let (a, b) = (pair.a_ip.clone(), pair.b_ip.clone());
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cpus.clamp(2, 4);
    let rounds = 50;
    // 200 keys (sockets); every thread, pinned to its own CPU, sends each key one datagram per
    // round in the same order, all threads starting together.
    let ports: Vec<u16> = in_netns(&pair.a.name, {
        let (a, b) = (a.clone(), b.clone());
        move || {
            let socks: Vec<UdpSocket> = (0..200)
                .map(|_| UdpSocket::bind(format!("{a}:0")).unwrap())
                .collect();
            let to = format!("{b}:5011");
            let start = std::sync::Barrier::new(threads);
            std::thread::scope(|sc| {
                for t in 0..threads {
                    let (socks, to, start) = (&socks, &to, &start);
                    sc.spawn(move || {
                        pin_to_cpu(t % cpus);
                        start.wait();
                        send_rounds(socks, to, rounds);
                    });
                }
            });
            socks
                .iter()
                .map(|s| s.local_addr().unwrap().port())
                .collect()
        }
    });
    std::thread::sleep(Duration::from_millis(200));
    let (rows, st) = probe.read(&mut names);
    let ours = drop_counts(&rows, &a, &b);
    eprintln!("{threads} threads on {cpus} CPUs; {st:?}");
    let want = (threads * rounds) as u64;
    let wrong: Vec<_> = ports
        .iter()
        .filter(|p| ours.get(&(**p, 5011)).map(|v| v.0) != Some(want))
        .map(|p| (p, ours.get(&(*p, 5011))))
        .collect();
    assert!(wrong.is_empty(), "want {want} drops per key: {wrong:?}");
    assert_eq!(ours.len(), 200);
    assert_eq!(st.failed_inserts, 0, "{st:?}");
}

/// Pin the calling thread to one CPU (the veth path then drops on that CPU).
fn pin_to_cpu(cpu: usize) {
    // SAFETY: cpu_set_t is plain data; CPU_SET stays within it for cpu < CPU_SETSIZE; the call
    // only changes the calling thread's affinity.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        let rc = libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        assert_eq!(
            rc,
            0,
            "sched_setaffinity: {}",
            std::io::Error::last_os_error()
        );
    }
}

/// The status's eviction count and rows in use are the kernel's own counters (evicted, and
/// inserted − evicted). Other events can land between reading the tables and the counters:
/// retried until one read is not raced.
/// `read` gives the kernel's counters, the status from a read, then the counters again.
fn status_is_the_kernels(
    what: &str,
    mut read: impl FnMut() -> (MapStats, dpscope::model::ProbeStatus, MapStats),
) {
    for _ in 0..20 {
        let (before, st, after) = read();
        if (before.inserted, before.evicted) != (after.inserted, after.evicted) {
            continue;
        }
        assert_eq!(st.evicted, after.evicted, "{st:?} {after:?}");
        assert_eq!(
            Some(after.inserted - after.evicted),
            st.map_entries,
            "{st:?} {after:?}"
        );
        assert_eq!(st.failed_inserts, after.failed);
        return;
    }
    panic!("the {what} counters never held still for one read");
}

/// From a to b: one datagram again on each `keep` (source, destination) port pair, then
/// 1 000 datagrams on new pairs (10 sockets × 100 ports from 21000), to force evictions.
fn rehit_then_flood(pair: &Pair, keep: &[(u16, u16)]) {
    in_netns(&pair.a.name, {
        let (a, b, keep) = (pair.a_ip.clone(), pair.b_ip.clone(), keep.to_vec());
        move || {
            for (sport, dport) in &keep {
                let s = UdpSocket::bind(format!("{a}:{sport}")).unwrap();
                s.send_to(b"x", format!("{b}:{dport}")).unwrap();
            }
            let socks: Vec<UdpSocket> = (0..10)
                .map(|_| UdpSocket::bind(format!("{a}:0")).unwrap())
                .collect();
            for port in 0..100u16 {
                for s in &socks {
                    s.send_to(b"x", format!("{b}:{}", 21000 + port)).unwrap();
                }
            }
        }
    });
}
