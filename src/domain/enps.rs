//! eNPS arithmetic: classifying answers, the score from counts, its margin of error, participation and correlation.

use crate::domain::survey::EnpsScale;

/// Where one answer to the recommend question falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    Promoter,
    Passive,
    Detractor,
}

/// Promoters 9–10, passives 7–8, detractors ≤6 (1–6 on the 1–10 scale, 0–6 on 0–10); None outside the scale.
pub fn classify(score: i32, scale: EnpsScale) -> Option<Category> {
    if !scale.range().contains(&score) {
        return None;
    }
    Some(match score {
        9..=10 => Category::Promoter,
        7..=8 => Category::Passive,
        _ => Category::Detractor,
    })
}

/// How many answers fell in each category; the only input the eNPS figures need.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub promoters: u32,
    pub passives: u32,
    pub detractors: u32,
}

impl Counts {
    /// Tallies raw scores; out-of-scale scores are ignored rather than guessed at.
    pub fn from_scores(scores: impl IntoIterator<Item = i32>, scale: EnpsScale) -> Counts {
        let mut counts = Counts::default();
        for category in scores.into_iter().filter_map(|s| classify(s, scale)) {
            counts.add(category);
        }
        counts
    }

    pub fn add(&mut self, c: Category) {
        // Saturating: a report must never abort, and four billion answers is not a real case.
        let slot = match c {
            Category::Promoter => &mut self.promoters,
            Category::Passive => &mut self.passives,
            Category::Detractor => &mut self.detractors,
        };
        *slot = slot.saturating_add(1);
    }

    /// Combines two groups' tallies; this is how a parent team's figure is built from its sub-teams.
    pub fn merge(self, other: Counts) -> Counts {
        Counts {
            promoters: self.promoters.saturating_add(other.promoters),
            passives: self.passives.saturating_add(other.passives),
            detractors: self.detractors.saturating_add(other.detractors),
        }
    }

    pub fn responses(&self) -> u32 {
        self.promoters
            .saturating_add(self.passives)
            .saturating_add(self.detractors)
    }

    /// Exact total in a wider type, so the ratios below stay right even near `u32::MAX`.
    fn n(&self) -> u64 {
        u64::from(self.promoters) + u64::from(self.passives) + u64::from(self.detractors)
    }

    /// %promoters − %detractors from counts (never averages), rounded half away from zero to an integer in −100..=100; None when no responses.
    pub fn enps(&self) -> Option<i32> {
        let n = i128::from(self.n());
        if n == 0 {
            return None;
        }
        // Integer arithmetic so that exact halves (e.g. −12.5) round the documented way,
        // which binary floating point cannot promise.
        let num = 100 * (i128::from(self.promoters) - i128::from(self.detractors));
        let magnitude = (2 * num.abs() + n) / (2 * n);
        let rounded = if num < 0 { -magnitude } else { magnitude };
        i32::try_from(rounded).ok()
    }

    /// 95% margin of error in eNPS points: 1.96·100·sqrt(((p+d) − (p−d)²)/n) with p, d proportions, times the finite-population correction sqrt((N−n)/(N−1)) when `invited` N is given and N > 1 (0 when n == N); rounded to 1 decimal; None when n == 0.
    ///
    /// When n ≥ N every invited person answered (or the invitation count is stale), so
    /// there is no sampling error left to report and the result is 0.
    pub fn margin_of_error(&self, invited: Option<u32>) -> Option<f64> {
        let n = self.n();
        if n == 0 {
            return None;
        }
        let nf = n as f64;
        let p = f64::from(self.promoters) / nf;
        let d = f64::from(self.detractors) / nf;
        // Mathematically never negative; the clamp only absorbs rounding noise before sqrt.
        let variance = ((p + d) - (p - d) * (p - d)).max(0.0);
        let mut moe = 1.96 * 100.0 * (variance / nf).sqrt();
        if let Some(big_n) = invited.filter(|&big_n| big_n > 1) {
            let big_n = u64::from(big_n);
            if n >= big_n {
                return Some(0.0);
            }
            moe *= ((big_n - n) as f64 / (big_n - 1) as f64).sqrt();
        }
        Some(round_to(moe, 1))
    }
}

