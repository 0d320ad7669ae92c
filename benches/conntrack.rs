//! Benchmark: a full Cilium conntrack table (`cilium_ct4_global`, 524,288 entries, Cilium's exact
//! type and sizes) pinned in a private bpffs, next to an empty per-endpoint policy map (which
//! tells the release, as on any Cilium node); dpscope's read + decode side by side with
//! `bpftool map dump pinned … -j` on the same map in the same run, and what the table costs the
//! UI (a keypress, a re-sort, a typed filter character, a new snapshot) on a 120x40 frame.
//! Run as root: `cargo bench --bench conntrack`. Results are recorded in docs/benchmarks.md.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
mod common;

use common::cilium_node::{ct_key, ct_value, put_batch};
use common::{first_frame, median, time_cmd};
use std::time::{Duration, Instant};

const ENTRIES: u32 = 524_288;

struct Mount(PathBuf);
impl Drop for Mount {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH);
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn main() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("conntrack benchmark needs root");
        return;
    }
    libbpf_rs::set_print(None);
    let bin = env!("CARGO_BIN_EXE_dpscope");
    let dir = std::env::temp_dir().join(format!("dpscope-ctbench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    nix::mount::mount(
        Some("bpf"),
        &dir,
        Some("bpf"),
        nix::mount::MsFlags::empty(),
        None::<&str>,
    )
    .expect("mount bpffs");
    let mount = Mount(dir.clone());
    std::fs::create_dir_all(dir.join("tc/globals")).unwrap();
    let name = CString::new("cilium_ct4_glob").unwrap();
    // SAFETY: plain syscall wrapper.
    let fd = unsafe {
        libbpf_sys::bpf_map_create(
            libbpf_sys::BPF_MAP_TYPE_LRU_HASH,
            name.as_ptr(),
            14,
            56,
            ENTRIES,
            std::ptr::null(),
        )
    };
    assert!(fd >= 0, "create map: {fd}");
    // SAFETY: fresh fd.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let t = Instant::now();
    for chunk in (0..ENTRIES).collect::<Vec<_>>().chunks(16384) {
        let keys: Vec<u8> = chunk.iter().flat_map(|&i| ct_key(i)).collect();
        let vals: Vec<u8> = chunk.iter().flat_map(|&i| ct_value(i)).collect();
        put_batch(&fd, &keys, &vals, chunk.len() as u32);
    }
    // Every Cilium node has per-endpoint policy maps; one (empty, main's 12-byte value) tells
    // the release, so entries carry its short layout label as on a real node.
    let pname = CString::new("cilium_policy_v").unwrap();
    let popts = libbpf_sys::bpf_map_create_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_map_create_opts>() as _,
        map_flags: libbpf_sys::BPF_F_NO_PREALLOC,
        ..Default::default()
    };
    // SAFETY: NUL-terminated name, sized options.
    let pfd = unsafe {
        libbpf_sys::bpf_map_create(
            libbpf_sys::BPF_MAP_TYPE_LPM_TRIE,
            pname.as_ptr(),
            12,
            12,
            16384,
            &popts,
        )
    };
    assert!(pfd >= 0, "create policy map: {pfd}");
    // SAFETY: fresh fd.
    let pfd = unsafe { OwnedFd::from_raw_fd(pfd) };
    let ppin = CString::new(
        dir.join("tc/globals/cilium_policy_v2_00042")
            .as_os_str()
            .as_encoded_bytes(),
    )
    .unwrap();
    // SAFETY: valid fd and path.
    let rc = unsafe { libbpf_sys::bpf_obj_pin(pfd.as_raw_fd(), ppin.as_ptr()) };
    assert_eq!(rc, 0, "pin policy map");
    drop(pfd);
    let pin = dir.join("tc/globals/cilium_ct4_global");
    let cpin = CString::new(pin.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: valid fd and path.
    let pinned = unsafe { libbpf_sys::bpf_obj_pin(fd.as_raw_fd(), cpin.as_ptr()) };
    assert_eq!(pinned, 0, "pin");
    let fill = t.elapsed();

    // The batch read alone (kernel copy-out into two flat buffers), for the breakdown.
    let mut reads = vec![];
    let mut dumped = 0;
    for _ in 0..3 {
        let t = Instant::now();
        dumped = {
            let mut info = libbpf_sys::bpf_map_info::default();
            let mut len = std::mem::size_of::<libbpf_sys::bpf_map_info>() as u32;
            // SAFETY: info is a bpf_map_info for a map fd.
            unsafe {
                libbpf_sys::bpf_obj_get_info_by_fd(
                    fd.as_raw_fd(),
                    &mut info as *mut _ as *mut _,
                    &mut len,
                )
            };
            dpscope::bpf::cilium::read::dump(&fd, &info, 1 << 21)
                .map(|d| d.len())
                .unwrap_or(0)
        };
        reads.push(t.elapsed());
    }
    let read_only = median(reads);
    if std::env::var_os("DPSCOPE_BENCH_RECORD").is_some() {
        // Only the live UI's CPU while `R` records with the Conntrack pane closed.
        record_cpu(bin, &dir);
        drop(fd);
        drop(mount);
        return;
    }
    if std::env::var_os("DPSCOPE_BENCH_REPLAY").is_some() {
        // Only the memory of replaying an export of this table against the live UI on it.
        replay_vs_live(bin, &dir);
        drop(fd);
        drop(mount);
        return;
    }
    // In process: the decoder path alone (no programs, maps or attachments).
    let roots = vec![dir.clone()];
    let mut inproc = vec![];
    let mut table = vec![];
    for _ in 0..3 {
        let t = Instant::now();
        let c = dpscope::bpf::cilium::collect(&roots, &[], &[], &[]);
        inproc.push(t.elapsed());
        table = c.conntrack;
    }
    inproc.sort();
    let rows = table.len();
    if std::env::var_os("DPSCOPE_BENCH_SHOW_ONLY").is_some() {
        // Only `show conntrack` in each format against bpftool, output to a file.
        println!(
            "batch read alone: {:.0} ms; read + decode in process: {:.0} ms ({rows} rows)",
            read_only.as_secs_f64() * 1e3,
            inproc[1].as_secs_f64() * 1e3
        );
        show_vs_bpftool(bin, &dir, &pin, rows);
        drop(fd);
        drop(mount);
        return;
    }
    let scaling = down_scaling(&table);
    let ui = ui_costs(table);
    if std::env::var_os("DPSCOPE_BENCH_UI_ONLY").is_some() {
        // Only the in-process UI costs (no bpftool or `show` runs): quicker on a shared machine.
        print_ui(rows, &ui);
        print_scaling(&scaling);
        drop(fd);
        drop(mount);
        return;
    }

    let root = dir.display().to_string();
    let runs = 3;
    let (d_base, _, d_base_rss) = time_cmd(
        bin,
        &["--bpffs", "/nonexistent", "show", "node", "--json"],
        runs,
    );
    let mut ff = vec![];
    for _ in 0..3 {
        if let Some(d) = first_frame(bin, &["--bpffs", &root, "--pane", "conntrack"]) {
            ff.push(d);
        }
    }

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("## conntrack ({ENTRIES} entries in cilium_ct4_global, LRU hash 14 B → 56 B)\n");
    println!("fill: {:.1} s; decoded rows: {rows}\n", fill.as_secs_f64());
    println!("| measurement | dpscope | bpftool |");
    println!("|---|---|---|");
    if !ff.is_empty() {
        println!(
            "| live UI: start → first conntrack frame with the table (median of {}) | {:.0} ms | |",
            ff.len(),
            ms(median(ff))
        );
    }
    println!(
        "| batch read alone ({dumped} entries into flat buffers) | {:.0} ms | |",
        ms(read_only)
    );
    println!(
        "| read + decode in process (`cilium::collect`, median of 3) | {:.0} ms | |",
        ms(inproc[1])
    );
    println!(
        "| dpscope baseline (`show node`, no Cilium maps) | {:.0} ms, {} MB peak RSS | |",
        ms(d_base),
        d_base_rss / 1024
    );
    show_vs_bpftool(bin, &dir, &pin, rows);
    print_ui(rows, &ui);
    print_scaling(&scaling);
    drop(fd);
    drop(mount);
    let _ = Path::new("/");
}

