//! `dpscope show PANE` prints the Cilium panes the way `cilium-dbg` lists the same maps
//! (`bpf lb list`, `bpf ipcache list`, `bpf endpoint list`, `bpf policy get`, `bpf metrics
//! list`), so the two can sit side by side; `--format table` keeps the pane's table.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_dpscope");

fn fixture() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cilium.json").to_string()
}

fn show(args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("show")
        .args(args)
        .args(["--from", &fixture()])
        .env("DPSCOPE_CONFIG", "/dev/null")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "show {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn cilium_panes_print_cilium_dbg_lines() {
    for pane in ["services", "identities", "endpoints", "policy", "metrics"] {
        insta::assert_snapshot!(format!("dbg_{pane}"), show(&[pane]));
    }
}

#[test]
fn the_lines_read_as_cilium_dbg_writes_them() {
    let lb = show(&["services"]);
    assert!(lb.starts_with("SERVICE ADDRESS"), "{lb}");
    // The frontend, its slot-0 line with rev-NAT id and flags, then each backend by slot.
    let at = lb.find("10.96.12.40:80/TCP").unwrap();
    let block: Vec<&str> = lb[at..].lines().take(4).collect();
    assert!(
        block[0].ends_with("0.0.0.0:0 (5) (0) [ClusterIP, non-routable]"),
        "{block:?}"
    );
    assert!(block[1].trim() == "10.0.1.23:8080/TCP (5) (1)", "{block:?}");
    assert!(lb.contains("backend 77 not found"), "{lb}");
    let ipc = show(&["identities"]);
    assert!(ipc.lines().any(|l| l.starts_with("10.0.2.1/32")
        && l.ends_with("identity=6 encryptkey=3 tunnelendpoint=172.18.0.4 flags=hastunnel")));
    let ep = show(&["endpoints"]);
    assert!(ep.lines().any(|l| l.starts_with("10.0.1.23:0 ")
        && l.contains("id=412   sec_id=28461 flags=0x0000 ifindex=14  mac=5E:7D:1A:22:0B:9C")));
    assert!(ep
        .lines()
        .any(|l| l.starts_with("10.0.1.1:0 ") && l.ends_with("(localhost)")));
    let pol = show(&["policy"]);
    assert!(
        pol.starts_with("Endpoint ID: 412\n\nPOLICY   DIRECTION   IDENTITY"),
        "{pol}"
    );
    let m = show(&["metrics"]);
    assert!(m.starts_with("REASON"), "{m}");
    assert!(m.lines().any(|l| l.split_whitespace().collect::<Vec<_>>()
        == [
            "Policy",
            "denied",
            "EGRESS",
            "1436",
            "86160",
            "1390",
            "bpf_lxc.c"
        ]));
}

#[test]
fn format_table_keeps_the_panes_table() {
    for (pane, header) in [
        ("services", "FRONTEND"),
        ("identities", "PREFIX"),
        ("endpoints", "ADDRESS"),
        ("metrics", "REASON"),
    ] {
        let t = show(&[pane, "--format", "table"]);
        assert!(t.starts_with(header), "{pane}: {t}");
        assert_ne!(t, show(&[pane]), "{pane}: table and text are the same");
    }
    // Panes without a cilium-dbg shape: text is the table.
    assert_eq!(
        show(&["programs"]),
        show(&["programs", "--format", "table"])
    );
}
