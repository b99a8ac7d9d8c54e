//! The outbox dispatcher: claims due messages, sends them and records the outcome.

use super::Transport;
use crate::db::{DbConnection, Pool};
use crate::repo::outbox::{self, OutboxMessage};
use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use rand::Rng;
use std::time::Instant;

/// Small enough that a crash leaves few messages to resend, large enough to
/// keep claim queries rare.
const BATCH: i64 = 50;

/// Far longer than sending a batch normally takes, and a dispatcher stops
/// sending a batch at half of it, so a live dispatcher never loses its claim;
/// a dead one's messages are picked up again after this.
const LEASE: Duration = Duration::minutes(5);

/// What one pass did: `retried` messages wait for a later attempt, `failed` ones were given up on.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DispatchReport {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

/// Claims due messages and sends them until none is due (loop over claim batches of 50, lease 5 min). DB work in tokio::task::spawn_blocking / actix web::block with a pool checkout inside; sending is async.
///
/// `now` is when the pass starts. What is due is judged at that instant, so a
/// message that fails is never due again within the pass (which therefore
/// ends) and an outage cannot burn through its attempts in one long pass.
/// What is written (leases, retry times, `sent_at`) is stamped with `now`
/// plus the real time elapsed since, so a lease taken late in a long pass
/// still lasts its full length for other processes.
pub async fn dispatch_due(
    pool: &Pool,
    transport: &Transport,
    from: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<DispatchReport> {
    let now = now.naive_utc();
    let started = Instant::now();
    let clock = move || now + Duration::from_std(started.elapsed()).unwrap_or_default();
    let mut report = DispatchReport::default();
    loop {
        // claim() counts the lease from `now`, the start of the pass; this
        // makes it run from the moment of claiming.
        let lease_from_start = LEASE + (clock() - now);
        let batch = with_conn(pool, move |conn| {
            outbox::claim(conn, now, BATCH, lease_from_start)
        })
        .await
        .context("cannot claim outbox messages")?;
        if batch.is_empty() {
            return Ok(report);
        }
        let claimed_at = Instant::now();
        for message in batch {
            // A very slow mail server could outlast the lease, and another
            // dispatcher would then send the rest of the batch too. Leaving it
            // leased instead only delays it until the lease runs out.
            if claimed_at.elapsed() > LEASE.to_std().unwrap_or_default() / 2 {
                tracing::warn!("sending is slow: leaving the rest of the batch for later");
                break;
            }
            settle(pool, transport, from, clock(), &message, &mut report).await?;
        }
    }
}

async fn settle(
    pool: &Pool,
    transport: &Transport,
    from: &str,
    now: NaiveDateTime,
    message: &OutboxMessage,
    report: &mut DispatchReport,
) -> anyhow::Result<()> {
    let id = message.id;
    match transport
        .send_raw(from, &message.recipient, &message.message)
        .await
    {
        Ok(()) => {
            // Should this fail, the lease runs out and the message goes again
            // with the same Message-ID: a duplicate the recipient's client can
            // recognise, never a loss.
            with_conn(pool, move |conn| outbox::mark_sent(conn, id, now))
                .await
                .with_context(|| format!("outbox message {id} was sent but not marked sent"))?;
            report.sent += 1;
        }
        Err(e) => {
            let jitter: f64 = rand::thread_rng().gen_range(0.5..1.5);
            let attempts_before = message.attempts;
            let gives_up = e.permanent || attempts_before + 1 >= outbox::MAX_ATTEMPTS;
            tracing::warn!(
                outbox_id = id,
                dedupe_key = %message.dedupe_key,
                attempt = attempts_before + 1,
                gives_up,
                error = %e,
                "email not sent"
            );
            let error = e.to_string();
            with_conn(pool, move |conn| {
                outbox::mark_failed(conn, id, attempts_before, &error, e.permanent, now, jitter)
            })
            .await
            .with_context(|| format!("cannot record the failed attempt of outbox message {id}"))?;
            if gives_up {
                report.failed += 1;
            } else {
                report.retried += 1;
            }
        }
    }
    Ok(())
}

/// Runs blocking diesel work off the async threads, checking out a connection there.
async fn with_conn<T, F>(pool: &Pool, f: F) -> anyhow::Result<T>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> diesel::QueryResult<T> + Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        Ok(f(&mut conn)?)
    })
    .await?
}
