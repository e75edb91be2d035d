//! Where the key of an encrypted office store lives.
//!
//! The store is encrypted with a random data key (SQLCipher). That key is kept in *slots* in
//! `ledger.keys` beside the database, none of which holds it in the clear:
//! - `keyring`: the key itself is in the operating system's credential store (Secret Service,
//!   Windows Credential Manager, the macOS keychain); the slot only names the entry and holds a
//!   check value, so a copied data directory is useless without this user's keyring;
//! - `passphrase`: the key wrapped with a key derived from the passphrase (Argon2id), for
//!   machines without a keyring (`LEDGER_PASSPHRASE` for the CLI and tests, a prompt in the
//!   app);
//! - `recovery`: the key wrapped under the recovery passphrase county IT keeps, so a backup
//!   outlives the laptop whose keyring held the key.
//!
//! Wrapping is a BLAKE3 key stream and MAC under the derived key; the slots' salts are random.
//!
//! On Linux the keyring is asked over a *plain* Secret Service session, not a Diffie-Hellman
//! one: the session bus is this user's own socket, and a process that could read its traffic
//! (this user or root) could as well ask the Secret Service for the entry itself, so the
//! encrypted transfer protected nothing here and cost 6 ms of every start (measured in
//! BENCHMARKS.md, "Local store encrypted at rest").

use std::path::{Path, PathBuf};

use ledger_store::StoreKey;
use serde::{Deserialize, Serialize};

use crate::error::{OfficeError, Result};

/// The file beside the database that holds the key slots.
pub const KEYS_FILE: &str = "ledger.keys";

/// The keyring service entries are filed under.
const KEYRING_SERVICE: &str = "petition-ledger";

/// How this process unlocks (or protects, when creating) a store.
#[derive(Clone, PartialEq, Eq)]
pub enum Unlock {
    /// The operating system's credential store.
    Keyring,
    /// A passphrase: this computer's, or the recovery passphrase.
    Passphrase(String),
}

impl std::fmt::Debug for Unlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Keyring => f.write_str("Keyring"),
            Self::Passphrase(_) => f.write_str("Passphrase(..)"),
        }
    }
}

impl Unlock {
    /// Whether a new key can be protected this way: a passphrase of at least 8 characters, or a
    /// keyring this session can reach. Checked before anything irreversible (an enrollment
    /// token is spent only once).
    pub fn check(&self) -> Result<()> {
        match self {
            Self::Passphrase(p) if p.trim().chars().count() < 8 => {
                Err(OfficeError::invalid("passphrase", "台账口令", "口令至少 8 个字符"))
            }
            Self::Passphrase(_) => Ok(()),
            Self::Keyring if keyring_available() => Ok(()),
            Self::Keyring => Err(OfficeError::invalid(
                "passphrase",
                "台账口令",
                "本机没有可用的系统密钥环：请设置台账口令（命令行用环境变量 LEDGER_PASSPHRASE）",
            )),
        }
    }

    /// `LEDGER_PASSPHRASE` when it is set, else the keyring.
    pub fn from_env() -> Self {
        match std::env::var("LEDGER_PASSPHRASE") {
            Ok(p) if !p.is_empty() => Self::Passphrase(p),
            _ => Self::Keyring,
        }
    }
}

/// Argon2id's cost: OWASP's minimum for Argon2id (19 MiB, 2 passes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
}

impl KdfParams {
    /// The most a key file may ask of Argon2: a key file can come from elsewhere (a backup's
    /// `.keys`), and one asking for gigabytes or thousands of passes would stall or exhaust the
    /// machine before any passphrase is checked. Far above the cost this release writes.
    const MAX_M_KIB: u32 = 256 * 1024;
    const MAX_T: u32 = 16;

    /// Whether Argon2 may be run with these: within the bounds above (and its own minimum).
    fn within_bounds(self) -> bool {
        (8..=Self::MAX_M_KIB).contains(&self.m_kib) && (1..=Self::MAX_T).contains(&self.t)
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self { m_kib: 19 * 1024, t: 2 }
    }
}

