DROP TABLE outbox;
DROP TABLE answers;
DROP TABLE responses;
DROP TABLE invitations;
DROP TABLE rounds;
DROP TABLE questions;
DROP TABLE survey_teams;
DROP TABLE surveys;
