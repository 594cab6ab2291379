-- The rows of batch checks (批量查询), a chunk of rows to a row (src/chunks.rs): the fields the
-- rows share once, the rest as one zstd frame of JSON. A row's receipt is `{batch_id}-{row}`.
CREATE TABLE IF NOT EXISTS check_chunks (
    batch_id           TEXT NOT NULL,
    first_row          INTEGER NOT NULL,
    last_row           INTEGER NOT NULL,
    rows               INTEGER NOT NULL,
    first_at           TEXT NOT NULL,
    last_at            TEXT NOT NULL,
    checked_on         TEXT NOT NULL,
    agency             TEXT,
    scenario           TEXT NOT NULL,
    catalogue_version  TEXT NOT NULL,
    data_version       INTEGER NOT NULL,
    decisions          TEXT NOT NULL,      -- JSON object: rows by decision
    body               BLOB NOT NULL,
    PRIMARY KEY (batch_id, first_row)
);
-- Lists by agency and statistics by day read the chunks' heads only; a chunk holds up to 20,000 rows,
-- so these indexes cost nothing to keep.
CREATE INDEX IF NOT EXISTS check_chunks_agency_on ON check_chunks (agency, checked_on);
CREATE INDEX IF NOT EXISTS check_chunks_on ON check_chunks (checked_on);
