//! Webhook events, written to the outbox in the transaction of what caused them.
//!
//! Each delivery has a dedupe key `webhook:<id>:<event>:<subject>`, so an event
//! seen twice (two scheduler passes, two instances) is delivered once. Payloads
//! carry what HR's reports show and nothing more: a closed round's figures as the
//! disclosure rule shows them, people by id only, never a 1:1's content.

use crate::db::schema::action_items;
use crate::db::DbConnection;
use crate::domain::disclosure::Shown;
use crate::domain::report::COMPANY;
use crate::repo::{self, webhooks::Webhook};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::{json, Value};

pub const ROUND_OPENED: &str = "round.opened";
pub const ROUND_CLOSED: &str = "round.closed";
pub const ACTION_DUE: &str = "action.due";
pub const EMPLOYEE_LEFT: &str = "employee.left";

/// How far back `action.due` looks for items falling due while Pulse was down.
const ACTION_DUE_LOOKBACK_DAYS: i64 = 7;

/// The stored form of an event: formatted for the webhook when it is sent.
fn envelope(event: &str, data: Value, now: NaiveDateTime) -> String {
    json!({"event": event, "created_at": crate::instant::rfc3339(now), "data": data}).to_string()
}

fn enqueue_all(
    conn: &mut DbConnection,
    hooks: &[Webhook],
    event: &str,
    subject: &str,
    data: Value,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let body = envelope(event, data, now);
    let mut n = 0;
    for hook in hooks {
        let key = format!("webhook:{}:{event}:{subject}", hook.id);
        n += usize::from(repo::webhooks::enqueue(
            conn, hook, &key, event, &body, now,
        )?);
    }
    Ok(n)
}

/// What a round was when it opened.
pub struct Opened<'a> {
    pub round_id: i32,
    pub survey_id: i32,
    pub survey_title: &'a str,
    pub opens_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
    pub invited: usize,
}

/// `round.opened`: the round's survey, window and how many are invited.
pub fn round_opened(conn: &mut DbConnection, r: &Opened, now: NaiveDateTime) -> QueryResult<()> {
    let hooks = repo::webhooks::subscribed(conn, ROUND_OPENED)?;
    if hooks.is_empty() {
        return Ok(());
    }
    let data = json!({
        "round_id": r.round_id,
        "survey_id": r.survey_id,
        "survey_title": r.survey_title,
        "opens_at": crate::instant::rfc3339(r.opens_at),
        "closes_at": crate::instant::rfc3339(r.closes_at),
        "invited": r.invited,
    });
    enqueue_all(
        conn,
        &hooks,
        ROUND_OPENED,
        &r.round_id.to_string(),
        data,
        now,
    )
    .map(drop)
}

/// One group's figures as a report shows them, or only that they are hidden and why.
pub fn group_json(shown: &Shown) -> Value {
    match shown {
        Shown::Figures(f) => json!({
            "invited": f.invited,
            "responses": f.responses,
            "participation": f.participation,
            "promoters": f.promoters,
            "passives": f.passives,
            "detractors": f.detractors,
            "enps": f.enps,
            "margin_of_error": f.margin_of_error,
        }),
        Shown::Suppressed { reason, .. } => json!({"suppressed": true, "reason": reason}),
    }
}

/// `round.closed`, once the round's cells are stored (in the closing transaction):
/// the company's and each team's figures through the report service, so a cell the
/// disclosure rule hides is sent as hidden, with no count.
pub fn round_closed(conn: &mut DbConnection, round_id: i32, now: NaiveDateTime) -> QueryResult<()> {
    let hooks = repo::webhooks::subscribed(conn, ROUND_CLOSED)?;
    if hooks.is_empty() {
        return Ok(());
    }
    let Some(round) = repo::rounds::find(conn, round_id)? else {
        return Ok(());
    };
    let title = repo::surveys::find(conn, round.survey_id)?
        .map(|s| s.title)
        .unwrap_or_default();
    let names: std::collections::HashMap<i32, String> = repo::teams::all(conn)?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let mut company = json!({"suppressed": true, "reason": "too_few"});
    let mut teams = vec![];
    for (group, shown) in crate::reports::round::closed_groups(conn, &round)? {
        let mut figures = group_json(&shown);
        if group == COMPANY {
            company = figures;
            continue;
        }
        figures["team_id"] = json!(group);
        figures["name"] = json!(names.get(&group).cloned().unwrap_or_default());
        teams.push(figures);
    }
    let data = json!({
        "round_id": round.id,
        "survey_id": round.survey_id,
        "survey_title": title,
        "opens_at": crate::instant::rfc3339(round.opens_at),
        "closes_at": crate::instant::rfc3339(round.closes_at),
        "enps_scale": round.enps_scale,
        "min_group_size": round.min_group_size,
        "company": company,
        "teams": teams,
    });
    enqueue_all(conn, &hooks, ROUND_CLOSED, &round.id.to_string(), data, now).map(drop)
}

