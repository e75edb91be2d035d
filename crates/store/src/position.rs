//! 同步进度: the office's place in the hub's log, kept in typed columns (`sync_position`, one
//! row). The wire's cursor is opaque to the office; the office converts it to a
//! [`SyncPosition`] to keep it, and a row that does not read back as one (a damaged file, a
//! value no hub sends) is reported as [`StoreError::BadSyncPosition`], never taken as zero.

use ledger_domain::CaseId;
use rusqlite::{OptionalExtension, Row, params};

use crate::error::{Result, StoreError};
use crate::{DocKind, Store};

/// Where the position used to be kept, as JSON (read once, removed on the first write).
pub const LEGACY_META_KEY: &str = "sync.cursor";

/// 同步进度: the hub log sequence this office has applied, and any download in progress.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncPosition {
    /// The log sequence number applied.
    pub seq: u64,
    /// A fresh office's initial download in progress.
    pub bootstrap: Option<BootstrapPosition>,
    /// A document arriving in pieces.
    pub partial: Option<PartialPosition>,
}

/// 初次下载进度: the log position the snapshot is taken at, and the last document received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapPosition {
    /// The log position normal paging resumes after.
    pub head: u64,
    /// The last (case, kind) received.
    pub after: Option<(CaseId, DocKind)>,
}

/// 分段接收进度: a document too large for one page, arriving in pieces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialPosition {
    /// The case.
    pub case_id: CaseId,
    /// Which document.
    pub kind: DocKind,
    /// The heads the pieces are cut from (64 hex digits each).
    pub heads: Vec<String>,
    /// Bytes received.
    pub offset: u64,
}

fn bad(what: impl Into<String>) -> StoreError {
    StoreError::BadSyncPosition(what.into())
}

fn unsigned(value: Option<i64>, column: &str) -> Result<Option<u64>> {
    value.map(|v| u64::try_from(v).map_err(|_| bad(format!("{column} 为负数")))).transpose()
}

fn signed(value: u64, column: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| bad(format!("{column} 超出范围")))
}

fn case_of(text: &str, column: &str) -> Result<CaseId> {
    text.parse().map_err(|_| bad(format!("{column} 不是案件标识")))
}

fn kind_of(code: i64, column: &str) -> Result<DocKind> {
    DocKind::from_code(code).ok_or_else(|| bad(format!("{column} 不是文档类别")))
}

/// The row's columns, as stored.
pub(crate) type RawRow = (i64, Option<i64>, Option<String>, Option<i64>, RawPartial);
pub(crate) type RawPartial = (Option<String>, Option<i64>, Option<String>, Option<i64>);

fn raw(r: &Row<'_>) -> rusqlite::Result<RawRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, (r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)))
}

/// Reads a stored row back as a position; pure, so every impossible row is tested.
pub(crate) fn decode(row: RawRow) -> Result<SyncPosition> {
    let (seq, head, after_case, after_kind, (p_case, p_kind, p_heads, p_offset)) = row;
    let seq = unsigned(Some(seq), "seq")?.unwrap_or_default();
    let after = match (after_case, after_kind) {
        (Some(case), Some(kind)) => {
            Some((case_of(&case, "bootstrap_after_case")?, kind_of(kind, "bootstrap_after_kind")?))
        }
        (None, None) => None,
        _ => return Err(bad("初次下载的位置不完整")),
    };
    let bootstrap = match unsigned(head, "bootstrap_head")? {
        Some(head) => Some(BootstrapPosition { head, after }),
        None if after.is_some() => return Err(bad("初次下载的位置不完整")),
        None => None,
    };
    let partial = match (p_case, p_kind, p_heads, unsigned(p_offset, "partial_offset")?) {
        (Some(case), Some(kind), Some(heads), Some(offset)) => {
            // No heads is stored as "" (a hub never sends that for a document in pieces, but
            // whatever was stored must read back).
            let heads: Vec<String> = match heads.as_str() {
                "" => Vec::new(),
                text => text.split(',').map(str::to_owned).collect(),
            };
            if heads.iter().any(|h| h.len() != 64 || hex::decode(h).is_err()) {
                return Err(bad("分段接收的版本号不是哈希"));
            }
            Some(PartialPosition {
                case_id: case_of(&case, "partial_case")?,
                kind: kind_of(kind, "partial_kind")?,
                heads,
                offset,
            })
        }
        (None, None, None, None) => None,
        _ => return Err(bad("分段接收的位置不完整")),
    };
    Ok(SyncPosition { seq, bootstrap, partial })
}

/// A position as the row stores it; pure, and read back by [`decode`] as it was whenever its
/// heads are hashes. A position no row can hold (a number past `i64::MAX`, a head with a
/// comma) is refused here, before anything is written; both books store through it.
pub(crate) fn encode(position: &SyncPosition) -> Result<RawRow> {
    let (head, after_case, after_kind) = match &position.bootstrap {
        Some(b) => (
            Some(signed(b.head, "bootstrap_head")?),
            b.after.map(|(case, _)| case.to_string()),
            b.after.map(|(_, kind)| kind.code()),
        ),
        None => (None, None, None),
    };
    let partial = match &position.partial {
        Some(p) => {
            if p.heads.iter().any(|h| h.contains(',')) {
                return Err(bad("分段接收的版本号有误"));
            }
            (
                Some(p.case_id.to_string()),
                Some(p.kind.code()),
                Some(p.heads.join(",")),
                Some(signed(p.offset, "partial_offset")?),
            )
        }
        None => (None, None, None, None),
    };
    Ok((signed(position.seq, "seq")?, head, after_case, after_kind, partial))
}

