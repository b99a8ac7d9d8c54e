//! The team tree: sub-teams, and which parent changes would make a loop.

use std::collections::{BTreeSet, HashMap};

/// `(team id, parent id)` for every team.
pub type Edges = [(i32, Option<i32>)];

/// The given teams and every team below them.
pub fn with_descendants(edges: &Edges, roots: impl IntoIterator<Item = i32>) -> BTreeSet<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for &(id, parent) in edges {
        if let Some(p) = parent {
            children.entry(p).or_default().push(id);
        }
    }
    let mut out = BTreeSet::new();
    let mut stack: Vec<i32> = roots.into_iter().collect();
    while let Some(id) = stack.pop() {
        // `insert` returning false also stops a loop in corrupt data.
        if out.insert(id) {
            stack.extend(children.get(&id).into_iter().flatten());
        }
    }
    out
}

/// Whether making `new_parent` the parent of `team` would put the team under itself.
pub fn would_loop(edges: &Edges, team: i32, new_parent: i32) -> bool {
    with_descendants(edges, [team]).contains(&new_parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TREE: &[(i32, Option<i32>)] = &[
        (1, None),
        (2, Some(1)),
        (3, Some(2)),
        (4, Some(1)),
        (5, None),
    ];

    #[test]
    fn descendants_include_the_whole_subtree() {
        assert_eq!(with_descendants(TREE, [1]), BTreeSet::from([1, 2, 3, 4]));
        assert_eq!(with_descendants(TREE, [2, 5]), BTreeSet::from([2, 3, 5]));
        assert!(with_descendants(TREE, []).is_empty());
    }

    #[test]
    fn detects_loops() {
        assert!(would_loop(TREE, 1, 3));
        assert!(would_loop(TREE, 2, 2));
        assert!(!would_loop(TREE, 3, 4));
        assert!(!would_loop(TREE, 5, 1));
    }
}
