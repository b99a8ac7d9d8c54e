//! The webhook delivery pass: claims due deliveries, signs and POSTs them, settles them
//! with the outbox's own rules (retries with back-off, given up after
//! `outbox::MAX_ATTEMPTS`, refused for good by a 4xx other than 408 and 429).

use super::{format, signature, Format};
use crate::db::Pool;
use crate::mail::dispatcher::with_conn;
use crate::repo::{outbox, webhooks, webhooks::Delivery};
use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use rand::Rng;
use std::time::Instant;

/// Deliveries claimed at a time.
const BATCH: i64 = 10;

/// Longest wait for a receiver: connecting and answering.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A claim outlasts a whole batch of receivers that each take `TIMEOUT`, so no other
/// process sends a delivery this one is still waiting on.
const LEASE: Duration = Duration::seconds(3 * 60);

/// What one pass did, as `DispatchReport` says it for email.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WebhookReport {
    pub delivered: usize,
    pub retried: usize,
    pub failed: usize,
}

/// How a receiver answered, or why it did not.
enum Outcome {
    Delivered(String),
    /// Retried later with back-off; given up after `MAX_ATTEMPTS`.
    Retry(String),
    /// No answer (refused, timed out, TLS): retried as `Retry`, and the webhook's
    /// other deliveries of this pass are not tried, so a receiver that is down
    /// holds the pass up for one timeout at most.
    Unreachable(String),
    /// A 4xx other than 408 and 429: the receiver will not take it, whatever we do.
    Refused(String),
}

fn outcome_of(status: reqwest::StatusCode) -> Outcome {
    let text = match status.canonical_reason() {
        Some(r) => format!("{} {r}", status.as_u16()),
        None => status.as_u16().to_string(),
    };
    let code = status.as_u16();
    if status.is_success() {
        Outcome::Delivered(text)
    } else if status.is_client_error() && code != 408 && code != 429 {
        Outcome::Refused(text)
    } else {
        Outcome::Retry(text)
    }
}

/// The innermost cause: reqwest's own message only says the request failed.
fn cause(e: &reqwest::Error) -> String {
    let mut msg = if e.is_timeout() {
        "timed out".to_string()
    } else {
        e.to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg = s.to_string();
        source = s.source();
    }
    msg
}

fn client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        // A redirect would send a signed body somewhere HR did not register.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Pulse-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("cannot build the webhook HTTP client")
}

async fn post(client: &reqwest::Client, d: &Delivery, base_url: &str) -> Outcome {
    let format = Format::parse(&d.format).unwrap_or(Format::Json);
    let body = format::body(format, &d.body, &d.delivery_id, base_url);
    let signed = signature(&d.secret, Utc::now().timestamp(), body.as_bytes());
    let sent = client
        .post(&d.url)
        .header("content-type", "application/json")
        .header("pulse-event", &d.event)
        .header("pulse-delivery", &d.delivery_id)
        .header("pulse-signature", signed)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(res) => outcome_of(res.status()),
        Err(e) => Outcome::Unreachable(cause(&e)),
    }
}

/// Delivers every due webhook delivery, one at a time (a handful an hour, not
/// a round's thousands of emails), until none is due at `now`, the pass's start:
/// one that fails waits for a later pass, so a receiver that is down costs each
/// delivery one attempt a pass at most, spaced by the back-off. A receiver that
/// does not answer at all is waited for once a pass: its other deliveries count
/// the same failed attempt without another wait.
pub async fn dispatch(
    pool: &Pool,
    base_url: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<WebhookReport> {
    let started = Instant::now();
    let now = now.naive_utc();
    let clock = || now + Duration::from_std(started.elapsed()).unwrap_or_default();
    let token = crate::tokens::random_token();
    let mut report = WebhookReport::default();
    let mut http = None;
    // Webhooks whose receiver did not answer in this pass, with why.
    let mut down: std::collections::HashMap<i32, String> = Default::default();
    loop {
        let lease = LEASE + (clock() - now);
        let batch = {
            let token = token.clone();
            with_conn(pool, move |conn| {
                webhooks::claim(conn, now, BATCH, lease, &token)
            })
            .await
            .context("cannot claim webhook deliveries")?
        };
        if batch.is_empty() {
            return Ok(report);
        }
        if http.is_none() {
            http = Some(client()?);
        }
        let http = http.as_ref().expect("built above");
        for d in batch {
            let outcome = match down.get(&d.webhook_id) {
                Some(e) => Outcome::Unreachable(format!(
                    "{e} (not tried: the receiver did not answer earlier in this pass)"
                )),
                None => post(http, &d, base_url).await,
            };
            if let Outcome::Unreachable(e) = &outcome {
                down.entry(d.webhook_id).or_insert_with(|| e.clone());
            }
            settle(pool, &d, outcome, clock(), &mut report).await?;
        }
    }
}

async fn settle(
    pool: &Pool,
    d: &Delivery,
    outcome: Outcome,
    at: NaiveDateTime,
    report: &mut WebhookReport,
) -> anyhow::Result<()> {
    let (id, hook, attempts) = (d.id, d.webhook_id, d.attempts);
    let jitter: f64 = rand::thread_rng().gen_range(0.5..1.5);
    let (status, delivered, gave_up) = match &outcome {
        Outcome::Delivered(s) => (s.clone(), true, false),
        Outcome::Refused(s) => (s.clone(), false, true),
        Outcome::Retry(s) | Outcome::Unreachable(s) => {
            (s.clone(), false, attempts + 1 >= outbox::MAX_ATTEMPTS)
        }
    };
    if delivered {
        report.delivered += 1;
    } else if gave_up {
        report.failed += 1;
    } else {
        report.retried += 1;
    }
    if !delivered {
        tracing::warn!(delivery = id, webhook = hook, event = %d.event,
            attempt = attempts + 1, gives_up = gave_up, status = %status, "webhook not delivered");
    }
    let permanent = matches!(outcome, Outcome::Refused(_));
    with_conn(pool, move |conn| {
        crate::db::write_transaction(conn, |conn| {
            if delivered {
                // Empties the body too: it was delivered and has nothing more to do here.
                outbox::mark_sent(conn, id, at)?;
            } else {
                outbox::mark_failed(conn, id, attempts, &status, permanent, at, jitter)?;
            }
            webhooks::record_attempt(conn, hook, at, &status, delivered, gave_up)
        })
    })
    .await
    .with_context(|| format!("cannot record the attempt of webhook delivery {id}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    #[test]
    fn a_4xx_is_final_except_408_and_429() {
        assert!(matches!(outcome_of(StatusCode::OK), Outcome::Delivered(_)));
        assert!(matches!(
            outcome_of(StatusCode::NO_CONTENT),
            Outcome::Delivered(_)
        ));
        assert!(matches!(outcome_of(StatusCode::GONE), Outcome::Refused(_)));
        assert!(matches!(
            outcome_of(StatusCode::BAD_REQUEST),
            Outcome::Refused(_)
        ));
        assert!(matches!(
            outcome_of(StatusCode::REQUEST_TIMEOUT),
            Outcome::Retry(_)
        ));
        assert!(matches!(
            outcome_of(StatusCode::TOO_MANY_REQUESTS),
            Outcome::Retry(_)
        ));
        assert!(matches!(
            outcome_of(StatusCode::SERVICE_UNAVAILABLE),
            Outcome::Retry(_)
        ));
        assert!(matches!(outcome_of(StatusCode::FOUND), Outcome::Retry(_)));
    }
}
