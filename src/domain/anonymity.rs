//! Which groups' figures must be hidden so that no small group can be seen or worked out by subtraction.

use std::collections::{BTreeMap, BTreeSet};

/// One node of the team tree, with the respondents counted directly in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    pub id: i32,
    pub parent: Option<i32>,
    /// Respondents directly in this group, not in a sub-group.
    pub own: u32,
}

/// Every group whose figures must be hidden: those with fewer than `min` respondents in total (a group with 0 respondents has nothing to show and counts as hidden), plus complementary suppressions so that no hidden figure can be recovered by subtracting visible ones.
///
/// Malformed input is tolerated rather than rejected: a repeated id keeps its first
/// entry, a parent id that is unknown (or the group itself) makes the group a root, and
/// a parent cycle is cut above its lowest id.
///
/// # Model
///
/// Each group's figure is additive: total(g) = own(g) + Σ total(children). A reader sees
/// the totals of visible groups, never an "own" part, and may subtract. We also assume the
/// reader knows every value that is zero (a team with nobody in it, a department with no
/// direct members): such a value can never shield anything.
///
/// A small value (1..min−1) is safe exactly when the published figures admit two
/// different values for it. For a tree of sums that condition has a short, checkable form. Join
/// each hidden group with a positive total to its parent; call the joined pieces
/// "blocks". A block's top is either a visible group or a hidden root.
///
/// * A small hidden group x with parent p: cutting x off splits its block in two. x is safe
///   if the block's top is a hidden root (its total is not published anywhere), or the
///   part still attached to p contains a positive own part (an unknown that absorbs the
///   difference). Otherwise parent − visible figures = x.
/// * A small own part of P: safe if P's block is topped by a hidden root, or the block
///   holds another positive own part.
///
/// Exposed values are shielded one at a time, shallowest block first, by hiding one more
/// visible child of the exposed block (or, with none left, the block's top itself); then
/// everything is checked again until nothing is exposed. Each round hides one group, so it
/// ends. A hidden group that is merely the sum of visible sub-teams shields nothing, so the
/// choice of child looks at what it really brings in; see `Forest::complement`.
///
/// A hidden root is safe because nothing above it is published: a caller that shows a
/// company-wide figure must pass the company as the root group.
pub fn suppressed(groups: &[Group], min: u32) -> BTreeSet<i32> {
    let forest = Forest::new(groups);
    let min = u64::from(min);
    let mut hidden: Vec<bool> = forest.total.iter().map(|&t| t == 0 || t < min).collect();
    // Each pass hides one more visible group, so this ends within `groups.len()` passes.
    loop {
        let blocks = Blocks::new(&forest, &hidden);
        match forest.first_exposure(&blocks, &hidden, min) {
            Some(exposure) => {
                let pick = forest.complement(&blocks, &mut hidden, exposure, min);
                hidden[pick] = true;
            }
            None => break,
        }
    }
    forest
        .ids
        .iter()
        .zip(&hidden)
        .filter(|(_, &h)| h)
        .map(|(&id, _)| id)
        .collect()
}

/// Free-text comments identify people more easily than numbers, so they need at least 5 even when the survey allows smaller groups.
pub fn comment_threshold(min_group_size: u32) -> u32 {
    min_group_size.max(5)
}

/// Candidates × groups up to which each candidate complement is tried before choosing;
/// beyond it the choice falls back to the plain rule so large trees stay near-linear per pass.
const LOOK_AHEAD_BUDGET: usize = 1 << 16;

/// The sanitised tree, indexed densely.
struct Forest {
    ids: Vec<i32>,
    parent: Vec<Option<usize>>,
    children: Vec<Vec<usize>>,
    own: Vec<u64>,
    total: Vec<u64>,
    /// Every parent before its children.
    top_down: Vec<usize>,
    /// Shallowest first, then by id: the order in which exposures are fixed.
    fix_order: Vec<usize>,
    depth: Vec<usize>,
}

/// The value that must not be derivable, and where its block is.
#[derive(Clone, Copy)]
struct Exposure {
    /// Top of the exposed block (always a visible group).
    top: usize,
    /// For a small group total: that group, whose own side of the block is not searched.
    cut: Option<usize>,
}

