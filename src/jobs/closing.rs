//! Closing rounds: their figures appear, and every per-person trace of answering goes.
//!
//! Two transactions, on purpose. The first ends answering and forgets who answered
//! (flags, reminder links, emails); the second, later, rewrites the responses in random
//! order. Were they one, PostgreSQL would stamp the invitations and the rewritten
//! responses with one transaction id. A crash between them leaves the round `closing`,
//! which the next pass finishes. The second also stores the round's cells (the
//! disclosure rule's decision and sums per team), so reports never redo it.

use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::repo::{self, audit::Actor, rounds::Round};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use std::path::Path;

/// Closes every round whose window has ended; returns how many this pass closed.
pub fn close_due(
    conn: &mut DbConnection,
    mail_dir: &Path,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let mut closed = 0;
    for id in repo::rounds::due_to_close(conn, now.naive_utc())? {
        if close(conn, mail_dir, id)? {
            closed += 1;
        }
    }
    Ok(closed)
}

/// Closes one round that is due (or half closed); false when another pass did it.
pub fn close(conn: &mut DbConnection, mail_dir: &Path, round_id: i32) -> anyhow::Result<bool> {
    crate::db::write_transaction::<_, diesel::result::Error, _>(conn, |conn| {
        if repo::rounds::begin_closing(conn, round_id)? {
            repo::rounds::forget_answerers(conn, round_id)?;
            repo::outbox::delete_round_emails(conn, round_id)?;
        }
        Ok(())
    })?;
    let finished = crate::db::write_transaction::<_, diesel::result::Error, _>(conn, |conn| {
        if !repo::rounds::finish_closing(conn, round_id)? {
            return Ok(false);
        }
        repo::rounds::shuffle_responses(conn, round_id)?;
        // The round's figures are decided once, here, and every view adds them up.
        repo::reports::store_cells(conn, round_id)?;
        // Its results go out with the decision that made them, once.
        crate::webhooks::events::round_closed(conn, round_id, repo::now())?;
        Ok(true)
    })?;
    if finished {
        remove_round_files(mail_dir, round_id);
        crate::db::forget_deleted(
            conn,
            &[
                "responses",
                "answers",
                "invitations",
                "round_team_stats",
                "conversations",
            ],
        );
    }
    Ok(finished)
}

/// HR closes a round before its time: `POST /api/v1/rounds/{id}/close`.
pub async fn close_now(
    state: &AppState,
    actor: &Actor,
    round_id: i32,
    now: DateTime<Utc>,
) -> AppResult<Round> {
    let mail_dir = state.settings.mail_dir.clone();
    let actor = actor.clone();
    state
        .db(move |conn| {
            let round =
                repo::rounds::find(conn, round_id)?.ok_or_else(|| AppError::not_found("round"))?;
            if round.status == "skipped" {
                return Err(AppError::Conflict {
                    code: "round_skipped",
                    message: "this round was skipped and never sent: there is nothing to close"
                        .into(),
                });
            }
            crate::db::write_transaction(conn, |conn| -> AppResult<()> {
                repo::rounds::close_early(conn, round_id, now.naive_utc())?;
                let detail = format!("survey:{}, closed early", round.survey_id);
                repo::audit::record(
                    conn,
                    &actor,
                    repo::audit::action::ROUND_CLOSE,
                    &format!("round:{round_id}"),
                    &detail,
                )?;
                Ok(())
            })?;
            close(conn, &mail_dir, round_id).map_err(AppError::Internal)?;
            repo::rounds::find(conn, round_id)?.ok_or_else(|| AppError::not_found("round"))
        })
        .await
}

/// The round's `.eml` files held people's links: they go with the round's emails.
fn remove_round_files(mail_dir: &Path, round_id: i32) {
    let Ok(entries) = std::fs::read_dir(mail_dir) else {
        return;
    };
    let prefixes = [
        format!("invite.{round_id}."),
        format!("reminder.{round_id}."),
    ];
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".eml") && prefixes.iter().any(|p| name.starts_with(p.as_str())) {
            if let Err(e) = std::fs::remove_file(entry.path()) {
                tracing::warn!(round = round_id, error = %e, "could not remove a closed round's email file");
            }
        }
    }
}
