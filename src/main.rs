//! `dpscope` command line: live explorer, snapshot, record, replay, show.

use anyhow::Context;
use clap::Parser;
use dpscope::bpf::collector::{self, Collector, Config};
use dpscope::cli::{
    check_probes, interval_secs, pane_named, secs, BadInput, Cli, Command, Format, FromFile, Global,
};
use dpscope::model::{self, io as snapio, PaneId, Snapshot};
use dpscope::pane::conntrack::stream::{ServiceNames, StreamFormat, Writer as StreamWriter};

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

mod flight;

fn main() -> ExitCode {
    let started = std::time::Instant::now();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    quiet_libbpf();
    match run(cli, started) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The UI ended by a signal and gave the terminal back: the conventional status.
            if let Some(sig) = e.downcast_ref::<dpscope::signals::Signalled>() {
                return ExitCode::from(sig.exit_status());
            }
            let bad_input = e.chain().any(|c| {
                c.downcast_ref::<BadInput>().is_some()
                    || c.downcast_ref::<snapio::LoadError>().is_some()
            });
            // One line: the outermost context and its causes joined.
            let msg = e
                .chain()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(": ");
            // Messages quote file names and file content: made safe for the terminal.
            let msg = dpscope::sanitize::text(&msg);
            let _ = writeln!(std::io::stderr(), "dpscope: error: {msg}");
            ExitCode::from(if bad_input { 2 } else { 1 })
        }
    }
}

/// libbpf prints to stderr by default, which would corrupt the full-screen UI.
fn quiet_libbpf() {
    if std::env::var_os("DPSCOPE_LIBBPF_DEBUG").is_some() {
        return;
    }
    libbpf_rs::set_print(None);
    // Test builds only: libbpf's log (verifier output) on stderr, for the QEMU guest.
    #[cfg(feature = "vmtest")]
    if std::env::var_os("DPSCOPE_LIBBPF_LOG").is_some() {
        libbpf_rs::set_print(Some((libbpf_rs::PrintLevel::Debug, |_, m| eprint!("{m}"))));
    }
}

/// The command line with the config file's values filled in where no flag was given.
fn with_config_file(g: Global) -> anyhow::Result<(Global, FromFile)> {
    match dpscope::config::load().map_err(BadInput)? {
        Some((path, c)) => Ok(dpscope::cli::merge_config(g, &path, c)?),
        None => Ok((g, FromFile::default())),
    }
}

fn config(g: &Global, all_details: bool) -> anyhow::Result<Config> {
    let interval = interval_secs(g)?;
    Ok(Config {
        bpffs_roots: if g.bpffs.is_empty() {
            collector::default_bpffs_roots()
        } else {
            g.bpffs.clone()
        },
        stats: !g.no_stats,
        interval: Duration::try_from_secs_f64(interval).unwrap_or(Duration::from_secs(1)),
        all_details,
        program_calls: true,
        fast_first: false,
        one_shot: false,
        probes: !g.no_probes,
        probes_off_why: None,
        only_probes: g.probes.clone(),
        tc_ifaces: g.tc_ifaces.clone(),
        xdp_ifaces: g.xdp_ifaces.clone(),
        want: collector::Want::ALL,
    })
}

fn require_privileges() -> anyhow::Result<()> {
    collector::check_privileges().map_err(anyhow::Error::msg)
}

