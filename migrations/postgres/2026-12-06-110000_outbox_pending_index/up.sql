-- Claiming takes the first due pending rows in (next_attempt_at, id) order.
-- On (status, next_attempt_at) PostgreSQL had to read and sort every pending
-- row for each batch of 50 (a round's rows share one next_attempt_at); this
-- index holds the pending rows alone, in that order, so a claim reads the
-- rows it takes, and a message leaves it when sent. The old index only
-- cost a new entry at every update of a row.
CREATE INDEX outbox_pending ON outbox (next_attempt_at, id) WHERE status = 'pending';
DROP INDEX outbox_due;
