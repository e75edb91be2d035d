//! One process per store: an exclusive lock on `ledger.lock` in the data directory, held for
//! the life of the [`crate::Store`]. Two processes writing one store could reuse an Automerge
//! (actor, sequence) pair, which Automerge refuses for ever.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::error::{Result, StoreError};

/// The held lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub(crate) struct LockFile {
    _file: File,
}

impl LockFile {
    /// Takes the lock or says who holds it.
    pub(crate) fn acquire(dir: &Path) -> Result<Self> {
        let path = dir.join("ledger.lock");
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        // It names the process holding the store; like every file here, the user's alone.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = if holder.trim().is_empty() {
                    "未知进程".to_owned()
                } else {
                    holder.trim().to_owned()
                };
                return Err(StoreError::InUse { dir: dir.to_path_buf(), holder });
            }
            Err(TryLockError::Error(e)) => return Err(e.into()),
        }
        let exe = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "ledger".to_owned());
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        write!(file, "进程 {} ({exe})", std::process::id())?;
        file.flush()?;
        Ok(Self { _file: file })
    }
}
