//! The command line: what `dpscope` accepts (clap), the config file merged into it, and every
//! check of a value the user gave (numbers, probe, pane and theme names). Pure: nothing here
//! touches the kernel or a file, so the fuzz target `cli` (fuzz/) drives exactly this.

use crate::model::PaneId;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "dpscope",
    version,
    about = "Live explorer of a Linux node's eBPF datapath"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(clap::Args, Debug, Clone, Default)]
pub struct Global {
    /// bpffs root searched for pinned objects (repeatable; default /sys/fs/bpf and /run/cilium/bpffs)
    #[arg(long = "bpffs", value_name = "DIR", global = true)]
    pub bpffs: Vec<PathBuf>,
    /// Live refresh interval in seconds [default: 1, or `interval` in the config file]
    #[arg(long, value_name = "SECS", global = true)]
    pub interval: Option<f64>,
    /// Do not load dpscope's own probes
    #[arg(long, global = true)]
    pub no_probes: bool,
    /// Do not enable BPF run-time statistics (run counts and times stay as the kernel has them)
    #[arg(long, global = true)]
    pub no_stats: bool,
    /// Enable only these own probes (repeatable)
    #[arg(long = "probe", value_name = "NAME", global = true)]
    pub probes: Vec<String>,
    /// Interfaces that get the tc flow probe: IFACE or NETNS/IFACE (repeatable)
    #[arg(long = "tc-iface", value_name = "IFACE", global = true)]
    pub tc_ifaces: Vec<String>,
    /// Interfaces whose ingress the flow probe counts without taking their XDP hook (a tcx
    /// ingress observer, so the node's own XDP program can always attach): IFACE or
    /// NETNS/IFACE (repeatable)
    #[arg(long = "xdp-iface", value_name = "IFACE", global = true)]
    pub xdp_ifaces: Vec<String>,
    /// Colour theme: default, high-contrast, colorblind [default: default, or `theme` in the
    /// config file]
    #[arg(long, value_name = "NAME", global = true)]
    pub theme: Option<String>,
    /// No colours (also: NO_COLOR set in the environment)
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Pane to open first in the full-screen UI (a pane name or alias, as `show` takes; e.g.
    /// drops, ct, attachments)
    #[arg(long, value_name = "PANE", global = true)]
    pub pane: Option<String>,
    /// Directory Ctrl-s writes its export files into (default ./dpscope-dumps)
    #[arg(long, value_name = "DIR", global = true)]
    pub dump_dir: Option<PathBuf>,
    /// Mouse in the full-screen UI: click rows and tabs, wheel scrolls (hold Shift to select
    /// text in most terminals) [config: mouse = true]
    #[arg(long, global = true)]
    pub mouse: bool,
    /// Benchmark: quit after the first frame with data and print the time it took
    #[arg(long, hide = true, global = true)]
    pub bench_first_frame: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
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
pub enum Format {
    /// Plain text: the lines of `cilium-dbg bpf ct list global` (conntrack), `bpf lb list`
    /// (services), `bpf ipcache list` (identities), `bpf endpoint list` (endpoints),
    /// `bpf policy get` (policy), `bpf metrics list` (metrics); for other panes the table
    Text,
    /// The pane's table as aligned text (for panes without a cilium-dbg form, the same as text)
    Table,
    /// The pane's JSON array (conntrack: compact when stdout is not a terminal)
    Json,
    /// One JSON object per line
    Jsonl,
    Csv,
    Md,
    /// Graphviz DOT (tailcalls only)
    Dot,
}

/// Errors that are the user's input (exit 2) rather than a runtime failure (exit 1).
#[derive(Debug)]
pub struct BadInput(pub String);
impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for BadInput {}

/// What only the config file sets (no flag for it), or what it adds to the flags.
#[derive(Default)]
pub struct FromFile {
    pub record_compact: bool,
    pub keymap: crate::app::keys::Keymap,
}

/// The command line with the config file `path`'s values filled in where no flag was given,
/// checked (key bindings, probe names).
pub fn merge_config(
    mut g: Global,
    path: &Path,
    c: crate::config::Config,
) -> Result<(Global, FromFile), BadInput> {
    let keymap = match &c.keys {
        Some(k) => crate::app::keys::Keymap::with_overrides(
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
        let shown = crate::sanitize::text(&path.to_string_lossy()).into_owned();
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
pub const MAX_INTERVAL_SECS: f64 = 86_400.0;
/// Longest `--duration` / `--every` accepted (a year): beyond it a `Duration` is not far from
/// overflowing, and no recording runs that long.
pub const MAX_SECS: f64 = 365.0 * 86_400.0;

/// The refresh interval (flag, else config file, else 1 s), checked.
pub fn interval_secs(g: &Global) -> Result<f64, BadInput> {
    let interval = g.interval.unwrap_or(1.0);
    if !(interval.is_finite() && (0.1..=MAX_INTERVAL_SECS).contains(&interval)) {
        return Err(BadInput(format!(
            "--interval (or interval in the config file) must be from 0.1 to {MAX_INTERVAL_SECS} seconds, got {interval}"
        )));
    }
    Ok(interval)
}

/// Own probe names `--probe` and the config file's `probes` accept.
pub fn probe_names() -> Vec<&'static str> {
    let mut v = crate::bpf::probes::PROBE_NAMES.to_vec();
    v.extend(["lsm", "syscall_denials", "audit"]);
    v
}

/// A probe name that is not one is an error naming the valid ones (a typo would otherwise turn
/// every probe off).
pub fn check_probes(names: &[String], what: &str) -> Result<(), BadInput> {
    let valid = probe_names();
    match names.iter().find(|n| !valid.contains(&n.as_str())) {
        Some(bad) => Err(BadInput(format!(
            "unknown probe {bad:?} in {what}; probes are: {}",
            valid.join(" ")
        ))),
        None => Ok(()),
    }
}

/// A number of seconds from the command line, from 0 to [`MAX_SECS`].
pub fn secs(v: f64, flag: &str) -> Result<Duration, BadInput> {
    match Duration::try_from_secs_f64(v) {
        Ok(d) if v <= MAX_SECS => Ok(d),
        _ => Err(BadInput(format!(
            "{flag} must be a number of seconds from 0 to {MAX_SECS}, got {v}"
        ))),
    }
}

/// The pane a word names (`show PANE`, `--pane`, the config file's `pane`): the same names
/// and aliases as the palette (`model::PaneId`).
pub fn pane_named(word: &str) -> Result<PaneId, BadInput> {
    PaneId::parse(word).ok_or_else(|| BadInput(PaneId::unknown(word)))
}

/// `show --help`: every pane with its aliases, from `PaneId`.
pub fn show_pane_help() -> String {
    format!(
        "The pane: its name or an alias (any case):\n{}",
        PaneId::help_list()
    )
}

/// Parse a command line (the program name first), as `dpscope` does.
pub fn parse<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    Cli::try_parse_from(args)
}

/// Largest ring accepted: 64 GiB.
pub const MAX_RING_MIB: f64 = 65_536.0;

/// `--ring-size` in MiB (fractions allowed, ≥ 64 KiB) as bytes.
pub fn ring_bytes(mib: f64) -> Result<u64, BadInput> {
    if !(mib.is_finite() && (1.0 / 16.0..=MAX_RING_MIB).contains(&mib)) {
        return Err(BadInput(format!(
            "--ring-size must be between 0.0625 and {MAX_RING_MIB} MiB, got {mib}"
        )));
    }
    Ok((mib * 1024.0 * 1024.0) as u64)
}

/// `history --since SPAN` as a span of time.
pub fn since_span(text: &str) -> Result<time::Duration, BadInput> {
    let span = crate::ring::parse_span(text).ok_or_else(|| {
        BadInput(format!(
            "--since {text:?}: expected a span like 30m, 2h, 1h30m or 90s"
        ))
    })?;
    time::Duration::try_from(span).map_err(|_| BadInput(format!("--since {text:?} is too long")))
}

/// The colour theme chosen (flag, else config file, else `default`), checked.
pub fn theme(g: &Global) -> Result<String, BadInput> {
    let theme = g.theme.clone().unwrap_or_else(|| "default".into());
    if !crate::views::theme::THEMES.contains(&theme.as_str()) {
        return Err(BadInput(format!(
            "unknown theme {theme:?}; themes are: {}",
            crate::views::theme::THEMES.join(" ")
        )));
    }
    Ok(theme)
}

/// Every check of the values in a parsed command line (merged with the config file), as `run`
/// makes them before it starts anything: Err is the one-line message of exit status 2.
pub fn check(g: &Global, command: Option<&Command>) -> Result<(), BadInput> {
    check_probes(&g.probes, "--probe")?;
    interval_secs(g)?;
    theme(g)?;
    if let Some(p) = &g.pane {
        pane_named(p)?;
    }
    match command {
        Some(Command::Snapshot { duration, .. }) => {
            secs(*duration, "--duration")?;
        }
        Some(Command::Record {
            duration,
            ring_size,
            every,
            ..
        }) => {
            duration.map(|d| secs(d, "--duration")).transpose()?;
            secs(*every, "--every")?;
            ring_size.map(ring_bytes).transpose()?;
        }
        Some(Command::Show { pane, duration, .. }) => {
            pane_named(pane)?;
            duration.map(|d| secs(d, "--duration")).transpose()?;
        }
        Some(Command::History {
            since: Some(text), ..
        }) => {
            since_span(text)?;
        }
        _ => {}
    }
    Ok(())
}
