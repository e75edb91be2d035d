//! An in-memory [`HubStore`]: maps and vectors behind one mutex, nothing on disk.
//!
//! It has two jobs. It is a second backend, so that `tests/conformance.rs` can run one suite
//! against it and [`crate::SqliteHubStore`] and prove that the trait, not SQLite, is the
//! contract the engine relies on. And it is a fast store for engine unit tests, which then need
//! no data directory and no migrations.
//!
//! It copies what the SQLite backend does wherever a caller can see it: the order of every list,
//! limits, what a missing row makes of a call, the errors a constraint of the schema would
//! raise, and the same keys in [`HubStore::meta`]. Every call holds the one mutex for its whole
//! length and checks everything that could refuse it before it writes anything, so a refused
//! call leaves no trace, as a rolled-back transaction does.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard};

use ledger_domain::{CaseFacts, CaseId};
use ledger_protocol::{BlobChunk, DocKind};
use uuid::Uuid;

use crate::store::{
    CaseScope, Commit, DeviceRecord, HubStore, LogEntry, LogKind, LogRow, MAX_ACTORS_PER_DEVICE,
    MAX_LEASES_PER_DAY, NewLogRow, OfficeRecord, QUARANTINE_SAMPLE, QuarantineRecord, Reader,
    Result, StoreError, StoredChange, StoredDoc, SyncHealth, TokenRecord,
};

/// The meta key of the hub's secret (the SQLite backend keeps it in the same table).
const SECRET_KEY: &str = "secret";
/// The meta key of the county's townships, as JSON.
const TOWNSHIPS_KEY: &str = "county_townships";

/// A document's key, its kind as the SQLite backend's code, so that documents sort as they do
/// there: by case, then case, identity, roster, rules. A [`CaseId`] sorts as its text does
/// (lowercase hex in fixed places), which is how SQLite sorts the column.
type DocKey = (CaseId, u8);

const CASE: u8 = 0;
const IDENTITY: u8 = 1;
const ROSTER: u8 = 2;
const RULES: u8 = 3;
const WORK: u8 = 4;

fn kind_code(kind: DocKind) -> u8 {
    match kind {
        DocKind::Case => CASE,
        DocKind::Identity => IDENTITY,
        DocKind::Roster => ROSTER,
        DocKind::Rules => RULES,
        DocKind::Work => WORK,
    }
}

fn kind_of(code: u8) -> DocKind {
    match code {
        IDENTITY => DocKind::Identity,
        ROSTER => DocKind::Roster,
        RULES => DocKind::Rules,
        WORK => DocKind::Work,
        _ => DocKind::Case,
    }
}

fn doc_key(case: CaseId, kind: DocKind) -> DocKey {
    (case, kind_code(kind))
}

/// A count as it reads back from an SQLite integer column: past `i64::MAX` it was stored
/// negative, and reads as 0.
fn as_stored(n: u64) -> u64 {
    if i64::try_from(n).is_ok() { n } else { 0 }
}

/// What a constraint of the SQLite schema would refuse, worded alike.
fn constraint(what: &str) -> StoreError {
    StoreError::Database(format!("{what} constraint failed"))
}

struct Device {
    record: DeviceRecord,
    credential_hash: String,
}

struct Doc {
    snapshot: Vec<u8>,
    version: i64,
}

struct CaseRow {
    scope: CaseScope,
    facts: Option<CaseFacts>,
}

struct Logged {
    seq: u64,
    row: NewLogRow,
}

struct Piece {
    bytes: Vec<u8>,
    updated_at: i64,
}

struct LeaseRow {
    device: String,
    series: String,
    leased_at: i64,
}

