DROP TABLE answers_removed;