fn run(cli: Cli, started: std::time::Instant) -> anyhow::Result<()> {
    check_probes(&cli.global.probes, "--probe")?;
    let (g, file) = with_config_file(cli.global.clone())?;
    // Checked here so a bad interval (flag or config file) fails every command the same way.
    let interval = interval_secs(&g)?;
    let theme = dpscope::cli::theme(&g)?;
    // Every value checked before anything starts (also what the fuzz target `cli` drives).
    dpscope::cli::check(&g, cli.command.as_ref())?;
    let no_color = g.no_color || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let ui = dpscope::app::UiOptions {
        no_color,
        theme,
        interval_ms: (interval * 1000.0) as u64,
        exit_after_first_frame: g.bench_first_frame.then_some(started),
        start_pane: match &g.pane {
            Some(p) => Some(pane_named(p)?),
            None => None,
        },
        dump_dir: g.dump_dir.clone(),
        record_compact: file.record_compact,
        keymap: std::sync::Arc::new(file.keymap),
        mouse: g.mouse,
        bpffs_roots: None,
    };
    match cli.command.unwrap_or(Command::Live) {
        #[cfg(feature = "vmtest")]
        Command::VmtestDeny { secs } => {
            dpscope::bpf::denials::vmtest::hold_test_denier(secs).map_err(anyhow::Error::msg)
        }
        Command::Live => {
            let mut cfg = config(&g, false)?;
            let mut ui = ui;
            ui.bpffs_roots = Some(cfg.bpffs_roots.clone());
            cfg.fast_first = true;
            cfg.want = collector::Want::live(ui.start_pane.unwrap_or(PaneId::ALL[0]));
            require_privileges()?;
            let (updates, requests, _thread) = collector::spawn(cfg);
            dpscope::tui::run(dpscope::tui::Source::Live { updates, requests }, ui)
        }
        Command::Replay { file } if flight::is_bundle(&file) => {
            let bundle =
                dpscope::model::bundle::load(&file).map_err(|e| BadInput(e.to_string()))?;
            dpscope::tui::run(dpscope::tui::Source::Bundle(bundle), ui)
        }
        Command::Replay { file } => {
            let loaded = flight::load(&file)?;
            dpscope::tui::run(
                dpscope::tui::Source::Replay {
                    path: file.display().to_string(),
                    dropped: loaded.dropped_summary(),
                    snapshots: loaded.snapshots,
                    skipped: loaded.skipped,
                },
                ui,
            )
        }
        Command::Diff {
            nodes: Some(dir),
            json,
            ..
        } => flight::diff_nodes(&dir, json),
        Command::Diff { a, b, json, .. } => {
            let a = a.context("diff needs two snapshots, or --nodes BUNDLE_DIR")?;
            let (sa, sb) = match b {
                Some(b) => (last_snapshot(&a)?, last_snapshot(&b)?),
                None => first_and_last(&a)?,
            };
            let d = model::diff::diff(&sa, &sb);
            let text = if json {
                let mut t =
                    dpscope::sanitize::to_json_string_pretty(&d).context("encoding the diff")?;
                t.push('\n');
                t
            } else {
                d.to_text()
            };
            write_out(None, &text)
        }
        Command::Snapshot {
            output,
            duration,
            details,
        } => {
            let wait = secs(duration, "--duration")?;
            let cfg = config(&g, details)?;
            require_privileges()?;
            let snap = collect_after(cfg, wait);
            let text = snapio::to_json_pretty(&snap);
            write_out(output.as_deref(), &text)
        }
        Command::Record {
            output,
            duration,
            ring_size,
            every,
            compact,
        } => {
            let total = duration.map(|d| secs(d, "--duration")).transpose()?;
            let every = secs(every, "--every")?.max(Duration::from_millis(100));
            let cfg = config(&g, false)?;
            match ring_size {
                Some(mib) => {
                    let bytes = dpscope::cli::ring_bytes(mib)?;
                    require_privileges()?;
                    flight::record_ring(cfg, &output, bytes, total, every)
                }
                None => {
                    require_privileges()?;
                    record(
                        cfg,
                        &output,
                        total.unwrap_or(Duration::ZERO),
                        every,
                        compact,
                    )
                }
            }
        }
        Command::History { dir, since, output } => flight::history(&dir, since.as_deref(), output),
        Command::Show {
            pane,
            json,
            format,
            from,
            duration,
        } => {
            let pane = pane_named(&pane)?;
            if pane == PaneId::Cluster {
                return Err(BadInput(
                    dpscope::text::NOT_A_BUNDLE.replace("one row", "the Cluster pane has one row"),
                )
                .into());
            }
            let format = if json {
                Format::Json
            } else {
                format.unwrap_or(Format::Text)
            };
            let ct_stream = (pane == PaneId::Conntrack)
                .then(|| ct_stream_format(format))
                .flatten();
            if let (Some(f), None) = (ct_stream, &from) {
                // Straight from the kernel to stdout, formatted while the next batch is read.
                let roots = config(&g, false)?.bpffs_roots;
                require_privileges()?;
                let src = dpscope::bpf::cilium::ct_stream::open(
                    &roots,
                    &dpscope::bpf::cilium::Options::default(),
                );
                return show_conntrack_live(&src, f);
            }
            let snap = match from {
                Some(path) => {
                    let loaded = load_reporting(&path)?;
                    loaded
                        .snapshots
                        .into_iter()
                        .last()
                        .context("recording holds no snapshot")?
                }
                None => {
                    let probes = dpscope::pane::get(pane).probes();
                    let default_wait = if probes.is_empty() { 0.0 } else { 2.0 };
                    let wait = secs(duration.unwrap_or(default_wait), "--duration")?;
                    let mut cfg = config(&g, false)?;
                    // Helper lists appear only in the programs pane's JSON; naming them costs a
                    // fetch of every program's instructions and a symbolizer load.
                    cfg.program_calls = pane == PaneId::Programs && format == Format::Json;
                    // Only what the pane prints: `show node` reads no map contents.
                    cfg.want = collector::Want::for_pane(pane);
                    cfg.one_shot = true;
                    // Load only the probes this pane shows: each load parses the kernel BTF.
                    if probes.is_empty() {
                        cfg.probes = false;
                        cfg.probes_off_why = Some(format!(
                            "`show {}` loads no probes (the live UI, `snapshot` and `record` do)",
                            pane.name()
                        ));
                    } else if cfg.only_probes.is_empty() {
                        cfg.only_probes = probes.iter().map(|p| p.to_string()).collect();
                    }
                    require_privileges()?;
                    collect_after(cfg, wait)
                }
            };
            if let Some(f) = ct_stream {
                return show_conntrack_saved(&snap, f);
            }
            show(pane, &snap, format)
        }
    }
}