/// `show conntrack` in every streamed format and the sorted table, against `bpftool map dump
/// -j` on the same pinned map, each written to a file, in turn, in the same run; then a check
/// that every output carries every entry.
fn show_vs_bpftool(bin: &str, dir: &Path, pin: &Path, rows: usize) {
    let root = dir.display().to_string();
    let p = pin.display().to_string();
    let show = |f: &'static str| -> Vec<&str> {
        vec![
            "--bpffs",
            Box::leak(root.clone().into_boxed_str()),
            "show",
            "conntrack",
            "--format",
            f,
        ]
    };
    // Another dpscope binary (`DPSCOPE_BENCH_BEFORE=PATH`, e.g. a build of the commit before a
    // change) runs the sorted table too, in the same run, for a before/after row.
    let before: Option<&'static str> = std::env::var("DPSCOPE_BENCH_BEFORE")
        .ok()
        .map(|p| &*Box::leak(p.into_boxed_str()));
    let mut cmds: Vec<(&str, Vec<&str>)> = vec![
        (
            "bpftool",
            vec![
                "map",
                "dump",
                "pinned",
                Box::leak(p.clone().into_boxed_str()),
                "-j",
            ],
        ),
        (bin, show("json")),
        (bin, show("text")),
        (bin, show("jsonl")),
        (bin, show("csv")),
        (bin, show("table")),
    ];
    if let Some(b) = before {
        cmds.push((b, show("table")));
    }
    let runs = 3;
    let t = common::time_to_file(&cmds, runs);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let bpftool = t[0].0;
    println!("\n`show conntrack` end to end, stdout to a file, vs `bpftool map dump pinned … -j` (same map, same run, median of {runs}, commands in turn):\n");
    println!("| command | time | output | peak RSS | bpftool ÷ dpscope |");
    println!("|---|---|---|---|---|");
    let names = [
        "`bpftool map dump pinned … -j`",
        "`show conntrack --json` (compact JSON array)",
        "`show conntrack` (text: `cilium-dbg bpf ct list` lines)",
        "`show conntrack --format jsonl`",
        "`show conntrack --format csv`",
        "`show conntrack --format table` (sorted table, rows streamed)",
        "`show conntrack --format table`, `DPSCOPE_BENCH_BEFORE` binary",
    ];
    for (name, (d, size, rss)) in names.iter().zip(&t) {
        println!(
            "| {name} | {:.0} ms | {} MB | {} MB | {:.1}× |",
            ms(*d),
            size >> 20,
            rss / 1024,
            bpftool.as_secs_f64() / d.as_secs_f64()
        );
    }
    // Same data: every entry in every output.
    let count =
        |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).filter(|w| *w == needle).count();
    let b = common::output_of("bpftool", &cmds[0].1);
    let j = common::output_of(bin, &cmds[1].1);
    let x = common::output_of(bin, &cmds[2].1);
    let entries_b = count(&b, b"\"key\":");
    let entries_j = count(&j, b"{\"table\":");
    let entries_x = x
        .split(|&c| c == b'\n')
        .filter(|l| l.starts_with(b"TCP "))
        .count();
    println!(
        "\nentries: bpftool {entries_b}, JSON {entries_j}, text {entries_x} (decoded in process: {rows})"
    );
    assert_eq!(entries_j, rows);
    assert_eq!(entries_x, rows);
    assert_eq!(entries_b, rows);
}