/// One way to reach the data key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Slot {
    /// The key is in the keyring under `account`.
    Keyring {
        /// The keyring entry's account name.
        account: String,
        /// A MAC of a fixed text under the key: tells a stale keyring entry from the right one.
        check: String,
    },
    /// The key wrapped under this computer's passphrase.
    Passphrase(Wrapped),
    /// The key wrapped under the recovery passphrase.
    Recovery(Wrapped),
}

/// A data key wrapped under a passphrase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wrapped {
    /// Argon2id's cost when it was wrapped.
    pub kdf: KdfParams,
    /// Random salt, hex.
    pub salt: String,
    /// The key XOR the key stream, hex.
    pub wrapped: String,
    /// A MAC of `wrapped`, hex.
    pub tag: String,
}

/// The key slots of a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFile {
    /// Format version.
    pub version: u32,
    /// A random id naming this store's keyring entry.
    pub id: String,
    /// The slots.
    pub slots: Vec<Slot>,
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| OfficeError::Refused(format!("无法取得随机数：{e}")))?;
    Ok(bytes)
}

fn kdf(passphrase: &str, salt: &[u8], params: KdfParams) -> Result<[u8; 32]> {
    let params = argon2::Params::new(params.m_kib, params.t, 1, Some(32))
        .map_err(|e| OfficeError::Refused(format!("口令参数有误：{e}")))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = [0u8; 32];
    argon
        .hash_password_into(passphrase.trim().as_bytes(), salt, &mut out)
        .map_err(|e| OfficeError::Refused(format!("口令无法使用：{e}")))?;
    Ok(out)
}

/// The key stream and the MAC key for wrapping under `kek`.
fn streams(kek: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
    let mut out = [0u8; 64];
    blake3::Hasher::new_keyed(kek)
        .update(b"petition-ledger store key wrap")
        .finalize_xof()
        .fill(&mut out);
    let (mut stream, mut mac) = ([0u8; 32], [0u8; 32]);
    stream.copy_from_slice(&out[..32]);
    mac.copy_from_slice(&out[32..]);
    (stream, mac)
}

/// Wraps `key` under `passphrase` with a fresh salt.
pub fn wrap(key: &StoreKey, passphrase: &str, params: KdfParams) -> Result<Wrapped> {
    let salt: [u8; 16] = random()?;
    let kek = kdf(passphrase, &salt, params)?;
    let (stream, mac) = streams(&kek);
    let wrapped: Vec<u8> = key.bytes().iter().zip(stream).map(|(k, s)| k ^ s).collect();
    let tag = blake3::keyed_hash(&mac, &wrapped);
    Ok(Wrapped {
        kdf: params,
        salt: hex::encode(salt),
        wrapped: hex::encode(&wrapped),
        tag: tag.to_hex().to_string(),
    })
}

/// The key in `w`, if `passphrase` is the one it was wrapped under.
pub fn unwrap(w: &Wrapped, passphrase: &str) -> Result<Option<StoreKey>> {
    let bad = || OfficeError::BadFile(format!("密钥文件 {KEYS_FILE} 已损坏"));
    let salt = hex::decode(&w.salt).map_err(|_| bad())?;
    let wrapped = hex::decode(&w.wrapped).ok().filter(|b| b.len() == 32).ok_or_else(bad)?;
    let tag = hex::decode(&w.tag).ok().filter(|b| b.len() == 32).ok_or_else(bad)?;
    let kek = kdf(passphrase, &salt, w.kdf)?;
    let (stream, mac) = streams(&kek);
    let expected = blake3::keyed_hash(&mac, &wrapped);
    // blake3's Hash compares in constant time.
    let tag: [u8; 32] = tag.try_into().map_err(|_| bad())?;
    if expected != blake3::Hash::from(tag) {
        return Ok(None);
    }
    let mut key = [0u8; 32];
    for (i, (w, s)) in wrapped.iter().zip(stream).enumerate() {
        key[i] = w ^ s;
    }
    Ok(Some(StoreKey::from_bytes(key)))
}

fn check_value(key: &StoreKey) -> String {
    blake3::keyed_hash(key.bytes(), b"petition-ledger keyring check").to_hex().to_string()
}

