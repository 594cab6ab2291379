//! [`Credentials`] on SQLite.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};

use super::{SqliteStore, parse_timestamp, timestamp};
use crate::access::role;
use crate::{Credentials, Result, StoredCertificate, StoredSession, StoredToken, StoredUser};

const USER_COLUMNS: &str = "username, display_name, role, agency, subject_key, password_hash,
     totp_secret, disabled, created_at, updated_at";

const TOKEN_COLUMNS: &str = "name, token_hash, role, agency, subject_key, created_by, created_at,
     expires_at, revoked_at, last_used_at";

fn opt_time(s: Option<String>) -> Result<Option<DateTime<Utc>>> {
    s.as_deref().map(parse_timestamp).transpose()
}

fn user_from(r: &Row<'_>) -> Result<StoredUser> {
    let role_code: String = r.get(2)?;
    let created: String = r.get(8)?;
    let updated: String = r.get(9)?;
    Ok(StoredUser {
        username: r.get(0)?,
        display_name: r.get(1)?,
        role: role(&role_code)?,
        agency: r.get(3)?,
        subject: r.get(4)?,
        password_hash: r.get(5)?,
        totp_secret: r.get(6)?,
        disabled: r.get::<_, i64>(7)? != 0,
        created_at: parse_timestamp(&created)?,
        updated_at: parse_timestamp(&updated)?,
    })
}

fn token_from(r: &Row<'_>) -> Result<StoredToken> {
    let role_code: String = r.get(2)?;
    let created: String = r.get(6)?;
    Ok(StoredToken {
        name: r.get(0)?,
        token_hash: r.get(1)?,
        role: role(&role_code)?,
        agency: r.get(3)?,
        subject: r.get(4)?,
        created_by: r.get(5)?,
        created_at: parse_timestamp(&created)?,
        expires_at: opt_time(r.get(7)?)?,
        revoked_at: opt_time(r.get(8)?)?,
        last_used_at: opt_time(r.get(9)?)?,
    })
}

impl Credentials for SqliteStore {
    fn put_user(&self, u: &StoredUser) -> Result<bool> {
        let conn = self.writer()?;
        let n = conn.execute(
            &format!(
                "INSERT INTO users ({USER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (username) DO NOTHING"
            ),
            params![
                u.username,
                u.display_name,
                u.role.code(),
                u.agency,
                u.subject,
                u.password_hash,
                u.totp_secret,
                i64::from(u.disabled),
                timestamp(u.created_at),
                timestamp(u.updated_at),
            ],
        )?;
        self.conns.committed();
        Ok(n == 1)
    }

    fn update_user(&self, u: &StoredUser) -> Result<bool> {
        let conn = self.writer()?;
        let n = conn.execute(
            "UPDATE users SET display_name = ?2, role = ?3, agency = ?4, subject_key = ?5,
                 password_hash = ?6, totp_secret = ?7, disabled = ?8, updated_at = ?9
             WHERE username = ?1",
            params![
                u.username,
                u.display_name,
                u.role.code(),
                u.agency,
                u.subject,
                u.password_hash,
                u.totp_secret,
                i64::from(u.disabled),
                timestamp(u.updated_at),
            ],
        )?;
        self.conns.committed();
        Ok(n == 1)
    }

