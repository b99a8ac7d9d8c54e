//! Rotating pulses: which of a survey's questions each link asks in a round, and the coverage that gives.
//!
//! The eNPS and free-comment questions are *fixed*: every form asks them, in
//! addition to the `per_round` questions drawn from the *pool* (the scale and
//! choice questions). The pool is ordered so neighbours measure different
//! drivers, then cut into `sets = ceil(pool / per_round)` consecutive windows of
//! `per_round` questions (the last wraps round to the start). Each link draws
//! one window from a key derived from its own token, which is never stored, so
//! the database holds nothing that says which person was asked what; the
//! windows start one question later each round, so wrapped questions change.
//! Every question is asked every round, to about one person in `sets`.

use crate::domain::driver::Driver;
use crate::domain::survey::{Question, QuestionKind, MAX_QUESTIONS};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A rotating survey holds at most this many questions: the whole library's
/// driver questions fit, and each form still obeys the ten-question rule.
pub const MAX_ROTATING_QUESTIONS: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotationInput {
    /// How many of the scale and choice questions each person gets a round;
    /// eNPS and comment questions are asked in addition.
    #[schema(minimum = 1, maximum = 9)]
    pub per_round: i32,
}

/// Asked on every form, whatever the draw.
pub fn is_fixed(kind: QuestionKind) -> bool {
    matches!(kind, QuestionKind::Enps | QuestionKind::Text)
}

/// Checks a rotation against the questions it draws from.
pub fn parse(
    input: &RotationInput,
    questions: &[Question],
    errors: &mut BTreeMap<String, String>,
) -> Option<usize> {
    let fixed = questions.iter().filter(|q| is_fixed(q.kind)).count();
    let pool = questions.len() - fixed;
    let room = MAX_QUESTIONS.saturating_sub(fixed);
    let k = input.per_round;
    let why = if k < 1 {
        Some("draw at least 1 question a round".to_string())
    } else if pool < 2 {
        Some("a rotation needs at least 2 scale or choice questions to draw from".into())
    } else if k as usize >= pool {
        Some(format!(
            "must be less than the {pool} scale and choice questions, or nothing rotates"
        ))
    } else if k as usize > room {
        Some(format!(
            "at most {room}: with {fixed} questions asked every round, each form keeps to {MAX_QUESTIONS}"
        ))
    } else {
        None
    };
    match why {
        Some(w) => {
            errors.insert("rotation.per_round".into(), w);
            None
        }
        None => Some(k as usize),
    }
}

/// Pool questions (indices into the survey's list) ordered round-robin over
/// their drivers, in order of first appearance, so a window of consecutive
/// questions spans as many drivers as it can.
pub fn pool_order(questions: &[Question]) -> Vec<usize> {
    let mut groups: Vec<(Option<Driver>, Vec<usize>)> = vec![];
    for (i, q) in questions.iter().enumerate() {
        if is_fixed(q.kind) {
            continue;
        }
        match groups
            .iter_mut()
            .find(|(d, _)| d.is_some() && *d == q.driver)
        {
            Some((_, members)) => members.push(i),
            // A question without a driver is a theme of its own.
            None => groups.push((q.driver, vec![i])),
        }
    }
    let longest = groups.iter().map(|(_, m)| m.len()).max().unwrap_or(0);
    (0..longest)
        .flat_map(|n| groups.iter().filter_map(move |(_, m)| m.get(n).copied()))
        .collect()
}

fn sets(pool: usize, per_round: usize) -> usize {
    pool.div_ceil(per_round.max(1)).max(1)
}

/// The window of pool positions that set `set` covers in round `round`.
fn window(pool: usize, per_round: usize, round: i32, set: usize) -> impl Iterator<Item = usize> {
    let start = round.rem_euclid(pool.max(1) as i32) as usize;
    (0..per_round).map(move |j| (start + set * per_round + j) % pool)
}

