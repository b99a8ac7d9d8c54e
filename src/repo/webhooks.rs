//! Webhooks HR registered, and their deliveries: outbox rows that name a webhook.
//!
//! Deliveries share the outbox with email, so they have its guarantees (written in the
//! transaction of what caused them, leases, retries with back-off, failure after
//! `outbox::MAX_ATTEMPTS`), and are settled by its functions; only claiming is their
//! own, so email dispatch and webhook delivery never take each other's rows.

use crate::db::schema::{outbox, webhooks};
use crate::db::DbConnection;
use crate::repo::outbox::PENDING;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = webhooks)]
pub struct Webhook {
    pub id: i32,
    pub url: String,
    /// Comma-separated event names.
    pub events: String,
    pub format: String,
    pub secret: String,
    pub created_by: Option<i32>,
    pub created_at: NaiveDateTime,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub last_status: Option<String>,
    pub last_delivered_at: Option<NaiveDateTime>,
    pub failures: i32,
}

impl Webhook {
    pub fn wants(&self, event: &str) -> bool {
        self.events.split(',').any(|e| e == event)
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = webhooks)]
pub struct NewWebhook<'a> {
    pub url: &'a str,
    pub events: &'a str,
    pub format: &'a str,
    pub secret: &'a str,
    pub created_by: Option<i32>,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewWebhook) -> QueryResult<i32> {
    diesel::insert_into(webhooks::table)
        .values(new)
        .returning(webhooks::id)
        .get_result(conn)
}

pub fn find(conn: &mut DbConnection, id: i32) -> QueryResult<Option<Webhook>> {
    webhooks::table
        .find(id)
        .select(Webhook::as_select())
        .first(conn)
        .optional()
}

/// Every webhook, oldest first, with how many of its deliveries wait.
pub fn list(conn: &mut DbConnection) -> QueryResult<Vec<(Webhook, i64)>> {
    let hooks: Vec<Webhook> = webhooks::table
        .order(webhooks::id)
        .select(Webhook::as_select())
        .load(conn)?;
    let waiting: Vec<(Option<i32>, i64)> = outbox::table
        .filter(outbox::webhook_id.is_not_null())
        .filter(outbox::status.eq(PENDING))
        .group_by(outbox::webhook_id)
        .select((outbox::webhook_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(hooks
        .into_iter()
        .map(|h| {
            let n = waiting
                .iter()
                .find(|(id, _)| *id == Some(h.id))
                .map_or(0, |(_, n)| *n);
            (h, n)
        })
        .collect())
}

/// The webhooks that want `event`.
pub fn subscribed(conn: &mut DbConnection, event: &str) -> QueryResult<Vec<Webhook>> {
    let all: Vec<Webhook> = webhooks::table
        .filter(webhooks::events.like(format!("%{event}%")))
        .order(webhooks::id)
        .select(Webhook::as_select())
        .load(conn)?;
    Ok(all.into_iter().filter(|h| h.wants(event)).collect())
}

/// Removes a webhook and its deliveries, sent or not: nothing goes to it any more.
pub fn delete(conn: &mut DbConnection, id: i32) -> QueryResult<bool> {
    diesel::delete(outbox::table.filter(outbox::webhook_id.eq(id))).execute(conn)?;
    Ok(diesel::delete(webhooks::table.find(id)).execute(conn)? == 1)
}

/// Writes one delivery unless its dedupe key is there already, in the caller's
/// transaction. `body` is the event as JSON; the webhook's format is applied when sent.
pub fn enqueue(
    conn: &mut DbConnection,
    hook: &Webhook,
    dedupe_key: &str,
    event: &str,
    body: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let insert = diesel::insert_into(outbox::table)
        .values((
            outbox::dedupe_key.eq(dedupe_key),
            outbox::recipient.eq(&hook.url),
            outbox::subject.eq(event),
            outbox::message.eq(body),
            outbox::message_id.eq(crate::tokens::random_token()),
            outbox::status.eq(PENDING),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now),
            outbox::created_at.eq(now),
            outbox::webhook_id.eq(hook.id),
        ))
        .on_conflict(outbox::dedupe_key)
        .do_nothing();
    let inserted = match conn {
        DbConnection::Postgresql(c) => insert.execute(c)?,
        DbConnection::Sqlite(c) => insert.execute(c)?,
    };
    Ok(inserted == 1)
}

/// Which of `keys` the outbox already holds.
pub fn existing_keys(conn: &mut DbConnection, keys: &[String]) -> QueryResult<Vec<String>> {
    outbox::table
        .filter(outbox::dedupe_key.eq_any(keys))
        .select(outbox::dedupe_key)
        .load(conn)
}

/// A claimed delivery with what sending and signing it needs.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i32,
    pub webhook_id: i32,
    pub url: String,
    pub event: String,
    /// The event as JSON, before the webhook's format is applied.
    pub body: String,
    /// Sent as `Pulse-Delivery`: the same on every attempt, so receivers can drop repeats.
    pub delivery_id: String,
    pub attempts: i32,
    pub format: String,
    pub secret: String,
}

