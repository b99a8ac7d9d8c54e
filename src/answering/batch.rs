//! Group commit: whatever submissions are waiting, checked one by one and stored in one transaction.
//!
//! Each submission gets its own outcome; a refused or invalid one is simply left
//! out of the writes, so it never fails the others. The transaction reads the
//! rounds' state under a lock that closing waits for, so what it accepts was
//! accepted while the round was open, whatever another instance is doing.

use super::{Refusal, Submission, SubmitError};
use crate::db::DbConnection;
use crate::domain::survey::{check_answers, EnpsScale, Question};
use crate::repo::{self, rounds::Invitation, rounds::NewResponse, rounds::Round};
use diesel::QueryResult;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// What checking an answer to a round needs and never changes while the round
/// lives: its questions (stored per version; editing a survey makes a new
/// version for later rounds) and its eNPS scale (copied into the round).
/// Whether the round is open is not cached: it is read in every batch.
pub struct RoundFacts {
    pub questions: Vec<(i32, Question)>,
    pub scale: EnpsScale,
    /// A rotating round: how many pool questions each link is asked.
    pub per_round: Option<usize>,
}

/// Facts of the open rounds answers came for. A round is forgotten as soon as a
/// batch finds it no longer open.
#[derive(Default)]
pub struct FactsCache {
    rounds: HashMap<i32, Arc<RoundFacts>>,
}

impl FactsCache {
    /// Bounds memory whatever happens: far more open rounds than any company has.
    const MAX_ROUNDS: usize = 1024;

    fn get(&mut self, conn: &mut DbConnection, round: &Round) -> QueryResult<Arc<RoundFacts>> {
        if let Some(f) = self.rounds.get(&round.id) {
            return Ok(f.clone());
        }
        let questions = repo::surveys::questions(conn, round.survey_id, round.question_version)?
            .iter()
            .map(|q| (q.id, q.question()))
            .collect();
        let scale = match EnpsScale::parse(&round.enps_scale) {
            Ok(s) => s,
            Err(_) => repo::surveys::find(conn, round.survey_id)?
                .map(|s| s.scale())
                .unwrap_or(EnpsScale::OneToTen),
        };
        let per_round = repo::rotations::per_round(conn, round.survey_id, round.question_version)?;
        let facts = Arc::new(RoundFacts {
            questions,
            scale,
            per_round,
        });
        if self.rounds.len() >= Self::MAX_ROUNDS {
            self.rounds.clear();
        }
        self.rounds.insert(round.id, facts.clone());
        Ok(facts)
    }

    fn forget(&mut self, round_id: i32) {
        self.rounds.remove(&round_id);
    }
}

/// Checks and stores `batch` in one write transaction; one outcome per
/// submission, in order. An error here (the database failing) means nothing of
/// the batch was written.
pub fn commit(
    conn: &mut DbConnection,
    facts: &mut FactsCache,
    batch: &[&Submission],
) -> QueryResult<Vec<Result<(), SubmitError>>> {
    crate::db::write_transaction(conn, |conn| commit_in(conn, facts, batch))
}

fn commit_in(
    conn: &mut DbConnection,
    facts: &mut FactsCache,
    batch: &[&Submission],
) -> QueryResult<Vec<Result<(), SubmitError>>> {
    let hashes: Vec<&str> = batch.iter().map(|s| s.token_hash.as_str()).collect();
    let found = repo::rounds::invitations_by_tokens(conn, &hashes)?;
    let mut by_hash: HashMap<&str, &Invitation> = HashMap::new();
    for inv in &found {
        by_hash.insert(inv.token_hash.as_str(), inv);
        if let Some(h) = &inv.reminder_token_hash {
            by_hash.insert(h.as_str(), inv);
        }
    }
    let mut round_ids: Vec<i32> = found.iter().map(|i| i.round_id).collect();
    round_ids.sort_unstable();
    round_ids.dedup();
    let rounds: HashMap<i32, Round> = repo::rounds::lock_rounds(conn, &round_ids)?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();

    let mut outcomes: Vec<Result<(), SubmitError>> = Vec::with_capacity(batch.len());
    // (index in the batch, invitation, checked answers)
    let mut accepted = Vec::new();
    let mut taken: HashSet<i32> = HashSet::new();
    for (i, s) in batch.iter().enumerate() {
        let refuse = |r| Err(SubmitError::Refused(r));
        let Some(inv) = by_hash.get(s.token_hash.as_str()) else {
            outcomes.push(refuse(Refusal::InvalidToken));
            continue;
        };
        let Some(round) = rounds.get(&inv.round_id) else {
            outcomes.push(refuse(Refusal::InvalidToken));
            continue;
        };
        if round.status != "open" || s.now.naive_utc() >= round.closes_at {
            facts.forget(round.id);
            outcomes.push(refuse(Refusal::RoundClosed));
            continue;
        }
        // Two submissions of one link in one batch: the first one counts.
        if inv.responded || taken.contains(&inv.id) {
            outcomes.push(refuse(Refusal::AlreadyAnswered));
            continue;
        }
        let f = facts.get(conn, round)?;
        // A rotating round takes exactly the questions this link was asked.
        let drawn;
        let questions = match f.per_round {
            Some(k) => {
                drawn = super::asked(f.questions.clone(), k, round.id, s.link_key);
                &drawn
            }
            None => &f.questions,
        };
        match check_answers(questions, f.scale, &s.answers) {
            Ok(checked) => {
                taken.insert(inv.id);
                accepted.push((i, *inv, checked));
                outcomes.push(Ok(()));
            }
            Err(errors) => outcomes.push(Err(SubmitError::Invalid(errors))),
        }
    }
    if accepted.is_empty() {
        return Ok(outcomes);
    }

    // The conditional update decides: an invitation another transaction marked
    // since the read above is answered already.
    let ids: Vec<i32> = accepted.iter().map(|(_, inv, _)| inv.id).collect();
    let marked: HashSet<i32> = repo::rounds::mark_responded_many(conn, &ids)?
        .into_iter()
        .collect();
    accepted.retain(|(i, inv, _)| {
        let kept = marked.contains(&inv.id);
        if !kept {
            outcomes[*i] = Err(SubmitError::Refused(Refusal::AlreadyAnswered));
        }
        kept
    });
    // Rows go in in random order, so neither physical order nor the order of the
    // batch tells whose answer is whose.
    use rand::seq::SliceRandom;
    accepted.shuffle(&mut rand::thread_rng());
    let rows: Vec<NewResponse<'_>> = accepted
        .iter()
        .map(|(i, inv, checked)| NewResponse {
            round_id: inv.round_id,
            team_id: inv.team_id,
            submitted_on: batch[*i].now.date_naive(),
            answers: checked,
        })
        .collect();
    let ids = repo::rounds::insert_responses(conn, &rows)?;
    for ((i, inv, _), id) in accepted.iter().zip(&ids) {
        if let Some(hash) = &batch[*i].conversation {
            repo::conversations::open(conn, hash, inv.round_id, id)?;
        }
    }
    Ok(outcomes)
}
