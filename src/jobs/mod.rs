//! Background work: the scheduler that opens, reminds and closes rounds, and the mail dispatcher.

pub mod closing;
pub mod digest;
pub mod enqueue;
pub mod lifecycle;
pub mod meetings;
pub mod scheduler;

use crate::config::Settings;
use crate::db::Pool;
use crate::emails::EmailTemplates;
use crate::mail::{dispatcher, Transport};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// What a scheduler needs to write emails.
pub struct Mailing {
    pub templates: EmailTemplates,
    pub base_url: String,
    pub from: String,
    /// Where `.eml` files go; a closed round's are removed from it.
    pub mail_dir: std::path::PathBuf,
}

impl Mailing {
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        Ok(Self {
            templates: EmailTemplates::new()?,
            base_url: settings.base(),
            from: settings.mail_from.clone(),
            mail_dir: settings.mail_dir.clone(),
        })
    }
}

#[derive(Debug, Default)]
pub struct TickOutcome {
    pub schedule: scheduler::TickReport,
    pub meetings: meetings::MeetingsReport,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    /// Not attempted because the mail relay does not answer; sent at the first pass that finds it back.
    pub deferred: usize,
    pub webhooks: crate::webhooks::deliver::WebhookReport,
}

/// One scheduler pass then one dispatch pass at `now`: what `pulse tick`
/// runs once. `pulse serve` runs the two in loops of their own (`run_forever`).
pub async fn tick(
    pool: &Pool,
    mailing: &Arc<Mailing>,
    transport: &Transport,
    now: DateTime<Utc>,
) -> anyhow::Result<TickOutcome> {
    let mut outcome = schedule(pool, mailing, now).await?;
    let d = dispatch(pool, mailing, transport, now).await?;
    outcome.sent = d.sent;
    outcome.retried = d.retried;
    outcome.failed = d.failed;
    outcome.deferred = d.deferred;
    outcome.webhooks = crate::webhooks::deliver::dispatch(pool, &mailing.base_url, now).await?;
    Ok(outcome)
}

/// The scheduler pass (rounds, reminders, closing), the 1:1 meetings pass,
/// due action items and retention.
async fn schedule(
    pool: &Pool,
    mailing: &Arc<Mailing>,
    now: DateTime<Utc>,
) -> anyhow::Result<TickOutcome> {
    let (pool, mailing) = (pool.clone(), mailing.clone());
    tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let mut conn = pool.get()?;
        let schedule = scheduler::run(&mut conn, &mailing, now)?;
        if schedule.invitations > 0 {
            crate::memory::give_back();
        }
        lifecycle::run(&mut conn, &mailing, now)?;
        digest::run(&mut conn, &mailing, now)?;
        let meetings = meetings::run(&mut conn, &mailing, now)?;
        crate::webhooks::events::actions_due(&mut conn, now.naive_utc())?;
        crate::retention::apply(&mut conn, now.naive_utc())?;
        Ok(TickOutcome {
            schedule,
            meetings,
            ..TickOutcome::default()
        })
    })
    .await?
}

/// What `pulse serve`'s scheduler loop runs: `schedule`, then the webhook
/// deliveries that are due (emails have a loop of their own).
async fn scheduler_pass(
    pool: &Pool,
    mailing: &Arc<Mailing>,
    now: DateTime<Utc>,
) -> anyhow::Result<TickOutcome> {
    let mut outcome = schedule(pool, mailing, now).await?;
    outcome.webhooks = crate::webhooks::deliver::dispatch(pool, &mailing.base_url, now).await?;
    Ok(outcome)
}

/// One dispatch pass at `now`, rendering round emails as they go.
async fn dispatch(
    pool: &Pool,
    mailing: &Arc<Mailing>,
    transport: &Transport,
    now: DateTime<Utc>,
) -> anyhow::Result<dispatcher::DispatchReport> {
    let render = Arc::new(enqueue::RoundEmails::new(mailing.clone()));
    dispatcher::dispatch_rendering(pool, transport, &mailing.from, Some(render), now).await
}

/// Writes the rest of a round's invitations on a thread of its own, so the
/// request that opened the round need not wait. Should it die, the next
/// scheduler pass carries on once its lease lapses.
pub fn carry_on_in_background(pool: Pool, mailing: Arc<Mailing>, round_id: i32) {
    std::thread::spawn(move || {
        let result = pool
            .get()
            .map_err(anyhow::Error::from)
            .and_then(|mut conn| {
                scheduler::carry_on_opening(&mut conn, &mailing, round_id, Utc::now())
            });
        crate::memory::give_back();
        match result {
            Ok(invited) => tracing::info!(round = round_id, invited, "round opened"),
            Err(e) => {
                tracing::error!(round = round_id, error = %e, "opening a round stopped: the next pass carries on")
            }
        }
    });
}

/// What `pulse serve` runs forever on the system clock: the scheduler pass
/// every `every`, and beside it the dispatcher, which sends as soon as this
/// process queues emails (a round opened, each chunk of its invitations
/// written, a password changed), and every `every` anyway (retries coming
/// due, emails queued by other instances). Safe beside other instances:
/// every step is claimed in the database.
pub async fn run_forever(
    pool: Pool,
    mailing: Arc<Mailing>,
    transport: Transport,
    every: std::time::Duration,
    metrics: Arc<crate::metrics::Metrics>,
) {
    // Subscribed before the first pass, so nothing queued from now on is missed.
    let queued = crate::repo::outbox::queued();
    tokio::spawn(dispatch_forever(
        pool.clone(),
        mailing.clone(),
        transport,
        every,
        metrics.clone(),
        queued,
    ));
    loop {
        let outcome = scheduler_pass(&pool, &mailing, Utc::now()).await;
        metrics.tick(outcome.as_ref().ok());
        match outcome {
            Ok(o)
                if o.schedule.rounds_sent
                    + o.schedule.reminders
                    + o.schedule.rounds_closed
                    + o.meetings.meetings_created
                    + o.webhooks.delivered
                    + o.webhooks.retried
                    + o.webhooks.failed
                    > 0 =>
            {
                tracing::info!(?o, "scheduler tick")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "scheduler tick failed"),
        }
        tokio::time::sleep(every).await;
    }
}

/// The dispatcher of `pulse serve`: a pass when emails were queued, or
/// `every` after the last pass. Emails queued while a pass runs leave the
/// watch changed, so another pass follows at once.
async fn dispatch_forever(
    pool: Pool,
    mailing: Arc<Mailing>,
    transport: Transport,
    every: std::time::Duration,
    metrics: Arc<crate::metrics::Metrics>,
    mut queued: tokio::sync::watch::Receiver<u64>,
) {
    loop {
        queued.borrow_and_update();
        match dispatch(&pool, &mailing, &transport, Utc::now()).await {
            Ok(d) => {
                metrics.deliveries(d.sent, d.retried, d.failed, d.deferred);
                if d.sent + d.retried + d.failed + d.deferred > 0 {
                    tracing::info!(?d, "emails dispatched");
                }
            }
            Err(e) => {
                metrics.tick(None);
                tracing::error!(error = %e, "dispatching emails failed")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            changed = queued.changed() => {
                if changed.is_err() {
                    // Never: the sender lives as long as the process.
                    tokio::time::sleep(every).await;
                }
            }
        }
    }
}
