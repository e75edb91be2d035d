//! Backup and restore. A backup is a consistent copy of the open store taken while the office
//! keeps working: SQLite's online backup of a plain store, SQLCipher's export of an encrypted one
//! (under the same key, so the same key slots open it). A restore replaces the store with a backup and mints a
//! new Automerge actor, because the old actor's later changes may already be at the hub:
//! reusing it would repeat (actor, sequence) pairs with different content.

use std::path::Path;

use ledger_domain::automerge::ActorId;
use rusqlite::{Connection, OpenFlags};

use crate::error::{Result, StoreError};
use crate::lock::LockFile;
use crate::{DB_FILE, Store, StoreKey, meta_get, meta_set, now_ms};

impl Store {
    /// Writes a consistent copy of the store to `out`.
    pub fn backup(&self, out: &Path) -> Result<()> {
        if out.exists() {
            std::fs::remove_file(out)?;
        }
        // The backup holds everything the store does: only this user may read it.
        crate::private::touch(out)?;
        let conn = self.reader();
        match &self.key {
            Some(key) => crate::cipher::export(&conn, out, Some(key))?,
            None => conn.backup(rusqlite::MAIN_DB, out, None::<fn(rusqlite::backup::Progress)>)?,
        }
        Ok(())
    }

    /// Replaces the store in `dir` with the backup `file`, minting a new actor. The store must
    /// not be open anywhere. Returns the new actor.
    pub fn restore(dir: &Path, file: &Path) -> Result<ActorId> {
        Self::restore_keyed(dir, file, None)
    }

    /// [`Store::restore`] of a backup encrypted with `key` (the store stays encrypted with it).
    pub fn restore_keyed(dir: &Path, file: &Path, key: Option<&StoreKey>) -> Result<ActorId> {
        let bad = |reason: &str| StoreError::BadBackup {
            path: file.to_path_buf(),
            reason: reason.to_owned(),
        };
        if !file.is_file() {
            return Err(bad("文件不存在"));
        }
        crate::private::create_dir(dir)?;
        let _lock = LockFile::acquire(dir)?;
        {
            let conn = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)
                .map_err(|e| bad(&e.to_string()))?;
            if let Some(key) = key {
                crate::cipher::unlock(&conn, key)?;
            }
            let ok: String = conn
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .map_err(|_| bad("不是台账备份文件"))?;
            if ok != "ok" {
                return Err(bad(&format!("文件已损坏（{ok}）")));
            }
            meta_get(&conn, "actor")
                .map_err(|_| bad("不是台账备份文件"))?
                .ok_or_else(|| bad("不是台账备份文件"))?;
        }
        let target = dir.join(DB_FILE);
        let staging = dir.join("ledger.db.restoring");
        std::fs::copy(file, &staging)?;
        crate::private::touch(&staging)?;
        let actor = ActorId::random();
        {
            let conn = Connection::open(&staging)?;
            if let Some(key) = key {
                crate::cipher::unlock(&conn, key)?;
            }
            meta_set(&conn, "actor", &actor.to_hex_string())?;
            meta_set(&conn, "restored_at", &now_ms().to_string())?;
            meta_set(&conn, "needs_repair", "1")?;
        }
        for suffix in ["-wal", "-shm"] {
            let side = dir.join(format!("{DB_FILE}{suffix}"));
            if side.exists() {
                std::fs::remove_file(side)?;
            }
        }
        std::fs::rename(&staging, &target)?;
        Ok(actor)
    }
}
