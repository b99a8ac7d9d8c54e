//! 1:1 series, their meetings, and the agenda items, notes and action items written in them.
//!
//! Reads here return every row; who may see which is decided in
//! `crate::auth::one_on_one`, never by the callers of this module.

use crate::db::schema::{
    action_items, agenda_items, agenda_templates, meeting_notes, meetings, one_on_ones,
};
use crate::db::DbConnection;
use crate::domain::schedule::{parse_send_time, parse_timezone, Cadence, Schedule};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

pub const ACTIVE: &str = "active";
pub const PAUSED: &str = "paused";
pub const ENDED: &str = "ended";

pub const SCHEDULED: &str = "scheduled";
pub const SKIPPED: &str = "skipped";
pub const CANCELLED: &str = "cancelled";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = one_on_ones)]
pub struct Series {
    pub id: i32,
    pub manager_id: i32,
    pub report_id: i32,
    pub cadence: String,
    pub starts_on: NaiveDate,
    pub local_time: String,
    pub timezone: String,
    pub duration_minutes: i32,
    pub reminder_hours_before: i32,
    pub status: String,
    pub materialized_until: NaiveDateTime,
    pub created_by: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Series {
    /// None only if the stored row was edited by hand into something invalid.
    pub fn schedule(&self) -> Option<Schedule> {
        Some(Schedule {
            cadence: Cadence::parse(&self.cadence)?,
            starts_on: self.starts_on,
            send_time: parse_send_time(&self.local_time).ok()?,
            timezone: parse_timezone(&self.timezone).ok()?,
        })
    }

    pub fn duration(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.duration_minutes))
    }

    /// The other person of the pair.
    pub fn other_than(&self, employee_id: i32) -> i32 {
        if employee_id == self.manager_id {
            self.report_id
        } else {
            self.manager_id
        }
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = one_on_ones)]
pub struct NewSeries {
    pub manager_id: i32,
    pub report_id: i32,
    pub cadence: String,
    pub starts_on: NaiveDate,
    pub local_time: String,
    pub timezone: String,
    pub duration_minutes: i32,
    pub reminder_hours_before: i32,
    pub status: String,
    pub materialized_until: NaiveDateTime,
    pub created_by: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = one_on_ones)]
pub struct SeriesChanges {
    pub cadence: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub local_time: Option<String>,
    pub timezone: Option<String>,
    pub duration_minutes: Option<i32>,
    pub reminder_hours_before: Option<i32>,
    pub status: Option<String>,
    pub materialized_until: Option<NaiveDateTime>,
    pub updated_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = meetings)]
pub struct Meeting {
    pub id: i32,
    pub series_id: i32,
    pub scheduled_for: NaiveDateTime,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub remind_at: NaiveDateTime,
    pub status: String,
    pub sequence: i32,
    pub announced_sequence: Option<i32>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = meetings)]
pub struct MeetingChanges {
    pub scheduled_for: Option<NaiveDateTime>,
    pub starts_at: Option<NaiveDateTime>,
    pub ends_at: Option<NaiveDateTime>,
    pub remind_at: Option<NaiveDateTime>,
    pub status: Option<String>,
    pub sequence: Option<i32>,
    pub updated_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = agenda_items)]
pub struct AgendaItem {
    pub id: i32,
    pub meeting_id: i32,
    pub author_id: i32,
    pub text: String,
    pub done: bool,
    pub created_at: NaiveDateTime,
    pub edited_at: Option<NaiveDateTime>,
    pub position: i32,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = meeting_notes)]
pub struct Note {
    pub id: i32,
    pub meeting_id: i32,
    pub author_id: i32,
    pub body: String,
    pub private: bool,
    pub created_at: NaiveDateTime,
    /// A private note's text, sealed under its author's notes key.
    pub sealed: Option<String>,
    pub edited_at: Option<NaiveDateTime>,
}