/// Every table of the SQLite schema, as maps and vectors.
#[derive(Default)]
struct State {
    offices: BTreeMap<String, OfficeRecord>,
    tokens: BTreeMap<String, TokenRecord>,
    /// By device id.
    devices: BTreeMap<String, Device>,
    /// Further actors: actor -> (device, office).
    actors: BTreeMap<String, (String, String)>,
    changes: HashMap<String, StoredChange>,
    /// The hashes of `changes`, by the document each was stored for.
    doc_changes: BTreeMap<DocKey, BTreeSet<String>>,
    docs: BTreeMap<DocKey, Doc>,
    /// Kept apart from `docs`, as SQLite's `doc_tail` is: a tail may be written for a document
    /// that has no snapshot yet.
    tails: BTreeMap<DocKey, Vec<String>>,
    cases: BTreeMap<CaseId, CaseRow>,
    /// In sequence order.
    log: Vec<Logged>,
    /// The last sequence number ever given: never reused, even once its row is purged.
    last_seq: u64,
    /// (case, device) -> (office, confirmed at): the first confirmation stands.
    evictions: BTreeMap<(CaseId, String), (String, i64)>,
    blobs: HashMap<String, Vec<u8>>,
    /// Partial uploads, their pieces in offset order.
    pieces: BTreeMap<String, Vec<Piece>>,
    blob_refs: BTreeSet<(String, CaseId)>,
    /// Oldest first, each with its id.
    quarantine: Vec<(u64, QuarantineRecord)>,
    last_quarantine: u64,
    /// Drop id -> (case, office).
    drops: HashMap<Uuid, (CaseId, String)>,
    /// (office, series) -> the next number.
    series: HashMap<(String, String), i64>,
    leases: Vec<LeaseRow>,
    /// Documents set aside: key, snapshot, reason, when. The bytes are kept, as the SQLite
    /// backend keeps them, for the county to look at.
    set_aside: Vec<(DocKey, Vec<u8>, String, i64)>,
    /// Case -> (the office that asked, when).
    purged: BTreeMap<CaseId, (String, i64)>,
    meta: BTreeMap<String, String>,
    /// Made on first use; lives as long as the store (there is no file to keep it in).
    signing_key: Option<String>,
}

/// A [`HubStore`] held in memory; everything is lost with it.
#[derive(Default)]
pub struct MemoryHubStore {
    state: Mutex<State>,
}

impl MemoryHubStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every call checks before it writes, so a panic never leaves a half-written state.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn random_hex() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Database(e.to_string()))?;
    Ok(hex::encode(bytes))
}

/// Whether a township reader answers for a case with `scope` (the SQLite backend's `SCOPE`).
fn in_scope(scope: &CaseScope, reader: &Reader<'_>) -> bool {
    match &scope.township {
        Some(t) => reader.townships.contains(t),
        None => scope.registrar == reader.office,
    }
}

/// Whether `reader` sees a log row.
fn log_visible(row: &NewLogRow, reader: &Reader<'_>) -> bool {
    match &row.entry {
        LogEntry::Enter { target } | LogEntry::Leave { target } => target == reader.office,
        LogEntry::Change { author_device, township, registrar, bureau_only, .. } => {
            author_device != reader.device
                && (reader.bureau
                    || row.kind == DocKind::Rules
                    || (!bureau_only
                        && match township {
                            Some(t) => reader.townships.contains(t),
                            None => registrar.as_deref() == Some(reader.office),
                        }))
        }
    }
}

fn log_row(logged: &Logged) -> LogRow {
    let (what, hash) = match &logged.row.entry {
        LogEntry::Change { hash, .. } => (LogKind::Change, Some(hash.clone())),
        LogEntry::Enter { .. } => (LogKind::Enter, None),
        LogEntry::Leave { .. } => (LogKind::Leave, None),
    };
    LogRow {
        seq: logged.seq,
        case_id: logged.row.case_id,
        kind: logged.row.kind,
        what,
        hash,
        received_at: logged.row.received_at,
    }
}

/// The documents after `after`, in (case, kind) order.
fn docs_after(
    docs: &BTreeMap<DocKey, Doc>,
    after: Option<(CaseId, DocKind)>,
) -> impl Iterator<Item = &DocKey> {
    let from = match after {
        Some((case, kind)) => Bound::Excluded(doc_key(case, kind)),
        None => Bound::Unbounded,
    };
    docs.range((from, Bound::Unbounded)).map(|(key, _)| key)
}

impl State {
    fn held(&self, hash: &str) -> u64 {
        self.pieces.get(hash).map_or(0, |pieces| pieces.iter().map(|p| p.bytes.len() as u64).sum())
    }

    fn push_log(&mut self, row: NewLogRow) {
        self.last_seq += 1;
        self.log.push(Logged { seq: self.last_seq, row });
    }
}

impl HubStore for MemoryHubStore {
    fn add_office(&self, office: &OfficeRecord) -> Result<()> {
        let mut s = self.state();
        if s.offices.contains_key(&office.code) {
            return Err(StoreError::Conflict(format!("单位代码 {} 已存在", office.code)));
        }
        s.offices.insert(office.code.clone(), office.clone());
        Ok(())
    }

