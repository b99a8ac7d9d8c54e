//! Views over disclosed cells: periods and team listings, each figure a sum of shown cells.

use crate::domain::disclosure::{sum, RoundCells, Sum};
use crate::domain::report::{period_of, GroupBy};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// One point of a trend: a period (or one round) and the group's sum over its rounds.
#[derive(Debug, Clone)]
pub struct Point {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub round_id: Option<i32>,
    pub sum: Sum,
}

/// The group's figures per period: every period that holds a round, in order.
pub fn points(rounds: &[RoundCells], group: i32, by: GroupBy) -> Vec<Point> {
    let mut periods: BTreeMap<(NaiveDate, NaiveDate, Option<i32>), Vec<&RoundCells>> =
        BTreeMap::new();
    for r in rounds {
        let (start, end) = period_of(r.day, by);
        let round = (by == GroupBy::Round).then_some(r.round_id);
        periods.entry((start, end, round)).or_default().push(r);
    }
    periods
        .into_iter()
        .map(|((start, end, round_id), rs)| Point {
            start,
            end,
            round_id,
            sum: sum(rs, group),
        })
        .collect()
}

/// Each group's sum over all the given rounds: the heat map of one window.
pub fn group_sums(
    rounds: &[RoundCells],
    groups: impl IntoIterator<Item = i32>,
) -> BTreeMap<i32, Sum> {
    groups.into_iter().map(|g| (g, sum(rounds, g))).collect()
}

#[cfg(test)]
mod tests;
