//! The outbox dispatcher: claims due messages, sends them and records the outcome.

use super::{Session, Transport};
use crate::db::{DbConnection, Pool};
use crate::repo::outbox::{self, OutboxMessage};
use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use rand::Rng;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Messages one session claims at a time: small enough that a crash leaves
/// few to resend, large enough to keep claim queries rare.
const BATCH: i64 = 50;

/// How many SMTP sessions send at once (what postfix's `smtp-source -s 10`
/// is measured with); each keeps its connection for the whole pass.
const SMTP_SESSIONS: usize = 10;

/// Sent messages a session may leave unrecorded while it sends the next: two,
/// so that it seldom waits for the recorder (with one, sessions spent about a
/// fifth of their time waiting on PostgreSQL). A crash resends at most these
/// and the message in flight, three per session, under their Message-ID.
const UNRECORDED: usize = 2;

/// Writers of `.eml` files at once: each write waits for its fsync.
const FILE_WRITERS: usize = 4;

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

/// Turns a stored round email (template, round, token) into the message to
/// send, at dispatch: the outbox row stays small. Runs on a blocking thread.
pub trait Render: Send + Sync {
    /// The composed RFC 5322 message; an error is permanent (the round or
    /// its survey is gone, the address does not parse).
    fn render(
        &self,
        conn: &mut DbConnection,
        message: &OutboxMessage,
    ) -> diesel::QueryResult<Result<String, String>>;
}

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

impl DispatchReport {
    fn add(&mut self, other: Self) {
        self.sent += other.sent;
        self.retried += other.retried;
        self.failed += other.failed;
        self.deferred += other.deferred;
    }
}

