//! Whatever views a reader combines — periods, windows, survey filters, teams, heat
//! maps — no hidden cell can be worked out: checked by exact linear algebra over every
//! figure of every view at once.

use super::*;
use crate::domain::disclosure::{disclose_all, Tree};
use crate::domain::enps::Counts;
use crate::domain::exact::{in_row_space, rank};
use crate::domain::report::{Counter, COMPANY};
use proptest::prelude::*;
use std::collections::BTreeSet;

/// A company: teams `1..=n` with random parents, rounds of two surveys on random days,
/// and per (round, team) how many answered (everyone invited answers or not).
#[derive(Debug, Clone)]
struct Company {
    edges: Vec<(i32, Option<i32>)>,
    /// (round, survey, day offset in days, min_group_size)
    rounds: Vec<(i32, i32, i64, u32)>,
    /// (round, team or 0, invited, answered)
    cells: Vec<(i32, i32, u32, u32)>,
}

fn companies() -> impl Strategy<Value = Company> {
    (1usize..=5, 2usize..=5).prop_flat_map(|(teams, rounds)| {
        (
            prop::collection::vec(any::<prop::sample::Index>(), teams),
            prop::collection::vec(any::<bool>(), teams),
            prop::collection::vec((0i32..2, 0i64..120, 3u32..=5), rounds),
            prop::collection::vec(
                (0u32..=3, prop_oneof![3 => 0u32..=3, 1 => 0u32..=8]),
                rounds * (teams + 1),
            ),
        )
            .prop_map(move |(parents, roots, round_specs, counts)| {
                let edges = (1..=teams as i32)
                    .map(|t| {
                        let i = (t - 1) as usize;
                        let parent = (t > 1 && !roots[i]).then(|| parents[i].index(i) as i32 + 1);
                        (t, parent)
                    })
                    .collect();
                let rounds: Vec<(i32, i32, i64, u32)> = round_specs
                    .iter()
                    .enumerate()
                    .map(|(i, &(survey, day, min))| (i as i32 + 1, survey, day, min))
                    .collect();
                let mut cells = vec![];
                for (ri, r) in rounds.iter().enumerate() {
                    for team in 0..=teams as i32 {
                        let (extra, answered) = counts[ri * (teams + 1) + team as usize];
                        cells.push((r.0, team, answered + extra, answered));
                    }
                }
                Company {
                    edges,
                    rounds,
                    cells,
                }
            })
    })
}

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
}

impl Company {
    fn counters(&self, survey: Option<i32>) -> Vec<Counter> {
        self.cells
            .iter()
            .filter_map(|&(round, team, invited, answered)| {
                let &(_, s, day, min) = self.rounds.iter().find(|r| r.0 == round)?;
                if survey.is_some_and(|f| f != s) {
                    return None;
                }
                Some(Counter {
                    round_id: round,
                    day: start() + chrono::Duration::days(day),
                    scale: "1-10".into(),
                    min_group_size: min as i32,
                    team_id: team,
                    invited,
                    responses: answered,
                    counts: Counts {
                        promoters: answered,
                        passives: 0,
                        detractors: 0,
                    },
                })
            })
            .collect()
    }

    fn groups(&self) -> Vec<i32> {
        self.edges.iter().map(|e| e.0).chain([COMPANY]).collect()
    }

    /// Whether team `t`'s answers count in group `g`.
    fn within(&self, t: i32, g: i32) -> bool {
        Tree::new(&self.edges).ancestry(t).contains(&g)
    }

    /// One unknown per (round, team or 0): what its people answered.
    fn columns(&self) -> Vec<(i32, i32)> {
        self.cells.iter().map(|c| (c.0, c.1)).collect()
    }

    /// The vector of a cell (round × group) over the unknowns.
    fn cell_vector(&self, round: i32, group: i32) -> Vec<i128> {
        self.columns()
            .iter()
            .map(|&(r, t)| i128::from(r == round && self.within(t, group)))
            .collect()
    }

    fn true_value(&self, round: i32, group: i32) -> u32 {
        self.cells
            .iter()
            .filter(|c| c.0 == round && self.within(c.1, group))
            .map(|c| c.3)
            .sum()
    }