/// The questions (indices, in survey order) one link is asked in `round`.
/// `link_key` comes from the link's token; the same link always gets the same set.
pub fn draw(questions: &[Question], per_round: usize, round: i32, link_key: u64) -> Vec<usize> {
    let order = pool_order(questions);
    let mut asked: Vec<usize> = (0..questions.len())
        .filter(|&i| is_fixed(questions[i].kind))
        .collect();
    if per_round >= order.len() {
        return (0..questions.len()).collect();
    }
    let set = (link_key % sets(order.len(), per_round) as u64) as usize;
    asked.extend(window(order.len(), per_round, round, set).map(|p| order[p]));
    asked.sort_unstable();
    asked
}

/// What a rotation gives: how often each driver and question is asked.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Plan {
    pub per_round: usize,
    /// Scale and choice questions drawn from.
    pub pool: usize,
    /// eNPS and comment questions asked every round.
    pub fixed: usize,
    /// Distinct sets drawn from: each question reaches about one person in `sets` a round.
    pub sets: usize,
    /// Per driver: about every how many rounds one person is asked it.
    pub drivers: Vec<DriverCoverage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DriverCoverage {
    /// A driver key, or null for questions without one.
    pub driver: Option<String>,
    pub questions: usize,
    /// Rounds between two times one person is asked about this driver, on average.
    pub every_rounds: f64,
}

impl Plan {
    pub fn of(questions: &[Question], per_round: usize) -> Plan {
        let order = pool_order(questions);
        let pool = order.len();
        let n = sets(pool, per_round);
        let mut by_driver: BTreeMap<Option<Driver>, (usize, f64)> = BTreeMap::new();
        for &i in &order {
            by_driver.entry(questions[i].driver).or_default().0 += 1;
        }
        // The chance that one person's set holds the driver, averaged over the
        // rounds' starting points (they cycle through the pool).
        for (driver, (_, chance)) in by_driver.iter_mut() {
            let mut hits = 0usize;
            for round in 0..pool.max(1) {
                for set in 0..n {
                    if window(pool, per_round, round as i32, set)
                        .any(|p| questions[order[p]].driver == *driver)
                    {
                        hits += 1;
                    }
                }
            }
            *chance = hits as f64 / (pool.max(1) * n) as f64;
        }
        Plan {
            per_round,
            pool,
            fixed: questions.len() - pool,
            sets: n,
            drivers: by_driver
                .into_iter()
                .map(|(d, (count, chance))| DriverCoverage {
                    driver: d.map(|d| d.key().to_string()),
                    questions: count,
                    every_rounds: ((1.0 / chance.max(1e-9)) * 10.0).round() / 10.0,
                })
                .collect(),
        }
    }

    /// One sentence for the builder, in the cadence's unit ("week", "month"...).
    pub fn summary(&self, unit: &str) -> String {
        let (lo, hi) = self
            .drivers
            .iter()
            .filter(|d| d.driver.is_some())
            .fold((f64::MAX, 0f64), |(lo, hi), d| {
                (lo.min(d.every_rounds), hi.max(d.every_rounds))
            });
        let every = |n: f64| {
            let n = n.round().max(1.0) as i64;
            if n == 1 {
                format!("every {unit}")
            } else {
                format!("every {n} {unit}s")
            }
        };
        let drivers = if hi == 0.0 {
            String::new()
        } else if every(lo) == every(hi) {
            format!(
                " Each person is asked about each driver about {}.",
                every(hi)
            )
        } else {
            format!(
                " Each person is asked about each driver about {} to {}.",
                every(lo).trim_start_matches("every "),
                every(hi)
            )
        };
        format!(
            "Each {unit}, everyone answers {} of the {} rotating questions{}; every question is asked each {unit} to about 1 person in {}, and to each person about {}.{drivers}",
            self.per_round,
            self.pool,
            match self.fixed {
                0 => String::new(),
                n => format!(" plus the {n} asked every time"),
            },
            self.sets,
            every(self.sets as f64),
        )
    }
}

