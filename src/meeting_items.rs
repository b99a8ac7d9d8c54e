//! Changing what was written in a 1:1: agenda items, notes and action items edited or deleted by their author (actions also by their owner), the agenda reordered or started from talking points.
//!
//! Shared by the API and the meeting page. Outsiders get 404 for every item,
//! and so does the other person for a private note, whose existence is the
//! author's alone.

use crate::auth::one_on_one as policy;
use crate::auth::Caller;
use crate::db::DbConnection;
use crate::domain::one_on_one::{
    builtin_talking_points, check_text, TalkingPoints, ACTION_MAX, AGENDA_MAX, NOTE_MAX,
};
use crate::error::{AppError, AppResult};
use crate::repo::one_on_ones::{
    self as repo, ActionChanges, ActionItem, AgendaItem, Note, NoteBody,
};
use chrono::{NaiveDate, NaiveDateTime};

fn only_author(what: &str) -> AppError {
    AppError::Forbidden(format!("only its author may change or delete {what}"))
}

fn text(raw: &str, max: usize, field: &str) -> AppResult<String> {
    check_text(raw, max).map_err(|e| AppError::field(field, e))
}

/// A change to an agenda item: its text (author only), where it stands on
/// the agenda (either person), or whether it was discussed (either person).
#[derive(Debug, Default)]
pub struct AgendaEdit {
    pub text: Option<String>,
    pub position: Option<usize>,
    pub done: Option<bool>,
}

pub fn edit_agenda_item(
    conn: &mut DbConnection,
    caller: &Caller,
    id: i32,
    edit: &AgendaEdit,
    now: NaiveDateTime,
) -> AppResult<AgendaItem> {
    let (_, item) = policy::agenda_item_for(conn, caller, id)?;
    if let Some(raw) = &edit.text {
        if item.author_id != caller.id {
            return Err(only_author("an agenda item"));
        }
        repo::edit_agenda_item(conn, id, &text(raw, AGENDA_MAX, "text")?, now)?;
    }
    if let Some(done) = edit.done {
        repo::set_agenda_done(conn, id, done)?;
    }
    if let Some(index) = edit.position {
        repo::move_agenda_item(conn, &item, index)?;
    }
    repo::find_agenda_item(conn, id)?.ok_or_else(|| AppError::not_found("agenda item"))
}

pub fn delete_agenda_item(conn: &mut DbConnection, caller: &Caller, id: i32) -> AppResult<()> {
    let (_, item) = policy::agenda_item_for(conn, caller, id)?;
    if item.author_id != caller.id {
        return Err(only_author("an agenda item"));
    }
    Ok(repo::delete_agenda_item(conn, id)?)
}

/// A note the caller wrote; another's private note is not found, another's
/// shared one is theirs to change.
fn own_note(conn: &mut DbConnection, caller: &Caller, id: i32) -> AppResult<Note> {
    let missing = || AppError::not_found("note");
    let note = repo::find_note(conn, id)?.ok_or_else(missing)?;
    if !policy::may_read_note(caller, &note) {
        return Err(missing());
    }
    policy::meeting_content_for(conn, caller, note.meeting_id).map_err(|e| match e {
        AppError::NotFound(_) => missing(),
        e => e,
    })?;
    if note.author_id != caller.id {
        return Err(only_author("a note"));
    }
    Ok(note)
}

/// Stores what the caller wrote as `store` receives it: a private note
/// sealed under the key this session's sign-in unlocked.
fn stored<T>(
    caller: &Caller,
    meeting_id: i32,
    text: &str,
    private: bool,
    store: impl FnOnce(NoteBody) -> diesel::QueryResult<T>,
) -> AppResult<T> {
    let sealed = policy::note_body(caller, meeting_id, text, private)?;
    Ok(store(match &sealed {
        Some(s) => NoteBody::Sealed(s),
        None => NoteBody::Shared(text),
    })?)
}

/// A new note in a meeting the caller takes part in (checked by the caller
/// of this function); returned as its author reads it.
pub fn add_note(
    conn: &mut DbConnection,
    caller: &Caller,
    meeting_id: i32,
    text: String,
    private: bool,
    now: NaiveDateTime,
) -> AppResult<Note> {
    let mut note = stored(caller, meeting_id, &text, private, |body| {
        repo::insert_note(conn, meeting_id, caller.id, body, now)
    })?;
    note.body = text;
    Ok(note)
}

