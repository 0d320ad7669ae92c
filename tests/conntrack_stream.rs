//! `dpscope show conntrack` streamed from real CT maps (Cilium's names, types and sizes in a
//! private bpffs): the JSON array, JSON lines and CSV parse back to exactly the entries the
//! decoder reads from the same maps, and the text lines read like `cilium-dbg bpf ct list
//! global`, service entries naming their frontend and backend.
//! Needs root (skips unless DPSCOPE_REQUIRE_PRIV=1, then fails).

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Bpffs;
use dpscope::model::CtEntry;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_dpscope");

fn create(t: u32, name: &str, ks: u32, vs: u32, max: u32, dir: &Path) -> OwnedFd {
    let flags = if t == libbpf_sys::BPF_MAP_TYPE_LPM_TRIE {
        libbpf_sys::BPF_F_NO_PREALLOC
    } else {
        0
    };
    let opts = libbpf_sys::bpf_map_create_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_map_create_opts>() as _,
        map_flags: flags,
        ..Default::default()
    };
    let kname: String = name.chars().take(15).collect();
    let c = std::ffi::CString::new(kname).unwrap();
    // SAFETY: NUL-terminated name, sized options.
    let fd = unsafe { libbpf_sys::bpf_map_create(t, c.as_ptr(), ks, vs, max, &opts) };
    assert!(fd >= 0, "create {name}: {fd}");
    // SAFETY: a fresh fd we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let path = std::ffi::CString::new(dir.join(name).to_string_lossy().into_owned()).unwrap();
    // SAFETY: valid fd and NUL-terminated path.
    // SAFETY: valid fd and NUL-terminated path.
    let rc = unsafe { libbpf_sys::bpf_obj_pin(fd.as_raw_fd(), path.as_ptr()) };
    assert_eq!(rc, 0, "pin {name}");
    fd
}

fn put_batch(fd: &OwnedFd, keys: &[u8], vals: &[u8], n: u32) {
    let opts = libbpf_sys::bpf_map_batch_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_map_batch_opts>() as _,
        ..Default::default()
    };
    let mut count = n;
    // SAFETY: n keys and n values of the map's sizes.
    let rc = unsafe {
        libbpf_sys::bpf_map_update_batch(
            fd.as_raw_fd(),
            keys.as_ptr() as _,
            vals.as_ptr() as _,
            &mut count,
            &opts,
        )
    };
    assert_eq!((rc, count), (0, n), "batch update");
}

fn mono_s() -> u32 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u32
}

/// Stored tuple: daddr, saddr, dport, sport, proto, flags.
fn key(v6: bool, i: u32, proto: u8, flags: u8) -> Vec<u8> {
    let b = i.to_be_bytes();
    let mut k = if v6 {
        let mut d = vec![
            0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b[0], b[1], b[2], b[3],
        ];
        let mut s = vec![0xfd; 16];
        s[15] = 2;
        d.append(&mut s);
        d
    } else if flags & 4 != 0 {
        // Service entries: daddr is the frontend, saddr the client.
        vec![10, 96, 0, 10, 10, b[1], b[2], b[3]]
    } else {
        vec![10, b[1], b[2], b[3], 10, 96, 0, 10]
    };
    k.extend(((i % 50000) as u16 + 1024).to_be_bytes());
    k.extend(if flags & 4 != 0 { 53u16 } else { 443 }.to_be_bytes());
    k.extend([proto, flags]);
    k
}

fn value(i: u32, now: u32, svc: bool) -> Vec<u8> {
    let mut v = vec![0u8; 56];
    if svc {
        v[8..16].copy_from_slice(&u64::from(7 + i % 2).to_le_bytes());
    }
    v[16..24].copy_from_slice(&u64::from(i * 3).to_le_bytes());
    v[24..32].copy_from_slice(&(u64::from(i) * 1500).to_le_bytes());
    v[32..36].copy_from_slice(&(now + 100 + i % 9000).to_le_bytes());
    let flags: u16 = [0x10, 0x13, 0x0210, 0x0800 | 0x20, 0][(i % 5) as usize];
    v[36..38].copy_from_slice(&flags.to_le_bytes());
    v[38..40].copy_from_slice(&(if svc { 3u16 } else { (i % 4) as u16 }).to_be_bytes());
    if !svc {
        v[40..42].copy_from_slice(&((i % 7) as u16).to_be_bytes());
    }
    v[42] = (i % 256) as u8;
    v[43] = ((i * 7) % 256) as u8;
    v[44..48].copy_from_slice(&(28461 + i % 50).to_le_bytes());
    v[48..52].copy_from_slice(&(now + i % 13).to_le_bytes());
    v[52..56].copy_from_slice(&(now + i % 17).to_le_bytes());
    v
}

