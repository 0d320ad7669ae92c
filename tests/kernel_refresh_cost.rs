//! A refresh reads only what is shown: the CT maps only while the conntrack pane is open (and
//! then at a cadence, the same table passed on in between), `show node` no map contents. A
//! file still carries the table whatever pane is open: a `Ctrl-s` export reads it itself, and
//! a recording (`R`) makes the collector read it while it records; both replay with it. On
//! a private bpffs with a pinned `cilium_ct4_global` of Cilium's type and sizes and a
//! prog array; both are freed with the mount and the test's fds, also on failure.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Bpffs;
use dpscope::bpf::collector::{Collector, Config, Request, Want};
use dpscope::model::PaneId;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;

fn create_map(ty: u32, name: &str, key: u32, value: u32, max: u32) -> OwnedFd {
    let c = CString::new(name).expect("name");
    // SAFETY: valid name; NULL options are allowed.
    let fd =
        unsafe { libbpf_sys::bpf_map_create(ty, c.as_ptr(), key, value, max, std::ptr::null()) };
    assert!(
        fd >= 0,
        "create {name}: {}",
        std::io::Error::from_raw_os_error(-fd)
    );
    // SAFETY: a fresh descriptor we own.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

fn pin(fd: &OwnedFd, path: &std::path::Path) {
    let c = CString::new(path.to_string_lossy().into_owned()).expect("path");
    // SAFETY: a map fd and a valid path.
    let r = unsafe { libbpf_sys::bpf_obj_pin(fd.as_raw_fd(), c.as_ptr()) };
    assert_eq!(r, 0, "pin {}", path.display());
}

/// A TCP CT entry: `ipv4_ct_tuple` (daddr, saddr, dport, sport, nexthdr, flags) and a value
/// of 56 bytes whose lifetime (offset 32) is far ahead.
fn put_ct(fd: &OwnedFd, i: u32) {
    let mut k = vec![10, 0, (i >> 8) as u8, i as u8];
    k.extend_from_slice(&[10, 1, 0, 1]);
    k.extend_from_slice(&80u16.to_be_bytes());
    k.extend_from_slice(&(1024 + i as u16).to_be_bytes());
    k.push(6);
    k.push(0);
    let mut v = [0u8; 56];
    v[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
    // SAFETY: key and value have the map's sizes.
    let r = unsafe {
        libbpf_sys::bpf_map_update_elem(fd.as_raw_fd(), k.as_ptr() as _, v.as_ptr() as _, 0)
    };
    assert_eq!(r, 0, "ct entry {i}");
}

fn collector(fs: &Bpffs, want: Want) -> Collector {
    Collector::new(Config {
        bpffs_roots: vec![fs.path.clone()],
        probes: false,
        program_calls: false,
        want,
        ..Config::default()
    })
}

#[test]
fn conntrack_is_read_only_while_its_pane_is_open_and_passed_on_between_reads() {
    if !common::require_priv(
        "conntrack_is_read_only_while_its_pane_is_open_and_passed_on_between_reads",
    ) {
        return;
    }
    let fs = Bpffs::new();
    std::fs::create_dir_all(fs.join("tc/globals")).expect("tc/globals");
    let ct = create_map(
        libbpf_sys::BPF_MAP_TYPE_LRU_HASH,
        "cilium_ct4_glob",
        14,
        56,
        524_288,
    );
    pin(&ct, &fs.join("tc/globals/cilium_ct4_global"));
    for i in 0..300 {
        put_ct(&ct, i);
    }

    // The live UI on the programs pane: no CT read.
    let mut c = collector(&fs, Want::live(PaneId::Programs));
    let s = c.collect();
    assert!(s.conntrack.is_empty(), "CT read with another pane open");
    assert_eq!(s.cilium.as_ref().and_then(|i| i.ct_read_ns), None);
    assert!(
        s.unavailable_reason("conntrack").is_none(),
        "the CT map exists: the pane is not unavailable"
    );

    // The conntrack pane opens: read now.
    c.handle(&Request::Pane(PaneId::Conntrack));
    let a = c.collect();
    assert_eq!(a.conntrack.len(), 300);
    let read = a
        .cilium
        .as_ref()
        .and_then(|i| i.ct_read_ns)
        .expect("read time");
    assert!(read <= a.monotonic_ns);
    // The next refresh comes before the re-read cadence (at least the 1 s interval): the same
    // table, not a copy, and the same read time.
    put_ct(&ct, 1000);
    let b = c.collect();
    assert!(Arc::ptr_eq(&a.conntrack, &b.conntrack), "table passed on");
    assert_eq!(b.cilium.as_ref().and_then(|i| i.ct_read_ns), Some(read));
    // `r` re-reads whatever the age.
    c.handle(&Request::Refresh);
    let r = c.collect();
    assert_eq!(r.conntrack.len(), 301);
    assert!(r.cilium.as_ref().and_then(|i| i.ct_read_ns) > Some(read));

    // Leaving the pane drops the table.
    c.handle(&Request::Pane(PaneId::Maps));
    let m = c.collect();
    assert!(m.conntrack.is_empty());
    assert_eq!(m.cilium.as_ref().and_then(|i| i.ct_read_ns), None);
}

#[test]
fn show_node_reads_no_map_contents_and_show_maps_counts() {
    if !common::require_priv("show_node_reads_no_map_contents_and_show_maps_counts") {
        return;
    }
    let fs = Bpffs::new();
    std::fs::create_dir_all(fs.join("tc/globals")).expect("tc/globals");
    let ct = create_map(
        libbpf_sys::BPF_MAP_TYPE_LRU_HASH,
        "cilium_ct4_glob",
        14,
        56,
        4096,
    );
    pin(&ct, &fs.join("tc/globals/cilium_ct4_global"));
    for i in 0..10 {
        put_ct(&ct, i);
    }
    let id = {
        let mut info = libbpf_sys::bpf_map_info::default();
        let mut len = std::mem::size_of::<libbpf_sys::bpf_map_info>() as u32;
        // SAFETY: a map fd and a bpf_map_info without buffers.
        let r = unsafe {
            libbpf_sys::bpf_obj_get_info_by_fd(ct.as_raw_fd(), &mut info as *mut _ as _, &mut len)
        };
        assert_eq!(r, 0);
        info.id
    };

    let s = collector(&fs, Want::for_pane(PaneId::Node)).collect();
    assert!(s.conntrack.is_empty() && s.tailcalls.is_empty());
    let m = s.maps.iter().find(|m| m.id == id).expect("map listed");
    assert_eq!(m.entries, None, "show node counts no entries");
    assert!(
        !s.node
            .collect_phases
            .iter()
            .any(|p| p.name == "probes load"),
        "no probes for show node"
    );

    let s = collector(&fs, Want::for_pane(PaneId::Maps)).collect();
    let m = s.maps.iter().find(|m| m.id == id).expect("map listed");
    assert_eq!(m.entries, Some(10));
    assert!(s.conntrack.is_empty(), "show maps reads no CT entries");

    let s = collector(&fs, Want::for_pane(PaneId::Conntrack)).collect();
    assert_eq!(s.conntrack.len(), 10);
}

#[test]
fn pins_are_opened_once_and_a_replaced_pin_is_seen() {
    if !common::require_priv("pins_are_opened_once_and_a_replaced_pin_is_seen") {
        return;
    }
    use dpscope::bpf::bpffs::{scan, scan_cached, PinCache};
    let fs = Bpffs::new();
    std::fs::create_dir_all(fs.join("tc/globals")).expect("tc/globals");
    let a = create_map(libbpf_sys::BPF_MAP_TYPE_HASH, "pin_t_a", 4, 4, 8);
    let b = create_map(libbpf_sys::BPF_MAP_TYPE_HASH, "pin_t_b", 4, 4, 8);
    let path = fs.join("tc/globals/cilium_lxc");
    pin(&a, &path);
    let id = |fd: &OwnedFd| {
        let mut info = libbpf_sys::bpf_map_info::default();
        let mut len = std::mem::size_of::<libbpf_sys::bpf_map_info>() as u32;
        // SAFETY: a map fd and a bpf_map_info without buffers.
        let r = unsafe {
            libbpf_sys::bpf_obj_get_info_by_fd(fd.as_raw_fd(), &mut info as *mut _ as _, &mut len)
        };
        assert_eq!(r, 0);
        info.id
    };
    let roots = vec![fs.path.clone()];
    let mut cache = PinCache::default();
    let first = scan_cached(&roots, &mut cache);
    let again = scan_cached(&roots, &mut cache);
    let shown = path.display().to_string();
    assert_eq!(first.maps.get(&id(&a)), Some(&vec![shown.clone()]));
    assert_eq!(again.maps, first.maps, "from the cache: the same pins");
    assert_eq!(again.maps, scan(&roots).maps);
    // The pin replaced by another map at the same path: a new inode, opened again.
    std::fs::remove_file(&path).expect("unpin");
    pin(&b, &path);
    let after = scan_cached(&roots, &mut cache);
    assert_eq!(after.maps.get(&id(&b)), Some(&vec![shown]));
    assert!(!after.maps.contains_key(&id(&a)));
}

/// A private bpffs with Cilium's `cilium_ct4_global` (LRU hash 14 B → 56 B, 524,288 slots)
/// pinned, holding `n` TCP entries.
fn ct_node(n: u32) -> (Bpffs, OwnedFd) {
    let fs = Bpffs::new();
    std::fs::create_dir_all(fs.join("tc/globals")).expect("tc/globals");
    let ct = create_map(
        libbpf_sys::BPF_MAP_TYPE_LRU_HASH,
        "cilium_ct4_glob",
        14,
        56,
        524_288,
    );
    pin(&ct, &fs.join("tc/globals/cilium_ct4_global"));
    for i in 0..n {
        put_ct(&ct, i);
    }
    (fs, ct)
}

/// What `replay FILE` draws on the Conntrack pane (its newest snapshot), as text.
fn replayed_conntrack_screen(path: &std::path::Path) -> String {
    use dpscope::app::{Action, App, UiOptions};
    let loaded = dpscope::model::io::load(path).expect("the file loads");
    let mut app = App::replay(
        path.display().to_string(),
        loaded.snapshots,
        &loaded.skipped,
        &UiOptions::default(),
    );
    app.update(Action::Resize(140, 40));
    app.update(Action::GotoPane(PaneId::Conntrack));
    dpscope::tui::export::screen_text(&app).expect("screen")
}

#[test]
fn an_export_with_the_conntrack_pane_closed_carries_the_ct_table_and_replays_it() {
    if !common::require_priv(
        "an_export_with_the_conntrack_pane_closed_carries_the_ct_table_and_replays_it",
    ) {
        return;
    }
    use dpscope::app::{App, UiOptions};
    let (fs, _ct) = ct_node(300);
    // The live UI on the programs pane: its snapshot has no CT table.
    let snap = collector(&fs, Want::live(PaneId::Programs)).collect();
    assert!(snap.conntrack.is_empty());
    let tmp = tempfile::tempdir().expect("tempdir");
    let dump = tmp.path().join("dumps");
    let opts = UiOptions {
        bpffs_roots: Some(vec![fs.path.clone()]),
        dump_dir: Some(dump.clone()),
        ..UiOptions::default()
    };
    let mut app = App::with_snapshot(snap.clone(), &opts);
    app.update(dpscope::app::Action::Resize(120, 40));
    let out = dpscope::tui::export::export_to(&app, &dump, "20261207T210000.000Z").expect("export");
    let saved = dpscope::model::io::load(&out.snapshot)
        .expect("export loads")
        .snapshots
        .remove(0);
    assert_eq!(saved.conntrack.len(), 300, "the CT entries are in the file");
    let mut ports: Vec<u16> = saved.conntrack.iter().map(|e| e.src_port).collect();
    ports.sort();
    assert_eq!(ports, (1024..1324).collect::<Vec<u16>>());
    let read = saved
        .cilium
        .as_ref()
        .and_then(|c| c.ct_read_ns)
        .expect("read time");
    assert!(
        read >= snap.monotonic_ns,
        "read for the export, after the snapshot"
    );
    // Everything else is the snapshot the UI had.
    assert_eq!(saved.programs, snap.programs);
    assert_eq!(saved.taken_at, snap.taken_at);
    // The UI's own snapshot is not changed by the export.
    assert!(app.snapshot.conntrack.is_empty());
    let screen = replayed_conntrack_screen(&out.snapshot);
    assert!(screen.contains("10.1.0.1"), "{screen}");
    assert!(screen.contains("300"), "{screen}");

    // A replay's export never reads the kernel: the file has what the replay had.
    let mut replayed = App::replay(String::from("x"), vec![snap], &[], &opts);
    replayed.update(dpscope::app::Action::Resize(120, 40));
    let out =
        dpscope::tui::export::export_to(&replayed, &dump, "20261207T210001.000Z").expect("export");
    let saved = dpscope::model::io::load(&out.snapshot)
        .expect("loads")
        .snapshots
        .remove(0);
    assert!(saved.conntrack.is_empty());
}

#[test]
fn a_recording_carries_the_ct_table_with_the_pane_closed_and_replays_it() {
    if !common::require_priv("a_recording_carries_the_ct_table_with_the_pane_closed_and_replays_it")
    {
        return;
    }
    use dpscope::bpf::collector::{spawn, Update};
    let (fs, ct) = ct_node(300);

    // The collector alone: recording reads the table, passes it on between re-reads (at most
    // every RECORDING_CT_EVERY while the pane is closed), and stops reading after.
    let mut c = collector(&fs, Want::live(PaneId::Programs));
    assert!(c.collect().conntrack.is_empty());
    c.set_recording(true);
    let a = c.collect();
    assert_eq!(a.conntrack.len(), 300);
    put_ct(&ct, 1000);
    let b = c.collect();
    assert!(
        Arc::ptr_eq(&a.conntrack, &b.conntrack),
        "passed on, not re-read"
    );
    c.set_recording(false);
    let d = c.collect();
    assert!(d.conntrack.is_empty());
    assert_eq!(d.cilium.as_ref().and_then(|i| i.ct_read_ns), None);

    // `R` in the live UI: the collector thread writes the recording.
    let tmp = tempfile::tempdir().expect("tempdir");
    for compact in [false, true] {
        let path = tmp.path().join(format!("rec-{compact}.jsonl"));
        let (mut updates, requests, thread) = spawn(Config {
            bpffs_roots: vec![fs.path.clone()],
            probes: false,
            program_calls: false,
            interval: std::time::Duration::from_millis(100),
            want: Want::live(PaneId::Programs),
            ..Config::default()
        });
        let mut lines = 0;
        let mut started = false;
        while let Some(u) = updates.blocking_recv() {
            match u {
                Update::Snapshot(s) if !started => {
                    assert!(s.conntrack.is_empty(), "no CT before recording");
                    requests
                        .send(Request::StartRecording {
                            path: path.clone(),
                            compact,
                        })
                        .expect("send");
                    started = true;
                }
                Update::Recording(r) => {
                    assert_eq!(r.error, None);
                    lines = r.lines;
                    if !r.active {
                        break;
                    }
                    if r.lines == 4 {
                        requests.send(Request::StopRecording).expect("send");
                    }
                }
                _ => {}
            }
        }
        drop(updates);
        drop(requests);
        thread.join().expect("collector thread");
        assert!(lines >= 4);
        let loaded = dpscope::model::io::load(&path).expect("recording loads");
        assert!(loaded.skipped.is_empty());
        assert_eq!(loaded.snapshots.len(), lines);
        for s in &loaded.snapshots {
            assert_eq!(s.conntrack.len(), 301, "every frame carries the table");
            assert!(s.cilium.as_ref().and_then(|i| i.ct_read_ns).is_some());
        }
        let screen = replayed_conntrack_screen(&path);
        assert!(screen.contains("10.1.0.1"), "{screen}");
        assert!(screen.contains("301"), "{screen}");
    }
}

#[test]
fn show_maps_and_show_attachments_open_only_the_programs_they_show() {
    if !common::require_priv("show_maps_and_show_attachments_open_only_the_programs_they_show") {
        return;
    }
    use std::os::fd::AsFd;
    let fs = Bpffs::new();
    let tag = std::process::id() % 100_000;
    let map = create_map(
        libbpf_sys::BPF_MAP_TYPE_ARRAY,
        &format!("dps_rc_m{tag}"),
        4,
        8,
        1,
    );
    pin(&map, &fs.join("dps_rc_used"));
    let prog = common::maps::load_prog_using(
        libbpf_sys::BPF_PROG_TYPE_SCHED_CLS,
        &format!("dps_rc_p{tag}"),
        std::slice::from_ref(&map),
    );
    let prog_id = dpscope::bpf::iters::prog_id_of(prog.as_fd());
    let map_id = common::maps::map_id(&map);
    let ns = common::Netns::new();
    let veth = common::VethPair::new(&ns);
    let ifindex = veth.host_ifindex();
    let _link = common::LinkFd::create(prog.as_fd(), ifindex, libbpf_sys::BPF_TCX_INGRESS, 0);

    let full = collector(&fs, Want::ALL).collect();
    // As `show maps` runs it: one collection, the iterators loaded (and read) on a thread of
    // their own while the maps and pins are opened.
    let maps = Collector::new(Config {
        bpffs_roots: vec![fs.path.clone()],
        probes: false,
        program_calls: false,
        one_shot: true,
        want: Want::for_pane(PaneId::Maps),
        ..Config::default()
    })
    .collect();
    let att = collector(&fs, Want::for_pane(PaneId::Attachments)).collect();

    // `show maps`: the map's users from the program iterator, no program opened.
    let users = |s: &dpscope::model::Snapshot| {
        s.maps
            .iter()
            .find(|m| m.id == map_id)
            .map(|m| (m.prog_ids.clone(), m.pinned.clone()))
            .expect("our map is listed")
    };
    assert_eq!(users(&full).0, vec![prog_id], "full collection: the user");
    assert_eq!(users(&maps), users(&full), "show maps: users and pin");
    let counted = |s: &dpscope::model::Snapshot| {
        s.maps.iter().find(|m| m.id == map_id).map(|m| {
            (
                m.entries,
                m.memory_bytes,
                m.pids.iter().any(|p| p.pid == std::process::id()),
            )
        })
    };
    assert_eq!(
        counted(&maps),
        counted(&full),
        "show maps: count, memory, holder"
    );
    assert!(
        !maps.node.warnings.iter().any(|w| w.contains("iterator")),
        "{:?}",
        maps.node.warnings
    );
    assert!(maps.programs.is_empty(), "show maps lists no program");

    // `show attachments`: the same row, its program named, and only attached programs read.
    let row = |s: &dpscope::model::Snapshot| {
        s.attachments
            .iter()
            .find(|a| a.ifindex == ifindex && a.prog_id == prog_id)
            .cloned()
            .expect("our tcx program is listed")
    };
    assert_eq!(row(&att), row(&full), "show attachments: same row");
    assert!(
        row(&att).prog_name.starts_with("dps_rc_p"),
        "{:?}",
        row(&att)
    );
    assert!(att.programs.iter().any(|p| p.id == prog_id));
    let attached: std::collections::HashSet<u32> = att
        .attachments
        .iter()
        .map(|a| a.prog_id)
        .chain(att.links.iter().map(|l| l.prog_id))
        .collect();
    assert!(
        att.programs.iter().all(|p| attached.contains(&p.id)),
        "show attachments reads only attached programs"
    );
    assert!(att.programs.len() < full.programs.len());
    // One program per direction: nobody's loader is named, so no owner is read.
    let me = std::process::id();
    let held_by_me = |s: &dpscope::model::Snapshot, id: u32| {
        s.programs
            .iter()
            .find(|p| p.id == id)
            .is_some_and(|p| p.pids.iter().any(|r| r.pid == me))
    };
    assert!(
        held_by_me(&full, prog_id),
        "the full collection reads owners"
    );
    assert!(
        !held_by_me(&att, prog_id),
        "no owners read for a lone program"
    );

    // A second program on the same hook: stacked, so the loaders are read after all.
    let second = common::maps::load_prog_using(
        libbpf_sys::BPF_PROG_TYPE_SCHED_CLS,
        &format!("dps_rc_q{tag}"),
        &[],
    );
    let second_id = dpscope::bpf::iters::prog_id_of(second.as_fd());
    let _link2 = common::LinkFd::create(second.as_fd(), ifindex, libbpf_sys::BPF_TCX_INGRESS, 0);
    let full = collector(&fs, Want::ALL).collect();
    let att = collector(&fs, Want::for_pane(PaneId::Attachments)).collect();
    assert!(held_by_me(&att, prog_id) && held_by_me(&att, second_id));
    let ours = |s: &dpscope::model::Snapshot| {
        s.attachments
            .iter()
            .filter(|a| a.ifindex == ifindex)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(ours(&att), ours(&full), "stacked rows and their flags");
    assert!(
        ours(&att).iter().all(|a| !a.warnings.is_empty()),
        "flagged stacked"
    );
}
