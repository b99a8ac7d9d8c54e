//! Applies the retention policy on each scheduler pass.

use crate::db::DbConnection;
use crate::repo::retention as stored;
use chrono::NaiveDateTime;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Cleared {
    pub rounds: usize,
    pub answers: usize,
    pub emails: usize,
}

/// One transaction per round, so a pass that dies keeps what it finished
/// and the next pass picks up the rest.
pub fn apply(conn: &mut DbConnection, now: NaiveDateTime) -> anyhow::Result<Cleared> {
    let policy = stored::policy(conn)?;
    let mut out = Cleared::default();
    if let Some(before) = policy.answers_closed_before(now) {
        for round in stored::rounds_to_clear(conn, before)? {
            out.answers += crate::db::write_transaction(conn, |c| {
                Ok::<_, anyhow::Error>(stored::clear_round(c, round, now)?)
            })?;
            out.rounds += 1;
        }
    }
    if let Some(before) = policy.emails_made_before(now) {
        out.emails = stored::clear_emails(conn, before)?;
    }
    if out != Cleared::default() {
        crate::db::forget_deleted(
            conn,
            &[
                "responses",
                "answers",
                "outbox",
                "conversations",
                "comment_messages",
            ],
        );
        tracing::info!(
            rounds = out.rounds,
            answers = out.answers,
            emails = out.emails,
            "retention: deleted what the policy no longer keeps"
        );
    }
    Ok(out)
}
