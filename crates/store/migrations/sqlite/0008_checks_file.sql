-- The check log moved to a file of its own (X.checks.db; see migrations/sqlite-checks). The store
-- copies any checks and feedback held here into that file before this runs.
DROP TABLE IF EXISTS check_feedback;
DROP TABLE IF EXISTS checks;
