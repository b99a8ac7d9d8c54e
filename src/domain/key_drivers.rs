//! Key drivers: each driver's score over a period, its change against the period before
//! with a 95% interval, and its correlation with eNPS across responses with a 95% interval,
//! ranked by impact. Pure: the figures are sums over disclosed cells handed in by
//! `crate::reports::drivers`.
//!
//! Choices, and why:
//! - **Score**: the mean on the 1–5 agreement scale (2 decimals) of the answers to the
//!   driver's questions. A mean keeps every answer's information (a % favourable would
//!   treat a 3 like a 1) and its interval follows from the same sums. Each answer counts
//!   once, so a driver's sums are the sums of its questions' cells, which the round
//!   report shows already: a driver figure tells nothing those cells do not. (Averaging
//!   a response's answers first would not: beside the questions' own figures, it would
//!   give away the few responses that answered two questions of one driver.)
//! - **Change**: current mean − previous mean (the period of the same length just before),
//!   with Welch's interval (unequal variances, Welch–Satterthwaite degrees of freedom,
//!   rounded down so the interval errs wide). With groups of 5 to 30 a normal 1.96 would
//!   be too narrow. The interval treats answers as independent: they are anonymous, so
//!   the same person's answers in two rounds (or to two questions of one driver, rare
//!   with rotating pulses) cannot be told apart; such answers make it a little narrow.
//! - **Correlation**: Pearson's r between an answer to the driver's question and the eNPS
//!   score of the same response, over the answers whose response gave both (with
//!   rotating pulses many answer only some drivers), with Fisher's z interval: z = atanh r, se = 1/√(n−3), back through tanh.
//!   It is the usual interval for r, stays inside −1..1 and is asymmetric near the bounds
//!   as r's sampling distribution is. With n ≤ 3 it is the whole of −1..1.
//! - **Impact**: r × room to improve, (5 − score)/4: a driver strongly tied to eNPS with
//!   a score already near 5 leaves little to gain, one tied as strongly with a low score
//!   is where action pays. Drivers without a shown correlation come after, unranked.
//!   Outcomes (`Driver::is_outcome`) are reported beside the ranking, never in it.
//!
//! Disclosure: a cell is one round × one group × one question. It is shown only when the
//! round's own cell for the group is shown (the stored rule of `domain::disclosure`) and
//! the question's answers per filed team pass the threshold with complementary
//! suppression (`Tree::suppressed`, as the round report does per question); its
//! correlation cell does the same with the answers paired with an eNPS score. A driver's
//! figure for a period is the sum of the shown cells of its questions in its rounds (n, Σx,
//! Σx², Σy, Σy², Σxy are all additive), so no view over other periods or teams can be
//! subtracted from it to give a hidden cell.

use crate::domain::disclosure::{LeftOut, Reason, Tree};
use crate::domain::driver::Driver;
use serde::Serialize;
use std::collections::BTreeMap;

/// One response as the maths sees it: where it is filed, its eNPS score, and its
/// answers to questions that measure a driver.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponseScores {
    /// The filed team (0: the company), as `responses.team_id` stores it.
    pub team: i32,
    pub enps: Option<f64>,
    /// `(question, driver, score)`.
    pub answers: Vec<(i32, Driver, f64)>,
}

impl ResponseScores {
    /// From a response's answers `(question, driver, score)`: driver None for its eNPS
    /// answer; scale answers outside 1–5 are ignored.
    pub fn of(team: i32, answers: impl IntoIterator<Item = (i32, Option<Driver>, i32)>) -> Self {
        let mut out = ResponseScores {
            team,
            ..Default::default()
        };
        for (question, driver, score) in answers {
            match driver {
                None => out.enps = Some(f64::from(score)),
                Some(d) if (1..=5).contains(&score) => {
                    out.answers.push((question, d, f64::from(score)))
                }
                Some(_) => {}
            }
        }
        out
    }
}

/// n, Σx, Σx² of a driver's values: what a mean and its variance need, and additive.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    pub n: u32,
    pub sum: f64,
    pub sum_sq: f64,
}

impl Moments {
    fn push(&mut self, x: f64) {
        self.n += 1;
        self.sum += x;
        self.sum_sq += x * x;
    }