/// `dispatch_rendering` for messages stored whole (no round emails rendered).
pub async fn dispatch_due(
    pool: &Pool,
    transport: &Transport,
    from: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<DispatchReport> {
    dispatch_rendering(pool, transport, from, None, now).await
}

/// Claims due messages and sends them until none is due, over several
/// sessions at once (10 SMTP connections, or 4 file writers), each claiming
/// batches of 50 held by a short lease that is renewed while the batch is
/// being sent. Round emails are rendered by `render` as they are claimed.
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
/// its attempt count and stays due, every session lets go of the rest of
/// its batch, and the pass ends. Every later pass tries again, so the queue
/// leaves at the first pass after the relay is back, however long it was
/// down, and an outage never makes messages fail. If the probe is answered,
/// the failure was this message's, and it is retried with back-off like a 4xx.
pub async fn dispatch_rendering(
    pool: &Pool,
    transport: &Transport,
    from: &str,
    render: Option<Arc<dyn Render>>,
    now: DateTime<Utc>,
) -> anyhow::Result<DispatchReport> {
    let pass = Arc::new(Pass {
        pool: pool.clone(),
        transport: transport.clone(),
        from: from.to_string(),
        render,
        now: now.naive_utc(),
        started: Instant::now(),
        relay_down: AtomicBool::new(false),
        deferred: Default::default(),
        writer: writer_for(pool).await?,
    });
    let sessions = match transport {
        Transport::Smtp(_) => SMTP_SESSIONS,
        Transport::Files(_) => FILE_WRITERS,
    };
    let mut report = DispatchReport::default();
    let mut first_error = None;
    let (record, recorded) = tokio::sync::mpsc::unbounded_channel();
    // Each session is a task of its own, so the runtime spreads the SMTP
    // work over its threads: polled together as one future, the ten
    // sessions shared one thread, which ran at ~85% of a core while the
    // relay waited (`pulse bench delivery`).
    let lanes: Vec<_> = (0..sessions)
        .map(|_| tokio::spawn(pass.clone().lane(record.clone())))
        .collect();
    drop(record);
    let (lanes, recorder) = tokio::join!(
        futures_util::future::join_all(lanes),
        pass.recorder(recorded)
    );
    if let Err(e) = recorder {
        first_error = Some(e);
    }
    for lane in lanes {
        match lane.map_err(|e| anyhow::anyhow!("an SMTP session stopped: {e}")) {
            Ok(Ok(r)) => report.add(r),
            Ok(Err(e)) | Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    report.deferred = pass.deferred.lock().expect("not poisoned").len();
    match first_error {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

/// What the sessions of one pass share.
struct Pass {
    pool: Pool,
    transport: Transport,
    from: String,
    render: Option<Arc<dyn Render>>,
    now: NaiveDateTime,
    started: Instant,
    /// Set by the session that found the relay down: the others stop too.
    relay_down: AtomicBool,
    /// Messages let go because the relay is down: a set, since a message one
    /// session let go may be claimed and let go again by another meanwhile.
    deferred: std::sync::Mutex<std::collections::HashSet<i32>>,
    /// On SQLite, the one connection the pass claims and records through.
    writer: Option<Writer>,
}

/// SQLite drops a connection's page cache whenever another connection has
/// written. Claims and records of sent messages made through pooled
/// connections in turn each began cold, reading their pages again from the
/// file: a claim took ~15 ms and a record ~1 ms at 100,000 messages, holding
/// the one write lock meanwhile, which throttled every session. Made through
/// one connection they find its cache as they left it; SQLite runs one writer
/// at a time anyway, so nothing that could run in parallel waits.
type Writer = Arc<std::sync::Mutex<crate::db::PooledConnection>>;

/// The pass's writer: a pooled connection on SQLite, none on PostgreSQL,
/// where claims and records go on connections of their own in parallel.
async fn writer_for(pool: &Pool) -> anyhow::Result<Option<Writer>> {
    let pool = pool.clone();
    let conn = tokio::task::spawn_blocking(move || pool.get())
        .await?
        .context("cannot reach the database")?;
    Ok(matches!(*conn, DbConnection::Sqlite(_)).then(|| Arc::new(std::sync::Mutex::new(conn))))
}

impl Pass {
    /// Runs a claim or a record: through the writer on SQLite, else on a pooled connection.
    async fn write<T, F>(&self, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> diesel::QueryResult<T> + Send + 'static,
    {
        let Some(writer) = self.writer.clone() else {
            return with_conn(&self.pool, f).await;
        };
        tokio::task::spawn_blocking(move || {
            // A writer that panicked left no transaction open.
            let mut conn = writer.lock().unwrap_or_else(|e| e.into_inner());
            Ok(f(&mut conn)?)
        })
        .await?
    }

    fn clock(&self) -> NaiveDateTime {
        self.now + Duration::from_std(self.started.elapsed()).unwrap_or_default()
    }

    fn defer(&self, ids: &[i32]) {
        self.deferred
            .lock()
            .expect("not poisoned")
            .extend(ids.iter().copied());
    }

    /// One session: claims a batch, sends it over its connection, until none is due.
    async fn lane(self: Arc<Self>, record: Record) -> anyhow::Result<DispatchReport> {
        let mut session = self.transport.session();
        let result = self.lane_on(&mut session, &record).await;
        session.close().await;
        result
    }

    async fn lane_on(
        &self,
        session: &mut Session,
        record: &Record,
    ) -> anyhow::Result<DispatchReport> {
        let mut recording = std::collections::VecDeque::new();
        let result = self.sessions_work(session, record, &mut recording).await;
        for last in recording {
            recorded(last).await?;
        }
        result
    }

    async fn sessions_work(
        &self,
        session: &mut Session,
        record: &Record,
        recording: &mut std::collections::VecDeque<Recorded>,
    ) -> anyhow::Result<DispatchReport> {
        let now = self.now;
        // Marks this session's claims, so it renews and releases only its own.
        let token = hex::encode(rand::thread_rng().gen::<[u8; 16]>());
        let mut report = DispatchReport::default();
        loop {
            if self.relay_down.load(Ordering::Relaxed) {
                return Ok(report);
            }
            // claim() counts the lease from `now`, the start of the pass; this
            // makes it run from the moment of claiming.
            let lease_from_start = LEASE + (self.clock() - now);
            let batch = {
                let (token, render) = (token.clone(), self.render.clone());
                let batch = self
                    .write(move |conn| outbox::claim_as(conn, now, BATCH, lease_from_start, &token))
                    .await
                    .context("cannot claim outbox messages")?;
                with_conn(&self.pool, move |conn| {
                    render_all(conn, render.as_deref(), batch)
                })
                .await
                .context("cannot render outbox messages")?
            };
            if batch.is_empty() {
                return Ok(report);
            }
            tracing::debug!(claimed = batch.len(), "outbox batch claimed");
            let mut lease = Lease {
                pool: &self.pool,
                token: &token,
                renewed: Instant::now(),
                held: batch.iter().map(|(m, _)| m.id).collect(),
            };
            for (i, (message, raw)) in batch.iter().enumerate() {
                let rest: Vec<i32> = batch[i..].iter().map(|(m, _)| m.id).collect();
                if self.relay_down.load(Ordering::Relaxed) {
                    // Another session found the relay down: let the rest go.
                    let token = token.clone();
                    self.defer(&rest);
                    with_conn(&self.pool, move |conn| outbox::release(conn, &rest, &token))
                        .await
                        .context("cannot release outbox messages while the relay is down")?;
                    return Ok(report);
                }
                if lease.renewed.elapsed() >= RENEW_EVERY {
                    lease.renew(&rest, self.clock()).await?;
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
                let raw = match raw {
                    Ok(raw) => raw,
                    Err(e) => {
                        let e = super::SendError::permanent(e.clone());
                        failed(&self.pool, self.clock(), message, e, &mut report).await?;
                        continue;
                    }
                };
                let send = session.send_raw(&self.from, &message.recipient, raw);
                let sent = renewing(send, &mut lease, &rest, &|| self.clock()).await?;
                match sent {
                    Ok(()) => {
                        // Recorded while this session sends the next messages: it
                        // goes on while at most `UNRECORDED` of its sent messages
                        // wait for their record, so a crash resends at most those
                        // and the one in flight. Should the record fail, the lease
                        // runs out and the message goes again with the same
                        // Message-ID: a duplicate the recipient's client can
                        // recognise, never a loss.
                        let (done, wait) = tokio::sync::oneshot::channel();
                        record.send((message.id, done)).map_err(|_| {
                            anyhow::anyhow!("the recorder of sent messages stopped")
                        })?;
                        recording.push_back(wait);
                        while recording.len() > UNRECORDED {
                            if let Some(oldest) = recording.pop_front() {
                                recorded(oldest).await?;
                            }
                        }
                        report.sent += 1;
                    }
                    Err(e) => {
                        if e.unreachable && !relay_answers(&self.transport).await {
                            self.relay_down.store(true, Ordering::Relaxed);
                            let (id, error) = (message.id, e.to_string());
                            tracing::warn!(
                                error = %error,
                                waiting = rest.len(),
                                "the mail relay does not answer: emails wait for the next pass"
                            );
                            let token = token.clone();
                            self.defer(&rest);
                            with_conn(&self.pool, move |conn| {
                                outbox::defer(conn, id, &error)?;
                                outbox::release(conn, &rest, &token)
                            })
                            .await
                            .context("cannot release outbox messages while the relay is down")?;
                            return Ok(report);
                        }
                        failed(&self.pool, self.clock(), message, e, &mut report).await?;
                    }
                }
            }
        }
    }
}

/// Heard once a sent message is recorded.
type Recorded = tokio::sync::oneshot::Receiver<Result<(), String>>;

async fn recorded(wait: Recorded) -> anyhow::Result<()> {
    wait.await
        .map_err(|_| anyhow::anyhow!("the recorder of sent messages stopped"))?
        .map_err(anyhow::Error::msg)
        .context("outbox messages were sent but not marked sent")
}

/// How a session hands a sent message to the recorder, and hears it is recorded.
type Record =
    tokio::sync::mpsc::UnboundedSender<(i32, tokio::sync::oneshot::Sender<Result<(), String>>)>;

impl Pass {
    /// Records sent messages as they come, all those waiting in one
    /// statement (group commit): the sessions do not queue one write each.
    async fn recorder(
        &self,
        mut sent: tokio::sync::mpsc::UnboundedReceiver<(
            i32,
            tokio::sync::oneshot::Sender<Result<(), String>>,
        )>,
    ) -> anyhow::Result<()> {
        while let Some(first) = sent.recv().await {
            let mut waiting = vec![first];
            while let Ok(more) = sent.try_recv() {
                waiting.push(more);
            }
            let ids: Vec<i32> = waiting.iter().map(|(id, _)| *id).collect();
            let at = self.clock();
            let result = self
                .write(move |conn| outbox::mark_all_sent(conn, &ids, at))
                .await
                .map_err(|e| format!("{e:#}"));
            for (_, done) in waiting {
                let _ = done.send(result.clone());
            }
        }
        Ok(())
    }
}

type Rendered = Vec<(OutboxMessage, Result<String, String>)>;

fn render_all(
    conn: &mut DbConnection,
    render: Option<&dyn Render>,
    batch: Vec<OutboxMessage>,
) -> diesel::QueryResult<Rendered> {
    batch
        .into_iter()
        .map(|mut m| {
            let raw = match (&m.template, render) {
                (None, _) => Ok(std::mem::take(&mut m.message)),
                (Some(_), Some(render)) => render.render(conn, &m)?,
                (Some(t), None) => Err(format!("no renderer for `{t}` emails in this process")),
            };
            Ok((m, raw))
        })
        .collect()
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

/// Waits for one send, renewing the batch's lease meanwhile if the relay is
/// slow to answer: a live dispatcher never loses its claim to a slow send.
async fn renewing<F: std::future::Future<Output = Result<(), super::SendError>>>(
    send: F,
    lease: &mut Lease<'_>,
    rest: &[i32],
    clock: &impl Fn() -> NaiveDateTime,
) -> anyhow::Result<Result<(), super::SendError>> {
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
pub(crate) async fn with_conn<T, F>(pool: &Pool, f: F) -> anyhow::Result<T>
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
