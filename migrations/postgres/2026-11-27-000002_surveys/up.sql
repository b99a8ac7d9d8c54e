CREATE TABLE surveys (
    id SERIAL PRIMARY KEY,
    title TEXT NOT NULL,
    intro TEXT,
    enps_scale TEXT NOT NULL DEFAULT '1-10',
    cadence TEXT NOT NULL,
    starts_on DATE NOT NULL,
    send_time TEXT NOT NULL,
    timezone TEXT NOT NULL,
    open_days INTEGER NOT NULL,
    reminder_after_days INTEGER,
    min_group_size INTEGER NOT NULL DEFAULT 5,
    status TEXT NOT NULL DEFAULT 'active',
    -- Questions are versioned: a round keeps the version it was sent with.
    question_version INTEGER NOT NULL DEFAULT 1,
    -- Occurrences up to this instant have been turned into rounds (or skipped).
    scheduled_until TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- The audience; no row means the whole company.
CREATE TABLE survey_teams (
    survey_id INTEGER NOT NULL REFERENCES surveys(id),
    team_id INTEGER NOT NULL REFERENCES teams(id),
    PRIMARY KEY (survey_id, team_id)
);

CREATE TABLE questions (
    id SERIAL PRIMARY KEY,
    survey_id INTEGER NOT NULL REFERENCES surveys(id),
    version INTEGER NOT NULL,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    prompt TEXT NOT NULL,
    -- JSON array of strings, for choice questions.
    options TEXT,
    required BOOLEAN NOT NULL DEFAULT TRUE,
    UNIQUE (survey_id, version, position)
);

CREATE TABLE rounds (
    id SERIAL PRIMARY KEY,
    survey_id INTEGER NOT NULL REFERENCES surveys(id),
    question_version INTEGER NOT NULL,
    scheduled_for TIMESTAMP NOT NULL,
    opens_at TIMESTAMP NOT NULL,
    closes_at TIMESTAMP NOT NULL,
    reminder_at TIMESTAMP,
    reminded BOOLEAN NOT NULL DEFAULT FALSE,
    -- open | closed | skipped (missed while Pulse was down; never sent)
    status TEXT NOT NULL,
    invited INTEGER NOT NULL DEFAULT 0,
    responded INTEGER NOT NULL DEFAULT 0,
    enps_scale TEXT NOT NULL,
    min_group_size INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    -- Exactly one round per occurrence, whatever the restarts or instances.
    UNIQUE (survey_id, scheduled_for)
);
CREATE INDEX rounds_status ON rounds(status, closes_at);

CREATE TABLE invitations (
    id SERIAL PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    employee_id INTEGER NOT NULL REFERENCES employees(id),
    -- The invitee's team when the round went out.
    team_id INTEGER REFERENCES teams(id),
    token_hash TEXT NOT NULL UNIQUE,
    reminder_token_hash TEXT UNIQUE,
    -- Only *that* someone answered, never what or when.
    responded BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (round_id, employee_id)
);

-- Deliberately no employee, invitation or time of day: see DESIGN.md, Anonymity.
CREATE TABLE responses (
    id TEXT PRIMARY KEY NOT NULL,
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    team_id INTEGER REFERENCES teams(id),
    submitted_on DATE NOT NULL
);
CREATE INDEX responses_round ON responses(round_id, team_id);

CREATE TABLE answers (
    id SERIAL PRIMARY KEY,
    response_id TEXT NOT NULL REFERENCES responses(id),
    question_id INTEGER NOT NULL REFERENCES questions(id),
    score INTEGER,
    -- For eNPS answers: the scale the score was given on, '1-10' or '0-10'.
    scale TEXT,
    choice TEXT,
    text TEXT
);
CREATE INDEX answers_response ON answers(response_id);
CREATE INDEX answers_question ON answers(question_id);

CREATE TABLE outbox (
    id SERIAL PRIMARY KEY,
    dedupe_key TEXT NOT NULL UNIQUE,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    -- The whole RFC 5322 message; emptied once sent, since it holds a one-time link.
    message TEXT NOT NULL,
    message_id TEXT NOT NULL,
    -- pending | sent | failed
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