/// The cadence's unit for the coverage sentence.
pub fn unit(cadence: &str) -> &'static str {
    match cadence {
        "monthly" => "month",
        "quarterly" => "quarter",
        "once" => "round",
        _ => "week",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(kind: QuestionKind, driver: Option<Driver>) -> Question {
        Question {
            kind,
            prompt: "p".into(),
            options: vec![],
            required: true,
            driver,
        }
    }

    /// eNPS, then `per` scale questions for each of `drivers`, then a comment.
    fn survey(drivers: &[Driver], per: usize) -> Vec<Question> {
        let mut qs = vec![q(QuestionKind::Enps, None)];
        for d in drivers {
            qs.extend((0..per).map(|_| q(QuestionKind::Scale, Some(*d))));
        }
        qs.push(q(QuestionKind::Text, None));
        qs
    }

    #[test]
    fn each_link_gets_the_fixed_questions_and_one_window_of_distinct_drivers() {
        let drivers = [Driver::Growth, Driver::Pay, Driver::Peers];
        let qs = survey(&drivers, 2); // pool of 6, 3 a round: 2 sets
        for key in 0..20u64 {
            for round in 0..6 {
                let asked = draw(&qs, 3, round, key);
                assert_eq!(asked.len(), 5);
                assert!(asked.contains(&0) && asked.contains(&7), "eNPS and comment");
                let mut ds: Vec<_> = asked.iter().filter_map(|&i| qs[i].driver).collect();
                ds.sort();
                ds.dedup();
                assert_eq!(ds.len(), 3, "three different drivers: {asked:?}");
                assert_eq!(
                    draw(&qs, 3, round, key),
                    asked,
                    "the same link, the same set"
                );
            }
        }
        // The two sets of a round split the pool between them.
        let a = draw(&qs, 3, 4, 0);
        let b = draw(&qs, 3, 4, 1);
        let mut both: Vec<usize> = a
            .iter()
            .chain(&b)
            .copied()
            .filter(|i| (1..=6).contains(i))
            .collect();
        both.sort();
        assert_eq!(both, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn over_many_links_every_question_is_asked_about_equally() {
        let qs = survey(
            &[Driver::Growth, Driver::Pay, Driver::Peers, Driver::Manager],
            2,
        ); // pool 8
        let mut counts = [0u32; 10];
        for round in 0..8 {
            for key in 0..300u64 {
                for i in draw(&qs, 3, round, key) {
                    counts[i] += 1;
                }
            }
        }
        // 3 sets of 3 over 8 questions: one question a round is in two sets;
        // the wrap moves round, so over 8 rounds each is asked 3/8·... about equally.
        let pool: Vec<u32> = counts[1..9].to_vec();
        let (lo, hi) = (pool.iter().min().unwrap(), pool.iter().max().unwrap());
        assert!(f64::from(*hi) / f64::from(*lo) < 1.15, "{pool:?}");
        assert_eq!(counts[0], 8 * 300);
    }

    #[test]
    fn rotation_limits_are_named() {
        let qs = survey(&[Driver::Growth, Driver::Pay], 2);
        let mut e = BTreeMap::new();
        assert_eq!(parse(&RotationInput { per_round: 2 }, &qs, &mut e), Some(2));
        for bad in [0, 4, 9] {
            let mut e = BTreeMap::new();
            assert_eq!(parse(&RotationInput { per_round: bad }, &qs, &mut e), None);
            assert!(e.contains_key("rotation.per_round"), "{bad}");
        }
        let big = survey(
            &[
                Driver::Growth,
                Driver::Pay,
                Driver::Peers,
                Driver::Autonomy,
                Driver::Recognition,
                Driver::Manager,
            ],
            3,
        );
        let mut e = BTreeMap::new();
        assert_eq!(parse(&RotationInput { per_round: 9 }, &big, &mut e), None);
        assert!(e["rotation.per_round"].contains("at most 8"), "{e:?}");
    }

    #[test]
    fn the_plan_says_how_often_each_driver_comes_round() {
        // 10 drivers × 3 questions, 3 a round: 10 sets, and each window holds
        // three different drivers, so a person meets a driver every 10/3 rounds.
        let qs = survey(&Driver::ALL[..10], 3);
        let plan = Plan::of(&qs, 3);
        assert_eq!((plan.pool, plan.fixed, plan.sets), (30, 2, 10));
        for d in &plan.drivers {
            assert!((d.every_rounds - 3.3).abs() < 0.05, "{d:?}");
        }
        let s = plan.summary("week");
        assert!(s.contains("3 of the 30"), "{s}");
        assert!(s.contains("1 person in 10"), "{s}");
        assert!(s.contains("each driver about every 3 weeks"), "{s}");
    }
}