type DeliveryRow = (
    i32,
    Option<i32>,
    String,
    String,
    String,
    String,
    i32,
    String,
    String,
);

/// Claims up to `batch` due deliveries under `claim_token` for `lease`, as the
/// email claim does (a conditional UPDATE that re-checks every condition, after a
/// `FOR UPDATE SKIP LOCKED` read on PostgreSQL), but only of rows that name a webhook.
pub fn claim(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    batch: i64,
    lease: Duration,
    claim_token: &str,
) -> QueryResult<Vec<Delivery>> {
    let locked_until = now + lease;
    let due = outbox::webhook_id
        .is_not_null()
        .and(outbox::status.eq(PENDING))
        .and(outbox::next_attempt_at.le(now))
        .and(
            outbox::locked_until
                .is_null()
                .or(outbox::locked_until.lt(now)),
        );
    let candidates: Vec<i32> = crate::db::write_transaction(conn, |conn| {
        let query = outbox::table
            .filter(due)
            .order((outbox::next_attempt_at, outbox::id))
            .select(outbox::id)
            .limit(batch);
        let ids: Vec<i32> = match conn {
            DbConnection::Postgresql(c) => query.for_update().skip_locked().load(c)?,
            DbConnection::Sqlite(c) => query.load(c)?,
        };
        if !ids.is_empty() {
            diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)).filter(due))
                .set((
                    outbox::locked_until.eq(locked_until),
                    outbox::claim_token.eq(claim_token),
                ))
                .execute(conn)?;
        }
        Ok::<_, diesel::result::Error>(ids)
    })?;
    if candidates.is_empty() {
        return Ok(vec![]);
    }
    let rows: Vec<DeliveryRow> = outbox::table
        .inner_join(webhooks::table)
        .filter(outbox::id.eq_any(&candidates))
        .filter(outbox::claim_token.eq(claim_token))
        .filter(outbox::locked_until.eq(locked_until))
        .order(outbox::id)
        .select((
            outbox::id,
            outbox::webhook_id,
            outbox::recipient,
            outbox::subject,
            outbox::message,
            outbox::message_id,
            outbox::attempts,
            webhooks::format,
            webhooks::secret,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, hook, url, event, body, delivery_id, attempts, format, secret)| Delivery {
                id,
                webhook_id: hook.unwrap_or_default(),
                url,
                event,
                body,
                delivery_id,
                attempts,
                format,
                secret,
            },
        )
        .collect())
}

/// How the last attempt at one of the webhook's deliveries went.
pub fn record_attempt(
    conn: &mut DbConnection,
    id: i32,
    at: NaiveDateTime,
    status: &str,
    delivered: bool,
    gave_up: bool,
) -> QueryResult<()> {
    let status: String = status.chars().take(200).collect();
    diesel::update(webhooks::table.find(id))
        .set((
            webhooks::last_attempt_at.eq(at),
            webhooks::last_status.eq(status),
            webhooks::failures.eq(webhooks::failures + i32::from(gave_up)),
        ))
        .execute(conn)?;
    if delivered {
        diesel::update(webhooks::table.find(id))
            .set(webhooks::last_delivered_at.eq(at))
            .execute(conn)?;
    }
    Ok(())
}
