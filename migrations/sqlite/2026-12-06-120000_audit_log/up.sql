-- The audit trail: what admins did, to what, when and from which address.
-- Written in the same transaction as the action; never changed afterwards.
-- No foreign key on actor_id: the record outlives the person.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id INTEGER,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    ip TEXT NOT NULL,
    -- What changed, in words (field names, old → new role); never a password.
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor_at ON audit_log(actor_id, at);
CREATE INDEX audit_log_action_at ON audit_log(action, at);

-- Append only, whoever holds a connection: no route edits it, and the database refuses to.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
