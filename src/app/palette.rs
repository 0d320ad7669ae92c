//! The command palette's commands and completion (pure).

use crate::views::registry::PANES;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Pane(usize),
    Quit,
    Help,
}

/// Every word the palette accepts, with what it does: pane names and aliases, then built-ins.
pub fn commands() -> Vec<(&'static str, Command)> {
    let mut v = Vec::new();
    for (i, p) in PANES.iter().enumerate() {
        v.push((p.name, Command::Pane(i)));
        for a in p.aliases {
            v.push((*a, Command::Pane(i)));
        }
    }
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
        let idx = |name: &str| PANES.iter().position(|p| p.name == name);
        assert_eq!(resolve("progs"), idx("programs").map(Command::Pane));
        assert_eq!(resolve(":programs"), idx("programs").map(Command::Pane));
        assert_eq!(resolve("maps"), idx("maps").map(Command::Pane));
        assert_eq!(resolve("attach"), idx("attachments").map(Command::Pane));
        assert_eq!(resolve("node"), idx("node").map(Command::Pane));
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
        assert!(suggest("").len() >= PANES.len());
        assert!(suggest("zzz").is_empty());
    }
}
