-- SQLite's index on (status, next_attempt_at) already serves the claim in
-- (next_attempt_at, id) order (each entry ends with the rowid, which is the
-- id); this keeps the two migration trees in step with PostgreSQL's.
SELECT 1;
