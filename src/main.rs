//! `dpscope` command line: live explorer, snapshot, record, replay, show.

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use dpscope::bpf::collector::{self, Collector, Config};
use dpscope::model::{self, io as snapio, PaneId, Snapshot};

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

mod flight;

#[derive(Parser, Debug)]
#[command(
    name = "dpscope",
    version,
    about = "Live explorer of a Linux node's eBPF datapath"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Args, Debug, Clone)]
struct Global {
    /// bpffs root searched for pinned objects (repeatable; default /sys/fs/bpf and /run/cilium/bpffs)
    #[arg(long = "bpffs", value_name = "DIR", global = true)]
    bpffs: Vec<PathBuf>,
    /// Live refresh interval in seconds [default: 1, or `interval` in the config file]
    #[arg(long, value_name = "SECS", global = true)]
    interval: Option<f64>,
    /// Do not load dpscope's own probes
    #[arg(long, global = true)]
    no_probes: bool,
    /// Do not enable BPF run-time statistics (run counts and times stay as the kernel has them)
    #[arg(long, global = true)]
    no_stats: bool,
    /// Enable only these own probes (repeatable)
    #[arg(long = "probe", value_name = "NAME", global = true)]
    probes: Vec<String>,
    /// Interfaces that get the tc flow probe: IFACE or NETNS/IFACE (repeatable)
    #[arg(long = "tc-iface", value_name = "IFACE", global = true)]
    tc_ifaces: Vec<String>,
    /// Interfaces whose ingress the flow probe counts without taking their XDP hook (a tcx
    /// ingress observer, so the node's own XDP program can always attach): IFACE or
    /// NETNS/IFACE (repeatable)
    #[arg(long = "xdp-iface", value_name = "IFACE", global = true)]
    xdp_ifaces: Vec<String>,
    /// Colour theme: default, high-contrast, colorblind [default: default, or `theme` in the
    /// config file]
    #[arg(long, value_name = "NAME", global = true)]
    theme: Option<String>,
    /// No colours (also: NO_COLOR set in the environment)
    #[arg(long, global = true)]
    no_color: bool,
    /// Pane to open first in the full-screen UI (a pane name or alias, as `show` takes; e.g.
    /// drops, ct, attachments)
    #[arg(long, value_name = "PANE", global = true)]
    pane: Option<String>,
    /// Directory Ctrl-s writes its export files into (default ./dpscope-dumps)
    #[arg(long, value_name = "DIR", global = true)]
    dump_dir: Option<PathBuf>,
    /// Mouse in the full-screen UI: click rows and tabs, wheel scrolls (hold Shift to select
    /// text in most terminals) [config: mouse = true]
    #[arg(long, global = true)]
    mouse: bool,
    /// Benchmark: quit after the first frame with data and print the time it took
    #[arg(long, hide = true, global = true)]
    bench_first_frame: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Full-screen live explorer (the default)
    Live,
    /// Collect once and write the snapshot as JSON
    Snapshot {
        /// Output file (default: stdout)
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Seconds to observe before taking the snapshot (stats and probes accumulate)
        #[arg(long, value_name = "SECS", default_value_t = 2.0)]
        duration: f64,
        /// Also capture every program's instructions and a first page of every map's entries
        #[arg(long)]
        details: bool,
    },
    /// Write a sequence of snapshots (JSON lines) for later replay
    Record {
        /// Output file, or with --ring-size the ring's directory
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// How long to record (with --ring-size: until stopped when not given)
        #[arg(long, value_name = "SECS", required_unless_present = "ring_size")]
        duration: Option<f64>,
        /// Flight recorder: keep at most MIB mebibytes of compact recording in the directory
        /// given by -o, newest kept (segment files, each starting with a keyframe)
        #[arg(long, value_name = "MIB")]
        ring_size: Option<f64>,
        /// Seconds between snapshots
        #[arg(long, value_name = "SECS", default_value_t = 1.0)]
        every: f64,
        /// Leave out sections unchanged since the last keyframe (see docs/snapshot.md); the
        /// default writes a complete snapshot on every line
        #[arg(long)]
        compact: bool,
    },
    /// Full-screen explorer over a saved snapshot or recording (no privileges needed)
    Replay { file: PathBuf },
    /// Write a flight recorder's ring (record --ring-size) as one recording
    History {
        /// The ring's directory
        dir: PathBuf,
        /// Only snapshots taken within this span before now (30m, 2h, 1h30m, 90s)
        #[arg(long, value_name = "SPAN")]
        since: Option<String>,
        /// Output file (default: stdout)
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print one pane as a table (or JSON) and exit
    Show {
        /// The pane: its name or an alias
        // Its own id: with the global `--pane`'s id, clap gave that flag this argument's value.
        #[arg(id = "show_pane", value_name = "PANE", long_help = show_pane_help())]
        pane: String,
        /// Same as --format json
        #[arg(long)]
        json: bool,
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Read a saved snapshot instead of the live node
        #[arg(long, value_name = "FILE")]
        from: Option<PathBuf>,
        /// Seconds to observe before printing (live only; default 2 for the own-probe panes
        /// drops, retransmits, denials, flows, xdp_errors, else 0)
        #[arg(long, value_name = "SECS")]
        duration: Option<f64>,
    },
    /// What changed from snapshot A to snapshot B, pane by pane (one recording alone: from its
    /// first snapshot to its last)
    Diff {
        /// The older snapshot (or recording: its newest snapshot)
        #[arg(required_unless_present = "nodes")]
        a: Option<PathBuf>,
        /// The newer snapshot (or recording: its newest snapshot)
        b: Option<PathBuf>,
        /// Print a structured JSON object instead of text
        #[arg(long)]
        json: bool,
        /// Which nodes of a bundle (kubectl dpscope snapshot -o DIR) differ from the others
        #[arg(long, value_name = "BUNDLE_DIR", conflicts_with_all = ["a", "b"])]
        nodes: Option<PathBuf>,
    },
    /// Test-only (QEMU guest): load the test BPF LSM denier, hold it SECS seconds
    #[cfg(feature = "vmtest")]
    #[command(name = "vmtest-deny", hide = true)]
    VmtestDeny { secs: u64 },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
    Csv,
    Md,
    /// Graphviz DOT (tailcalls only)
    Dot,
}

/// Errors that are the user's input (exit 2) rather than a runtime failure (exit 1).
#[derive(Debug)]
struct BadInput(String);
impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for BadInput {}

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

/// What only the config file sets (no flag for it), or what it adds to the flags.
#[derive(Default)]
struct FromFile {
    record_compact: bool,
    keymap: dpscope::app::keys::Keymap,
}

/// The command line with the config file's values filled in where no flag was given.
fn with_config_file(mut g: Global) -> anyhow::Result<(Global, FromFile)> {
    let Some((path, c)) = dpscope::config::load().map_err(BadInput)? else {
        return Ok((g, FromFile::default()));
    };
    let keymap = match &c.keys {
        Some(k) => dpscope::app::keys::Keymap::with_overrides(
            k.iter()
                .map(|(name, keys)| (name.as_str(), keys.as_slice())),
        )
        .map_err(|e| BadInput(format!("config {}: {e}", path.display())))?,
        None => Default::default(),
    };
    g.mouse |= c.mouse.unwrap_or(false);
    g.theme = g.theme.or(c.theme);
    g.interval = g.interval.or(c.interval);
    g.no_color |= c.no_color.unwrap_or(false);
    g.dump_dir = g.dump_dir.or(c.dump_dir);
    if let Some(p) = &c.probes {
        let shown = dpscope::sanitize::text(&path.to_string_lossy()).into_owned();
        check_probes(p, &format!("probes of config {shown}"))?;
    }
    g.pane = g.pane.or(c.pane);
    if g.probes.is_empty() && !g.no_probes {
        match c.probes {
            Some(p) if p.is_empty() => g.no_probes = true,
            Some(p) => g.probes = p,
            None => {}
        }
    }
    let file = FromFile {
        record_compact: c.record_compact.unwrap_or(false),
        keymap,
    };
    Ok((g, file))
}

/// Longest live refresh interval accepted (a day).
const MAX_INTERVAL_SECS: f64 = 86_400.0;
/// Longest `--duration` / `--every` accepted (a year): beyond it a `Duration` is not far from
/// overflowing, and no recording runs that long.
const MAX_SECS: f64 = 365.0 * 86_400.0;

/// The refresh interval (flag, else config file, else 1 s), checked.
fn interval_secs(g: &Global) -> anyhow::Result<f64> {
    let interval = g.interval.unwrap_or(1.0);
    if !(interval.is_finite() && (0.1..=MAX_INTERVAL_SECS).contains(&interval)) {
        return Err(BadInput(format!(
            "--interval (or interval in the config file) must be from 0.1 to {MAX_INTERVAL_SECS} seconds, got {interval}"
        ))
        .into());
    }
    Ok(interval)
}

/// Own probe names `--probe` and the config file's `probes` accept.
fn probe_names() -> Vec<&'static str> {
    let mut v = dpscope::bpf::probes::PROBE_NAMES.to_vec();
    v.extend(["lsm", "syscall_denials", "audit"]);
    v
}

