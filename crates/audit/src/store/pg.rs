//! PostgreSQL backend through the blocking `postgres` client.
//!
//! Two appenders on one database (several server processes) are safe: each reads `MAX(seq)`
//! inside its transaction and catches up first; if both insert the same `seq`, the primary key
//! rejects the second, which rolls back, catches up and retries (see the writer).

use postgres::{Client, NoTls};

use super::{AuditStore, RawRow, head_from_columns};
use crate::sign::TreeHead;
use crate::{Error, Result};

/// Serialises the `CREATE TABLE IF NOT EXISTS` of processes starting at once (they can otherwise
/// collide on the catalogue). Arbitrary constant: "audit" in ASCII.
const MIGRATION_LOCK: i64 = 0x0061_7564_6974;

const MIGRATION: &str = "
CREATE TABLE IF NOT EXISTS audit_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_entries (
    seq        BIGINT PRIMARY KEY,
    leaf_hash  TEXT NOT NULL,
    chain_hash TEXT NOT NULL,
    entry      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_tree_heads (
    size           BIGINT NOT NULL,
    root           TEXT NOT NULL,
    at             TEXT NOT NULL,
    hash_algorithm TEXT NOT NULL,
    algorithm      TEXT NOT NULL,
    key_id         TEXT NOT NULL,
    signature      TEXT NOT NULL,
    PRIMARY KEY (size, at, key_id)
);
";

pub(crate) struct PgStore {
    client: Client,
}

impl PgStore {
    pub(crate) fn open(url: &str, migrate: bool) -> Result<Self> {
        let mut client = Client::connect(url, NoTls)?;
        if !migrate {
            return Ok(PgStore { client });
        }
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        tx.batch_execute(MIGRATION)?;
        tx.commit()?;
        Ok(PgStore { client })
    }
}

fn raw(r: &postgres::Row) -> Result<RawRow> {
    Ok(RawRow {
        seq: r.try_get(0)?,
        leaf_hash: r.try_get(1)?,
        chain_hash: r.try_get(2)?,
        entry: r.try_get(3)?,
    })
}

impl AuditStore for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn begin(&mut self) -> Result<()> {
        self.client.batch_execute("BEGIN")?;
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        self.client.batch_execute("COMMIT")?;
        Ok(())
    }

    fn rollback(&mut self) {
        let _ = self.client.batch_execute("ROLLBACK");
    }

    fn max_seq(&mut self) -> Result<u64> {
        let row = self
            .client
            .query_one("SELECT MAX(seq) FROM audit_entries", &[])?;
        let m: Option<i64> = row.try_get(0)?;
        Ok(m.unwrap_or(0).max(0) as u64)
    }

    fn hashes_from(&mut self, from: u64) -> Result<Vec<(i64, String, String)>> {
        let rows = self.client.query(
            "SELECT seq, leaf_hash, chain_hash FROM audit_entries WHERE seq >= $1 ORDER BY seq",
            &[&(from as i64)],
        )?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    fn insert_entries(&mut self, rows: &[RawRow]) -> Result<()> {
        // Multi-row INSERTs of up to 500 rows: one round trip per chunk instead of per entry.
        for chunk in rows.chunks(500) {
            let mut sql = String::from(
                "INSERT INTO audit_entries (seq, leaf_hash, chain_hash, entry) VALUES ",
            );
            let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> =
                Vec::with_capacity(chunk.len() * 4);
            for (i, r) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(',');
                }
                let b = i * 4;
                sql.push_str(&format!("(${},${},${},${})", b + 1, b + 2, b + 3, b + 4));
                params.push(&r.seq);
                params.push(&r.leaf_hash);
                params.push(&r.chain_hash);
                params.push(&r.entry);
            }
            self.client.execute(sql.as_str(), &params)?;
        }
        Ok(())
    }

    fn insert_head(&mut self, h: &TreeHead) -> Result<()> {
        self.client.execute(
            "INSERT INTO audit_tree_heads (size, root, at, hash_algorithm, algorithm, key_id, signature)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &(h.size as i64),
                &h.root,
                &h.at_text(),
                &h.hash_algorithm.code(),
                &h.algorithm.code(),
                &h.key_id,
                &h.signature,
            ],
        )?;
        Ok(())
    }

    fn rows(&mut self, from: i64, limit: usize) -> Result<Vec<RawRow>> {
        let rows = self.client.query(
            "SELECT seq, leaf_hash, chain_hash, entry FROM audit_entries
             WHERE seq >= $1 ORDER BY seq LIMIT $2",
            &[&from, &(limit as i64)],
        )?;
        rows.iter().map(raw).collect()
    }

    fn row(&mut self, seq: i64) -> Result<Option<RawRow>> {
        let rows = self.client.query(
            "SELECT seq, leaf_hash, chain_hash, entry FROM audit_entries WHERE seq = $1",
            &[&seq],
        )?;
        rows.first().map(raw).transpose()
    }

    fn heads(&mut self) -> Result<Vec<TreeHead>> {
        let rows = self.client.query(
            "SELECT size, root, at, hash_algorithm, algorithm, key_id, signature
             FROM audit_tree_heads ORDER BY size, at",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                head_from_columns(
                    r.try_get(0)?,
                    r.try_get(1)?,
                    r.try_get(2)?,
                    r.try_get(3)?,
                    r.try_get(4)?,
                    r.try_get(5)?,
                    r.try_get(6)?,
                )
            })
            .collect()
    }

    fn meta(&mut self, key: &str) -> Result<Option<String>> {
        let rows = self
            .client
            .query("SELECT value FROM audit_meta WHERE key = $1", &[&key])?;
        rows.first()
            .map(|r| r.try_get(0).map_err(Error::from))
            .transpose()
    }

    fn init_meta(&mut self, key: &str, value: &str) -> Result<String> {
        self.client.execute(
            "INSERT INTO audit_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            &[&key, &value],
        )?;
        self.meta(key)?
            .ok_or_else(|| Error::Corrupt(format!("audit_meta `{key}` vanished")))
    }
}
