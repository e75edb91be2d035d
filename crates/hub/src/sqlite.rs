//! The SQLite backend of [`HubStore`]: one file, WAL, `synchronous=FULL`, so every accepted
//! change is on disk before it is acknowledged. Several processes may open it (the running hub
//! and the `ledger-hub office ...` commands): WAL readers never block, and office commands take
//! effect on the running hub at once because it reads offices and devices per request.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use ledger_domain::{CaseFacts, CaseId, Role};
use ledger_protocol::{BlobChunk, DocKind};
use rusqlite::{Connection, OptionalExtension, params};

use uuid::Uuid;

use crate::checkpoint::{Checkpointer, Thresholds};
use crate::store::{
    CaseScope, Commit, DeviceRecord, HubStore, LogEntry, LogKind, LogRow, MAX_ACTORS_PER_DEVICE,
    MAX_LEASES_PER_DAY, OfficeRecord, QUARANTINE_SAMPLE, QuarantineRecord, Reader, Result,
    StoreError, StoredDoc, SyncHealth, TokenRecord,
};

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/001_init.sql"),
    include_str!("../migrations/002_trust.sql"),
    include_str!("../migrations/003_demo.sql"),
    include_str!("../migrations/004_device_keys.sql"),
    include_str!("../migrations/005_scope_reads.sql"),
    include_str!("../migrations/006_doc_versions.sql"),
];

/// The hub's SQLite file.
pub const DB_FILE: &str = "hub.db";

/// A [`HubStore`] on one SQLite file.
pub struct SqliteHubStore {
    conn: Mutex<Connection>,
    /// Copies the WAL into the database file beside the writer (see [`crate::checkpoint`]);
    /// held for its thread, which stops when the store is dropped.
    #[cfg_attr(not(test), expect(dead_code, reason = "held for its thread's lifetime"))]
    checkpointer: Checkpointer,
    /// Connections for the reads a batch's judging makes (documents, versions, scopes): WAL
    /// lets them read while the writer commits, so judging the next changes never waits for a
    /// commit in progress.
    readers: Vec<Mutex<Connection>>,
    /// The data directory (the hub's signing key is a file in it, not a row of the database).
    dir: std::path::PathBuf,
}

/// The hub's private signing key, beside the database (0600): a copy of `hub.db` alone cannot
/// sign a return bundle.
pub const KEY_FILE: &str = "hub.key";

/// Statements kept prepared per connection (more than every distinct statement of the store).
const STATEMENT_CACHE: usize = 96;

/// [`Connection::execute`] through the connection's statement cache: a batch runs the same
/// statements thousands of times, and parsing them was a tenth of an upload's time.
fn cached_execute<P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

/// [`Connection::query_row`] through the statement cache.
fn cached_query_row<
    T,
    P: rusqlite::Params,
    F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
