DROP TABLE account_invitations;
DROP TABLE action_items;
DROP TABLE meeting_notes;
DROP TABLE agenda_items;
DROP TABLE meetings;
DROP TABLE one_on_ones;
