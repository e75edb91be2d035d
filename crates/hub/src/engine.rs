//! The sync engine: judges and stores an office's batch, merges the identities it carries,
//! leases number blocks, then serves the next page of the hub log that office may see.
//!
//! Every change is judged alone by [`ledger_domain::validate::judge`] against the hub's copy of
//! its document (the pure rules live there); this module only loads what the judge needs and
//! stores what it accepts. A refused change is answered inside the normal reply with its hash,
//! rule and Chinese reason, kept in the hub's quarantine, and takes the later changes of the
//! batch to the same document with it; every other change and case goes on. The hub never
//! stores a document it cannot load again: snapshots are loaded back before they are written,
//! and a document that fails to load refuses changes to it instead of failing whole batches.
//!
//! Visibility (DESIGN §5): every path that serves a document asks
//! [`ledger_domain::scope::may_see`] with the case's current scope. A change row also keeps the
//! scope it was written under: when a batch moves a case between offices its rows are
//! bureau-only and the new office gets an `enter` while the old one gets a `leave`; when a case
//! becomes restricted, its identity document leaves the townships (and enters again when the
//! bureau lifts the restriction).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::num::NonZeroUsize;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use ledger_domain::automerge::sync::{self, SyncDoc};
use ledger_domain::automerge::transaction::{CommitOptions, Transaction};
use ledger_domain::automerge::{ActorId, Automerge, Change, ChangeHash, ReadDoc, SaveOptions};
use ledger_domain::model::{Person, Roster};
use ledger_domain::schema::{self, SchemaError};
use ledger_domain::scope::{DocClass, Viewer, may_see};
use ledger_domain::validate::{self, Limits};
use ledger_domain::workflow::replay;
use ledger_domain::{ActionKind, Case, CaseFacts, CaseId, Role, Rules};
use ledger_protocol::{
    BlobChunk, BlobWant, Bootstrap, Cursor, Directory, DirectoryOffice, DocKind, Hash,
    IdentityDrop, Lease, MAX_CHANGES, MAX_LIST, MIN_BATCH_BYTES, Partial, Record, Refused,
    RepairRequest, RepairResponse, RepairSync, RepairSyncResponse, SyncRequest, SyncResponse,
    heads_digest, is_work_id, record_size, roster_id, rules_id,
};
use lru::LruCache;
use uuid::Uuid;

use crate::case_locks::CaseLocks;
use crate::plan;
use crate::store::{
    CaseScope, Commit, DeviceRecord, DocWrite, HubStore, LogKind, LogRow, OfficeRecord,
    QuarantineRecord, Reader, StoreError, StoredChange, Survey, SyncHealth,
};

/// The most a page may carry, whatever the office asks for.
const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;
/// Log rows read per query while filling a page.
const ROWS_PER_READ: usize = 512;
/// Compact a hub document once its tail is this long.
const COMPACT_AFTER: usize = 64;
/// Documents kept loaded.
const CACHE_DOCS: NonZeroUsize = match NonZeroUsize::new(512) {
    Some(n) => n,
    None => NonZeroUsize::MIN,
};
/// Refused changes kept per device.
const QUARANTINE_PER_DEVICE: usize = 1000;
/// The numbers in one leased block.
const LEASE_SIZE: u64 = 20;
/// Partial attachment uploads untouched this long are dropped (ms).
const UPLOAD_EXPIRY_MS: i64 = 7 * 24 * 3600 * 1000;
/// The highest number a device may say it has issued.
const MAX_NUMBER: u64 = 1_000_000_000;
/// The device name of changes the hub writes itself (rosters, merged identities).
pub const HUB_DEVICE: &str = "hub";
/// The meta key holding the rules the stored statistics facts were projected with.
const FACTS_STAMP: &str = "facts_rules";
/// Bumped when `CaseFacts::project` changes what it derives, so stored facts are re-projected.
const FACTS_PROJECTION: u32 = 1;

/// A digest of everything the facts are projected with.
fn rules_stamp(rules: &Rules) -> String {
    let text = format!("{FACTS_PROJECTION}\n{}", rules.describe());
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

/// Why a sync could not be served.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The body held something that is not a request (400).
    #[error("{0}")]
    BadRequest(String),
    /// The caller may not do this (403).
    #[error("{} 条更改被拒绝", .0.len())]
    Forbidden(Vec<Refused>),
    /// Storage failed (500).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The calling device and its office.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The device.
    pub device: DeviceRecord,
    /// Its office.
    pub office: OfficeRecord,
}

impl Caller {
    fn reader(&self) -> Reader<'_> {
        Reader {
            office: &self.office.code,
            device: &self.device.id,
            bureau: self.office.role == Role::Bureau,
            townships: &self.office.townships,
        }
    }

    fn viewer(&self) -> Viewer<'_> {
        Viewer {
            office: &self.office.code,
            role: &self.office.role,
            townships: &self.office.townships,
        }
    }
}

fn class_of(kind: DocKind) -> DocClass {
    match kind {
        DocKind::Case => DocClass::Case,
        DocKind::Identity => DocClass::Identity,
        DocKind::Roster => DocClass::Roster,
        DocKind::Rules => DocClass::Rules,
        DocKind::Work => DocClass::Work,
    }
}

/// Documents kept loaded, each with the version it was loaded at: another process writing the
/// document (`ledger-hub bundle import` while `serve` runs) bumps the version, and the next
/// load sees it and reads the document again. Its lock is held only to look up or put one
/// document, never across a batch.
struct Cache {
    docs: Mutex<LruCache<(CaseId, DocKind), Cached>>,
}

struct Cached {
    doc: Automerge,
    tail: usize,
    version: i64,
}

/// A lock whose holder panicked is still taken: what it guards is replaced whole, never left
/// half-written.
fn unpoisoned<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Cache {
    fn new() -> Self {
        Self { docs: Mutex::new(LruCache::new(CACHE_DOCS)) }
    }

    fn lock(&self) -> MutexGuard<'_, LruCache<(CaseId, DocKind), Cached>> {
        self.docs.lock().unwrap_or_else(|p| {
            let mut guard = p.into_inner();
            guard.clear();
            guard
        })
    }

    /// A copy of the document if it is held at `version`.
    fn get(&self, key: &(CaseId, DocKind), version: i64) -> Option<(Automerge, usize)> {
        self.lock().get(key).filter(|c| c.version == version).map(|c| (c.doc.clone(), c.tail))
    }

    fn put(&self, key: (CaseId, DocKind), doc: Automerge, tail: usize, version: i64) {
        self.lock().put(key, Cached { doc, tail, version });
    }

    fn pop(&self, key: &(CaseId, DocKind)) {
        self.lock().pop(key);
    }
}

/// The engine: the store plus the loaded documents. Batches on different cases are processed
/// in parallel ([`CaseLocks`]).
pub struct Engine {
    store: Arc<dyn HubStore>,
    cache: Cache,
    cases: CaseLocks,
    /// Batches hold it shared; re-projecting every case's facts holds it alone, so the rules
    /// cannot change while the facts are projected with them.
    facts_gate: RwLock<()>,
    /// The county's rules (built-in, with the rules document's entries), replaced whenever a
    /// batch changes the rules document.
    rules: RwLock<Arc<Rules>>,
    /// The stored version of the rules document `rules` was read at: another process (`ledger-hub
    /// bundle import` while `serve` runs) may change it.
    rules_version: Mutex<Option<i64>>,
    actor: ActorId,
    limits: Limits,
    /// When abandoned uploads were last dropped (ms).
    last_expiry: Mutex<i64>,
    /// The county's offices and directory, and the store's stamp they were read at: every
    /// sync compares the office's directory version, and every commit finds who sees each
    /// case; with a city's thousand offices, reading them again each time was the hub's
    /// largest cost (BENCHMARKS.md, `ledger-bench hub`).
    county: Mutex<Option<(String, Arc<CountyOffices>)>>,
}

/// The county's offices as the engine last read them.
struct CountyOffices {
    offices: Vec<OfficeRecord>,
    directory: Directory,
}

/// A document being changed by a batch: its state before, and the copy changes apply to.
struct Working {
    existed: bool,
    before_tail: usize,
    /// The stored version it was loaded at (the commit fails if another process wrote since).
    version: Option<i64>,
    /// Boxed: an `Automerge` is 3.5 KiB inline, and the batch's map of documents moved every
    /// one of them each time it grew.
    doc: Box<Automerge>,
    new: Vec<StoredChange>,
    /// The document saved, once it was proved to load back as itself.
    saved: Option<Vec<u8>>,
    /// What it reads as, once proved (the commit plans scope and facts from it).
    read: Option<ReadBack>,
    /// A case as the judge read it after the batch's last change to it: what `doc` reads as,
    /// so the next change's judging does not read it again.
    judged: Option<Box<Case>>,
    /// Whether the judge read that case from the whole document; otherwise it read only the
    /// parts the change touched, and the proof reads the whole document once.
    judged_whole: bool,
}

impl Working {
    /// A document as loaded (or new, with no version), before the batch changes it.
    fn loaded(doc: Automerge, tail: usize, version: Option<i64>) -> Self {
        Self {
            existed: version.is_some(),
            before_tail: tail,
            version,
            doc: Box::new(doc),
            new: Vec::new(),
            saved: None,
            read: None,
            judged: None,
            judged_whole: false,
        }
    }
}

/// What a document with new changes reads as with the schema: the case, the roster and a work
/// record (its office) decide scope; the other kinds only have to read.
enum ReadBack {
    Case(Box<Case>),
    Roster(Roster),
    Work(String),
    Other,
}

impl Working {
    /// Proves that the document saved loads back as itself and reads with the schema (see
    /// [`Engine::prove_reloads`], which finds the change to blame when it does not): true when
    /// it does, or when the batch changed nothing. Keeps the saved bytes and the reading for
    /// the commit. Run where the document was judged, so the proofs of a batch's lanes run side
    /// by side with the judging instead of after it.
    fn prove(&mut self, kind: DocKind) -> bool {
        if self.new.is_empty() || self.saved.is_some() {
            return true;
        }
        let bytes = wire_save(&self.doc);
        // A case the judge read whole after its last change need not be read again; one it read
        // part by part is read whole here, so what is stored was read whole once.
        let proved = reloads_as(&bytes, &self.doc).and_then(|()| match self.judged.take() {
            Some(case) if self.judged_whole => Ok(ReadBack::Case(case)),
            partial => {
                let read = read_back(kind, &self.doc)?;
                if let (Some(partial), ReadBack::Case(whole)) = (&partial, &read)
                    && partial != whole
                {
                    tracing::error!(
                        case = %whole.id,
                        "a case read part by part differs from its whole reading"
                    );
                }
                Ok(read)
            }
        });
        match proved {
            Ok(read) => {
                self.saved = Some(bytes);
                self.read = Some(read);
                true
            }
            Err(_) => false,
        }
    }

    /// What the case reads as after the batch's last change to it, when the judge or the
    /// proof read it.
    fn case_now(&self) -> Option<&Case> {
        match (&self.judged, &self.read) {
            (Some(judged), _) => Some(judged),
            (None, Some(ReadBack::Case(read))) => Some(read),
            _ => None,
        }
    }

    /// The document changed: what was proved or read of it no longer holds.
    fn changed(&mut self) {
        self.judged = None;
        self.saved = None;
        self.read = None;
    }
}

/// Reads `doc` with the schema of `kind`; a panic is a failure to read.
fn read_back(kind: DocKind, doc: &Automerge) -> Result<ReadBack, String> {
    catch_unwind(AssertUnwindSafe(|| match kind {
        DocKind::Case => schema::read_case(doc).map(|c| ReadBack::Case(Box::new(c))),
        DocKind::Roster => schema::read_roster(doc).map(ReadBack::Roster),
        DocKind::Identity => schema::read_identity(doc).map(|_| ReadBack::Other),
        DocKind::Rules => schema::read_rules(doc).map(|_| ReadBack::Other),
        DocKind::Work => schema::read_work(doc).map(|r| ReadBack::Work(r.office)),
    }))
    .unwrap_or_else(|_| Err(SchemaError::Missing("(panic)".into())))
    .map_err(|e| e.to_string())
}

