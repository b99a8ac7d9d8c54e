DROP TABLE round_openings;
ALTER TABLE outbox DROP COLUMN locale;
ALTER TABLE outbox DROP COLUMN to_name;
ALTER TABLE outbox DROP COLUMN token;
ALTER TABLE outbox DROP COLUMN round_id;
ALTER TABLE outbox DROP COLUMN template;
