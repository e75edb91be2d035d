//! Attachments as content-addressed blobs: the BLAKE3 hash of the bytes is the key, so a file
//! cited by many cases is stored once.

use rusqlite::{OptionalExtension, params};

use crate::Store;
use crate::error::Result;

/// The BLAKE3 hash of `bytes`, hex.
pub fn blob_hash(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

impl Store {
    /// Stores a blob (once) and returns its hash.
    pub fn put_blob(&self, bytes: &[u8]) -> Result<String> {
        let hash = blob_hash(bytes);
        let w = self.writer();
        w.conn.execute(
            "INSERT OR IGNORE INTO blobs (hash, size, bytes) VALUES (?1, ?2, ?3)",
            params![hash, bytes.len() as i64, bytes],
        )?;
        Ok(hash)
    }

    /// A blob's bytes, if stored here.
    pub fn blob(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .reader()
            .query_row("SELECT bytes FROM blobs WHERE hash = ?1", [hash], |r| r.get(0))
            .optional()?)
    }

    /// Whether a blob is stored here.
    pub fn has_blob(&self, hash: &str) -> Result<bool> {
        Ok(self
            .reader()
            .query_row("SELECT 1 FROM blobs WHERE hash = ?1", [hash], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// The attachments `id` cites (as its index row lists them) that are not stored here yet.
    pub fn missing_blobs(&self, id: ledger_domain::CaseId) -> Result<Vec<String>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT r.hash FROM blob_refs r WHERE r.case_id = ?1
               AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.hash = r.hash) ORDER BY r.hash",
        )?;
        let rows = stmt.query_map([id.to_string()], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many blobs are stored (each once).
    pub fn blob_count(&self) -> Result<u64> {
        let n: i64 = self.reader().query_row("SELECT count(*) FROM blobs", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
