-- creditloop schema, SQLite. Every index costs import speed: records carries only the two the read
-- and write paths need (key_hash for the version probe, subject_key for profiles).

CREATE TABLE agencies (
    code    TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    level   TEXT NOT NULL,
    region  TEXT NOT NULL,
    parent  TEXT
);

CREATE TABLE subjects (
    key          TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    uscc         TEXT,
    reg_no       TEXT,
    org_code     TEXT,
    resident_id  TEXT,
    codes        TEXT NOT NULL,   -- JSON of SubjectCodes, merged over time
    updated_at   TEXT NOT NULL
);

-- Codes of a subject other than the one its key is made of, so find_subject works by any code.
CREATE TABLE subject_codes (
    code         TEXT PRIMARY KEY,
    subject_key  TEXT NOT NULL
);

CREATE TABLE subject_persons (
    subject_key  TEXT NOT NULL,
    role         TEXT NOT NULL,
    name         TEXT NOT NULL,
    person_key   TEXT,
    resident_id  TEXT,
    other_id     TEXT,            -- JSON [type, number] of a non-resident identity document
    PRIMARY KEY (subject_key, role, name)
);

-- One row per version. The rowid alias is the id (no AUTOINCREMENT: rows are never deleted, and
-- AUTOINCREMENT would update sqlite_sequence on every insert).
CREATE TABLE records (
    id               INTEGER PRIMARY KEY,
    key_hash         INTEGER NOT NULL,
    source           TEXT NOT NULL,
    category         TEXT NOT NULL,
    doc_no           TEXT NOT NULL,
    version          INTEGER NOT NULL,
    is_current       INTEGER NOT NULL,
    digest           BLOB NOT NULL,
    subject_key      TEXT NOT NULL,
    subject_name     TEXT NOT NULL,
    nature           TEXT NOT NULL,
    severity         TEXT NOT NULL,
    status           TEXT NOT NULL,
    decision_date    TEXT NOT NULL,
    publicity_until  TEXT NOT NULL,
    submitted_on     TEXT NOT NULL,
    working_days     INTEGER NOT NULL,
    deadline         TEXT NOT NULL,
    late             INTEGER NOT NULL,
    batch_id         TEXT NOT NULL,
    body             TEXT NOT NULL    -- JSON of the CreditRecord
);
CREATE INDEX records_key_hash ON records (key_hash);
CREATE INDEX records_subject_key ON records (subject_key);

CREATE TABLE batches (
    id             TEXT PRIMARY KEY,
    source         TEXT NOT NULL,
    source_digest  TEXT NOT NULL,
    agency         TEXT,
    received_at    TEXT NOT NULL,
    accepted       INTEGER NOT NULL,
    new_versions   INTEGER NOT NULL,
    duplicates     INTEGER NOT NULL,
    rejected       INTEGER NOT NULL,
    late           INTEGER NOT NULL
);

-- A rejected row is stored once per source digest and row number, with the batch that first sent it.
CREATE TABLE rejects (
    source_digest  TEXT NOT NULL,
    row_no         INTEGER NOT NULL,
    batch_id       TEXT NOT NULL,
    errors         TEXT NOT NULL,   -- JSON of [RowError]
    raw            TEXT NOT NULL,   -- JSON of [[header, value]]
    PRIMARY KEY (source_digest, row_no)
);
CREATE INDEX rejects_batch_id ON rejects (batch_id);
