//! [`Credentials`] on PostgreSQL.

use ::postgres::Row;
use chrono::{DateTime, Utc};

use super::PgStore;
use crate::access::role;
use crate::{Credentials, Result, StoredCertificate, StoredSession, StoredToken, StoredUser};

const USER_COLUMNS: &str = "username, display_name, role, agency, subject_key, password_hash,
     totp_secret, disabled, created_at, updated_at";

const TOKEN_COLUMNS: &str = "name, token_hash, role, agency, subject_key, created_by, created_at,
     expires_at, revoked_at, last_used_at";

fn user_from(r: &Row) -> Result<StoredUser> {
    let role_code: String = r.try_get(2)?;
    Ok(StoredUser {
        username: r.try_get(0)?,
        display_name: r.try_get(1)?,
        role: role(&role_code)?,
        agency: r.try_get(3)?,
        subject: r.try_get(4)?,
        password_hash: r.try_get(5)?,
        totp_secret: r.try_get(6)?,
        disabled: r.try_get(7)?,
        created_at: r.try_get(8)?,
        updated_at: r.try_get(9)?,
    })
}

fn token_from(r: &Row) -> Result<StoredToken> {
    let role_code: String = r.try_get(2)?;
    Ok(StoredToken {
        name: r.try_get(0)?,
        token_hash: r.try_get(1)?,
        role: role(&role_code)?,
        agency: r.try_get(3)?,
        subject: r.try_get(4)?,
        created_by: r.try_get(5)?,
        created_at: r.try_get(6)?,
        expires_at: r.try_get(7)?,
        revoked_at: r.try_get(8)?,
        last_used_at: r.try_get(9)?,
    })
}

impl Credentials for PgStore {
    fn put_user(&self, u: &StoredUser) -> Result<bool> {
        let mut client = self.writer()?;
        let n = client.execute(
            &format!(
                "INSERT INTO users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (username) DO NOTHING"
            ),
            &[
                &u.username,
                &u.display_name,
                &u.role.code(),
                &u.agency,
                &u.subject,
                &u.password_hash,
                &u.totp_secret,
                &u.disabled,
                &u.created_at,
                &u.updated_at,
            ],
        )?;
        Ok(n == 1)
    }

    fn update_user(&self, u: &StoredUser) -> Result<bool> {
        let mut client = self.writer()?;
        let n = client.execute(
            "UPDATE users SET display_name = $2, role = $3, agency = $4, subject_key = $5,
                 password_hash = $6, totp_secret = $7, disabled = $8, updated_at = $9
             WHERE username = $1",
            &[
                &u.username,
                &u.display_name,
                &u.role.code(),
                &u.agency,
                &u.subject,
                &u.password_hash,
                &u.totp_secret,
                &u.disabled,
                &u.updated_at,
            ],
        )?;
        Ok(n == 1)
    }

    fn user(&self, username: &str) -> Result<Option<StoredUser>> {
        let mut client = self.reader()?;
        client
            .query_opt(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1"),
                &[&username],
            )?
            .as_ref()
            .map(user_from)
            .transpose()
    }

    fn users(&self) -> Result<Vec<StoredUser>> {
        let mut client = self.reader()?;
        client
            .query(
                &format!("SELECT {USER_COLUMNS} FROM users ORDER BY username"),
                &[],
            )?
            .iter()
            .map(user_from)
            .collect()
    }

    fn put_token(&self, t: &StoredToken) -> Result<bool> {
        let mut client = self.writer()?;
        let n = client.execute(
            &format!(
                "INSERT INTO api_tokens ({TOKEN_COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING"
            ),
            &[
                &t.name,
                &t.token_hash,
                &t.role.code(),
                &t.agency,
                &t.subject,
                &t.created_by,
                &t.created_at,
                &t.expires_at,
                &t.revoked_at,
                &t.last_used_at,
            ],
        )?;
        Ok(n == 1)
    }

