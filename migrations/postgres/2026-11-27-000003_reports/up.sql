-- Answer counts per round and team, kept up to date in the same transaction
-- as each answer, so reports cost rounds × teams, not answers.
-- team_id 0 stands for "no team" (a key column cannot be NULL).
CREATE TABLE round_team_stats (
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    team_id INTEGER NOT NULL,
    invited INTEGER NOT NULL DEFAULT 0,
    responses INTEGER NOT NULL DEFAULT 0,
    promoters INTEGER NOT NULL DEFAULT 0,
    passives INTEGER NOT NULL DEFAULT 0,
    detractors INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (round_id, team_id)
);

-- Who was in which team when, so moving someone today does not rewrite
-- last year's team headcounts. ended_on is the last day in the team.
CREATE TABLE team_memberships (
    id SERIAL PRIMARY KEY,
    employee_id INTEGER NOT NULL REFERENCES employees(id),
    team_id INTEGER NOT NULL REFERENCES teams(id),
    started_on DATE NOT NULL,
    ended_on DATE
);
CREATE INDEX team_memberships_team ON team_memberships(team_id);
CREATE INDEX team_memberships_employee ON team_memberships(employee_id);

-- People already in a team were there since they were hired.
INSERT INTO team_memberships (employee_id, team_id, started_on)
    SELECT id, team_id, hired_on FROM employees WHERE team_id IS NOT NULL;
