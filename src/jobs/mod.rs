//! Background work: the scheduler that opens, reminds and closes rounds, and the mail dispatcher.

pub mod closing;
pub mod enqueue;
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
/// runs once and `pulse serve` runs every half minute.
pub async fn tick(
    pool: &Pool,
    mailing: &Arc<Mailing>,
    transport: &Transport,
    now: DateTime<Utc>,
) -> anyhow::Result<TickOutcome> {
    let (schedule, meetings) = {
        let (pool, mailing) = (pool.clone(), mailing.clone());
        tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let mut conn = pool.get()?;
            let schedule = scheduler::run(&mut conn, &mailing, now)?;
            let meetings = meetings::run(&mut conn, &mailing, now)?;
            crate::webhooks::events::actions_due(&mut conn, now.naive_utc())?;
            crate::retention::apply(&mut conn, now.naive_utc())?;
            Ok((schedule, meetings))
        })
        .await??
    };
    let render = Arc::new(enqueue::RoundEmails::new(mailing.clone()));
    let d =
        dispatcher::dispatch_rendering(pool, transport, &mailing.from, Some(render), now).await?;
    let webhooks = crate::webhooks::deliver::dispatch(pool, &mailing.base_url, now).await?;
    Ok(TickOutcome {
        schedule,
        meetings,
        sent: d.sent,
        retried: d.retried,
        failed: d.failed,
        deferred: d.deferred,
        webhooks,
    })
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
        match result {
            Ok(invited) => tracing::info!(round = round_id, invited, "round opened"),
            Err(e) => {
                tracing::error!(round = round_id, error = %e, "opening a round stopped: the next pass carries on")
            }
        }
    });
}

/// Runs `tick` forever on the system clock. Safe beside other instances: every
/// step is claimed in the database.
pub async fn run_forever(
    pool: Pool,
    mailing: Arc<Mailing>,
    transport: Transport,
    every: std::time::Duration,
    metrics: Arc<crate::metrics::Metrics>,
) {
    loop {
        let outcome = tick(&pool, &mailing, &transport, Utc::now()).await;
        metrics.tick(outcome.as_ref().ok());
        match outcome {
            Ok(o)
                if o.schedule.rounds_sent
                    + o.schedule.reminders
                    + o.meetings.meetings_created
                    + o.sent
                    + o.failed
                    + o.deferred
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
