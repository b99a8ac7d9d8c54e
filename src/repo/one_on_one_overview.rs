//! HR's 1:1 overview: per series, who meets whom and how regularly — counted
//! in one grouped query over the meetings, never reading what was written in them.

use crate::db::schema::{employees, meetings};
use crate::db::DbConnection;
use crate::domain::one_on_one_overview::{overdue, QUARTER_DAYS};
use crate::domain::schedule::Cadence;
use crate::repo::one_on_ones::{list_series, Series, ACTIVE};
use chrono::{Duration, NaiveDateTime};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Timestamp};
use std::collections::HashMap;

/// One series as the overview shows it.
#[derive(Debug, Clone)]
pub struct SeriesKept {
    pub series: Series,
    pub manager_name: String,
    pub report_name: String,
    /// Meetings due in the quarter (whatever became of them).
    pub scheduled: i64,
    /// Of those, the ones not skipped or cancelled.
    pub held: i64,
    pub skipped: i64,
    /// The latest held meeting, however long ago.
    pub last_held: Option<NaiveDateTime>,
    pub next: Option<NaiveDateTime>,
    pub overdue: bool,
}

/// Meeting counts per series: (series, due, held, skipped or cancelled, last held, next).
type Counts = (
    i32,
    i64,
    i64,
    i64,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
);

/// One page of every series, newest first, with its quarter's counts as of `now`.
pub fn page(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<SeriesKept>, i64)> {
    let (series, total) = list_series(conn, None, offset, limit)?;
    let ids: Vec<i32> = series.iter().map(|s| s.id).collect();
    let from = now - Duration::days(QUARTER_DAYS);
    // A meeting was held when its time has passed and it was neither skipped
    // nor cancelled (both of which change its status away from "scheduled").
    let counts: Vec<Counts> = meetings::table
        .filter(meetings::series_id.eq_any(&ids))
        .group_by(meetings::series_id)
        .select((
            meetings::series_id,
            sql::<BigInt>("COUNT(CASE WHEN meetings.starts_at > ")
                .bind::<Timestamp, _>(from)
                .sql(" AND meetings.starts_at <= ")
                .bind::<Timestamp, _>(now)
                .sql(" THEN 1 END)"),
            sql::<BigInt>("COUNT(CASE WHEN meetings.status = 'scheduled' AND meetings.starts_at > ")
                .bind::<Timestamp, _>(from)
                .sql(" AND meetings.starts_at <= ")
                .bind::<Timestamp, _>(now)
                .sql(" THEN 1 END)"),
            sql::<BigInt>(
                "COUNT(CASE WHEN meetings.status IN ('skipped', 'cancelled') AND meetings.starts_at > ",
            )
            .bind::<Timestamp, _>(from)
            .sql(" AND meetings.starts_at <= ")
            .bind::<Timestamp, _>(now)
            .sql(" THEN 1 END)"),
            sql::<Nullable<Timestamp>>(
                "MAX(CASE WHEN meetings.status = 'scheduled' AND meetings.starts_at <= ",
            )
            .bind::<Timestamp, _>(now)
            .sql(" THEN meetings.starts_at END)"),
            sql::<Nullable<Timestamp>>(
                "MIN(CASE WHEN meetings.status = 'scheduled' AND meetings.starts_at > ",
            )
            .bind::<Timestamp, _>(now)
            .sql(" THEN meetings.starts_at END)"),
        ))
        .load(conn)?;
    let counts: HashMap<i32, Counts> = counts.into_iter().map(|c| (c.0, c)).collect();
    let people: Vec<i32> = series
        .iter()
        .flat_map(|s| [s.manager_id, s.report_id])
        .collect();
    let names: HashMap<i32, String> = employees::table
        .filter(employees::id.eq_any(&people))
        .select((employees::id, employees::name))
        .load::<(i32, String)>(conn)?
        .into_iter()
        .collect();
    let rows = series
        .into_iter()
        .map(|s| {
            let (_, scheduled, held, skipped, last_held, next) = counts
                .get(&s.id)
                .cloned()
                .unwrap_or((s.id, 0, 0, 0, None, None));
            let starts = s.starts_on.and_hms_opt(0, 0, 0).unwrap_or_default();
            SeriesKept {
                manager_name: names.get(&s.manager_id).cloned().unwrap_or_default(),
                report_name: names.get(&s.report_id).cloned().unwrap_or_default(),
                scheduled,
                held,
                skipped,
                last_held,
                next,
                overdue: overdue(
                    s.status == ACTIVE,
                    Cadence::parse(&s.cadence),
                    last_held,
                    starts,
                    now,
                ),
                series: s,
            }
        })
        .collect();
    Ok((rows, total))
}
