//! Secrets of authentication, made and checked in one place: API tokens (random, shown once, stored
//! as a SHA-256 hash), passwords (argon2id PHC strings), TOTP second factors (RFC 6238: HMAC-SHA1,
//! 30-second steps, 6 digits) and web session ids. The CLI's `token` and `user` commands and the
//! server both use these, so a token made by one is read by the other.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use creditloop_audit::{Action, AuditLog, NewEntry};
use creditloop_domain::access::{Principal, Role};
use creditloop_store::{Store, StoredCertificate, StoredToken, StoredUser};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};

/// Every API token starts with this, so a leaked one is recognisable (secret scanners) and a
/// password pasted by mistake is not looked up.
pub const TOKEN_PREFIX: &str = "clt_";

/// An error of credential handling, with a Chinese and an English message.
#[derive(Debug, thiserror::Error)]
#[error("{en}")]
pub struct CredentialError {
    pub zh: String,
    pub en: String,
}

impl CredentialError {
    fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        CredentialError {
            zh: zh.into(),
            en: en.into(),
        }
    }
}

impl From<creditloop_store::StoreError> for CredentialError {
    fn from(e: creditloop_store::StoreError) -> Self {
        CredentialError::new(format!("存储错误：{e}"), e.to_string())
    }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

/// A new API token: `clt_` and 32 random bytes in base64url (43 characters).
pub fn new_token() -> String {
    let bytes: [u8; 32] = random_bytes();
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// A new random id (web sessions, CSRF tokens): 32 bytes, base64url.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = random_bytes();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 (hex) of a token or session id: what is stored and looked up. The secrets are random and
/// long, so a fast hash suffices (no dictionary to guess from).
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `s` has the shape of a token (prefix, 43 base64url characters).
pub fn looks_like_token(s: &str) -> bool {
    s.strip_prefix(TOKEN_PREFIX).is_some_and(|rest| {
        rest.len() == 43
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// The argon2id PHC string of a password.
pub fn hash_password(password: &str) -> Result<String, CredentialError> {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CredentialError::new(format!("无法计算口令散列：{e}"), e.to_string()))
}

/// Whether `password` matches a PHC string; a malformed stored string matches nothing.
pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Passwords shorter than this are refused.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Refuses short passwords.
pub fn check_password_strength(password: &str) -> Result<(), CredentialError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(CredentialError::new(
            format!("口令至少 {MIN_PASSWORD_CHARS} 个字符"),
            format!("a password needs at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding (how authenticator apps take TOTP secrets).
pub fn base32_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(5) * 8);
    let mut buf: u64 = 0;
    let mut bits = 0u32;
    for &b in data {
        buf = (buf << 8) | u64::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buf >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buf << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decodes base32 (case-insensitive, spaces and padding ignored); `None` on another character.
pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let mut buf: u64 = 0;
    let mut bits = 0u32;
    for c in s.bytes().filter(|c| !matches!(c, b' ' | b'=' | b'-')) {
        let v = BASE32.iter().position(|&x| x == c.to_ascii_uppercase())? as u64;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buf >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// A new TOTP secret (20 random bytes, the RFC 4226 recommendation), base32.
pub fn new_totp_secret() -> String {
    base32_encode(&random_bytes::<20>())
}

/// The `otpauth://` URI an authenticator app reads (as text or a QR code).
pub fn totp_uri(username: &str, secret: &str) -> String {
    format!(
        "otpauth://totp/creditloop:{}?secret={secret}&issuer=creditloop&algorithm=SHA1&digits=6&period=30",
        urlencoding::encode(username)
    )
}

/// The 6-digit code of a secret for the 30-second step `counter` (RFC 6238 with RFC 4226's
/// dynamic truncation).
pub fn totp_code(secret: &[u8], counter: u64) -> u32 {
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(secret) else {
        // HMAC takes keys of any length; this branch is unreachable in practice.
        return u32::MAX;
    };
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = usize::from(h[19] & 0x0f);
    let bin = (u32::from(h[offset]) & 0x7f) << 24
        | u32::from(h[offset + 1]) << 16
        | u32::from(h[offset + 2]) << 8
        | u32::from(h[offset + 3]);
    bin % 1_000_000
}

/// Whether `code` is the TOTP code of `secret_b32` at `now`, one step of clock drift either way.
pub fn verify_totp(secret_b32: &str, code: &str, now: DateTime<Utc>) -> bool {
    let code = code.trim();
    let Some(secret) = base32_decode(secret_b32) else {
        return false;
    };
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Ok(given) = code.parse::<u32>() else {
        return false;
    };
    let step = (now.timestamp().max(0) as u64) / 30;
    // Every candidate is computed, so the time taken does not say which step matched.
    let mut ok = false;
    for c in [step.saturating_sub(1), step, step + 1] {
        ok |= totp_code(&secret, c) == given;
    }
    ok
}

/// The principal a stored token stands for.
pub fn token_principal(t: &StoredToken) -> Principal {
    Principal {
        user_id: format!("token:{}", t.name),
        role: t.role,
        agency: t.agency.clone(),
        subject: t.subject.clone(),
    }
}

/// The principal a user stands for.
pub fn user_principal(u: &StoredUser) -> Principal {
    Principal {
        user_id: u.username.clone(),
        role: u.role,
        agency: u.agency.clone(),
        subject: u.subject.clone(),
    }
}

/// Checks that role, agency and subject fit together (the domain's rule) and normalises the agency
/// code, which must be a valid unified code.
pub fn fit_role(
    role: Role,
    agency: Option<&str>,
    subject: Option<&str>,
) -> Result<(Option<String>, Option<String>), CredentialError> {
    let agency = agency
        .map(creditloop_domain::ids::normalize)
        .filter(|a| !a.is_empty());
    if let Some(a) = &agency
        && let Err(e) = creditloop_domain::ids::Uscc::parse(a)
    {
        return Err(CredentialError::new(
            format!("部门代码“{a}”无效：{}", e.zh()),
            format!("agency code `{a}` is invalid: {e}"),
        ));
    }
    let subject = subject
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    Principal::new("-", role, agency.clone(), subject.clone())
        .map_err(|e| CredentialError::new(e.zh(), e.to_string()))?;
    Ok((agency, subject))
}

/// What to issue a token for.
pub struct TokenRequest<'a> {
    pub name: &'a str,
    pub role: Role,
    pub agency: Option<&'a str>,
    pub subject: Option<&'a str>,
    /// Days until it expires; `None` never.
    pub days: Option<u32>,
    /// Who issues it (the audit actor).
    pub created_by: &'a str,
}

/// Issues a token: stores its hash, audits the grant (权限变更), and returns the token, which is
/// never shown again.
pub fn issue_token(
    store: &dyn Store,
    audit: &AuditLog,
    req: &TokenRequest<'_>,
) -> Result<(String, StoredToken), CredentialError> {
    let name = req.name.trim();
    if name.is_empty() || name.len() > 64 || name.chars().any(char::is_whitespace) {
        return Err(CredentialError::new(
            "令牌名称须为 1 到 64 个字符，不含空白",
            "a token name has 1 to 64 characters and no spaces",
        ));
    }
    let (agency, subject) = fit_role(req.role, req.agency, req.subject)?;
    let token = new_token();
    let now = Utc::now();
    let row = StoredToken {
        name: name.to_string(),
        token_hash: secret_hash(&token),
        role: req.role,
        agency,
        subject,
        created_by: req.created_by.to_string(),
        created_at: now,
        expires_at: req.days.map(|d| now + Duration::days(i64::from(d))),
        revoked_at: None,
        last_used_at: None,
    };
    if !store.put_token(&row)? {
        return Err(CredentialError::new(
            format!("已有名为“{name}”的令牌"),
            format!("a token named `{name}` exists already"),
        ));
    }
    let mut entry = NewEntry::new(req.created_by, Action::PermissionChange)
        .object(format!("token:{name}"))
        .detail(json!({
            "change": "token_created", "role": row.role.code(),
            "expires_at": row.expires_at,
        }));
    if let Some(a) = &row.agency {
        entry = entry.agency(a.clone());
    }
    crate::audit::append_blocking(audit, entry).map_err(|e| CredentialError::new(e.clone(), e))?;
    Ok((token, row))
}

/// Revokes a token by name and audits it; `false` when there is no such live token.
pub fn revoke_token(
    store: &dyn Store,
    audit: &AuditLog,
    name: &str,
    by: &str,
) -> Result<bool, CredentialError> {
    if !store.revoke_token(name, Utc::now())? {
        return Ok(false);
    }
    let entry = NewEntry::new(by, Action::PermissionChange)
        .object(format!("token:{name}"))
        .detail(json!({"change": "token_revoked"}));
    crate::audit::append_blocking(audit, entry).map_err(|e| CredentialError::new(e.clone(), e))?;
    Ok(true)
}

/// Binds the client certificate in `pem` (its first certificate) to a user and audits the grant
/// (权限变更). The certificate is not checked against the client CA here: one the CA did not issue
/// never completes a TLS handshake.
pub fn bind_certificate(
    store: &dyn Store,
    audit: &AuditLog,
    username: &str,
    pem: &[u8],
    by: &str,
) -> Result<StoredCertificate, CredentialError> {
    let fingerprint = crate::tls::pem_fingerprint(pem)
        .map_err(|e| CredentialError::new(format!("无法读取证书（PEM）：{e}"), e.to_string()))?;
    let Some(user) = store.user(username)? else {
        return Err(CredentialError::new(
            format!("没有用户“{username}”"),
            format!("no user `{username}`"),
        ));
    };
    let cert = StoredCertificate {
        fingerprint,
        username: user.username.clone(),
        bound_by: by.to_string(),
        bound_at: Utc::now(),
    };
    if !store.bind_certificate(&cert)? {
        let holder = store
            .certificate(&cert.fingerprint)?
            .map(|c| c.username)
            .unwrap_or_default();
        return Err(CredentialError::new(
            format!("该证书已绑定用户“{holder}”"),
            format!("the certificate is bound to `{holder}` already"),
        ));
    }
    let mut entry = NewEntry::new(by, Action::PermissionChange)
        .object(user.username.clone())
        .detail(json!({
            "change": "certificate_bound", "role": user.role.code(),
            "fingerprint": cert.fingerprint,
        }));
    if let Some(a) = &user.agency {
        entry = entry.agency(a.clone());
    }
    crate::audit::append_blocking(audit, entry).map_err(|e| CredentialError::new(e.clone(), e))?;
    Ok(cert)
}

/// Removes the binding of a certificate fingerprint and audits it; `None` when it was not bound.
pub fn unbind_certificate(
    store: &dyn Store,
    audit: &AuditLog,
    fingerprint: &str,
    by: &str,
) -> Result<Option<StoredCertificate>, CredentialError> {
    let fingerprint = fingerprint.trim().to_ascii_lowercase().replace(':', "");
    let Some(cert) = store.certificate(&fingerprint)? else {
        return Ok(None);
    };
    if !store.unbind_certificate(&fingerprint)? {
        return Ok(None);
    }
    let entry = NewEntry::new(by, Action::PermissionChange)
        .object(cert.username.clone())
        .detail(json!({"change": "certificate_unbound", "fingerprint": fingerprint}));
    crate::audit::append_blocking(audit, entry).map_err(|e| CredentialError::new(e.clone(), e))?;
    Ok(Some(cert))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_their_shape_and_differ() {
        let a = new_token();
        let b = new_token();
        assert!(looks_like_token(&a), "{a}");
        assert_ne!(a, b);
        assert_eq!(secret_hash(&a).len(), 64);
        assert!(!looks_like_token("clt_short"));
        assert!(!looks_like_token(&a.replace("clt_", "xyz_")));
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse battery").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("x", "not a phc string"));
        assert!(check_password_strength("short").is_err());
    }

    #[test]
    fn base32_round_trips() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("MZXW6YTBOI").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(
            base32_decode("mzxw6ytboi======").as_deref(),
            Some(&b"foobar"[..])
        );
        assert_eq!(base32_decode("MZ1"), None);
    }

    /// RFC 6238 appendix B, SHA-1 (the 8-digit values, last 6 digits).
    #[test]
    fn totp_matches_rfc6238() {
        let secret = b"12345678901234567890";
        for (t, code) in [
            (59u64, 94287082u32),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
        ] {
            assert_eq!(totp_code(secret, t / 30), code % 1_000_000, "t={t}");
        }
        let b32 = base32_encode(secret);
        let now = DateTime::from_timestamp(1111111109, 0).expect("time");
        assert!(verify_totp(&b32, "081804", now));
        assert!(
            verify_totp(&b32, "081804", now + Duration::seconds(30)),
            "one step of drift"
        );
        assert!(!verify_totp(&b32, "081804", now + Duration::seconds(95)));
        assert!(!verify_totp(&b32, "81804", now));
        assert!(!verify_totp(&b32, "abcdef", now));
    }
}
