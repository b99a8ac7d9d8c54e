-- Turnover facts: for each group (team_id 0: the company; a team: it with its
-- sub-teams) one row per day on which something happened to it, kept in the
-- same transaction as every change to people. Headcount on a day = arrivals on
-- or before it − departures before it; separations add up by day; the brief_*
-- columns (on a calendar period's first day) count stints that began after that
-- day and ended before the period's last day, for retention. An older database
-- is filled on the first report that reads them (settings key
-- 'turnover_facts_filled').
CREATE TABLE turnover_facts (
    team_id INTEGER NOT NULL,
    day DATE NOT NULL,
    arrivals INTEGER NOT NULL DEFAULT 0,
    departures INTEGER NOT NULL DEFAULT 0,
    separations INTEGER NOT NULL DEFAULT 0,
    voluntary INTEGER NOT NULL DEFAULT 0,
    involuntary INTEGER NOT NULL DEFAULT 0,
    other_reason INTEGER NOT NULL DEFAULT 0,
    regretted INTEGER NOT NULL DEFAULT 0,
    first_year INTEGER NOT NULL DEFAULT 0,
    brief_month INTEGER NOT NULL DEFAULT 0,
    brief_quarter INTEGER NOT NULL DEFAULT 0,
    brief_year INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, day)
);

-- Each group's arrivals and departures over all days, kept with the facts: the
-- headcount before a report's window is these totals less the days from the
-- window on, so a report never adds up a group's whole history.
CREATE TABLE turnover_balances (
    team_id INTEGER PRIMARY KEY,
    arrivals INTEGER NOT NULL DEFAULT 0,
    departures INTEGER NOT NULL DEFAULT 0
);