/// CPU of the live UI on the Programs pane (the Conntrack pane closed) on the full table: idle,
/// then while `R` records, with complete lines and with compact lines (each recording reads
/// the CT maps at its start and then every `RECORDING_CT_EVERY`), and what it wrote.
fn record_cpu(bin: &str, bpffs: &Path) {
    let root = bpffs.display().to_string();
    let secs = 65.0;
    println!(
        "## the live UI recording (`R`) on the full {ENTRIES}-entry table, Programs pane open
"
    );
    println!(
        "| run (`--no-probes --interval 1`, {secs:.0} s measured) | CPU of one core | written | lines | lines with the table |"
    );
    println!("|---|---|---|---|---|");
    for compact in [false, true] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dump = tmp.path().join("dumps");
        let cfg = tmp.path().join("config.toml");
        std::fs::write(&cfg, format!("record_compact = {compact}\n")).expect("config");
        let dump_s = dump.display().to_string();
        let cfg_s = cfg.display().to_string();
        let ui = common::LiveUi::start(
            bin,
            &[
                "--bpffs",
                &root,
                "--no-probes",
                "--pane",
                "programs",
                "--interval",
                "1",
                "--dump-dir",
                &dump_s,
            ],
            &[("DPSCOPE_CONFIG", &cfg_s)],
        );
        std::thread::sleep(Duration::from_secs(5));
        if !compact {
            let idle = ui.cpu_over(secs).unwrap_or(f64::NAN);
            println!("| not recording | {idle:.1} % | | | |");
        }
        ui.keys(&["R"]);
        let cpu = ui.cpu_over(secs).unwrap_or(f64::NAN);
        ui.keys(&["R"]);
        std::thread::sleep(Duration::from_secs(3));
        drop(ui);
        let file = std::fs::read_dir(&dump)
            .ok()
            .and_then(|mut d| d.find_map(|e| e.ok().map(|e| e.path())));
        let (bytes, lines, with_table) = file
            .map(|f| {
                use std::io::BufRead;
                let r = std::io::BufReader::new(std::fs::File::open(&f).expect("recording"));
                let (mut bytes, mut lines, mut with) = (0u64, 0usize, 0usize);
                for l in r.split(b'\n').map_while(Result::ok) {
                    bytes += l.len() as u64 + 1;
                    lines += 1;
                    // A line with entries has `"conntrack":[{`.
                    if l.windows(14).any(|w| w == b"\"conntrack\":[{") {
                        with += 1;
                    }
                }
                (bytes, lines, with)
            })
            .unwrap_or_default();
        let form = if compact {
            "compact lines"
        } else {
            "complete lines"
        };
        println!(
            "| recording, {form} | {cpu:.1} % | {} MB | {lines} | {with_table} |",
            bytes >> 20
        );
    }
}

