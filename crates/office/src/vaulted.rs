//! The office's store encrypted at rest: creating it encrypted, opening it with the key the
//! vault gives (and encrypting a plain store from before on its first start), changing its key,
//! and backups that travel with their key slots. The CLI and the app go through these; plain
//! stores remain for tests and benchmarks (`Office::init`, `Office::open`).

use std::path::{Path, PathBuf};

use ledger_store::{Store, StoreError, StoreKey};

use crate::error::{OfficeError, Result};
use crate::vault::{self, KEYS_FILE, KeyFile, Unlock};
use crate::{Clock, Office, OfficeConfig};

/// An office opened or created encrypted, and the recovery passphrase made for it, which must
/// be shown once (county IT keeps it) and is then gone.
pub struct Opened {
    /// The office.
    pub office: Office,
    /// A recovery passphrase made now (a new store, an encrypted plain one, a new key).
    pub recovery: Option<String>,
}

/// Where a rekey writes the new slots until the database has the new key.
const PENDING_KEYS: &str = "ledger.keys.new";

/// County IT's own recovery passphrase, when it set one for the county.
fn county_recovery() -> Option<String> {
    std::env::var("LEDGER_RECOVERY_PASSPHRASE").ok().filter(|r| !r.trim().is_empty())
}

/// The key slots that open `dir`'s database: a rekey interrupted after the database got its new
/// key left the new slots in `ledger.keys.new`; they are tried too, and kept when they work.
fn unlocked_key(dir: &Path, unlock: &Unlock) -> Result<Option<StoreKey>> {
    let Some(file) = vault::read(dir)? else { return Ok(None) };
    let pending = vault::read_path(&dir.join(PENDING_KEYS))?;
    let key = vault::open(&file, unlock);
    match (key, pending) {
        (Ok(key), None) => Ok(Some(key)),
        (Ok(key), Some(new)) => {
            // Which of the two opens the database decides which rekey step was reached.
            match (probe(dir, &key), vault::open(&new, unlock)) {
                (true, _) => {
                    // Left behind, the stale slots are tried and dropped again at the next open.
                    let _ = std::fs::remove_file(dir.join(PENDING_KEYS));
                    Ok(Some(key))
                }
                (false, Ok(new_key)) => {
                    finish_pending(dir, &new)?;
                    Ok(Some(new_key))
                }
                (false, Err(e)) => Err(e),
            }
        }
        (Err(e), Some(new)) => {
            let key = vault::open(&new, unlock).map_err(|_| e)?;
            finish_pending(dir, &new)?;
            Ok(Some(key))
        }
        (Err(e), None) => Err(e),
    }
}

fn finish_pending(dir: &Path, new: &KeyFile) -> Result<()> {
    vault::write(dir, new)?;
    // The slots are in place; a copy left behind is found the same and dropped at the next open.
    let _ = std::fs::remove_file(dir.join(PENDING_KEYS));
    Ok(())
}

/// Whether `key` opens the database in `dir` (it may be plain mid-migration: then no).
fn probe(dir: &Path, key: &StoreKey) -> bool {
    Store::is_encrypted(dir).unwrap_or(false) && ledger_store::cipher::opens(dir, key)
}

impl Office {
    /// Creates a new office store in `dir`, encrypted, its key protected as `unlock` says plus
    /// a recovery slot.
    pub fn init_unlocked(
        dir: &Path,
        config: OfficeConfig,
        unlock: &Unlock,
        clock: Clock,
    ) -> Result<Opened> {
        let config = config.normalised()?;
        if ledger_store::Store::exists(dir) {
            return Err(StoreError::Exists(dir.to_path_buf()).into());
        }
        let (key, recovery) = Self::new_vault(dir, unlock)?;
        let store = Store::create_keyed(dir, None, Some(key))?;
        Ok(Opened { office: Self::adopt(store, config, clock)?, recovery })
    }

    /// Makes a data key, protects it and writes the key slots: first, so a store is never
    /// encrypted under a key nothing holds.
    pub(crate) fn new_vault(dir: &Path, unlock: &Unlock) -> Result<(StoreKey, Option<String>)> {
        let key = StoreKey::generate()?;
        let protected = vault::protect(&key, unlock, county_recovery().as_deref())?;
        vault::write(dir, &protected.file)?;
        Ok((key, protected.recovery))
    }

