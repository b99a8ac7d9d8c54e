DROP TABLE login_failures;
ALTER TABLE teams DROP CONSTRAINT teams_lead_id_fkey;
DROP TABLE employees;
DROP TABLE teams;
DROP TABLE settings;