/// Peak RSS of the live UI on the pinned table (several refreshes: the current and the previous
/// snapshot held, as in use) against `replay` of a `snapshot -o` export of the same table
/// (to its first frame: the whole file loaded), and the headless `show --from` load.
fn replay_vs_live(bin: &str, bpffs: &Path) {
    let root = bpffs.display().to_string();
    let tmp = tempfile::tempdir().expect("tempdir");
    let export = tmp.path().join("ct-export.json");
    let ex = export.display().to_string();
    let t = Instant::now();
    let (_, _, snap_rss) = time_cmd(
        bin,
        &[
            "--bpffs",
            &root,
            "--no-probes",
            "snapshot",
            "--duration",
            "0",
            "-o",
            &ex,
        ],
        1,
    );
    let export_s = t.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&export).map(|m| m.len()).unwrap_or(0);
    let live = common::rss_in_tmux(
        bin,
        &[
            "--bpffs",
            &root,
            "--no-probes",
            "--pane",
            "conntrack",
            "--interval",
            "1",
        ],
        Some(Duration::from_secs(30)),
    );
    let replay = common::rss_in_tmux(
        bin,
        &["replay", &ex, "--pane", "conntrack", "--bench-first-frame"],
        None,
    );
    let (show_t, _, show_rss) = time_cmd(
        bin,
        &["show", "conntrack", "--from", &ex, "--format", "csv"],
        1,
    );
    println!("## replay of a {ENTRIES}-entry conntrack export vs the live UI on the same table\n");
    println!(
        "export: `snapshot -o`, {} MB pretty JSON, {export_s:.1} s, {} MB peak RSS\n",
        bytes >> 20,
        snap_rss / 1024
    );
    println!("| run | peak RSS | time |");
    println!("|---|---|---|");
    println!(
        "| live UI on the pinned table, conntrack pane, 30 s at --interval 1 | {} MB | |",
        live.0 / 1024
    );
    println!(
        "| `replay EXPORT` to its first frame (file loaded, table drawn) | {} MB | {:.2} s |",
        replay.0 / 1024,
        replay.1
    );
    println!(
        "| `show conntrack --from EXPORT --format csv` (headless load + print) | {} MB | {:.2} s |",
        show_rss / 1024,
        show_t.as_secs_f64()
    );
    println!(
        "\nreplay / live peak RSS: {:.2}× (target < 2×)",
        replay.0 as f64 / live.0.max(1) as f64
    );
}

fn print_ui(rows: usize, ui: &[(String, Duration)]) {
    println!("\nthe table in the UI (in process, 120x40 frame, release build):\n");
    println!("| action on the conntrack pane ({rows} rows) | time |");
    println!("|---|---|");
    for (what, d) in ui {
        println!("| {what} | {:.1} ms |", d.as_secs_f64() * 1e3);
    }
}

/// What ↓ costs at each table size: `App::update` alone and with its frame.
struct Scaling {
    rows: usize,
    update: Duration,
    with_frame: Duration,
}

fn print_scaling(s: &[Scaling]) {
    println!("\n↓ on the conntrack pane by table size (median of 51 presses, 120x40 frame):\n");
    println!("| rows | `App::update(Down)` alone | ↓ + frame |");
    println!("|---|---|---|");
    for r in s {
        println!(
            "| {} | {:.1} µs | {:.2} ms |",
            r.rows,
            r.update.as_secs_f64() * 1e6,
            r.with_frame.as_secs_f64() * 1e3
        );
    }
}