/// `show --json` of every pane: compact into a pipe or a file (bpftool `-j`), pretty on a
/// terminal (`-p`).
fn json_pretty() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal()
}

/// The streamed form of `show conntrack` for a format, if it has one (the table and Markdown
/// are sorted, so they need the whole table first).
fn ct_stream_format(f: Format) -> Option<StreamFormat> {
    match f {
        Format::Text => Some(StreamFormat::Cilium),
        Format::Json => Some(StreamFormat::Json {
            pretty: json_pretty(),
        }),
        Format::Jsonl => Some(StreamFormat::Jsonl),
        Format::Csv => Some(StreamFormat::Csv),
        Format::Table | Format::Md | Format::Dot => None,
    }
}

/// `show conntrack` on the live node: every CT map streamed to stdout.
fn show_conntrack_live(
    src: &dpscope::bpf::cilium::ct_stream::CtSource,
    format: StreamFormat,
) -> anyhow::Result<()> {
    let names = ServiceNames::new(&src.services);
    let unavailable = src.unavailable.as_deref();
    let mut warnings = src.warnings.clone();
    let r = stream_out(format, &names, unavailable, &mut |sink| {
        let done = src.stream(sink)?;
        warnings.extend(done.capped);
        warnings.extend(done.undecodable);
        Ok(())
    });
    for w in &warnings {
        let w = dpscope::sanitize::text(w);
        let _ = writeln!(std::io::stderr(), "dpscope: warning: {w}");
    }
    r
}

/// `show conntrack --from FILE`: the saved table in the same forms.
fn show_conntrack_saved(snap: &Snapshot, format: StreamFormat) -> anyhow::Result<()> {
    let names = ServiceNames::new(&snap.services);
    let why = if snap.conntrack.is_empty() {
        snap.unavailable_reason(PaneId::Conntrack.name())
    } else {
        None
    };
    stream_out(format, &names, why, &mut |sink| {
        snap.conntrack.iter().for_each(&mut *sink);
        Ok(())
    })
}

/// Where `stream_out` gets its entries: a function that passes each to the sink it is given.
type Produce<'a> = dyn FnMut(&mut dyn FnMut(&dpscope::model::CtEntry)) -> std::io::Result<()> + 'a;

/// Formatted blocks of this size go to the writer thread.
const STREAM_BLOCK: usize = 1 << 20;