/// Block structure for one state of `hidden`.
struct Blocks {
    /// Whether the group is joined to its parent's block.
    joined: Vec<bool>,
    /// Positive own parts in the group and in everything joined below it.
    unknowns_below: Vec<usize>,
    /// Top of the group's block.
    top: Vec<usize>,
}

impl Forest {
    fn new(groups: &[Group]) -> Forest {
        let mut index: BTreeMap<i32, usize> = BTreeMap::new();
        let mut kept: Vec<&Group> = Vec::new();
        for g in groups {
            if let std::collections::btree_map::Entry::Vacant(slot) = index.entry(g.id) {
                slot.insert(kept.len());
                kept.push(g);
            }
        }
        let n = kept.len();
        let ids: Vec<i32> = kept.iter().map(|g| g.id).collect();
        let mut parent: Vec<Option<usize>> = kept
            .iter()
            .enumerate()
            .map(|(i, g)| {
                g.parent
                    .and_then(|p| index.get(&p).copied())
                    .filter(|&p| p != i)
            })
            .collect();
        break_cycles(&ids, &mut parent);

        let mut children = vec![Vec::new(); n];
        for (i, p) in parent.iter().enumerate() {
            if let Some(p) = *p {
                children[p].push(i);
            }
        }
        let mut top_down: Vec<usize> = (0..n).filter(|&i| parent[i].is_none()).collect();
        let mut next = 0;
        while next < top_down.len() {
            let i = top_down[next];
            top_down.extend(children[i].iter().copied());
            next += 1;
        }
        let own: Vec<u64> = kept.iter().map(|g| u64::from(g.own)).collect();
        let mut total = own.clone();
        for &i in top_down.iter().rev() {
            if let Some(p) = parent[i] {
                total[p] = total[p].saturating_add(total[i]);
            }
        }
        let mut depth = vec![0usize; n];
        for &i in &top_down {
            if let Some(p) = parent[i] {
                depth[i] = depth[p] + 1;
            }
        }
        let mut fix_order: Vec<usize> = (0..n).collect();
        fix_order.sort_by_key(|&i| (depth[i], ids[i]));
        Forest {
            depth,
            ids,
            parent,
            children,
            own,
            total,
            top_down,
            fix_order,
        }
    }

    fn is_small(&self, value: u64, min: u64) -> bool {
        value > 0 && value < min
    }

    /// Every value the visible figures would reveal, keyed so that the smallest key is
    /// shielded first: the shallowest block top, because hiding near the top widens the
    /// blocks below it and often shields several values at once; totals before own parts.
    fn exposures<'a>(
        &'a self,
        b: &'a Blocks,
        hidden: &'a [bool],
        min: u64,
    ) -> impl Iterator<Item = ((usize, u8, usize), Exposure)> + 'a {
        let totals = self
            .fix_order
            .iter()
            .enumerate()
            .filter_map(move |(rank, &x)| {
                if !hidden[x] || !self.is_small(self.total[x], min) {
                    return None;
                }
                let top = b.top[self.parent[x]?];
                let exposed = !hidden[top] && b.unknowns_below[top] == b.unknowns_below[x];
                exposed.then_some(((self.depth[top], 0, rank), Exposure { top, cut: Some(x) }))
            });
        let owns = self
            .fix_order
            .iter()
            .enumerate()
            .filter_map(move |(rank, &g)| {
                if !self.is_small(self.own[g], min) {
                    return None;
                }
                let top = b.top[g];
                let exposed = !hidden[top] && b.unknowns_below[top] == 1;
                exposed.then_some(((self.depth[top], 1, rank), Exposure { top, cut: None }))
            });
        totals.chain(owns)
    }

    fn first_exposure(&self, b: &Blocks, hidden: &[bool], min: u64) -> Option<Exposure> {
        self.exposures(b, hidden, min)
            .min_by_key(|(key, _)| *key)
            .map(|(_, e)| e)
    }

    /// How many values would still be exposed with `extra` hidden as well.
    fn exposed_after(&self, hidden: &mut [bool], extra: usize, min: u64) -> usize {
        hidden[extra] = true;
        let blocks = Blocks::new(self, hidden);
        let count = self.exposures(&blocks, hidden, min).count();
        hidden[extra] = false;
        count
    }

    /// The group to hide next to shield `e`: a visible child of the exposed block.
    ///
    /// Preference: leaving the fewest values exposed (tried one by one while the tree is
    /// small enough for that to be cheap), then bringing in an unknown (a child that is just
    /// the sum of visible sub-teams shields nothing by itself), then the fewest respondents,
    /// then the lowest id.
    fn complement(&self, b: &Blocks, hidden: &mut [bool], e: Exposure, min: u64) -> usize {
        let mut members = vec![e.top];
        let mut candidates = Vec::new();
        while let Some(m) = members.pop() {
            for &c in &self.children[m] {
                if Some(c) == e.cut {
                    continue;
                }
                if b.joined[c] {
                    members.push(c);
                } else if !hidden[c] {
                    candidates.push(c);
                }
            }
        }
        let look_ahead = candidates.len().saturating_mul(self.ids.len()) <= LOOK_AHEAD_BUDGET;
        let mut best: Option<((usize, bool, u64, i32), usize)> = None;
        for c in candidates {
            let left = if look_ahead {
                self.exposed_after(hidden, c, min)
            } else {
                0
            };
            let key = (left, b.unknowns_below[c] == 0, self.total[c], self.ids[c]);
            if best.is_none_or(|(k, _)| key < k) {
                best = Some((key, c));
            }
        }
        // A visible top always has a child to hide: its total reaches `min` while the
        // exposed value does not. Hiding the top itself is the safe answer should that fail.
        best.map_or(e.top, |(_, c)| c)
    }
}