/// What a note stores: a shared note's text as written, a private one's
/// only sealed (src/auth/notes_key.rs).
#[derive(Debug, Clone, Copy)]
pub enum NoteBody<'a> {
    Shared(&'a str),
    Sealed(&'a str),
}

impl<'a> NoteBody<'a> {
    /// (`body`, `sealed`): a private note leaves `body` empty.
    fn columns(self) -> (&'a str, Option<&'a str>) {
        match self {
            NoteBody::Shared(text) => (text, None),
            NoteBody::Sealed(sealed) => ("", Some(sealed)),
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = action_items)]
pub struct ActionItem {
    pub id: i32,
    pub meeting_id: i32,
    pub series_id: i32,
    pub author_id: i32,
    pub owner_id: i32,
    pub text: String,
    pub due_on: Option<NaiveDate>,
    pub done: bool,
    pub done_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub edited_at: Option<NaiveDateTime>,
}

// Series.

pub fn insert_series(conn: &mut DbConnection, new: &NewSeries) -> QueryResult<i32> {
    diesel::insert_into(one_on_ones::table)
        .values(new)
        .returning(one_on_ones::id)
        .get_result(conn)
}

pub fn find_series(conn: &mut DbConnection, id: i32) -> QueryResult<Option<Series>> {
    one_on_ones::table
        .find(id)
        .select(Series::as_select())
        .first(conn)
        .optional()
}

pub fn update_series(conn: &mut DbConnection, id: i32, c: &SeriesChanges) -> QueryResult<()> {
    diesel::update(one_on_ones::table.find(id))
        .set(c)
        .execute(conn)
        .map(drop)
}

/// One page of series, newest first: those `employee` is part of, or all of them.
pub fn list_series(
    conn: &mut DbConnection,
    employee: Option<i32>,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<Series>, i64)> {
    let build = || {
        let q = one_on_ones::table.into_boxed();
        match employee {
            Some(e) => q.filter(
                one_on_ones::manager_id
                    .eq(e)
                    .or(one_on_ones::report_id.eq(e)),
            ),
            None => q,
        }
    };
    let total = build().count().get_result(conn)?;
    let rows = build()
        .select(Series::as_select())
        .order(one_on_ones::id.desc())
        .offset(offset)
        .limit(limit)
        .load(conn)?;
    Ok((rows, total))
}

pub fn active_series(conn: &mut DbConnection) -> QueryResult<Vec<Series>> {
    one_on_ones::table
        .filter(one_on_ones::status.eq(ACTIVE))
        .order(one_on_ones::id)
        .select(Series::as_select())
        .load(conn)
}

// Meetings.

/// Creates the meeting of `series_id` for occurrence `at` unless it exists
/// (INSERT … ON CONFLICT DO NOTHING on the inner connection, as MultiConnection
/// has no on_conflict; a failed insert would abort a PostgreSQL transaction).
/// Returns whether a row was inserted.
pub fn insert_meeting_if_absent(
    conn: &mut DbConnection,
    series_id: i32,
    at: NaiveDateTime,
    ends_at: NaiveDateTime,
    remind_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let insert = diesel::insert_into(meetings::table)
        .values((
            meetings::series_id.eq(series_id),
            meetings::scheduled_for.eq(at),
            meetings::starts_at.eq(at),
            meetings::ends_at.eq(ends_at),
            meetings::remind_at.eq(remind_at),
            meetings::status.eq(SCHEDULED),
            meetings::sequence.eq(0),
            meetings::created_at.eq(now),
            meetings::updated_at.eq(now),
        ))
        .on_conflict((meetings::series_id, meetings::scheduled_for))
        .do_nothing();
    let inserted = match conn {
        DbConnection::Postgresql(c) => insert.execute(c)?,
        DbConnection::Sqlite(c) => insert.execute(c)?,
    };
    Ok(inserted == 1)
}

pub fn find_meeting(conn: &mut DbConnection, id: i32) -> QueryResult<Option<Meeting>> {
    meetings::table
        .find(id)
        .select(Meeting::as_select())
        .first(conn)
        .optional()
}

/// One page of a series' meetings in time order, and how many there are.
pub fn meetings_of(
    conn: &mut DbConnection,
    series_id: i32,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<Meeting>, i64)> {
    let q = meetings::table.filter(meetings::series_id.eq(series_id));
    let total = q.count().get_result(conn)?;
    let rows = q
        .select(Meeting::as_select())
        .order((meetings::starts_at, meetings::id))
        .offset(offset)
        .limit(limit)
        .load(conn)?;
    Ok((rows, total))
}

/// Meetings still ahead (not cancelled), soonest first.
pub fn upcoming_meetings(
    conn: &mut DbConnection,
    series_id: i32,
    now: NaiveDateTime,
) -> QueryResult<Vec<Meeting>> {
    meetings::table
        .filter(meetings::series_id.eq(series_id))
        .filter(meetings::starts_at.gt(now))
        .filter(meetings::status.ne(CANCELLED))
        .order((meetings::starts_at, meetings::id))
        .select(Meeting::as_select())
        .load(conn)
}

/// Occurrences already held by a meeting that is not cancelled.
pub fn taken_occurrences(
    conn: &mut DbConnection,
    series_id: i32,
) -> QueryResult<Vec<NaiveDateTime>> {
    meetings::table
        .filter(meetings::series_id.eq(series_id))
        .filter(meetings::status.ne(CANCELLED))
        .select(meetings::scheduled_for)
        .load(conn)
}

pub fn next_meeting(
    conn: &mut DbConnection,
    series_id: i32,
    now: NaiveDateTime,
) -> QueryResult<Option<Meeting>> {
    meetings::table
        .filter(meetings::series_id.eq(series_id))
        .filter(meetings::ends_at.gt(now))
        .filter(meetings::status.eq(SCHEDULED))
        .order((meetings::starts_at, meetings::id))
        .select(Meeting::as_select())
        .first(conn)
        .optional()
}

pub fn update_meeting(conn: &mut DbConnection, id: i32, c: &MeetingChanges) -> QueryResult<()> {
    diesel::update(meetings::table.find(id))
        .set(c)
        .execute(conn)
        .map(drop)
}

/// A meeting gives its occurrence back when it is cancelled, so that the
/// schedule may create a meeting at that instant again; the placeholder
/// (the epoch plus the meeting id, in seconds) is unique and long past.
pub fn released_slot(meeting_id: i32) -> NaiveDateTime {
    DateTime::<Utc>::from_timestamp(i64::from(meeting_id), 0)
        .unwrap_or_default()
        .naive_utc()
}

/// Whether anyone wrote anything in the meeting.
pub fn meeting_has_content(conn: &mut DbConnection, id: i32) -> QueryResult<bool> {
    let agenda: i64 = agenda_items::table
        .filter(agenda_items::meeting_id.eq(id))
        .count()
        .get_result(conn)?;
    let notes: i64 = meeting_notes::table
        .filter(meeting_notes::meeting_id.eq(id))
        .count()
        .get_result(conn)?;
    let actions: i64 = action_items::table
        .filter(action_items::meeting_id.eq(id))
        .count()
        .get_result(conn)?;
    Ok(agenda + notes + actions > 0)
}

pub fn delete_meeting(conn: &mut DbConnection, id: i32) -> QueryResult<()> {
    diesel::delete(meetings::table.find(id))
        .execute(conn)
        .map(drop)
}

/// Meetings still ahead whose two people must hear about them: a first
/// reminder that fell due, or a change (moved, skipped, cancelled, back)
/// since the version they were last sent.
pub fn announcements_due(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<Vec<Meeting>> {
    meetings::table
        .filter(meetings::starts_at.gt(now))
        .filter(
            meetings::announced_sequence
                .is_null()
                .and(meetings::status.eq(SCHEDULED))
                .and(meetings::remind_at.le(now))
                .or(meetings::announced_sequence.lt(meetings::sequence.nullable())),
        )
        .order(meetings::starts_at)
        .select(Meeting::as_select())
        .load(conn)
}

/// Takes the announcement of version `sequence` of a meeting: true for exactly
/// one of several instances racing on it.
pub fn claim_announcement(conn: &mut DbConnection, id: i32, sequence: i32) -> QueryResult<bool> {
    diesel::update(
        meetings::table
            .find(id)
            .filter(meetings::sequence.eq(sequence))
            .filter(
                meetings::announced_sequence
                    .is_null()
                    .or(meetings::announced_sequence.lt(sequence)),
            ),
    )
    .set(meetings::announced_sequence.eq(sequence))
    .execute(conn)
    .map(|n| n == 1)
}

// Agenda items.

pub fn insert_agenda_item(
    conn: &mut DbConnection,
    meeting_id: i32,
    author_id: i32,
    text: &str,
    now: NaiveDateTime,
) -> QueryResult<AgendaItem> {
    // Last on the agenda; two adding at once may share a position, and
    // then the older item comes first.
    let last: Option<i32> = agenda_items::table
        .filter(agenda_items::meeting_id.eq(meeting_id))
        .select(diesel::dsl::max(agenda_items::position))
        .first(conn)?;
    let id = diesel::insert_into(agenda_items::table)
        .values((
            agenda_items::meeting_id.eq(meeting_id),
            agenda_items::author_id.eq(author_id),
            agenda_items::text.eq(text),
            agenda_items::done.eq(false),
            agenda_items::created_at.eq(now),
            agenda_items::position.eq(last.unwrap_or(0) + 1),
        ))
        .returning(agenda_items::id)
        .get_result(conn)?;
    find_agenda_item(conn, id)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find_agenda_item(conn: &mut DbConnection, id: i32) -> QueryResult<Option<AgendaItem>> {
    agenda_items::table
        .find(id)
        .select(AgendaItem::as_select())
        .first(conn)
        .optional()
}

pub fn agenda_of(conn: &mut DbConnection, meeting_id: i32) -> QueryResult<Vec<AgendaItem>> {
    agenda_items::table
        .filter(agenda_items::meeting_id.eq(meeting_id))
        .order((agenda_items::position, agenda_items::id))
        .select(AgendaItem::as_select())
        .load(conn)
}

pub fn edit_agenda_item(
    conn: &mut DbConnection,
    id: i32,
    text: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(agenda_items::table.find(id))
        .set((agenda_items::text.eq(text), agenda_items::edited_at.eq(now)))
        .execute(conn)
        .map(drop)
}

pub fn delete_agenda_item(conn: &mut DbConnection, id: i32) -> QueryResult<()> {
    diesel::delete(agenda_items::table.find(id))
        .execute(conn)
        .map(drop)
}

/// Puts the item at `index` (from 0, clamped) of its meeting's agenda and
/// numbers the whole agenda again, so positions stay distinct.
pub fn move_agenda_item(
    conn: &mut DbConnection,
    item: &AgendaItem,
    index: usize,
) -> QueryResult<()> {
    let mut order: Vec<i32> = agenda_of(conn, item.meeting_id)?
        .into_iter()
        .map(|a| a.id)
        .filter(|id| *id != item.id)
        .collect();
    order.insert(index.min(order.len()), item.id);
    for (position, id) in (1..).zip(order) {
        diesel::update(agenda_items::table.find(id))
            .set(agenda_items::position.eq(position))
            .execute(conn)?;
    }
    Ok(())
}

pub fn set_agenda_done(conn: &mut DbConnection, id: i32, done: bool) -> QueryResult<()> {
    diesel::update(agenda_items::table.find(id))
        .set(agenda_items::done.eq(done))
        .execute(conn)
        .map(drop)
}

// Notes.

pub fn insert_note(
    conn: &mut DbConnection,
    meeting_id: i32,
    author_id: i32,
    body: NoteBody,
    now: NaiveDateTime,
) -> QueryResult<Note> {
    let (text, sealed) = body.columns();
    let id: i32 = diesel::insert_into(meeting_notes::table)
        .values((
            meeting_notes::meeting_id.eq(meeting_id),
            meeting_notes::author_id.eq(author_id),
            meeting_notes::body.eq(text),
            meeting_notes::private.eq(sealed.is_some()),
            meeting_notes::sealed.eq(sealed),
            meeting_notes::created_at.eq(now),
        ))
        .returning(meeting_notes::id)
        .get_result(conn)?;
    meeting_notes::table
        .find(id)
        .select(Note::as_select())
        .first(conn)
}

pub fn find_note(conn: &mut DbConnection, id: i32) -> QueryResult<Option<Note>> {
    meeting_notes::table
        .find(id)
        .select(Note::as_select())
        .first(conn)
        .optional()
}

/// New text for a note, stored as `insert_note` stores it; a note stays
/// shared or private as it was written.
pub fn edit_note(
    conn: &mut DbConnection,
    id: i32,
    body: NoteBody,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let (text, sealed) = body.columns();
    diesel::update(meeting_notes::table.find(id))
        .set((
            meeting_notes::body.eq(text),
            meeting_notes::sealed.eq(sealed),
            meeting_notes::edited_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

pub fn delete_note(conn: &mut DbConnection, id: i32) -> QueryResult<()> {
    diesel::delete(meeting_notes::table.find(id))
        .execute(conn)
        .map(drop)
}

/// Every note of a meeting, private ones included: filter before showing.
pub fn notes_of(conn: &mut DbConnection, meeting_id: i32) -> QueryResult<Vec<Note>> {
    meeting_notes::table
        .filter(meeting_notes::meeting_id.eq(meeting_id))
        .order(meeting_notes::id)
        .select(Note::as_select())
        .load(conn)
}

// Action items.

pub struct NewAction<'a> {
    pub meeting_id: i32,
    pub series_id: i32,
    pub author_id: i32,
    pub owner_id: i32,
    pub text: &'a str,
    pub due_on: Option<NaiveDate>,
}

pub fn insert_action(
    conn: &mut DbConnection,
    a: &NewAction,
    now: NaiveDateTime,
) -> QueryResult<ActionItem> {
    let id = diesel::insert_into(action_items::table)
        .values((
            action_items::meeting_id.eq(a.meeting_id),
            action_items::series_id.eq(a.series_id),
            action_items::author_id.eq(a.author_id),
            action_items::owner_id.eq(a.owner_id),
            action_items::text.eq(a.text),
            action_items::due_on.eq(a.due_on),
            action_items::done.eq(false),
            action_items::created_at.eq(now),
        ))
        .returning(action_items::id)
        .get_result(conn)?;
    find_action(conn, id)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find_action(conn: &mut DbConnection, id: i32) -> QueryResult<Option<ActionItem>> {
    action_items::table
        .find(id)
        .select(ActionItem::as_select())
        .first(conn)
        .optional()
}

pub fn actions_of(conn: &mut DbConnection, meeting_id: i32) -> QueryResult<Vec<ActionItem>> {
    action_items::table
        .filter(action_items::meeting_id.eq(meeting_id))
        .order(action_items::id)
        .select(ActionItem::as_select())
        .load(conn)
}

/// Open action items of the series' meetings that started before `meeting`:
/// what carries over into it.
pub fn carried_actions(conn: &mut DbConnection, meeting: &Meeting) -> QueryResult<Vec<ActionItem>> {
    action_items::table
        .inner_join(meetings::table)
        .filter(action_items::series_id.eq(meeting.series_id))
        .filter(action_items::done.eq(false))
        .filter(action_items::meeting_id.ne(meeting.id))
        .filter(meetings::starts_at.lt(meeting.starts_at))
        .order(action_items::id)
        .select(ActionItem::as_select())
        .load(conn)
}

/// What an edit of an action item changes; `None` keeps the field.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = action_items)]
pub struct ActionChanges {
    pub text: Option<String>,
    pub owner_id: Option<i32>,
    pub due_on: Option<Option<NaiveDate>>,
    pub edited_at: Option<NaiveDateTime>,
}

pub fn edit_action(conn: &mut DbConnection, id: i32, c: &ActionChanges) -> QueryResult<()> {
    diesel::update(action_items::table.find(id))
        .set(c)
        .execute(conn)
        .map(drop)
}

pub fn delete_action(conn: &mut DbConnection, id: i32) -> QueryResult<()> {
    diesel::delete(action_items::table.find(id))
        .execute(conn)
        .map(drop)
}

pub fn set_action_done(
    conn: &mut DbConnection,
    id: i32,
    done: bool,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(action_items::table.find(id))
        .set((
            action_items::done.eq(done),
            action_items::done_at.eq(done.then_some(now)),
        ))
        .execute(conn)
        .map(drop)
}

// Talking-points templates of one's own.

pub fn insert_template(
    conn: &mut DbConnection,
    owner_id: i32,
    name: &str,
    items: &[String],
    now: NaiveDateTime,
) -> QueryResult<i32> {
    diesel::insert_into(agenda_templates::table)
        .values((
            agenda_templates::owner_id.eq(owner_id),
            agenda_templates::name.eq(name),
            agenda_templates::items.eq(items.join("\n")),
            agenda_templates::created_at.eq(now),
        ))
        .returning(agenda_templates::id)
        .get_result(conn)
}

/// A person's own templates as (id, name, items), oldest first.
pub fn templates_of(
    conn: &mut DbConnection,
    owner_id: i32,
) -> QueryResult<Vec<(i32, String, Vec<String>)>> {
    let rows: Vec<(i32, String, String)> = agenda_templates::table
        .filter(agenda_templates::owner_id.eq(owner_id))
        .order(agenda_templates::id)
        .select((
            agenda_templates::id,
            agenda_templates::name,
            agenda_templates::items,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, items)| (id, name, items.lines().map(String::from).collect()))
        .collect())
}

/// Deletes one of the owner's templates; false when they have no such one.
pub fn delete_template(conn: &mut DbConnection, owner_id: i32, id: i32) -> QueryResult<bool> {
    diesel::delete(
        agenda_templates::table
            .filter(agenda_templates::id.eq(id))
            .filter(agenda_templates::owner_id.eq(owner_id)),
    )
    .execute(conn)
    .map(|n| n == 1)
}