/// A probe name that is not one is an error naming the valid ones (a typo would otherwise turn
/// every probe off).
fn check_probes(names: &[String], what: &str) -> anyhow::Result<()> {
    let valid = probe_names();
    match names.iter().find(|n| !valid.contains(&n.as_str())) {
        Some(bad) => Err(BadInput(format!(
            "unknown probe {bad:?} in {what}; probes are: {}",
            valid.join(" ")
        ))
        .into()),
        None => Ok(()),
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
        probes: !g.no_probes,
        only_probes: g.probes.clone(),
        tc_ifaces: g.tc_ifaces.clone(),
        xdp_ifaces: g.xdp_ifaces.clone(),
    })
}

fn secs(v: f64, flag: &str) -> anyhow::Result<Duration> {
    match Duration::try_from_secs_f64(v) {
        Ok(d) if v <= MAX_SECS => Ok(d),
        _ => Err(BadInput(format!(
            "{flag} must be a number of seconds from 0 to {MAX_SECS}, got {v}"
        ))
        .into()),
    }
}

fn require_privileges() -> anyhow::Result<()> {
    collector::check_privileges().map_err(anyhow::Error::msg)
}

fn run(cli: Cli, started: std::time::Instant) -> anyhow::Result<()> {
    check_probes(&cli.global.probes, "--probe")?;
    let (g, file) = with_config_file(cli.global.clone())?;
    // Checked here so a bad interval (flag or config file) fails every command the same way.
    let interval = interval_secs(&g)?;
    let theme = g.theme.clone().unwrap_or_else(|| "default".into());
    if !dpscope::views::theme::THEMES.contains(&theme.as_str()) {
        return Err(BadInput(format!(
            "unknown theme {theme:?}; themes are: {}",
            dpscope::views::theme::THEMES.join(" ")
        ))
        .into());
    }
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
    };
    match cli.command.unwrap_or(Command::Live) {
        #[cfg(feature = "vmtest")]
        Command::VmtestDeny { secs } => {
            dpscope::bpf::denials::vmtest::hold_test_denier(secs).map_err(anyhow::Error::msg)
        }
        Command::Live => {
            let mut cfg = config(&g, false)?;
            cfg.fast_first = true;
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
                    let bytes = flight::ring_bytes(mib).map_err(BadInput)?;
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
                    // Helper lists appear only in the programs pane's JSON; resolving them reads
                    // /proc/kallsyms, which alone costs the kernel ~100 ms.
                    cfg.program_calls = pane == PaneId::Programs && format == Format::Json;
                    // Load only the probes this pane shows: each load parses the kernel BTF.
                    if probes.is_empty() {
                        cfg.probes = false;
                    } else if cfg.only_probes.is_empty() {
                        cfg.only_probes = probes.iter().map(|p| p.to_string()).collect();
                    }
                    require_privileges()?;
                    collect_after(cfg, wait)
                }
            };
            show(pane, &snap, format)
        }
    }
}

