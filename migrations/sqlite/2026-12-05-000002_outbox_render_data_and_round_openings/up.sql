-- Round emails (invitations, reminders) are rendered when they are sent: the
-- row keeps only what rendering needs, not a whole message of ~8 KB.
-- `token` holds the person's one-time link until the message is sent, as
-- `message` did; both are emptied then.
ALTER TABLE outbox ADD COLUMN template TEXT;
ALTER TABLE outbox ADD COLUMN round_id INTEGER;
ALTER TABLE outbox ADD COLUMN token TEXT;
ALTER TABLE outbox ADD COLUMN to_name TEXT;
ALTER TABLE outbox ADD COLUMN locale TEXT;

-- A round whose invitations are still being written, in chunks; the row goes
-- once everyone is invited. A lease lets one process at a time carry on.
CREATE TABLE round_openings (
    round_id INTEGER PRIMARY KEY NOT NULL REFERENCES rounds(id),
    to_invite INTEGER NOT NULL,
    locked_until TIMESTAMP,
    claim_token TEXT
);