/// New text for the caller's note; a private one is sealed again, so it
/// needs the key this session's sign-in unlocked.
pub fn edit_note(
    conn: &mut DbConnection,
    caller: &Caller,
    id: i32,
    raw: &str,
    now: NaiveDateTime,
) -> AppResult<Note> {
    let note = own_note(conn, caller, id)?;
    let body = text(raw, NOTE_MAX, "body")?;
    stored(caller, note.meeting_id, &body, note.private, |b| {
        repo::edit_note(conn, id, b, now)
    })?;
    let mut note = repo::find_note(conn, id)?.ok_or_else(|| AppError::not_found("note"))?;
    note.body = body;
    Ok(note)
}

/// Deleting needs no key: a locked private note can be thrown away.
pub fn delete_note(conn: &mut DbConnection, caller: &Caller, id: i32) -> AppResult<()> {
    own_note(conn, caller, id)?;
    Ok(repo::delete_note(conn, id)?)
}

/// A change to an action item: text, owner and due date by its author or
/// owner; done by either person.
#[derive(Debug, Default)]
pub struct ActionEdit {
    pub text: Option<String>,
    pub owner_id: Option<i32>,
    /// `Some(None)` clears the due date.
    pub due_on: Option<Option<NaiveDate>>,
    pub done: Option<bool>,
}

fn changeable_action(
    conn: &mut DbConnection,
    caller: &Caller,
    id: i32,
) -> AppResult<(crate::repo::one_on_ones::Series, ActionItem)> {
    let (series, item) = policy::action_for(conn, caller, id)?;
    if item.author_id != caller.id && item.owner_id != caller.id {
        return Err(AppError::Forbidden(
            "only its author or its owner may change or delete an action item".into(),
        ));
    }
    Ok((series, item))
}

pub fn edit_action(
    conn: &mut DbConnection,
    caller: &Caller,
    id: i32,
    edit: &ActionEdit,
    now: NaiveDateTime,
) -> AppResult<ActionItem> {
    let changes_content = edit.text.is_some() || edit.owner_id.is_some() || edit.due_on.is_some();
    if changes_content {
        let (series, _) = changeable_action(conn, caller, id)?;
        if let Some(owner) = edit.owner_id {
            if owner != series.manager_id && owner != series.report_id {
                return Err(AppError::field(
                    "owner_id",
                    "choose the manager or the report",
                ));
            }
        }
        let changes = ActionChanges {
            text: edit
                .text
                .as_deref()
                .map(|t| text(t, ACTION_MAX, "text"))
                .transpose()?,
            owner_id: edit.owner_id,
            due_on: edit.due_on,
            edited_at: Some(now),
        };
        repo::edit_action(conn, id, &changes)?;
    } else {
        policy::action_for(conn, caller, id)?;
    }
    if let Some(done) = edit.done {
        repo::set_action_done(conn, id, done, now)?;
    }
    repo::find_action(conn, id)?.ok_or_else(|| AppError::not_found("action item"))
}

pub fn delete_action(conn: &mut DbConnection, caller: &Caller, id: i32) -> AppResult<()> {
    changeable_action(conn, caller, id)?;
    Ok(repo::delete_action(conn, id)?)
}

/// The templates the caller can start an agenda from: Pulse's, then their own.
pub fn talking_points(conn: &mut DbConnection, caller: &Caller) -> AppResult<Vec<TalkingPoints>> {
    let mut all = builtin_talking_points();
    all.extend(
        repo::templates_of(conn, caller.id)?
            .into_iter()
            .map(|(id, title, items)| TalkingPoints {
                key: id.to_string(),
                title,
                items,
            }),
    );
    Ok(all)
}

/// Adds a template's items to a meeting's agenda, leaving out those already
/// on it, as the caller's; returns the items added.
pub fn add_talking_points(
    conn: &mut DbConnection,
    caller: &Caller,
    meeting_id: i32,
    key: &str,
    now: NaiveDateTime,
) -> AppResult<Vec<AgendaItem>> {
    policy::meeting_content_for(conn, caller, meeting_id)?;
    let template = talking_points(conn, caller)?
        .into_iter()
        .find(|t| t.key == key)
        .ok_or_else(|| AppError::field("template", "is not one of your templates"))?;
    let present: Vec<String> = repo::agenda_of(conn, meeting_id)?
        .into_iter()
        .map(|a| a.text)
        .collect();
    let mut added = vec![];
    for item in template.items.iter().filter(|i| !present.contains(i)) {
        added.push(repo::insert_agenda_item(
            conn, meeting_id, caller.id, item, now,
        )?);
    }
    Ok(added)
}
