-- The weekly manager digest: who turned it off (no row: on).
CREATE TABLE digest_preferences (
    employee_id INTEGER PRIMARY KEY REFERENCES employees(id),
    enabled BOOLEAN NOT NULL
);

-- One digest per lead and week (week_start: the Monday, UTC): the key that
-- keeps it to one whatever the restarts. unsubscribe_hash: SHA-256 of the
-- link in that email, so every digest's link keeps working.
CREATE TABLE digest_sends (
    employee_id INTEGER NOT NULL REFERENCES employees(id),
    week_start DATE NOT NULL,
    unsubscribe_hash TEXT NOT NULL UNIQUE,
    PRIMARY KEY (employee_id, week_start)
);
