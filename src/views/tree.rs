//! Tree panes (attachments, tail calls): one node type, one filter, one flattening.

use crate::app::state::RowKey;

/// One line of a tree; `ids` is the path of identifiers from the root, `data` what the line
/// points at (a program id, a detail target), if anything.
#[derive(Debug, Clone)]
pub struct Node<T> {
    pub ids: Vec<String>,
    pub text: String,
    /// Flag text shown after the label (`⚠ stacked`, `STALE? …`, `↺ cycle`).
    pub flags: String,
    pub data: Option<T>,
    pub children: Vec<Node<T>>,
}

impl<T> Node<T> {
    pub fn key(&self) -> RowKey {
        RowKey::Path(self.ids.join("/"))
    }

    pub fn full_text(&self) -> String {
        format!("{} {}", self.text, self.flags)
    }
}

/// Keep nodes whose text matches (and their ancestors; a matching parent keeps its subtree).
/// A leading `!` inverts the match for leaves.
pub fn filter<T>(nodes: Vec<Node<T>>, filter: &str) -> Vec<Node<T>> {
    let (invert, needle) = match filter.strip_prefix('!') {
        Some(r) => (true, r.to_lowercase()),
        None => (false, filter.to_lowercase()),
    };
    if needle.is_empty() {
        return nodes;
    }
    fn walk<T>(nodes: Vec<Node<T>>, needle: &str, invert: bool) -> Vec<Node<T>> {
        nodes
            .into_iter()
            .filter_map(|mut n| {
                let hit = n.full_text().to_lowercase().contains(needle);
                if n.children.is_empty() {
                    return (hit != invert).then_some(n);
                }
                if hit && !invert {
                    return Some(n);
                }
                n.children = walk(std::mem::take(&mut n.children), needle, invert);
                (!n.children.is_empty()).then_some(n)
            })
            .collect()
    }
    walk(nodes, &needle, invert)
}

/// Every node in display order, without children.
pub fn flatten<T: Clone>(nodes: &[Node<T>], out: &mut Vec<Node<T>>) {
    for n in nodes {
        out.push(Node {
            ids: n.ids.clone(),
            text: n.text.clone(),
            flags: n.flags.clone(),
            data: n.data.clone(),
            children: Vec::new(),
        });
        flatten(&n.children, out);
    }
}
