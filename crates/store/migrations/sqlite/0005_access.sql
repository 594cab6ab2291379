-- Users of the web pages (用户) and API tokens (接口令牌) of agency systems, and web sessions. Secrets
-- are never stored: passwords as argon2 PHC strings, tokens and session ids as SHA-256 hashes (hex).
-- Roles are the domain's codes (credit_office_admin, agency_admin, agency_officer, agency_system,
-- auditor, enterprise, public); `agency` is the agency's unified code for agency roles.
CREATE TABLE users (
    username       TEXT PRIMARY KEY,
    display_name   TEXT NOT NULL,
    role           TEXT NOT NULL,
    agency         TEXT,
    subject_key    TEXT,
    password_hash  TEXT NOT NULL,
    -- Base32 RFC 6238 secret; required for administrators to log in to the web pages.
    totp_secret    TEXT,
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

CREATE TABLE api_tokens (
    name           TEXT PRIMARY KEY,
    token_hash     TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL,
    agency         TEXT,
    subject_key    TEXT,
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    expires_at     TEXT,
    revoked_at     TEXT,
    last_used_at   TEXT
);

CREATE TABLE web_sessions (
    id_hash        TEXT PRIMARY KEY,
    username       TEXT NOT NULL REFERENCES users (username),
    csrf_token     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    expires_at     TEXT NOT NULL
);
CREATE INDEX web_sessions_by_user ON web_sessions (username);
