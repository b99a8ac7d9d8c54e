-- Anonymous conversations on comments. A conversation is what a respondent's
-- private link (/c/<token>) opens: it names the anonymous response, never a person
-- or an invitation, and has no time of its own. Its rows are rewritten in random
-- order with the round's responses at close, so no order tells who answered when.
CREATE TABLE conversations (
    id TEXT PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    response_id TEXT NOT NULL
);
CREATE INDEX conversations_round ON conversations(round_id);
CREATE INDEX conversations_response ON conversations(response_id);

-- One thread per comment (answers.id, stable once the round has closed). The
-- author is only a side (lead, hr, respondent) and the day: no person, no instant.
CREATE TABLE comment_messages (
    id TEXT PRIMARY KEY NOT NULL,
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    answer_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    side TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_on DATE NOT NULL,
    UNIQUE (answer_id, position)
);
CREATE INDEX comment_messages_round ON comment_messages(round_id);

-- Actions a lead or HR records from results; team_id NULL: company-wide.
CREATE TABLE action_plans (
    id INTEGER PRIMARY KEY NOT NULL,
    team_id INTEGER REFERENCES teams(id),
    round_id INTEGER REFERENCES rounds(id),
    driver TEXT,
    text TEXT NOT NULL,
    owner_id INTEGER NOT NULL REFERENCES employees(id),
    due_on DATE NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    done_at TIMESTAMP,
    created_by INTEGER,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX action_plans_team ON action_plans(team_id, status);
