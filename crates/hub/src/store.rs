//! `HubStore`: where the hub keeps offices, devices, documents, the hub log and blobs. The sync
//! engine and the handlers see only this trait, so SQL stays in the backends (SQLite now,
//! PostgreSQL later).
//!
//! Every method is synchronous and is called from a blocking thread. A backend must make
//! [`HubStore::commit`] atomic: a batch is stored whole or not at all, and the log sequence
//! numbers it assigns become visible in order (a reader must never see seq N+1 before N).

use std::collections::{HashMap, HashSet};

use ledger_domain::{CaseFacts, CaseId, Role};
use ledger_protocol::{BlobChunk, DocKind};
use serde::Serialize;
use uuid::Uuid;

pub use ledger_domain::scope::CaseScope;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("hub database: {0}")]
    Database(String),
    /// A record that should exist does not.
    #[error("{0}")]
    NotFound(String),
    /// A record that must be unique exists.
    #[error("{0}")]
    Conflict(String),
    /// Another process changed a document this commit was based on; try again.
    #[error("文档已被另一进程修改：{0}")]
    Busy(String),
    /// Stored data is damaged (a document's tail names a change that is not stored):
    /// reported, never loaded as something it was not.
    #[error("hub data damaged: {0}")]
    Damaged(String),
}

/// The hub's secret from its stored hex. A damaged one is reported, never read as zeros (which
/// would key every hash alike).
pub fn secret_from_hex(hex: &str) -> Result<[u8; 32]> {
    let mut key = [0u8; 32];
    hex::decode_to_slice(hex.trim(), &mut key).map_err(|e| {
        StoreError::Database(format!("the hub's stored secret is not 64 hex digits ({e})"))
    })?;
    Ok(key)
}

/// A stored document whose tail names a change the store does not hold.
pub fn missing_tail(case: CaseId, hash: &str) -> StoreError {
    StoreError::Damaged(format!("stored document {case}: change {hash} of its tail is missing"))
}

/// Results of the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfficeRecord {
    /// 单位代码.
    pub code: String,
    /// 单位名称.
    pub name: String,
    /// Bureau or township.
    pub role: Role,
    /// The townships it answers for.
    pub townships: Vec<String>,
    /// When it was added (ms).
    pub created_at: i64,
}

/// An enrollment token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The office it enrolls a device of.
    pub office: String,
    /// When it stops working (ms).
    pub expires_at: i64,
    /// When it was used, by which actor, creating which device.
    pub used: Option<(i64, String, String)>,
}

/// An enrolled device and its sync health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceRecord {
    /// Device id.
    pub id: String,
    /// Its office.
    pub office: String,
    /// A name (host name).
    pub name: String,
    /// Its Automerge actor, hex.
    pub actor: String,
    /// Its letter in case numbers.
    pub letter: String,
    /// Enrolled (ms).
    pub enrolled_at: i64,
    /// Revoked (ms).
    pub revoked_at: Option<i64>,
    /// Last successful sync (hub time, ms).
    pub last_sync: Option<i64>,
    /// Changes waiting in its outbox at the last sync.
    pub pending: u64,
    /// The last error it reported.
    pub last_error: Option<String>,
    /// Its clock minus the hub's at the last sync (ms).
    pub skew_ms: Option<i64>,
    /// Its Ed25519 public key (hex), registered at enrollment: its USB bundles are checked
    /// with it. `None` for a device enrolled before device keys, until its next sync.
    pub public_key: Option<String>,
}

/// A record of the hub log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEntry {
    /// An accepted change.
    Change {
        /// Which change.
        hash: String,
        /// The device that made it.
        author_device: String,
        /// Visible to offices answering for this township...
        township: Option<String>,
        /// ...or to the registrar while unassigned...
        registrar: Option<String>,
        /// ...or only to the bureau (scope changed in the batch, or a restricted identity).
        bureau_only: bool,
    },
    /// The case entered `target`'s scope (with the row's kind `Identity`: only its identity
    /// document did, a restriction having been lifted).
    Enter {
        /// The office.
        target: String,
    },
    /// The case left `target`'s scope (with the row's kind `Identity`: only its identity
    /// document did, the case having become restricted).
    Leave {
        /// The office.
        target: String,
    },
}

