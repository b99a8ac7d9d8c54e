//! The weekly manager digest: one email per lead and week, through the outbox.
//!
//! The first pass of each digest week (from Monday 06:00 UTC) writes every
//! lead's digest; `digest_sends` (lead, week) is written with ON CONFLICT DO
//! NOTHING in the same transaction as the outbox row, so later passes,
//! restarts and other instances write nothing more that week.

use crate::db::DbConnection;
use crate::jobs::Mailing;
use crate::repo;
use crate::reports::digest;
use crate::tokens::{random_token, sha256_hex};
use chrono::{DateTime, Utc};

/// Writes the digests of the week `now` falls in that are not written yet; returns how many.
pub fn run(
    conn: &mut DbConnection,
    mailing: &Mailing,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let week = digest::week_start(now);
    let mut written = 0;
    for lead_id in repo::digests::recipients(conn, now.date_naive())? {
        if repo::digests::already_sent(conn, lead_id, week)? {
            continue;
        }
        let Some(lead) = repo::employees::find(conn, lead_id)? else {
            continue;
        };
        let content = digest::load(conn, lead_id, now)?;
        let wrote = crate::db::write_transaction::<_, anyhow::Error, _>(conn, |conn| {
            let token = random_token();
            if !repo::digests::record_send(conn, lead_id, week, &sha256_hex(&token))? {
                return Ok(false);
            }
            let mut data = digest::view(&content);
            data["name"] = lead.name.clone().into();
            data["dashboard_link"] = format!("{}/", mailing.base_url).into();
            data["unsubscribe_link"] =
                format!("{}/digest/unsubscribe/{token}", mailing.base_url).into();
            let key = format!("digest:{lead_id}:{week}");
            mailing.enqueue(conn, "digest", &key, &lead, &data, None, now)
        })?;
        if wrote {
            written += 1;
        }
    }
    if written > 0 {
        tracing::info!(written, %week, "manager digests written");
    }
    Ok(written)
}
