//! Files only the hub's own user may read: its database, certificates, keys and bundles hold
//! petitioners' names, ID numbers and the county's secrets, so directories are made 0700 and
//! files 0600 whatever the umask says. (The office store has the same rule in
//! `ledger_store::private`; the two crates share no lower IO crate, DESIGN §2.)

use std::io::Write;
use std::path::Path;

/// Creates `dir` (and its parents) if missing, and makes it 0700.
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Writes `bytes` to `path` as a new file, mode 0600, replacing any file there only once the
/// new one is complete on disk.
pub fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("partial");
    let mut file = create_file(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)
}

/// Creates (or truncates) `path` with mode 0600.
pub fn create_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        // An existing file keeps its mode through open(); set it.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    {
        options.open(path)
    }
}

/// Creates `path` as a new empty file, mode 0600; fails if anything (a symlink included) is
/// there already.
pub fn create_new(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map(drop)
}

/// Makes an existing file 0600 (a database SQLite is about to open, made beforehand so its
/// journal files inherit the mode).
pub fn touch(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
    }
    #[cfg(not(unix))]
    {
        options.open(path).map(drop)
    }
}

/// The hub's signing key (hex seed) kept in `path`, made on first use. Made race-free across
/// processes: the new key is written whole to a file of its own and linked into place, so two
/// hub processes starting at once on one data directory agree on the one that got there first.
pub fn signing_key_file(path: &Path) -> crate::store::Result<String> {
    use crate::store::StoreError;
    let failed = |e: std::io::Error| StoreError::Database(format!("{}: {e}", path.display()));
    match std::fs::read_to_string(path) {
        Ok(hex) => return Ok(hex.trim().to_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(failed(e)),
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| StoreError::Database(e.to_string()))?;
    let hex = hex::encode(seed);
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| StoreError::Database(e.to_string()))?;
    let tmp = path.with_extension(format!("new-{}", hex::encode(nonce)));
    let mut file = create_file(&tmp).map_err(failed)?;
    file.write_all(hex.as_bytes()).and_then(|()| file.sync_all()).map_err(failed)?;
    drop(file);
    let linked = std::fs::hard_link(&tmp, path);
    if let Err(e) = std::fs::remove_file(&tmp) {
        tracing::warn!(file = %tmp.display(), error = %e, "temporary key file left behind");
    }
    match linked {
        Ok(()) => Ok(hex),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::read_to_string(path).map(|k| k.trim().to_owned()).map_err(failed)
        }
        Err(e) => Err(failed(e)),
    }
}