/// Load a snapshot file for `show --from` and `diff`, saying on stderr which lines of a
/// recording were skipped (replay shows it on screen).
fn load_reporting(path: &std::path::Path) -> anyhow::Result<snapio::Loaded> {
    // A flight recorder's ring directory too.
    let loaded = flight::load(path)?;
    if let Some(s) = loaded.skipped_summary() {
        let shown = dpscope::sanitize::text(&path.to_string_lossy()).into_owned();
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

/// The pane a word names (`show PANE`, `--pane`, the config file's `pane`): the same names
/// and aliases as the palette (`model::PaneId`).
fn pane_named(word: &str) -> anyhow::Result<PaneId> {
    PaneId::parse(word).ok_or_else(|| BadInput(PaneId::unknown(word)).into())
}

/// `show --help`: every pane with its aliases, from `PaneId`.
fn show_pane_help() -> String {
    format!(
        "The pane: its name or an alias (any case):\n{}",
        PaneId::help_list()
    )
}

/// Print one pane. JSON is streamed to stdout (a 500k-entry table is hundreds of MB of text).
fn show(pane: PaneId, snap: &Snapshot, format: Format) -> anyhow::Result<()> {
    if format == Format::Dot {
        if pane != PaneId::Tailcalls {
            return Err(BadInput(format!("--format dot is for tailcalls, not {pane}")).into());
        }
        return write_out(None, &dpscope::bpf::cilium::tailcalls_dot(&snap.tailcalls));
    }
    if format == Format::Json {
        let stdout = std::io::stdout();
        // DEL, C1 and bidi controls as `\u` escapes: still the same strings to a JSON reader.
        let mut w = dpscope::sanitize::JsonSafe::new(std::io::BufWriter::with_capacity(
            1 << 16,
            stdout.lock(),
        ));
        let r = dpscope::pane::get(pane)
            .json(snap, &mut w)
            .map_err(std::io::Error::from)
            .and_then(|_| w.write_all(b"\n"))
            .and_then(|_| w.flush());
        return match r {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            r => r.context("writing to stdout"),
        };
    }
    let f = match format {
        Format::Csv => dpscope::pane::plain::Format::Csv,
        Format::Md => dpscope::pane::plain::Format::Markdown,
        _ => dpscope::pane::plain::Format::Text,
    };
    let t = dpscope::pane::plain::pane_table(pane, snap, None);
    let mut out = dpscope::pane::plain::render(&t, f);
    if t.rows.is_empty() {
        if let Some(why) = snap.unavailable_reason(pane.name()) {
            let why = dpscope::sanitize::text(why);
            out.push_str(&format!("({pane} unavailable: {why})\n"));
        }
    }
    write_out(None, &out)
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
