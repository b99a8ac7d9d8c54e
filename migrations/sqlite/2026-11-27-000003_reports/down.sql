DROP TABLE team_memberships;
DROP TABLE round_team_stats;
