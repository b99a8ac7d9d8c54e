//! The disclosure rule: which cells (one round × one team with its sub-teams, or the
//! company) may be shown, and every view as a sum of shown cells only.
//!
//! Why cells and not views: a view (a month, a window, a survey, a team) that decided
//! its own suppression could be subtracted from another view to give what it hid. When
//! every figure of every view is a sum of cells that the rule has shown, anything a
//! reader can work out from any set of views they could already work out from the shown
//! cells, and within a round the complementary suppression of `anonymity::suppressed`
//! makes sure no hidden cell follows from the shown ones. Rounds hold different answers,
//! so cells of other rounds say nothing about a hidden cell.

use crate::domain::anonymity::{self, Group};
use crate::domain::report::{Counter, Figures, Totals, COMPANY};

/// How counters and filing name "no team": the company itself.
pub const NO_TEAM: i32 = 0;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Why a cell or a figure is hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Fewer respondents than the threshold.
    TooFew,
    /// Enough respondents, but shown beside other figures it would give away a smaller group.
    Derivable,
}

/// How many rounds a figure leaves out, and why.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LeftOut {
    pub too_few: u32,
    pub derivable: u32,
}

impl Reason {
    /// As stored in `round_cells.hidden`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::TooFew => "too_few",
            Reason::Derivable => "derivable",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        match s {
            "too_few" => Some(Reason::TooFew),
            "derivable" => Some(Reason::Derivable),
            _ => None,
        }
    }
}

impl LeftOut {
    pub fn new(too_few: u32, derivable: u32) -> LeftOut {
        LeftOut { too_few, derivable }
    }

    pub fn is_empty(&self) -> bool {
        self.too_few == 0 && self.derivable == 0
    }

    fn add(&mut self, r: Reason) {
        match r {
            Reason::TooFew => self.too_few += 1,
            Reason::Derivable => self.derivable += 1,
        }
    }
}

/// The team tree as the disclosure rule sees it: every team's parent, the company on top.
#[derive(Debug, Clone)]
pub struct Tree {
    parent: BTreeMap<i32, i32>,
}

impl Tree {
    /// From `(team, parent)` edges; a team without a parent hangs under the company.
    pub fn new(edges: &[(i32, Option<i32>)]) -> Tree {
        Tree {
            parent: edges
                .iter()
                .map(|&(id, p)| (id, p.unwrap_or(COMPANY)))
                .collect(),
        }
    }

    /// Every group: each team and the company.
    pub fn groups(&self) -> impl Iterator<Item = i32> + '_ {
        self.parent.keys().copied().chain([COMPANY])
    }

    /// The group a counter's team is filed under: unknown teams and "no team" (0) go to the company.
    fn home(&self, team: i32) -> i32 {
        if self.parent.contains_key(&team) {
            team
        } else {
            COMPANY
        }
    }

    /// The team and everything above it, the company last. Stops on a loop in corrupt data.
    pub fn ancestry(&self, team: i32) -> Vec<i32> {
        let mut out = vec![];
        let mut at = self.home(team);
        loop {
            if out.contains(&at) {
                break;
            }
            out.push(at);
            if at == COMPANY {
                break;
            }
            at = self.parent.get(&at).copied().unwrap_or(COMPANY);
        }
        if out.last() != Some(&COMPANY) {
            out.push(COMPANY);
        }
        out
    }

    /// Sums an additive value per group up the tree: each group gets its whole subtree.
    pub fn subtree_sums<T: Copy + Default + std::ops::AddAssign>(
        &self,
        own: &BTreeMap<i32, T>,
    ) -> BTreeMap<i32, T> {
        let mut out: BTreeMap<i32, T> = self.groups().map(|g| (g, T::default())).collect();
        for (&team, &v) in own {
            for g in self.ancestry(team) {
                *out.entry(g).or_default() += v;
            }
        }
        out
    }

    /// The groups hidden when `own` is counted per group and `min` is the threshold,
    /// with complementary suppression over the whole tree.
    pub fn suppressed(&self, own: &BTreeMap<i32, u32>, min: u32) -> BTreeSet<i32> {
        let mut direct: BTreeMap<i32, u32> = BTreeMap::new();
        for (&team, &v) in own {
            *direct.entry(self.home(team)).or_default() += v;
        }
        let groups: Vec<Group> = self
            .groups()
            .map(|id| Group {
                id,
                parent: (id != COMPANY).then(|| self.parent[&id]),
                own: direct.get(&id).copied().unwrap_or(0),
            })
            .collect();
        anonymity::suppressed(&groups, min)
    }

    /// Where each team's answers are filed, given how many were invited per team
    /// (team 0: people without a team): the smallest group containing the team whose
    /// subtree reaches `min` invitees, so no answer sits in a group too small to hide
    /// in. Keys as in `invited`; the company is given as 0, as counters name it.
    pub fn filing(&self, invited: &BTreeMap<i32, u32>, min: u32) -> BTreeMap<i32, i32> {
        let sums = self.subtree_sums(invited);
        invited
            .keys()
            .map(|&team| {
                let filed = self
                    .ancestry(team)
                    .into_iter()
                    .find(|g| *g != COMPANY && sums.get(g).copied().unwrap_or(0) >= min)
                    .unwrap_or(NO_TEAM);
                (team, filed)
            })
            .collect()
    }
}

