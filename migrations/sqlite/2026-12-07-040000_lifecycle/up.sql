-- Lifecycle surveys: a survey with a trigger is sent by events in a person's
-- working life (days after hired_on, a departure) instead of a cadence.
-- days_after_hire: the onboarding milestones as "30,60,90"; empty for exit.
CREATE TABLE survey_triggers (
    survey_id INTEGER PRIMARY KEY REFERENCES surveys(id),
    kind TEXT NOT NULL,
    days_after_hire TEXT NOT NULL DEFAULT ''
);

-- A cohort: the round that pools one milestone's invitations (0 for exit)
-- of one calendar quarter, so answering, closing and disclosure are a round's.
CREATE TABLE lifecycle_cohorts (
    round_id INTEGER PRIMARY KEY REFERENCES rounds(id),
    survey_id INTEGER NOT NULL REFERENCES surveys(id),
    milestone INTEGER NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    UNIQUE (survey_id, milestone, period_start)
);

-- Who was sent which milestone: the key that makes each one go exactly once,
-- whatever the restarts, instances or date corrections. It names no round and
-- holds no answer, so it links no response to a person.
CREATE TABLE lifecycle_sends (
    survey_id INTEGER NOT NULL REFERENCES surveys(id),
    employee_id INTEGER NOT NULL REFERENCES employees(id),
    milestone INTEGER NOT NULL,
    sent_on DATE NOT NULL,
    PRIMARY KEY (survey_id, employee_id, milestone)
);