/// Responses ÷ invited × 100, rounded to 1 decimal; None when nobody was invited.
///
/// Not capped at 100: more answers than invitations means bad data, and hiding that would mislead.
pub fn participation(responses: u32, invited: u32) -> Option<f64> {
    if invited == 0 {
        return None;
    }
    Some(round_to(
        f64::from(responses) / f64::from(invited) * 100.0,
        1,
    ))
}

/// Pearson correlation of paired values, None with fewer than 3 pairs or zero variance (used for "eNPS beside turnover" across teams).
///
/// Also None when any value is not finite, since no meaningful coefficient exists then.
pub fn correlation(pairs: &[(f64, f64)]) -> Option<f64> {
    if pairs.len() < 3 || pairs.iter().any(|(x, y)| !x.is_finite() || !y.is_finite()) {
        return None;
    }
    let n = pairs.len() as f64;
    let mean_x = pairs.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = pairs.iter().map(|p| p.1).sum::<f64>() / n;
    // Centring first (two passes) avoids the cancellation of the one-pass sum-of-squares formula.
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for &(x, y) in pairs {
        let (dx, dy) = (x - mean_x, y - mean_y);
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        return None;
    }
    let r = sxy / (sxx.sqrt() * syy.sqrt());
    // Huge inputs can overflow the sums; rounding can push |r| a hair past 1.
    r.is_finite().then(|| r.clamp(-1.0, 1.0))
}