    /// Opens the office store in `dir` with the key `unlock` reaches. A store from before
    /// encryption is encrypted first (`progress` hears bytes done and in all), and its new
    /// recovery passphrase is returned to be shown once.
    pub fn open_unlocked(
        dir: &Path,
        unlock: &Unlock,
        clock: Clock,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Opened> {
        if !Store::exists(dir) {
            return Err(StoreError::Missing(dir.to_path_buf()).into());
        }
        // The keyring answers over D-Bus while SQLite initialises: the two waits overlap.
        let key = std::thread::scope(|s| {
            let warm = s.spawn(ledger_store::cipher::warm_up);
            let key = unlocked_key(dir, unlock);
            // Only a warm-up: the store opens (more slowly) without it.
            let _ = warm.join();
            key
        });
        let (key, recovery) = match key? {
            Some(key) => (key, None),
            // Encrypted, and its key slots gone: making new ones would only hide that.
            None if Store::is_encrypted(dir)? => {
                return Err(OfficeError::BadFile(format!(
                    "台账已加密，但它的密钥文件 {KEYS_FILE} 不见了：请从备份处取回该文件（备份旁的 .keys 文件即是）放回 {}",
                    dir.display()
                )));
            }
            None => Self::new_vault(dir, unlock)?,
        };
        if !Store::is_encrypted(dir)? {
            tracing::info!(dir = %dir.display(), "encrypting the store");
            Store::encrypt_in_place(dir, &key, progress)?;
        }
        let store = Store::open_keyed(dir, Some(key))?;
        Ok(Opened { office: Self::open_store(dir, store, clock)?, recovery })
    }

    /// Gives the closed store in `dir` a new data key, protected as `new` says (the keyring or a
    /// new passphrase) with a new recovery passphrase, which is returned to be shown once; the
    /// old key and its slots stop working. `old` unlocks the store as it is.
    pub fn rekey(dir: &Path, old: &Unlock, new: &Unlock) -> Result<Option<String>> {
        let current = vault::read(dir)?.ok_or_else(|| {
            OfficeError::Refused(
                "台账尚未加密：先正常打开一次（会自动加密），再更换钥匙".to_owned(),
            )
        })?;
        let old_key = unlocked_key(dir, old)?.ok_or(StoreError::Encrypted)?;
        let new_key = StoreKey::generate()?;
        let protected = vault::protect(&new_key, new, county_recovery().as_deref())?;
        // New slots first, beside the old ones; then the database; then the slots swap.
        let pending = dir.join(PENDING_KEYS);
        let json = serde_json::to_vec_pretty(&protected.file)
            .map_err(|e| OfficeError::BadFile(e.to_string()))?;
        ledger_store::private::write_file(&pending, &json)
            .map_err(|e| OfficeError::BadFile(format!("无法写入 {}：{e}", pending.display())))?;
        Store::rekey_in_place(dir, &old_key, &new_key, &mut |_, _| {})?;
        finish_pending(dir, &protected.file)?;
        vault::forget(&current);
        Ok(protected.recovery)
    }

    /// Writes a backup to `out`, and for an encrypted store its key slots to `out.keys`: the
    /// two together open on another machine with the recovery passphrase. Returns the key file
    /// written, if any.
    pub fn backup(&self, out: &Path) -> Result<Option<PathBuf>> {
        self.store.backup(out)?;
        let Some(file) = vault::read(self.store.dir())? else { return Ok(None) };
        let keys = keys_beside(out);
        let json =
            serde_json::to_vec_pretty(&file).map_err(|e| OfficeError::BadFile(e.to_string()))?;
        ledger_store::private::write_file(&keys, &json)
            .map_err(|e| OfficeError::BadFile(format!("无法写入 {}：{e}", keys.display())))?;
        Ok(Some(keys))
    }

    /// Replaces the store in `dir` with the backup `file` (encrypted ones with their key file
    /// `file.keys`, opened with `unlock`: on another machine, the recovery passphrase). Mints a
    /// new actor; returns it.
    pub fn restore_unlocked(dir: &Path, file: &Path, unlock: &Unlock) -> Result<String> {
        let keys_path = keys_beside(file);
        let plain = ledger_store::cipher::is_plain(file).map_err(|e| {
            OfficeError::BadFile(format!("备份文件 {} 无法读取：{e}", file.display()))
        })?;
        if plain {
            return Ok(Store::restore(dir, file)?.to_hex_string());
        }
        let keys = vault::read_path(&keys_path)?.ok_or_else(|| StoreError::BadBackup {
            path: file.to_path_buf(),
            reason: format!(
                "不是台账备份文件；若是加密的备份，须与它的密钥文件 {} 放在同一目录",
                keys_path.display()
            ),
        })?;
        let key = vault::open(&keys, unlock)?;
        let actor = Store::restore_keyed(dir, file, Some(&key))?;
        vault::write(dir, &keys)?;
        Ok(actor.to_hex_string())
    }
}

/// `backup.db` → `backup.db.keys`.
fn keys_beside(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".keys");
    PathBuf::from(name)
}
