ALTER TABLE invitations RESET (fillfactor);
