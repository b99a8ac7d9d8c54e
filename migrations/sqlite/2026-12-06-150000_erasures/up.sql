-- People erased under GDPR article 17: their row in employees keeps only
-- what turnover needs (dates, team, leave reason), under a placeholder name.
CREATE TABLE erasures (
    employee_id INTEGER PRIMARY KEY NOT NULL REFERENCES employees (id),
    erased_at TIMESTAMP NOT NULL
);
