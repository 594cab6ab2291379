//! Storage of who may log in: web users, API tokens and web sessions ([`Credentials`], a part of
//! every [`crate::Store`]). Only hashes of secrets are stored: the server hashes a presented token
//! or session id and looks the hash up; passwords are argon2 PHC strings made by the server crate.

use chrono::{DateTime, Utc};
use creditloop_domain::access::Role;
use serde::{Deserialize, Serialize};

use crate::Result;

/// A web user (用户).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredUser {
    /// The login name, also the actor of the user's audit entries.
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The agency of an agency role (unified code).
    pub agency: Option<String>,
    /// The subject of an enterprise user (`U:…`).
    pub subject: Option<String>,
    /// argon2 PHC string.
    #[serde(skip_serializing)]
    pub password_hash: String,
    /// Base32 TOTP secret (RFC 6238), when the user has a second factor.
    #[serde(skip_serializing)]
    pub totp_secret: Option<String>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An API token (接口令牌) as stored: its hash, never the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredToken {
    /// Unique name, given when it was created; the token's actor is `token:NAME`.
    pub name: String,
    /// SHA-256 (hex) of the token.
    #[serde(skip_serializing)]
    pub token_hash: String,
    pub role: Role,
    pub agency: Option<String>,
    pub subject: Option<String>,
    /// Who created it (a user name, or `cli`).
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// `None`: never expires.
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl StoredToken {
    /// Whether the token may be used at `now`: not revoked, not expired.
    pub fn is_valid_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

/// A web session: the hash of its cookie's random id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub id_hash: String,
    pub username: String,
    /// The per-session token every POST form carries.
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A client certificate (客户端证书) bound to a user: the certificate itself is not stored, only
/// its fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCertificate {
    /// SHA-256 of the certificate's DER, lower-case hex.
    pub fingerprint: String,
    pub username: String,
    /// Who bound it (a user name, or `cli`).
    pub bound_by: String,
    pub bound_at: DateTime<Utc>,
}

/// Users, tokens, sessions and client certificates. Every method is durable when it returns `Ok`.
pub trait Credentials {
    /// Adds a user; `false` when the name is taken (nothing changes).
    fn put_user(&self, user: &StoredUser) -> Result<bool>;
    /// Replaces a user's fields (not its name or creation time); `false` when there is no such user.
    fn update_user(&self, user: &StoredUser) -> Result<bool>;
    fn user(&self, username: &str) -> Result<Option<StoredUser>>;
    /// By name.
    fn users(&self) -> Result<Vec<StoredUser>>;

    /// Adds a token; `false` when the name is taken (nothing changes).
    fn put_token(&self, token: &StoredToken) -> Result<bool>;
    /// The token with this hash, valid or not (the caller tells revoked and expired apart).
    fn token_by_hash(&self, token_hash: &str) -> Result<Option<StoredToken>>;
    /// By name.
    fn tokens(&self) -> Result<Vec<StoredToken>>;
    /// Marks a token revoked; `false` when there is no such token or it was already revoked.
    fn revoke_token(&self, name: &str, at: DateTime<Utc>) -> Result<bool>;
    /// Records when a token was last used.
    fn touch_token(&self, token_hash: &str, at: DateTime<Utc>) -> Result<()>;

    fn put_session(&self, session: &StoredSession) -> Result<()>;
    fn session(&self, id_hash: &str) -> Result<Option<StoredSession>>;
    /// Ends a session (logout); ending an unknown one is not an error.
    fn delete_session(&self, id_hash: &str) -> Result<()>;

    /// Binds a certificate to its user; `false` when the fingerprint is already bound (to anyone;
    /// nothing changes).
    fn bind_certificate(&self, cert: &StoredCertificate) -> Result<bool>;
    /// Removes a binding; `false` when the fingerprint was not bound.
    fn unbind_certificate(&self, fingerprint: &str) -> Result<bool>;
    /// The binding of a fingerprint, if any.
    fn certificate(&self, fingerprint: &str) -> Result<Option<StoredCertificate>>;
    /// By user name, then fingerprint.
    fn certificates(&self) -> Result<Vec<StoredCertificate>>;
}

/// A stored role code back to the role.
pub(crate) fn role(code: &str) -> Result<Role> {
    Role::parse(code).ok_or_else(|| crate::StoreError::Corrupt(format!("role `{code}`")))
}