fn fill(fd: &OwnedFd, v6: bool, n: u32, proto: u8, now: u32) {
    let (mut keys, mut vals) = (vec![], vec![]);
    for i in 0..n {
        let flags = match proto {
            17 => [4u8, 4 | 2, 0, 1][(i % 4) as usize],
            _ => (i % 2) as u8,
        };
        keys.extend(key(v6, i, proto, flags));
        vals.extend(value(i, now, flags & 4 != 0));
    }
    put_batch(fd, &keys, &vals, n);
}

fn show(root: &Path, format: &str) -> Vec<u8> {
    let out = Command::new(BIN)
        .args(["--bpffs"])
        .arg(root)
        .args(["show", "conntrack", "--format", format])
        .env("DPSCOPE_CONFIG", "/dev/null")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "show conntrack --format {format}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Entries in a comparable order, the expiry counted from the lifetime at the reference
/// read's clock (each read has one "now"; the reads run seconds apart on a loaded machine).
fn canonical(mut v: Vec<CtEntry>, read_at: &[CtEntry]) -> Vec<String> {
    let now = |e: &CtEntry| e.expires_in_s - i64::from(e.lifetime);
    let reference = read_at.first().map(now);
    let this_read = v.first().map(now);
    for e in &mut v {
        let (Some(base), Some(mine)) = (reference, this_read) else {
            break;
        };
        assert_eq!(now(e), mine, "one clock for every entry of a read");
        assert!((mine - base).abs() <= 120, "clock: {mine} vs {base}");
        e.expires_in_s = i64::from(e.lifetime) + base;
    }
    let mut s: Vec<String> = v
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    s.sort();
    s
}

fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = vec![];
    let mut row = vec![];
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    rows
}

/// A CSV row back into an entry, through the JSON the header names.
fn csv_entry(header: &[String], row: &[String]) -> CtEntry {
    let mut obj = serde_json::Map::new();
    for (name, cell) in header.iter().zip(row) {
        let v = match name.as_str() {
            _ if cell.is_empty()
                && !matches!(name.as_str(), "flags" | "tx_flags_seen" | "rx_flags_seen") =>
            {
                serde_json::Value::Null
            }
            "table" | "protocol" | "direction" | "src" | "dst" | "nat_addr" | "layout" | "raw" => {
                serde_json::Value::String(cell.clone())
            }
            "tx_counters" => serde_json::Value::Array(
                cell.split_whitespace()
                    .map(|s| serde_json::from_str(s).unwrap())
                    .collect(),
            ),
            "flags" | "tx_flags_seen" | "rx_flags_seen" => serde_json::Value::Array(
                cell.split_whitespace()
                    .map(|s| serde_json::Value::String(s.to_string()))
                    .collect(),
            ),
            _ => serde_json::from_str(cell).unwrap_or_else(|_| panic!("{name}={cell}")),
        };
        obj.insert(name.clone(), v);
    }
    serde_json::from_value(serde_json::Value::Object(obj)).unwrap()
}

