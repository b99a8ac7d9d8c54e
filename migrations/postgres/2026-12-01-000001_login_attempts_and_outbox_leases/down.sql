ALTER TABLE outbox DROP COLUMN claim_token;
CREATE TABLE login_failures (
    id SERIAL PRIMARY KEY,
    key TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_key ON login_failures(key, failed_at);
DROP TABLE login_attempts;
