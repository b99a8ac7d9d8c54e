-- The question library: Pulse's own questions (a stable `key`, seeded at start-up
-- by repo::library::seed) and HR's (no key). The row holds the current version;
-- each edit first copies the version it replaces into library_question_history.
-- Surveys copy the wording they are built with, so an edit never changes them.
CREATE TABLE library_questions (
    id INTEGER PRIMARY KEY NOT NULL,
    key TEXT UNIQUE,
    kind TEXT NOT NULL,
    driver TEXT,
    prompt_en TEXT NOT NULL,
    prompt_fr TEXT NOT NULL,
    options_en TEXT,
    options_fr TEXT,
    version INTEGER NOT NULL,
    retired BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE library_question_history (
    question_id INTEGER NOT NULL REFERENCES library_questions (id),
    version INTEGER NOT NULL,
    driver TEXT,
    prompt_en TEXT NOT NULL,
    prompt_fr TEXT NOT NULL,
    options_en TEXT,
    options_fr TEXT,
    replaced_at TIMESTAMP NOT NULL,
    PRIMARY KEY (question_id, version)
);

-- A rotating survey's draw, per version of its question list: rounds keep the
-- version (and so the rotation) they were sent with.
CREATE TABLE question_rotations (
    survey_id INTEGER NOT NULL REFERENCES surveys (id),
    version INTEGER NOT NULL,
    per_round INTEGER NOT NULL,
    PRIMARY KEY (survey_id, version)
);