/// Write entries as `produce` passes them to its sink: this thread formats, a writer thread
/// writes the finished blocks to stdout, so the output overlaps the formatting (and the
/// formatting the kernel read). A closed pipe (`| head`) ends the output quietly.
fn stream_out(
    format: StreamFormat,
    names: &ServiceNames,
    unavailable: Option<&str>,
    produce: &mut Produce,
) -> anyhow::Result<()> {
    use std::sync::mpsc;
    let (full_tx, full_rx) = mpsc::sync_channel::<Vec<u8>>(4);
    let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
    let (produced, written) = std::thread::scope(|s| {
        let writer = s.spawn(move || -> std::io::Result<()> {
            let mut out = std::io::stdout().lock();
            for mut block in full_rx {
                out.write_all(&block)?;
                block.clear();
                let _ = free_tx.send(block);
            }
            out.flush()
        });
        let mut w = StreamWriter::new(format, names);
        let mut buf = Vec::with_capacity(STREAM_BLOCK + 4096);
        w.begin(&mut buf);
        let mut closed = false;
        let produced = produce(&mut |e| {
            if closed {
                return;
            }
            w.entry(e, &mut buf);
            if buf.len() >= STREAM_BLOCK {
                let next = free_rx
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(STREAM_BLOCK + 4096));
                closed = full_tx.send(std::mem::replace(&mut buf, next)).is_err();
            }
        });
        w.end(&mut buf);
        if w.count() == 0 && format == StreamFormat::Cilium {
            if let Some(why) = unavailable {
                let why = dpscope::sanitize::text(why);
                buf.extend_from_slice(format!("(conntrack unavailable: {why})\n").as_bytes());
            }
        }
        let _ = full_tx.send(buf);
        drop(full_tx);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("writer thread failed")));
        (produced, written)
    });
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        r => r.context("writing to stdout")?,
    }
    produced.context("reading conntrack")?;
    Ok(())
}

/// Load a snapshot file for `show --from` and `diff`, saying on stderr which lines of a
/// recording were skipped (replay shows it on screen).
fn load_reporting(path: &std::path::Path) -> anyhow::Result<snapio::Loaded> {
    // A flight recorder's ring directory too.
    let loaded = flight::load(path)?;
    let shown = dpscope::sanitize::text(&path.to_string_lossy()).into_owned();
    for s in [loaded.skipped_summary(), loaded.dropped_summary()]
        .into_iter()
        .flatten()
    {
        let s = dpscope::sanitize::text(&s).into_owned();
        let _ = writeln!(std::io::stderr(), "dpscope: warning: {shown}: {s}");
    }
    Ok(loaded)
}

/// The newest snapshot of a file (a single snapshot, or the last of a recording).
fn last_snapshot(path: &std::path::Path) -> anyhow::Result<Snapshot> {
    let loaded = load_reporting(path)?;
    loaded
        .snapshots
        .into_iter()
        .last()
        .ok_or_else(|| BadInput(format!("{}: recording holds no snapshot", path.display())).into())
}

/// The first and the last snapshot of a recording (`diff REC`).
fn first_and_last(path: &std::path::Path) -> anyhow::Result<(Snapshot, Snapshot)> {
    let mut snaps = load_reporting(path)?.snapshots;
    if snaps.len() < 2 {
        return Err(BadInput(format!(
            "{}: holds {} snapshot(s); diff of one file needs a recording of at least two (or give two files)",
            path.display(),
            snaps.len()
        ))
        .into());
    }
    let last = snaps.pop();
    match (snaps.into_iter().next(), last) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(BadInput(format!("{}: recording holds no snapshot", path.display())).into()),
    }
}

