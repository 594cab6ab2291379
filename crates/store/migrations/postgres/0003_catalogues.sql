-- Versions of the measures catalogue (联合奖惩措施目录). A version is never changed after it is
-- stored, except its status from draft to published; the newest published version answers checks.
CREATE TABLE catalogues (
    number        BIGINT PRIMARY KEY,
    status        TEXT NOT NULL,
    digest        TEXT NOT NULL,
    body          TEXT NOT NULL,   -- canonical JSON of the catalogue
    created_at    TIMESTAMPTZ NOT NULL,
    published_at  TIMESTAMPTZ
);
