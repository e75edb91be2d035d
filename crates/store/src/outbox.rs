//! The outbox: local changes the hub has not acknowledged, each with its own copy of the bytes.
//! An entry leaves only when acknowledged. Changes the hub refused move to quarantine (with
//! every later change to the same case, which depends on them) for the user to see.

use ledger_domain::CaseId;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::error::Result;
use crate::{DocKind, Store};

/// One unacknowledged local change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Queue order.
    pub seq: i64,
    /// The case.
    pub case_id: CaseId,
    /// Which document.
    pub kind: DocKind,
    /// The change hash (hex).
    pub hash: String,
    /// The change bytes.
    pub bytes: Vec<u8>,
}

/// A change the hub refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct QuarantinedChange {
    /// The case.
    pub case_id: CaseId,
    /// The change hash (hex).
    pub hash: String,
    /// Why, as the hub said.
    pub error: String,
    /// When it was made (device time).
    pub created_at: i64,
}

/// An outbox row. A case id or document kind this version cannot have written is reported:
/// sent as read, a change would go up under another case or document.
fn entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxEntry> {
    let case: String = r.get(1)?;
    let code: i64 = r.get(2)?;
    Ok(OutboxEntry {
        seq: r.get(0)?,
        case_id: case.parse().map_err(|_| damaged(1, "案件标识", &case))?,
        kind: DocKind::from_code(code).ok_or_else(|| damaged(2, "文档类型", &code.to_string()))?,
        hash: r.get(3)?,
        bytes: r.get(4)?,
    })
}

/// A value in the outbox that this version cannot have written.
#[derive(Debug, thiserror::Error)]
#[error("待上传队列中的{what}「{value}」已损坏（请运行 `ledger check --deep` 检查）")]
struct Damaged {
    what: &'static str,
    value: String,
}

fn damaged(i: usize, what: &'static str, value: &str) -> rusqlite::Error {
    let bad = Damaged { what, value: value.to_owned() };
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(bad))
}

/// Queues one local change made at `now`; a change queued already (the same hash) stays as
/// it is. Every outbox entry is written here: by the edit path in the transaction of its
/// change, and by [`crate::SyncBook::enqueue`].
pub(crate) fn insert(
    tx: &Connection,
    case: &str,
    kind: DocKind,
    hash: &str,
    bytes: &[u8],
    now: i64,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO outbox (case_id, kind, hash, bytes, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![case, kind.code(), hash, bytes, now])?;
    Ok(())
}

impl Store {
    /// The oldest unacknowledged changes, at most `max_bytes` of them (but always at least one)
    /// and at most `max_count` (the hub refuses a request of more than it takes).
    pub fn outbox_batch(&self, max_bytes: usize, max_count: usize) -> Result<Vec<OutboxEntry>> {
        let conn = self.reader();
        // The roster's changes go first (the hub judges a township's events against it), then
        // the rest in queue order. Two statements, because one ordering by "roster first" sorts
        // the whole queue every round; this one walks it from the oldest and stops when full.
        let mut roster = conn.prepare_cached(
            "SELECT seq, case_id, kind, hash, bytes FROM outbox
             WHERE quarantined = 0 AND kind = ?1 ORDER BY seq",
        )?;
        let mut rest = conn.prepare_cached(
            "SELECT seq, case_id, kind, hash, bytes FROM outbox NOT INDEXED
             WHERE quarantined = 0 AND kind <> ?1 ORDER BY seq",
        )?;
        let mut out = Vec::new();
        let mut size = 0;
        let code = DocKind::Roster.code();
        // The walk's first step opens the read both statements then see, so a roster change
        // committed between them cannot be missed while an event after it is sent.
        let mut rest = rest.query_map([code], entry)?.peekable();
        rest.peek();
        let roster: Vec<_> = roster.query_map([code], entry)?.collect();
        for r in roster.into_iter().chain(rest) {
            let e = r?;
            if !out.is_empty() && (size + e.bytes.len() > max_bytes || out.len() >= max_count) {
                break;
            }
            size += e.bytes.len();
            out.push(e);
        }
        Ok(out)
    }

    /// Unacknowledged changes still to send (quarantined ones excluded).
    pub fn outbox_len(&self) -> Result<u64> {
        let n: i64 = self
            .reader()
            .prepare_cached("SELECT count(*) FROM outbox WHERE quarantined = 0")?
            .query_row([], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Unacknowledged changes to send of one kind of document (quarantined ones excluded).
    pub fn outbox_len_of_kind(&self, kind: DocKind) -> Result<u64> {
        let n: i64 = self.reader().query_row(
            "SELECT count(*) FROM outbox WHERE quarantined = 0 AND kind = ?1",
            [kind.code()],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The quarantined changes of one case, oldest first.
    pub fn quarantined_for(&self, id: CaseId) -> Result<Vec<QuarantinedChange>> {
        Ok(self.quarantined()?.into_iter().filter(|q| q.case_id == id).collect())
    }

    /// Unacknowledged changes of one case (quarantined ones included).
    pub fn outbox_for_case(&self, id: CaseId) -> Result<u64> {
        let n: i64 = self.reader().query_row(
            "SELECT count(*) FROM outbox WHERE case_id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Drops acknowledged changes from the outbox.
    pub fn acknowledge(&self, hashes: &[String]) -> Result<()> {
        let mut w = self.writer();
        let tx = w.tx()?;
        {
            let mut stmt = tx.prepare_cached("DELETE FROM outbox WHERE hash = ?1")?;
            for h in hashes {
                stmt.execute([h])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Moves refused changes, and every later change to the same cases, to quarantine.
    pub fn quarantine(&self, refused: &[(String, String)]) -> Result<()> {
        let mut w = self.writer();
        let tx = w.tx()?;
        for (hash, error) in refused {
            let found: Option<(String, i64)> = tx
                .query_row("SELECT case_id, seq FROM outbox WHERE hash = ?1", [hash], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            if let Some((case, seq)) = found {
                tx.execute(
                    "UPDATE outbox SET quarantined = 1, error = coalesce(error, ?3)
                     WHERE case_id = ?1 AND seq >= ?2",
                    params![case, seq, error],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The quarantined changes, oldest first.
    pub fn quarantined(&self) -> Result<Vec<QuarantinedChange>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT case_id, hash, coalesce(error, ''), created_at FROM outbox WHERE quarantined = 1 ORDER BY seq",
        )?;
        let rows = stmt
            .query_map([], |r| {
                let case: String = r.get(0)?;
                Ok(QuarantinedChange {
                    case_id: case.parse().unwrap_or(CaseId(uuid::Uuid::nil())),
                    hash: r.get(1)?,
                    error: r.get(2)?,
                    created_at: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Puts a case's quarantined changes back in the queue (after the cause was fixed).
    pub fn release_quarantine(&self, id: CaseId) -> Result<u64> {
        let w = self.writer();
        let n = w.conn.execute(
            "UPDATE outbox SET quarantined = 0, error = NULL WHERE case_id = ?1 AND quarantined = 1",
            [id.to_string()],
        )?;
        Ok(n as u64)
    }
}