impl Blocks {
    fn new(f: &Forest, hidden: &[bool]) -> Blocks {
        let n = f.ids.len();
        // Zero totals are known to the reader, so they join nothing.
        let joined: Vec<bool> = (0..n)
            .map(|i| hidden[i] && f.total[i] > 0 && f.parent[i].is_some())
            .collect();
        let mut unknowns_below: Vec<usize> = f.own.iter().map(|&o| usize::from(o > 0)).collect();
        for &i in f.top_down.iter().rev() {
            if let (true, Some(p)) = (joined[i], f.parent[i]) {
                unknowns_below[p] += unknowns_below[i];
            }
        }
        let mut top: Vec<usize> = (0..n).collect();
        for &i in &f.top_down {
            if let (true, Some(p)) = (joined[i], f.parent[i]) {
                top[i] = top[p];
            }
        }
        Blocks {
            joined,
            unknowns_below,
            top,
        }
    }
}

/// Makes the parent links a forest by cutting every cycle above its lowest id.
fn break_cycles(ids: &[i32], parent: &mut [Option<usize>]) {
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; parent.len()];
    for start in 0..parent.len() {
        let mut path = Vec::new();
        let mut cur = Some(start);
        while let Some(c) = cur {
            match state[c] {
                DONE => break,
                ON_PATH => {
                    let from = path.iter().position(|&p| p == c).unwrap_or(0);
                    if let Some(&cut) = path[from..].iter().min_by_key(|&&p| ids[p]) {
                        parent[cut] = None;
                    }
                    break;
                }
                _ => {
                    state[c] = ON_PATH;
                    path.push(c);
                    cur = parent[c];
                }
            }
        }
        for p in path {
            state[p] = DONE;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::exact::{in_row_space, rank};
    use proptest::prelude::*;

    fn g(id: i32, parent: Option<i32>, own: u32) -> Group {
        Group { id, parent, own }
    }

    fn set(ids: &[i32]) -> BTreeSet<i32> {
        ids.iter().copied().collect()
    }

    #[test]
    fn small_child_takes_the_smallest_sibling_with_it() {
        // Parent 1 (24 in all): children 10, 10, 4. Hiding only the 4 leaves 24 − 10 − 10 = 4.
        let groups = [
            g(1, None, 0),
            g(3, Some(1), 10),
            g(2, Some(1), 10),
            g(4, Some(1), 4),
        ];
        assert_eq!(suppressed(&groups, 5), set(&[2, 4]));
    }

    #[test]
    fn small_own_part_takes_a_child_with_it() {
        // Parent 1 has 2 direct respondents and children of 10 and 10: 22 − 10 − 10 = 2.
        let groups = [g(1, None, 2), g(2, Some(1), 10), g(3, Some(1), 10)];
        assert_eq!(suppressed(&groups, 5), set(&[2]));
        // A larger own part is no secret (it is never shown, and is not small).
        let groups = [g(1, None, 7), g(2, Some(1), 10), g(3, Some(1), 10)];
        assert!(suppressed(&groups, 5).is_empty());
    }

    #[test]
    fn family_of_small_children_gets_its_parent_hidden() {
        // Root 1 (10): team 2 (7 = sub-teams 3 and 4, all small) and team 5 (3).
        // Team 5 is alone among the hidden under the root, so team 2 goes too;
        // 3 and 4 shield each other inside team 2.
        let groups = [
            g(1, None, 0),
            g(2, Some(1), 0),
            g(3, Some(2), 3),
            g(4, Some(2), 4),
            g(5, Some(1), 3),
        ];
        assert_eq!(suppressed(&groups, 5), set(&[2, 3, 4, 5]));
    }

    #[test]
    fn small_children_shield_each_other() {
        let groups = [
            g(1, None, 0),
            g(2, Some(1), 3),
            g(3, Some(1), 4),
            g(4, Some(1), 9),
        ];
        assert_eq!(suppressed(&groups, 5), set(&[2, 3]));
    }

    #[test]
    fn whole_tree_hidden_when_the_root_is_small() {
        let groups = [
            g(1, None, 1),
            g(2, Some(1), 1),
            g(3, Some(2), 1),
            g(4, Some(1), 0),
        ];
        assert_eq!(suppressed(&groups, 5), set(&[1, 2, 3, 4]));
    }

    #[test]
    fn a_complement_that_is_just_the_sum_of_its_children_shields_nothing() {
        // Root 1: small team 2 (2) and team 3 (10 = sub-teams 4 and 5, nobody directly in 3).
        // Hiding 3 alone would not do: 3 = 4 + 5, then 2 = 1 − 3. A sub-team must go too.
        let groups = [
            g(1, None, 0),
            g(2, Some(1), 2),
            g(3, Some(1), 0),
            g(4, Some(3), 5),
            g(5, Some(3), 5),
        ];
        assert_eq!(suppressed(&groups, 5), set(&[2, 3, 4]));
        // With a plain leaf of 12 beside it, the leaf is the better single complement.
        let mut more = groups.to_vec();
        more.push(g(6, Some(1), 12));
        assert_eq!(suppressed(&more, 5), set(&[2, 6]));
    }

    #[test]
    fn empty_groups_are_hidden_but_shield_nothing() {
        // Team 3 has nobody: hidden, yet everyone knows its zero, so 2 needs team 4 as cover.
        let groups = [
            g(1, None, 0),
            g(2, Some(1), 2),
            g(3, Some(1), 0),
            g(4, Some(1), 8),
            g(5, Some(1), 9),
        ];
        assert_eq!(suppressed(&groups, 5), set(&[2, 3, 4]));
    }

    #[test]
    fn separate_roots_are_separate_trees() {
        let groups = [
            g(1, None, 2),
            g(2, None, 9),
            g(3, Some(2), 2),
            g(4, Some(2), 6),
        ];
        // Root 1 is small but nothing above it is published. In tree 2, root 2's own part
        // (9, never shown) already keeps team 3 from being worked out.
        assert_eq!(suppressed(&groups, 5), set(&[1, 3]));
    }

    #[test]
    fn malformed_input_does_not_panic() {
        assert!(suppressed(&[], 5).is_empty());
        // A parent cycle (1 under 3 under 2 under 1), a self-parent, an unknown parent and
        // a repeated id.
        let groups = [
            g(1, Some(3), 6),
            g(2, Some(1), 6),
            g(3, Some(2), 6),
            g(4, Some(4), 2),
            g(5, Some(99), 7),
            g(5, Some(1), 1),
        ];
        let hidden = suppressed(&groups, 5);
        // The cycle is cut above 1, leaving 1 (18) → 2 (12) → 3 (6), all shown.
        assert_eq!(hidden, set(&[4]));
        let huge = [
            g(1, None, u32::MAX),
            g(2, Some(1), u32::MAX),
            g(3, Some(1), 1),
        ];
        assert_eq!(suppressed(&huge, u32::MAX), set(&[3]));
        assert_eq!(suppressed(&[g(1, None, 0)], 0), set(&[1]));
    }

    #[test]
    fn long_chain_is_handled_without_recursion() {
        // 0 → 1 → … → 2999, one direct respondent each: totals 3000 down to 1.
        let mut groups: Vec<Group> = (1..3000).map(|i| g(i, Some(i - 1), 1)).collect();
        groups.push(g(0, None, 1));
        let hidden = suppressed(&groups, 5);
        assert!((2996..3000).all(|i| hidden.contains(&i)));
        // Two visible neighbours would give away the upper one's single direct respondent.
        assert!((0..2995).all(|i| hidden.contains(&i) || hidden.contains(&(i + 1))));
    }

    #[test]
    fn comment_threshold_is_at_least_five() {
        assert_eq!(comment_threshold(3), 5);
        assert_eq!(comment_threshold(5), 5);
        assert_eq!(comment_threshold(8), 8);
    }

    // ---- Independent check by linear algebra -------------------------------------------

    /// Which values a reader can determine from the visible totals, by exact row reduction.
    struct Reader {
        /// Column of each group's total when unknown.
        total_col: Vec<Option<usize>>,
        /// Column of each group's own part when unknown.
        own_col: Vec<Option<usize>>,
        rows: Vec<Vec<i128>>,
        rank: usize,
    }

    impl Reader {
        /// `zeros_known`: the reader also knows every value that is zero.
        fn new(groups: &[Group], hidden: &BTreeSet<i32>, zeros_known: bool) -> Reader {
            let n = groups.len();
            let pos = |id: i32| groups.iter().position(|x| x.id == id);
            let parent: Vec<Option<usize>> =
                groups.iter().map(|g| g.parent.and_then(pos)).collect();
            let mut total: Vec<u64> = vec![0; n];
            for (i, grp) in groups.iter().enumerate() {
                let mut at = Some(i);
                while let Some(a) = at {
                    total[a] += u64::from(grp.own);
                    at = parent[a];
                }
            }
            let mut cols = 0;
            let mut col = |unknown: bool| {
                unknown.then(|| {
                    cols += 1;
                    cols - 1
                })
            };
            let total_col: Vec<Option<usize>> = (0..n)
                .map(|i| col(hidden.contains(&groups[i].id) && !(zeros_known && total[i] == 0)))
                .collect();
            let own_col: Vec<Option<usize>> = (0..n)
                .map(|i| col(!(zeros_known && groups[i].own == 0)))
                .collect();
            // total(g) − own(g) − Σ total(children) = 0, known values moved to the right.
            let mut rows = vec![vec![0i128; cols]; n];
            for i in 0..n {
                if let Some(c) = total_col[i] {
                    rows[i][c] += 1;
                }
                if let Some(c) = own_col[i] {
                    rows[i][c] -= 1;
                }
                if let (Some(p), Some(c)) = (parent[i], total_col[i]) {
                    rows[p][c] -= 1;
                }
            }
            let rank = rank(rows.clone());
            Reader {
                total_col,
                own_col,
                rows,
                rank,
            }
        }

        /// A value is determined iff its unit vector lies in the row space.
        fn determines(&self, col: usize) -> bool {
            let mut unit = vec![0i128; self.rows.first().map_or(0, Vec::len)];
            unit[col] = 1;
            in_row_space(&self.rows, self.rank, &unit)
        }
    }

    /// Small totals and small own parts the reader can determine.
    fn leaks(groups: &[Group], hidden: &BTreeSet<i32>, min: u32, zeros_known: bool) -> Vec<String> {
        let reader = Reader::new(groups, hidden, zeros_known);
        let totals = plain_totals(groups);
        let small = |v: u64| v > 0 && v < u64::from(min);
        let mut out = Vec::new();
        for (i, grp) in groups.iter().enumerate() {
            if small(totals[i]) {
                match reader.total_col[i] {
                    None => out.push(format!("total of {} is shown", grp.id)),
                    Some(c) if reader.determines(c) => out.push(format!("total of {}", grp.id)),
                    Some(_) => {}
                }
            }
            if small(u64::from(grp.own)) && reader.own_col[i].is_some_and(|c| reader.determines(c))
            {
                out.push(format!("own part of {}", grp.id));
            }
        }
        out
    }

    /// Totals computed plainly from the input, independent of the code under test.
    fn plain_totals(groups: &[Group]) -> Vec<u64> {
        groups
            .iter()
            .map(|root| {
                let mut sum = 0u64;
                let mut stack = vec![root.id];
                while let Some(id) = stack.pop() {
                    for grp in groups {
                        if grp.id == id {
                            sum += u64::from(grp.own);
                        }
                        if grp.parent == Some(id) {
                            stack.push(grp.id);
                        }
                    }
                }
                sum
            })
            .collect()
    }

    #[test]
    fn the_checker_catches_a_plain_threshold() {
        // The brief's reader treats group 1's empty own part as an unknown and so misses
        // 24 − 10 − 10 = 4; the reader who knows zeros (the one the algorithm answers) sees it.
        let groups = [
            g(1, None, 0),
            g(2, Some(1), 10),
            g(3, Some(1), 10),
            g(4, Some(1), 4),
        ];
        assert!(leaks(&groups, &set(&[4]), 5, false).is_empty());
        assert_eq!(
            leaks(&groups, &set(&[4]), 5, true),
            vec!["total of 4", "own part of 4"]
        );
        assert!(leaks(&groups, &set(&[2, 4]), 5, true).is_empty());
        let groups = [g(1, None, 2), g(2, Some(1), 10), g(3, Some(1), 10)];
        assert_eq!(leaks(&groups, &set(&[]), 5, false), vec!["own part of 1"]);
        let groups = [
            g(1, None, 0),
            g(2, Some(1), 2),
            g(3, Some(1), 0),
            g(4, Some(3), 5),
            g(5, Some(3), 5),
        ];
        assert_eq!(
            leaks(&groups, &set(&[2, 3]), 5, true),
            vec!["total of 2", "own part of 2"]
        );
        assert!(leaks(&groups, &set(&[2, 3, 4]), 5, true).is_empty());
    }

    /// Random forests of 1–12 groups: ids shuffled, input order shuffled, parents earlier in
    /// generation order so there are no cycles.
    fn forests() -> impl Strategy<Value = (Vec<Group>, u32)> {
        (1usize..=12)
            .prop_flat_map(|n| {
                (
                    prop::collection::vec(
                        (
                            prop_oneof![2 => 0u32..=2, 1 => 0u32..=12],
                            0u8..4,
                            any::<prop::sample::Index>(),
                        ),
                        n,
                    ),
                    Just((0..n as i32).map(|i| i * 3 - 7).collect::<Vec<_>>()).prop_shuffle(),
                    3u32..=6,
                )
            })
            .prop_flat_map(|(specs, ids, min)| {
                let groups: Vec<Group> = specs
                    .iter()
                    .enumerate()
                    .map(|(i, &(own, root, pick))| Group {
                        id: ids[i],
                        parent: (i > 0 && root > 0).then(|| ids[pick.index(i)]),
                        own,
                    })
                    .collect();
                (Just(groups).prop_shuffle(), Just(min))
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn no_small_value_can_be_derived((groups, min) in forests()) {
            let hidden = suppressed(&groups, min);
            let totals = plain_totals(&groups);
            for (grp, &total) in groups.iter().zip(&totals) {
                if total < u64::from(min) {
                    prop_assert!(hidden.contains(&grp.id), "group {} ({total}) shown", grp.id);
                }
            }
            prop_assert!(hidden.iter().all(|id| groups.iter().any(|grp| grp.id == *id)));
            // As the brief states the reader, and a stronger reader who also knows every zero.
            let plain = leaks(&groups, &hidden, min, false);
            prop_assert!(plain.is_empty(), "leaks {plain:?} with hidden {hidden:?}");
            let strong = leaks(&groups, &hidden, min, true);
            prop_assert!(strong.is_empty(), "leaks {strong:?} with hidden {hidden:?}");
            // Deterministic whatever the input order.
            let mut reversed = groups.clone();
            reversed.reverse();
            prop_assert_eq!(suppressed(&reversed, min), hidden);
        }
    }
}