/// A new log row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLogRow {
    /// The case.
    pub case_id: CaseId,
    /// Which document (changes; enter rows name each document).
    pub kind: DocKind,
    /// What it is.
    pub entry: LogEntry,
    /// When (ms).
    pub received_at: i64,
}

/// A stored log row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRow {
    /// Sequence number.
    pub seq: u64,
    /// The case.
    pub case_id: CaseId,
    /// Which document.
    pub kind: DocKind,
    /// `change`, `enter` or `leave`.
    pub what: LogKind,
    /// For changes.
    pub hash: Option<String>,
    /// When (ms).
    pub received_at: i64,
}

/// The kind of a log row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKind {
    /// A change.
    Change,
    /// An enter.
    Enter,
    /// A leave.
    Leave,
}

/// Who is reading the log.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    /// The office.
    pub office: &'a str,
    /// The device (its own changes are left out).
    pub device: &'a str,
    /// Whether the office is the bureau (it sees everything).
    pub bureau: bool,
    /// The townships a township office answers for.
    pub townships: &'a [String],
}

/// A change to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChange {
    /// Hash, hex.
    pub hash: String,
    /// The case.
    pub case_id: CaseId,
    /// Which document.
    pub kind: DocKind,
    /// The device that sent it.
    pub device: String,
    /// When (ms).
    pub received_at: i64,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// What [`HubStore::survey`] read: anything surveyed and not in a map was read as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Survey {
    /// The documents surveyed.
    pub keys: HashSet<(CaseId, DocKind)>,
    /// The cases surveyed.
    pub cases: HashSet<CaseId>,
    /// The versions of the surveyed documents the hub holds.
    pub versions: HashMap<(CaseId, DocKind), i64>,
    /// The surveyed documents set aside.
    pub set_aside: HashSet<(CaseId, DocKind)>,
    /// The surveyed cases purged.
    pub purged: HashSet<CaseId>,
    /// The scopes of the surveyed cases the hub knows.
    pub scopes: HashMap<CaseId, CaseScope>,
}

impl Survey {
    /// The cases whose scope and purge a survey of `keys` reads: those of case and identity
    /// documents (rosters, rules and work records are not cases).
    pub fn cases_of(keys: &[(CaseId, DocKind)]) -> Vec<CaseId> {
        let mut seen = HashSet::new();
        keys.iter()
            .filter(|(_, kind)| matches!(kind, DocKind::Case | DocKind::Identity))
            .map(|(case, _)| *case)
            .filter(|case| seen.insert(*case))
            .collect()
    }

    /// A surveyed document's version (`Some(None)`: not held); `None` if not surveyed.
    pub fn version(&self, key: (CaseId, DocKind)) -> Option<Option<i64>> {
        self.keys.contains(&key).then(|| self.versions.get(&key).copied())
    }

    /// Whether a surveyed document was set aside; `None` if not surveyed.
    pub fn is_set_aside(&self, key: (CaseId, DocKind)) -> Option<bool> {
        self.keys.contains(&key).then(|| self.set_aside.contains(&key))
    }

    /// Whether a surveyed case was purged; `None` if not surveyed.
    pub fn is_purged(&self, case: CaseId) -> Option<bool> {
        self.cases.contains(&case).then(|| self.purged.contains(&case))
    }

    /// A surveyed case's scope (`Some(None)`: unknown to the hub); `None` if not surveyed.
    pub fn scope(&self, case: CaseId) -> Option<Option<&CaseScope>> {
        self.cases.contains(&case).then(|| self.scopes.get(&case))
    }
}

/// A document's new state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocWrite {
    /// The case.
    pub case_id: CaseId,
    /// Which document.
    pub kind: DocKind,
    /// A new snapshot (replaces the old one and clears the tail), if compacted or new.
    pub snapshot: Option<Vec<u8>>,
    /// Changes appended to the tail, by hash.
    pub tail: Vec<String>,
    /// The version the document was read at (`None`: it must not exist yet). The commit fails
    /// with [`StoreError::Busy`] if another process wrote the document since.
    pub expected: Option<i64>,
}

