-- Outgoing webhooks: URLs HR registers for events, each with its signing secret.
-- The secret is kept as written: signing needs it (it is shown once, when made).
CREATE TABLE webhooks (
    id SERIAL PRIMARY KEY,
    url TEXT NOT NULL,
    -- Comma-separated event names: round.opened,round.closed,action.due,employee.left
    events TEXT NOT NULL,
    -- json, slack or teams
    format TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_by INTEGER,
    created_at TIMESTAMP NOT NULL,
    -- The last delivery attempt and how it went (`200`, `503`, `connection refused`…).
    last_attempt_at TIMESTAMP,
    last_status TEXT,
    last_delivered_at TIMESTAMP,
    -- Deliveries given up on: refused for good, or out of attempts.
    failures INTEGER NOT NULL DEFAULT 0
);

-- A delivery is an outbox row with its webhook: the same leases, retries and
-- back-off as email. Email dispatch takes rows without one.
ALTER TABLE outbox ADD COLUMN webhook_id INTEGER;
CREATE INDEX outbox_webhook_due ON outbox(webhook_id, status, next_attempt_at) WHERE webhook_id IS NOT NULL;
