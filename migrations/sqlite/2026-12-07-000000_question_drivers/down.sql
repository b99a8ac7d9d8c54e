ALTER TABLE questions DROP COLUMN driver;