/// Everything one accepted batch stores, atomically.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Commit {
    /// New changes.
    pub changes: Vec<StoredChange>,
    /// Document states.
    pub docs: Vec<DocWrite>,
    /// Case scope and statistics facts.
    pub cases: Vec<(CaseId, CaseScope, Option<CaseFacts>)>,
    /// Log rows, in order.
    pub log: Vec<NewLogRow>,
    /// Attachments cited by cases.
    pub blob_refs: Vec<(String, CaseId)>,
    /// Identity drops merged by this commit: (drop id, case, office).
    pub drops: Vec<(Uuid, CaseId, String)>,
    /// Cases whose log rows were planned with the scope read here though the commit does not
    /// write the document the scope follows (an identity's changes alone, say): the commit fails
    /// with [`StoreError::Busy`] if another process changed that scope since (`None`: the case
    /// had no row). Without it, an identity change planned before another process restricted
    /// the case would be logged for its township after the restriction (信访工作条例 §30).
    pub scopes_read: Vec<(CaseId, Option<CaseScope>)>,
}

/// A change the hub refused, kept for the county to inspect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarantineRecord {
    /// The hash the office claimed (hex).
    pub hash: String,
    /// The case (or roster) it was for.
    pub case_id: CaseId,
    /// Which document.
    pub kind: DocKind,
    /// The sending device.
    pub device: String,
    /// Its office.
    pub office: String,
    /// The rule that refused it.
    pub rule: String,
    /// Why, in Chinese.
    pub reason: String,
    /// When (hub time, ms).
    pub received_at: i64,
    /// The bytes as received.
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// What a device reported at a sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncHealth {
    /// Hub time (ms).
    pub at: i64,
    /// Log position after the page.
    pub seq: u64,
    /// Outbox length.
    pub pending: u64,
    /// Last error reported.
    pub last_error: Option<String>,
    /// Device clock minus hub clock.
    pub skew_ms: i64,
}

/// A database connection pool's state, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open.
    pub open: usize,
    /// Of those, idle.
    pub idle: usize,
    /// The most the pool opens.
    pub max: usize,
}

/// A stored document: its snapshot and the changes applied since, in order.
pub type StoredDoc = (Vec<u8>, Vec<Vec<u8>>);

/// The most number blocks of one series a device is leased in a day (every store refuses the
/// next one alike).
pub const MAX_LEASES_PER_DAY: u32 = 10;
/// How much of a refused change's bytes a quarantine record keeps.
pub const QUARANTINE_SAMPLE: usize = 64 * 1024;
/// The most Automerge actors one device may register besides its first.
pub const MAX_ACTORS_PER_DEVICE: u32 = 64;

