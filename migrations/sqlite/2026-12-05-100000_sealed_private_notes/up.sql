-- Private notes sealed under a key only their author's sign-in unlocks
-- (src/auth/notes_key.rs). The key itself is stored only wrapped: under a key
-- derived from the author's password, and, once they ask for one, under a
-- recovery code shown to them once.
CREATE TABLE notes_keys (
    employee_id INTEGER PRIMARY KEY NOT NULL REFERENCES employees(id),
    -- Salt of the password-derived wrapping key (hex).
    salt TEXT NOT NULL,
    -- base64(nonce || sealed key || tag) under the password-derived key.
    password_wrap TEXT NOT NULL,
    -- The same key under the recovery code's key; null until one is made.
    recovery_wrap TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- A private note's text lives only in `sealed`; `body` is left empty.
ALTER TABLE meeting_notes ADD COLUMN sealed TEXT;
ALTER TABLE meeting_notes ADD COLUMN edited_at TIMESTAMP;
ALTER TABLE agenda_items ADD COLUMN edited_at TIMESTAMP;
ALTER TABLE agenda_items ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
ALTER TABLE action_items ADD COLUMN edited_at TIMESTAMP;
UPDATE agenda_items SET position = id;

-- A person's own talking-points templates, one agenda item a line; the
-- built-in ones live in src/domain/one_on_one.rs.
CREATE TABLE agenda_templates (
    id INTEGER PRIMARY KEY NOT NULL,
    owner_id INTEGER NOT NULL REFERENCES employees(id),
    name TEXT NOT NULL,
    items TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX agenda_templates_owner ON agenda_templates(owner_id);
