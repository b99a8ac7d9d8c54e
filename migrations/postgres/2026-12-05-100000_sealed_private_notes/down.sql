DROP TABLE agenda_templates;
ALTER TABLE action_items DROP COLUMN edited_at;
ALTER TABLE agenda_items DROP COLUMN position;
ALTER TABLE agenda_items DROP COLUMN edited_at;
ALTER TABLE meeting_notes DROP COLUMN edited_at;
ALTER TABLE meeting_notes DROP COLUMN sealed;
DROP TABLE notes_keys;
