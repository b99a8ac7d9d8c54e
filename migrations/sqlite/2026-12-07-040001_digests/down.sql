DROP TABLE digest_sends;
DROP TABLE digest_preferences;