impl Store {
    /// The office's place in the hub's log: `None` before the first page was applied (or
    /// while it is still kept the old way, under [`LEGACY_META_KEY`]).
    pub fn sync_position(&self) -> Result<Option<SyncPosition>> {
        let row = self
            .reader()
            .query_row(
                "SELECT seq, bootstrap_head, bootstrap_after_case, bootstrap_after_kind,
                        partial_case, partial_kind, partial_heads, partial_offset
                 FROM sync_position WHERE id = 1",
                [],
                raw,
            )
            .optional()?;
        row.map(decode).transpose()
    }

    /// Keeps the office's place (inside a batch, with the page it follows), and removes the
    /// legacy JSON value.
    pub fn set_sync_position(&self, position: &SyncPosition) -> Result<()> {
        let (seq, head, after_case, after_kind, partial) = encode(position)?;
        let mut w = self.writer();
        let tx = w.tx()?;
        tx.execute(
            "INSERT INTO sync_position (id, seq, bootstrap_head, bootstrap_after_case,
                 bootstrap_after_kind, partial_case, partial_kind, partial_heads, partial_offset)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT(id) DO UPDATE SET seq = excluded.seq,
                 bootstrap_head = excluded.bootstrap_head,
                 bootstrap_after_case = excluded.bootstrap_after_case,
                 bootstrap_after_kind = excluded.bootstrap_after_kind,
                 partial_case = excluded.partial_case, partial_kind = excluded.partial_kind,
                 partial_heads = excluded.partial_heads, partial_offset = excluded.partial_offset",
            params![seq, head, after_case, after_kind, partial.0, partial.1, partial.2, partial.3],
        )?;
        tx.execute("DELETE FROM meta WHERE key = ?1", [LEGACY_META_KEY])?;
        tx.commit()?;
        Ok(())
    }

    /// Forgets the office's place, so the next sync starts from the beginning of the hub's
    /// log (a deliberate restart after a damaged position: every case merges again, nothing
    /// is duplicated or lost).
    pub fn clear_sync_position(&self) -> Result<()> {
        let mut w = self.writer();
        let tx = w.tx()?;
        tx.execute("DELETE FROM sync_position", [])?;
        tx.execute("DELETE FROM meta WHERE key = ?1", [LEGACY_META_KEY])?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const CASE: &str = "0190b3f0-0000-7000-8000-000000000001";

    fn row() -> RawRow {
        (7, None, None, None, (None, None, None, None))
    }

    #[test]
    fn rows_read_back_as_positions() {
        assert_eq!(decode(row()).unwrap(), SyncPosition { seq: 7, ..Default::default() });
        let mut r = row();
        r.1 = Some(40);
        r.2 = Some(CASE.to_owned());
        r.3 = Some(1);
        let p = decode(r).unwrap();
        let b = p.bootstrap.unwrap();
        assert_eq!((b.head, b.after.unwrap().1), (40, DocKind::Identity));
        let mut r = row();
        r.4 = (Some(CASE.to_owned()), Some(0), Some("ab".repeat(32)), Some(4096));
        assert_eq!(decode(r).unwrap().partial.unwrap().offset, 4096);
        let mut r = row();
        r.4 = (Some(CASE.to_owned()), Some(0), Some(String::new()), Some(0));
        assert_eq!(decode(r).unwrap().partial.unwrap().heads, Vec::<String>::new());
    }

    #[test]
    fn impossible_rows_are_reported_not_reset() {
        let cases: Vec<(&str, RawRow)> = vec![
            ("negative seq", (-1, None, None, None, (None, None, None, None))),
            ("after without head", (1, None, Some(CASE.into()), Some(0), (None, None, None, None))),
            (
                "after case without kind",
                (1, Some(3), Some(CASE.into()), None, (None, None, None, None)),
            ),
            ("bad case id", (1, Some(3), Some("nope".into()), Some(0), (None, None, None, None))),
            ("bad kind", (1, Some(3), Some(CASE.into()), Some(9), (None, None, None, None))),
            (
                "partial half set",
                (1, None, None, None, (Some(CASE.into()), Some(0), None, Some(1))),
            ),
            (
                "partial bad heads",
                (1, None, None, None, (Some(CASE.into()), Some(0), Some("zz".into()), Some(1))),
            ),
            (
                "negative offset",
                (
                    1,
                    None,
                    None,
                    None,
                    (Some(CASE.into()), Some(0), Some("ab".repeat(32)), Some(-5)),
                ),
            ),
        ];
        for (what, r) in cases {
            assert!(matches!(decode(r), Err(StoreError::BadSyncPosition(_))), "{what}");
        }
    }
}