/// ↓ at 16k, 128k and 512k rows of the same entries: if it costs O(rows on screen), the
/// columns stay flat while the table grows 32×.
fn down_scaling(table: &[dpscope::model::CtEntry]) -> Vec<Scaling> {
    use dpscope::app::{Action, App, UiOptions};
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;
    let mut out = vec![];
    for n in [16_384, 131_072, table.len()] {
        let mut snap = dpscope::model::Snapshot::empty();
        snap.taken_at = "2026-11-21T00:00:00Z".into();
        snap.monotonic_ns = 1;
        snap.conntrack = table[..n.min(table.len())].to_vec().into();
        let mut app = App::with_snapshot(snap, &UiOptions::default());
        app.update(Action::Resize(120, 40));
        app.update(Action::GotoPane(dpscope::model::PaneId::Conntrack));
        let mut term = Terminal::new(TestBackend::new(120, 40)).expect("test backend");
        let _ = term.draw(|f| {
            dpscope::views::draw(f, &app);
        });
        let (mut alone, mut framed) = (vec![], vec![]);
        for _ in 0..51 {
            let t = Instant::now();
            app.update(Action::Down);
            alone.push(t.elapsed());
            let _ = term.draw(|f| {
                dpscope::views::draw(f, &app);
            });
            framed.push(t.elapsed());
        }
        out.push(Scaling {
            rows: n,
            update: median(alone),
            with_frame: median(framed),
        });
    }
    out
}

/// UI costs of a big table: each action is `App::update` + one full frame on a 120x40
/// `TestBackend`, as the event loop does after a key or a snapshot (median of 5 unless noted).
fn ui_costs(table: Vec<dpscope::model::CtEntry>) -> Vec<(String, Duration)> {
    use dpscope::app::{Action, App, UiOptions};
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;
    let mut snap = dpscope::model::Snapshot::empty();
    snap.taken_at = "2026-11-21T00:00:00Z".into();
    snap.monotonic_ns = 1;
    snap.conntrack = table.into();
    let first = snap.clone();
    let next = {
        let mut s = snap.clone();
        s.taken_at = "2026-11-21T00:00:01Z".into();
        s.monotonic_ns = 1_000_000_001;
        for e in std::sync::Arc::make_mut(&mut s.conntrack)
            .iter_mut()
            .step_by(7)
        {
            e.expires_in_s -= 1;
        }
        s
    };
    let pane = dpscope::model::PaneId::Conntrack;
    let mut app = App::with_snapshot(snap, &UiOptions::default());
    app.update(Action::Resize(120, 40));
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("test backend");
    let mut frame = |app: &App| {
        let _ = term.draw(|f| {
            dpscope::views::draw(f, app);
        });
    };
    let mut out = vec![];
    let t = Instant::now();
    app.update(Action::GotoPane(pane));
    frame(&app);
    out.push(("open the pane: first frame".to_string(), t.elapsed()));
    let mut timed = |app: &mut App, actions: &[Action], n: usize| {
        let mut v = vec![];
        for _ in 0..n {
            let t = Instant::now();
            for a in actions {
                app.update(a.clone());
            }
            frame(app);
            v.push(t.elapsed());
        }
        v
    };
    out.push((
        "keypress ↓ (move the selection) + frame".into(),
        median(timed(&mut app, &[Action::Down], 5)),
    ));
    out.push((
        "keypress PgDn + frame".into(),
        median(timed(&mut app, &[Action::PageDown], 5)),
    ));
    // Every column once (10 re-sorts), then the direction.
    let sorts = timed(&mut app, &[Action::SortNext], 10);
    let max = sorts.iter().max().copied().unwrap_or_default();
    out.push((
        "keypress `s` (sort by the next column) + frame, median of the 10 columns".into(),
        median(sorts),
    ));
    out.push(("keypress `s`, slowest column".into(), max));
    out.push((
        "keypress `S` (flip the direction) + frame".into(),
        median(timed(&mut app, &[Action::SortFlip], 5)),
    ));
    out.push((
        "keypress ↓ after the re-sorts + frame".into(),
        median(timed(&mut app, &[Action::Down], 5)),
    ));
    app.update(Action::OpenFilter);
    let typed = timed(&mut app, &[Action::InputChar('4')], 3);
    out.push((
        "filter: one typed character + frame (`4`, `44`, `444`: median of 3)".into(),
        median(typed),
    ));
    app.update(Action::InputCancel);
    let mut snaps = vec![];
    for i in 0..3 {
        // Alternate: every snapshot differs from the one on screen.
        let s = if i % 2 == 0 {
            next.clone()
        } else {
            first.clone()
        };
        let t = Instant::now();
        app.update(Action::Snapshot(Box::new(s)));
        frame(&app);
        snaps.push(t.elapsed());
    }
    out.push((
        "a new snapshot of the same size arrives + frame (median of 3)".into(),
        median(snaps),
    ));
    baseline_and_export_costs(&mut app, &mut frame, &first, &next, &mut out);
    out
}