/// One round's cells: each group's totals and which of them the rule hides.
#[derive(Debug, Clone)]
pub struct RoundCells {
    pub round_id: i32,
    pub day: NaiveDate,
    pub min: u32,
    totals: BTreeMap<i32, Totals>,
    hidden: BTreeMap<i32, Reason>,
}

impl RoundCells {
    /// Applies the rule to one round's counters: a cell is shown when its respondents
    /// (people: one person answers a round once) reach `min`, its eNPS answers do too
    /// (when the round asked for eNPS at all), and no combination of shown cells gives it.
    pub fn disclose(
        round_id: i32,
        day: NaiveDate,
        counters: &[&Counter],
        tree: &Tree,
        min: u32,
    ) -> RoundCells {
        let mut own: BTreeMap<i32, Totals> = BTreeMap::new();
        for c in counters.iter().filter(|c| c.round_id == round_id) {
            let t = own.entry(tree.home(c.team_id)).or_default();
            t.add(Totals {
                invited: c.invited,
                responses: c.responses,
                counts: c.counts,
            });
        }
        let totals = tree.subtree_sums(&own);
        let respondents: BTreeMap<i32, u32> = own.iter().map(|(&g, t)| (g, t.responses)).collect();
        let enps: BTreeMap<i32, u32> = own
            .iter()
            .map(|(&g, t)| (g, t.counts.responses()))
            .collect();
        let mut hidden_groups = tree.suppressed(&respondents, min);
        // A round whose eNPS question nobody answered shows no eNPS; otherwise the eNPS
        // figures of a cell need `min` answers too, with their own complementary cells.
        let asked_enps = totals
            .get(&COMPANY)
            .is_some_and(|t| t.counts.responses() > 0);
        // When everyone who answered gave a score (a required eNPS question), the
        // second pass would repeat the first exactly.
        if asked_enps && enps != respondents {
            hidden_groups.extend(tree.suppressed(&enps, min));
        }
        let hidden = hidden_groups
            .into_iter()
            .map(|g| {
                let t = totals.get(&g).copied().unwrap_or_default();
                let too_few = t.responses < min || (asked_enps && t.counts.responses() < min);
                (
                    g,
                    if too_few {
                        Reason::TooFew
                    } else {
                        Reason::Derivable
                    },
                )
            })
            .collect();
        RoundCells {
            round_id,
            day,
            min,
            totals,
            hidden,
        }
    }

    /// A group's totals in this round, or why they are hidden.
    pub fn cell(&self, group: i32) -> Result<Totals, Reason> {
        match self.hidden.get(&group) {
            Some(&r) => Err(r),
            None => self.totals.get(&group).copied().ok_or(Reason::TooFew),
        }
    }

    /// Whether the group had anyone invited to this round (else the round is no part of its views).
    pub fn concerns(&self, group: i32) -> bool {
        self.totals.get(&group).is_some_and(|t| t.invited > 0)
    }