    fn add(&mut self, o: Moments) {
        self.n += o.n;
        self.sum += o.sum;
        self.sum_sq += o.sum_sq;
    }

    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / f64::from(self.n))
    }

    /// The sample variance (n − 1 in the denominator).
    pub fn variance(&self) -> Option<f64> {
        (self.n > 1).then(|| {
            let n = f64::from(self.n);
            ((self.sum_sq - self.sum * self.sum / n) / (n - 1.0)).max(0.0)
        })
    }
}

/// n, Σx, Σy, Σx², Σy², Σxy of (driver value, eNPS) pairs: additive, and all Pearson's r needs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pairs {
    pub n: u32,
    pub sx: f64,
    pub sy: f64,
    pub sxx: f64,
    pub syy: f64,
    pub sxy: f64,
}

impl Pairs {
    fn push(&mut self, x: f64, y: f64) {
        self.n += 1;
        self.sx += x;
        self.sy += y;
        self.sxx += x * x;
        self.syy += y * y;
        self.sxy += x * y;
    }

    fn add(&mut self, o: Pairs) {
        self.n += o.n;
        self.sx += o.sx;
        self.sy += o.sy;
        self.sxx += o.sxx;
        self.syy += o.syy;
        self.sxy += o.sxy;
    }

    /// Pearson's r; None when either side has no spread (every answer the same).
    pub fn r(&self) -> Option<f64> {
        let n = f64::from(self.n);
        let vx = n * self.sxx - self.sx * self.sx;
        let vy = n * self.syy - self.sy * self.sy;
        // Below rounding noise of the sums, there is no spread to correlate.
        if self.n < 2 || vx <= 1e-9 || vy <= 1e-9 {
            return None;
        }
        let r = (n * self.sxy - self.sx * self.sy) / (vx.sqrt() * vy.sqrt());
        r.is_finite().then(|| r.clamp(-1.0, 1.0))
    }
}

/// The group's stored cell for a round, as the disclosure rule decided it at close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupCell {
    Shown,
    Hidden(Reason),
}

/// One question's answers in one round: per filed team, and the group's sums.
#[derive(Default)]
struct QuestionCounts {
    driver: Option<Driver>,
    answered: BTreeMap<i32, u32>,
    paired: BTreeMap<i32, u32>,
    scores: Moments,
    pairs: Pairs,
}

/// Every driver's tally of one round for `group`: the round's responses (all groups: the
/// complementary suppression looks at the whole tree), the group's stored cell, and the
/// round's threshold. Each question is a cell of its own; a driver adds its questions'
/// shown cells. Drivers nobody answered in the round have no tally.
pub fn round_cells(
    tree: &Tree,
    group: i32,
    min: u32,
    cell: GroupCell,
    responses: &[ResponseScores],
) -> BTreeMap<Driver, Tally> {
    let mut questions: BTreeMap<i32, QuestionCounts> = BTreeMap::new();
    // Responses are filed under a few teams: each team's place in the tree is looked up once.
    let mut in_group: BTreeMap<i32, bool> = BTreeMap::new();
    for r in responses {
        let mine = *in_group
            .entry(r.team)
            .or_insert_with(|| tree.ancestry(r.team).contains(&group));
        for &(q, d, x) in &r.answers {
            let c = questions.entry(q).or_default();
            c.driver = Some(d);
            *c.answered.entry(r.team).or_default() += 1;
            if mine {
                c.scores.push(x);
            }
            if let Some(y) = r.enps {
                *c.paired.entry(r.team).or_default() += 1;
                if mine {
                    c.pairs.push(x, y);
                }
            }
        }
    }
    // Too few in the group itself, or shown beside its complements it would give a
    // smaller group away: the round report's rule for one question's answers.
    let rule = |per_team: &BTreeMap<i32, u32>, n: u32| -> Result<(), Reason> {
        if let GroupCell::Hidden(r) = cell {
            return Err(r);
        }
        if n < min {
            return Err(Reason::TooFew);
        }
        if tree.suppressed(per_team, min).contains(&group) {
            return Err(Reason::Derivable);
        }
        Ok(())
    };
    let mut out: BTreeMap<Driver, Tally> = BTreeMap::new();
    for c in questions.into_values() {
        let Some(d) = c.driver else { continue };
        let t = out.entry(d).or_default();
        t.min = min;
        let shown = rule(&c.answered, c.scores.n);
        // When everyone who answered gave an eNPS score too (a required eNPS
        // question), the pairs' cells are the answers' cells: same decision.
        let paired_shown = if c.paired == c.answered {
            shown
        } else {
            rule(&c.paired, c.pairs.n)
        };
        match shown {
            Ok(()) => {
                t.scores.add(c.scores);
                t.score_cells += 1;
            }
            Err(r) => leave_out(&mut t.score_left_out, r),
        }
        match paired_shown {
            Ok(()) => {
                t.pairs.add(c.pairs);
                t.pair_cells += 1;
            }
            Err(r) => leave_out(&mut t.pair_left_out, r),
        }
    }
    out
}

