-- Sign-in attempts per key (an account or a client address) in the current
-- 15-minute window: one row per key, so counting an attempt is one
-- conditional upsert that concurrent sign-ins cannot both pass.
CREATE TABLE login_attempts (
    key TEXT PRIMARY KEY NOT NULL,
    window_started_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL
);
DROP TABLE login_failures;

-- Which dispatcher pass holds a claimed message, so a pass renews only its own leases.
ALTER TABLE outbox ADD COLUMN claim_token TEXT;
