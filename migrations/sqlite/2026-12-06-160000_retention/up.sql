-- Rounds whose comments and per-response answers were deleted under the
-- retention setting; their counters and stored cells stay for ever.
CREATE TABLE answers_removed (
    round_id INTEGER PRIMARY KEY NOT NULL REFERENCES rounds (id),
    removed_at TIMESTAMP NOT NULL
);