/// A driver's sums over the shown cells (round × question) of a round or a period, and
/// the cells it leaves out.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tally {
    pub scores: Moments,
    pub score_cells: u32,
    pub score_left_out: LeftOut,
    pub pairs: Pairs,
    pub pair_cells: u32,
    pub pair_left_out: LeftOut,
    /// The highest threshold of the rounds it adds: the period's figure needs that many.
    pub min: u32,
}

fn leave_out(l: &mut LeftOut, r: Reason) {
    match r {
        Reason::TooFew => l.too_few += 1,
        Reason::Derivable => l.derivable += 1,
    }
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.scores.add(o.scores);
        self.score_cells += o.score_cells;
        self.score_left_out.too_few += o.score_left_out.too_few;
        self.score_left_out.derivable += o.score_left_out.derivable;
        self.pairs.add(o.pairs);
        self.pair_cells += o.pair_cells;
        self.pair_left_out.too_few += o.pair_left_out.too_few;
        self.pair_left_out.derivable += o.pair_left_out.derivable;
        self.min = self.min.max(o.min);
    }
}

/// Adds one round's driver tallies to a period's.
pub fn add_round(period: &mut BTreeMap<Driver, Tally>, round: &BTreeMap<Driver, Tally>) {
    for (&d, t) in round {
        period.entry(d).or_default().add(t);
    }
}

/// The reason a sum with nothing shown gives: derivable only when every cell left out was.
fn reason_of(l: LeftOut) -> Reason {
    if l.derivable > 0 && l.too_few == 0 {
        Reason::Derivable
    } else {
        Reason::TooFew
    }
}

/// The sums a period may show, or why not: shown cells, and `min` values in them.
pub fn shown_scores(t: &Tally) -> Result<Moments, Reason> {
    if t.score_cells == 0 || t.scores.n < t.min {
        return Err(reason_of(t.score_left_out));
    }
    Ok(t.scores)
}

pub fn shown_pairs(t: &Tally) -> Result<Pairs, Reason> {
    if t.pair_cells == 0 || t.pairs.n < t.min {
        return Err(reason_of(t.pair_left_out));
    }
    Ok(t.pairs)
}

/// The two-sided 97.5% quantile of Student's t with `df` degrees of freedom: exact
/// table values to 30 (df rounded down, so intervals err wide), then the Cornish–Fisher
/// expansion, within 0.0001 of the exact value from there on.
pub fn t_975(df: f64) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    // A hair below a whole number is that number: rounding in the sums must not cost a degree.
    let df = if df.is_finite() {
        (df + 1e-9).floor().max(1.0)
    } else {
        1e9
    };
    if df <= 30.0 {
        return TABLE[df as usize - 1];
    }
    let z: f64 = 1.959_964;
    let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
    z + (z3 + z) / (4.0 * df)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * df * df)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * df.powi(3))
}

/// A change between two means with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ChangeFigures {
    /// Current score − previous score, on the 1–5 scale.
    pub value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// False when the interval spans zero: "no significant change".
    pub significant: bool,
    pub previous_score: f64,
    pub previous_n: u32,
}

/// Welch's interval for current − previous. Each side has at least 2 values (min ≥ 3).
pub fn change(current: Moments, previous: Moments) -> Option<ChangeFigures> {
    let (m1, m0) = (current.mean()?, previous.mean()?);
    let (v1, v0) = (current.variance()?, previous.variance()?);
    let (a, b) = (v1 / f64::from(current.n), v0 / f64::from(previous.n));
    let value = m1 - m0;
    let se = (a + b).sqrt();
    let half = if se > 0.0 {
        let df = (a + b).powi(2)
            / (a * a / f64::from(current.n - 1) + b * b / f64::from(previous.n - 1));
        t_975(df) * se
    } else {
        0.0
    };
    let (lo, hi) = (value - half, value + half);
    Some(ChangeFigures {
        value: round(value, 2),
        ci_low: round(lo, 2),
        ci_high: round(hi, 2),
        significant: lo > 0.0 || hi < 0.0,
        previous_score: round(m0, 2),
        previous_n: previous.n,
    })
}

