//! Who may see and do what in a 1:1: the one place these rules are decided.
//!
//! - The manager and the report see their series, its meetings, agendas,
//!   shared notes and action items, and may add to them.
//! - A private note is readable by its author alone: not the other person,
//!   not HR.
//! - HR admins who are not one of the two may create, list and manage series
//!   (schedule, pause, end, move or skip a meeting) but get 403 on what was
//!   written in them.
//! - Anyone else is told the series does not exist (404).
//!
//! Handlers load series, meetings and items only through the functions here.

use crate::auth::Caller;
use crate::db::DbConnection;
use crate::error::{AppError, AppResult};
use crate::repo::one_on_ones::{self as repo, ActionItem, AgendaItem, Meeting, Note, Series};

/// Which of the two people the caller is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seat {
    Manager,
    Report,
}

/// How the caller stands towards a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Participant(Seat),
    /// HR, not one of the two: manages the series, reads nothing written in it.
    Admin,
}

fn not_found() -> AppError {
    AppError::not_found("one-on-one")
}

fn content_forbidden() -> AppError {
    AppError::Forbidden(
        "1:1 agendas, notes and action items are for the manager and the report only".into(),
    )
}

/// The caller's standing, or 404 for someone who is not part of the series.
pub fn standing(caller: &Caller, series: &Series) -> AppResult<Standing> {
    if caller.id == series.manager_id {
        Ok(Standing::Participant(Seat::Manager))
    } else if caller.id == series.report_id {
        Ok(Standing::Participant(Seat::Report))
    } else if caller.is_admin() {
        Ok(Standing::Admin)
    } else {
        Err(not_found())
    }
}

/// Reading or adding agenda items, notes and action items.
pub fn require_participant(caller: &Caller, series: &Series) -> AppResult<Seat> {
    match standing(caller, series)? {
        Standing::Participant(seat) => Ok(seat),
        Standing::Admin => Err(content_forbidden()),
    }
}

/// Changing the series itself (schedule, pause, end): its manager or HR.
pub fn require_series_manager(caller: &Caller, series: &Series) -> AppResult<()> {
    match standing(caller, series)? {
        Standing::Participant(Seat::Manager) | Standing::Admin => Ok(()),
        Standing::Participant(Seat::Report) => Err(AppError::Forbidden(
            "only the manager or HR may change a 1:1 series; you can move or skip a single meeting"
                .into(),
        )),
    }
}

/// A private note is shown to its author and to no one else.
pub fn may_read_note(caller: &Caller, note: &Note) -> bool {
    !note.private || note.author_id == caller.id
}

/// A meeting's notes as the caller reads them.
#[derive(Debug)]
pub struct ReadableNotes {
    /// Shared notes, and the caller's own private ones opened, in order.
    pub notes: Vec<Note>,
    /// The caller's own private notes that this session's key does not open:
    /// written before their password was reset, until they recover the key.
    pub locked: usize,
}

/// The notes of a meeting the caller may read, private ones opened with the
/// caller's notes key.
pub fn readable_notes(caller: &Caller, notes: Vec<Note>) -> ReadableNotes {
    let mut readable = ReadableNotes {
        notes: Vec::new(),
        locked: 0,
    };
    for mut n in notes.into_iter().filter(|n| may_read_note(caller, n)) {
        if let Some(sealed) = &n.sealed {
            let opened = (caller.notes_key.as_ref())
                .and_then(|k| k.open_note(n.author_id, n.meeting_id, sealed));
            match opened {
                Some(text) => n.body = text,
                None => {
                    readable.locked += 1;
                    continue;
                }
            }
        }
        readable.notes.push(n);
    }
    readable
}

/// What to store for a note the caller writes: a private one sealed under
/// their notes key, which only a session their own sign-in made carries.
pub fn note_body(
    caller: &Caller,
    meeting_id: i32,
    text: &str,
    private: bool,
) -> AppResult<Option<String>> {
    if !private {
        return Ok(None);
    }
    let key = caller.notes_key.as_ref().ok_or_else(notes_locked)?;
    Ok(Some(key.seal_note(caller.id, meeting_id, text)))
}

pub fn notes_locked() -> AppError {
    AppError::Conflict {
        code: "notes_locked",
        message: "your private notes are locked: sign in again, or, if your password was reset, \
                  unlock them with your recovery code on your account page"
            .into(),
    }
}

/// A series and the caller's standing in it (404 for outsiders).
pub fn series_for(
    conn: &mut DbConnection,
    caller: &Caller,
    id: i32,
) -> AppResult<(Series, Standing)> {
    let series = repo::find_series(conn, id)?.ok_or_else(not_found)?;
    let standing = standing(caller, &series)?;
    Ok((series, standing))
}

/// A meeting with its series, for schedule-level reads and changes (the two people and HR).
pub fn meeting_for(
    conn: &mut DbConnection,
    caller: &Caller,
    id: i32,
) -> AppResult<(Series, Meeting, Standing)> {
    let meeting = repo::find_meeting(conn, id)?.ok_or_else(|| AppError::not_found("meeting"))?;
    let series = repo::find_series(conn, meeting.series_id)?.ok_or_else(not_found)?;
    let standing = standing(caller, &series).map_err(|_| AppError::not_found("meeting"))?;
    Ok((series, meeting, standing))
}

/// A meeting whose content the caller reads or adds to: the two people only.
pub fn meeting_content_for(
    conn: &mut DbConnection,
    caller: &Caller,
    id: i32,
) -> AppResult<(Series, Meeting, Seat)> {
    let (series, meeting, standing) = meeting_for(conn, caller, id)?;
    match standing {
        Standing::Participant(seat) => Ok((series, meeting, seat)),
        Standing::Admin => Err(content_forbidden()),
    }
}

