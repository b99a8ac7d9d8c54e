-- SQLite has no fill factor (it rewrites the page on every update anyway);
-- this keeps the two migration trees in step with PostgreSQL's.
SELECT 1;