/// `employee.left`: who (by id) and their last day; never a name or an address.
pub fn employee_left(
    conn: &mut DbConnection,
    employee_id: i32,
    left_on: NaiveDate,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let hooks = repo::webhooks::subscribed(conn, EMPLOYEE_LEFT)?;
    if hooks.is_empty() {
        return Ok(());
    }
    let data = json!({"employee_id": employee_id, "left_on": left_on.to_string()});
    let subject = format!("{employee_id}:{left_on}");
    enqueue_all(conn, &hooks, EMPLOYEE_LEFT, &subject, data, now).map(drop)
}

/// `action.due`: 1:1 action items not done whose due day (UTC) has come, since the
/// webhook was made and within the last week. Only ids and the day go out: what
/// an action says belongs to the two people of the 1:1, not to HR's channel.
/// Action plans (`crate::action_plans`) fall due the same way, told by their ids
/// and team. Run by every scheduler pass; returns how many deliveries it wrote.
pub fn actions_due(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    let hooks = repo::webhooks::subscribed(conn, ACTION_DUE)?;
    let Some(earliest) = hooks.iter().map(|h| h.created_at.date()).min() else {
        return Ok(0);
    };
    let today = now.date();
    let from = earliest.max(today - Duration::days(ACTION_DUE_LOOKBACK_DAYS));
    let items: Vec<(i32, i32, i32, Option<NaiveDate>)> = action_items::table
        .filter(action_items::done.eq(false))
        .filter(action_items::due_on.ge(from))
        .filter(action_items::due_on.le(today))
        .select((
            action_items::id,
            action_items::series_id,
            action_items::owner_id,
            action_items::due_on,
        ))
        .order(action_items::id)
        .load(conn)?;
    let mut due: Vec<(String, NaiveDate, Value)> = items
        .into_iter()
        .filter_map(|(id, series, owner, due_on)| {
            let due_on = due_on?;
            let data = json!({"action_id": id, "one_on_one_id": series,
                              "owner_id": owner, "due_on": due_on.to_string()});
            Some((format!("{id}:{due_on}"), due_on, data))
        })
        .collect();
    for p in repo::action_plans::open_due_between(conn, from, today)? {
        let data = json!({"action_plan_id": p.id, "team_id": p.team_id,
                          "owner_id": p.owner_id, "due_on": p.due_on.to_string()});
        due.push((format!("plan:{}:{}", p.id, p.due_on), p.due_on, data));
    }
    let mut written = 0;
    for hook in &hooks {
        let mine: Vec<_> = due
            .iter()
            .filter(|(_, due_on, _)| *due_on >= hook.created_at.date())
            .map(|(subject, _, data)| (format!("webhook:{}:{ACTION_DUE}:{subject}", hook.id), data))
            .collect();
        if mine.is_empty() {
            continue;
        }
        let keys: Vec<String> = mine.iter().map(|m| m.0.clone()).collect();
        let sent = repo::webhooks::existing_keys(conn, &keys)?;
        for (key, data) in mine {
            if sent.contains(&key) {
                continue;
            }
            let body = envelope(ACTION_DUE, data.clone(), now);
            written += usize::from(crate::db::write_transaction(conn, |conn| {
                repo::webhooks::enqueue(conn, hook, &key, ACTION_DUE, &body, now)
            })?);
        }
    }
    Ok(written)
}