/// With a baseline set (`d`), and `Ctrl-s`: what the UI task spends, the work done in place
/// (no event loop: `App::jobs` unset, what the UI task ran before) against the work handed to
/// the diff worker and the export thread (`tui::jobs`, as the event loop runs it).
fn baseline_and_export_costs(
    app: &mut dpscope::app::App,
    frame: &mut impl FnMut(&dpscope::app::App),
    first: &dpscope::model::Snapshot,
    next: &dpscope::model::Snapshot,
    out: &mut Vec<(String, Duration)>,
) {
    use dpscope::app::Action;
    use dpscope::tui::jobs::Jobs;
    let alternate = |i: usize| {
        Box::new(if i.is_multiple_of(2) {
            next.clone()
        } else {
            first.clone()
        })
    };
    app.update(Action::ToggleBaseline);
    let mut in_place = vec![];
    for i in 0..3 {
        let s = alternate(i);
        let t = Instant::now();
        app.update(Action::Snapshot(s));
        frame(app);
        in_place.push(t.elapsed());
    }
    out.push((
        "baseline set, a new snapshot arrives + frame: compared on the UI task (before, median of 3)"
            .into(),
        median(in_place),
    ));
    let (jobs, mut rx) = Jobs::start();
    app.jobs = Some(std::sync::Arc::new(jobs));
    let (mut ui, mut ready, mut apply) = (vec![], vec![], vec![]);
    for i in 0..3 {
        let s = alternate(i);
        let t = Instant::now();
        app.update(Action::Snapshot(s));
        frame(app);
        ui.push(t.elapsed());
        let Some(done) = rx.blocking_recv() else {
            break;
        };
        ready.push(t.elapsed());
        let t = Instant::now();
        app.update(done);
        frame(app);
        apply.push(t.elapsed());
    }
    out.push((
        "baseline set, a new snapshot arrives + frame: UI task, compared on the diff worker (now, median of 3)".into(),
        median(ui),
    ));
    out.push((
        "  the snapshot's marks ready from the worker (arrival → result, median of 3)".into(),
        median(ready),
    ));
    out.push((
        "  UI task: apply the finished comparison + frame (median of 3)".into(),
        median(apply),
    ));
    app.update(Action::ToggleBaseline);

    // Ctrl-s: the snapshot as JSON, the pane's rows as CSV and Markdown, the screen.
    let dump = std::env::temp_dir().join(format!("dpscope-ctbench-dump-{}", std::process::id()));
    app.dump_dir = dump.clone();
    app.jobs = Some(std::sync::Arc::new(dpscope::tui::jobs::Inline));
    let t = Instant::now();
    app.update(Action::Export);
    frame(app);
    out.push((
        "Ctrl-s + frame: files written on the UI task (before)".into(),
        t.elapsed(),
    ));
    if let Some(m) = app.message.as_ref().filter(|m| m.error) {
        eprintln!("{}", m.text);
    }
    let _ = std::fs::remove_dir_all(&dump);
    let (jobs, mut rx) = Jobs::start();
    app.jobs = Some(std::sync::Arc::new(jobs));
    let t = Instant::now();
    app.update(Action::Export);
    frame(app);
    out.push((
        "Ctrl-s + frame: UI task, files written on the export thread (now)".into(),
        t.elapsed(),
    ));
    while let Some(a) = rx.blocking_recv() {
        if let Action::Exported(r) = &a {
            out.push(("  export thread: all files written".into(), t.elapsed()));
            if let Err(e) = r {
                eprintln!("export failed: {e}");
            }
            app.update(a);
            break;
        }
    }
    let _ = std::fs::remove_dir_all(&dump);
}
