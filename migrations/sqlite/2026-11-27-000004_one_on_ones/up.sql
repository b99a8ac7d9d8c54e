-- 1:1s: a series between a manager and a report, its meetings, and what the
-- two of them write. Private notes are filtered in src/auth/one_on_one.rs.
CREATE TABLE one_on_ones (
    id INTEGER PRIMARY KEY NOT NULL,
    manager_id INTEGER NOT NULL REFERENCES employees(id),
    report_id INTEGER NOT NULL REFERENCES employees(id),
    -- weekly | biweekly | monthly
    cadence TEXT NOT NULL,
    starts_on DATE NOT NULL,
    -- HH:MM in `timezone`
    local_time TEXT NOT NULL,
    timezone TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL,
    reminder_hours_before INTEGER NOT NULL DEFAULT 24,
    -- active | paused | ended
    status TEXT NOT NULL DEFAULT 'active',
    -- Occurrences up to this instant have been turned into meetings.
    materialized_until TIMESTAMP NOT NULL,
    created_by INTEGER NOT NULL REFERENCES employees(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX one_on_ones_manager ON one_on_ones(manager_id);
CREATE INDEX one_on_ones_report ON one_on_ones(report_id);

CREATE TABLE meetings (
    id INTEGER PRIMARY KEY NOT NULL,
    series_id INTEGER NOT NULL REFERENCES one_on_ones(id),
    -- The occurrence this meeting was made for; never changes when it moves.
    scheduled_for TIMESTAMP NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    remind_at TIMESTAMP NOT NULL,
    -- scheduled | skipped | cancelled
    status TEXT NOT NULL DEFAULT 'scheduled',
    -- iCalendar SEQUENCE: raised whenever the time or status changes.
    sequence INTEGER NOT NULL DEFAULT 0,
    -- The SEQUENCE last emailed to the two people; null before the first reminder.
    announced_sequence INTEGER,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    -- Exactly one meeting per occurrence, whatever the restarts or instances.
    UNIQUE (series_id, scheduled_for)
);
CREATE INDEX meetings_remind ON meetings(status, remind_at);
CREATE INDEX meetings_starts ON meetings(series_id, starts_at);

CREATE TABLE agenda_items (
    id INTEGER PRIMARY KEY NOT NULL,
    meeting_id INTEGER NOT NULL REFERENCES meetings(id),
    author_id INTEGER NOT NULL REFERENCES employees(id),
    text TEXT NOT NULL,
    done BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX agenda_items_meeting ON agenda_items(meeting_id);

CREATE TABLE meeting_notes (
    id INTEGER PRIMARY KEY NOT NULL,
    meeting_id INTEGER NOT NULL REFERENCES meetings(id),
    author_id INTEGER NOT NULL REFERENCES employees(id),
    body TEXT NOT NULL,
    -- Private: readable by the author alone, never by the other person or HR.
    private BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX meeting_notes_meeting ON meeting_notes(meeting_id);

CREATE TABLE action_items (
    id INTEGER PRIMARY KEY NOT NULL,
    meeting_id INTEGER NOT NULL REFERENCES meetings(id),
    series_id INTEGER NOT NULL REFERENCES one_on_ones(id),
    author_id INTEGER NOT NULL REFERENCES employees(id),
    owner_id INTEGER NOT NULL REFERENCES employees(id),
    text TEXT NOT NULL,
    due_on DATE,
    done BOOLEAN NOT NULL DEFAULT 0,
    done_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX action_items_meeting ON action_items(meeting_id);
CREATE INDEX action_items_open ON action_items(series_id, done);

-- One-time links that let an employee choose a password.
CREATE TABLE account_invitations (
    id INTEGER PRIMARY KEY NOT NULL,
    employee_id INTEGER NOT NULL REFERENCES employees(id),
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    created_by INTEGER NOT NULL REFERENCES employees(id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX account_invitations_employee ON account_invitations(employee_id);
