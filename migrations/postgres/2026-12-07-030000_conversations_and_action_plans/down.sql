DROP TABLE action_plans;
DROP TABLE comment_messages;
DROP TABLE conversations;