    fn office(&self, code: &str) -> Result<Option<OfficeRecord>> {
        Ok(self.state().offices.get(code).cloned())
    }

    fn offices(&self) -> Result<Vec<OfficeRecord>> {
        let mut all: Vec<OfficeRecord> = self.state().offices.values().cloned().collect();
        all.sort_by(|a, b| (a.role.code(), &a.code).cmp(&(b.role.code(), &b.code)));
        Ok(all)
    }

    fn add_token(&self, office: &str, hash: &str, expires_at: i64) -> Result<()> {
        let mut s = self.state();
        if s.tokens.contains_key(hash) {
            return Err(constraint("UNIQUE: tokens.hash"));
        }
        if !s.offices.contains_key(office) {
            return Err(constraint("FOREIGN KEY"));
        }
        s.tokens.insert(
            hash.to_owned(),
            TokenRecord { office: office.to_owned(), expires_at, used: None },
        );
        Ok(())
    }

    fn token(&self, hash: &str) -> Result<Option<TokenRecord>> {
        Ok(self.state().tokens.get(hash).cloned())
    }

    fn use_token(&self, hash: &str, device: &DeviceRecord, credential_hash: &str) -> Result<()> {
        let mut s = self.state();
        if s.tokens.get(hash).is_none_or(|t| t.used.is_some()) {
            return Err(StoreError::Conflict("令牌已被使用".into()));
        }
        if s.devices.contains_key(&device.id) {
            return Err(constraint("UNIQUE: devices.id"));
        }
        if s.devices.values().any(|d| d.credential_hash == credential_hash) {
            return Err(constraint("UNIQUE: devices.credential_hash"));
        }
        if !s.offices.contains_key(&device.office) {
            return Err(constraint("FOREIGN KEY"));
        }
        if let Some(token) = s.tokens.get_mut(hash) {
            token.used = Some((device.enrolled_at, device.actor.clone(), device.id.clone()));
        }
        let mut record = device.clone();
        record.pending = as_stored(record.pending);
        s.devices.insert(
            device.id.clone(),
            Device { record, credential_hash: credential_hash.to_owned() },
        );
        Ok(())
    }

    fn device_by_credential(&self, hash: &str) -> Result<Option<(DeviceRecord, String)>> {
        Ok(self
            .state()
            .devices
            .values()
            .find(|d| d.credential_hash == hash)
            .map(|d| (d.record.clone(), d.credential_hash.clone())))
    }

    fn device(&self, id: &str) -> Result<Option<DeviceRecord>> {
        Ok(self.state().devices.get(id).map(|d| d.record.clone()))
    }

