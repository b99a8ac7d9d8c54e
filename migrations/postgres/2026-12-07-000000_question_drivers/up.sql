-- The engagement driver a scale question measures (domain::driver), for key-driver reports.
ALTER TABLE questions ADD COLUMN driver TEXT;