    /// Every figure of every view a reader may ask for, as (cells summed, value shown).
    fn every_view(&self) -> Vec<(Vec<(i32, i32)>, u32)> {
        let tree = Tree::new(&self.edges);
        let mut out = vec![];
        let windows = [(0, 200), (0, 30), (31, 200), (0, 59), (60, 119), (15, 45)];
        for survey in [None, Some(0), Some(1)] {
            let all = self.counters(survey);
            for &(from, to) in &windows {
                let counters: Vec<Counter> = all
                    .iter()
                    .filter(|c| {
                        let day = (c.day - start()).num_days();
                        day >= from && day <= to
                    })
                    .cloned()
                    .collect();
                let rounds = disclose_all(&counters, &tree);
                for by in [GroupBy::Round, GroupBy::Month, GroupBy::Quarter] {
                    for g in self.groups() {
                        for p in points(&rounds, g, by) {
                            out.push((p.sum.cells.clone(), p.sum.totals.responses));
                        }
                    }
                }
                for s in group_sums(&rounds, self.groups()).into_values() {
                    out.push((s.cells.clone(), s.totals.responses));
                }
            }
        }
        out
    }
}

/// Hidden cells a reader can work out from the given figures (each the sum of the
/// cells it names), knowing also every unknown that is zero; and figures that stand
/// for fewer people than their rounds' threshold.
fn leaks(c: &Company, views: &[(Vec<(i32, i32)>, u32)]) -> Vec<String> {
    let mut out = vec![];
    let min_of = |round: i32| c.rounds.iter().find(|r| r.0 == round).map_or(0, |r| r.3);
    for (cells, _) in views {
        for &(r, g) in cells {
            if c.true_value(r, g) < min_of(r) {
                out.push(format!(
                    "a figure holds round {r}, group {g} under the threshold"
                ));
            }
        }
    }
    let cols = c.columns();
    let mut rows: Vec<Vec<i128>> = views
        .iter()
        .filter(|(cells, _)| !cells.is_empty())
        .map(|(cells, _)| {
            let mut row = vec![0i128; cols.len()];
            for &(r, g) in cells {
                for (v, x) in row.iter_mut().zip(c.cell_vector(r, g)) {
                    *v += x;
                }
            }
            row
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for (i, cell) in c.cells.iter().enumerate() {
        if cell.3 == 0 {
            let mut unit = vec![0i128; cols.len()];
            unit[i] = 1;
            rows.push(unit);
        }
    }
    let r = rank(rows.clone());
    for &(round, _, _, min) in &c.rounds {
        for g in c.groups() {
            let v = c.true_value(round, g);
            if v > 0 && v < min && in_row_space(&rows, r, &c.cell_vector(round, g)) {
                out.push(format!(
                    "round {round}, group {g} ({v} < {min}) can be worked out"
                ));
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn no_view_or_combination_of_views_gives_a_hidden_cell(c in companies()) {
        let views = c.every_view();
        // Each figure is honestly the sum of the cells it names.
        for (cells, value) in &views {
            let sum: u32 = cells.iter().map(|&(r, g)| c.true_value(r, g)).sum();
            prop_assert_eq!(sum, *value);
        }
        let found = leaks(&c, &views);
        prop_assert!(found.is_empty(), "{found:?}");
    }
}

#[test]
fn the_check_catches_views_that_decide_for_themselves() {
    // Two rounds in one month, threshold 5. Team 1 has 2 answers in round 1 and 6 in
    // round 2; team 2 has 10 in each. The old rule decided per view: the month shows
    // team 1 (8), round 2 shows team 1 (6), round 1 hides it (2) — and month − round 2
    // gives it. One person answering both rounds alone (1 + 1) would show in the month.
    let c = Company {
        edges: vec![(1, None), (2, None)],
        rounds: vec![(1, 0, 3, 5), (2, 0, 10, 5)],
        cells: vec![(1, 1, 2, 2), (1, 2, 10, 10), (2, 1, 6, 6), (2, 2, 10, 10)],
    };
    let per_view = vec![(vec![(1, 1), (2, 1)], 8), (vec![(2, 1)], 6)];
    assert_eq!(
        leaks(&c, &per_view),
        vec![
            "a figure holds round 1, group 1 under the threshold",
            "round 1, group 1 (2 < 5) can be worked out"
        ]
    );
    // The cell rule: the month is round 2's cell alone, and nothing follows.
    assert!(leaks(&c, &c.every_view()).is_empty());
    let lone = Company {
        edges: vec![(1, None), (2, None)],
        rounds: vec![(1, 0, 3, 5), (2, 0, 10, 5)],
        cells: vec![(1, 1, 1, 1), (1, 2, 10, 10), (2, 1, 1, 1), (2, 2, 10, 10)],
    };
    assert!(!leaks(&lone, &[(vec![(1, 1), (2, 1)], 2)]).is_empty());
    assert!(leaks(&lone, &lone.every_view()).is_empty());
}
