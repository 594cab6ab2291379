-- A counter every batch write moves on (under the write lock), so that a writer's memo of what it
-- wrote about subjects (crates/store/src/memo.rs) can tell whether another writer committed since.
CREATE TABLE write_epoch (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    value  BIGINT NOT NULL
);
INSERT INTO write_epoch (id, value) VALUES (1, 0);

-- Keys compare bytewise, as in the other subject tables: the database's default collation made
-- every comparison of the import's identity inserts a locale comparison.
ALTER TABLE pii_identities ALTER COLUMN subject_key TYPE TEXT COLLATE "C";
