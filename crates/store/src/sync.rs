//! Store support for sync: merging a whole document sent by the hub, pieces of documents and
//! attachments in transit, attachments the hub holds, and receipt times. Every write is its own
//! transaction and idempotent, so a page applied twice (after a crash before the cursor moved)
//! changes nothing the second time.

use ledger_domain::CaseId;
use ledger_domain::automerge::{Automerge, ReadDoc};
use rusqlite::{OptionalExtension, params};

use crate::blobs::blob_hash;
use crate::book::spliced;
use crate::docs::{Applied, hex};
use crate::error::{Result, StoreError};
use crate::{DocKind, Store};

/// A whole saved document from the hub and the document it loads to, or why it does not load:
/// loaded ahead of its merge, with the others of its page, on the machine's cores
/// ([`Store::preload`]).
pub struct Preloaded<'a> {
    saved: &'a [u8],
    doc: std::result::Result<Automerge, String>,
}

impl<'a> Preloaded<'a> {
    /// Loads `saved` on this thread.
    pub fn load(saved: &'a [u8]) -> Self {
        Self { saved, doc: crate::guarded(|| Automerge::load(saved).map_err(|e| e.to_string())) }
    }

    /// The saved document as it came.
    pub fn saved(&self) -> &'a [u8] {
        self.saved
    }
}