/// A recovery passphrase: 120 random bits in six groups of Crockford base32 (`7K2MQ-...`),
/// to be written down and kept by county IT.
pub fn new_recovery_passphrase() -> Result<String> {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let bytes: [u8; 15] = random()?;
    let mut bits: u128 = 0;
    for b in bytes {
        bits = (bits << 8) | u128::from(b);
    }
    let chars: Vec<u8> =
        (0..24).rev().map(|i| ALPHABET[((bits >> (i * 5)) & 31) as usize]).collect();
    Ok(chars
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-"))
}

/// The keyring entry of a store.
fn keyring_entry(account: &str) -> Result<keyring::Entry> {
    keyring::Entry::new(KEYRING_SERVICE, account).map_err(|e| keyring_error(&e))
}

fn keyring_error(e: &keyring::Error) -> OfficeError {
    OfficeError::Refused(format!(
        "无法使用系统密钥环（{e}）：请设置台账口令（命令行用环境变量 LEDGER_PASSPHRASE），或使用恢复口令"
    ))
}

/// Whether this session has a usable keyring (a Secret Service on D-Bus, on Linux). Asked once
/// per process (the app asks at every screen): a keyring that appears later is seen at the next
/// start.
pub fn keyring_available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(|| match keyring::Entry::new(KEYRING_SERVICE, "availability-probe") {
        Ok(entry) => matches!(entry.get_password(), Ok(_) | Err(keyring::Error::NoEntry)),
        Err(_) => false,
    })
}

/// The key slots in `dir`, if the store there is encrypted.
pub fn read(dir: &Path) -> Result<Option<KeyFile>> {
    read_path(&dir.join(KEYS_FILE))
}

/// Key slots from the file at `path` (a store's, a pending rekey's, a backup's), if it exists.
/// A file far larger than any set of slots is refused before it is parsed.
pub fn read_path(path: &Path) -> Result<Option<KeyFile>> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.len() > 64 * 1024 => {
            return Err(OfficeError::BadFile(format!("密钥文件 {} 过大", path.display())));
        }
        _ => {}
    }
    match std::fs::read(path) {
        Ok(bytes) => {
            let file: KeyFile = serde_json::from_slice(&bytes).map_err(|e| {
                OfficeError::BadFile(format!("密钥文件 {} 无法读取：{e}", path.display()))
            })?;
            let unbounded = file.slots.iter().any(|slot| match slot {
                Slot::Passphrase(w) | Slot::Recovery(w) => !w.kdf.within_bounds(),
                Slot::Keyring { .. } => false,
            });
            if unbounded {
                return Err(OfficeError::BadFile(format!(
                    "密钥文件 {} 的口令参数超出范围，不是本程序写的：请从备份处取回原来的密钥文件",
                    path.display()
                )));
            }
            Ok(Some(file))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(OfficeError::BadFile(format!("密钥文件 {} 无法读取：{e}", path.display()))),
    }
}

/// Writes the key slots (0600), replacing the file only once the new one is complete.
pub fn write(dir: &Path, file: &KeyFile) -> Result<()> {
    let path = keys_path(dir);
    let json = serde_json::to_vec_pretty(file)
        .map_err(|e| OfficeError::BadFile(format!("密钥文件无法写入：{e}")))?;
    ledger_store::private::create_dir(dir)
        .and_then(|()| ledger_store::private::write_file(&path, &json))
        .map_err(|e| OfficeError::BadFile(format!("无法写入 {}：{e}", path.display())))
}

fn keys_path(dir: &Path) -> PathBuf {
    dir.join(KEYS_FILE)
}

/// What protecting a new key produced: the key slots, and the recovery passphrase to show once
/// (none when county IT gave its own, `LEDGER_RECOVERY_PASSPHRASE`).
#[derive(Debug)]
pub struct Protected {
    /// The slots to write.
    pub file: KeyFile,
    /// A recovery passphrase made here, to be shown once.
    pub recovery: Option<String>,
}