/// A correlation with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CorrelationFigures {
    /// Pearson's r between the driver's value and the eNPS score of the same response.
    pub r: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Responses that answered both the driver and the eNPS question.
    pub n: u32,
    /// False when the interval spans zero.
    pub significant: bool,
}

/// Pearson's r with Fisher's z interval; None when either side has no spread.
pub fn correlation(p: Pairs) -> Option<CorrelationFigures> {
    let r = p.r()?;
    let (lo, hi) = if p.n > 3 {
        let z = r.atanh();
        let half = 1.959_964 / f64::from(p.n - 3).sqrt();
        ((z - half).tanh(), (z + half).tanh())
    } else {
        (-1.0, 1.0)
    };
    Some(CorrelationFigures {
        r: round(r, 3),
        ci_low: round(lo, 3),
        ci_high: round(hi, 3),
        n: p.n,
        significant: lo > 0.0 || hi < 0.0,
    })
}

fn round(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

/// A figure, or why it is hidden.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Figure<T> {
    Shown(T),
    Suppressed { suppressed: bool, reason: Reason },
}

impl<T> Figure<T> {
    fn of(r: Result<T, Reason>) -> Self {
        match r {
            Ok(t) => Figure::Shown(t),
            Err(reason) => Figure::Suppressed {
                suppressed: true,
                reason,
            },
        }
    }

    pub fn shown(&self) -> Option<&T> {
        match self {
            Figure::Shown(t) => Some(t),
            Figure::Suppressed { .. } => None,
        }
    }
}

/// One driver's figures over a period.
#[derive(Debug, Clone, PartialEq)]
pub struct DriverFigures {
    pub driver: Driver,
    /// The mean on 1–5 (2 decimals) and its n, or why hidden.
    pub score: Result<(f64, u32), Reason>,
    /// None: nothing to compare with (no answers to the driver in the previous period,
    /// or a correlation without spread).
    pub change: Option<Figure<ChangeFigures>>,
    pub correlation: Option<Figure<CorrelationFigures>>,
    /// r × (5 − score)/4, when both are shown.
    pub impact: Option<f64>,
    /// Cells (round × question) of the period hidden for this group, by reason.
    pub left_out: LeftOut,
}

/// The key drivers of a period: ranked drivers, then the outcomes beside them.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyDrivers {
    pub drivers: Vec<DriverFigures>,
    pub outcomes: Vec<DriverFigures>,
}

/// Every driver asked in the period (`current`), against the period before (`previous`).
pub fn key_drivers(
    current: &BTreeMap<Driver, Tally>,
    previous: &BTreeMap<Driver, Tally>,
) -> KeyDrivers {
    let (mut drivers, mut outcomes) = (vec![], vec![]);
    for (&driver, t) in current {
        let scores = shown_scores(t);
        let change = match (scores, previous.get(&driver)) {
            (_, None) => None,
            (Err(r), Some(_)) => Some(Figure::of(Err(r))),
            (Ok(now), Some(before)) => match shown_scores(before) {
                Ok(before) => change(now, before).map(|c| Figure::of(Ok(c))),
                Err(r) => Some(Figure::of(Err(r))),
            },
        };
        let correlation = match shown_pairs(t) {
            Ok(p) => correlation(p).map(|c| Figure::of(Ok(c))),
            Err(r) => Some(Figure::of(Err(r))),
        };
        let score = scores.map(|m| (round(m.mean().unwrap_or(0.0), 2), m.n));
        let impact = match (&score, correlation.as_ref().and_then(|c| c.shown())) {
            (Ok((s, _)), Some(c)) => Some(round(c.r * (5.0 - s) / 4.0, 3)),
            _ => None,
        };
        let f = DriverFigures {
            driver,
            score,
            change,
            correlation,
            impact,
            left_out: t.score_left_out,
        };
        if driver.is_outcome() {
            outcomes.push(f);
        } else {
            drivers.push(f);
        }
    }
    // Highest impact first; drivers without one after, in the drivers' own order.
    drivers.sort_by(|a, b| match (a.impact, b.impact) {
        (Some(x), Some(y)) => y.total_cmp(&x).then(a.driver.cmp(&b.driver)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.driver.cmp(&b.driver),
    });
    KeyDrivers { drivers, outcomes }
}

#[cfg(test)]
mod tests;