    fn register_device_key(&self, id: &str, public_key: &str) -> Result<bool> {
        let mut s = self.state();
        match s.devices.get_mut(id) {
            Some(d) if d.record.public_key.is_none() => {
                d.record.public_key = Some(public_key.to_owned());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn signing_key(&self) -> Result<String> {
        let mut s = self.state();
        if let Some(key) = &s.signing_key {
            return Ok(key.clone());
        }
        let key = random_hex()?;
        s.signing_key = Some(key.clone());
        Ok(key)
    }

    fn devices(&self, office: Option<&str>) -> Result<Vec<DeviceRecord>> {
        let s = self.state();
        let mut found: Vec<DeviceRecord> = s
            .devices
            .values()
            .filter(|d| office.is_none_or(|o| d.record.office == o))
            .map(|d| d.record.clone())
            .collect();
        found.sort_by(|a, b| (&a.office, a.enrolled_at).cmp(&(&b.office, b.enrolled_at)));
        Ok(found)
    }

    fn revoke(&self, office: &str, device: Option<&str>, now: i64) -> Result<usize> {
        let mut s = self.state();
        let mut n = 0;
        for d in s.devices.values_mut() {
            let r = &mut d.record;
            if r.office == office && device.is_none_or(|id| r.id == id) && r.revoked_at.is_none() {
                r.revoked_at = Some(now);
                n += 1;
            }
        }
        // Revoking the whole office also voids every token it has not used yet.
        if device.is_none() {
            for t in s.tokens.values_mut() {
                if t.office == office && t.used.is_none() {
                    t.expires_at = t.expires_at.min(now.saturating_sub(1));
                }
            }
        }
        Ok(n)
    }

    fn actor_office(&self, actor: &str) -> Result<Option<String>> {
        let s = self.state();
        let device = s.devices.values().find(|d| d.record.actor == actor);
        Ok(device
            .map(|d| d.record.office.clone())
            .or_else(|| s.actors.get(actor).map(|(_, office)| office.clone())))
    }

    fn register_actor(&self, actor: &str, device: &str, office: &str) -> Result<()> {
        let mut s = self.state();
        if s.actors.contains_key(actor) || s.devices.values().any(|d| d.record.actor == actor) {
            return Ok(());
        }
        // As in the SQLite backend: a device minting actors by the thousand is not registered.
        let held = s.actors.values().filter(|(d, _)| d == device).count();
        if held >= MAX_ACTORS_PER_DEVICE as usize {
            tracing::warn!(device, "device has registered too many actors; refused");
            return Ok(());
        }
        if !s.devices.contains_key(device) {
            return Err(constraint("FOREIGN KEY"));
        }
        s.actors.insert(actor.to_owned(), (device.to_owned(), office.to_owned()));
        Ok(())
    }

    fn record_sync(&self, device: &str, h: &SyncHealth) -> Result<()> {
        if let Some(d) = self.state().devices.get_mut(device) {
            d.record.last_sync = Some(h.at);
            d.record.pending = as_stored(h.pending);
            d.record.last_error.clone_from(&h.last_error);
            d.record.skew_ms = Some(h.skew_ms);
        }
        Ok(())
    }

    fn secret(&self) -> Result<[u8; 32]> {
        let mut s = self.state();
        let hex = match s.meta.get(SECRET_KEY) {
            Some(hex) => hex.clone(),
            None => {
                let hex = random_hex()?;
                s.meta.insert(SECRET_KEY.to_owned(), hex.clone());
                hex
            }
        };
        crate::store::secret_from_hex(&hex)
    }

    fn doc(&self, case: CaseId, kind: DocKind) -> Result<Option<StoredDoc>> {
        let s = self.state();
        let key = doc_key(case, kind);
        let Some(doc) = s.docs.get(&key) else { return Ok(None) };
        // A tail entry whose change is not stored is reported, as the SQLite store reports it.
        let tail = s
            .tails
            .get(&key)
            .into_iter()
            .flatten()
            .map(|h| {
                s.changes
                    .get(h)
                    .map(|c| c.bytes.clone())
                    .ok_or_else(|| crate::store::missing_tail(case, h))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((doc.snapshot.clone(), tail)))
    }

    fn doc_version(&self, case: CaseId, kind: DocKind) -> Result<Option<i64>> {
        Ok(self.state().docs.get(&doc_key(case, kind)).map(|d| d.version))
    }

    fn has_change(&self, hash: &str) -> Result<bool> {
        Ok(self.state().changes.contains_key(hash))
    }

    fn doc_change_hashes(&self, case: CaseId, kind: DocKind) -> Result<Vec<String>> {
        let s = self.state();
        let key = doc_key(case, kind);
        let mut all: BTreeSet<String> = s.doc_changes.get(&key).cloned().unwrap_or_default();
        all.extend(s.tails.get(&key).into_iter().flatten().cloned());
        Ok(all.into_iter().collect())
    }

    fn change(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.state().changes.get(hash).map(|c| c.bytes.clone()))
    }

    fn case_scope(&self, case: CaseId) -> Result<Option<CaseScope>> {
        Ok(self.state().cases.get(&case).map(|c| c.scope.clone()))
    }

    fn commit(&self, commit: &Commit) -> Result<()> {
        let mut s = self.state();
        for (case, expected) in &commit.scopes_read {
            if s.cases.get(case).map(|c| &c.scope) != expected.as_ref() {
                return Err(StoreError::Busy(format!("{case}/scope")));
            }
        }
        // Every version check first, each against what the batch's earlier writes to the same
        // document made of it: nothing is written unless all pass.
        let mut versions: HashMap<DocKey, Option<i64>> = HashMap::new();
        for d in &commit.docs {
            let key = doc_key(d.case_id, d.kind);
            let current = match versions.get(&key) {
                Some(v) => *v,
                None => s.docs.get(&key).map(|doc| doc.version),
            };
            if current != d.expected {
                return Err(StoreError::Busy(format!("{}/{}", d.case_id, key.1)));
            }
            let next = match (current, &d.snapshot) {
                (Some(v), _) => Some(v.saturating_add(1)),
                (None, Some(_)) => Some(1),
                // A tail without a snapshot creates no document.
                (None, None) => None,
            };
            versions.insert(key, next);
        }
        for c in &commit.changes {
            // The first copy of a change stands.
            if !s.changes.contains_key(&c.hash) {
                s.changes.insert(c.hash.clone(), c.clone());
                s.doc_changes.entry(doc_key(c.case_id, c.kind)).or_default().insert(c.hash.clone());
            }
        }
        for d in &commit.docs {
            let key = doc_key(d.case_id, d.kind);
            if let Some(snapshot) = &d.snapshot {
                s.docs
                    .entry(key)
                    .and_modify(|doc| doc.snapshot.clone_from(snapshot))
                    .or_insert_with(|| Doc { snapshot: snapshot.clone(), version: 0 });
                s.tails.remove(&key);
            }
            if let Some(doc) = s.docs.get_mut(&key) {
                doc.version = doc.version.saturating_add(1);
            }
            if !d.tail.is_empty() {
                s.tails.entry(key).or_default().extend(d.tail.iter().cloned());
            }
        }
        for (case, scope, facts) in &commit.cases {
            // Facts left out keep the ones stored.
            let facts = facts.clone().or_else(|| s.cases.get(case).and_then(|c| c.facts.clone()));
            s.cases.insert(*case, CaseRow { scope: scope.clone(), facts });
        }
        for row in &commit.log {
            s.push_log(row.clone());
        }
        for (hash, case) in &commit.blob_refs {
            s.blob_refs.insert((hash.clone(), *case));
        }
        for (id, case, office) in &commit.drops {
            s.drops.entry(*id).or_insert_with(|| (*case, office.clone()));
        }
        Ok(())
    }

    fn log_after(&self, after: u64, reader: &Reader<'_>, limit: usize) -> Result<Vec<LogRow>> {
        let s = self.state();
        let start = s.log.partition_point(|l| l.seq <= after);
        Ok(s.log[start..]
            .iter()
            .filter(|l| log_visible(&l.row, reader))
            .take(limit)
            .map(log_row)
            .collect())
    }

    fn head(&self) -> Result<u64> {
        // The highest row still held, as SQLite's max(seq): a purge can lower it.
        Ok(self.state().log.last().map_or(0, |l| l.seq))
    }

    fn scope_docs(
        &self,
        reader: &Reader<'_>,
        after: Option<(CaseId, DocKind)>,
        limit: usize,
        skip_own: bool,
    ) -> Result<Vec<(CaseId, DocKind, CaseScope)>> {
        let s = self.state();
        let others = |key: &DocKey| {
            s.doc_changes.get(key).is_some_and(|hashes| {
                hashes.iter().any(|h| s.changes.get(h).is_some_and(|c| c.device != reader.device))
            })
        };
        Ok(docs_after(&s.docs, after)
            .filter_map(|key| {
                // A document whose case has no scope row is nobody's (the SQLite join).
                let case = s.cases.get(&key.0)?;
                let visible = reader.bureau
                    || key.1 == RULES
                    || (in_scope(&case.scope, reader) && (key.1 == CASE || !case.scope.restricted));
                (visible && (!skip_own || others(key)))
                    .then(|| (key.0, kind_of(key.1), case.scope.clone()))
            })
            .take(limit)
            .collect())
    }

    fn log_eviction(&self, case: CaseId, office: &str, device: &str, at: i64) -> Result<()> {
        self.state()
            .evictions
            .entry((case, device.to_owned()))
            .or_insert_with(|| (office.to_owned(), at));
        Ok(())
    }

    fn evictions(&self, case: CaseId) -> Result<Vec<(String, String, i64)>> {
        let s = self.state();
        let mut found: Vec<(String, String, i64)> = s
            .evictions
            .iter()
            .filter(|((c, _), _)| *c == case)
            .map(|((_, device), (office, at))| (office.clone(), device.clone(), *at))
            .collect();
        found.sort_by_key(|(_, _, at)| *at);
        Ok(found)
    }

    fn all_facts(&self) -> Result<Vec<CaseFacts>> {
        Ok(self.state().cases.values().filter_map(|c| c.facts.clone()).collect())
    }

    fn case_ids(&self) -> Result<Vec<CaseId>> {
        Ok(self.state().docs.keys().filter(|(_, kind)| *kind == CASE).map(|(c, _)| *c).collect())
    }

    fn set_facts(&self, rows: &[(CaseId, CaseFacts)]) -> Result<()> {
        let mut s = self.state();
        for (id, facts) in rows {
            // Only cases the hub holds: facts never make a case.
            if let Some(case) = s.cases.get_mut(id) {
                case.facts = Some(facts.clone());
            }
        }
        Ok(())
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self.state().meta.get(key).cloned())
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.state().meta.insert(key.to_owned(), value.to_owned());
        Ok(())
    }

    fn blob(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.state().blobs.get(hash).cloned())
    }

    fn blob_progress(&self, hash: &str) -> Result<Result<(), u64>> {
        let s = self.state();
        if s.blobs.contains_key(hash) {
            return Ok(Ok(()));
        }
        Ok(Err(s.held(hash)))
    }

    fn blob_piece(&self, chunk: &BlobChunk, now: i64) -> Result<()> {
        let mut s = self.state();
        let held = s.held(&chunk.hash);
        let len = chunk.bytes.len() as u64;
        // Only a piece that continues exactly where the upload stands is taken.
        if chunk.offset != held
            || chunk.total > ledger_protocol::MAX_BLOB_BYTES
            || chunk.bytes.is_empty()
            || held + len > chunk.total
        {
            return Ok(());
        }
        s.pieces
            .entry(chunk.hash.clone())
            .or_default()
            .push(Piece { bytes: chunk.bytes.clone(), updated_at: now });
        if held + len == chunk.total {
            let pieces = s.pieces.remove(&chunk.hash).unwrap_or_default();
            let bytes: Vec<u8> = pieces.into_iter().flat_map(|p| p.bytes).collect();
            // Content that does not hash to its name is dropped: the upload starts over.
            if blake3::hash(&bytes).to_hex().as_str() == chunk.hash {
                s.blobs.entry(chunk.hash.clone()).or_insert(bytes);
            }
        }
        Ok(())
    }

    fn blob_cases(&self, hash: &str) -> Result<Vec<CaseId>> {
        let s = self.state();
        let from = (hash.to_owned(), CaseId(Uuid::nil()));
        Ok(s.blob_refs.range(from..).take_while(|(h, _)| h == hash).map(|(_, c)| *c).collect())
    }

    fn expire_uploads(&self, before: i64) -> Result<usize> {
        let mut s = self.state();
        let stale: Vec<String> = s
            .pieces
            .iter()
            .filter(|(_, pieces)| {
                pieces.iter().map(|p| p.updated_at).max().is_some_and(|m| m < before)
            })
            .map(|(hash, _)| hash.clone())
            .collect();
        // Counted in pieces, as the SQLite backend's DELETE counts rows.
        Ok(stale.iter().filter_map(|h| s.pieces.remove(h)).map(|pieces| pieces.len()).sum())
    }

    fn device_actors(&self, device: &str) -> Result<Vec<String>> {
        let s = self.state();
        let mut all: BTreeSet<String> =
            s.devices.get(device).map(|d| d.record.actor.clone()).into_iter().collect();
        all.extend(s.actors.iter().filter(|(_, (d, _))| d == device).map(|(a, _)| a.clone()));
        Ok(all.into_iter().collect())
    }

    fn quarantine(&self, q: &QuarantineRecord, keep: usize) -> Result<()> {
        let mut s = self.state();
        let mut record = q.clone();
        // Enough to inspect; a device sending huge refused changes cannot fill memory.
        record.bytes.truncate(QUARANTINE_SAMPLE);
        s.last_quarantine += 1;
        let id = s.last_quarantine;
        s.quarantine.push((id, record));
        // A device that keeps sending refused changes cannot fill memory: its oldest go.
        let held = s.quarantine.iter().filter(|(_, r)| r.device == q.device).count();
        let mut excess = held.saturating_sub(keep);
        s.quarantine.retain(|(_, r)| {
            if excess > 0 && r.device == q.device {
                excess -= 1;
                false
            } else {
                true
            }
        });
        Ok(())
    }

    fn quarantined(&self, limit: usize) -> Result<Vec<QuarantineRecord>> {
        Ok(self.state().quarantine.iter().rev().take(limit).map(|(_, r)| r.clone()).collect())
    }

    fn drop_merged(&self, id: Uuid) -> Result<bool> {
        Ok(self.state().drops.contains_key(&id))
    }

    fn has_leave(&self, case: CaseId, office: &str) -> Result<bool> {
        Ok(self.state().log.iter().any(|l| {
            l.row.case_id == case
                && l.row.kind == DocKind::Case
                && matches!(&l.row.entry, LogEntry::Leave { target } if target == office)
        }))
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
        let mut s = self.state();
        let since = now.saturating_sub(86_400_000);
        let recent = s
            .leases
            .iter()
            .filter(|l| l.device == device && l.series == series && l.leased_at > since)
            .count();
        if recent >= MAX_LEASES_PER_DAY as usize {
            return Err(StoreError::Conflict(format!(
                "设备 {device} 今天已领取过多的 {series} 编号段"
            )));
        }
        let key = (office.to_owned(), series.to_owned());
        let next = s.series.get(&key).copied().unwrap_or(1);
        let floor = i64::try_from(used.saturating_add(1)).unwrap_or(i64::MAX);
        let start = next.max(floor).max(1);
        let end = start.saturating_add(i64::try_from(size.max(1)).unwrap_or(1) - 1);
        s.series.insert(key, end.saturating_add(1));
        s.leases.push(LeaseRow {
            device: device.to_owned(),
            series: series.to_owned(),
            leased_at: now,
        });
        Ok((u64::try_from(start).unwrap_or(0), u64::try_from(end).unwrap_or(0)))
    }

    fn all_docs(
        &self,
        after: Option<(CaseId, DocKind)>,
        limit: usize,
    ) -> Result<Vec<(CaseId, DocKind)>> {
        let s = self.state();
        Ok(docs_after(&s.docs, after).take(limit).map(|(c, k)| (*c, kind_of(*k))).collect())
    }

    fn set_aside(&self, case: CaseId, kind: DocKind, reason: &str, now: i64) -> Result<()> {
        let mut s = self.state();
        let key = doc_key(case, kind);
        if let Some(doc) = s.docs.remove(&key) {
            s.set_aside.push((key, doc.snapshot, reason.to_owned(), now));
        }
        s.tails.remove(&key);
        Ok(())
    }

    fn is_set_aside(&self, case: CaseId, kind: DocKind) -> Result<bool> {
        let key = doc_key(case, kind);
        Ok(self.state().set_aside.iter().any(|(k, ..)| *k == key))
    }

    fn purge_case(&self, case: CaseId, by: &str, leave_for: &[String], now: i64) -> Result<()> {
        let mut s = self.state();
        s.docs.retain(|(c, _), _| *c != case);
        s.tails.retain(|(c, _), _| *c != case);
        let keys: Vec<DocKey> = s.doc_changes.keys().filter(|(c, _)| *c == case).copied().collect();
        for key in keys {
            for hash in s.doc_changes.remove(&key).unwrap_or_default() {
                s.changes.remove(&hash);
            }
        }
        s.cases.remove(&case);
        s.blob_refs.retain(|(_, c)| *c != case);
        // Its enter and leave rows stay: they say nothing of its content.
        s.log
            .retain(|l| !(l.row.case_id == case && matches!(l.row.entry, LogEntry::Change { .. })));
        s.purged.entry(case).or_insert_with(|| (by.to_owned(), now));
        for office in leave_for {
            s.push_log(NewLogRow {
                case_id: case,
                kind: DocKind::Case,
                entry: LogEntry::Leave { target: office.clone() },
                received_at: now,
            });
        }
        Ok(())
    }

    fn is_purged(&self, case: CaseId) -> Result<bool> {
        Ok(self.state().purged.contains_key(&case))
    }

    fn county_townships(&self) -> Result<Vec<String>> {
        let s = self.state();
        // A list that no longer reads is an error, never an empty county that refuses nothing.
        s.meta
            .get(TOWNSHIPS_KEY)
            .map(|json| serde_json::from_str(json))
            .transpose()
            .map(Option::unwrap_or_default)
            .map_err(|e| StoreError::Database(format!("乡镇名录无法读取：{e}")))
    }

    fn set_county_townships(&self, townships: &[String]) -> Result<()> {
        let json =
            serde_json::to_string(townships).map_err(|e| StoreError::Database(e.to_string()))?;
        self.state().meta.insert(TOWNSHIPS_KEY.to_owned(), json);
        Ok(())
    }
}