/// Protects `key` the way `unlock` says (the keyring, or a passphrase), plus a recovery slot
/// under `recovery` (or a new recovery passphrase).
pub fn protect(key: &StoreKey, unlock: &Unlock, recovery: Option<&str>) -> Result<Protected> {
    unlock.check()?;
    let id = hex::encode(random::<16>()?);
    let mut slots = Vec::new();
    match unlock {
        Unlock::Keyring => {
            let account = format!("store-{id}");
            keyring_entry(&account)?.set_secret(key.bytes()).map_err(|e| keyring_error(&e))?;
            slots.push(Slot::Keyring { account, check: check_value(key) });
        }
        Unlock::Passphrase(p) => {
            slots.push(Slot::Passphrase(wrap(key, p, KdfParams::default())?));
        }
    }
    let (recovery_text, made) = match recovery.map(str::trim).filter(|r| !r.is_empty()) {
        Some(given) => (given.to_owned(), None),
        None => {
            let made = new_recovery_passphrase()?;
            (made.clone(), Some(made))
        }
    };
    slots.push(Slot::Recovery(wrap(
        key,
        &normalise_recovery(&recovery_text),
        KdfParams::default(),
    )?));
    Ok(Protected { file: KeyFile { version: 1, id, slots }, recovery: made })
}

