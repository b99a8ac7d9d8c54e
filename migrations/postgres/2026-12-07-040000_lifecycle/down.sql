DROP TABLE lifecycle_sends;
DROP TABLE lifecycle_cohorts;
DROP TABLE survey_triggers;