    /// What is stored of the round when it closes: every group it concerns, with its
    /// totals and why it is hidden, if it is; the company always comes first, even
    /// with nobody invited, so a round with stored cells can be told from one without.
    pub fn stored(&self) -> Vec<StoredCell> {
        let company = StoredCell {
            group: COMPANY,
            totals: self.totals.get(&COMPANY).copied().unwrap_or_default(),
            hidden: self.hidden.get(&COMPANY).copied(),
        };
        std::iter::once(company)
            .chain(
                self.totals
                    .iter()
                    .filter(|&(&g, t)| g != COMPANY && t.invited > 0)
                    .map(|(&group, &totals)| StoredCell {
                        group,
                        totals,
                        hidden: self.hidden.get(&group).copied(),
                    }),
            )
            .collect()
    }

    /// A round's cells as stored at close, or the part of them a view reads (the
    /// groups it shows): each view then adds them up exactly as if just disclosed.
    pub fn from_stored(
        round_id: i32,
        day: NaiveDate,
        min: u32,
        cells: impl IntoIterator<Item = StoredCell>,
    ) -> RoundCells {
        let mut totals = BTreeMap::new();
        let mut hidden = BTreeMap::new();
        for c in cells {
            totals.insert(c.group, c.totals);
            if let Some(r) = c.hidden {
                hidden.insert(c.group, r);
            }
        }
        RoundCells {
            round_id,
            day,
            min,
            totals,
            hidden,
        }
    }
}

/// One group's cell of a round as stored when the round closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredCell {
    /// A team, or `COMPANY`.
    pub group: i32,
    pub totals: Totals,
    /// None: shown.
    pub hidden: Option<Reason>,
}

/// A view's figure for one group: the sum of its shown cells over the given rounds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sum {
    pub totals: Totals,
    /// `(round, group)` of every cell in the sum.
    pub cells: Vec<(i32, i32)>,
    pub left_out: LeftOut,
}

pub fn sum<'a>(rounds: impl IntoIterator<Item = &'a RoundCells>, group: i32) -> Sum {
    let mut s = Sum::default();
    for r in rounds {
        if !r.concerns(group) {
            continue;
        }
        match r.cell(group) {
            Ok(t) => {
                s.totals.add(t);
                s.cells.push((r.round_id, group));
            }
            Err(reason) => s.left_out.add(reason),
        }
    }
    s
}

/// What a view shows of a group: the figures of its shown cells, or why there are none.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Shown {
    Figures(Figures),
    Suppressed {
        suppressed: bool,
        reason: Reason,
        /// Rounds of the period left out, by reason.
        left_out: LeftOut,
    },
}

impl Shown {
    pub fn of(s: &Sum) -> Shown {
        Shown::counted(s.totals, s.cells.len() as u32, s.left_out)
    }

    /// From a sum already added up (by the database): its totals, how many shown
    /// cells it adds, and the cells it leaves out.
    pub fn counted(totals: Totals, rounds: u32, left_out: LeftOut) -> Shown {
        if rounds == 0 {
            let reason = if left_out.derivable > 0 && left_out.too_few == 0 {
                Reason::Derivable
            } else {
                Reason::TooFew
            };
            return Shown::Suppressed {
                suppressed: true,
                reason,
                left_out,
            };
        }
        let mut f = Figures::of(totals);
        f.rounds = rounds;
        f.left_out = (!left_out.is_empty()).then_some(left_out);
        Shown::Figures(f)
    }

    pub fn figures(&self) -> Option<&Figures> {
        match self {
            Shown::Figures(f) => Some(f),
            Shown::Suppressed { .. } => None,
        }
    }
}

/// The cells of every round in `counters`, each under its own round's threshold.
pub fn disclose_all(counters: &[Counter], tree: &Tree) -> Vec<RoundCells> {
    let mut by_round: BTreeMap<i32, Vec<&Counter>> = BTreeMap::new();
    for c in counters {
        by_round.entry(c.round_id).or_default().push(c);
    }
    let mut out: Vec<RoundCells> = by_round
        .into_values()
        .map(|cs| {
            let first = cs[0];
            let min = first.min_group_size.max(3) as u32;
            RoundCells::disclose(first.round_id, first.day, &cs, tree, min)
        })
        .collect();
    out.sort_by_key(|r| (r.day, r.round_id));
    out
}

#[cfg(test)]
mod tests;
