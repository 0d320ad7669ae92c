//! The command palette's commands and completion (pure).

use crate::model::PaneId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Pane(PaneId),
    Quit,
    Help,
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
