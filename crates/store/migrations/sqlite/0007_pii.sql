-- Personal data (个人信息): resident numbers (公民身份号码) are stored only sealed here, filed under
-- the person's subject key `P:<keyed pseudonym>`; elsewhere (subjects, subject_persons, records,
-- checks, audit) a person appears only by that key and the masked number, which the columns
-- subjects.resident_id and subject_persons.resident_id now hold. The key is never in the database:
-- pii_meta keeps only its check value, so that opening with another key is refused.
CREATE TABLE pii_identities (
    subject_key  TEXT PRIMARY KEY,
    -- aes-256-gcm or sm4-gcm
    cipher       TEXT NOT NULL,
    -- nonce || ciphertext || tag, the subject key bound in as associated data
    sealed       BLOB NOT NULL,
    masked       TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

CREATE TABLE pii_meta (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
