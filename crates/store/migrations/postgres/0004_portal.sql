-- Credit reports (信用报告) as issued: the number printed on the report, the SHA-256 of its canonical
-- body, and the body itself, so the portal's verification page can confirm or refuse a report.
CREATE TABLE credit_reports (
    number       TEXT PRIMARY KEY,
    subject_key  TEXT NOT NULL,
    issued_at    TIMESTAMPTZ NOT NULL,
    digest       TEXT NOT NULL,
    body         TEXT NOT NULL
);

-- The portal's red and black list pages page through list entries by category, newest first. A
-- partial index keeps that off a scan of the whole records table, and only list rows (a small
-- share of records: penalties and licences dominate) pay for it on import.
CREATE INDEX records_list_entries ON records (category, decision_date)
    WHERE category IN ('serious_dishonest_list', 'abnormal_operation', 'red_list', 'dishonest_debtor');
