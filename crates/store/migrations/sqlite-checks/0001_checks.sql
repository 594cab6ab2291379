-- The check log of a SQLite store, in its own file (X.checks.db beside X.db): credit checks
-- (事前信用查询) with their receipts, and the agencies' feedback (反馈). The same tables as
-- migrations/sqlite/0002_checks.sql, which held them in the main file until migration 8.
CREATE TABLE IF NOT EXISTS checks (
    id                 TEXT PRIMARY KEY,   -- receipt id, time-ordered
    at                 TEXT NOT NULL,
    checked_on         TEXT NOT NULL,
    agency             TEXT,
    case_ref           TEXT,
    subject_query      TEXT NOT NULL,
    subject_key        TEXT,
    scenario           TEXT NOT NULL,
    decision           TEXT NOT NULL,
    measures           TEXT NOT NULL,      -- JSON array of measure codes
    catalogue_version  TEXT NOT NULL,
    data_version       INTEGER NOT NULL,
    batch_id           TEXT,
    answer             TEXT NOT NULL       -- JSON of the answer as given
);
CREATE INDEX IF NOT EXISTS checks_agency_on ON checks (agency, checked_on);

-- One feedback per check; never overwritten.
CREATE TABLE IF NOT EXISTS check_feedback (
    check_id  TEXT PRIMARY KEY,
    outcome   TEXT NOT NULL,
    measures  TEXT NOT NULL,               -- JSON array of measure codes applied
    note      TEXT,
    agency    TEXT,
    at        TEXT NOT NULL
);
