//! The team tree: sub-teams, which parent changes would make a loop, and how a
//! long listing of it folds.

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

/// One row a folded listing keeps: its index in the listing, and how many teams
/// below it the fold leaves out (the reader opens the team to see them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kept {
    pub index: usize,
    pub folded: usize,
}

/// Folds a listing of a team tree that is too long to read whole. `depths` are the
/// rows' depths in tree order (each team followed by its sub-teams). Keeps as many
/// whole levels as fit in `limit` rows, and always the shallowest level, so the
/// reader sees the top of the tree and opens a team for what lies below; a level
/// is never cut in half, which would show some teams' sub-teams and not others'.
pub fn fold(depths: &[usize], limit: usize) -> Vec<Kept> {
    let mut per_level: std::collections::BTreeMap<usize, usize> = Default::default();
    for &d in depths {
        *per_level.entry(d).or_default() += 1;
    }
    let shallowest = per_level.keys().next().copied().unwrap_or(0);
    let mut deepest = usize::MAX;
    let mut rows = 0;
    for (&level, &n) in &per_level {
        rows += n;
        if rows > limit {
            deepest = level.saturating_sub(1).max(shallowest);
            break;
        }
    }
    let mut kept: Vec<Kept> = Vec::new();
    for (index, &d) in depths.iter().enumerate() {
        if d <= deepest {
            kept.push(Kept { index, folded: 0 });
        } else if let Some(last) = kept.last_mut() {
            // Rows deeper than the fold belong to the last kept row above them.
            last.folded += 1;
        }
    }
    kept
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

    #[test]
    fn a_listing_that_fits_is_kept_whole() {
        let depths = [0, 1, 2, 1, 0];
        let kept = fold(&depths, 5);
        assert_eq!(kept.len(), 5);
        assert!(kept.iter().all(|k| k.folded == 0));
    }

    #[test]
    fn a_long_listing_keeps_whole_levels_and_counts_what_it_folds() {
        // Two departments (0), three teams (1), four squads (2).
        let depths = [0, 1, 2, 2, 1, 0, 1, 2, 2];
        // 2 + 3 = 5 rows fit in 6; the squads would make 9.
        let kept = fold(&depths, 6);
        let got: Vec<(usize, usize)> = kept.iter().map(|k| (k.index, k.folded)).collect();
        assert_eq!(got, vec![(0, 0), (1, 2), (4, 0), (5, 0), (6, 2)]);
        // Only the departments fit in 4; each folds its whole subtree.
        let got: Vec<(usize, usize)> = fold(&depths, 4)
            .iter()
            .map(|k| (k.index, k.folded))
            .collect();
        assert_eq!(got, vec![(0, 4), (5, 3)]);
    }

    #[test]
    fn the_shallowest_level_is_kept_even_when_it_alone_is_too_long() {
        let depths = [0, 1, 0, 1, 0];
        let got: Vec<(usize, usize)> = fold(&depths, 2)
            .iter()
            .map(|k| (k.index, k.folded))
            .collect();
        assert_eq!(got, vec![(0, 1), (2, 1), (4, 0)]);
        // A listing under one team starts below the top.
        let got: Vec<(usize, usize)> = fold(&[3, 4, 4], 1)
            .iter()
            .map(|k| (k.index, k.folded))
            .collect();
        assert_eq!(got, vec![(0, 2)]);
        assert!(fold(&[], 3).is_empty());
    }
}
