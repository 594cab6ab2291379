-- Client certificates (客户端证书) bound to users: a certificate issued by the configured client CA
-- logs in the user its SHA-256 fingerprint (of the DER, lower-case hex) is bound to. One user may
-- have several certificates (a renewal overlaps the old one); one certificate stands for one user.
CREATE TABLE user_certificates (
    fingerprint    TEXT PRIMARY KEY,
    username       TEXT NOT NULL REFERENCES users (username),
    bound_by       TEXT NOT NULL,
    bound_at       TEXT NOT NULL
);
CREATE INDEX user_certificates_by_user ON user_certificates (username);