/// What one batch's changes came to.
#[derive(Default)]
struct Ingested {
    acked: Vec<Hash>,
    refused: Vec<Refused>,
}

/// A batch's changes as sent, their hashes in hex, and which of them the hub does not hold yet.
#[derive(Clone, Copy)]
struct Upload<'a> {
    changes: &'a [ledger_protocol::UpChange],
    hashes: &'a [String],
    fresh: &'a [bool],
}

/// A batch being judged: the calling device's actors, its office's roster as it stands, and
/// the documents the batch changes (in first-touched order).
struct Batch {
    actors: Vec<String>,
    /// What the hub held of the batch's documents and cases before judging, read at once.
    survey: Arc<Survey>,
    /// Cases the hub already admits changes to from the caller in this batch.
    admitted: HashSet<CaseId>,
    roster: Option<Roster>,
    working: HashMap<(CaseId, DocKind), Working>,
    order: Vec<(CaseId, DocKind)>,
}

/// Demo cases a batch removed (a removal event on a case created as demo data). A document
/// that does not read here is refused by the commit's reload proof and so never purged, and
/// the purge checks the stored case again.
fn removed_demo_cases(working: &HashMap<(CaseId, DocKind), Working>) -> Vec<CaseId> {
    working
        .iter()
        .filter(|((_, kind), w)| *kind == DocKind::Case && !w.new.is_empty())
        .filter_map(|((case, _), w)| {
            // The judge (or the proof) read most cases after the batch's last change: a
            // second whole read of every case an upload changed was a sixteenth of the hub's
            // time.
            let read;
            let case_now = match w.case_now() {
                Some(known) => known,
                None => {
                    read = schema::read_case(&*w.doc).ok()?;
                    &read
                }
            };
            let removed = case_now.events.iter().any(|e| e.action == ActionKind::RemoveDemo);
            (case_now.demo && removed).then_some(*case)
        })
        .collect()
}

/// The cases a batch may change: those its changes and identity drops are for, the rules
/// document when a change is to it, and the caller's office roster (made on its first sync,
/// and read to judge the batch).
fn batch_cases(caller: &Caller, req: &SyncRequest) -> Vec<CaseId> {
    let mut cases: Vec<CaseId> = req.changes.iter().map(|c| CaseId(c.case_id)).collect();
    cases.extend(req.drops.iter().map(|d| CaseId(d.case_id)));
    cases.push(CaseId(roster_id(&caller.office.code)));
    cases
}

/// Moves a bootstrap past a document (sent, not the caller's, or skipped).
fn passed(cursor: &mut Cursor, case: CaseId, kind: DocKind) {
    if let Some(b) = &mut cursor.bootstrap {
        b.after = Some((case.0, kind));
    }
}

/// A change whose document the batch should hold and does not: a fault of the hub, refused
/// rather than judged against nothing.
fn not_in_batch() -> NotTaken {
    NotTaken::Refused(("structure", "内部错误".into()))
}

