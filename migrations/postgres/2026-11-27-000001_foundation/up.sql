-- Key/value settings kept by the app itself (generated JWT secret, setup token hash).
CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE teams (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    parent_id INTEGER REFERENCES teams(id),
    lead_id INTEGER,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX teams_parent_id ON teams(parent_id);

CREATE TABLE employees (
    id SERIAL PRIMARY KEY,
    -- Stored lower-cased: one person, one address, whatever the spelling.
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    team_id INTEGER REFERENCES teams(id),
    manager_id INTEGER REFERENCES employees(id),
    role TEXT NOT NULL DEFAULT 'member',
    hired_on DATE NOT NULL,
    left_on DATE,
    leave_reason TEXT,
    regretted BOOLEAN NOT NULL DEFAULT FALSE,
    locale TEXT NOT NULL DEFAULT 'en',
    password_hash TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX employees_team_id ON employees(team_id);
CREATE INDEX employees_manager_id ON employees(manager_id);
ALTER TABLE teams ADD CONSTRAINT teams_lead_id_fkey FOREIGN KEY (lead_id) REFERENCES employees(id);

-- Failed sign-ins, keyed by account and by client address, for rate limiting
-- that holds across several app instances.
CREATE TABLE login_failures (
    id SERIAL PRIMARY KEY,
    key TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_key ON login_failures(key, failed_at);