>(
    conn: &Connection,
    sql: &str,
    params: P,
    f: F,
) -> rusqlite::Result<T> {
    conn.prepare_cached(sql)?.query_row(params, f)
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(db)`
fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

fn kind_code(kind: DocKind) -> i64 {
    match kind {
        DocKind::Case => 0,
        DocKind::Identity => 1,
        DocKind::Roster => 2,
        DocKind::Rules => 3,
        DocKind::Work => 4,
    }
}

fn kind_of(code: i64) -> DocKind {
    match code {
        1 => DocKind::Identity,
        2 => DocKind::Roster,
        3 => DocKind::Rules,
        4 => DocKind::Work,
        _ => DocKind::Case,
    }
}

fn case_of(text: &str) -> rusqlite::Result<CaseId> {
    text.parse().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// The page cache of the hub's connection, in KiB (SQLite's default is 2 MiB).
const PAGE_CACHE_KIB: i64 = 64 * 1024;
/// WAL pages between checkpoints (SQLite's default is 1,000 pages of 4 KiB), and past which
/// the writer checkpoints itself because the checkpoint thread fell behind.
const WAL_CHECKPOINT: Thresholds = Thresholds { ring_at: 4000, writer_at: 16_000 };
/// Reading connections beside the writer: one per judging thread of a two-core machine.
const READERS: usize = 2;
/// The page cache of each reading connection, in KiB.
const READER_CACHE_KIB: i64 = 16 * 1024;

impl SqliteHubStore {
    /// Opens (creating if needed) the hub database in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        Self::open_with(dir, WAL_CHECKPOINT)
    }

    fn open_with(dir: &Path, checkpoints: Thresholds) -> Result<Self> {
        let file = dir.join(DB_FILE);
        // Made 0600 before SQLite opens it: its -wal and -shm files take the database's mode.
        crate::private::create_dir(dir)
            .and_then(|()| crate::private::touch(&file))
            .map_err(|e| StoreError::Database(format!("{}: {e}", file.display())))?;
        let mut conn = Connection::open(&file).map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(db)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(db)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(db)?;
        // The one connection's page cache holds the hot pages (the log's and the changes'
        // indexes, the documents being written) instead of reading them back from the OS and
        // spilling mid-commit; a page written by many commits goes to the database file once
        // per checkpoint, and checkpoints come every 16 MiB of WAL rather than every 4 MiB.
        conn.pragma_update(None, "cache_size", -PAGE_CACHE_KIB).map_err(db)?;
        // A commit runs a dozen statements per change; none is parsed twice.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let version: i64 =
            conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(db)?;
        if version > MIGRATIONS.len() as i64 {
            return Err(StoreError::Database(format!(
                "hub database schema {version} is newer than this build ({})",
                MIGRATIONS.len()
            )));
        }
        for (n, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(version).unwrap_or(0)) {
            let tx = conn.transaction().map_err(db)?;
            tx.execute_batch(sql).map_err(db)?;
            tx.pragma_update(None, "user_version", n as i64 + 1).map_err(db)?;
            tx.commit().map_err(db)?;
        }
        let readers = (0..READERS)
            .map(|_| Self::open_reader(&file).map(Mutex::new))
            .collect::<Result<Vec<_>>>()?;
        let checkpointer =
            Checkpointer::start(&file, &mut conn, checkpoints).map_err(StoreError::Database)?;
        Ok(Self { conn: Mutex::new(conn), checkpointer, readers, dir: dir.to_path_buf() })
    }

    /// A connection that only reads (after the writer made the file WAL and migrated it).
    fn open_reader(file: &Path) -> Result<Connection> {
        let conn = Connection::open(file).map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(db)?;
        conn.pragma_update(None, "query_only", "ON").map_err(db)?;
        conn.pragma_update(None, "cache_size", -READER_CACHE_KIB).map_err(db)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }

    /// Copies the database to `out` (a new file, 0600) while the hub may be serving: one read
    /// transaction copies every page (in WAL mode writers go on meanwhile), and the copy is
    /// checked before it is called done. The signing key (`hub.key`) is not in it: keep that
    /// file's copy apart.
    pub fn backup(&self, out: &Path) -> Result<()> {
        use rusqlite::backup::{Backup, StepResult};
        let failed =
            |e: &dyn std::fmt::Display| StoreError::Database(format!("{}: {e}", out.display()));
        // Made here, new (never an existing file or what a symlink points to), 0600 before
        // SQLite writes to it: only a file this call made is ever removed below.
        match crate::private::create_new(out) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(StoreError::Conflict(format!(
                    "{} 已存在，请换一个文件名",
                    out.display()
                )));
            }
            Err(e) => return Err(failed(&e)),
        }
        let result = (|| {
            let mut copy = Connection::open(out).map_err(db)?;
            {
                let conn = self.conn();
                let backup = Backup::new(&conn, &mut copy).map_err(db)?;
                loop {
                    match backup.step(-1).map_err(db)? {
                        StepResult::Done => break,
                        // Another connection holds a lock for a moment; try again.
                        _ => std::thread::sleep(std::time::Duration::from_millis(20)),
                    }
                }
            }
            let ok: String =
                copy.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(db)?;
            if ok != "ok" {
                return Err(StoreError::Damaged(format!("备份副本自检未通过：{ok}")));
            }
            Ok(())
        })();
        if result.is_err() {
            // Never leave a half copy that looks like a backup.
            if let Err(e) = std::fs::remove_file(out) {
                tracing::warn!(file = %out.display(), error = %e, "incomplete backup left behind");
            }
        }
        result
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A reading connection: a free one, else the first as soon as it is free. Each read sees
    /// every commit that finished before it began; one of several statements runs in a
    /// transaction so that a commit between them cannot be half seen.
    fn reader(&self) -> MutexGuard<'_, Connection> {
        for r in &self.readers {
            match r.try_lock() {
                Ok(guard) => return guard,
                Err(std::sync::TryLockError::Poisoned(p)) => return p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => {}
            }
        }
        match self.readers.first() {
            Some(r) => r.lock().unwrap_or_else(|p| p.into_inner()),
            None => self.conn(),
        }
    }
}

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeviceRecord> {
    Ok(DeviceRecord {
        id: r.get(0)?,
        office: r.get(1)?,
        name: r.get(2)?,
        actor: r.get(3)?,
        letter: r.get(4)?,
        enrolled_at: r.get(5)?,
        revoked_at: r.get(6)?,
        last_sync: r.get(7)?,
        pending: u64::try_from(r.get::<_, i64>(8)?).unwrap_or(0),
        last_error: r.get(9)?,
        skew_ms: r.get(10)?,
        public_key: r.get(11)?,
    })
}

const DEVICE_COLUMNS: &str = "id, office, name, actor, letter, enrolled_at, revoked_at, last_sync, pending, last_error, skew_ms, public_key";

fn office_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OfficeRecord> {
    let townships: String = r.get(3)?;
    Ok(OfficeRecord {
        code: r.get(0)?,
        name: r.get(1)?,
        role: Role::from_code(&r.get::<_, String>(2)?),
        townships: serde_json::from_str(&townships).unwrap_or_default(),
        created_at: r.get(4)?,
    })
}

/// The SQL condition for "a township reader may see case row `c`" (`:o` = office, `:t` =
/// townships as JSON).
const SCOPE: &str = "(c.township IN (SELECT value FROM json_each(:t)) OR (c.township IS NULL AND c.registrar = :o))";

/// The statement of [`HubStore::scope_docs`] for the bureau or for anyone else.
fn scope_sql(bureau: bool) -> String {
    // The bureau holds every document: it walks them all in order. Anyone else starts from the
    // cases of its townships, those it registered outside any township, and the county's rules
    // (by `docs_kind`), never touching another township's rows (each step into `docs` reads a
    // snapshot: the rows hold them).
    let (candidates, and) = if bureau {
        ("docs d JOIN cases c ON c.case_id = d.case_id", "WHERE")
    } else {
        (
            "cases c JOIN docs d ON d.case_id = c.case_id
             WHERE c.case_id IN (
                 SELECT case_id FROM cases WHERE township IN (SELECT value FROM json_each(:t))
                 UNION ALL SELECT case_id FROM cases WHERE township IS NULL AND registrar = :o
                 UNION ALL SELECT case_id FROM docs WHERE kind = 3)",
            "AND",
        )
    };
    format!(
        "SELECT d.case_id, d.kind, c.township, c.registrar, c.restricted FROM {candidates}
         {and} (:b OR d.kind = 3 OR ({SCOPE} AND (d.kind = 0 OR c.restricted = 0)))
           AND (d.case_id, d.kind) > (:ac, :ak)
           AND (NOT :skip OR EXISTS (SELECT 1 FROM changes x
                WHERE x.case_id = d.case_id AND x.kind = d.kind AND x.device != :dev))
         ORDER BY d.case_id, d.kind LIMIT :l"
    )
}

/// Fails the commit with [`StoreError::Busy`] if a case's scope is no longer the one its log
/// rows were planned with (`Commit::scopes_read`).
fn check_scopes(tx: &Connection, read: &[(CaseId, Option<CaseScope>)]) -> Result<()> {
    for (case, expected) in read {
        let current = cached_query_row(
            tx,
            "SELECT township, registrar, restricted FROM cases WHERE case_id = ?1",
            [case.to_string()],
            |r| Ok(CaseScope { township: r.get(0)?, registrar: r.get(1)?, restricted: r.get(2)? }),
        )
        .optional()
        .map_err(db)?;
        if &current != expected {
            return Err(StoreError::Busy(format!("{case}/scope")));
        }
    }
    Ok(())
}

impl HubStore for SqliteHubStore {
    fn add_office(&self, office: &OfficeRecord) -> Result<()> {
        let conn = self.conn();
        let townships = serde_json::to_string(&office.townships).unwrap_or_else(|_| "[]".into());
        let n = conn
            .execute(
                "INSERT OR IGNORE INTO offices (code, name, role, townships, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![office.code, office.name, office.role.code(), townships, office.created_at],
            )
            .map_err(db)?;
        if n == 0 {
            return Err(StoreError::Conflict(format!("单位代码 {} 已存在", office.code)));
        }
        Ok(())
    }

    fn office(&self, code: &str) -> Result<Option<OfficeRecord>> {
        cached_query_row(
            &self.conn(),
            "SELECT code, name, role, townships, created_at FROM offices WHERE code = ?1",
            [code],
            office_row,
        )
        .optional()
        .map_err(db)
    }

    fn offices(&self) -> Result<Vec<OfficeRecord>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT code, name, role, townships, created_at FROM offices ORDER BY role, code",
            )
            .map_err(db)?;
        let rows = stmt.query_map([], office_row).map_err(db)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db)
    }

    fn add_token(&self, office: &str, hash: &str, expires_at: i64) -> Result<()> {
        cached_execute(
            &self.conn(),
            "INSERT INTO tokens (hash, office, expires_at) VALUES (?1, ?2, ?3)",
            params![hash, office, expires_at],
        )
        .map_err(db)?;
        Ok(())
    }

    fn token(&self, hash: &str) -> Result<Option<TokenRecord>> {
        cached_query_row(
            &self.conn(),
            "SELECT office, expires_at, used_at, used_actor, device_id FROM tokens WHERE hash = ?1",
            [hash],
            |r| {
                let used = match (
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ) {
                    (Some(at), Some(actor), Some(device)) => Some((at, actor, device)),
                    _ => None,
                };
                Ok(TokenRecord { office: r.get(0)?, expires_at: r.get(1)?, used })
            },
        )
        .optional()
        .map_err(db)
    }

    fn use_token(&self, hash: &str, device: &DeviceRecord, credential_hash: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(db)?;
        let n = tx
            .execute(
                "UPDATE tokens SET used_at = ?2, used_actor = ?3, device_id = ?4 WHERE hash = ?1 AND used_at IS NULL",
                params![hash, device.enrolled_at, device.actor, device.id],
            )
            .map_err(db)?;
        if n == 0 {
            return Err(StoreError::Conflict("令牌已被使用".into()));
        }
        cached_execute(&tx,
            &format!("INSERT INTO devices ({DEVICE_COLUMNS}, credential_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
            params![
                device.id,
                device.office,
                device.name,
                device.actor,
                device.letter,
                device.enrolled_at,
                device.revoked_at,
                device.last_sync,
                device.pending as i64,
                device.last_error,
                device.skew_ms,
                device.public_key,
                credential_hash
            ],
        )
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    fn device_by_credential(&self, hash: &str) -> Result<Option<(DeviceRecord, String)>> {
        cached_query_row(
            &self.conn(),
            &format!(
                "SELECT {DEVICE_COLUMNS}, credential_hash FROM devices WHERE credential_hash = ?1"
            ),
            [hash],
            |r| Ok((device_row(r)?, r.get(12)?)),
        )
        .optional()
        .map_err(db)
    }

    fn device(&self, id: &str) -> Result<Option<DeviceRecord>> {
        cached_query_row(
            &self.conn(),
            &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?1"),
            [id],
            device_row,
        )
        .optional()
        .map_err(db)
    }

    fn register_device_key(&self, id: &str, public_key: &str) -> Result<bool> {
        let n = cached_execute(
            &self.conn(),
            "UPDATE devices SET public_key = ?2 WHERE id = ?1 AND public_key IS NULL",
            params![id, public_key],
        )
        .map_err(db)?;
        Ok(n > 0)
    }

    fn signing_key(&self) -> Result<String> {
        crate::private::signing_key_file(&self.dir.join(KEY_FILE))
    }

    fn devices(&self, office: Option<&str>) -> Result<Vec<DeviceRecord>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {DEVICE_COLUMNS} FROM devices WHERE ?1 IS NULL OR office = ?1 ORDER BY office, enrolled_at"
            ))
            .map_err(db)?;
        let rows = stmt.query_map([office], device_row).map_err(db)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db)
    }

    fn revoke(&self, office: &str, device: Option<&str>, now: i64) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(db)?;
        let n = tx
            .execute(
                "UPDATE devices SET revoked_at = ?3 WHERE office = ?1 AND (?2 IS NULL OR id = ?2) AND revoked_at IS NULL",
                params![office, device, now],
            )
            .map_err(db)?;
        // Revoking the whole office also voids every token it has not used yet.
        if device.is_none() {
            cached_execute(&tx,
                "UPDATE tokens SET expires_at = min(expires_at, ?2) WHERE office = ?1 AND used_at IS NULL",
                params![office, now - 1],
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)?;
        Ok(n)
    }

    fn actor_office(&self, actor: &str) -> Result<Option<String>> {
        cached_query_row(&self.reader(),
                "SELECT office FROM devices WHERE actor = ?1 UNION ALL SELECT office FROM actors WHERE actor = ?1 LIMIT 1",
                [actor],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)
    }

    fn register_actor(&self, actor: &str, device: &str, office: &str) -> Result<()> {
        let conn = self.conn();
        let known: Option<i64> = conn
            .prepare_cached(
                "SELECT 1 FROM devices WHERE actor = ?1 UNION ALL SELECT 1 FROM actors WHERE actor = ?1 LIMIT 1",
            )
            .map_err(db)?
            .query_row([actor], |r| r.get(0))
            .optional()
            .map_err(db)?;
        if known.is_some() {
            return Ok(());
        }
        // A device gets a new actor at a restore or a recovery: a few in its life. One minting
        // actors by the thousand is not registered (its changes are then refused).
        let held: i64 = conn
            .prepare_cached("SELECT count(*) FROM actors WHERE device = ?1")
            .map_err(db)?
            .query_row([device], |r| r.get(0))
            .map_err(db)?;
        if held >= i64::from(MAX_ACTORS_PER_DEVICE) {
            tracing::warn!(device, "device has registered too many actors; refused");
            return Ok(());
        }
        {
            cached_execute(
                &conn,
                "INSERT OR IGNORE INTO actors (actor, device, office) VALUES (?1, ?2, ?3)",
                params![actor, device, office],
            )
            .map_err(db)?;
        }
        Ok(())
    }

    fn record_sync(&self, device: &str, h: &SyncHealth) -> Result<()> {
        cached_execute(&self.conn(),
                "UPDATE devices SET last_sync = ?2, last_seq = ?3, pending = ?4, last_error = ?5, skew_ms = ?6 WHERE id = ?1",
                params![device, h.at, h.seq as i64, h.pending as i64, h.last_error, h.skew_ms],
            )
            .map_err(db)?;
        Ok(())
    }

    fn secret(&self) -> Result<[u8; 32]> {
        let conn = self.conn();
        let existing: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'secret'", [], |r| r.get(0))
            .optional()
            .map_err(db)?;
        let hex = match existing {
            Some(hex) => hex,
            None => {
                let mut key = [0u8; 32];
                getrandom::fill(&mut key).map_err(|e| StoreError::Database(e.to_string()))?;
                let hex = hex::encode(key);
                cached_execute(
                    &conn,
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('secret', ?1)",
                    [&hex],
                )
                .map_err(db)?;
                cached_query_row(&conn, "SELECT value FROM meta WHERE key = 'secret'", [], |r| {
                    r.get(0)
                })
                .map_err(db)?
            }
        };
        crate::store::secret_from_hex(&hex)
    }

    fn doc(&self, case: CaseId, kind: DocKind) -> Result<Option<StoredDoc>> {
        let mut reader = self.reader();
        // The snapshot and its tail from one state of the file.
        let conn = reader.transaction().map_err(db)?;
        let key = case.to_string();
        let snapshot: Option<Vec<u8>> = conn
            .prepare_cached("SELECT snapshot FROM docs WHERE case_id = ?1 AND kind = ?2")
            .map_err(db)?
            .query_row(params![key, kind_code(kind)], |r| r.get(0))
            .optional()
            .map_err(db)?;
        let Some(snapshot) = snapshot else { return Ok(None) };
        let mut stmt = conn
            .prepare_cached(
                "SELECT t.hash, c.bytes FROM doc_tail t LEFT JOIN changes c ON c.hash = t.hash
                 WHERE t.case_id = ?1 AND t.kind = ?2 ORDER BY t.id",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![key, kind_code(kind)], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<Vec<u8>>>(1)?))
            })
            .map_err(db)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db)?;
        // A tail change that is not stored is damage to report: the document without it would
        // load as something it never was.
        let tail = rows
            .into_iter()
            .map(|(hash, bytes)| bytes.ok_or_else(|| crate::store::missing_tail(case, &hash)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((snapshot, tail)))
    }

    fn doc_version(&self, case: CaseId, kind: DocKind) -> Result<Option<i64>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached("SELECT version FROM doc_versions WHERE case_id = ?1 AND kind = ?2")
            .map_err(db)?;
        stmt.query_row(params![case.to_string(), kind_code(kind)], |r| r.get(0))
            .optional()
            .map_err(db)
    }

    fn has_change(&self, hash: &str) -> Result<bool> {
        Ok(cached_query_row(
            &self.reader(),
            "SELECT 1 FROM changes WHERE hash = ?1",
            [hash],
            |_| Ok(()),
        )
        .optional()
        .map_err(db)?
        .is_some())
    }

    fn stored_changes(&self, hashes: &[String]) -> Result<HashSet<String>> {
        if hashes.is_empty() {
            return Ok(HashSet::new());
        }
        // One statement for the batch: the hashes go in as one JSON array, so the statement
        // stays cached whatever the batch's size.
        let list =
            serde_json::to_string(hashes).map_err(|e| StoreError::Database(e.to_string()))?;
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT hash FROM changes WHERE hash IN (SELECT value FROM json_each(?1))",
            )
            .map_err(db)?;
        let rows = stmt.query_map([list], |r| r.get::<_, String>(0)).map_err(db)?;
        rows.collect::<rusqlite::Result<HashSet<String>>>().map_err(db)
    }

    fn doc_change_hashes(&self, case: CaseId, kind: DocKind) -> Result<Vec<String>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT hash FROM changes WHERE case_id = ?1 AND kind = ?2
                 UNION SELECT hash FROM doc_tail WHERE case_id = ?1 AND kind = ?2",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![case.to_string(), kind_code(kind)], |r| r.get::<_, String>(0))
            .map_err(db)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db)
    }

    fn change(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        cached_query_row(&self.reader(), "SELECT bytes FROM changes WHERE hash = ?1", [hash], |r| {
            r.get(0)
        })
        .optional()
        .map_err(db)
    }

    fn case_scope(&self, case: CaseId) -> Result<Option<CaseScope>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached("SELECT township, registrar, restricted FROM cases WHERE case_id = ?1")
            .map_err(db)?;
        stmt.query_row([case.to_string()], |r| {
            Ok(CaseScope { township: r.get(0)?, registrar: r.get(1)?, restricted: r.get(2)? })
        })
        .optional()
        .map_err(db)
    }

    fn commit(&self, commit: &Commit) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(db)?;
        for c in &commit.changes {
            cached_execute(&tx,
                "INSERT OR IGNORE INTO changes (hash, case_id, kind, device, received_at, bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![c.hash, c.case_id.to_string(), kind_code(c.kind), c.device, c.received_at, c.bytes],
            )
            .map_err(db)?;
        }
        // After the first write, so the check and the commit hold the write lock together.
        check_scopes(&tx, &commit.scopes_read)?;
        for d in &commit.docs {
            let key = d.case_id.to_string();
            let current: Option<i64> = cached_query_row(
                &tx,
                "SELECT version FROM doc_versions WHERE case_id = ?1 AND kind = ?2",
                params![key, kind_code(d.kind)],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
            if current != d.expected {
                return Err(StoreError::Busy(format!("{key}/{}", kind_code(d.kind))));
            }
            if let Some(snapshot) = &d.snapshot {
                cached_execute(
                    &tx,
                    "INSERT INTO docs (case_id, kind, snapshot) VALUES (?1, ?2, ?3)
                     ON CONFLICT(case_id, kind) DO UPDATE SET snapshot = excluded.snapshot",
                    params![key, kind_code(d.kind), snapshot],
                )
                .map_err(db)?;
                cached_execute(
                    &tx,
                    "INSERT OR IGNORE INTO doc_versions (case_id, kind, version) VALUES (?1, ?2, 0)",
                    params![key, kind_code(d.kind)],
                )
                .map_err(db)?;
            }
            cached_execute(
                &tx,
                "UPDATE doc_versions SET version = version + 1 WHERE case_id = ?1 AND kind = ?2",
                params![key, kind_code(d.kind)],
            )
            .map_err(db)?;
            if d.snapshot.is_some() {
                cached_execute(
                    &tx,
                    "DELETE FROM doc_tail WHERE case_id = ?1 AND kind = ?2",
                    params![key, kind_code(d.kind)],
                )
                .map_err(db)?;
            }
            for hash in &d.tail {
                cached_execute(
                    &tx,
                    "INSERT INTO doc_tail (case_id, kind, hash) VALUES (?1, ?2, ?3)",
                    params![key, kind_code(d.kind), hash],
                )
                .map_err(db)?;
            }
        }
        for (case, scope, facts) in &commit.cases {
            let facts = facts.as_ref().map(serde_json::to_string).transpose().map_err(|e| {
                StoreError::Database(format!("facts of case {case} not written: {e}"))
            })?;
            cached_execute(&tx,
                "INSERT INTO cases (case_id, township, registrar, restricted, facts, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(case_id) DO UPDATE SET township = excluded.township, registrar = excluded.registrar,
                   restricted = excluded.restricted, facts = coalesce(excluded.facts, cases.facts), updated_at = excluded.updated_at",
                params![case.to_string(), scope.township, scope.registrar, scope.restricted, facts, crate::now_ms()],
            )
            .map_err(db)?;
        }
        for row in &commit.log {
            let (kind, hash, author, township, registrar, bureau_only, target) = match &row.entry {
                LogEntry::Change { hash, author_device, township, registrar, bureau_only } => (
                    "change",
                    Some(hash),
                    Some(author_device),
                    township.as_ref(),
                    registrar.as_ref(),
                    *bureau_only,
                    None,
                ),
                LogEntry::Enter { target } => {
                    ("enter", None, None, None, None, false, Some(target))
                }
                LogEntry::Leave { target } => {
                    ("leave", None, None, None, None, false, Some(target))
                }
            };
            cached_execute(&tx,
                "INSERT INTO log (kind, case_id, doc_kind, hash, author_device, township, registrar, bureau_only, target, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![kind, row.case_id.to_string(), kind_code(row.kind), hash, author, township, registrar, bureau_only, target, row.received_at],
            )
            .map_err(db)?;
        }
        for (hash, case) in &commit.blob_refs {
            cached_execute(
                &tx,
                "INSERT OR IGNORE INTO blob_refs (hash, case_id) VALUES (?1, ?2)",
                params![hash, case.to_string()],
            )
            .map_err(db)?;
        }
        for (id, case, office) in &commit.drops {
            cached_execute(&tx,
                "INSERT OR IGNORE INTO drops (id, case_id, office, merged_at) VALUES (?1, ?2, ?3, ?4)",
                params![id.to_string(), case.to_string(), office, crate::now_ms()],
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    fn log_after(&self, after: u64, reader: &Reader<'_>, limit: usize) -> Result<Vec<LogRow>> {
        let conn = self.conn();
        let townships = serde_json::to_string(reader.townships).unwrap_or_else(|_| "[]".into());
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, case_id, doc_kind, kind, hash, received_at FROM log
                 WHERE seq > ?1 AND (
                   (kind != 'change' AND target = ?2)
                   OR (kind = 'change' AND author_device != ?3 AND (
                        ?4 OR doc_kind = 3 OR (bureau_only = 0 AND (township IN (SELECT value FROM json_each(?5))
                               OR (township IS NULL AND registrar = ?2))))))
                 ORDER BY seq LIMIT ?6",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(
                params![
                    after as i64,
                    reader.office,
                    reader.device,
                    reader.bureau,
                    townships,
                    limit as i64
                ],
                |r| {
                    let what = match r.get::<_, String>(3)?.as_str() {
                        "enter" => LogKind::Enter,
                        "leave" => LogKind::Leave,
                        _ => LogKind::Change,
                    };
                    Ok(LogRow {
                        seq: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                        case_id: case_of(&r.get::<_, String>(1)?)?,
                        kind: kind_of(r.get(2)?),
                        what,
                        hash: r.get(4)?,
                        received_at: r.get(5)?,
                    })
                },
            )
            .map_err(db)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db)
    }

    fn head(&self) -> Result<u64> {
        let seq: i64 =
            cached_query_row(&self.conn(), "SELECT coalesce(max(seq), 0) FROM log", [], |r| {
                r.get(0)
            })
            .map_err(db)?;
        Ok(u64::try_from(seq).unwrap_or(0))
    }

    fn scope_docs(
        &self,
        reader: &Reader<'_>,
        after: Option<(CaseId, DocKind)>,
        limit: usize,
        skip_own: bool,
    ) -> Result<Vec<(CaseId, DocKind, CaseScope)>> {
        let conn = self.conn();
        let townships = serde_json::to_string(reader.townships).unwrap_or_else(|_| "[]".into());
        let (after_case, after_kind) = match after {
            Some((c, k)) => (c.to_string(), kind_code(k)),
            None => (String::new(), -1),
        };
        let sql = scope_sql(reader.bureau);
        let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
        let limit = limit as i64;
        let params: [(&str, &dyn rusqlite::ToSql); 8] = [
            (":b", &reader.bureau),
            (":t", &townships),
            (":o", &reader.office),
            (":ac", &after_case),
            (":ak", &after_kind),
            (":l", &limit),
            (":skip", &skip_own),
            (":dev", &reader.device),
        ];
        let rows = stmt
            .query_map(params.as_slice(), |r| {
                let scope =
                    CaseScope { township: r.get(2)?, registrar: r.get(3)?, restricted: r.get(4)? };
                Ok((case_of(&r.get::<_, String>(0)?)?, kind_of(r.get(1)?), scope))
            })
            .map_err(db)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db)
    }

    fn log_eviction(&self, case: CaseId, office: &str, device: &str, at: i64) -> Result<()> {
        cached_execute(&self.conn(),
                "INSERT OR IGNORE INTO evictions (case_id, office, device, confirmed_at) VALUES (?1, ?2, ?3, ?4)",
                params![case.to_string(), office, device, at],
            )
            .map_err(db)?;
        Ok(())
    }

    fn evictions(&self, case: CaseId) -> Result<Vec<(String, String, i64)>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT office, device, confirmed_at FROM evictions WHERE case_id = ?1 ORDER BY confirmed_at")
            .map_err(db)?;
        let rows = stmt
            .query_map([case.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(db)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db)
    }

    fn case_ids(&self) -> Result<Vec<CaseId>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT case_id FROM docs WHERE kind = 0 ORDER BY case_id").map_err(db)?;
        let rows = stmt.query_map([], |r| case_of(&r.get::<_, String>(0)?)).map_err(db)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db)
    }

    fn set_facts(&self, rows: &[(CaseId, CaseFacts)]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(db)?;
        {
            let mut stmt =
                tx.prepare_cached("UPDATE cases SET facts = ?2 WHERE case_id = ?1").map_err(db)?;
            for (id, facts) in rows {
                let json = serde_json::to_string(facts)
                    .map_err(|e| StoreError::Database(e.to_string()))?;
                stmt.execute(params![id.to_string(), json]).map_err(db)?;
            }
        }
        tx.commit().map_err(db)
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        cached_query_row(&self.conn(), "SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(db)
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        cached_execute(
            &self.conn(),
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )
        .map(|_| ())
        .map_err(db)
    }

    fn all_facts(&self) -> Result<Vec<CaseFacts>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT facts FROM cases WHERE facts IS NOT NULL").map_err(db)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(db)?;
        let mut out = Vec::new();
        for json in rows {
            let json = json.map_err(db)?;
            out.push(serde_json::from_str(&json).map_err(|e| StoreError::Database(e.to_string()))?);
        }
        Ok(out)
    }

    fn blob(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        cached_query_row(&self.conn(), "SELECT bytes FROM blobs WHERE hash = ?1", [hash], |r| {
            r.get(0)
        })
        .optional()
        .map_err(db)
    }

    fn blob_progress(&self, hash: &str) -> Result<Result<(), u64>> {
        let conn = self.conn();
        if conn
            .query_row("SELECT 1 FROM blobs WHERE hash = ?1", [hash], |_| Ok(()))
            .optional()
            .map_err(db)?
            .is_some()
        {
            return Ok(Ok(()));
        }
        let held: i64 = conn
            .query_row(
                "SELECT coalesce(sum(length(bytes)), 0) FROM blob_pieces WHERE hash = ?1",
                [hash],
                |r| r.get(0),
            )
            .map_err(db)?;
        Ok(Err(u64::try_from(held).unwrap_or(0)))
    }

    fn blob_piece(&self, chunk: &BlobChunk, now: i64) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(db)?;
        let held: i64 = tx
            .query_row(
                "SELECT coalesce(sum(length(bytes)), 0) FROM blob_pieces WHERE hash = ?1",
                [&chunk.hash],
                |r| r.get(0),
            )
            .map_err(db)?;
        let held = u64::try_from(held).unwrap_or(0);
        // Only a piece that continues exactly where the upload stands is taken.
        if chunk.offset != held
            || chunk.total > ledger_protocol::MAX_BLOB_BYTES
            || chunk.bytes.is_empty()
            || held + chunk.bytes.len() as u64 > chunk.total
        {
            return Ok(());
        }
        cached_execute(&tx,
            "INSERT OR IGNORE INTO blob_pieces (hash, offset, total, bytes, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![chunk.hash, held as i64, chunk.total as i64, chunk.bytes, now],
        )
        .map_err(db)?;
        if held + chunk.bytes.len() as u64 == chunk.total {
            let mut bytes = Vec::with_capacity(usize::try_from(chunk.total).unwrap_or(0));
            {
                let mut stmt = tx
                    .prepare("SELECT bytes FROM blob_pieces WHERE hash = ?1 ORDER BY offset")
                    .map_err(db)?;
                let rows = stmt.query_map([&chunk.hash], |r| r.get::<_, Vec<u8>>(0)).map_err(db)?;
                for piece in rows {
                    bytes.extend(piece.map_err(db)?);
                }
            }
            cached_execute(&tx, "DELETE FROM blob_pieces WHERE hash = ?1", [&chunk.hash])
                .map_err(db)?;
            if blake3::hash(&bytes).to_hex().as_str() == chunk.hash {
                cached_execute(
                    &tx,
                    "INSERT OR IGNORE INTO blobs (hash, size, bytes) VALUES (?1, ?2, ?3)",
                    params![chunk.hash, bytes.len() as i64, bytes],
                )
                .map_err(db)?;
            }
        }
        tx.commit().map_err(db)
    }

    fn blob_cases(&self, hash: &str) -> Result<Vec<CaseId>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT case_id FROM blob_refs WHERE hash = ?1").map_err(db)?;
        let rows = stmt.query_map([hash], |r| case_of(&r.get::<_, String>(0)?)).map_err(db)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db)
    }

    fn expire_uploads(&self, before: i64) -> Result<usize> {
        cached_execute(
            &self.conn(),
            "DELETE FROM blob_pieces WHERE hash IN
                   (SELECT hash FROM blob_pieces GROUP BY hash HAVING max(updated_at) < ?1)",
            [before],
        )
        .map_err(db)
    }

    fn device_actors(&self, device: &str) -> Result<Vec<String>> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(
                "SELECT actor FROM devices WHERE id = ?1 UNION SELECT actor FROM actors WHERE device = ?1",
            )
            .map_err(db)?;
        let rows = stmt.query_map([device], |r| r.get::<_, String>(0)).map_err(db)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db)
    }

    fn quarantine(&self, q: &QuarantineRecord, keep: usize) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(db)?;
        cached_execute(&tx,
            "INSERT INTO quarantine (hash, case_id, kind, device, office, rule, reason, received_at, bytes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                q.hash,
                q.case_id.to_string(),
                kind_code(q.kind),
                q.device,
                q.office,
                q.rule,
                q.reason,
                q.received_at,
                // Enough to inspect; a device sending huge refused changes cannot fill the disk.
                &q.bytes[..q.bytes.len().min(QUARANTINE_SAMPLE)]
            ],
        )
        .map_err(db)?;
        // A device that keeps sending refused changes cannot fill the disk.
        cached_execute(
            &tx,
            "DELETE FROM quarantine WHERE device = ?1 AND id NOT IN
               (SELECT id FROM quarantine WHERE device = ?1 ORDER BY id DESC LIMIT ?2)",
            params![q.device, keep as i64],
        )
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    fn quarantined(&self, limit: usize) -> Result<Vec<QuarantineRecord>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(
                "SELECT hash, case_id, kind, device, office, rule, reason, received_at, bytes
                 FROM quarantine ORDER BY id DESC LIMIT ?1",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok(QuarantineRecord {
                    hash: r.get(0)?,
                    case_id: case_of(&r.get::<_, String>(1)?)?,
                    kind: kind_of(r.get(2)?),
                    device: r.get(3)?,
                    office: r.get(4)?,
                    rule: r.get(5)?,
                    reason: r.get(6)?,
                    received_at: r.get(7)?,
                    bytes: r.get(8)?,
                })
            })
            .map_err(db)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db)
    }

    fn drop_merged(&self, id: Uuid) -> Result<bool> {
        Ok(cached_query_row(
            &self.conn(),
            "SELECT 1 FROM drops WHERE id = ?1",
            [id.to_string()],
            |_| Ok(()),
        )
        .optional()
        .map_err(db)?
        .is_some())
    }

    fn has_leave(&self, case: CaseId, office: &str) -> Result<bool> {
        Ok(cached_query_row(&self.reader(),
                "SELECT 1 FROM log WHERE kind = 'leave' AND target = ?2 AND case_id = ?1 AND doc_kind = 0 LIMIT 1",
                params![case.to_string(), office],
                |_| Ok(()),
            )
            .optional()
            .map_err(db)?
            .is_some())
    }

    fn lease(
        &self,
        office: &str,
        series: &str,
        device: &str,
        used: u64,
        size: u64,
        now: i64,
    ) -> Result<(u64, u64)> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(db)?;
        let recent: i64 = tx
            .query_row(
                "SELECT count(*) FROM number_leases WHERE device = ?1 AND series = ?2 AND leased_at > ?3",
                params![device, series, now - 86_400_000],
                |r| r.get(0),
            )
            .map_err(db)?;
        if recent >= i64::from(MAX_LEASES_PER_DAY) {
            return Err(StoreError::Conflict(format!(
                "设备 {device} 今天已领取过多的 {series} 编号段"
            )));
        }
        let next: i64 = tx
            .query_row(
                "SELECT next FROM number_series WHERE office = ?1 AND series = ?2",
                params![office, series],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?
            .unwrap_or(1);
        let floor = i64::try_from(used.saturating_add(1)).unwrap_or(i64::MAX);
        let start = next.max(floor).max(1);
        let end = start.saturating_add(i64::try_from(size.max(1)).unwrap_or(1) - 1);
        cached_execute(
            &tx,
            "INSERT INTO number_series (office, series, next) VALUES (?1, ?2, ?3)
             ON CONFLICT(office, series) DO UPDATE SET next = excluded.next",
            params![office, series, end.saturating_add(1)],
        )
        .map_err(db)?;
        cached_execute(&tx,
            "INSERT INTO number_leases (office, series, device, start, end, leased_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![office, series, device, start, end, now],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok((u64::try_from(start).unwrap_or(0), u64::try_from(end).unwrap_or(0)))
    }

    fn all_docs(
        &self,
        after: Option<(CaseId, DocKind)>,
        limit: usize,
    ) -> Result<Vec<(CaseId, DocKind)>> {
        let conn = self.conn();
        let (case, kind) = match after {
            Some((c, k)) => (c.to_string(), kind_code(k)),
            None => (String::new(), -1),
        };
        let mut stmt = conn
            .prepare_cached(
                "SELECT case_id, kind FROM docs WHERE (case_id, kind) > (?1, ?2) ORDER BY case_id, kind LIMIT ?3",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![case, kind, limit as i64], |r| {
                Ok((case_of(&r.get::<_, String>(0)?)?, kind_of(r.get(1)?)))
            })
            .map_err(db)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db)
    }

    fn purge_case(&self, case: CaseId, by: &str, leave_for: &[String], now: i64) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(db)?;
        let id = case.to_string();
        for sql in [
            "DELETE FROM docs WHERE case_id = ?1",
            "DELETE FROM doc_versions WHERE case_id = ?1",
            "DELETE FROM doc_tail WHERE case_id = ?1",
            "DELETE FROM changes WHERE case_id = ?1",
            "DELETE FROM cases WHERE case_id = ?1",
            "DELETE FROM blob_refs WHERE case_id = ?1",
            "DELETE FROM log WHERE case_id = ?1 AND kind = 'change'",
        ] {
            cached_execute(&tx, sql, [&id]).map_err(db)?;
        }
        cached_execute(
            &tx,
            "INSERT OR IGNORE INTO purged (case_id, office, purged_at) VALUES (?1, ?2, ?3)",
            params![id, by, now],
        )
        .map_err(db)?;
        for office in leave_for {
            cached_execute(
                &tx,
                "INSERT INTO log (kind, case_id, doc_kind, target, received_at)
                 VALUES ('leave', ?1, ?2, ?3, ?4)",
                params![id, kind_code(DocKind::Case), office, now],
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    fn county_townships(&self) -> Result<Vec<String>> {
        let json: Option<String> = cached_query_row(
            &self.conn(),
            "SELECT value FROM meta WHERE key = 'county_townships'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(db)?;
        // A list that no longer reads is an error, never an empty county that refuses nothing.
        json.map(|j| serde_json::from_str(&j))
            .transpose()
            .map(Option::unwrap_or_default)
            .map_err(|e| StoreError::Database(format!("乡镇名录无法读取：{e}")))
    }

    fn directory_stamp(&self) -> Result<String> {
        cached_query_row(
            &self.conn(),
            "SELECT (SELECT count(*) FROM offices) || ':' ||
                    coalesce((SELECT value FROM meta WHERE key = 'county_townships'), '[]')",
            [],
            |r| r.get(0),
        )
        .map_err(db)
    }

    fn set_county_townships(&self, townships: &[String]) -> Result<()> {
        let json =
            serde_json::to_string(townships).map_err(|e| StoreError::Database(e.to_string()))?;
        cached_execute(
            &self.conn(),
            "INSERT INTO meta (key, value) VALUES ('county_townships', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [json],
        )
        .map_err(db)?;
        Ok(())
    }

    fn is_purged(&self, case: CaseId) -> Result<bool> {
        Ok(cached_query_row(
            &self.reader(),
            "SELECT 1 FROM purged WHERE case_id = ?1",
            [case.to_string()],
            |_| Ok(()),
        )
        .optional()
        .map_err(db)?
        .is_some())
    }

    fn is_set_aside(&self, case: CaseId, kind: DocKind) -> Result<bool> {
        Ok(cached_query_row(
            &self.reader(),
            "SELECT 1 FROM docs_set_aside WHERE case_id = ?1 AND kind = ?2 LIMIT 1",
            params![case.to_string(), kind_code(kind)],
            |_| Ok(()),
        )
        .optional()
        .map_err(db)?
        .is_some())
    }

    fn set_aside(&self, case: CaseId, kind: DocKind, reason: &str, now: i64) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(db)?;
        let key = case.to_string();
        cached_execute(
            &tx,
            "INSERT INTO docs_set_aside (case_id, kind, snapshot, reason, at)
             SELECT case_id, kind, snapshot, ?3, ?4 FROM docs WHERE case_id = ?1 AND kind = ?2",
            params![key, kind_code(kind), reason, now],
        )
        .map_err(db)?;
        cached_execute(
            &tx,
            "DELETE FROM docs WHERE case_id = ?1 AND kind = ?2",
            params![key, kind_code(kind)],
        )
        .map_err(db)?;
        cached_execute(
            &tx,
            "DELETE FROM doc_versions WHERE case_id = ?1 AND kind = ?2",
            params![key, kind_code(kind)],
        )
        .map_err(db)?;
        cached_execute(
            &tx,
            "DELETE FROM doc_tail WHERE case_id = ?1 AND kind = ?2",
            params![key, kind_code(kind)],
        )
        .map_err(db)?;
        tx.commit().map_err(db)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DocWrite;

    fn plan(store: &SqliteHubStore, sql: &str) -> String {
        let conn = store.conn();
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let names: Vec<String> = (1..=stmt.parameter_count())
            .filter_map(|i| stmt.parameter_name(i).map(str::to_owned))
            .collect();
        let values: Vec<rusqlite::types::Value> = names.iter().map(|_| 0i64.into()).collect();
        let params: Vec<(&str, &dyn rusqlite::ToSql)> = names
            .iter()
            .zip(&values)
            .map(|(n, v)| (n.as_str(), v as &dyn rusqlite::ToSql))
            .collect();
        let rows = stmt.query_map(params.as_slice(), |r| r.get::<_, String>(3)).unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
    }

    /// A township's first pull reads its own cases through `cases_township`, never a walk of
    /// the county's documents (each row a snapshot) or of their changes.
    #[test]
    fn a_townships_scope_starts_from_its_own_cases() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteHubStore::open(dir.path()).unwrap();
        let township = plan(&store, &scope_sql(false));
        assert!(township.contains("cases_township"), "{township}");
        assert!(township.contains("docs_kind"), "{township}");
        assert!(township.contains("changes_case_device"), "{township}");
        assert!(!township.contains("SCAN d"), "{township}");
        // The bureau holds everything: it walks the documents in key order.
        let bureau = plan(&store, &scope_sql(true));
        assert!(bureau.contains("SEARCH d USING PRIMARY KEY ((case_id,kind)>(?,?))"), "{bureau}");
    }

    /// A hub file written by the release before (versions in the `docs` rows) keeps every
    /// document's version when it is opened: a version lost would make the next commit of
    /// that document fail as if another process had written it, or pass when one had.
    #[test]
    fn a_hub_file_of_the_release_before_keeps_its_document_versions() {
        let dir = tempfile::tempdir().unwrap();
        let case = CaseId(Uuid::from_u128(7));
        {
            let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
            for sql in &MIGRATIONS[..5] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 5).unwrap();
            conn.execute(
                "INSERT INTO docs (case_id, kind, snapshot, version) VALUES (?1, 0, x'0102', 7)",
                [case.to_string()],
            )
            .unwrap();
        }
        let store = SqliteHubStore::open(dir.path()).unwrap();
        assert_eq!(store.doc_version(case, DocKind::Case).unwrap(), Some(7));
        assert_eq!(store.doc_version(case, DocKind::Identity).unwrap(), None);
        let write = |expected: Option<i64>, kind: DocKind| Commit {
            docs: vec![DocWrite {
                case_id: case,
                kind,
                snapshot: Some(vec![3, 4]),
                tail: Vec::new(),
                expected,
            }],
            ..Commit::default()
        };
        // Written by another process since version 6: refused, and nothing changes.
        assert!(matches!(store.commit(&write(Some(6), DocKind::Case)), Err(StoreError::Busy(_))));
        store.commit(&write(Some(7), DocKind::Case)).unwrap();
        assert_eq!(store.doc_version(case, DocKind::Case).unwrap(), Some(8));
        assert_eq!(store.doc(case, DocKind::Case).unwrap(), Some((vec![3, 4], Vec::new())));
        // A new document starts at 1; one that must not exist yet but does is refused.
        store.commit(&write(None, DocKind::Identity)).unwrap();
        assert_eq!(store.doc_version(case, DocKind::Identity).unwrap(), Some(1));
        assert!(matches!(store.commit(&write(None, DocKind::Identity)), Err(StoreError::Busy(_))));
        // A document set aside takes its version along: written again, it is new.
        store.set_aside(case, DocKind::Identity, "test", 0).unwrap();
        assert_eq!(store.doc_version(case, DocKind::Identity).unwrap(), None);
        store.commit(&write(None, DocKind::Identity)).unwrap();
        assert_eq!(store.doc_version(case, DocKind::Identity).unwrap(), Some(1));
    }

    /// Reading a document's version reads its short row, never the snapshot beside it.
    #[test]
    fn a_documents_version_is_read_without_its_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteHubStore::open(dir.path()).unwrap();
        let version =
            plan(&store, "SELECT version FROM doc_versions WHERE case_id = ?1 AND kind = ?2");
        assert!(version.contains("SEARCH doc_versions USING PRIMARY KEY"), "{version}");
        let columns: Vec<String> = store
            .conn()
            .prepare("SELECT name FROM pragma_table_info('docs')")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(columns, ["case_id", "kind", "snapshot"]);
    }

    /// Commits of documents of 20 KB each, one case apiece.
    fn write_cases(store: &SqliteHubStore, n: u128) {
        for i in 0..n {
            let commit = Commit {
                docs: vec![DocWrite {
                    case_id: CaseId(Uuid::from_u128(1000 + i)),
                    kind: DocKind::Case,
                    snapshot: Some(vec![i as u8; 20_000]),
                    tail: Vec::new(),
                    expected: None,
                }],
                ..Commit::default()
            };
            store.commit(&commit).unwrap();
        }
    }

    fn file_len(dir: &Path, name: &str) -> u64 {
        std::fs::metadata(dir.join(name)).map_or(0, |m| m.len())
    }

    /// Past the threshold the writer's commits leave the copying of the WAL into the database
    /// file to the checkpoint thread.
    #[test]
    fn the_checkpoint_thread_copies_the_wal_into_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let at = Thresholds { ring_at: 16, writer_at: 1_000_000 };
        let store = SqliteHubStore::open_with(dir.path(), at).unwrap();
        let before = file_len(dir.path(), DB_FILE);
        write_cases(&store, 40);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while store.checkpointer.done() == 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(store.checkpointer.done() > 0, "the thread never checkpointed");
        // Only a checkpoint writes the database file in WAL mode.
        let after = file_len(dir.path(), DB_FILE);
        assert!(after > before + 100_000, "database file {before} -> {after} bytes");
        for i in [0, 39] {
            let (snapshot, _) =
                store.doc(CaseId(Uuid::from_u128(1000 + i)), DocKind::Case).unwrap().unwrap();
            assert_eq!(snapshot, vec![i as u8; 20_000]);
        }
    }

    /// A checkpoint thread that never runs (never rung here) cannot let the WAL grow without
    /// bound: past its own threshold the writer checkpoints, as SQLite would have.
    #[test]
    fn the_writer_checkpoints_when_the_thread_falls_behind() {
        let unbounded = tempfile::tempdir().unwrap();
        let never = Thresholds { ring_at: 1_000_000, writer_at: 1_000_000 };
        // Kept open: the last connection to close checkpoints and removes the WAL.
        let open = SqliteHubStore::open_with(unbounded.path(), never).unwrap();
        write_cases(&open, 60);
        let bounded = tempfile::tempdir().unwrap();
        let writer = Thresholds { ring_at: 1_000_000, writer_at: 32 };
        let store = SqliteHubStore::open_with(bounded.path(), writer).unwrap();
        write_cases(&store, 60);
        let (grown, kept) =
            (file_len(unbounded.path(), "hub.db-wal"), file_len(bounded.path(), "hub.db-wal"));
        assert!(grown > 1_000_000, "the WAL without checkpoints holds {grown} bytes");
        assert!(kept * 4 < grown, "the writer's checkpoints kept the WAL at {kept} bytes");
        assert_eq!(store.checkpointer.done(), 0);
    }
}
