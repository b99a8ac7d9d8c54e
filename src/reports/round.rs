//! One round's report: nothing until it closes, then its cell's figures, per-question
//! figures that need enough answers of their own, and comments under their own threshold.

use crate::auth::{Caller, Scope};
use crate::db::DbConnection;
use crate::domain::anonymity::comment_threshold;
use crate::domain::disclosure::{sum, Reason, RoundCells, Shown, Tree};
use crate::domain::enps::{participation, Counts};
use crate::domain::report::{Counter, Figures, Totals, COMPANY};
use crate::domain::survey::EnpsScale;
use crate::error::{AppError, AppResult};
use crate::repo::{self, reports::AnswerRow, rounds::Round, surveys::QuestionRow};
use crate::state::AppState;
use serde::Serialize;
use std::collections::BTreeMap;

/// Participation of a group while its round is open: shown only where the
/// disclosure rule would show the group's figures.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Live {
    Shown {
        invited: u32,
        responded: u32,
        participation: Option<f64>,
    },
    Suppressed {
        suppressed: bool,
        reason: Reason,
    },
}

impl Live {
    pub fn of(cell: Result<Totals, Reason>) -> Live {
        match cell {
            Ok(t) => Live::Shown {
                invited: t.invited,
                responded: t.responses,
                participation: participation(t.responses, t.invited),
            },
            Err(reason) => Live::Suppressed {
                suppressed: true,
                reason,
            },
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuestionResult {
    pub question_id: i32,
    pub kind: String,
    pub prompt: String,
    /// Number of answers to this question, when its figures are shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answers: Option<u32>,
    /// Present when this question's figures are hidden: too few answered it, or
    /// shown beside the other groups' they would give a smaller group away.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enps: Option<Figures>,
    /// Scale questions: the mean, 2 decimals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    /// Scale questions: counts for 1..5; choice questions: counts per option, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Vec<(String, u32)>>,
    /// Text questions: the comments, when the group is large enough for comments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comments: Option<Vec<String>>,
    /// Why comments are hidden, when they are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comments_suppressed: Option<String>,
}

/// Where a round is in its life, as its report sees it.
pub enum Stage {
    /// Figures appear at close; until then, participation where the rule allows.
    Open {
        participation: Live,
    },
    Closed(Closed),
}

pub struct Closed {
    /// The group's cell.
    pub shown: Shown,
    pub questions: Vec<QuestionResult>,
    /// Answer-level export: allowed with the respondents, or why not.
    pub export: Result<u32, Reason>,
    pub comment_min: u32,
    /// When the retention policy deleted this round's answers, if it did:
    /// its counters and cells remain, its per-question results do not.
    pub answers_removed_at: Option<chrono::NaiveDateTime>,
    question_rows: Vec<QuestionRow>,
    answers: Vec<AnswerRow>,
    /// The team tree and the group asked for, to pick the group's answers.
    tree: Tree,
    group: i32,
}

pub struct RoundData {
    pub round: Round,
    pub team_id: Option<i32>,
    pub stage: Stage,
}

pub async fn data(
    state: &AppState,
    caller: Caller,
    round_id: i32,
    team_id: Option<i32>,
) -> AppResult<RoundData> {
    state
        .db(move |conn| {
            let scope = Scope::of(conn, &caller)?;
            load(conn, &scope, round_id, team_id)
        })
        .await
}

pub fn load(
    conn: &mut DbConnection,
    scope: &Scope,
    round_id: i32,
    team_id: Option<i32>,
) -> AppResult<RoundData> {
    scope.check_report(team_id)?;
    let round = repo::rounds::find(conn, round_id)?.ok_or_else(|| AppError::not_found("round"))?;
    if let Some(t) = team_id {
        repo::teams::find(conn, t)?.ok_or_else(|| AppError::not_found("team"))?;
    }
    let tree = Tree::new(&repo::teams::edges(conn)?);
    let counters = repo::reports::round_counters(conn, round_id)?;
    let refs: Vec<&Counter> = counters.iter().collect();
    let min = round.min_group_size.max(3) as u32;
    let cells = RoundCells::disclose(round.id, round.scheduled_for.date(), &refs, &tree, min);
    let group = team_id.unwrap_or(COMPANY);
    if round.status == "open" || round.status == "closing" {
        return Ok(RoundData {
            round,
            team_id,
            stage: Stage::Open {
                participation: Live::of(cells.cell(group)),
            },
        });
    }
    let shown = Shown::of(&sum([&cells], group));
    let comment_min = comment_threshold(min);
    let respondents: BTreeMap<i32, u32> =
        counters
            .iter()
            .map(|c| (c.team_id, c.responses))
            .fold(BTreeMap::new(), |mut m, (t, n)| {
                *m.entry(t).or_default() += n;
                m
            });
    // Comments and whole rows single people out more easily than counts: they
    // have their own threshold and their own complementary suppression.
    let export = match &shown {
        Shown::Suppressed { reason, .. } => Err(*reason),
        Shown::Figures(f) if f.responses < comment_min => Err(Reason::TooFew),
        Shown::Figures(_) if tree.suppressed(&respondents, comment_min).contains(&group) => {
            Err(Reason::Derivable)
        }
        Shown::Figures(f) => Ok(f.responses),
    };
    let answers_removed_at = repo::retention::answers_removed_at(conn, round_id)?;
    let (question_rows, answers) = match &shown {
        Shown::Suppressed { .. } => (vec![], vec![]),
        Shown::Figures(_) if answers_removed_at.is_some() => (vec![], vec![]),
        Shown::Figures(_) => (
            repo::surveys::questions(conn, round.survey_id, round.question_version)?,
            repo::reports::round_answers(conn, round_id)?,
        ),
    };
    let mut closed = Closed {
        shown,
        questions: vec![],
        export,
        comment_min,
        answers_removed_at,
        question_rows,
        answers,
        tree,
        group,
    };
    closed.questions = question_results(&round, &closed, min);
    Ok(RoundData {
        round,
        team_id,
        stage: Stage::Closed(closed),
    })
}

/// A round's figures for one group as a dashboard card shows them, read from the
/// cells stored at close (None while the round is open); no answers are read.
pub fn group_figures(
    conn: &mut DbConnection,
    scope: &Scope,
    round: &Round,
    team_id: Option<i32>,
) -> AppResult<Option<Shown>> {
    scope.check_report(team_id)?;
    if round.status == "open" || round.status == "closing" {
        return Ok(None);
    }
    let group = team_id.unwrap_or(COMPANY);
    // A skipped round has no cells: nothing to show.
    let cells = if round.status == "closed" {
        repo::reports::ensure_cells(conn)?;
        repo::reports::round_cell(conn, round.id, group)?
    } else {
        None
    };
    let min = round.min_group_size.max(3) as u32;
    let cells = RoundCells::from_stored(round.id, round.scheduled_for.date(), min, cells);
    Ok(Some(Shown::of(&sum([&cells], group))))
}

/// Every group's figure of a closed round as the reports show it, from the cells
/// stored at close: the company first (`COMPANY`), then each team. A hidden cell is
/// `Shown::Suppressed` with no count, so whatever passes these on (webhooks) shows
/// no figure that a report reader could not see. Empty until the cells are stored.
pub fn closed_groups(
    conn: &mut DbConnection,
    round: &Round,
) -> diesel::QueryResult<Vec<(i32, Shown)>> {
    let at = round.scheduled_for;
    let rows: Vec<_> = repo::reports::cells(
        conn,
        None,
        Some(round.survey_id),
        None,
        at,
        at + chrono::Duration::seconds(1),
    )?
    .into_iter()
    .filter(|r| r.round_id == round.id)
    .map(|r| r.cell)
    .collect();
    let mut groups: Vec<i32> = rows.iter().map(|c| c.group).collect();
    groups.sort_by_key(|&g| (g != COMPANY, g));
    let min = round.min_group_size.max(3) as u32;
    let cells = RoundCells::from_stored(round.id, at.date(), min, rows);
    Ok(groups
        .into_iter()
        .map(|g| (g, Shown::of(&sum([&cells], g))))
        .collect())
}

impl Closed {
    pub fn question_rows(&self) -> &[QuestionRow] {
        &self.question_rows
    }

    /// The answers of the group's responses, grouped by response.
    pub fn responses_of(&self) -> BTreeMap<&str, BTreeMap<i32, &AnswerRow>> {
        let in_group = members(&self.tree, self.group);
        let mut out: BTreeMap<&str, BTreeMap<i32, &AnswerRow>> = BTreeMap::new();
        for a in self.answers.iter().filter(|a| in_group(a.team)) {
            out.entry(&a.response_id)
                .or_default()
                .insert(a.question_id, a);
        }
        out
    }
}

/// The filed teams that make up a group: the team and its sub-teams, or everyone.
fn members(tree: &Tree, group: i32) -> impl Fn(i32) -> bool + '_ {
    move |team| tree.ancestry(team).contains(&group)
}

fn question_results(round: &Round, d: &Closed, min: u32) -> Vec<QuestionResult> {
    let (tree, group) = (&d.tree, d.group);
    let respondents = match &d.shown {
        Shown::Figures(f) => f.responses,
        Shown::Suppressed { .. } => return vec![],
    };
    let invited = d.shown.figures().map_or(0, |f| f.invited);
    let scale = EnpsScale::parse(&round.enps_scale).unwrap_or(EnpsScale::OneToTen);
    let in_group = members(tree, group);
    let comments_shown = d.export.is_ok();
    d.question_rows
        .iter()
        .map(|q| {
            let all: Vec<&AnswerRow> = d.answers.iter().filter(|a| a.question_id == q.id).collect();
            // The question's own cells: answers to it per filed team, same rule.
            let mut per_team: BTreeMap<i32, u32> = BTreeMap::new();
            for a in &all {
                *per_team.entry(a.team).or_default() += 1;
            }
            let mine: Vec<&AnswerRow> = all.into_iter().filter(|a| in_group(a.team)).collect();
            let n = mine.len() as u32;
            let hidden = if n < min {
                Some(Reason::TooFew)
            } else if tree.suppressed(&per_team, min).contains(&group) {
                Some(Reason::Derivable)
            } else {
                None
            };
            let mut r = QuestionResult {
                question_id: q.id,
                kind: q.kind.clone(),
                prompt: q.prompt.clone(),
                answers: None,
                suppressed: None,
                reason: None,
                enps: None,
                mean: None,
                distribution: None,
                comments: None,
                comments_suppressed: None,
            };
            if q.kind == "text" {
                if comments_shown {
                    r.answers = Some(n);
                    r.comments = Some(mine.iter().filter_map(|a| a.text.clone()).collect());
                } else {
                    r.comments_suppressed = Some(format!(
                        "comments are shown for groups of at least {} respondents that no other figure gives away; this one has {}",
                        d.comment_min,
                        if respondents >= d.comment_min { "enough, but shown beside the other groups' comments it would give a smaller group's away".to_string() } else { respondents.to_string() }
                    ));
                }
                return r;
            }
            if let Some(reason) = hidden {
                r.suppressed = Some(true);
                r.reason = Some(reason);
                return r;
            }
            r.answers = Some(n);
            match q.kind.as_str() {
                "enps" => {
                    let counts = Counts::from_scores(mine.iter().filter_map(|a| a.score), scale);
                    r.enps = Some(Figures::of(Totals {
                        invited,
                        responses: counts.responses(),
                        counts,
                    }));
                }
                "scale" => {
                    let scores: Vec<i32> = mine.iter().filter_map(|a| a.score).collect();
                    if !scores.is_empty() {
                        let mean = f64::from(scores.iter().sum::<i32>()) / scores.len() as f64;
                        r.mean = Some((mean * 100.0).round() / 100.0);
                    }
                    r.distribution = Some(
                        (1..=5)
                            .map(|n| (n.to_string(), scores.iter().filter(|&&s| s == n).count() as u32))
                            .collect(),
                    );
                }
                _ => {
                    let options = q.question().options;
                    r.distribution = Some(
                        options
                            .iter()
                            .map(|o| {
                                let n = mine.iter().filter(|a| a.choice.as_deref() == Some(o)).count();
                                (o.clone(), n as u32)
                            })
                            .collect(),
                    );
                }
            }
            r
        })
        .collect()
}
