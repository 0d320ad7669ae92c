//! UI text in one place.

pub const APP: &str = "dpscope";
pub const PAUSED: &str = " PAUSED ";
pub const WAITING: &str = "waiting for the first snapshot…";
/// The conntrack pane just opened in the live UI: its maps are read while it is open.
pub const CT_READING: &str = "reading the conntrack maps… (read only while this pane is open)";
/// A table pane with nothing to list (panes say what they list instead where they can).
pub const NO_ROWS: &str = "nothing to show";
pub const NO_PROGRAMS: &str = "no BPF programs loaded";
pub const NO_MAPS: &str = "no BPF maps on this node";
pub const NO_ATTACHMENTS: &str =
    "no BPF programs attached to network interfaces, and no other BPF links";
pub const NO_DENIALS: &str = "no denied operations seen since dpscope started";
pub const DENIED_BY_UNKNOWN: &str = "-";
pub const DENIED_BY_NONE: &str =
    "unknown: no audit record names a module (a DAC check, or an LSM that did not log it)";
pub const DENIALS_MODE_LSM: &str = "BPF LSM mode: denials of BPF LSM programs ";
pub const DENIALS_MODE_SYSCALL: &str =
    "syscall-exit mode: EPERM/EACCES of any module, attributed from audit records ";
pub const NO_MATCH: &str = "no rows match the filter (Esc clears it)";
pub const REQUESTING: &str = "requesting…";
pub const NOT_CAPTURED: &str = "not captured in this snapshot";
pub const NO_MORE_ENTRIES: &str = "no more entries";
pub const NOT_IN_REPLAY: &str = "replay: only the captured page is available";
/// A conntrack entry opened that a later snapshot no longer has.
pub const CT_ENTRY_GONE: &str =
    "this entry is no longer in the table (expired and collected, or closed): as last seen";
pub const COLLECTOR_GONE: &str = "the collector stopped; showing the last snapshot";
pub const REWRITE_LEGEND: &str = "! rewrites or redirects packets";
pub const PRESSURE_LEGEND: &str = "! more than 80 % full";
/// Prefix of objects dpscope itself loaded.
pub const OWN_MARK: &str = "◆ ";
pub const OWN_LEGEND: &str = "◆ dpscope's own";
/// The title note of a pane that lists dpscope's own objects after the node's.
pub fn own_last(n: usize) -> String {
    format!("{OWN_LEGEND}: {n}, listed last")
}
/// An endpoint whose policy map holds no entry.
pub const NO_POLICY_ENTRIES: &str =
    "no policy entries (the endpoint's policy map is empty: is policy enforcement off?)";
pub const STACKED: &str = "⚠ stacked";
pub const STALE: &str = "STALE?";
pub const NO_CHANGES: &str = "no rows new or changed since the baseline (D shows all rows)";
pub const BASELINE_CLEARED: &str = "baseline cleared";
pub const CHANGES_ONLY_NEEDS_BASELINE: &str = "changes only needs a baseline: press d first";

pub fn baseline_set(taken_at: &str) -> String {
    format!("baseline {taken_at}: rows + new, ~ changed since; D: only those")
}

pub fn changes_only(on: bool) -> String {
    if on {
        "showing only rows new or changed since the baseline".to_string()
    } else {
        "showing all rows".to_string()
    }
}

pub const RECORD_NEEDS_LIVE: &str = "recording (R) needs the live node: this is a replay";

pub fn recording_started(path: &std::path::Path) -> String {
    format!("recording every refresh to {}; R stops", path.display())
}

pub fn recording_stopped(lines: usize, path: &std::path::Path) -> String {
    format!(
        "recording stopped: {lines} snapshot(s) in {p}; open with: dpscope replay {p}",
        p = path.display()
    )
}

pub fn recording_failed(why: &str) -> String {
    format!("recording stopped: {why}")
}

pub const EXPORTING: &str = "exporting…";
/// `Ctrl-s` in an app the terminal shell did not set up (no one to draw the screen).
pub const EXPORT_NEEDS_SHELL: &str = "no terminal shell to draw the screen for the export";
/// After the baseline badge while the diff worker compares the newest snapshot.
pub const COMPARING: &str = " comparing…";