/// An agenda item the caller may tick off.
pub fn agenda_item_for(
    conn: &mut DbConnection,
    caller: &Caller,
    id: i32,
) -> AppResult<(Series, AgendaItem)> {
    let missing = || AppError::not_found("agenda item");
    let item = repo::find_agenda_item(conn, id)?.ok_or_else(missing)?;
    let (series, _, _) = meeting_content_for(conn, caller, item.meeting_id).map_err(|e| {
        if matches!(e, AppError::NotFound(_)) {
            missing()
        } else {
            e
        }
    })?;
    Ok((series, item))
}

/// An action item the caller may mark done or open again.
pub fn action_for(
    conn: &mut DbConnection,
    caller: &Caller,
    id: i32,
) -> AppResult<(Series, ActionItem)> {
    let missing = || AppError::not_found("action item");
    let item = repo::find_action(conn, id)?.ok_or_else(missing)?;
    let (series, _, _) = meeting_content_for(conn, caller, item.meeting_id).map_err(|e| {
        if matches!(e, AppError::NotFound(_)) {
            missing()
        } else {
            e
        }
    })?;
    Ok((series, item))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::people::Role;
    use chrono::NaiveDateTime;

    fn caller(id: i32, role: Role) -> Caller {
        Caller {
            id,
            email: format!("{id}@example.com"),
            name: format!("E{id}"),
            role,
            team_id: None,
            notes_key: None,
            sso: false,
            ip: String::new(),
        }
    }

    fn series() -> Series {
        let t = NaiveDateTime::default();
        Series {
            id: 1,
            manager_id: 10,
            report_id: 20,
            cadence: "biweekly".into(),
            starts_on: t.date(),
            local_time: "10:00".into(),
            timezone: "Europe/Paris".into(),
            duration_minutes: 30,
            reminder_hours_before: 24,
            status: "active".into(),
            materialized_until: t,
            created_by: 10,
            created_at: t,
            updated_at: t,
        }
    }

    fn note(author_id: i32, private: bool) -> Note {
        Note {
            id: 1,
            meeting_id: 1,
            author_id,
            body: "b".into(),
            private,
            created_at: NaiveDateTime::default(),
            sealed: None,
            edited_at: None,
        }
    }

    #[test]
    fn each_role_stands_where_it_should() {
        let s = series();
        let manager = caller(10, Role::Member);
        let report = caller(20, Role::Member);
        let hr = caller(30, Role::Admin);
        let lead = caller(40, Role::Lead);
        assert_eq!(
            standing(&manager, &s).unwrap(),
            Standing::Participant(Seat::Manager)
        );
        assert_eq!(require_participant(&report, &s).unwrap(), Seat::Report);
        assert_eq!(standing(&hr, &s).unwrap(), Standing::Admin);
        assert!(matches!(
            require_participant(&hr, &s),
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(standing(&lead, &s), Err(AppError::NotFound(_))));
        assert!(require_series_manager(&manager, &s).is_ok());
        assert!(require_series_manager(&hr, &s).is_ok());
        assert!(matches!(
            require_series_manager(&report, &s),
            Err(AppError::Forbidden(_))
        ));
        // An admin who is one of the two is a participant like anyone else.
        let admin_manager = caller(10, Role::Admin);
        assert_eq!(
            require_participant(&admin_manager, &s).unwrap(),
            Seat::Manager
        );
    }

    #[test]
    fn private_notes_are_for_their_author_alone() {
        let manager = caller(10, Role::Member);
        let report = caller(20, Role::Member);
        let hr = caller(30, Role::Admin);
        let notes = vec![note(10, true), note(10, false), note(20, true)];
        assert_eq!(readable_notes(&manager, notes.clone()).notes.len(), 2);
        let seen: Vec<(i32, bool)> = readable_notes(&report, notes.clone())
            .notes
            .iter()
            .map(|n| (n.author_id, n.private))
            .collect();
        assert_eq!(seen, [(10, false), (20, true)]);
        assert!(!may_read_note(&hr, &note(10, true)));
    }

    #[test]
    fn sealed_notes_open_with_their_authors_key_only() {
        let key = crate::auth::notes_key::NotesKey::generate();
        let author = Caller {
            notes_key: Some(key.clone()),
            ..caller(10, Role::Member)
        };
        let sealed = note_body(&author, 1, "plan to ask for a raise", true)
            .unwrap()
            .expect("a private note is sealed");
        assert_eq!(note_body(&author, 1, "shared", false).unwrap(), None);
        let stored = Note {
            body: String::new(),
            sealed: Some(sealed),
            ..note(10, true)
        };
        let read = readable_notes(&author, vec![stored.clone(), note(10, false)]);
        assert_eq!(read.notes[0].body, "plan to ask for a raise");
        assert_eq!((read.notes.len(), read.locked), (2, 0));
        // The same person after a password reset: their session has another key or none.
        for other in [Some(crate::auth::notes_key::NotesKey::generate()), None] {
            let reset = Caller {
                notes_key: other,
                ..caller(10, Role::Member)
            };
            let read = readable_notes(&reset, vec![stored.clone()]);
            assert_eq!((read.notes.len(), read.locked), (0, 1));
        }
        // Without a key nothing private can be written.
        assert!(matches!(
            note_body(&caller(10, Role::Member), 1, "x", true),
            Err(AppError::Conflict {
                code: "notes_locked",
                ..
            })
        ));
    }
}
