-- Tokens issued before this instant are refused: signing out ends every session of the person.
ALTER TABLE employees ADD COLUMN sessions_valid_after TIMESTAMP;