/// Storage for the hub.
pub trait HubStore: Send + Sync + 'static {
    /// Adds an office; an existing code is a conflict.
    fn add_office(&self, office: &OfficeRecord) -> Result<()>;
    /// One office.
    fn office(&self, code: &str) -> Result<Option<OfficeRecord>>;
    /// Every office.
    fn offices(&self) -> Result<Vec<OfficeRecord>>;
    /// Stores a token's hash.
    fn add_token(&self, office: &str, hash: &str, expires_at: i64) -> Result<()>;
    /// A token by hash.
    fn token(&self, hash: &str) -> Result<Option<TokenRecord>>;
    /// Marks a token used, and enrolls the device it created, atomically.
    fn use_token(&self, hash: &str, device: &DeviceRecord, credential_hash: &str) -> Result<()>;
    /// A device by its credential's hash, with the hash as stored.
    fn device_by_credential(&self, hash: &str) -> Result<Option<(DeviceRecord, String)>>;
    /// A device by id.
    fn device(&self, id: &str) -> Result<Option<DeviceRecord>>;
    /// Registers a device's public key if it has none yet; whether it was registered.
    fn register_device_key(&self, id: &str, public_key: &str) -> Result<bool>;
    /// The hub's private signing key (hex seed), made on first use and kept outside the
    /// database, so that a copy of the database cannot sign for the hub.
    fn signing_key(&self) -> Result<String>;
    /// Devices, of one office or all.
    fn devices(&self, office: Option<&str>) -> Result<Vec<DeviceRecord>>;
    /// Revokes one device or every device of an office; returns how many.
    fn revoke(&self, office: &str, device: Option<&str>, now: i64) -> Result<usize>;
    /// The office owning an Automerge actor (any device ever enrolled).
    fn actor_office(&self, actor: &str) -> Result<Option<String>>;
    /// Records another actor of a device; an actor already known (to any device) is left as is.
    fn register_actor(&self, actor: &str, device: &str, office: &str) -> Result<()>;
    /// Records a device's sync health.
    fn record_sync(&self, device: &str, health: &SyncHealth) -> Result<()>;
    /// The hub's secret key (made on first use).
    fn secret(&self) -> Result<[u8; 32]>;

    /// A document's snapshot and the changes applied since, in order, with its version.
    fn doc(&self, case: CaseId, kind: DocKind) -> Result<Option<StoredDoc>>;
    /// A document's version: bumped by every write to it, by any process.
    fn doc_version(&self, case: CaseId, kind: DocKind) -> Result<Option<i64>>;
    /// Whether a change is stored.
    fn has_change(&self, hash: &str) -> Result<bool>;
    /// Which of these changes are stored: one lookup for a whole uploaded batch.
    fn stored_changes(&self, hashes: &[String]) -> Result<HashSet<String>> {
        let mut held = HashSet::new();
        for hash in hashes {
            if self.has_change(hash)? {
                held.insert(hash.clone());
            }
        }
        Ok(held)
    }
    /// The hashes the hub's records give a document: its accepted changes and its tail (for
    /// `ledger-hub check` to compare with the changes the stored document holds).
    fn doc_change_hashes(&self, case: CaseId, kind: DocKind) -> Result<Vec<String>>;
    /// A change's bytes.
    fn change(&self, hash: &str) -> Result<Option<Vec<u8>>>;
    /// What the hub knows of a case's scope.
    fn case_scope(&self, case: CaseId) -> Result<Option<CaseScope>>;
    /// Stores an accepted batch atomically.
    fn commit(&self, commit: &Commit) -> Result<()>;
    /// The log rows after `after` that `reader` may see, in order, at most `limit`.
    fn log_after(&self, after: u64, reader: &Reader<'_>, limit: usize) -> Result<Vec<LogRow>>;
    /// The last log sequence number.
    fn head(&self) -> Result<u64>;
    /// The documents `reader` may hold, ordered by (case, kind), after the given one, each with
    /// its case's scope (a pre-filter: the engine still asks the visibility function). With
    /// `skip_own`, documents made only of the reader's own device's changes are left out (a
    /// fresh device holds those already).
    fn scope_docs(
        &self,
        reader: &Reader<'_>,
        after: Option<(CaseId, DocKind)>,
        limit: usize,
        skip_own: bool,
    ) -> Result<Vec<(CaseId, DocKind, CaseScope)>>;
    /// Logs an office's confirmed eviction.
    fn log_eviction(&self, case: CaseId, office: &str, device: &str, at: i64) -> Result<()>;
    /// Confirmed evictions of a case.
    fn evictions(&self, case: CaseId) -> Result<Vec<(String, String, i64)>>;
    /// The statistics facts of every case.
    fn all_facts(&self) -> Result<Vec<CaseFacts>>;
    /// Every case the hub holds (cases only: no rosters, no rules).
    fn case_ids(&self) -> Result<Vec<CaseId>>;
    /// Replaces the statistics facts of cases it holds (after the rules changed).
    fn set_facts(&self, rows: &[(CaseId, CaseFacts)]) -> Result<()>;
    /// A value the hub keeps about itself.
    fn meta(&self, key: &str) -> Result<Option<String>>;
    /// Sets such a value.
    fn set_meta(&self, key: &str, value: &str) -> Result<()>;

    /// A blob.
    fn blob(&self, hash: &str) -> Result<Option<Vec<u8>>>;
    /// Whether a blob is complete here; else how much of it has been uploaded.
    fn blob_progress(&self, hash: &str) -> Result<Result<(), u64>>;
    /// Adds an uploaded piece, received at `now` (ms: the age [`HubStore::expire_uploads`]
    /// judges); stores the blob once complete and its BLAKE3 matches.
    fn blob_piece(&self, chunk: &BlobChunk, now: i64) -> Result<()>;
    /// The cases that cite a blob (whoever may see one of them may fetch it).
    fn blob_cases(&self, hash: &str) -> Result<Vec<CaseId>>;
    /// Drops partial uploads untouched since `before` (ms); returns how many.
    fn expire_uploads(&self, before: i64) -> Result<usize>;

    /// Every Automerge actor of a device (hex): its enrollment actor and any registered since.
    fn device_actors(&self, device: &str) -> Result<Vec<String>>;
    /// Keeps a refused change, dropping the device's oldest beyond `keep` per device.
    fn quarantine(&self, record: &QuarantineRecord, keep: usize) -> Result<()>;
    /// Refused changes, newest first, at most `limit`.
    fn quarantined(&self, limit: usize) -> Result<Vec<QuarantineRecord>>;
    /// Whether an identity drop was merged already.
    fn drop_merged(&self, id: Uuid) -> Result<bool>;
    /// Which of these drops were merged: [`HubStore::drop_merged`] for each, at once where a
    /// store can.
    fn merged_drops(&self, ids: &[Uuid]) -> Result<HashSet<Uuid>> {
        let mut merged = HashSet::new();
        for id in ids {
            if self.drop_merged(*id)? {
                merged.insert(*id);
            }
        }
        Ok(merged)
    }
    /// Whether the log holds a `leave` of the case for the office (so its eviction may be
    /// confirmed).
    fn has_leave(&self, case: CaseId, office: &str) -> Result<bool>;
    /// Leases the next `size` numbers of an office's series to a device, never below `used + 1`.
    fn lease(
        &self,
        office: &str,
        series: &str,
        device: &str,
        used: u64,
        size: u64,
        now: i64,
    ) -> Result<(u64, u64)>;
    /// Every stored document after `after`, in (case, kind) order, at most `limit`.
    fn all_docs(
        &self,
        after: Option<(CaseId, DocKind)>,
        limit: usize,
    ) -> Result<Vec<(CaseId, DocKind)>>;
    /// Sets a document that no longer loads aside (out of service), keeping its bytes.
    fn set_aside(&self, case: CaseId, kind: DocKind, reason: &str, now: i64) -> Result<()>;
    /// Whether a document was set aside (changes to it are refused until the county decides).
    fn is_set_aside(&self, case: CaseId, kind: DocKind) -> Result<bool>;
    /// Deletes a demo case whole (documents, changes, scope, attachment references, its change
    /// rows in the log), leaves a tombstone, and tells every office in `leave_for` that it left:
    /// one transaction. The engine checks that the case is demo data before it asks.
    fn purge_case(&self, case: CaseId, by: &str, leave_for: &[String], now: i64) -> Result<()>;
    /// Whether the case was purged (anything sent for it is refused).
    fn is_purged(&self, case: CaseId) -> Result<bool>;

    /// What a batch's judging reads of its documents and cases before it loads them, for
    /// every key at once: each document's version and whether it was set aside, each case's
    /// scope and whether it was purged (the cases of the keys' case and identity documents).
    /// The same as asking [`HubStore::doc_version`], [`HubStore::is_set_aside`],
    /// [`HubStore::case_scope`] and [`HubStore::is_purged`] one by one, which is what this does
    /// unless a store can do better (a round trip each, on PostgreSQL).
    fn survey(&self, keys: &[(CaseId, DocKind)]) -> Result<Survey> {
        let mut survey = Survey::default();
        for &(case, kind) in keys {
            if let Some(version) = self.doc_version(case, kind)? {
                survey.versions.insert((case, kind), version);
            }
            if self.is_set_aside(case, kind)? {
                survey.set_aside.insert((case, kind));
            }
            survey.keys.insert((case, kind));
        }
        for case in Survey::cases_of(keys) {
            if self.is_purged(case)? {
                survey.purged.insert(case);
            }
            if let Some(scope) = self.case_scope(case)? {
                survey.scopes.insert(case, scope);
            }
            survey.cases.insert(case);
        }
        Ok(survey)
    }
    /// The county's townships as set with `ledger-hub township`, in the county's order.
    fn county_townships(&self) -> Result<Vec<String>>;
    /// Sets the county's townships.
    fn set_county_townships(&self, townships: &[String]) -> Result<()>;
    /// A value that changes whenever the county directory does (an office added, the county's
    /// townships set), cheap to read on every sync: offices are only ever added, so their
    /// number and the township list make it.
    fn directory_stamp(&self) -> Result<String> {
        let townships = serde_json::to_string(&self.county_townships()?).unwrap_or_default();
        Ok(format!("{}:{townships}", self.offices()?.len()))
    }
    /// The connection pool's state, for a store that keeps one.
    fn pool(&self) -> Option<PoolStats> {
        None
    }
}
