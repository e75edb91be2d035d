//! The store encrypted at rest (SQLCipher): the data key, opening a keyed connection, telling an
//! encrypted file from a plain one, encrypting a plain store in place, changing the key, and
//! backups written with SQLCipher's export under the same key.
//!
//! Where the data key comes from (the system's keyring, a passphrase, the recovery passphrase)
//! is the office's business (`ledger_office::vault`); this module only uses it. The key is 32
//! random bytes given to SQLCipher raw (`x'…'`), so opening costs no key derivation here.

use std::path::Path;

use rusqlite::Connection;

use crate::error::{Result, StoreError};

/// A store's data key: 32 random bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreKey([u8; 32]);

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

impl StoreKey {
    /// A key from its bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A new key from the operating system's random source.
    pub fn generate() -> Result<Self> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| StoreError::Io(std::io::Error::other(e)))?;
        Ok(Self(bytes))
    }

    /// The key's bytes (to wrap them for a key slot).
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The text SQLCipher takes a raw key as: `x'…'`.
    fn raw_text(&self) -> String {
        format!("x'{}'", hex::encode(self.0))
    }
}

/// The first bytes of every plain SQLite file.
const PLAIN_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Whether the file at `path` is a plain (unencrypted) SQLite database. An encrypted file
/// starts with its random salt instead.
pub fn is_plain(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut header = [0u8; 16];
    let mut file = std::fs::File::open(path)?;
    let n = file.read(&mut header)?;
    // An empty file is a database SQLite has not written yet: plain.
    Ok(n == 0 || (n == 16 && &header == PLAIN_HEADER))
}

/// Gives `conn` its key: the first statement on a new connection. Then proves the key opens the
/// file (SQLCipher only finds out on the first read).
pub(crate) fn unlock(conn: &Connection, key: &StoreKey) -> Result<()> {
    // A wrong key is reported to the caller as `WrongKey`; SQLCipher need not also log it.
    let _ = conn.execute_batch("PRAGMA cipher_log_level = NONE;");
    conn.pragma_update(None, "key", key.raw_text())?;
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)) {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Err(StoreError::WrongKey)
        }
        Err(e) => Err(e.into()),
    }
}

/// Initialises the SQLite library in this process, which for SQLCipher includes its crypto
/// provider (OpenSSL): 2-3 ms that every first connection pays. A caller waiting for a key (the
/// keyring over D-Bus) runs this meanwhile so the two waits overlap.
pub fn warm_up() {
    if let Err(e) = Connection::open_in_memory() {
        tracing::debug!(error = %e, "SQLite warm-up failed; the first connection will say why");
    }
}

/// Whether `key` opens the encrypted database of the store in `dir`.
pub fn opens(dir: &Path, key: &StoreKey) -> bool {
    let path = dir.join(crate::DB_FILE);
    Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(StoreError::from)
        .and_then(|conn| unlock(&conn, key))
        .is_ok()
}

/// Writes the database open on `conn` to `out` as a new database encrypted with `key` (or plain
/// with `None`), with SQLCipher's export: a consistent copy.
pub(crate) fn export(conn: &Connection, out: &Path, key: Option<&StoreKey>) -> Result<()> {
    let path = out.to_str().ok_or_else(|| {
        StoreError::Io(std::io::Error::other(format!("{} 不是有效的路径", out.display())))
    })?;
    // SQLCipher reads a key text of the form x'…' as the raw key; '' attaches a plain file.
    let key_text = key.map_or_else(String::new, StoreKey::raw_text);
    conn.execute("ATTACH DATABASE ?1 AS export KEY ?2", rusqlite::params![path, key_text])?;
    let exported = conn
        .query_row("SELECT sqlcipher_export('export')", [], |_| Ok(()))
        .map_err(StoreError::from);
    // The user version (the schema's migration number) is not part of the export.
    let version: i64 = conn.pragma_query_value(Some("main"), "user_version", |r| r.get(0))?;
    conn.pragma_update(Some("export"), "user_version", version)?;
    conn.execute_batch("DETACH DATABASE export;")?;
    exported
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_encrypted_file_holds_no_plaintext_and_opens_only_with_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let key = StoreKey::generate().unwrap();
        {
            let conn = Connection::open(&path).unwrap();
            unlock(&conn, &key).unwrap();
            conn.execute_batch(
                "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('钱七 11010519491231002X');",
            )
            .unwrap();
        }
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.windows(6).any(|w| w == "钱七".as_bytes()), "plaintext on disk");
        assert!(!is_plain(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        let other = StoreKey::generate().unwrap();
        assert!(matches!(unlock(&conn, &other), Err(StoreError::WrongKey)));
        let conn = Connection::open(&path).unwrap();
        unlock(&conn, &key).unwrap();
        let v: String = conn.query_row("SELECT v FROM t", [], |r| r.get(0)).unwrap();
        assert!(v.starts_with("钱七"));
        // Exported plain, then encrypted again: the same rows each way.
        let plain = dir.path().join("plain.db");
        export(&conn, &plain, None).unwrap();
        assert!(is_plain(&plain).unwrap());
        let back = dir.path().join("back.db");
        let plain_conn = Connection::open(&plain).unwrap();
        export(&plain_conn, &back, Some(&key)).unwrap();
        let conn = Connection::open(&back).unwrap();
        unlock(&conn, &key).unwrap();
        let v: String = conn.query_row("SELECT v FROM t", [], |r| r.get(0)).unwrap();
        assert!(v.starts_with("钱七"));
    }
}