/// A refused change: the rule it broke and why, in words for the office.
type Refusal = (&'static str, String);

/// Why a change was not taken.
enum NotTaken {
    /// Refused for what it is (quarantined; the office is told why).
    Refused(Refusal),
    /// The hub could not judge it now (a lost database connection, a full pool): the whole
    /// batch is answered "try again" and nothing is refused, so a passing failure never puts an
    /// honest change in quarantine.
    Store(StoreError),
}

impl From<Refusal> for NotTaken {
    fn from(r: Refusal) -> Self {
        Self::Refused(r)
    }
}

/// A store failure while judging a change: stored damage refuses the change; anything else
/// stops the batch, to be sent again.
fn store_failure(e: StoreError) -> NotTaken {
    match e {
        StoreError::Damaged(_) => NotTaken::Refused((
            "schema",
            "县局保存的该文档已损坏，暂不能接收更改；请联系县局".into(),
        )),
        other => NotTaken::Store(other),
    }
}

/// Why a stored document could not be loaded: damage, never a passing failure.
fn load_error(case: CaseId, e: impl std::fmt::Display) -> StoreError {
    StoreError::Damaged(format!("stored document {case}: {e}"))
}

impl Engine {
    /// An engine over `store`.
    pub fn new(store: Arc<dyn HubStore>) -> Self {
        let engine = Self {
            store,
            cache: Cache::new(),
            cases: CaseLocks::default(),
            facts_gate: RwLock::new(()),
            rules: RwLock::new(Arc::new(Rules::builtin())),
            rules_version: Mutex::new(None),
            actor: ActorId::random(),
            limits: Limits::default(),
            last_expiry: Mutex::new(0),
            county: Mutex::new(None),
        };
        if let Err(e) = engine.reload_rules() {
            tracing::error!(error = %e, "the rules document does not load; using the built-in rules");
        }
        engine
    }

    /// The rules the hub reckons deadlines and statistics with.
    pub fn rules(&self) -> Arc<Rules> {
        self.rules.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Reads the rules document again if its stored version is not the one read (at start,
    /// after a batch changed it, and before serving: another process may have written it).
    fn reload_rules(&self) -> Result<(), StoreError> {
        let id = CaseId(rules_id());
        let version = self.store.doc_version(id, DocKind::Rules)?;
        let mut held = self.rules_version.lock().unwrap_or_else(|p| p.into_inner());
        if *held == version {
            return Ok(());
        }
        let Some((doc, _, version)) = self.load_versioned(id, DocKind::Rules)? else {
            return Ok(());
        };
        *held = Some(version);
        let read = schema::read_rules(&doc)
            .map_err(|e| StoreError::Database(format!("rules document: {e}")))?;
        let (rules, skipped) = Rules::builtin().with_doc(&read);
        for s in skipped {
            tracing::warn!(entry = %s.id, reason = %s.reason, "rules entry not applied");
        }
        *self.rules.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(rules);
        Ok(())
    }

    /// Creates the county's rules document the first time any device syncs: the hub makes it so
    /// that two bureau devices never create two (each would hide the other's entries).
    fn ensure_rules(&self, now: i64) -> Result<(), SyncError> {
        // Read once: the document exists (no query on every exchange).
        if self.rules_version.lock().unwrap_or_else(|p| p.into_inner()).is_some() {
            return Ok(());
        }
        let id = CaseId(rules_id());
        // Held while it is looked for and made: two first syncs at once make one.
        let _rules = self.cases.hold([id]);
        if self.store.case_scope(id)?.is_some() {
            return Ok(());
        }
        let bytes = ledger_domain::rules::genesis();
        let change = Change::from_bytes(bytes.clone())
            .map_err(|e| StoreError::Database(format!("rules genesis: {e}")))?;
        let hash = change.hash().to_string();
        let mut doc = Automerge::new().with_actor(self.actor.clone());
        doc.apply_changes([change])
            .map_err(|e| StoreError::Database(format!("rules genesis: {e}")))?;
        let mut genesis = Working::loaded(doc, 0, None);
        genesis.new.push(StoredChange {
            hash,
            case_id: id,
            kind: DocKind::Rules,
            device: HUB_DEVICE.to_owned(),
            received_at: now,
            bytes,
        });
        let working = HashMap::from([((id, DocKind::Rules), genesis)]);
        self.commit(working, &[(id, DocKind::Rules)], Vec::new(), &Survey::default(), now)?;
        tracing::info!("rules document created");
        Ok(())
    }

    /// The statistics facts of every case, re-projected first if the rules changed since they
    /// were projected (a rule change never rewrites the past: the rules themselves carry their
    /// first days, so re-projecting only adds what the new entries say).
    fn refresh_facts(&self) -> Result<(), StoreError> {
        // Alone: batches (and another stats call) wait, and the rules cannot change while the
        // facts are projected with them.
        let _alone = self.facts_gate.write().unwrap_or_else(|p| p.into_inner());
        self.reload_rules()?;
        let rules = self.rules();
        let stamp = rules_stamp(&rules);
        if self.store.meta(FACTS_STAMP)?.as_deref() == Some(stamp.as_str()) {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let ids = self.store.case_ids()?;
        let mut rows = Vec::new();
        for id in &ids {
            let Some((doc, _)) = self.load(*id, DocKind::Case)? else { continue };
            let Ok(case) = schema::read_case(&doc) else { continue };
            rows.push((
                *id,
                CaseFacts::project(&case, &replay(&case.events), &rules.policies, &rules.calendar),
            ));
            if rows.len() >= 500 {
                self.store.set_facts(&rows)?;
                rows.clear();
            }
        }
        self.store.set_facts(&rows)?;
        self.store.set_meta(FACTS_STAMP, &stamp)?;
        tracing::info!(cases = ids.len(), elapsed = ?started.elapsed(), "statistics facts re-projected with the county's rules");
        Ok(())
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn HubStore> {
        &self.store
    }

    /// Loads a stored document (snapshot and tail). A document that does not load (or panics
    /// Automerge) is an error for that document only.
    pub(crate) fn load(
        &self,
        case: CaseId,
        kind: DocKind,
    ) -> Result<Option<(Automerge, usize)>, StoreError> {
        Ok(self.load_versioned(case, kind)?.map(|(doc, tail, _)| (doc, tail)))
    }

    /// [`Self::load`], with the version the document was read at.
    fn load_versioned(
        &self,
        case: CaseId,
        kind: DocKind,
    ) -> Result<Option<(Automerge, usize, i64)>, StoreError> {
        let version = self.store.doc_version(case, kind)?;
        self.load_at(case, kind, version)
    }

    /// [`Self::load_versioned`], at the version `survey` read if it surveyed the document.
    fn load_known(
        &self,
        survey: &Survey,
        case: CaseId,
        kind: DocKind,
    ) -> Result<Option<(Automerge, usize, i64)>, StoreError> {
        match survey.version((case, kind)) {
            Some(version) => self.load_at(case, kind, version),
            None => self.load_versioned(case, kind),
        }
    }

    /// [`Self::load_versioned`] of a document whose version was read already (`None`: the
    /// hub does not hold it).
    fn load_at(
        &self,
        case: CaseId,
        kind: DocKind,
        version: Option<i64>,
    ) -> Result<Option<(Automerge, usize, i64)>, StoreError> {
        let Some(version) = version else {
            self.cache.pop(&(case, kind));
            return Ok(None);
        };
        if let Some((doc, tail)) = self.cache.get(&(case, kind), version) {
            return Ok(Some((doc, tail, version)));
        }
        let Some((snapshot, tail)) = self.store.doc(case, kind)? else { return Ok(None) };
        let n = tail.len();
        let mut doc = load_doc(&snapshot, tail).map_err(|e| load_error(case, e))?;
        doc.set_actor(self.actor.clone());
        self.cache.put((case, kind), doc.clone(), n, version);
        Ok(Some((doc, n, version)))
    }

    /// Validates and stores the batch, then serves the next page.
    pub fn sync(
        &self,
        caller: &Caller,
        req: &SyncRequest,
        now: i64,
    ) -> Result<SyncResponse, SyncError> {
        bounds(req)?;
        if let Some(actor) =
            req.actor.as_deref().map(str::trim).filter(|a| {
                !a.is_empty() && a.len() <= 64 && a.chars().all(|c| c.is_ascii_hexdigit())
            })
        {
            self.store.register_actor(
                &actor.to_ascii_lowercase(),
                &caller.device.id,
                &caller.office.code,
            )?;
        }
        self.ensure_rules(now)?;
        self.reload_rules()?;
        // The cases this batch changes (its own office's roster among them): held until its
        // commit, while batches on other cases go on.
        let gate = self.facts_gate.read().unwrap_or_else(|p| p.into_inner());
        let cases = self.cases.hold(batch_cases(caller, req));
        self.ensure_roster(&caller.office, now)?;
        let ingested = self.ingest(caller, &req.changes, now)?;
        let (acked_drops, refused_drops) = self.merge_drops(caller, &req.drops, now)?;
        for case in &req.evicted {
            let case = CaseId(*case);
            // Only a case that really left this office can be confirmed gone.
            if self.store.has_leave(case, &caller.office.code)? {
                self.store.log_eviction(case, &caller.office.code, &caller.device.id, now)?;
            }
        }
        self.expire_uploads(now)?;
        // Only attachments a case the caller may see cites are taken: nobody can park files.
        for chunk in &req.blobs {
            if self.blob_visible(caller, &chunk.hash)? {
                self.store.blob_piece(chunk, now)?;
            }
        }
        // An offered attachment the hub lacks is asked for (its case may come in a later
        // batch; the pieces are taken once the case cites it).
        let mut need_blobs = Vec::new();
        for hash in &req.blob_offers {
            if let Err(offset) = self.store.blob_progress(hash)? {
                need_blobs.push(BlobWant { hash: hash.clone(), offset });
            }
        }
        let leases = self.leases(caller, req, now)?;
        let budget = (req.page_bytes as usize).clamp(MIN_BATCH_BYTES as usize, MAX_PAGE_BYTES);
        drop((cases, gate));
        let (records, cursor, more, deferred_whole) = self.page(caller, req, budget)?;
        self.store.record_sync(
            &caller.device.id,
            &SyncHealth {
                at: now,
                seq: cursor.seq,
                pending: req.pending,
                last_error: req.last_error.as_ref().map(|e| e.chars().take(500).collect()),
                skew_ms: req.device_time.saturating_sub(now),
            },
        )?;
        let county = self.county()?;
        let directory = (req.directory_version.as_deref()
            != Some(county.directory.version.as_str()))
        .then(|| county.directory.clone());
        Ok(SyncResponse {
            acked: ingested.acked,
            records,
            cursor,
            more,
            hub_time: now,
            need_blobs,
            refused: ingested.refused,
            acked_drops,
            refused_drops,
            leases,
            deferred_whole,
            directory,
            hub_key: None,
        })
    }

    /// The county's offices and directory, read again only when the store's stamp moved
    /// (this or another process added an office or set the townships). The stamp is read
    /// first: an office added meanwhile is read with the old stamp and read again next time.
    fn county(&self) -> Result<Arc<CountyOffices>, StoreError> {
        let stamp = self.store.directory_stamp()?;
        if let Some((at, county)) = &*unpoisoned(&self.county)
            && *at == stamp
        {
            return Ok(county.clone());
        }
        let offices = self.store.offices()?;
        let directory = self.directory_of(offices.clone())?;
        let county = Arc::new(CountyOffices { offices, directory });
        *unpoisoned(&self.county) = Some((stamp, county.clone()));
        Ok(county)
    }

    /// The county directory: every office (bureau first, then by code) and the county's
    /// townships (as set, then any an office answers for that the list lacks).
    pub fn directory(&self) -> Result<Directory, StoreError> {
        Ok(self.county()?.directory.clone())
    }

    fn directory_of(&self, mut offices: Vec<OfficeRecord>) -> Result<Directory, StoreError> {
        offices.sort_by(|a, b| {
            (a.role != Role::Bureau, &a.code).cmp(&(b.role != Role::Bureau, &b.code))
        });
        let mut townships = self.store.county_townships()?;
        let complete = !townships.is_empty();
        for t in offices.iter().flat_map(|o| o.townships.iter()) {
            if !townships.contains(t) {
                townships.push(t.clone());
            }
        }
        let offices = offices
            .into_iter()
            .map(|o| DirectoryOffice {
                code: o.code,
                name: o.name,
                role: o.role.code().to_owned(),
                townships: o.townships,
            })
            .collect();
        Ok(Directory::new(offices, townships, complete))
    }

    /// The office's roster (created if need be), saved, for a device that just enrolled.
    pub fn roster_for_enrollment(&self, office: &str, now: i64) -> Result<Vec<u8>, SyncError> {
        let Some(record) = self.store.office(office)? else { return Ok(Vec::new()) };
        let id = CaseId(roster_id(office));
        let _roster = self.cases.hold([id]);
        self.ensure_roster(&record, now)?;
        Ok(self.loaded(id, DocKind::Roster).map(|d| d.save()).unwrap_or_default())
    }

    /// Creates an office's roster document the first time one of its devices syncs.
    fn ensure_roster(&self, office: &OfficeRecord, now: i64) -> Result<(), SyncError> {
        let id = CaseId(roster_id(&office.code));
        if self.store.case_scope(id)?.is_some() {
            return Ok(());
        }
        let mut working = HashMap::new();
        let code = office.code.clone();
        self.hub_write(&mut working, &Survey::default(), id, DocKind::Roster, now, |tx| {
            schema::write_roster(tx, &code)
        })?;
        self.commit(working, &[(id, DocKind::Roster)], Vec::new(), &Survey::default(), now)?;
        tracing::info!(office = %office.code, "roster created");
        Ok(())
    }

    /// Writes a change of the hub's own into a working document.
    fn hub_write(
        &self,
        working: &mut HashMap<(CaseId, DocKind), Working>,
        survey: &Survey,
        case: CaseId,
        kind: DocKind,
        now: i64,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<(), SchemaError>,
    ) -> Result<bool, SyncError> {
        let w = match working.entry((case, kind)) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let (doc, tail, version) = match self.load_known(survey, case, kind)? {
                    Some((doc, tail, version)) => (doc, tail, Some(version)),
                    None => (Automerge::new().with_actor(self.actor.clone()), 0, None),
                };
                v.insert(Working::loaded(doc, tail, version))
            }
        };
        let mut tx = w.doc.transaction();
        if let Err(e) = f(&mut tx) {
            tx.rollback();
            return Err(StoreError::Database(format!("hub write to {case}: {e}")).into());
        }
        let (hash, _) = tx.commit_with(CommitOptions::default().with_time(now / 1000));
        // What the judge read is no longer what the document reads as.
        w.changed();
        let Some(hash) = hash else { return Ok(false) };
        let Some(change) = w.doc.get_change_by_hash(&hash) else { return Ok(false) };
        w.new.push(StoredChange {
            hash: hash.to_string(),
            case_id: case,
            kind,
            device: HUB_DEVICE.to_owned(),
            received_at: now,
            bytes: change.raw_bytes().to_vec(),
        });
        Ok(true)
    }

    fn ingest(
        &self,
        caller: &Caller,
        changes: &[ledger_protocol::UpChange],
        now: i64,
    ) -> Result<Ingested, SyncError> {
        let mut out = Ingested::default();
        let mut batch = Batch {
            actors: self.store.device_actors(&caller.device.id)?,
            survey: Arc::default(),
            admitted: HashSet::new(),
            roster: None,
            working: HashMap::new(),
            order: Vec::new(),
        };
        let hashes: Vec<String> = changes.iter().map(|up| up.hash.to_hex()).collect();
        // Stored before this batch: acknowledged, not judged again.
        let held = self.store.stored_changes(&hashes)?;
        let fresh: Vec<bool> = hashes.iter().map(|h| !held.contains(h)).collect();
        // What the judging reads of each document and case first, read at once.
        let mut keys = Vec::new();
        let mut surveyed = HashSet::new();
        for (up, _) in changes.iter().zip(&fresh).filter(|(_, fresh)| **fresh) {
            let key = (CaseId(up.case_id), up.kind);
            if surveyed.insert(key) {
                keys.push(key);
            }
        }
        batch.survey = Arc::new(self.store.survey(&keys)?);
        let upload = Upload { changes, hashes: &hashes, fresh: &fresh };
        // The lanes share one reading of the roster; a roster that cannot be read now is left
        // to the change-by-change path, which answers each change as it always has.
        let split = lanes(upload, judging_threads()).and_then(|lanes| {
            Some((lanes, self.roster_of(&batch.working, &caller.office.code).ok()?))
        });
        let verdicts = match split {
            Some((lanes, roster)) => {
                batch.roster = roster;
                self.judge_lanes(caller, &mut batch, upload, &lanes, now)
            }
            None => {
                let all: Vec<usize> = (0..changes.len()).collect();
                self.judge_run(caller, &mut batch, upload, &all, now)
            }
        };
        for (up, verdict) in changes.iter().zip(verdicts) {
            match verdict {
                Ok(()) => out.acked.push(up.hash),
                Err(NotTaken::Refused(refusal)) => {
                    out.refused.push(self.refuse(caller, up, refusal, now)?);
                }
                Err(NotTaken::Store(e)) => return Err(e.into()),
            }
        }
        // Demo cases the bureau removed in this batch: purged once the removal is committed.
        let purge = if caller.office.role == Role::Bureau {
            removed_demo_cases(&batch.working)
        } else {
            Vec::new()
        };
        // Changes accepted for a document the commit then finds unloadable are refused too.
        let failed = self.commit(batch.working, &batch.order, Vec::new(), &batch.survey, now)?;
        let failed_cases: BTreeSet<CaseId> = failed.iter().map(|c| c.case_id).collect();
        for case in purge.into_iter().filter(|c| !failed_cases.contains(c)) {
            self.purge_demo(case, &caller.office.code, now)?;
        }
        if !failed.is_empty() {
            let bad: BTreeSet<String> = failed.iter().map(|c| c.hash.clone()).collect();
            out.acked.retain(|h| !bad.contains(&h.to_hex()));
            for c in failed {
                out.refused.push(Refused {
                    hash: c.hash,
                    case_id: c.case_id.0,
                    reason: "更改后的文档无法重新载入，县局未保存".into(),
                    rule: "schema".into(),
                });
            }
        }
        Ok(out)
    }

    /// Judges the changes at `indices` (in batch order) into `batch`: a verdict for each of
    /// them, in that order. A change already held, or accepted earlier in the run, is
    /// acknowledged; after a refusal, the later changes to the same document are refused with it.
    fn judge_run(
        &self,
        caller: &Caller,
        batch: &mut Batch,
        upload: Upload<'_>,
        indices: &[usize],
        now: i64,
    ) -> Vec<Result<(), NotTaken>> {
        let Upload { changes, hashes, fresh } = upload;
        let mut verdicts: Vec<Result<(), NotTaken>> = Vec::with_capacity(indices.len());
        let mut refused_docs: BTreeSet<(CaseId, DocKind)> = BTreeSet::new();
        let mut accepted: HashSet<&str> = HashSet::new();
        for &i in indices {
            let (up, hash) = (&changes[i], hashes[i].as_str());
            let key = (CaseId(up.case_id), up.kind);
            if !fresh[i] || accepted.contains(hash) {
                verdicts.push(Ok(()));
                continue;
            }
            let verdict = if refused_docs.contains(&key) {
                Err(NotTaken::Refused((
                    "causality",
                    "同一文档中更早的更改已被拒绝，这条更改依赖它".to_owned(),
                )))
            } else {
                self.judge_one(caller, batch, up, hash, now)
            };
            match &verdict {
                Ok(()) => {
                    accepted.insert(hash);
                }
                Err(NotTaken::Refused(_)) => {
                    refused_docs.insert(key);
                }
                Err(NotTaken::Store(_)) => {}
            }
            verdicts.push(verdict);
        }
        verdicts
    }

    /// Judges a batch's lanes (see [`lanes`]) on a thread each, then gathers their documents
    /// into `batch` in the order the batch first touched them, as one thread would have.
    fn judge_lanes(
        &self,
        caller: &Caller,
        batch: &mut Batch,
        upload: Upload<'_>,
        lanes: &[Vec<usize>],
        now: i64,
    ) -> Vec<Result<(), NotTaken>> {
        let judged: Vec<(Batch, Vec<Result<(), NotTaken>>)> = std::thread::scope(|scope| {
            let running: Vec<_> = lanes
                .iter()
                .map(|lane| {
                    let mut own = Batch {
                        actors: batch.actors.clone(),
                        survey: Arc::clone(&batch.survey),
                        admitted: HashSet::new(),
                        roster: batch.roster.clone(),
                        working: HashMap::new(),
                        order: Vec::new(),
                    };
                    scope.spawn(move || {
                        let verdicts = self.judge_run(caller, &mut own, upload, lane, now);
                        // Proved here, beside the other lanes' judging; a document that does
                        // not load back is left to the commit, which finds the change to blame.
                        for (key, w) in &mut own.working {
                            w.prove(key.1);
                        }
                        (own, verdicts)
                    })
                })
                .collect();
            joined(running)
        });
        let mut verdicts: Vec<Result<(), NotTaken>> =
            upload.changes.iter().map(|_| Ok(())).collect();
        for ((own, lane_verdicts), lane) in judged.into_iter().zip(lanes) {
            batch.working.extend(own.working);
            for (&i, verdict) in lane.iter().zip(lane_verdicts) {
                verdicts[i] = verdict;
            }
        }
        // First touched by a change judged here, as the one-thread path orders them.
        let mut ordered = HashSet::new();
        for (up, _) in upload.changes.iter().zip(upload.fresh).filter(|(_, fresh)| **fresh) {
            let key = (CaseId(up.case_id), up.kind);
            if batch.working.contains_key(&key) && ordered.insert(key) {
                batch.order.push(key);
            }
        }
        verdicts
    }

    /// Quarantines a refused change and says why, for the office.
    fn refuse(
        &self,
        caller: &Caller,
        up: &ledger_protocol::UpChange,
        (rule, reason): Refusal,
        now: i64,
    ) -> Result<Refused, SyncError> {
        let hash = up.hash.to_hex();
        tracing::warn!(
            office = %caller.office.code, device = %caller.device.id, case = %up.case_id,
            rule, %reason, "change refused"
        );
        self.store.quarantine(
            &QuarantineRecord {
                hash: hash.clone(),
                case_id: CaseId(up.case_id),
                kind: up.kind,
                device: caller.device.id.clone(),
                office: caller.office.code.clone(),
                rule: rule.to_owned(),
                reason: reason.clone(),
                received_at: now,
                bytes: up.bytes.clone(),
            },
            QUARANTINE_PER_DEVICE,
        )?;
        Ok(Refused { hash, case_id: up.case_id, reason, rule: rule.to_owned() })
    }

    /// Purges a demo case the bureau removed: the one deletion the hub performs (DESIGN §6).
    /// Checked again here, on the document as stored: a case not created as demo data is never
    /// deleted, whatever the batch said.
    fn purge_demo(&self, case: CaseId, by: &str, now: i64) -> Result<(), SyncError> {
        let Some((doc, _)) = self.load(case, DocKind::Case)? else { return Ok(()) };
        let read = schema::read_case(&doc).ok();
        let removed = read
            .as_ref()
            .is_some_and(|c| c.demo && c.events.iter().any(|e| e.action == ActionKind::RemoveDemo));
        if !removed {
            tracing::warn!(case = %case, "purge asked for a case that is not removed demo data");
            return Ok(());
        }
        let offices: Vec<String> = self.store.offices()?.into_iter().map(|o| o.code).collect();
        self.store.purge_case(case, by, &offices, now)?;
        for kind in [DocKind::Case, DocKind::Identity] {
            self.cache.pop(&(case, kind));
        }
        tracing::info!(case = %case, by, "demo case purged");
        Ok(())
    }

    /// Judges one change and, when accepted, applies it to its working document.
    fn judge_one(
        &self,
        caller: &Caller,
        batch: &mut Batch,
        up: &ledger_protocol::UpChange,
        hash: &str,
        now: i64,
    ) -> Result<(), NotTaken> {
        let case = CaseId(up.case_id);
        let key = (case, up.kind);
        plan::doc_id_rule(up.kind, up.case_id, &caller.office.code)?;
        // Nothing the answer depends on changes before the batch commits. (Roster and rules
        // documents are not cases: admitted without a look, so never remembered as admitted.)
        if !batch.admitted.contains(&case) {
            self.admits(caller, &batch.survey, case, up.kind)?;
            if matches!(up.kind, DocKind::Case | DocKind::Identity) {
                batch.admitted.insert(case);
            }
        }
        self.open_working(batch, key)?;
        let Batch { actors, roster, working, .. } = batch;
        // The case beside an identity document: the batch's copy (with its reading) or the hub's.
        let stored_case = match up.kind {
            DocKind::Identity if !working.contains_key(&(case, DocKind::Case)) => {
                self.load(case, DocKind::Case).map_err(store_failure)?.map(|(d, _)| d)
            }
            _ => None,
        };
        if roster.is_none() {
            *roster = self.roster_of(working, &caller.office.code).map_err(store_failure)?;
        }
        let (case_doc, case_known) = match working.get(&(case, DocKind::Case)) {
            Some(c) if up.kind == DocKind::Identity => (Some(&*c.doc), c.judged.as_deref()),
            _ => (stored_case.as_ref(), None),
        };
        let Some(w) = working.get(&key) else {
            return Err(not_in_batch());
        };
        // The validator trusts what it is told it already read; every debug build (so every
        // test that syncs) checks that it is what the document reads as.
        debug_assert!(
            w.judged.as_deref().is_none_or(|j| schema::read_case(&*w.doc).ok().as_ref() == Some(j)),
            "the batch's reading of case {case} is stale"
        );
        let input = validate::Input {
            caller: validate::Caller {
                office: &caller.office.code,
                role: &caller.office.role,
                townships: &caller.office.townships,
                actors,
            },
            class: class_of(up.kind),
            doc_id: up.case_id,
            case_doc,
            roster: roster.as_ref(),
            limits: self.limits,
            known: validate::Known { doc: w.judged.as_deref(), case_doc: case_known },
        };
        // The rules never panic by design; a panic inside Automerge is still only this change's.
        let verdict = catch_unwind(AssertUnwindSafe(|| {
            validate::judge(&input, &w.doc, &up.bytes, Some(up.hash.0))
        }))
        .map_err(|_| ("structure", "更改无法处理（解析时出错）".to_owned()))?;
        let accepted = verdict.map_err(|r| (r.rule.code(), r.reason))?;
        // Later events of the batch are judged against the roster as it now stands; one that
        // does not read is refused here rather than leaving the batch without a roster.
        let new_roster = match up.kind {
            DocKind::Roster => Some(
                schema::read_roster(&accepted.doc)
                    .map_err(|e| ("schema", format!("人员名单无法读取：{e}")))?,
            ),
            _ => None,
        };
        let Some(w) = working.get_mut(&key) else {
            return Err(not_in_batch());
        };
        *w.doc = accepted.doc;
        w.changed();
        w.judged = accepted.case.map(Box::new);
        w.judged_whole = accepted.read_whole;
        w.doc.set_actor(self.actor.clone());
        w.new.push(StoredChange {
            hash: hash.to_owned(),
            case_id: case,
            kind: up.kind,
            device: caller.device.id.clone(),
            received_at: now,
            bytes: up.bytes.clone(),
        });
        if new_roster.is_some() {
            *roster = new_roster;
        }
        Ok(())
    }

    /// Whether the hub takes changes to this case from the caller at all: not to purged demo
    /// data, and not from a device that confirmed it deleted the case after it was reassigned
    /// away (offline work on it is accepted until then; after, nothing it sends for the case
    /// can be honest work).
    fn admits(
        &self,
        caller: &Caller,
        survey: &Survey,
        case: CaseId,
        kind: DocKind,
    ) -> Result<(), NotTaken> {
        if matches!(kind, DocKind::Roster | DocKind::Rules | DocKind::Work) {
            return Ok(());
        }
        let purged = match survey.is_purged(case) {
            Some(purged) => purged,
            None => self.store.is_purged(case).map_err(store_failure)?,
        };
        if purged {
            return Err(("scope", "该案件是已清除的演示数据，县局不再接收对它的更改".into()).into());
        }
        let scope = || match survey.scope(case) {
            Some(scope) => Ok(scope.cloned()),
            None => self.store.case_scope(case).map_err(store_failure),
        };
        if caller.office.role != Role::Bureau
            && let Some(scope) = scope()?
            && !may_see(&caller.viewer(), &scope, DocClass::Case)
            && self
                .store
                .evictions(case)
                .map_err(store_failure)?
                .iter()
                .any(|(_, device, _)| *device == caller.device.id)
        {
            return Err(("scope", "该案件已从本机移交并删除，不能再修改".into()).into());
        }
        Ok(())
    }

    /// Loads the document a change applies to into the batch's working set, once per batch.
    fn open_working(&self, batch: &mut Batch, key: (CaseId, DocKind)) -> Result<(), NotTaken> {
        let std::collections::hash_map::Entry::Vacant(slot) = batch.working.entry(key) else {
            return Ok(());
        };
        let (case, kind) = key;
        let survey = &batch.survey;
        let loaded = self.load_known(survey, case, kind);
        // The survey's answer stands only if it also found the document absent: one it saw
        // and that is gone now may have been set aside since (`ledger-hub check --quarantine`).
        let set_aside = || match survey.is_set_aside(key) {
            Some(set_aside) if survey.version(key) == Some(None) => Ok(set_aside),
            _ => self.store.is_set_aside(case, kind).map_err(store_failure),
        };
        let (doc, tail, version) = match loaded {
            Ok(Some((doc, tail, version))) => (doc, tail, Some(version)),
            Ok(None) if set_aside()? => {
                return Err(
                    ("schema", "县局已隔离该文档，暂不能接收更改；请联系县局".into()).into()
                );
            }
            Ok(None) => (Automerge::new().with_actor(self.actor.clone()), 0, None),
            Err(e) => {
                tracing::error!(case = %case, error = %e, "stored document does not load");
                return Err(store_failure(e));
            }
        };
        slot.insert(Working::loaded(doc, tail, version));
        batch.order.push(key);
        Ok(())
    }

    /// An office's roster as the hub holds it (the batch's working copy first).
    fn roster_of(
        &self,
        working: &HashMap<(CaseId, DocKind), Working>,
        office: &str,
    ) -> Result<Option<Roster>, StoreError> {
        let key = (CaseId(roster_id(office)), DocKind::Roster);
        let doc = match working.get(&key) {
            Some(w) => Some((*w.doc).clone()),
            None => self.load(key.0, key.1)?.map(|(d, _)| d),
        };
        Ok(doc.and_then(|d| schema::read_roster(&d).ok()))
    }

    /// Merges identity drops into identity documents with the hub's own changes. Returns the
    /// drops acknowledged and those refused, with why.
    fn merge_drops(
        &self,
        caller: &Caller,
        drops: &[IdentityDrop],
        now: i64,
    ) -> Result<DropVerdicts, SyncError> {
        let mut acked = Vec::new();
        let mut refused = Vec::new();
        // The exchange's drops are written together and committed once: one transaction (and
        // one fsync) for the batch instead of one a drop.
        let mut pending = PendingDrops::default();
        // What the drops read of the store, read at once (the exchange holds their cases).
        let mut keys = Vec::with_capacity(drops.len() * 2);
        for drop in drops {
            for kind in [DocKind::Case, DocKind::Identity] {
                if !keys.contains(&(CaseId(drop.case_id), kind)) {
                    keys.push((CaseId(drop.case_id), kind));
                }
            }
        }
        let mut survey = self.store.survey(&keys)?;
        let ids: Vec<Uuid> = drops.iter().map(|d| d.id).collect();
        let mut merged = Some(self.store.merged_drops(&ids)?);
        for drop in drops {
            let case = CaseId(drop.case_id);
            // A second drop for a case of the batch reads what the first stored, and the same
            // drop sent twice is merged once.
            if pending.drops.iter().any(|(id, c, _)| *id == drop.id || *c == case) {
                self.commit_drops(&mut pending, &mut acked, &mut refused, now)?;
                // What was read before that commit is read again from the store.
                survey = Survey::default();
                merged = None;
            }
            let was_merged = match &merged {
                Some(merged) => merged.contains(&drop.id),
                None => self.store.drop_merged(drop.id)?,
            };
            if was_merged {
                acked.push(drop.id);
                continue;
            }
            match self.merge_drop(caller, drop, &survey, &mut pending, now) {
                Ok(()) => {}
                Err(DropError::Refused(reason)) => {
                    tracing::warn!(office = %caller.office.code, case = %case, %reason, "identity drop refused");
                    refused.push((drop.id, reason));
                }
                Err(DropError::Sync(e)) => return Err(e),
            }
        }
        self.commit_drops(&mut pending, &mut acked, &mut refused, now)?;
        Ok((acked, refused))
    }

    /// Commits the drops written so far; a drop whose identity document would not load again
    /// is refused (and sent again), the others are acknowledged.
    fn commit_drops(
        &self,
        pending: &mut PendingDrops,
        acked: &mut Vec<Uuid>,
        refused: &mut Vec<(Uuid, String)>,
        now: i64,
    ) -> Result<(), SyncError> {
        let PendingDrops { working, order, drops } = std::mem::take(pending);
        if drops.is_empty() {
            return Ok(());
        }
        let failed = self.commit(working, &order, drops.clone(), &Survey::default(), now)?;
        let failed: BTreeSet<CaseId> = failed.iter().map(|c| c.case_id).collect();
        for (id, case, office) in drops {
            if failed.contains(&case) {
                tracing::warn!(%office, %case, "identity drop not stored: its document would not load again");
                refused.push((id, "县局未能把投递的信访人信息存入身份文档；请稍后再试".into()));
            } else {
                tracing::info!(%office, %case, "identity drop merged");
                acked.push(id);
            }
        }
        Ok(())
    }

    /// Checks one drop and writes its new persons into the batch's identity documents.
    fn merge_drop(
        &self,
        caller: &Caller,
        drop: &IdentityDrop,
        survey: &Survey,
        pending: &mut PendingDrops,
        now: i64,
    ) -> Result<(), DropError> {
        let case = CaseId(drop.case_id);
        let refuse = |m: &str| DropError::Refused(m.to_owned());
        let scope = match survey.scope(case) {
            Some(scope) => scope.cloned(),
            None => self.store.case_scope(case).map_err(SyncError::from)?,
        };
        let Some(scope) = scope else {
            return Err(refuse("案件尚未同步到县局；下次同步时再投递"));
        };
        // Names typed while the case was this office's still reach the bureau after it left.
        let ours = may_see(&caller.viewer(), &scope, DocClass::Case)
            || scope.registrar == caller.office.code
            || self.store.has_leave(case, &caller.office.code).map_err(SyncError::from)?;
        if !ours {
            return Err(refuse("该案件不属于本单位管辖，不能投递信访人身份"));
        }
        let case_doc = match self.load_known(survey, case, DocKind::Case) {
            Ok(Some((doc, _, _))) => doc,
            _ => return Err(refuse("县局读取案件出错")),
        };
        // Only who the case's petitioners are: the rest of the case has no say here.
        let Ok(petitioners) = schema::read_petitioners(&case_doc) else {
            return Err(refuse("县局读取案件出错"));
        };
        let persons = plan::drop_persons(drop, &petitioners).map_err(refuse)?;
        let key = (case, DocKind::Identity);
        let damaged = || refuse("县局保存的身份文档已损坏；请联系县局");
        let existing = match self.load_known(survey, case, DocKind::Identity) {
            // A stored identity that does not read is damage to report, not an empty one to
            // write over.
            Ok(Some((doc, _, _))) => Some(schema::read_identity(&doc).map_err(|_| damaged())?),
            Ok(None) => None,
            Err(_) => return Err(damaged()),
        };
        let known: BTreeSet<String> = existing
            .as_ref()
            .map(|i| i.persons.iter().map(|p| p.id.clone()).collect())
            .unwrap_or_default();
        // Persons are never replaced: one already there keeps what it holds.
        let fresh: Vec<Person> = persons.into_iter().filter(|p| !known.contains(&p.id)).collect();
        let create = existing.is_none();
        let case_id = case;
        let wrote = if create || !fresh.is_empty() {
            self.hub_write(&mut pending.working, survey, case, DocKind::Identity, now, |tx| {
                if create {
                    schema::write_identity(
                        tx,
                        &ledger_domain::Identity {
                            case_id,
                            schema_version: ledger_domain::SCHEMA_VERSION,
                            persons: Vec::new(),
                        },
                    )?;
                }
                for p in &fresh {
                    schema::put_person(tx, p)?;
                }
                Ok(())
            })?
        } else {
            false
        };
        if wrote {
            pending.order.push(key);
        }
        pending.drops.push((drop.id, case, caller.office.code.clone()));
        Ok(())
    }

    /// Number blocks for the series the device asks for. A device asking too often in a day
    /// gets none (it numbers with its device letter meanwhile).
    fn leases(
        &self,
        caller: &Caller,
        req: &SyncRequest,
        now: i64,
    ) -> Result<Vec<Lease>, SyncError> {
        let mut out = Vec::new();
        for want in &req.want_leases {
            if !series_name_ok(&want.series) {
                return Err(SyncError::BadRequest(format!("编号序列名「{}」无效", want.series)));
            }
            if want.used > MAX_NUMBER {
                return Err(SyncError::BadRequest("已用编号超出范围".into()));
            }
            match self.store.lease(
                &caller.office.code,
                &want.series,
                &caller.device.id,
                want.used,
                LEASE_SIZE,
                now,
            ) {
                Ok((start, end)) => out.push(Lease { series: want.series.clone(), start, end }),
                Err(StoreError::Conflict(reason)) => {
                    tracing::warn!(device = %caller.device.id, %reason, "lease refused");
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(out)
    }

    /// Whether a case the caller may see cites the attachment.
    fn blob_visible(&self, caller: &Caller, hash: &str) -> Result<bool, StoreError> {
        let viewer = caller.viewer();
        for case in self.store.blob_cases(hash)? {
            if self.store.case_scope(case)?.is_some_and(|s| may_see(&viewer, &s, DocClass::Case)) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Drops abandoned partial uploads, at most once an hour.
    fn expire_uploads(&self, now: i64) -> Result<(), StoreError> {
        let mut last = self.last_expiry.lock().unwrap_or_else(|p| p.into_inner());
        if now - *last < 3_600_000 {
            return Ok(());
        }
        *last = now;
        self.store.expire_uploads(now - UPLOAD_EXPIRY_MS)?;
        Ok(())
    }

    /// Plans and stores the working documents' new changes; returns the changes of documents
    /// whose new snapshot would not load again (those are left out).
    fn commit(
        &self,
        mut working: HashMap<(CaseId, DocKind), Working>,
        order: &[(CaseId, DocKind)],
        drops: Vec<(Uuid, CaseId, String)>,
        survey: &Survey,
        now: i64,
    ) -> Result<Vec<StoredChange>, SyncError> {
        let failed = self.prove_all(&mut working, order)?;
        // A drop whose identity write failed is not marked merged: it is sent again.
        let failed_cases: BTreeSet<CaseId> = failed.iter().map(|c| c.case_id).collect();
        let drops = drops.into_iter().filter(|(_, case, _)| !failed_cases.contains(case)).collect();
        let commit = self.commit_plan(&working, order, drops, survey, now)?;
        if commit.changes.is_empty() && commit.drops.is_empty() && commit.log.is_empty() {
            return Ok(failed);
        }
        if let Err(e) = self.store.commit(&commit) {
            // Another process wrote one of these documents since they were loaded: nothing was
            // stored; they are read again on the office's retry.
            for key in order {
                self.cache.pop(key);
            }
            return Err(e.into());
        }
        let rules_changed = order
            .iter()
            .any(|k| k.1 == DocKind::Rules && working.get(k).is_some_and(|w| !w.new.is_empty()));
        for key in order {
            if let Some(w) = working.remove(key) {
                if w.new.is_empty() {
                    continue;
                }
                let compacted = commit
                    .docs
                    .iter()
                    .any(|d| d.case_id == key.0 && d.kind == key.1 && d.snapshot.is_some());
                let tail = if compacted { 0 } else { w.before_tail + w.new.len() };
                self.cache.put(*key, *w.doc, tail, w.version.unwrap_or(0) + 1);
            }
        }
        if rules_changed {
            self.reload_rules()?;
            tracing::info!("county rules changed");
        }
        Ok(failed)
    }

    /// [`Self::prove_reloads`] for every document of the batch, the documents split over the
    /// judging threads; the changes that failed, in the batch's order.
    fn prove_all(
        &self,
        working: &mut HashMap<(CaseId, DocKind), Working>,
        order: &[(CaseId, DocKind)],
    ) -> Result<Vec<StoredChange>, SyncError> {
        // Those the judging lanes proved already are done.
        let mut docs: Vec<((CaseId, DocKind), &mut Working)> = working
            .iter_mut()
            .filter(|(_, w)| !w.new.is_empty() && w.saved.is_none())
            .map(|(k, w)| (*k, w))
            .collect();
        let rank: HashMap<(CaseId, DocKind), usize> =
            order.iter().enumerate().map(|(i, k)| (*k, i)).collect();
        docs.sort_by_key(|(k, _)| rank.get(k).copied());
        let threads = judging_threads().min(docs.len() / PROOFS_PER_THREAD).max(1);
        let per = docs.len().div_ceil(threads).max(1);
        let proved: Vec<Result<Vec<StoredChange>, SyncError>> = std::thread::scope(|scope| {
            let running: Vec<_> = docs
                .chunks_mut(per)
                .map(|chunk| {
                    scope.spawn(move || {
                        let mut failed = Vec::new();
                        for (key, w) in chunk.iter_mut() {
                            failed.extend(self.prove_reloads(*key, w)?);
                        }
                        Ok(failed)
                    })
                })
                .collect();
            joined(running)
        });
        let mut failed = Vec::new();
        for chunk in proved {
            failed.extend(chunk?);
        }
        Ok(failed)
    }

    /// Proves that what would be stored loads again as the same document (saved, loaded back,
    /// heads compared) and reads with the schema. If it does not, the changes are tried one by
    /// one from the stored state: those before the first that breaks it are kept, it and the
    /// ones after are returned as failed, so an innocent change of the batch is never refused.
    fn prove_reloads(
        &self,
        key: (CaseId, DocKind),
        w: &mut Working,
    ) -> Result<Vec<StoredChange>, SyncError> {
        if w.prove(key.1) {
            return Ok(Vec::new());
        }
        tracing::error!(case = %key.0, "document would not load again; finding the change that breaks it");
        w.judged = None;
        let mut doc = match self.store.doc(key.0, key.1)? {
            Some((snapshot, tail)) => {
                load_doc(&snapshot, tail).map_err(|e| load_error(key.0, e))?
            }
            None => Automerge::new(),
        };
        doc.set_actor(self.actor.clone());
        let mut kept = 0;
        let mut saved = None;
        let mut read = None;
        for c in &w.new {
            let mut next = doc.clone();
            let applied =
                Change::from_bytes(c.bytes.clone()).map_err(|e| e.to_string()).and_then(|change| {
                    catch_unwind(AssertUnwindSafe(|| next.apply_changes([change])))
                        .map_err(|_| "panic".to_owned())?
                        .map_err(|e| e.to_string())
                });
            let bytes = wire_save(&next);
            let Ok(next_read) = applied
                .and_then(|()| reloads_as(&bytes, &next))
                .and_then(|()| read_back(key.1, &next))
            else {
                break;
            };
            doc = next;
            saved = Some(bytes);
            read = Some(next_read);
            kept += 1;
        }
        let failed = w.new.split_off(kept);
        *w.doc = doc;
        w.saved = saved;
        w.read = read;
        Ok(failed)
    }

    /// Plans the commit of accepted changes: documents, scope, facts and log rows.
    fn commit_plan(
        &self,
        working: &HashMap<(CaseId, DocKind), Working>,
        order: &[(CaseId, DocKind)],
        drops: Vec<(Uuid, CaseId, String)>,
        survey: &Survey,
        now: i64,
    ) -> Result<Commit, SyncError> {
        let mut commit = Commit { drops, ..Commit::default() };
        let rules = self.rules();
        let county = self.county()?;
        let viewers: Vec<Viewer<'_>> = county
            .offices
            .iter()
            .map(|o| Viewer { office: &o.code, role: &o.role, townships: &o.townships })
            .collect();
        let mut ids: Vec<CaseId> = Vec::new();
        for key in order {
            if !ids.contains(&key.0) && working.get(key).is_some_and(|w| !w.new.is_empty()) {
                ids.push(key.0);
            }
        }
        for id in ids {
            // The scope follows the case document. When this commit writes it, another
            // process's write to it since the survey fails the commit's version check, so the
            // survey's scope is the stored one; otherwise it is read now and the commit checks
            // it again (`Commit::scopes_read`).
            let writes_case = working.get(&(id, DocKind::Case)).is_some_and(|w| !w.new.is_empty());
            let before = match survey.scope(id).filter(|_| writes_case) {
                Some(scope) => scope.cloned(),
                None => {
                    // Nothing in the commit guards this read: the commit checks it again.
                    let scope = self.store.case_scope(id)?;
                    commit.scopes_read.push((id, scope.clone()));
                    scope
                }
            };
            plan_case(&mut commit, id, working, before.as_ref(), &viewers, &rules, now);
        }
        Ok(commit)
    }

    /// The documents of a case (or roster) the caller may hold now.
    fn visible_kinds(&self, caller: &Caller, case: CaseId) -> Result<Vec<DocKind>, StoreError> {
        let Some(scope) = self.store.case_scope(case)? else { return Ok(Vec::new()) };
        let kinds: &[DocKind] = if case.0 == rules_id() {
            &[DocKind::Rules]
        } else if case.0.get_version_num() == 5 {
            &[DocKind::Roster]
        } else if is_work_id(&case.0) {
            &[DocKind::Work]
        } else {
            &[DocKind::Case, DocKind::Identity]
        };
        Ok(kinds
            .iter()
            .copied()
            .filter(|k| may_see(&caller.viewer(), &scope, class_of(*k)))
            .collect())
    }

    /// Fills a page within `budget` bytes.
    fn page(
        &self,
        caller: &Caller,
        req: &SyncRequest,
        budget: usize,
    ) -> Result<PageOut, SyncError> {
        let mut page = Page { records: Vec::new(), used: 0, budget };
        let mut cursor = req.cursor.clone();

        // Cases the office found incomplete: whole, first, as many as the page holds (always
        // one); the rest are named to ask for again.
        let mut deferred = Vec::new();
        let mut asked = BTreeSet::new();
        for case in &req.want_whole {
            if !asked.insert(*case) {
                continue;
            }
            if !page.records.is_empty() && page.used >= budget {
                deferred.push(*case);
                continue;
            }
            let case = CaseId(*case);
            for kind in self.visible_kinds(caller, case)? {
                if let Some(doc) = self.loaded(case, kind) {
                    let bytes = wire_save(&doc);
                    page.push(enter(case, kind, 0, bytes.len() as u64, bytes));
                }
            }
        }
        if !deferred.is_empty() {
            return Ok((page.records, cursor, true, deferred));
        }

        // A document arriving in pieces continues.
        if let Some(partial) = cursor.partial.clone() {
            let Some((record, done)) = self.piece(caller, &partial, budget)? else {
                // No longer visible, or gone: skip it.
                cursor.partial = None;
                return Ok((page.records, cursor, true, deferred));
            };
            page.push(record);
            if done {
                cursor.partial = None;
                match &mut cursor.bootstrap {
                    Some(b) => b.after = Some((partial.case_id, partial.kind)),
                    None => {
                        let next = self.store.log_after(cursor.seq, &caller.reader(), 1)?;
                        if let Some(row) = next.first() {
                            cursor.seq = row.seq;
                        }
                    }
                }
            } else {
                let sent = match page.records.last() {
                    Some(Record::Enter { bytes, .. }) => bytes.len() as u64,
                    _ => 0,
                };
                cursor.partial = Some(Partial { offset: partial.offset + sent, ..partial });
                return Ok((page.records, cursor, true, deferred));
            }
        }

        // A fresh office: every document in scope, then the log after the snapshot's head.
        if cursor.seq == 0 && cursor.bootstrap.is_none() && cursor.partial.is_none() {
            cursor.bootstrap = Some(Bootstrap { head: self.store.head()?, after: None });
        }
        if self.bootstrap(caller, &mut cursor, &mut page)? {
            return Ok((page.records, cursor, true, deferred));
        }

        let more = self.log_page(caller, &mut cursor, &mut page)?;
        let more = self.blobs(caller, req, &mut page)? || more;
        Ok((page.records, cursor, more, deferred))
    }

    /// Serves the bootstrap snapshot; true when the page is full.
    fn bootstrap(
        &self,
        caller: &Caller,
        cursor: &mut Cursor,
        page: &mut Page,
    ) -> Result<bool, SyncError> {
        let reader = caller.reader();
        let viewer = caller.viewer();
        while let Some(boot) = cursor.bootstrap.clone() {
            let docs = self.store.scope_docs(
                &reader,
                boot.after.map(|(c, k)| (CaseId(c), k)),
                64,
                true,
            )?;
            if docs.is_empty() {
                *cursor = Cursor { seq: boot.head, bootstrap: None, partial: None };
                break;
            }
            for (case, kind, scope) in docs {
                if may_see(&viewer, &scope, class_of(kind)) {
                    let bytes = match self.snapshot_alone(case, kind)? {
                        Some(bytes) => bytes,
                        None => match self.loaded(case, kind) {
                            Some(doc) => wire_save(&doc),
                            // Skipped, and passed: a document that does not load must not be
                            // read again and again (it may be the last one in scope).
                            None => {
                                passed(cursor, case, kind);
                                continue;
                            }
                        },
                    };
                    if !page.records.is_empty() && page.used + bytes.len() > page.budget {
                        return Ok(true);
                    }
                    if bytes.len() > page.budget {
                        let Some(doc) = self.loaded(case, kind) else {
                            passed(cursor, case, kind);
                            continue;
                        };
                        let partial =
                            Partial { case_id: case.0, kind, heads: heads_of(&doc), offset: 0 };
                        if let Some((record, _)) = self.piece(caller, &partial, page.budget)? {
                            let sent = enter_len(&record);
                            page.push(record);
                            cursor.partial = Some(Partial { offset: sent, ..partial });
                            return Ok(true);
                        }
                    } else {
                        page.push(enter(case, kind, 0, bytes.len() as u64, bytes));
                    }
                }
                passed(cursor, case, kind);
            }
        }
        Ok(false)
    }

    /// A stored document whose snapshot is all of it (nothing appended since), as stored: a
    /// fresh office's bootstrap sends most documents this way, without loading them. The
    /// snapshot was proved to load when it was written (`prove_reloads`); one that does not
    /// load after all is refused by the office alone, not its page.
    fn snapshot_alone(&self, case: CaseId, kind: DocKind) -> Result<Option<Vec<u8>>, SyncError> {
        Ok(match self.store.doc(case, kind) {
            Ok(Some((snapshot, tail))) if tail.is_empty() => Some(snapshot),
            // A damaged document is left to the loading path, which logs it and skips it: one
            // bad document must not fail every bootstrap page that would carry it.
            Ok(_) | Err(StoreError::Damaged(_)) => None,
            Err(e) => return Err(e.into()),
        })
    }

    /// Serves the log after the cursor; true when more remains.
    fn log_page(
        &self,
        caller: &Caller,
        cursor: &mut Cursor,
        page: &mut Page,
    ) -> Result<bool, SyncError> {
        let reader = caller.reader();
        let viewer = caller.viewer();
        let mut scopes: HashMap<CaseId, Option<CaseScope>> = HashMap::new();
        loop {
            let head = self.store.head()?;
            let rows = self.store.log_after(cursor.seq, &reader, ROWS_PER_READ)?;
            if rows.is_empty() {
                // Rows become visible in number order, so every row up to `head` was there to
                // read, and none is this office's: the cursor passes them, or a township's
                // every sync would read the county's log since its own last change again.
                cursor.seq = cursor.seq.max(head);
                return Ok(false);
            }
            let full = rows.len() == ROWS_PER_READ;
            for row in rows {
                let scope = match scopes.get(&row.case_id) {
                    Some(s) => s.clone(),
                    None => {
                        let s = self.store.case_scope(row.case_id)?;
                        scopes.insert(row.case_id, s.clone());
                        s
                    }
                };
                let out = self.row_records(caller, &viewer, scope.as_ref(), &row, page)?;
                let out = match out {
                    RowOut::Records(out) => out,
                    RowOut::Partial(record, partial) => {
                        page.push(record);
                        cursor.partial = Some(partial);
                        // The enter row completes (and the cursor passes it) with the last piece.
                        return Ok(true);
                    }
                };
                let size: usize = out.iter().map(record_size).sum();
                if !page.records.is_empty() && page.used + size > page.budget {
                    return Ok(true);
                }
                for record in out {
                    page.push(record);
                }
                cursor.seq = row.seq;
            }
            if !full {
                return Ok(false);
            }
        }
    }

    /// What one log row becomes for this caller.
    fn row_records(
        &self,
        caller: &Caller,
        viewer: &Viewer<'_>,
        scope: Option<&CaseScope>,
        row: &LogRow,
        page: &Page,
    ) -> Result<RowOut, SyncError> {
        let mut out = Vec::new();
        match row.what {
            LogKind::Change => {
                // The row was visible when written; it is served only while still visible.
                let visible = scope.is_some_and(|s| may_see(viewer, s, class_of(row.kind)));
                if let (true, Some(hash)) = (visible, &row.hash)
                    && let Some(bytes) = self.store.change(hash)?
                {
                    out.push(Record::Change {
                        seq: row.seq,
                        case_id: row.case_id.0,
                        kind: row.kind,
                        received_at: row.received_at,
                        bytes,
                    });
                }
            }
            LogKind::Leave => out.push(Record::Leave {
                case_id: row.case_id.0,
                kind: (row.kind != DocKind::Case).then_some(row.kind),
            }),
            LogKind::Enter => {
                let kinds: Vec<DocKind> = match row.kind {
                    DocKind::Case => self.visible_kinds(caller, row.case_id)?,
                    other => self
                        .visible_kinds(caller, row.case_id)?
                        .into_iter()
                        .filter(|k| *k == other)
                        .collect(),
                };
                for kind in kinds {
                    let Some(doc) = self.loaded(row.case_id, kind) else { continue };
                    let bytes = wire_save(&doc);
                    if bytes.len() > page.budget && page.records.is_empty() && out.is_empty() {
                        let partial = Partial {
                            case_id: row.case_id.0,
                            kind,
                            heads: heads_of(&doc),
                            offset: 0,
                        };
                        if let Some((record, _)) = self.piece(caller, &partial, page.budget)? {
                            let sent = enter_len(&record);
                            return Ok(RowOut::Partial(
                                record,
                                Partial { offset: sent, ..partial },
                            ));
                        }
                        continue;
                    }
                    out.push(enter(row.case_id, kind, 0, bytes.len() as u64, bytes));
                }
            }
        }
        Ok(RowOut::Records(out))
    }

    /// Attachments the office wants, in what room is left; true when more remains.
    fn blobs(
        &self,
        caller: &Caller,
        req: &SyncRequest,
        page: &mut Page,
    ) -> Result<bool, SyncError> {
        let mut more = false;
        for want in &req.want_blobs {
            if page.used >= page.budget && !page.records.is_empty() {
                return Ok(true);
            }
            if !self.blob_visible(caller, &want.hash)? {
                continue;
            }
            let Some(bytes) = self.store.blob(&want.hash)? else { continue };
            let start = usize::try_from(want.offset).unwrap_or(usize::MAX).min(bytes.len());
            let room = page.budget.saturating_sub(page.used).max(MIN_BATCH_BYTES as usize);
            let end = (start + room).min(bytes.len());
            page.push(Record::Blob(BlobChunk {
                hash: want.hash.clone(),
                offset: start as u64,
                total: bytes.len() as u64,
                bytes: bytes[start..end].to_vec(),
            }));
            if end < bytes.len() {
                more = true;
            }
        }
        Ok(more)
    }

    /// A loaded document, or `None` (logged) when it is missing or does not load.
    fn loaded(&self, case: CaseId, kind: DocKind) -> Option<Automerge> {
        match self.load(case, kind) {
            Ok(doc) => doc.map(|(d, _)| d),
            Err(e) => {
                tracing::error!(case = %case, error = %e, "stored document does not load; not served");
                None
            }
        }
    }

    /// The next piece of a document sent in chunks, and whether it was the last; `None` when
    /// the caller may no longer see it (a hand-written cursor gets nothing either).
    fn piece(
        &self,
        caller: &Caller,
        partial: &Partial,
        budget: usize,
    ) -> Result<Option<(Record, bool)>, SyncError> {
        let case = CaseId(partial.case_id);
        if !self.visible_kinds(caller, case)?.contains(&partial.kind) || partial.heads.len() > 64 {
            return Ok(None);
        }
        let Some(doc) = self.loaded(case, partial.kind) else { return Ok(None) };
        let heads: Vec<ChangeHash> = partial.heads.iter().map(|h| ChangeHash(h.0)).collect();
        let bytes = if heads_of(&doc) == partial.heads {
            wire_save(&doc)
        } else if heads.iter().all(|h| doc.get_change_by_hash(h).is_some()) {
            match doc.fork_at(&heads) {
                Ok(fork) => wire_save(&fork),
                Err(_) => return Ok(None),
            }
        } else {
            return Ok(None);
        };
        let start = usize::try_from(partial.offset).unwrap_or(usize::MAX).min(bytes.len());
        let end = (start + budget).min(bytes.len());
        let record =
            enter(case, partial.kind, start as u64, bytes.len() as u64, bytes[start..end].to_vec());
        Ok(Some((record, end == bytes.len())))
    }

    /// The statistics of every case at the hub.
    pub fn facts(&self) -> Result<Vec<CaseFacts>, StoreError> {
        self.refresh_facts()?;
        self.store.all_facts()
    }

    /// Repair, step one: which of the office's documents (a range, in order) differ from the
    /// hub's, and which documents in that range it may hold but lacks.
    pub fn repair_digests(
        &self,
        caller: &Caller,
        req: &RepairRequest,
    ) -> Result<RepairResponse, SyncError> {
        if req.digests.len() > 4 * MAX_LIST {
            return Err(SyncError::BadRequest("一次比对的文档过多".into()));
        }
        let reader = caller.reader();
        let mut response = RepairResponse::default();
        let theirs: BTreeSet<(Uuid, DocKind)> =
            req.digests.iter().map(|d| (d.case_id, d.kind)).collect();
        for digest in &req.digests {
            let case = CaseId(digest.case_id);
            if !self.visible_kinds(caller, case)?.contains(&digest.kind) {
                continue;
            }
            if let Some(doc) = self.loaded(case, digest.kind)
                && heads_digest(&heads_of(&doc)) != digest.heads
            {
                response.differ.push((digest.case_id, digest.kind));
            }
        }
        let end = req.digests.last().map(|d| (d.case_id, d.kind));
        let mut after = req.after.map(|(c, k)| (CaseId(c), k));
        'scan: loop {
            let docs = self.store.scope_docs(&reader, after, 1000, false)?;
            if docs.is_empty() {
                break;
            }
            for (case, kind, scope) in &docs {
                if !req.last && end.is_some_and(|e| (case.0, *kind) > e) {
                    break 'scan;
                }
                if !theirs.contains(&(case.0, *kind))
                    && may_see(&caller.viewer(), scope, class_of(*kind))
                {
                    response.missing.push((case.0, *kind));
                }
            }
            after = docs.last().map(|(c, k, _)| (*c, *k));
        }
        Ok(response)
    }

    /// Repair, step two: one round of Automerge's own sync protocol on one document. The hub
    /// answers from a copy: changes in the office's message are not stored here (they come
    /// through the outbox, judged).
    pub fn repair_sync(
        &self,
        caller: &Caller,
        req: &RepairSync,
    ) -> Result<RepairSyncResponse, SyncError> {
        let case = CaseId(req.case_id);
        if !self.visible_kinds(caller, case)?.contains(&req.kind) {
            return Err(SyncError::Forbidden(vec![Refused {
                hash: String::new(),
                case_id: req.case_id,
                reason: "该案件不属于本单位管辖".into(),
                rule: "scope".into(),
            }]));
        }
        let Some(mut doc) = self.loaded(case, req.kind) else {
            return Ok(RepairSyncResponse::default());
        };
        let mut message = sync::Message::decode(&req.message)
            .map_err(|e| SyncError::BadRequest(format!("同步消息无法解析：{e}")))?;
        // The office's changes reach the hub through its outbox, judged; never through repair,
        // where Automerge would apply them unchecked.
        message.changes = Vec::<Vec<u8>>::new().into();
        let mut state = sync::State::new();
        let received =
            catch_unwind(AssertUnwindSafe(|| doc.receive_sync_message(&mut state, message)));
        match received {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(SyncError::BadRequest(format!("同步消息无法应用：{e}"))),
            Err(_) => return Err(SyncError::BadRequest("同步消息无法应用".into())),
        }
        Ok(RepairSyncResponse {
            message: doc.generate_sync_message(&mut state).map(|m| m.encode()),
        })
    }

    /// Applies an office's USB bundle exactly as the network path would, then gathers every page
    /// the office should receive into one response for the return bundle.
    pub fn bundle(
        &self,
        caller: &Caller,
        req: &SyncRequest,
        now: i64,
    ) -> Result<SyncResponse, SyncError> {
        let mut merged = SyncResponse::default();
        // A bundle carries a whole outbox: judge it in request-sized slices, the changes first
        // (so the attachments that follow are cited by then).
        let empty: &[ledger_protocol::UpChange] = &[];
        let mut slices: Vec<SyncRequest> = req
            .changes
            .chunks(MAX_CHANGES)
            .chain(req.changes.is_empty().then_some(empty))
            .map(|slice| SyncRequest { changes: slice.to_vec(), blobs: Vec::new(), ..req.clone() })
            .collect();
        slices.extend(req.blobs.chunks(MAX_LIST).map(|blobs| SyncRequest {
            blobs: blobs.to_vec(),
            device_time: req.device_time,
            ..SyncRequest::default()
        }));
        for (i, mut request) in slices.into_iter().enumerate() {
            request.page_bytes = MAX_PAGE_BYTES as u32;
            if i > 0 {
                request.cursor = merged.cursor.clone();
                request.evicted.clear();
                request.drops.clear();
                request.want_leases.clear();
                request.want_whole.clear();
            }
            let page = self.sync(caller, &request, now)?;
            merge_pages(&mut merged, page);
        }
        let mut guard = 0;
        while merged.more && guard < 100_000 {
            guard += 1;
            let next = SyncRequest {
                cursor: merged.cursor.clone(),
                page_bytes: MAX_PAGE_BYTES as u32,
                device_time: req.device_time,
                pending: req.pending,
                ..SyncRequest::default()
            };
            let page = self.sync(caller, &next, now)?;
            merge_pages(&mut merged, page);
        }
        Ok(merged)
    }
}

/// What each scoped thread returned, in order; a thread's panic goes on in the caller, as it
/// would have on one thread.
fn joined<T>(running: Vec<std::thread::ScopedJoinHandle<'_, T>>) -> Vec<T> {
    running
        .into_iter()
        .map(|t| t.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
        .collect()
}

/// Below this many changes a batch is judged on one thread: starting threads costs more.
const LANES_FROM: usize = 32;

/// Fewer documents than this a thread are proved on one: starting threads costs more.
const PROOFS_PER_THREAD: usize = 16;

/// Threads a batch's judging may use: the machine's cores, at most four.
fn judging_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// How a batch's changes to judge (`fresh`) split into lanes judged side by side, or `None`
/// when they must be judged in one: fewer than [`LANES_FROM`], one thread, a change to a roster
/// or the rules (the events after it are judged against the roster or rules as it then
/// stands), or a change sent twice (the second is acknowledged only if the first was taken).
/// A case's changes (its case and identity documents: an identity's judging reads the case)
/// stay in one lane, in batch order; cases go to the lane with the fewest changes so far.
fn lanes(upload: Upload<'_>, threads: usize) -> Option<Vec<Vec<usize>>> {
    let Upload { changes, hashes, fresh } = upload;
    let judged: Vec<usize> = (0..changes.len()).filter(|&i| fresh[i]).collect();
    if threads < 2 || judged.len() < LANES_FROM {
        return None;
    }
    let mut seen = HashSet::new();
    let mut case_lane: HashMap<CaseId, usize> = HashMap::new();
    let mut lanes: Vec<Vec<usize>> = vec![Vec::new(); threads];
    for i in judged {
        let up = &changes[i];
        if matches!(up.kind, DocKind::Roster | DocKind::Rules) || !seen.insert(&hashes[i]) {
            return None;
        }
        let lane = *case_lane
            .entry(CaseId(up.case_id))
            .or_insert_with(|| (0..threads).min_by_key(|&l| lanes[l].len()).unwrap_or(0));
        lanes[lane].push(i);
    }
    lanes.retain(|l| !l.is_empty());
    (lanes.len() > 1).then_some(lanes)
}

fn merge_pages(merged: &mut SyncResponse, page: SyncResponse) {
    merged.acked.extend(page.acked);
    merged.refused.extend(page.refused);
    merged.acked_drops.extend(page.acked_drops);
    merged.refused_drops.extend(page.refused_drops);
    merged.leases.extend(page.leases);
    merged.records.extend(page.records);
    merged.cursor = page.cursor;
    merged.more = page.more;
    merged.hub_time = page.hub_time;
    merged.need_blobs = page.need_blobs;
    merged.deferred_whole = page.deferred_whole;
}

/// The number series there are: official numbers and document numbers of a year.
fn series_name_ok(series: &str) -> bool {
    let year_ok =
        |y: &str| y.len() == 4 && y.parse::<u32>().is_ok_and(|y| (2000..=2100).contains(&y));
    match series.split(':').collect::<Vec<_>>().as_slice() {
        ["official", year] => year_ok(year),
        ["document", kind, year] => {
            !kind.is_empty()
                && kind.len() <= 40
                && kind.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                && year_ok(year)
        }
        _ => false,
    }
}

/// Refuses a request whose lists are over their bounds, before any work is done.
fn bounds(req: &SyncRequest) -> Result<(), SyncError> {
    let lists = [
        ("evicted", req.evicted.len()),
        ("want_whole", req.want_whole.len()),
        ("drops", req.drops.len()),
        ("blob_offers", req.blob_offers.len()),
        ("blobs", req.blobs.len()),
        ("want_blobs", req.want_blobs.len()),
        ("want_leases", req.want_leases.len()),
    ];
    for (name, n) in lists {
        if n > MAX_LIST {
            return Err(SyncError::BadRequest(format!("{name} 有 {n} 项，超过上限 {MAX_LIST}")));
        }
    }
    if req.changes.len() > MAX_CHANGES {
        return Err(SyncError::BadRequest(format!(
            "一次上传 {} 条更改，超过上限 {MAX_CHANGES}",
            req.changes.len()
        )));
    }
    if req.drops.iter().any(|d| d.persons.len() > MAX_LIST) {
        return Err(SyncError::BadRequest("一次投递的信访人过多".into()));
    }
    Ok(())
}

/// Loads a document from a snapshot and the changes after it, never letting Automerge's panic
/// escape: a document that does not load is an error, not a crashed thread.
/// One case's share of a commit: its documents, its log rows, its scope and facts.
fn plan_case(
    commit: &mut Commit,
    id: CaseId,
    working: &HashMap<(CaseId, DocKind), Working>,
    before: Option<&CaseScope>,
    viewers: &[Viewer<'_>],
    rules: &Rules,
    now: i64,
) {
    // Only documents this batch changed can change the scope; each was read with the schema
    // when it was proved to store cleanly. One whose changes were all refused is the stored
    // state, which `before` already describes.
    let changed = |kind| working.get(&(id, kind)).filter(|w| !w.new.is_empty());
    let roster = match changed(DocKind::Roster).and_then(|w| w.read.as_ref()) {
        Some(ReadBack::Roster(r)) => Some(r),
        _ => None,
    };
    let case_value = match changed(DocKind::Case).and_then(|w| w.read.as_ref()) {
        Some(ReadBack::Case(c)) => Some(c.as_ref()),
        _ => None,
    };
    let work_office = match changed(DocKind::Work).and_then(|w| w.read.as_ref()) {
        Some(ReadBack::Work(office)) => Some(office.as_str()),
        _ => None,
    };
    let rules_doc = working.contains_key(&(id, DocKind::Rules));
    let after = plan::scope_after(
        before,
        rules_doc,
        roster.map(|r| r.office.as_str()).or(work_office),
        case_value,
    );
    let movement = plan::movement(viewers, before, after.as_ref());
    for kind in [DocKind::Case, DocKind::Identity, DocKind::Roster, DocKind::Rules, DocKind::Work] {
        let Some(w) = changed(kind) else { continue };
        let compact = !w.existed || w.before_tail + w.new.len() > COMPACT_AFTER;
        let snapshot = w.saved.clone().filter(|_| compact);
        commit.log.extend(plan::change_rows(id, kind, &w.new, after.as_ref(), movement.moved, now));
        commit.changes.extend(w.new.iter().cloned());
        let tail = if snapshot.is_some() {
            Vec::new()
        } else {
            w.new.iter().map(|c| c.hash.clone()).collect()
        };
        commit.docs.push(DocWrite { case_id: id, kind, snapshot, tail, expected: w.version });
    }
    if let (Some(before), Some(after)) = (before, &after) {
        commit.log.extend(plan::scope_rows(id, before, after, &movement, now));
        if before.restricted != after.restricted {
            tracing::info!(case = %id, restricted = after.restricted, "identity restriction changed");
        }
        if movement.moved {
            tracing::info!(case = %id, from = ?movement.old, to = ?movement.new, "case moved between offices");
        }
    }
    if let Some(scope) = after {
        let facts = case_value
            .map(|c| CaseFacts::project(c, &replay(&c.events), &rules.policies, &rules.calendar));
        for a in case_value.iter().flat_map(|c| c.attachments.iter()) {
            commit.blob_refs.push((a.hash.clone(), id));
        }
        commit.cases.push((id, scope, facts));
    }
}

fn load_doc(snapshot: &[u8], tail: Vec<Vec<u8>>) -> Result<Automerge, String> {
    catch_unwind(AssertUnwindSafe(|| {
        let mut doc = Automerge::load(snapshot).map_err(|e| e.to_string())?;
        let mut changes = Vec::with_capacity(tail.len());
        for bytes in tail {
            changes.push(Change::from_bytes(bytes).map_err(|e| e.to_string())?);
        }
        doc.apply_changes(changes).map_err(|e| e.to_string())?;
        if !doc.get_missing_deps(&[]).is_empty() {
            return Err("missing dependencies".to_owned());
        }
        Ok(doc)
    }))
    .unwrap_or_else(|_| Err("Automerge panicked while loading".to_owned()))
}

/// Whether saved bytes load back as `doc` (same heads). What it reads was judged already.
fn reloads_as(bytes: &[u8], doc: &Automerge) -> Result<(), String> {
    let back = load_doc(bytes, Vec::new())?;
    if back.get_heads() == doc.get_heads() {
        Ok(())
    } else {
        Err("heads differ after reloading".to_owned())
    }
}

/// Loads and reads every stored document, for `ledger-hub check`.
pub fn check_doc(kind: DocKind, snapshot: &[u8], tail: Vec<Vec<u8>>) -> Result<Automerge, String> {
    let doc = load_doc(snapshot, tail)?;
    let read = catch_unwind(AssertUnwindSafe(|| match kind {
        DocKind::Case => schema::read_case(&doc).map(|_| ()),
        DocKind::Identity => schema::read_identity(&doc).map(|_| ()),
        DocKind::Roster => schema::read_roster(&doc).map(|_| ()),
        DocKind::Rules => schema::read_rules(&doc).map(|_| ()),
        DocKind::Work => schema::read_work(&doc).map(|_| ()),
    }))
    .unwrap_or_else(|_| Err(SchemaError::Missing("(panic)".into())));
    read.map_err(|e| e.to_string())?;
    Ok(doc)
}

/// A page: its records, the cursor after it, whether more waits, and cases asked for whole
/// that did not fit.
type PageOut = (Vec<Record>, Cursor, bool, Vec<Uuid>);

/// Drops merged, and drops refused with why.
type DropVerdicts = (Vec<Uuid>, Vec<(Uuid, String)>);

/// Identity drops of one exchange written but not yet committed: the identity documents, in
/// the order written, and the drops to mark merged (id, case, office).
#[derive(Default)]
struct PendingDrops {
    working: HashMap<(CaseId, DocKind), Working>,
    order: Vec<(CaseId, DocKind)>,
    drops: Vec<(Uuid, CaseId, String)>,
}

enum DropError {
    Refused(String),
    Sync(SyncError),
}

impl From<SyncError> for DropError {
    fn from(e: SyncError) -> Self {
        Self::Sync(e)
    }
}

enum RowOut {
    Records(Vec<Record>),
    Partial(Record, Partial),
}

struct Page {
    records: Vec<Record>,
    used: usize,
    budget: usize,
}

impl Page {
    fn push(&mut self, record: Record) {
        self.used += record_size(&record);
        self.records.push(record);
    }
}

/// A document as it travels in an `enter`: saved without DEFLATE, so that the page's zstd
/// sees across documents (their column layouts and values repeat from case to case; deflated
/// one by one they look random). Every Automerge loads either form.
fn wire_save(doc: &Automerge) -> Vec<u8> {
    doc.save_with_options(SaveOptions { deflate: false, retain_orphans: true })
}

fn enter(case: CaseId, kind: DocKind, offset: u64, total: u64, bytes: Vec<u8>) -> Record {
    Record::Enter { case_id: case.0, kind, offset, total, bytes }
}

fn enter_len(record: &Record) -> u64 {
    match record {
        Record::Enter { bytes, .. } => bytes.len() as u64,
        _ => 0,
    }
}

fn heads_of(doc: &Automerge) -> Vec<Hash> {
    doc.get_heads().iter().map(|h| Hash(h.0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(case: u128, kind: DocKind, n: u8) -> ledger_protocol::UpChange {
        ledger_protocol::UpChange {
            case_id: Uuid::from_u128(case),
            kind,
            hash: Hash([n; 32]),
            bytes: vec![n],
        }
    }

    /// [`lanes`] of `changes`, those marked in `fresh` to judge.
    fn split(
        changes: &[ledger_protocol::UpChange],
        fresh: &[bool],
        threads: usize,
    ) -> Option<Vec<Vec<usize>>> {
        let hashes: Vec<String> = changes.iter().map(|c| c.hash.to_hex()).collect();
        lanes(Upload { changes, hashes: &hashes, fresh }, threads)
    }

    /// Two changes to each of `cases` cases (its case, then its identity), numbered in order.
    fn two_a_case(cases: u8) -> Vec<ledger_protocol::UpChange> {
        (0..cases)
            .flat_map(|c| {
                [
                    up(u128::from(c), DocKind::Case, 2 * c),
                    up(u128::from(c), DocKind::Identity, 2 * c + 1),
                ]
            })
            .collect()
    }

    #[test]
    fn a_case_stays_in_one_lane_in_batch_order_and_lanes_balance() {
        let changes = two_a_case(40);
        let fresh = vec![true; changes.len()];
        let lanes = split(&changes, &fresh, 2).expect("split");
        assert_eq!(lanes.len(), 2);
        let mut all: Vec<usize> = lanes.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..changes.len()).collect::<Vec<_>>(), "every change judged once");
        for lane in &lanes {
            assert!(lane.windows(2).all(|w| w[0] < w[1]), "batch order kept: {lane:?}");
            assert!(lane.len() >= 30, "balanced: {} of {}", lane.len(), changes.len());
        }
        for case in 0..40u128 {
            let holding: Vec<usize> = (0..lanes.len())
                .filter(|&l| lanes[l].iter().any(|&i| changes[i].case_id.as_u128() == case))
                .collect();
            assert_eq!(holding.len(), 1, "case {case} in lanes {holding:?}");
        }
    }

    #[test]
    fn a_roster_change_a_repeated_change_or_a_small_batch_is_judged_in_one() {
        let changes = two_a_case(40);
        let all = vec![true; changes.len()];
        assert!(split(&changes, &all, 1).is_none(), "one thread");
        let few = two_a_case(15);
        assert!(split(&few, &vec![true; few.len()], 4).is_none(), "30 changes");
        let mut with_roster = changes.clone();
        with_roster.insert(17, up(99, DocKind::Roster, 200));
        let fresh = vec![true; with_roster.len()];
        assert!(split(&with_roster, &fresh, 2).is_none(), "roster");
        let mut with_rules = changes.clone();
        with_rules.push(up(98, DocKind::Rules, 201));
        let fresh = vec![true; with_rules.len()];
        assert!(split(&with_rules, &fresh, 2).is_none(), "rules");
        let mut twice = changes;
        twice.push(up(55, DocKind::Case, 3));
        let fresh = vec![true; twice.len()];
        assert!(split(&twice, &fresh, 2).is_none(), "a change sent twice");
    }

    #[test]
    fn changes_already_held_are_left_out_of_the_lanes() {
        let changes = two_a_case(40);
        let mut fresh = vec![true; changes.len()];
        // Held already: not judged, so neither counted nor a reason to judge in one.
        fresh[..60].iter_mut().for_each(|f| *f = false);
        assert!(split(&changes, &fresh, 2).is_none(), "20 left to judge");
        let mut roster_held = changes;
        roster_held.insert(0, up(99, DocKind::Roster, 200));
        let mut fresh = vec![true; roster_held.len()];
        fresh[0] = false;
        let lanes = split(&roster_held, &fresh, 3).expect("split");
        assert_eq!(lanes.len(), 3);
        assert!(lanes.iter().flatten().all(|&i| i != 0), "the held roster change is not judged");
    }
}
