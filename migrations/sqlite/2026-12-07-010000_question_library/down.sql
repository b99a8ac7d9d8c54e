DROP TABLE question_rotations;
DROP TABLE library_question_history;
DROP TABLE library_questions;