/// A recovery passphrase as typed: case, spaces and dashes do not matter when it is one made
/// here (only Crockford letters); one county IT chose is taken as given.
fn normalise_recovery(text: &str) -> String {
    let compact: String =
        text.chars().filter(|c| !matches!(c, '-' | ' ')).map(|c| c.to_ascii_uppercase()).collect();
    if compact.len() == 24
        && compact.bytes().all(|b| b"0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(&b))
    {
        compact
    } else {
        text.trim().to_owned()
    }
}

/// The data key from `file` as `unlock` reaches it: the keyring slot for the keyring; for a
/// passphrase, the passphrase slot and then the recovery slot (a clerk may type either).
pub fn open(file: &KeyFile, unlock: &Unlock) -> Result<StoreKey> {
    match unlock {
        Unlock::Keyring => {
            for slot in &file.slots {
                if let Slot::Keyring { account, check } = slot {
                    let secret =
                        keyring_entry(account)?.get_secret().map_err(|e| keyring_error(&e))?;
                    let bytes: [u8; 32] = secret.try_into().map_err(|_| {
                        OfficeError::Refused(
                            "系统密钥环中的台账钥匙已损坏：请使用恢复口令".to_owned(),
                        )
                    })?;
                    let key = StoreKey::from_bytes(bytes);
                    if &check_value(&key) == check {
                        return Ok(key);
                    }
                    return Err(OfficeError::Refused(
                        "系统密钥环中的台账钥匙与本台账不符：请使用恢复口令".to_owned(),
                    ));
                }
            }
            Err(OfficeError::Refused(
                "本台账不在系统密钥环中（用口令加密）：请输入台账口令或恢复口令".to_owned(),
            ))
        }
        Unlock::Passphrase(p) => {
            for slot in &file.slots {
                let found = match slot {
                    Slot::Passphrase(w) => unwrap(w, p)?,
                    Slot::Recovery(w) => unwrap(w, &normalise_recovery(p))?,
                    Slot::Keyring { .. } => None,
                };
                if let Some(key) = found {
                    return Ok(key);
                }
            }
            Err(OfficeError::Store(ledger_store::StoreError::WrongKey))
        }
    }
}

/// Removes the keyring entries of `file` (after a rekey made new ones).
pub fn forget(file: &KeyFile) {
    for slot in &file.slots {
        if let Slot::Keyring { account, .. } = slot
            && let Ok(entry) = keyring_entry(account)
            && let Err(e) = entry.delete_credential()
        {
            tracing::warn!(error = %e, "old keyring entry not removed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> KdfParams {
        KdfParams { m_kib: 64, t: 1 }
    }

    /// Set-up without a keyring: the passphrase is refused under its field when short (moved
    /// from the UI mock's own check, which the mock no longer computes).
    #[test]
    fn a_new_key_needs_a_passphrase_of_at_least_8_characters() {
        for short in ["1234567", "  短口令  "] {
            match Unlock::Passphrase(short.to_owned()).check() {
                Err(OfficeError::Invalid(errors)) => {
                    let e = &errors[0];
                    assert_eq!(
                        (e.field.as_str(), e.label.as_str(), e.message.as_str()),
                        ("passphrase", "台账口令", "口令至少 8 个字符")
                    );
                }
                other => panic!("{short}: {other:?}"),
            }
        }
        assert!(Unlock::Passphrase("测试台账口令-2026".to_owned()).check().is_ok());
    }

    #[test]
    fn a_wrapped_key_opens_only_with_its_passphrase() {
        let key = StoreKey::generate().unwrap();
        let w = wrap(&key, "县局口令 2026", cheap()).unwrap();
        assert_eq!(unwrap(&w, "县局口令 2026").unwrap(), Some(key.clone()));
        assert_eq!(unwrap(&w, " 县局口令 2026 ").unwrap(), Some(key.clone()), "trimmed");
        assert_eq!(unwrap(&w, "县局口令 2027").unwrap(), None);
        let mut tampered = w.clone();
        tampered.wrapped.replace_range(0..2, if &w.wrapped[0..2] == "00" { "01" } else { "00" });
        assert_eq!(unwrap(&tampered, "县局口令 2026").unwrap(), None);
        assert!(!w.wrapped.contains(&hex::encode(key.bytes())[..16]), "the key in the clear");
        let broken = Wrapped { salt: "zz".into(), ..w };
        assert!(unwrap(&broken, "县局口令 2026").is_err());
    }

    #[test]
    fn a_key_file_asking_argon2_for_too_much_is_refused_before_it_runs() {
        let dir = tempfile::tempdir().unwrap();
        let key = StoreKey::generate().unwrap();
        let mut file = KeyFile {
            version: 1,
            id: "x".into(),
            slots: vec![Slot::Recovery(wrap(&key, "县局口令 2026", cheap()).unwrap())],
        };
        write(dir.path(), &file).unwrap();
        assert!(read(dir.path()).unwrap().is_some());
        for kdf in [KdfParams { m_kib: 4 << 20, t: 1 }, KdfParams { m_kib: 64, t: 100_000 }] {
            if let Slot::Recovery(w) = &mut file.slots[0] {
                w.kdf = kdf;
            }
            write(dir.path(), &file).unwrap();
            let err = read(dir.path()).unwrap_err();
            assert!(err.to_string().contains("超出范围"), "{kdf:?}: {err}");
        }
        assert!(KdfParams::default().within_bounds());
    }

    #[test]
    fn passphrase_and_recovery_slots_both_open_the_store_and_nothing_else_does() {
        let key = StoreKey::generate().unwrap();
        let protected = protect(&key, &Unlock::Passphrase("本机口令12345".into()), None).unwrap();
        let recovery = protected.recovery.clone().unwrap();
        assert_eq!(recovery.len(), 29);
        let file = protected.file;
        assert_eq!(open(&file, &Unlock::Passphrase("本机口令12345".into())).unwrap(), key);
        assert_eq!(open(&file, &Unlock::Passphrase(recovery.clone())).unwrap(), key);
        let typed = recovery.to_lowercase().replace('-', " ");
        assert_eq!(open(&file, &Unlock::Passphrase(typed)).unwrap(), key, "as typed from paper");
        assert!(matches!(
            open(&file, &Unlock::Passphrase("别的口令".into())),
            Err(OfficeError::Store(ledger_store::StoreError::WrongKey))
        ));
        // County IT's own recovery passphrase is used as given, and none is shown.
        let own =
            protect(&key, &Unlock::Passphrase("本机口令12345".into()), Some("县局备份口令-2026"))
                .unwrap();
        assert!(own.recovery.is_none());
        assert_eq!(open(&own.file, &Unlock::Passphrase("县局备份口令-2026".into())).unwrap(), key);
        // Too short a passphrase is refused before anything is made.
        assert!(protect(&key, &Unlock::Passphrase("短".into()), None).is_err());
        let json = serde_json::to_string(&file).unwrap();
        assert!(!json.contains(&hex::encode(key.bytes())), "the key in the clear in {json}");
    }
}