/// `exported to DIR: dpscope-T.json, -programs.csv, -programs.md, -screen.txt, …`: the
/// directory, the first file's name, the others by what follows the common stem.
pub fn exported(dir: &std::path::Path, files: &[&std::path::Path]) -> String {
    let names: Vec<String> = files
        .iter()
        .filter_map(|f| f.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    let Some(first) = names.first() else {
        return format!("exported to {}", dir.display());
    };
    let stem = first.strip_suffix(".json").unwrap_or(first);
    let rest: Vec<&str> = names[1..]
        .iter()
        .map(|n| n.strip_prefix(stem).unwrap_or(n))
        .collect();
    format!(
        "exported to {}: {first}, {}",
        dir.display(),
        rest.join(", ")
    )
}

pub fn export_failed(why: &str) -> String {
    format!("export failed: {why}")
}

pub const HELP_TITLE: &str = " Keys (? or Esc closes) ";
pub const PALETTE_TITLE: &str = " Command ";
pub const OTHER_LINKS: &str = "Other BPF links";
/// dpscope's own links (its probes), listed after the node's, their groups closed.
pub const OWN_LINKS: &str = "◆ dpscope's own links";

pub const NO_PROCESS: &str = "no process holds it";
pub const NO_INSNS: &str = "no instructions returned";
pub const MAP_EMPTY: &str = "map is empty";
pub const STALE_DEFAULT: &str = "older twin of another program on this hook";
pub const NOT_ATTACHED: &str = "  not attached to an interface or link";
pub const NO_MAPS_USED: &str = "  uses no maps";

/// Helper or kfunc names that change or steer packets.
pub const REWRITING: &[&str] = &[
    "store_bytes",
    "redirect",
    "adjust_",
    "change_",
    "clone_redirect",
    "l3_csum_replace",
    "l4_csum_replace",
];

pub fn rewrites(helper: &str) -> bool {
    REWRITING.iter().any(|p| helper.contains(p))
}

pub fn unavailable(pane: &str, reason: &str) -> String {
    format!("{pane} unavailable: {reason}")
}

pub fn replay_skipped(n: usize, line: usize, why: &str) -> String {
    format!("skipped {n} unreadable line(s) of the recording (line {line}: {why})")
}

pub fn replay_edge(pos: usize, n: usize) -> String {
    format!("snapshot {pos} of {n}: no further snapshot in that direction")
}

pub fn collector_error(e: &str) -> String {
    format!("collector error: {e}")
}

pub fn unknown_command(c: &str) -> String {
    format!("unknown command :{c} (try :progs :maps :attach :svc :ct :policy :node :q)")
}

// ---- Cilium panes ----

pub const NO_CILIUM: &str = "no Cilium maps found";
pub const NO_CILIUM_WHY: &str =
    "Cilium panes read the maps the Cilium agent pins (tc/globals/cilium_*); other panes still work.";
pub const NO_CILIUM_DATA: &str =
    "this snapshot carries no Cilium data (collected without the Cilium decoders)";
pub const DEFAULT_BPFFS_ROOTS: &str = "/sys/fs/bpf, /run/cilium/bpffs";
pub const CYCLE: &str = "↺ cycle";
pub const SHOWN_ABOVE: &str = "↑ shown above";
/// A slot tail-called at an index the code fixes, with no program in it.
pub const CALLED_EMPTY: &str = "∅ called but empty";
/// A tail call whose index is computed at run time.
pub const INDEX_UNKNOWN: &str = "index not known statically";
/// A call into `cilium_call_policy` resolved to the caller's own endpoint.
pub const THIS_ENDPOINT: &str = "this endpoint";
/// Prog arrays belong to an endpoint whose id is not known.
pub const ENDPOINT_UNKNOWN: &str = "endpoint ?";
pub const UNATTACHED_ARRAYS: &str = "prog arrays no attach point reaches";
pub const DEEPER_CALLS: &str = "… deeper calls not shown";
pub const POLICY_KEYS: &str = "< >";
/// After the Services title: how to open a frontend.
pub const SERVICES_KEYS: &str = "· Enter/→ backends ";
pub const RISING_LEGEND: &str = "! drops rising";

pub fn searched_roots(roots: &str) -> String {
    format!("bpffs roots searched: {roots}")
}

/// A Cilium pane whose maps were found but hold nothing.
pub fn cilium_pane_empty(pane: &str) -> String {
    let what = match pane {
        "tailcalls" => "no tail-call maps (prog arrays) found",
        "services" => "no services in the Cilium LB maps",
        "conntrack" => "no connection-tracking entries",
        "identities" => "no ipcache entries",
        "endpoints" => "no local endpoints in cilium_lxc",
        "policy" => "no policy map entries",
        "metrics" => "no datapath metrics counted",
        _ => "nothing to show",
    };
    what.to_string()
}

/// `showing 1,000,000 of 1,482,113 (read capped)`.
pub fn capped(shown: usize, total: u64) -> String {
    format!("showing {shown} of {total} (read capped)")
}

/// Age of a big table that is re-read less often than every refresh (conntrack).
pub fn table_age(ms: u64) -> String {
    if ms < 1000 {
        "read just now".to_string()
    } else {
        format!("read {}s ago", ms / 1000)
    }
}

/// A refresh that took longer than the interval (Node pane).
pub fn refresh_stretched(took_ms: u64, interval_ms: u64, wait_ms: u64) -> String {
    format!(
        "SLOW: collection took {took_ms} ms, longer than the {interval_ms} ms interval; next in {wait_ms} ms (interval stretched, no pile-up)"
    )
}

/// Title of the box with the selected attachment's warnings.
pub const ATTACHMENT_NOTES: &str = " Why this row is flagged ";
// ---- own probe panes ----
pub const NO_RETRANSMITS: &str = "no TCP retransmits or resets seen since dpscope started";
pub const NO_DROPS: &str = "no packet drops seen since dpscope started";
pub const NO_FLOWS: &str = "no packets seen yet on the probed interfaces";
/// Retransmits grouped by process: flows whose socket is gone (no owner known).
pub const NO_LIVE_SOCKET: &str = "(no live socket)";
pub const NO_XDP_ERRORS: &str = "no XDP exceptions or redirect errors since dpscope started";

/// Retransmits legend: `by flow (o)` — key `o` cycles flow / destination / process.
pub fn grouped_by(label: &str) -> String {
    format!("by {label} (o)")
}

/// In-kernel map use of a probe: `map 12/16384, 0 evicted, 0 failed`.
pub fn probe_pressure(p: &crate::model::ProbeStatus) -> String {
    match p.map_entries {
        Some(n) => format!(
            "map {n}/{}, {} evicted, {} failed",
            p.map_max_entries, p.evicted, p.failed_inserts
        ),
        None => String::new(),
    }
}

// ---- bundles (replay BUNDLE_DIR) ----
/// The Cluster pane outside a bundle replay.
pub const NOT_A_BUNDLE: &str =
    "one row per node of a bundle: open one with `dpscope replay BUNDLE_DIR` (kubectl dpscope snapshot -o BUNDLE_DIR)";
/// `n`/`N`/`:node NAME` outside a bundle replay.
pub const NODES_NEED_BUNDLE: &str =
    "moving between nodes needs a bundle: `dpscope replay BUNDLE_DIR`";
/// `c` on a pane without a filter.
pub const QUERY_NEEDS_FILTER: &str =
    "all nodes listed: filter a pane first (/), then c lists the nodes with matching rows";

pub fn no_such_node(name: &str, nodes: usize) -> String {
    format!("no node {name:?} in this bundle ({nodes} nodes; :cluster lists them)")
}

pub fn ambiguous_node(name: &str, candidates: &[&str]) -> String {
    const LIST: usize = 5;
    let mut names: Vec<&str> = candidates.iter().take(LIST).copied().collect();
    if candidates.len() > LIST {
        names.push("…");
    }
    format!(
        "{name:?} names {} nodes: {}",
        candidates.len(),
        names.join(", ")
    )
}

/// A node without a snapshot was asked for.
pub fn node_without_snapshot(name: &str, status: &str, reason: &str) -> String {
    if reason.is_empty() {
        format!("no snapshot from {name} ({status})")
    } else {
        format!("no snapshot from {name} ({status}): {reason}")
    }
}

/// The answer to `c`, in the status line.
pub fn nodes_matching(matching: usize, of: usize, pane: &str, filter: &str) -> String {
    format!("{matching} of {of} nodes have {pane} rows matching {filter:?}")
}