    fn user(&self, username: &str) -> Result<Option<StoredUser>> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = ?1"
        ))?;
        let mut rows = st.query([username])?;
        rows.next()?.map(user_from).transpose()
    }

    fn users(&self) -> Result<Vec<StoredUser>> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY username"
        ))?;
        let mut rows = st.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(user_from(r)?);
        }
        Ok(out)
    }

    fn put_token(&self, t: &StoredToken) -> Result<bool> {
        let conn = self.writer()?;
        let n = conn.execute(
            &format!(
                "INSERT INTO api_tokens ({TOKEN_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING"
            ),
            params![
                t.name,
                t.token_hash,
                t.role.code(),
                t.agency,
                t.subject,
                t.created_by,
                timestamp(t.created_at),
                t.expires_at.map(timestamp),
                t.revoked_at.map(timestamp),
                t.last_used_at.map(timestamp),
            ],
        )?;
        self.conns.committed();
        Ok(n == 1)
    }

    fn token_by_hash(&self, token_hash: &str) -> Result<Option<StoredToken>> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = ?1"
        ))?;
        let mut rows = st.query([token_hash])?;
        rows.next()?.map(token_from).transpose()
    }

    fn tokens(&self) -> Result<Vec<StoredToken>> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY name"
        ))?;
        let mut rows = st.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(token_from(r)?);
        }
        Ok(out)
    }

    fn revoke_token(&self, name: &str, at: DateTime<Utc>) -> Result<bool> {
        let conn = self.writer()?;
        let n = conn.execute(
            "UPDATE api_tokens SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
            params![name, timestamp(at)],
        )?;
        self.conns.committed();
        Ok(n == 1)
    }

    fn touch_token(&self, token_hash: &str, at: DateTime<Utc>) -> Result<()> {
        let conn = self.writer()?;
        conn.execute(
            "UPDATE api_tokens SET last_used_at = ?2 WHERE token_hash = ?1",
            params![token_hash, timestamp(at)],
        )?;
        self.conns.committed();
        Ok(())
    }

    fn put_session(&self, s: &StoredSession) -> Result<()> {
        let conn = self.writer()?;
        conn.execute(
            "INSERT INTO web_sessions (id_hash, username, csrf_token, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                s.id_hash,
                s.username,
                s.csrf_token,
                timestamp(s.created_at),
                timestamp(s.expires_at)
            ],
        )?;
        self.conns.committed();
        Ok(())
    }

    fn session(&self, id_hash: &str) -> Result<Option<StoredSession>> {
        let conn = self.reader()?;
        let row = conn
            .query_row(
                "SELECT id_hash, username, csrf_token, created_at, expires_at FROM web_sessions
                 WHERE id_hash = ?1",
                [id_hash],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(id_hash, username, csrf_token, created, expires)| {
            Ok(StoredSession {
                id_hash,
                username,
                csrf_token,
                created_at: parse_timestamp(&created)?,
                expires_at: parse_timestamp(&expires)?,
            })
        })
        .transpose()
    }

    fn delete_session(&self, id_hash: &str) -> Result<()> {
        let conn = self.writer()?;
        conn.execute("DELETE FROM web_sessions WHERE id_hash = ?1", [id_hash])?;
        self.conns.committed();
        Ok(())
    }

    fn bind_certificate(&self, c: &StoredCertificate) -> Result<bool> {
        let conn = self.writer()?;
        let n = conn.execute(
            "INSERT INTO user_certificates (fingerprint, username, bound_by, bound_at)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (fingerprint) DO NOTHING",
            params![c.fingerprint, c.username, c.bound_by, timestamp(c.bound_at)],
        )?;
        self.conns.committed();
        Ok(n == 1)
    }

    fn unbind_certificate(&self, fingerprint: &str) -> Result<bool> {
        let conn = self.writer()?;
        let n = conn.execute(
            "DELETE FROM user_certificates WHERE fingerprint = ?1",
            [fingerprint],
        )?;
        self.conns.committed();
        Ok(n == 1)
    }

    fn certificate(&self, fingerprint: &str) -> Result<Option<StoredCertificate>> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(
            "SELECT fingerprint, username, bound_by, bound_at FROM user_certificates
             WHERE fingerprint = ?1",
        )?;
        let mut rows = st.query([fingerprint])?;
        rows.next()?.map(certificate_from).transpose()
    }

    fn certificates(&self) -> Result<Vec<StoredCertificate>> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(
            "SELECT fingerprint, username, bound_by, bound_at FROM user_certificates
             ORDER BY username, fingerprint",
        )?;
        let mut rows = st.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(certificate_from(r)?);
        }
        Ok(out)
    }
}

fn certificate_from(r: &Row<'_>) -> Result<StoredCertificate> {
    let bound: String = r.get(3)?;
    Ok(StoredCertificate {
        fingerprint: r.get(0)?,
        username: r.get(1)?,
        bound_by: r.get(2)?,
        bound_at: parse_timestamp(&bound)?,
    })
}