fn round_to(x: f64, decimals: i32) -> f64 {
    let factor = 10f64.powi(decimals);
    (x * factor).round() / factor
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn counts(promoters: u32, passives: u32, detractors: u32) -> Counts {
        Counts {
            promoters,
            passives,
            detractors,
        }
    }

    #[test]
    fn ten_answers_on_one_to_ten() {
        let c = Counts::from_scores([10, 10, 9, 9, 9, 8, 7, 6, 3, 1], EnpsScale::OneToTen);
        assert_eq!(c, counts(5, 2, 3));
        assert_eq!(c.responses(), 10);
        // 50% − 30% = 20.
        assert_eq!(c.enps(), Some(20));
    }

    #[test]
    fn margin_of_error_by_hand() {
        let c = counts(5, 2, 3);
        // p = .5, d = .3: (p+d) − (p−d)² = .8 − .04 = .76; sqrt(.76/10) = 0.27568;
        // 1.96 · 100 · 0.27568 = 54.03 → 54.0.
        assert_eq!(c.margin_of_error(None), Some(54.0));
        // N = 12 invited: FPC sqrt((12−10)/(12−1)) = sqrt(2/11) = 0.42640;
        // 54.03 · 0.42640 = 23.04 → 23.0.
        assert_eq!(c.margin_of_error(Some(12)), Some(23.0));
        // Everyone invited answered: nothing was sampled, so no error.
        assert_eq!(c.margin_of_error(Some(10)), Some(0.0));
        // N ≤ 1 gives no usable correction; the plain figure stands.
        assert_eq!(c.margin_of_error(Some(1)), Some(54.0));
        assert_eq!(Counts::default().margin_of_error(Some(12)), None);
    }

    #[test]
    fn zero_depends_on_the_scale() {
        assert_eq!(classify(0, EnpsScale::ZeroToTen), Some(Category::Detractor));
        assert_eq!(classify(0, EnpsScale::OneToTen), None);
        assert_eq!(classify(11, EnpsScale::ZeroToTen), None);
        assert_eq!(classify(-1, EnpsScale::ZeroToTen), None);
        assert_eq!(classify(6, EnpsScale::OneToTen), Some(Category::Detractor));
        assert_eq!(classify(7, EnpsScale::OneToTen), Some(Category::Passive));
        assert_eq!(classify(8, EnpsScale::ZeroToTen), Some(Category::Passive));
        assert_eq!(classify(9, EnpsScale::ZeroToTen), Some(Category::Promoter));
        let c = Counts::from_scores([0, 0, 10, 11, -3], EnpsScale::OneToTen);
        assert_eq!(c, counts(1, 0, 0));
        let c = Counts::from_scores([0, 0, 10, 11, -3], EnpsScale::ZeroToTen);
        assert_eq!(c, counts(1, 0, 2));
    }

    #[test]
    fn extremes() {
        assert_eq!(counts(7, 0, 0).enps(), Some(100));
        assert_eq!(counts(0, 0, 7).enps(), Some(-100));
        assert_eq!(counts(0, 7, 0).enps(), Some(0));
        assert_eq!(Counts::default().enps(), None);
        // All promoters: no spread at all.
        assert_eq!(counts(7, 0, 0).margin_of_error(None), Some(0.0));
    }

    #[test]
    fn halves_round_away_from_zero() {
        // 1 promoter, 2 detractors of 8: 12.5% − 25% = −12.5.
        assert_eq!(counts(1, 5, 2).enps(), Some(-13));
        assert_eq!(counts(2, 5, 1).enps(), Some(13));
        // 1 of 3: 33.33 → 33; 2 of 3: 66.67 → 67.
        assert_eq!(counts(1, 2, 0).enps(), Some(33));
        assert_eq!(counts(0, 1, 2).enps(), Some(-67));
    }

    #[test]
    fn add_and_merge() {
        let mut a = Counts::default();
        a.add(Category::Promoter);
        a.add(Category::Detractor);
        let b = counts(1, 1, 0);
        assert_eq!(a.merge(b), counts(2, 1, 1));
        let full = counts(u32::MAX, u32::MAX, u32::MAX);
        assert_eq!(full.merge(full), full);
        assert_eq!(full.responses(), u32::MAX);
        assert_eq!(full.enps(), Some(0));
    }

    #[test]
    fn participation_figures() {
        // 7 / 9 = 0.77777… → 77.8.
        assert_eq!(participation(7, 9), Some(77.8));
        assert_eq!(participation(0, 9), Some(0.0));
        assert_eq!(participation(9, 9), Some(100.0));
        assert_eq!(participation(3, 0), None);
    }

    #[test]
    fn correlation_of_linear_data() {
        let up: Vec<(f64, f64)> = (0..5)
            .map(|i| (f64::from(i), 3.0 * f64::from(i) + 1.0))
            .collect();
        let down: Vec<(f64, f64)> = (0..5)
            .map(|i| (f64::from(i), 40.0 - 2.5 * f64::from(i)))
            .collect();
        assert!((correlation(&up).unwrap() - 1.0).abs() < 1e-12);
        assert!((correlation(&down).unwrap() + 1.0).abs() < 1e-12);
    }

    #[test]
    fn correlation_refuses_what_it_cannot_measure() {
        assert_eq!(correlation(&[(1.0, 2.0), (2.0, 3.0)]), None);
        assert_eq!(correlation(&[(1.0, 2.0), (2.0, 2.0), (3.0, 2.0)]), None);
        assert_eq!(
            correlation(&[(1.0, 2.0), (2.0, f64::NAN), (3.0, 2.0)]),
            None
        );
        // Hand-worked: x = 1,2,3, y = 1,3,2: sxy = 1, sxx = 2, syy = 2 → r = 0.5.
        let r = correlation(&[(1.0, 1.0), (2.0, 3.0), (3.0, 2.0)]).unwrap();
        assert!((r - 0.5).abs() < 1e-12);
    }

    proptest! {
        #[test]
        fn figures_stay_in_range(p in 0u32..2000, pa in 0u32..2000, d in 0u32..2000, extra in 0u32..3000) {
            let c = counts(p, pa, d);
            match c.enps() {
                None => prop_assert_eq!(c.responses(), 0),
                Some(e) => prop_assert!((-100..=100).contains(&e)),
            }
            if let Some(m) = c.margin_of_error(Some(c.responses().saturating_add(extra))) {
                prop_assert!(m >= 0.0);
                prop_assert!(m <= c.margin_of_error(None).unwrap());
            }
        }
    }
}
