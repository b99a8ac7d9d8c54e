//! The answer writer: one thread with its own connection commits whatever submissions are waiting.
//!
//! Requests hand their submission over and wait for its outcome, which comes
//! only after the transaction that holds it has committed. While one batch
//! commits, the next gathers, so the batch grows with the load and commits
//! cost once per batch instead of once per answer. Having a single writer per
//! instance also means the counters are updated by one transaction at a time.

use super::batch::{self, FactsCache};
use super::{Submission, SubmitError};
use crate::db::{DbConnection, Manager};
use crate::error::AppError;
use diesel::connection::SimpleConnection;
use tokio::sync::{mpsc, oneshot};

type Outcome = Result<(), SubmitError>;

struct Job {
    submission: Submission,
    reply: oneshot::Sender<Outcome>,
}

/// The handle requests use; the thread stops when the last handle is dropped.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
}

/// At most this many submissions in one transaction: a bound on its size and on
/// how long the first of them waits.
const MAX_BATCH: usize = 512;

impl Writer {
    /// Starts the writer thread; its connection is opened there, and reopened
    /// after a failure.
    pub fn start(
        manager: Manager,
        metrics: std::sync::Arc<crate::metrics::Metrics>,
    ) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        std::thread::Builder::new()
            .name("answer-writer".into())
            .spawn(move || run(manager, queue))?;
        Ok(Self { jobs, metrics })
    }

    /// Stores one submission with whatever others are waiting; returns once it
    /// is committed, or why it was not stored.
    pub async fn submit(&self, submission: Submission) -> Outcome {
        let (reply, outcome) = oneshot::channel();
        let answers = submission.answers.len();
        let stopped =
            || SubmitError::Failed(AppError::Unavailable("the answer writer stopped".into()));
        self.jobs
            .send(Job { submission, reply })
            .await
            .map_err(|_| stopped())?;
        let outcome = outcome.await.unwrap_or_else(|_| Err(stopped()));
        if outcome.is_ok() {
            self.metrics.answers_stored(answers);
        }
        outcome
    }
}

fn run(manager: Manager, mut queue: mpsc::Receiver<Job>) {
    let mut conn: Option<DbConnection> = None;
    let mut facts = FactsCache::default();
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = queue.blocking_recv() {
        jobs.push(first);
        while jobs.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let outcomes = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            commit(&manager, &mut conn, &mut facts, &jobs)
        }))
        .unwrap_or_else(|_| {
            // A bug must not stop answering: this batch fails (its transaction
            // was not committed) and the next starts on a fresh connection.
            conn = None;
            facts = FactsCache::default();
            jobs.iter()
                .map(|_| {
                    Err(SubmitError::Failed(AppError::Internal(anyhow::anyhow!(
                        "the answer writer panicked"
                    ))))
                })
                .collect()
        });
        tracing::debug!(
            size = jobs.len(),
            micros = started.elapsed().as_micros() as u64,
            "answer batch committed"
        );
        for (job, outcome) in jobs.drain(..).zip(outcomes) {
            // The request may have gone (client disconnected): its answer stays stored.
            let _ = job.reply.send(outcome);
        }
    }
}

/// Commits the batch; if the database rejects the transaction, the batch is
/// retried one submission at a time, so a submission it rejects fails alone.
fn commit(
    manager: &Manager,
    conn: &mut Option<DbConnection>,
    facts: &mut FactsCache,
    jobs: &[Job],
) -> Vec<Outcome> {
    let batch: Vec<&Submission> = jobs.iter().map(|j| &j.submission).collect();
    match attempt(manager, conn, facts, &batch) {
        Ok(outcomes) => outcomes,
        Err(e) if batch.len() == 1 => vec![Err(SubmitError::Failed(e))],
        // The database itself is out of reach or held by a long writer: trying
        // each answer alone would only wait as long again for each. Every one is
        // told to retry (503), nothing was stored.
        Err(AppError::Unavailable(why)) => {
            tracing::warn!(error = %why, size = batch.len(), "answer batch could not be stored");
            batch
                .iter()
                .map(|_| Err(SubmitError::Failed(AppError::Unavailable(why.clone()))))
                .collect()
        }
        Err(e) => {
            tracing::warn!(error = %e, size = batch.len(), "answer batch failed; storing its answers one by one");
            batch
                .iter()
                .map(
                    |s| match attempt(manager, conn, facts, std::slice::from_ref(s)) {
                        Ok(mut one) => one.pop().unwrap_or(Ok(())),
                        Err(e) => Err(SubmitError::Failed(e)),
                    },
                )
                .collect()
        }
    }
}

fn attempt(
    manager: &Manager,
    conn: &mut Option<DbConnection>,
    facts: &mut FactsCache,
    batch: &[&Submission],
) -> Result<Vec<Outcome>, AppError> {
    let c = match conn {
        Some(c) => c,
        None => conn.insert(
            manager
                .establish()
                .map_err(|e| AppError::Unavailable(e.to_string()))?,
        ),
    };
    match batch::commit(c, facts, batch) {
        Ok(outcomes) => Ok(outcomes),
        Err(e) => {
            // A connection that no longer answers is replaced before the next try.
            if let Err(gone) = c.batch_execute("SELECT 1") {
                *conn = None;
                return Err(AppError::Unavailable(format!("{e}; then {gone}")));
            }
            Err(e.into())
        }
    }
}
