-- Each closed round's cells, decided once when it closes: one row per group that
-- had anyone invited (team_id 0: the company, always present, so a round with
-- cells is one with a company row). `hidden` is NULL for a shown cell, else why
-- the disclosure rule hides it ('too_few' or 'derivable'). The round's survey,
-- date, scale and threshold are repeated so views read this table alone.
CREATE TABLE round_cells (
    round_id INTEGER NOT NULL REFERENCES rounds(id) ON DELETE CASCADE,
    team_id INTEGER NOT NULL,
    survey_id INTEGER NOT NULL,
    scheduled_for TIMESTAMP NOT NULL,
    enps_scale TEXT NOT NULL,
    min_group_size INTEGER NOT NULL,
    invited INTEGER NOT NULL,
    responses INTEGER NOT NULL,
    promoters INTEGER NOT NULL,
    passives INTEGER NOT NULL,
    detractors INTEGER NOT NULL,
    hidden TEXT,
    PRIMARY KEY (round_id, team_id)
);
CREATE INDEX round_cells_team ON round_cells(team_id, scheduled_for);
