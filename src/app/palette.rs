//! The command palette's commands and completion (pure).

use crate::model::PaneId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Pane(PaneId),
    Quit,
    Help,
    /// `:node NAME`: show that node of the bundle (`:node` alone is the Node pane).
    Node(String),
}

/// `node NAME` → `NAME` (as typed, not lower-cased).
fn node_argument(input: &str) -> Option<&str> {
    let rest = input.trim().trim_start_matches(':');
    let (word, arg) = rest.split_once(char::is_whitespace)?;
    let arg = arg.trim();
    (word.eq_ignore_ascii_case("node") && !arg.is_empty()).then_some(arg)
}

/// What the palette offers for `input`: `node NAME` for the bundle's `nodes` once `node ` is
/// typed, else [`suggest`].
pub fn suggestions(input: &str, nodes: &[&str]) -> Vec<String> {
    let rest = input.trim_start().trim_start_matches(':');
    if !nodes.is_empty() {
        if let Some((word, arg)) = rest.split_once(' ') {
            if word.eq_ignore_ascii_case("node") {
                let arg = arg.trim();
                let mut out: Vec<String> = nodes
                    .iter()
                    .filter(|n| n.starts_with(arg))
                    .map(|n| format!("node {n}"))
                    .collect();
                out.extend(
                    nodes
                        .iter()
                        .filter(|n| !arg.is_empty() && !n.starts_with(arg) && n.contains(arg))
                        .map(|n| format!("node {n}")),
                );
                return out;
            }
        }
    }
    suggest(input).into_iter().map(String::from).collect()
}

/// Every word the palette accepts, with what it does: pane names and aliases (`PaneId`, the
/// words `show` and `--pane` take too), then built-ins.
pub fn commands() -> Vec<(&'static str, Command)> {
    let mut v: Vec<(&'static str, Command)> = PaneId::words()
        .map(|(w, p)| (w, Command::Pane(p)))
        .collect();
    v.extend([
        ("quit", Command::Quit),
        ("q", Command::Quit),
        ("help", Command::Help),
    ]);
    v
}

/// Suggestions for what was typed: prefix matches first, then substring matches; no duplicates.
pub fn suggest(input: &str) -> Vec<&'static str> {
    let needle = input.trim().trim_start_matches(':').to_lowercase();
    let all = commands();
    let mut out: Vec<&'static str> = all
        .iter()
        .filter(|(w, _)| w.starts_with(&needle))
        .map(|(w, _)| *w)
        .collect();
    for (w, _) in &all {
        if !needle.is_empty() && w.contains(&needle) && !out.contains(w) {
            out.push(w);
        }
    }
    out
}

pub fn resolve(input: &str) -> Option<Command> {
    if let Some(name) = node_argument(input) {
        return Some(Command::Node(name.to_string()));
    }
    let word = input.trim().trim_start_matches(':').to_lowercase();
    commands()
        .into_iter()
        .find(|(w, _)| *w == word)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve_to_panes() {
        let pane = |p| Some(Command::Pane(p));
        assert_eq!(resolve("progs"), pane(PaneId::Programs));
        assert_eq!(resolve(":programs"), pane(PaneId::Programs));
        assert_eq!(resolve("maps"), pane(PaneId::Maps));
        assert_eq!(resolve("attach"), pane(PaneId::Attachments));
        assert_eq!(resolve("node"), pane(PaneId::Node));
        assert_eq!(resolve("q"), Some(Command::Quit));
        assert_eq!(resolve("nope"), None);
        assert_eq!(
            resolve(":node Node-7 "),
            Some(Command::Node("Node-7".into()))
        );
        assert_eq!(resolve("node "), pane(PaneId::Node));
        assert_eq!(resolve("cluster"), pane(PaneId::Cluster));
    }

    #[test]
    fn node_names_complete_after_node() {
        let nodes = ["node-a", "node-b", "worker-1"];
        assert_eq!(
            suggestions("node n", &nodes),
            ["node node-a", "node node-b"]
        );
        assert_eq!(suggestions(":node 1", &nodes), ["node worker-1"]);
        assert_eq!(suggestions("node ", &nodes).len(), 3);
        // Without a bundle, the palette's words.
        assert_eq!(suggestions("node ", &[])[0], "node");
        assert_eq!(suggestions("clu", &nodes)[0], "cluster");
    }

    #[test]
    fn completion_prefers_prefixes() {
        let s = suggest("pro");
        assert_eq!(s.first(), Some(&"programs"));
        assert!(s.contains(&"progs"));
        assert_eq!(suggest("att").first(), Some(&"attachments"));
        // substring matches come after prefix matches
        let s = suggest("ap");
        assert!(s.contains(&"maps"));
        assert!(suggest("").len() >= PaneId::ALL.len());
        assert!(suggest("zzz").is_empty());
    }
}