    fn token_by_hash(&self, token_hash: &str) -> Result<Option<StoredToken>> {
        let mut client = self.reader()?;
        client
            .query_opt(
                &format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1"),
                &[&token_hash],
            )?
            .as_ref()
            .map(token_from)
            .transpose()
    }

    fn tokens(&self) -> Result<Vec<StoredToken>> {
        let mut client = self.reader()?;
        client
            .query(
                &format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY name"),
                &[],
            )?
            .iter()
            .map(token_from)
            .collect()
    }

    fn revoke_token(&self, name: &str, at: DateTime<Utc>) -> Result<bool> {
        let mut client = self.writer()?;
        let n = client.execute(
            "UPDATE api_tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
            &[&name, &at],
        )?;
        Ok(n == 1)
    }

    fn touch_token(&self, token_hash: &str, at: DateTime<Utc>) -> Result<()> {
        let mut client = self.writer()?;
        client.execute(
            "UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1",
            &[&token_hash, &at],
        )?;
        Ok(())
    }

    fn put_session(&self, s: &StoredSession) -> Result<()> {
        let mut client = self.writer()?;
        client.execute(
            "INSERT INTO web_sessions (id_hash, username, csrf_token, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &s.id_hash,
                &s.username,
                &s.csrf_token,
                &s.created_at,
                &s.expires_at,
            ],
        )?;
        Ok(())
    }

    fn session(&self, id_hash: &str) -> Result<Option<StoredSession>> {
        let mut client = self.reader()?;
        client
            .query_opt(
                "SELECT id_hash, username, csrf_token, created_at, expires_at FROM web_sessions
                 WHERE id_hash = $1",
                &[&id_hash],
            )?
            .map(|r| {
                Ok(StoredSession {
                    id_hash: r.try_get(0)?,
                    username: r.try_get(1)?,
                    csrf_token: r.try_get(2)?,
                    created_at: r.try_get(3)?,
                    expires_at: r.try_get(4)?,
                })
            })
            .transpose()
    }

    fn delete_session(&self, id_hash: &str) -> Result<()> {
        let mut client = self.writer()?;
        client.execute("DELETE FROM web_sessions WHERE id_hash = $1", &[&id_hash])?;
        Ok(())
    }

    fn bind_certificate(&self, c: &StoredCertificate) -> Result<bool> {
        let mut client = self.writer()?;
        let n = client.execute(
            "INSERT INTO user_certificates (fingerprint, username, bound_by, bound_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (fingerprint) DO NOTHING",
            &[&c.fingerprint, &c.username, &c.bound_by, &c.bound_at],
        )?;
        Ok(n == 1)
    }

    fn unbind_certificate(&self, fingerprint: &str) -> Result<bool> {
        let mut client = self.writer()?;
        let n = client.execute(
            "DELETE FROM user_certificates WHERE fingerprint = $1",
            &[&fingerprint],
        )?;
        Ok(n == 1)
    }

    fn certificate(&self, fingerprint: &str) -> Result<Option<StoredCertificate>> {
        let mut client = self.reader()?;
        client
            .query_opt(
                "SELECT fingerprint, username, bound_by, bound_at FROM user_certificates
                 WHERE fingerprint = $1",
                &[&fingerprint],
            )?
            .as_ref()
            .map(certificate_from)
            .transpose()
    }

    fn certificates(&self) -> Result<Vec<StoredCertificate>> {
        let mut client = self.reader()?;
        client
            .query(
                "SELECT fingerprint, username, bound_by, bound_at FROM user_certificates
                 ORDER BY username, fingerprint",
                &[],
            )?
            .iter()
            .map(certificate_from)
            .collect()
    }
}

fn certificate_from(r: &Row) -> Result<StoredCertificate> {
    Ok(StoredCertificate {
        fingerprint: r.try_get(0)?,
        username: r.try_get(1)?,
        bound_by: r.try_get(2)?,
        bound_at: r.try_get(3)?,
    })
}
