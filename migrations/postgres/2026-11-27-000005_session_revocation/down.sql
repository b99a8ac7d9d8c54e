ALTER TABLE employees DROP COLUMN sessions_valid_after;