/// Print one pane. JSON is streamed to stdout (a 500k-entry table is hundreds of MB of text).
fn show(pane: PaneId, snap: &Snapshot, format: Format) -> anyhow::Result<()> {
    if format == Format::Dot {
        if pane != PaneId::Tailcalls {
            return Err(BadInput(format!("--format dot is for tailcalls, not {pane}")).into());
        }
        return write_out(None, &dpscope::pane::tailcalls::dot(snap));
    }
    if format == Format::Jsonl {
        return show_jsonl(pane, snap);
    }
    if format == Format::Json {
        let stdout = std::io::stdout();
        // DEL, C1 and bidi controls as `\u` escapes: still the same strings to a JSON reader.
        let mut w = dpscope::sanitize::JsonSafe::new(std::io::BufWriter::with_capacity(
            1 << 16,
            stdout.lock(),
        ));
        let r = if json_pretty() {
            // For a reader at a terminal: the same JSON re-indented (bpftool `-p`).
            let mut compact = Vec::new();
            dpscope::pane::get(pane)
                .json(snap, &mut compact)
                .and_then(|_| serde_json::from_slice::<serde_json::Value>(&compact))
                .and_then(|v| serde_json::to_writer_pretty(&mut w, &v))
        } else {
            // Into a pipe or a file: compact, straight from the snapshot (bpftool `-j`).
            dpscope::pane::get(pane).json(snap, &mut w)
        };
        let r = r
            .map_err(std::io::Error::from)
            .and_then(|_| w.write_all(b"\n"))
            .and_then(|_| w.flush());
        return match r {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            r => r.context("writing to stdout"),
        };
    }
    if format == Format::Text {
        if let Some(t) = dpscope::pane::dbg::text(pane, snap) {
            return write_out(None, &t);
        }
    }
    let f = match format {
        Format::Csv => dpscope::pane::plain::Format::Csv,
        Format::Md => dpscope::pane::plain::Format::Markdown,
        _ => dpscope::pane::plain::Format::Text,
    };
    // Each row written as it is formatted: the rows are never all held as text (half a
    // million conntrack rows were 890 MB).
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let r = dpscope::pane::plain::write_pane(pane, snap, f, &mut out).and_then(|rows| {
        if rows == 0 {
            if let Some(why) = snap.unavailable_reason(pane.name()) {
                let why = dpscope::sanitize::text(why);
                writeln!(out, "({pane} unavailable: {why})")?;
            }
        }
        out.flush()
    });
    match r {
        // A closed pipe (`| head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("writing to stdout"),
    }
}

/// A pane's JSON with each element of its array on a line of its own (an object pane, such
/// as node, is one line).
fn show_jsonl(pane: PaneId, snap: &Snapshot) -> anyhow::Result<()> {
    let mut json = Vec::new();
    dpscope::pane::get(pane)
        .json(snap, &mut json)
        .context("encoding JSON")?;
    let v: serde_json::Value = serde_json::from_slice(&json).context("encoding JSON")?;
    let items = match v {
        serde_json::Value::Array(a) => a,
        other => vec![other],
    };
    let mut text = String::new();
    for item in &items {
        text.push_str(&dpscope::sanitize::to_json_string(item).context("encoding JSON")?);
        text.push('\n');
    }
    write_out(None, &text)
}

fn collect_after(cfg: Config, wait: Duration) -> Snapshot {
    let mut c = Collector::new(cfg);
    if !wait.is_zero() {
        std::thread::sleep(wait);
    }
    c.collect()
}

fn record(
    cfg: Config,
    path: &std::path::Path,
    total: Duration,
    every: Duration,
    compact: bool,
) -> anyhow::Result<()> {
    // Never through a symlink; under sudo as the invoking user (`safe_fs`).
    let file = dpscope::safe_fs::create_output(path).map_err(BadInput)?;
    let mut w = dpscope::model::recording::Writer::new(
        dpscope::sanitize::JsonSafe::new(std::io::BufWriter::new(file)),
        compact,
    );
    let mut c = Collector::new(cfg);
    let start = std::time::Instant::now();
    loop {
        let snap = c.collect();
        w.write(&snap).context("writing recording")?;
        let next =
            every.mul_f64(((start.elapsed().as_secs_f64() / every.as_secs_f64()).floor()) + 1.0);
        if next > total {
            return Ok(());
        }
        std::thread::sleep(next.saturating_sub(start.elapsed()));
    }
}

fn write_out(path: Option<&std::path::Path>, text: &str) -> anyhow::Result<()> {
    match path {
        Some(p) => {
            // Never through a symlink; under sudo as the invoking user (`safe_fs`).
            let mut f = dpscope::safe_fs::create_output(p).map_err(BadInput)?;
            f.write_all(text.as_bytes())
                .map_err(|e| BadInput(format!("cannot write {}: {e}", p.display())).into())
        }
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                Ok(()) => Ok(()),
                // A closed pipe (`| head`) is not an error worth reporting.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(e).context("writing to stdout"),
            }
        }
    }
}
