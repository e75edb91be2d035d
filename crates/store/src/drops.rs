//! Identity drops waiting for the hub, and number blocks leased from it.
//!
//! A drop holds identities typed here for a case whose identity this office may not hold (a
//! 检举控告 or confidential case): they go to the bureau outside the case's Automerge history,
//! so no history here keeps them, and are deleted once the hub has merged them. With
//! `secure_delete` on, the freed pages are zeroed; the WAL is checkpointed and truncated so no
//! old copy of the page lingers there.
//!
//! Number blocks: the hub leases each device blocks of a number series (official numbers,
//! document numbers), so numbers stay unique across an office's devices and can still be
//! issued offline.

use ledger_domain::CaseId;
use rusqlite::{OptionalExtension, params};

use crate::Store;
use crate::docs::{DropRecord, checkpoint};
use crate::error::Result;

impl Store {
    /// Drops not yet merged at the hub, oldest first, at most `limit`.
    pub fn pending_drops(&self, limit: usize) -> Result<Vec<DropRecord>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT id, case_id, persons, error FROM drops ORDER BY created_at, id LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            let case: String = r.get(1)?;
            Ok((r.get::<_, String>(0)?, case, r.get::<_, String>(2)?, r.get(3)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, case, persons, error) = row?;
            let Ok(case_id) = case.parse::<CaseId>() else { continue };
            out.push(DropRecord { id, case_id, persons, error });
        }
        Ok(out)
    }

    /// Drops of one case still waiting (for the case screen).
    pub fn drops_for(&self, id: CaseId) -> Result<Vec<DropRecord>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT id, persons, error FROM drops WHERE case_id = ?1 ORDER BY created_at, id",
        )?;
        let rows = stmt.query_map([id.to_string()], |r| {
            Ok(DropRecord { id: r.get(0)?, case_id: id, persons: r.get(1)?, error: r.get(2)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Deletes drops the hub has merged: their pages are overwritten and the WAL truncated.
    pub fn ack_drops(&self, ids: &[String]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut w = self.writer();
        let tx = w.tx()?;
        for id in ids {
            tx.execute("DELETE FROM drops WHERE id = ?1", [id])?;
        }
        tx.commit()?;
        checkpoint(&mut w);
        Ok(())
    }

    /// Records why the hub refused a drop (it stays, and is sent again).
    pub fn refuse_drop(&self, id: &str, reason: &str) -> Result<()> {
        self.writer()
            .conn
            .execute("UPDATE drops SET error = ?2 WHERE id = ?1", params![id, reason])?;
        Ok(())
    }

    /// Adds number blocks the hub leased.
    pub fn add_number_blocks(&self, blocks: &[(String, u64, u64)]) -> Result<()> {
        if blocks.is_empty() {
            return Ok(());
        }
        let mut w = self.writer();
        let tx = w.tx()?;
        for (series, start, end) in blocks {
            if end < start {
                continue;
            }
            let (Ok(start), Ok(end)) = (i64::try_from(*start), i64::try_from(*end)) else {
                continue;
            };
            // The same block twice (a response applied again) is kept once, used or not.
            let known: Option<i64> = tx
                .query_row(
                    "SELECT 1 FROM number_blocks WHERE series = ?1 AND start_at = ?2",
                    params![series, start],
                    |r| r.get(0),
                )
                .optional()?;
            if known.is_none() {
                tx.execute(
                    "INSERT INTO number_blocks (series, start_at, next, end) VALUES (?1, ?2, ?2, ?3)",
                    params![series, start, end],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Takes the next number of a series from the leased blocks, or `None` when none is left.
    pub fn take_number(&self, series: &str) -> Result<Option<u64>> {
        let mut w = self.writer();
        let tx = w.tx()?;
        let block: Option<(i64, i64)> = tx
            .query_row(
                "SELECT id, next FROM number_blocks WHERE series = ?1 AND next <= end ORDER BY next LIMIT 1",
                [series],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((id, next)) = block else {
            // Nothing was written, but an uncommitted write fails the batch it is part of.
            tx.commit()?;
            return Ok(None);
        };
        // A used-up block stays, so the same block arriving again (an old return bundle
        // imported twice) is known and never issued again.
        tx.execute("UPDATE number_blocks SET next = next + 1 WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(u64::try_from(next).ok())
    }

    /// How many numbers of a series are still free here.
    pub fn numbers_left(&self, series: &str) -> Result<u64> {
        let n: i64 = self.reader().query_row(
            "SELECT coalesce(sum(end - next + 1), 0) FROM number_blocks WHERE series = ?1 AND next <= end",
            [series],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The value a local counter has reached (numbers issued before leases), or 0.
    pub fn counter_value(&self, name: &str) -> Result<u64> {
        let n: Option<i64> = self
            .reader()
            .query_row("SELECT value FROM counters WHERE name = ?1", [name], |r| r.get(0))
            .optional()?;
        Ok(n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
    }
}