impl Store {
    /// Loads whole saved documents side by side, in order: loading is most of what applying a
    /// page of them costs, and needs no connection.
    pub fn preload(saved: Vec<&[u8]>) -> Vec<Preloaded<'_>> {
        crate::parallel::map(saved, Preloaded::load)
    }

    /// Merges a whole saved document from the hub (an `enter`): new changes are stored as if
    /// they had arrived one by one.
    pub fn merge_remote(&self, id: CaseId, kind: DocKind, saved: &[u8]) -> Result<Applied> {
        self.merge_preloaded(id, kind, Preloaded::load(saved))
    }

    /// [`Store::merge_remote`] of a document [`Store::preload`] loaded.
    pub fn merge_preloaded(
        &self,
        id: CaseId,
        kind: DocKind,
        loaded: Preloaded<'_>,
    ) -> Result<Applied> {
        let Preloaded { saved, doc } = loaded;
        let mut other = doc.map_err(|reason| StoreError::Unloadable { id, reason })?;
        // A document new here (every one of a fresh device's bootstrap) is stored as it came.
        if other.get_missing_deps(&[]).is_empty() {
            match self.adopt_remote(id, kind, other, saved)? {
                Ok(applied) => return Ok(applied),
                Err(held) => other = held,
            }
        }
        let changes: Vec<Vec<u8>> =
            other.get_changes(&[]).iter().map(|c| c.raw_bytes().to_vec()).collect();
        self.apply_remote(id, kind, changes)
    }

    /// Adds a piece of a document arriving in pieces at `offset` (a piece already held is
    /// replaced, so a resent piece does no harm). Returns the whole document once complete.
    pub fn stage_piece(
        &self,
        id: CaseId,
        kind: DocKind,
        offset: u64,
        total: u64,
        piece: &[u8],
    ) -> Result<Option<Vec<u8>>> {
        let w = self.writer();
        let key = id.to_string();
        let held: Vec<u8> = w
            .conn
            .query_row(
                "SELECT bytes FROM staging WHERE case_id = ?1 AND kind = ?2 AND total = ?3",
                params![key, kind.code(), total as i64],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or_default();
        // A gap: start over from what is held; the hub resends from the cursor's offset.
        let Some(bytes) = spliced(&held, offset, piece) else { return Ok(None) };
        if bytes.len() as u64 >= total {
            w.conn.execute(
                "DELETE FROM staging WHERE case_id = ?1 AND kind = ?2",
                params![key, kind.code()],
            )?;
            return Ok(Some(bytes));
        }
        w.conn.execute(
            "INSERT INTO staging (case_id, kind, total, bytes) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(case_id, kind) DO UPDATE SET total = excluded.total, bytes = excluded.bytes",
            params![key, kind.code(), total as i64, bytes],
        )?;
        Ok(None)
    }

    /// Adds a piece of an attachment; stores it once complete and its BLAKE3 matches. Returns
    /// whether the attachment is now here.
    pub fn stage_blob_piece(
        &self,
        hash: &str,
        offset: u64,
        total: u64,
        piece: &[u8],
    ) -> Result<bool> {
        if self.has_blob(hash)? {
            return Ok(true);
        }
        let held: Vec<u8> = {
            let w = self.writer();
            w.conn
                .query_row("SELECT bytes FROM blob_staging WHERE hash = ?1", [hash], |r| r.get(0))
                .optional()?
                .unwrap_or_default()
        };
        let Some(bytes) = spliced(&held, offset, piece) else { return Ok(false) };
        let w = self.writer();
        if bytes.len() as u64 >= total {
            w.conn.execute("DELETE FROM blob_staging WHERE hash = ?1", [hash])?;
            if blob_hash(&bytes) != hash {
                tracing::warn!(%hash, "attachment arrived corrupted; it will be fetched again");
                return Ok(false);
            }
            w.conn.execute(
                "INSERT OR IGNORE INTO blobs (hash, size, bytes) VALUES (?1, ?2, ?3)",
                params![hash, bytes.len() as i64, bytes],
            )?;
            w.conn.execute("INSERT OR IGNORE INTO blob_sent (hash) VALUES (?1)", [hash])?;
            return Ok(true);
        }
        w.conn.execute(
            "INSERT INTO blob_staging (hash, total, bytes) VALUES (?1, ?2, ?3)
             ON CONFLICT(hash) DO UPDATE SET total = excluded.total, bytes = excluded.bytes",
            params![hash, total as i64, bytes],
        )?;
        Ok(false)
    }

    /// How much of an attachment in transit is held.
    pub fn blob_staged(&self, hash: &str) -> Result<u64> {
        let n: Option<i64> = self
            .reader()
            .query_row("SELECT length(bytes) FROM blob_staging WHERE hash = ?1", [hash], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
    }

    /// Attachments stored here that the hub is not known to hold.
    pub fn unsent_blobs(&self, limit: usize) -> Result<Vec<String>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT hash FROM blobs WHERE hash NOT IN (SELECT hash FROM blob_sent) ORDER BY hash LIMIT ?1",
        )?;
        let rows = stmt
            .query_map([limit as i64], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(rows)
    }

    /// Records that the hub holds these attachments.
    pub fn mark_blobs_sent(&self, hashes: &[String]) -> Result<()> {
        let w = self.writer();
        for h in hashes {
            w.conn.execute("INSERT OR IGNORE INTO blob_sent (hash) VALUES (?1)", [h])?;
        }
        Ok(())
    }

    /// Records when the hub received changes (hash, time, case).
    pub fn record_receipts(&self, receipts: &[(String, i64, CaseId)]) -> Result<()> {
        let mut w = self.writer();
        let tx = w.tx()?;
        for (hash, at, case) in receipts {
            tx.execute(
                "INSERT OR IGNORE INTO receipts (hash, received_at, case_id) VALUES (?1, ?2, ?3)",
                params![hash, at, case.to_string()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// When the hub received a change, if known.
    pub fn receipt(&self, hash: &str) -> Result<Option<i64>> {
        Ok(self
            .reader()
            .query_row("SELECT received_at FROM receipts WHERE hash = ?1", [hash], |r| r.get(0))
            .optional()?)
    }

    /// Whether a stored document is waiting for changes it depends on.
    pub fn missing_deps(&self, id: CaseId, kind: DocKind) -> Result<bool> {
        if !self.has_doc(id, kind)? {
            return Ok(false);
        }
        self.with_doc(id, kind, |d| !d.get_missing_deps(&[]).is_empty())
    }

    /// The hash of a change, hex, as the store keys it.
    pub fn change_hash_hex(change: &ledger_domain::automerge::Change) -> String {
        hex(&change.hash())
    }
}
