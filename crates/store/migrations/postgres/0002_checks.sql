-- Credit checks (事前信用查询) with their receipts, and the agencies' feedback (反馈).
CREATE TABLE checks (
    id                 TEXT COLLATE "C" PRIMARY KEY,   -- receipt id, time-ordered
    at                 TIMESTAMPTZ NOT NULL,
    checked_on         DATE NOT NULL,
    agency             TEXT,
    case_ref           TEXT,
    subject_query      TEXT NOT NULL,
    subject_key        TEXT,
    scenario           TEXT NOT NULL,
    decision           TEXT NOT NULL,
    measures           TEXT NOT NULL,      -- JSON array of measure codes
    catalogue_version  TEXT NOT NULL,
    data_version       BIGINT NOT NULL,
    batch_id           TEXT,
    answer             TEXT NOT NULL       -- JSON of the answer as given
);
CREATE INDEX checks_agency_on ON checks (agency, checked_on);

-- One feedback per check; never overwritten. No foreign key, so the table can be distributed
-- on its own key; the store checks that the check exists.
CREATE TABLE check_feedback (
    check_id  TEXT COLLATE "C" PRIMARY KEY,
    outcome   TEXT NOT NULL,
    measures  TEXT NOT NULL,               -- JSON array of measure codes applied
    note      TEXT,
    agency    TEXT,
    at        TIMESTAMPTZ NOT NULL
);
