//! Tree panes (attachments, tail calls): one node type, one filter, one flattening; the
//! order of a tree is its nodes in display order.

use super::order::{Order, RowRef};
use super::RowKey;

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

    /// Is this node, or any node below it, marked (`m`)?
    pub fn holds_mark(&self, marked: &[RowKey]) -> bool {
        marked.contains(&self.key()) || self.children.iter().any(|c| c.holds_mark(marked))
    }
}

/// Top-level subtrees holding a marked node first; each group keeps the tree's order (a stable
/// partition, as marked rows of a table keep their sort order). Marks are keys, so a marked
/// node that is gone simply pins nothing until it comes back.
pub fn pin_marked<T>(nodes: Vec<Node<T>>, marked: &[RowKey]) -> Vec<Node<T>> {
    if marked.is_empty() {
        return nodes;
    }
    let (mut pinned, rest): (Vec<_>, Vec<_>) =
        nodes.into_iter().partition(|n| n.holds_mark(marked));
    pinned.extend(rest);
    pinned
}

/// Keys of the top-level nodes whose subtree holds a mark (for flat exports of a tree).
pub fn pinned_roots<T>(nodes: &[Node<T>], marked: &[RowKey]) -> Vec<RowKey> {
    nodes
        .iter()
        .filter(|n| !marked.is_empty() && n.holds_mark(marked))
        .map(Node::key)
        .collect()
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

/// The lines of a tree as shown (every node open), in display order.
pub fn order<T>(nodes: &[Node<T>]) -> Order {
    fn walk<T>(nodes: &[Node<T>], out: &mut Order) {
        for n in nodes {
            out.push(n.key(), RowRef::Row(out.len()));
            walk(&n.children, out);
        }
    }
    let mut out = Order::default();
    walk(nodes, &mut out);
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    fn node(ids: &[&str], children: Vec<Node<()>>) -> Node<()> {
        Node {
            ids: ids.iter().map(|s| s.to_string()).collect(),
            text: ids.join("/"),
            flags: String::new(),
            data: None,
            children,
        }
    }

    fn forest() -> Vec<Node<()>> {
        vec![
            node(&["a"], vec![node(&["a", "x"], vec![])]),
            node(&["b"], vec![node(&["b", "y"], vec![])]),
            node(&["c"], vec![node(&["c", "z"], vec![])]),
        ]
    }

    fn roots(nodes: &[Node<()>]) -> Vec<String> {
        nodes.iter().map(|n| n.ids[0].clone()).collect()
    }

    #[test]
    fn roots_holding_a_mark_come_first_in_tree_order() {
        let marked = [RowKey::Path("c/z".into()), RowKey::Path("b".into())];
        assert_eq!(roots(&pin_marked(forest(), &marked)), ["b", "c", "a"]);
        assert_eq!(
            pinned_roots(&forest(), &marked),
            [RowKey::Path("b".into()), RowKey::Path("c".into())]
        );
    }

    #[test]
    fn a_mark_on_a_missing_node_pins_nothing() {
        let marked = [RowKey::Path("d/w".into())];
        assert_eq!(roots(&pin_marked(forest(), &marked)), ["a", "b", "c"]);
        assert!(pinned_roots(&forest(), &marked).is_empty());
    }
}