#[test]
fn streamed_conntrack_parses_back_to_the_decoded_entries() {
    if !common::require_priv("streamed_conntrack_parses_back_to_the_decoded_entries") {
        return;
    }
    use libbpf_sys::*;
    let fs = Bpffs::new();
    let g = fs.join("tc/globals");
    std::fs::create_dir_all(&g).unwrap();
    let now = mono_s();
    // The release: main (a 12-byte policy value), so entries carry NatPort.
    let _pol = create(
        BPF_MAP_TYPE_LPM_TRIE,
        "cilium_policy_v2_00042",
        12,
        12,
        16384,
        &g,
    );
    // One service (rev-NAT 3, 10.96.0.10:53/UDP) with backends 7 and 8.
    let s4 = create(
        BPF_MAP_TYPE_HASH,
        "cilium_lb4_services_v2",
        12,
        12,
        65536,
        &g,
    );
    let b4 = create(
        BPF_MAP_TYPE_HASH,
        "cilium_lb4_backends_v3",
        4,
        12,
        65536,
        &g,
    );
    let svc = |slot: u16, union: u32, count: u16| {
        let mut k = vec![10, 96, 0, 10];
        k.extend(53u16.to_be_bytes());
        k.extend(slot.to_le_bytes());
        k.extend([17, 0, 0, 0]);
        let mut v = union.to_le_bytes().to_vec();
        v.extend(count.to_le_bytes());
        v.extend(3u16.to_be_bytes());
        v.extend([0, 0, 0, 0]);
        (k, v)
    };
    let entries = [svc(0, 0, 2), svc(1, 7, 0), svc(2, 8, 0)];
    let (k, v): (Vec<u8>, Vec<u8>) =
        entries
            .iter()
            .fold((vec![], vec![]), |(mut k, mut v), (a, b)| {
                k.extend(a);
                v.extend(b);
                (k, v)
            });
    put_batch(&s4, &k, &v, 3);
    let backend = |ip: u8| {
        let mut v = vec![10, 244, 1, ip];
        v.extend(53u16.to_be_bytes());
        v.extend([17, 0, 0, 0, 0, 0]);
        v
    };
    let mut bk = 7u32.to_le_bytes().to_vec();
    bk.extend(8u32.to_le_bytes());
    let mut bv = backend(17);
    bv.extend(backend(18));
    put_batch(&b4, &bk, &bv, 2);
    // CT: a TCP table big enough for the pipelined read, service and related entries in
    // the "any" table, and IPv6.
    let ct4 = create(
        BPF_MAP_TYPE_LRU_HASH,
        "cilium_ct4_global",
        14,
        56,
        65536,
        &g,
    );
    let any4 = create(
        BPF_MAP_TYPE_LRU_HASH,
        "cilium_ct_any4_global",
        14,
        56,
        32768,
        &g,
    );
    let ct6 = create(
        BPF_MAP_TYPE_LRU_HASH,
        "cilium_ct6_global",
        38,
        56,
        32768,
        &g,
    );
    fill(&ct4, false, 20_000, 6, now);
    fill(&any4, false, 400, 17, now);
    fill(&ct6, true, 300, 6, now);

    let roots = vec![fs.path.clone()];
    let c = dpscope::bpf::cilium::collect(&roots, &[], &[], &[]);
    assert!(c.conntrack.len() > 20_000, "{}", c.conntrack.len());
    assert!(
        c.conntrack.iter().all(|e| e.nat_port.is_some()),
        "main layout"
    );
    let want = canonical(c.conntrack.clone(), &c.conntrack);

    // The JSON array, compact into a pipe: exactly what serde writes.
    let json = show(&fs.path, "json");
    let parsed: Vec<CtEntry> = serde_json::from_slice(&json).unwrap();
    assert_eq!(
        String::from_utf8(json).unwrap(),
        format!("{}\n", serde_json::to_string(&parsed).unwrap()),
        "compact JSON"
    );
    assert_eq!(canonical(parsed, &c.conntrack), want, "--format json");

    let lines = show(&fs.path, "jsonl");
    let parsed: Vec<CtEntry> = String::from_utf8(lines)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(canonical(parsed, &c.conntrack), want, "--format jsonl");

    let csv = String::from_utf8(show(&fs.path, "csv")).unwrap();
    let rows = parse_csv(&csv);
    let parsed: Vec<CtEntry> = rows[1..].iter().map(|r| csv_entry(&rows[0], r)).collect();
    assert_eq!(canonical(parsed, &c.conntrack), want, "--format csv");

    // Text: one cilium-dbg line per entry, TCP4, any4, TCP6 in that order, a blank line
    // after each table; service entries name the service and their backend.
    let text = String::from_utf8(show(&fs.path, "text")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.iter().filter(|l| !l.is_empty()).count(),
        c.conntrack.len()
    );
    assert_eq!(lines.iter().filter(|l| l.is_empty()).count(), 3);
    let first_any = lines.iter().position(|l| l.starts_with("UDP")).unwrap();
    let first_v6 = lines.iter().position(|l| l.contains("fd00::")).unwrap();
    assert!(lines[..first_any]
        .iter()
        .all(|l| l.is_empty() || l.starts_with("TCP ")));
    assert!(first_any < first_v6);
    let svc_line = lines
        .iter()
        .find(|l| l.contains(" SVC ") && l.contains("BackendID=8 "))
        .expect("a service entry");
    assert!(
        svc_line.starts_with("UDP SVC 10.0.") && svc_line.contains(" -> 10.96.0.10:53 "),
        "{svc_line}"
    );
    assert!(
        svc_line.ends_with(" NatPort=0 Service=10.96.0.10:53/UDP Backend=10.244.1.18:53/UDP "),
        "{svc_line}"
    );
    let tcp = lines.iter().find(|l| l.starts_with("TCP OUT ")).unwrap();
    let fields: Vec<&str> = tcp
        .split_whitespace()
        .filter_map(|w| w.split_once('=').map(|(k, _)| k))
        // `Unknown=0x....` is a label inside the flag list, not a field.
        .filter(|k| *k != "Unknown")
        .collect();
    assert_eq!(
        fields,
        [
            "expires",
            "Packets",
            "Bytes",
            "RxFlagsSeen",
            "LastRxReport",
            "TxFlagsSeen",
            "LastTxReport",
            "Flags",
            "RevNAT",
            "SourceSecurityID",
            "BackendID",
            "NatPort"
        ],
        "{tcp}"
    );

    // The table stays available, sorted as on screen.
    let table = String::from_utf8(show(&fs.path, "table")).unwrap();
    assert!(
        table.starts_with("TABLE"),
        "{}",
        &table[..200.min(table.len())]
    );
    drop((s4, b4, ct4, any4, ct6));
}
