//! `PaneId`: the one list of panes, their names and the other words for them.
//!
//! Everything that names a pane goes through here: the tabs (in this order), the command
//! palette (`:ct`), `dpscope show PANE`, `--pane`, the config file's `pane =`, the help, the
//! diff's sections. A pane is serialised as its name (`"programs"`, `"xdp_errors"`), the
//! strings snapshots, diffs and configs have always used.

use serde::{Deserialize, Serialize};

/// A pane of the explorer. The declaration order is the tab order (`1`..`9` reach the first
/// nine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaneId {
    // 1-9: what an incident call reaches for first.
    Programs,
    Maps,
    Attachments,
    Drops,
    Retransmits,
    Denials,
    Services,
    Conntrack,
    Policy,
    // Tab or the palette (`:node`, `:tail`, ...).
    Tailcalls,
    Identities,
    Endpoints,
    Metrics,
    Flows,
    XdpErrors,
    Node,
    /// One row per node of a bundle (`dpscope replay BUNDLE_DIR`): not a pane of one node, so
    /// not in [`PaneId::ALL`]; a bundle's tabs end with it ([`PaneId::EVERY`]).
    Cluster,
}

impl PaneId {
    /// Every pane, in tab order.
    pub const ALL: [PaneId; 16] = [
        PaneId::Programs,
        PaneId::Maps,
        PaneId::Attachments,
        PaneId::Drops,
        PaneId::Retransmits,
        PaneId::Denials,
        PaneId::Services,
        PaneId::Conntrack,
        PaneId::Policy,
        PaneId::Tailcalls,
        PaneId::Identities,
        PaneId::Endpoints,
        PaneId::Metrics,
        PaneId::Flows,
        PaneId::XdpErrors,
        PaneId::Node,
    ];

    /// [`PaneId::ALL`] and the Cluster pane: every pane there is (the tabs of a bundle).
    pub const EVERY: [PaneId; 17] = {
        let mut every = [PaneId::Cluster; 17];
        let mut i = 0;
        while i < PaneId::ALL.len() {
            every[i] = PaneId::ALL[i];
            i += 1;
        }
        every
    };

    /// The pane's name: on the command line, in the palette, in files.
    pub fn name(self) -> &'static str {
        match self {
            PaneId::Programs => "programs",
            PaneId::Maps => "maps",
            PaneId::Attachments => "attachments",
            PaneId::Drops => "drops",
            PaneId::Retransmits => "retransmits",
            PaneId::Denials => "denials",
            PaneId::Services => "services",
            PaneId::Conntrack => "conntrack",
            PaneId::Policy => "policy",
            PaneId::Tailcalls => "tailcalls",
            PaneId::Identities => "identities",
            PaneId::Endpoints => "endpoints",
            PaneId::Metrics => "metrics",
            PaneId::Flows => "flows",
            PaneId::XdpErrors => "xdp_errors",
            PaneId::Node => "node",
            PaneId::Cluster => "cluster",
        }
    }

    /// Other words for the pane, accepted wherever its name is. `links` is the Attachments
    /// pane: it shows every BPF link after the per-interface hooks.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            PaneId::Programs => &["progs", "prog", "p", "program"],
            PaneId::Maps => &["map", "m"],
            PaneId::Attachments => &["attach", "att", "a", "links", "attachment", "link", "net"],
            PaneId::Drops => &["drop", "d"],
            PaneId::Retransmits => &["retrans", "rtx", "tcp", "retransmit"],
            PaneId::Denials => &["denial", "lsm", "deny"],
            PaneId::Services => &["svc", "lb", "service"],
            PaneId::Conntrack => &["ct", "conn"],
            PaneId::Policy => &["pol", "policies"],
            PaneId::Tailcalls => &["tail", "tc-calls", "calls", "tailcall"],
            PaneId::Identities => &["ipcache", "ids", "identity", "id"],
            PaneId::Endpoints => &["ep", "lxc", "eps"],
            PaneId::Metrics => &["counters", "cilium-metrics"],
            PaneId::Flows => &["flow", "talkers"],
            PaneId::XdpErrors => &["xdp", "xdp_health"],
            PaneId::Node => &["n"],
            PaneId::Cluster => &["nodes", "bundle"],
        }
    }

    /// Position in the tab row (0 for the first tab).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The pane named `word` (its name or an alias, any case).
    pub fn parse(word: &str) -> Option<PaneId> {
        let word = word.trim().to_ascii_lowercase();
        PaneId::EVERY
            .into_iter()
            .find(|p| p.name() == word || p.aliases().contains(&word.as_str()))
    }

    /// Every name and alias, pane by pane in tab order: what the palette offers.
    pub fn words() -> impl Iterator<Item = (&'static str, PaneId)> {
        PaneId::EVERY.into_iter().flat_map(|p| {
            std::iter::once(p.name())
                .chain(p.aliases().iter().copied())
                .map(move |w| (w, p))
        })
    }

    /// `programs (progs, prog, p, program)`, one pane a line: for help texts.
    pub fn help_list() -> String {
        PaneId::EVERY
            .iter()
            .map(|p| format!("{} ({})", p.name(), p.aliases().join(", ")))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// `unknown pane "x"; panes are: programs maps ...`: the one message for a word that names
    /// no pane, wherever it was given.
    pub fn unknown(word: &str) -> String {
        let names: Vec<&str> = PaneId::EVERY.iter().map(|p| p.name()).collect();
        format!(
            "unknown pane {word:?}; panes are: {} (or an alias, see `dpscope show --help`)",
            names.join(" ")
        )
    }
}

impl std::fmt::Display for PaneId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for PaneId {
    type Err = String;
    fn from_str(s: &str) -> Result<PaneId, String> {
        PaneId::parse(s).ok_or_else(|| PaneId::unknown(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_the_declaration_order_and_names_serialise_as_before() {
        for (i, p) in PaneId::ALL.iter().enumerate() {
            assert_eq!(p.index(), i, "{p}");
            let json = serde_json::to_string(p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.name()));
            assert_eq!(serde_json::from_str::<PaneId>(&json).unwrap(), *p);
        }
        assert_eq!(PaneId::XdpErrors.name(), "xdp_errors");
    }

    #[test]
    fn every_word_names_one_pane() {
        let mut seen = std::collections::HashMap::new();
        for (w, p) in PaneId::words() {
            assert_eq!(w, w.to_ascii_lowercase(), "words are lower case");
            assert!(seen.insert(w, p).is_none(), "{w} names two panes");
            assert_eq!(PaneId::parse(w), Some(p));
            assert_eq!(PaneId::parse(&w.to_ascii_uppercase()), Some(p));
        }
        assert_eq!(PaneId::parse("nope"), None);
        assert_eq!(PaneId::parse(""), None);
        assert!("nope".parse::<PaneId>().unwrap_err().contains("xdp_errors"));
    }
}
