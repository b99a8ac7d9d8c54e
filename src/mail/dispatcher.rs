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

/// How long a claim holds a message. Short, so that the messages of a
/// dispatcher that died go out again within seconds rather than minutes: the
/// lease tracks the work, renewed every `RENEW_EVERY` while its batch is
/// being sent, and lapses soon after the work stops.
pub const LEASE: Duration = Duration::seconds(20);

/// A quarter of the lease: three renewals could be missed before another
/// dispatcher may take the batch.
const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// A relay that takes longer than this to answer a probe is taken as down:
/// the probe runs outside any lease renewal, so it must not wait for long.
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What one pass did: `retried` messages wait for a later attempt, `failed`
/// ones were given up on, `deferred` ones were not attempted (or not counted
/// as attempted) because the mail relay does not answer; they go at the
/// first pass that finds it answering again.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DispatchReport {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    pub deferred: usize,
}

/// Claims due messages and sends them until none is due, in batches of 50
/// held by a short lease that is renewed while the batch is being sent.
///
/// `now` is when the pass starts. What is due is judged at that instant, so a
/// message that fails is never due again within the pass (which therefore
/// ends) and an outage cannot burn through its attempts in one long pass.
/// What is written (leases, retry times, `sent_at`) is stamped with `now`
/// plus the real time elapsed since, so a lease taken late in a long pass
/// still lasts its full length for other processes.
///
/// When a send fails without any reply from the relay (refused or dropped
/// connection, timeout, TLS), the relay is probed: if it does not answer
/// either, the relay is down, not the message at fault, so the message keeps
/// its attempt count and stays due, the rest of the batch is let go, and the
/// pass ends. Every later pass tries again, so the queue leaves at the first
/// pass after the relay is back, however long it was down, and an outage
/// never makes messages fail. If the probe is answered, the failure was this
/// message's, and it is retried with back-off like a 4xx.
pub async fn dispatch_due(
    pool: &Pool,
    transport: &Transport,
    from: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<DispatchReport> {
    let now = now.naive_utc();
    let started = Instant::now();
    let clock = move || now + Duration::from_std(started.elapsed()).unwrap_or_default();
    // Marks this pass's claims, so it renews and releases only its own.
    let token = hex::encode(rand::thread_rng().gen::<[u8; 16]>());
    let mut report = DispatchReport::default();
    loop {
        // claim() counts the lease from `now`, the start of the pass; this
        // makes it run from the moment of claiming.
        let lease_from_start = LEASE + (clock() - now);
        let batch = {
            let token = token.clone();
            with_conn(pool, move |conn| {
                outbox::claim_as(conn, now, BATCH, lease_from_start, &token)
            })
            .await
            .context("cannot claim outbox messages")?
        };
        if batch.is_empty() {
            return Ok(report);
        }
        tracing::debug!(claimed = batch.len(), "outbox batch claimed");
        let mut lease = Lease {
            pool,
            token: &token,
            renewed: Instant::now(),
            held: batch.iter().map(|m| m.id).collect(),
        };
        for (i, message) in batch.iter().enumerate() {
            let rest: Vec<i32> = batch[i..].iter().map(|m| m.id).collect();
            if lease.renewed.elapsed() >= RENEW_EVERY {
                lease.renew(&rest, clock()).await?;
            }
            if !lease.held.contains(&message.id) {
                // Our lease lapsed (a stalled database, a suspended process)
                // and another dispatcher took the message: it sends it.
                tracing::warn!(
                    outbox_id = message.id,
                    "lease lost: leaving it to the other dispatcher"
                );
                continue;
            }
            let sent = send_renewing(transport, from, message, &mut lease, &rest, &clock).await?;
            match sent {
                Ok(()) => {
                    let (id, at) = (message.id, clock());
                    // Should this fail, the lease runs out and the message goes again
                    // with the same Message-ID: a duplicate the recipient's client can
                    // recognise, never a loss.
                    with_conn(pool, move |conn| outbox::mark_sent(conn, id, at))
                        .await
                        .with_context(|| {
                            format!("outbox message {id} was sent but not marked sent")
                        })?;
                    report.sent += 1;
                }
                Err(e) => {
                    if e.unreachable && !relay_answers(transport).await {
                        let (id, error) = (message.id, e.to_string());
                        tracing::warn!(
                            error = %error,
                            waiting = rest.len(),
                            "the mail relay does not answer: emails wait for the next pass"
                        );
                        let token = token.clone();
                        with_conn(pool, move |conn| {
                            outbox::defer(conn, id, &error)?;
                            outbox::release(conn, &rest, &token)
                        })
                        .await
                        .context("cannot release outbox messages while the relay is down")?;
                        report.deferred += batch.len() - i;
                        return Ok(report);
                    }
                    failed(pool, clock(), message, e, &mut report).await?;
                }
            }
        }
    }
}

/// Probes the relay after a send that got no reply, within `PROBE_TIMEOUT`.
async fn relay_answers(transport: &Transport) -> bool {
    tracing::debug!("no reply from the mail relay: probing it");
    tokio::time::timeout(PROBE_TIMEOUT, transport.probe())
        .await
        .unwrap_or(false)
}

/// A pass's hold on its batch.
struct Lease<'a> {
    pool: &'a Pool,
    token: &'a str,
    renewed: Instant,
    /// Messages of the batch still ours at the last renewal.
    held: Vec<i32>,
}

impl Lease<'_> {
    /// Extends the lease of `ids` to `at + LEASE`, keeping only those still ours.
    async fn renew(&mut self, ids: &[i32], at: NaiveDateTime) -> anyhow::Result<()> {
        let (ids, token) = (ids.to_vec(), self.token.to_string());
        self.held = with_conn(self.pool, move |conn| {
            outbox::renew(conn, &ids, &token, at + LEASE)
        })
        .await
        .context("cannot renew the lease of outbox messages")?;
        self.renewed = Instant::now();
        Ok(())
    }
}

/// Sends one message, renewing the batch's lease meanwhile if the relay is
/// slow to answer: a live dispatcher never loses its claim to a slow send.
async fn send_renewing(
    transport: &Transport,
    from: &str,
    message: &OutboxMessage,
    lease: &mut Lease<'_>,
    rest: &[i32],
    clock: &impl Fn() -> NaiveDateTime,
) -> anyhow::Result<Result<(), super::SendError>> {
    let send = transport.send_raw(from, &message.recipient, &message.message);
    tokio::pin!(send);
    loop {
        let wait = RENEW_EVERY.saturating_sub(lease.renewed.elapsed());
        tokio::select! {
            sent = &mut send => return Ok(sent),
            _ = tokio::time::sleep(wait) => lease.renew(rest, clock()).await?,
        }
    }
}

async fn failed(
    pool: &Pool,
    now: NaiveDateTime,
    message: &OutboxMessage,
    e: super::SendError,
    report: &mut DispatchReport,
) -> anyhow::Result<()> {
    let id = message.id;
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
