//! Documents: creating, editing, loading, compacting and applying remote changes.
//!
//! A document on disk is its last snapshot (`docs.snapshot`) plus the changes appended since
//! (`changes`). Every write path ends in [`Store::persist`], one SQLite transaction that stores
//! the new changes, re-projects the index and search rows, and queues local changes in the
//! outbox. If that transaction fails (a full disk, say), the loaded document is dropped from
//! memory so the next read comes from disk again: memory never runs ahead of the file.

use std::num::NonZeroUsize;

use ledger_domain::automerge::transaction::{CommitOptions, Transaction};
use ledger_domain::automerge::{Automerge, Change, ChangeHash, ReadDoc};
use ledger_domain::schema::{self, SchemaError};
use ledger_domain::{Case, CaseId, Identity};
use lru::LruCache;
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Result, StoreError};
use crate::index::{self, Projection, SearchRows};
use crate::{DocKind, Store, now_ms};

/// Cases re-projected per transaction when the index is refreshed.
const REINDEX_BATCH: usize = 200;

/// Compact a document once this many changes have been appended since its snapshot.
const COMPACT_AFTER: i64 = 48;

/// Inside a batch, how many cases wait for their index rows before they are written (while
/// their documents are still in the working set).
const PROJECT_RUN: usize = 96;

/// The loaded documents, least recently used evicted first.
pub(crate) struct DocCache(LruCache<(CaseId, DocKind), Automerge>);

impl DocCache {
    pub(crate) fn new(capacity: NonZeroUsize) -> Self {
        Self(LruCache::new(capacity))
    }

    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }

    fn take(&mut self, key: &(CaseId, DocKind)) -> Option<Automerge> {
        self.0.pop(key)
    }

    fn put(&mut self, key: (CaseId, DocKind), doc: Automerge) {
        self.0.put(key, doc);
    }

    fn evict(&mut self, key: &(CaseId, DocKind)) {
        self.0.pop(key);
    }
}

/// What one write adds to a loaded document: its changes, those of them to queue for the hub,
/// and identity drops to keep with them.
struct NewChanges {
    appended: Vec<(String, Vec<u8>)>,
    outbox: Vec<LocalChange>,
    drops: Vec<DropRecord>,
}

/// A change made here, to store and to queue for the hub.
pub(crate) struct LocalChange {
    pub(crate) kind: DocKind,
    pub(crate) hash: String,
    pub(crate) bytes: Vec<u8>,
}

/// A new case to store: its documents (no identity document where this office may not hold
/// one), the identities typed for it that go to the bureau outside its history, and the import
/// fingerprints it answers for.
#[derive(Debug, Clone)]
pub struct NewCaseDocs {
    /// The case.
    pub case: Case,
    /// Its identity document, if this office holds it.
    pub identity: Option<Identity>,
    /// Identities to deliver to the bureau instead.
    pub drop: Option<DropRecord>,
    /// Import fingerprints.
    pub fingerprints: Vec<String>,
}

/// 身份投递: identities typed here for a case whose identity this office may not hold. Kept
/// until the hub has merged them, then deleted (secure delete, WAL checkpointed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropRecord {
    /// The drop's id (UUIDv7).
    pub id: String,
    /// The case.
    pub case_id: CaseId,
    /// The persons as typed, JSON (the wire's `DropPerson` list).
    pub persons: String,
    /// Why the hub refused it, if it did (it is sent again).
    pub error: Option<String>,
}

/// What one transaction writes for one case.
pub(crate) struct CaseWrite {
    pub(crate) id: CaseId,
    /// New snapshots (a new document, or a compaction).
    pub(crate) snapshots: Vec<(DocKind, Vec<u8>)>,
    /// Changes appended to the stored documents.
    pub(crate) appended: Vec<(DocKind, String, Vec<u8>)>,
    /// Local changes for the outbox.
    pub(crate) outbox: Vec<LocalChange>,
    /// The new index row, or `None` to leave the index alone.
    pub(crate) projection: Option<Projection>,
    /// Import fingerprints to record.
    pub(crate) fingerprints: Vec<String>,
    /// The documents' heads after this write.
    pub(crate) heads: Vec<(DocKind, String)>,
    /// Identity drops to keep until the hub has them.
    pub(crate) drops: Vec<DropRecord>,
}

impl CaseWrite {
    /// One document stored whole: its snapshot replaces whatever was there.
    fn whole(
        id: CaseId,
        kind: DocKind,
        snapshot: Vec<u8>,
        doc: &Automerge,
        projection: Option<Projection>,
    ) -> Self {
        Self {
            id,
            snapshots: vec![(kind, snapshot)],
            appended: Vec::new(),
            outbox: Vec::new(),
            projection,
            fingerprints: Vec::new(),
            heads: vec![(kind, heads_text(doc))],
            drops: Vec::new(),
        }
    }
}

/// Whether the store holds the document.
fn holds(conn: &rusqlite::Connection, id: CaseId, kind: DocKind) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM docs WHERE case_id = ?1 AND kind = ?2")?
        .query_row(params![id.to_string(), kind.code()], |_| Ok(()))
        .optional()?
        .is_some())
}

/// A document's heads, sorted, as hex joined by commas.
pub(crate) fn heads_text(doc: &Automerge) -> String {
    let mut heads: Vec<String> = doc.get_heads().iter().map(hex).collect();
    heads.sort();
    heads.join(",")
}

pub(crate) fn hex(hash: &ChangeHash) -> String {
    hash.to_string()
}

fn commit_options() -> CommitOptions {
    CommitOptions::default().with_time(now_ms() / 1000)
}

/// The outcome of applying remote changes to one document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Applied {
    /// Changes new to this replica.
    pub new: usize,
    /// Changes whose dependencies are still missing (queued inside Automerge).
    pub missing_deps: Vec<ChangeHash>,
    /// The hash of every change given to [`Store::apply_remote`], new or not, in order (empty
    /// when a whole document is taken as it came): what the caller records receipts under
    /// without parsing the changes again.
    pub received: Vec<ChangeHash>,
}

impl Store {
    pub(crate) fn load_doc(
        &self,
        conn: &rusqlite::Connection,
        id: CaseId,
        kind: DocKind,
    ) -> Result<Option<Automerge>> {
        let snapshot: Option<Vec<u8>> = conn
            .prepare_cached("SELECT snapshot FROM docs WHERE case_id = ?1 AND kind = ?2")?
            .query_row(params![id.to_string(), kind.code()], |r| r.get(0))
            .optional()?;
        let Some(snapshot) = snapshot else { return Ok(None) };
        let mut doc = Automerge::load(&snapshot)?;
        let mut stmt = conn.prepare_cached(
            "SELECT bytes FROM changes WHERE case_id = ?1 AND kind = ?2 ORDER BY id",
        )?;
        let rows =
            stmt.query_map(params![id.to_string(), kind.code()], |r| r.get::<_, Vec<u8>>(0))?;
        let mut changes = Vec::new();
        for bytes in rows {
            changes.push(Change::from_bytes(bytes?).map_err(|e| {
                StoreError::from(ledger_domain::automerge::AutomergeError::from(e))
            })?);
        }
        if !changes.is_empty() {
            doc.apply_changes(changes)?;
        }
        doc.set_actor(self.actor());
        Ok(Some(doc))
    }

    /// Runs `f` on a document, loading it into the working set if needed.
    pub fn with_doc<T>(
        &self,
        id: CaseId,
        kind: DocKind,
        f: impl FnOnce(&Automerge) -> T,
    ) -> Result<T> {
        let mut w = self.writer();
        let key = (id, kind);
        let doc = match w.cache.take(&key) {
            Some(doc) => doc,
            None => self.load_doc(&w.conn, id, kind)?.ok_or(StoreError::NoCase(id))?,
        };
        let out = f(&doc);
        w.cache.put(key, doc);
        Ok(out)
    }

    /// Whether the store holds the document.
    pub fn has_doc(&self, id: CaseId, kind: DocKind) -> Result<bool> {
        holds(&self.reader(), id, kind)
    }

    /// Reads a case.
    pub fn load_case(&self, id: CaseId) -> Result<Case> {
        self.with_doc(id, DocKind::Case, schema::read_case)?
            .map_err(|source| StoreError::document(id, source))
    }

    /// Reads a case's identity, if this store holds it (a township never holds the identity of
    /// a 检举控告 or confidential case).
    pub fn load_identity(&self, id: CaseId) -> Result<Option<Identity>> {
        match self.with_doc(id, DocKind::Identity, schema::read_identity) {
            Ok(identity) => Ok(Some(identity.map_err(|source| StoreError::document(id, source))?)),
            Err(StoreError::NoCase(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Stores new cases made here (registration, import), all in one transaction: either every
    /// case is saved or none is. `progress` is told how many are done as it goes.
    pub fn create_cases(&self, cases: &[(Case, Identity, Vec<String>)]) -> Result<()> {
        let docs: Vec<NewCaseDocs> = cases
            .iter()
            .map(|(case, identity, fingerprints)| NewCaseDocs {
                case: case.clone(),
                identity: Some(identity.clone()),
                drop: None,
                fingerprints: fingerprints.clone(),
            })
            .collect();
        self.create_cases_with_progress(&docs, &mut |_| {})
    }

    /// Stores new cases, each with its documents and any identity drop, in one transaction;
    /// `progress` is told how many are done as it goes.
    pub fn create_cases_with_progress(
        &self,
        cases: &[NewCaseDocs],
        progress: &mut dyn FnMut(usize),
    ) -> Result<()> {
        let mut w = self.writer();
        // Each case is built and written in turn inside the one transaction, and only the last
        // few documents stay loaded: an import of thousands of cases must not hold every
        // document in memory until the commit.
        let keep_from = cases.len().saturating_sub(crate::DOC_CACHE / 2);
        let mut made = Vec::new();
        let tx = w.tx()?;
        for (i, new) in cases.iter().enumerate() {
            let case = &new.case;
            let mut case_doc = Automerge::new().with_actor(self.actor());
            let mut am = case_doc.transaction();
            schema::write_case(&mut am, case)
                .map_err(|source| StoreError::document(case.id, source))?;
            am.commit_with(commit_options());
            let id_doc = match &new.identity {
                Some(identity) => {
                    let mut id_doc = Automerge::new().with_actor(self.actor());
                    let mut am = id_doc.transaction();
                    schema::write_identity(&mut am, identity)
                        .map_err(|source| StoreError::document(case.id, source))?;
                    am.commit_with(commit_options());
                    Some(id_doc)
                }
                None => None,
            };
            let mut outbox = Vec::new();
            let mut snapshots = vec![(DocKind::Case, case_doc.save())];
            let mut heads = vec![(DocKind::Case, heads_text(&case_doc))];
            let docs = std::iter::once((DocKind::Case, &case_doc))
                .chain(id_doc.as_ref().map(|d| (DocKind::Identity, d)));
            for (kind, doc) in docs {
                for change in doc.get_changes(&[]) {
                    outbox.push(LocalChange {
                        kind,
                        hash: hex(&change.hash()),
                        bytes: change.raw_bytes().to_vec(),
                    });
                }
            }
            if let Some(id_doc) = &id_doc {
                snapshots.push((DocKind::Identity, id_doc.save()));
                heads.push((DocKind::Identity, heads_text(id_doc)));
            }
            let projection = index::project(case, new.identity.as_ref(), &case_doc, &self.rules());
            let write = CaseWrite {
                id: case.id,
                snapshots,
                appended: Vec::new(),
                outbox,
                projection: Some(projection),
                fingerprints: new.fingerprints.clone(),
                heads,
                drops: new.drop.iter().cloned().collect(),
            };
            persist(&tx, &write)?;
            if i >= keep_from {
                made.push((case.id, case_doc, id_doc));
            }
            if (i + 1) % 250 == 0 {
                progress(i + 1);
            }
        }
        tx.commit()?;
        progress(cases.len());
        for (id, case_doc, id_doc) in made {
            w.cache.put((id, DocKind::Case), case_doc);
            if let Some(id_doc) = id_doc {
                w.cache.put((id, DocKind::Identity), id_doc);
            }
        }
        Ok(())
    }

    /// Creates a document made here that is not a case (a work record): `f` writes it into an
    /// empty document, and its change goes to the outbox in the same transaction. A document
    /// already held under `id` is never replaced: `f` is not run and nothing changes.
    pub fn create_doc(
        &self,
        id: CaseId,
        kind: DocKind,
        f: impl FnOnce(&mut Transaction<'_>) -> std::result::Result<(), SchemaError>,
    ) -> Result<()> {
        let mut w = self.writer();
        let held = holds(&w.conn, id, kind)?;
        if held {
            return Err(StoreError::BatchFailed(format!("文档 {id} 已存在，未作更改")));
        }
        let mut doc = Automerge::new().with_actor(self.actor());
        let mut tx = doc.transaction();
        if let Err(source) = f(&mut tx) {
            tx.rollback();
            return Err(StoreError::document(id, source));
        }
        tx.commit_with(commit_options());
        let outbox = doc
            .get_changes(&[])
            .into_iter()
            .map(|c| LocalChange { kind, hash: hex(&c.hash()), bytes: c.raw_bytes().to_vec() })
            .collect();
        let mut write = CaseWrite::whole(id, kind, doc.save(), &doc, None);
        write.outbox = outbox;
        let tx = w.tx()?;
        persist(&tx, &write)?;
        tx.commit()?;
        w.cache.put((id, kind), doc);
        Ok(())
    }

    /// The ids of every stored document of `kind`, in id order.
    pub fn doc_ids(&self, kind: DocKind) -> Result<Vec<CaseId>> {
        let conn = self.reader();
        let mut stmt =
            conn.prepare_cached("SELECT case_id FROM docs WHERE kind = ?1 ORDER BY case_id")?;
        let rows = stmt.query_map(params![kind.code()], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            if let Ok(id) = row?.parse() {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// Edits one document of a case with targeted writes. The change, the re-projected index row
    /// and the outbox entry commit together; `f` returning an error changes nothing.
    pub fn edit<T>(
        &self,
        id: CaseId,
        kind: DocKind,
        f: impl FnOnce(&mut Transaction<'_>) -> std::result::Result<T, SchemaError>,
    ) -> Result<T> {
        self.edit_with_drop(id, kind, None, f)
    }

    /// [`Self::edit`], keeping an identity drop in the same transaction (a repeat visit on a
    /// restricted case: its masked names go into the case, the names as typed to the bureau).
    pub fn edit_with_drop<T>(
        &self,
        id: CaseId,
        kind: DocKind,
        drop: Option<DropRecord>,
        f: impl FnOnce(&mut Transaction<'_>) -> std::result::Result<T, SchemaError>,
    ) -> Result<T> {
        let mut w = self.writer();
        let key = (id, kind);
        let mut doc = match w.cache.take(&key) {
            Some(doc) => doc,
            None => self.load_doc(&w.conn, id, kind)?.ok_or(StoreError::NoCase(id))?,
        };
        let mut tx = doc.transaction();
        let out = match f(&mut tx) {
            Ok(out) => out,
            Err(source) => {
                tx.rollback();
                w.cache.put(key, doc);
                return Err(StoreError::document(id, source));
            }
        };
        let (hash, _) = tx.commit_with(commit_options());
        let Some(hash) = hash else {
            w.cache.put(key, doc);
            if let Some(drop) = drop {
                let tx = w.tx()?;
                insert_drop(&tx, &drop)?;
                tx.commit()?;
            }
            return Ok(out);
        };
        // The change committed just above is in the document: never empty.
        let bytes =
            doc.get_change_by_hash(&hash).map(|c| c.raw_bytes().to_vec()).unwrap_or_default();
        let change = LocalChange { kind, hash: hex(&hash), bytes: bytes.clone() };
        let new = NewChanges {
            appended: vec![(hex(&hash), bytes)],
            outbox: vec![change],
            drops: drop.into_iter().collect(),
        };
        let result = self.write_after_change(&mut w, id, kind, doc, new);
        result.map(|()| out)
    }

    /// Applies changes from the hub to one document (creating it if new here). Returns what was
    /// new and which dependencies are still missing. Nothing goes to the outbox.
    pub fn apply_remote(
        &self,
        id: CaseId,
        kind: DocKind,
        changes: Vec<Vec<u8>>,
    ) -> Result<Applied> {
        // Parsed before anything is touched: a change that does not parse is refused alone.
        let changes = changes
            .into_iter()
            .map(|bytes| {
                crate::guarded(|| Change::from_bytes(bytes.clone()).map_err(|e| e.to_string()))
                    .map(|change| (change, bytes))
            })
            .collect::<std::result::Result<Vec<_>, String>>()
            .map_err(|reason| StoreError::BadChange { id, reason })?;
        let mut w = self.writer();
        let key = (id, kind);
        let existing = match w.cache.take(&key) {
            Some(doc) => Some(doc),
            None => self.load_doc(&w.conn, id, kind)?,
        };
        let is_new = existing.is_none();
        let mut doc = existing.unwrap_or_else(|| Automerge::new().with_actor(self.actor()));
        let received: Vec<ChangeHash> = changes.iter().map(|(change, _)| change.hash()).collect();
        let mut parsed = Vec::new();
        let mut appended = Vec::new();
        for (change, bytes) in changes {
            if doc.get_change_by_hash(&change.hash()).is_none() {
                appended.push((hex(&change.hash()), bytes));
                parsed.push(change);
            }
        }
        if parsed.is_empty() {
            let missing_deps = doc_missing(&doc);
            if !is_new {
                w.cache.put(key, doc);
            }
            return Ok(Applied { new: 0, missing_deps, received });
        }
        let new = parsed.len();
        // The stored document is untouched on failure; the half-applied copy is dropped.
        crate::guarded(|| doc.apply_changes(parsed).map_err(|e| e.to_string()))
            .map_err(|reason| StoreError::BadChange { id, reason })?;
        let missing = doc_missing(&doc);
        if is_new {
            // An empty snapshot plus the changes as rows: changes still waiting for their
            // dependencies are kept on disk too (a snapshot would leave them out).
            let snapshot = Automerge::new().save();
            let projection = self.projection_for(&mut w, id, kind, &doc)?;
            let write = CaseWrite {
                id,
                snapshots: vec![(kind, snapshot)],
                appended: appended.into_iter().map(|(h, b)| (kind, h, b)).collect(),
                outbox: Vec::new(),
                projection,
                fingerprints: Vec::new(),
                heads: vec![(kind, heads_text(&doc))],
                drops: Vec::new(),
            };
            let tx = w.tx()?;
            persist(&tx, &write)?;
            tx.commit()?;
            if kind == DocKind::Rules {
                self.apply_rules_doc(&doc);
            }
            w.cache.put(key, doc);
        } else {
            let new = NewChanges { appended, outbox: Vec::new(), drops: Vec::new() };
            self.write_after_change(&mut w, id, kind, doc, new)?;
        }
        Ok(Applied { new, missing_deps: missing, received })
    }

    /// Stores a whole document this store does not hold yet, as it came: its snapshot is the
    /// saved bytes (nothing re-encoded, no change rows), projected once. Only for a complete
    /// document (no missing dependencies), which [`Store::merge_remote`] checks. Gives the
    /// document back when the store holds it already.
    pub(crate) fn adopt_remote(
        &self,
        id: CaseId,
        kind: DocKind,
        mut doc: Automerge,
        saved: &[u8],
    ) -> Result<std::result::Result<Applied, Automerge>> {
        let mut w = self.writer();
        let held = holds(&w.conn, id, kind)?;
        if held {
            return Ok(Err(doc));
        }
        doc.set_actor(self.actor());
        let new = doc.get_changes_meta(&[]).len();
        let projection = self.projection_for(&mut w, id, kind, &doc)?;
        let write = CaseWrite::whole(id, kind, saved.to_vec(), &doc, projection);
        let tx = w.tx()?;
        persist(&tx, &write)?;
        tx.commit()?;
        if kind == DocKind::Rules {
            self.apply_rules_doc(&doc);
        }
        w.cache.put((id, kind), doc);
        Ok(Ok(Applied { new, missing_deps: Vec::new(), received: Vec::new() }))
    }

    /// Persists appended changes of a loaded document (compacting when due) and re-projects.
    fn write_after_change(
        &self,
        w: &mut crate::Writer,
        id: CaseId,
        kind: DocKind,
        doc: Automerge,
        new: NewChanges,
    ) -> Result<()> {
        let NewChanges { appended, outbox, drops } = new;
        let key = (id, kind);
        let projection = match self.projection_for(w, id, kind, &doc) {
            Ok(p) => p,
            Err(e) => {
                w.cache.evict(&key);
                return Err(e);
            }
        };
        let pending: i64 = w
            .conn
            .prepare_cached("SELECT pending FROM docs WHERE case_id = ?1 AND kind = ?2")?
            .query_row(params![id.to_string(), kind.code()], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        // A snapshot leaves out changes still waiting for their dependencies: never compact then.
        let compact =
            pending + appended.len() as i64 > COMPACT_AFTER && doc_missing(&doc).is_empty();
        let write = CaseWrite {
            id,
            snapshots: if compact { vec![(kind, doc.save())] } else { Vec::new() },
            appended: if compact {
                Vec::new()
            } else {
                appended.into_iter().map(|(h, b)| (kind, h, b)).collect()
            },
            outbox,
            projection,
            fingerprints: Vec::new(),
            heads: vec![(kind, heads_text(&doc))],
            drops,
        };
        let result = w.tx().and_then(|tx| {
            persist(&tx, &write)?;
            tx.commit()?;
            Ok(())
        });
        match result {
            Ok(()) => {
                if kind == DocKind::Rules {
                    self.apply_rules_doc(&doc);
                }
                w.cache.put(key, doc);
                Ok(())
            }
            Err(e) => {
                w.cache.evict(&key);
                Err(e)
            }
        }
    }

    /// The index row after a change to `kind`: the case document is always the one read; the
    /// identity only adds names. Inside a batch the row waits (`None` here): the case is
    /// projected once, from the documents as the batch left them.
    fn projection_for(
        &self,
        w: &mut crate::Writer,
        id: CaseId,
        kind: DocKind,
        changed: &Automerge,
    ) -> Result<Option<Projection>> {
        let other = match kind {
            DocKind::Case => DocKind::Identity,
            DocKind::Identity => DocKind::Case,
            // A roster, the rules and work records have no index row.
            DocKind::Roster | DocKind::Rules | DocKind::Work => return Ok(None),
        };
        if w.in_batch() {
            // `changed` is not stored yet: the others are, and go now while still loaded.
            if w.unprojected.len() >= PROJECT_RUN {
                self.project_pending(w, Some(id))?;
            }
            w.unprojected.insert(id);
            return Ok(None);
        }
        let other_doc = self.cached_or_loaded(w, id, other)?;
        let (case_doc, identity_doc) = match kind {
            DocKind::Identity => (other_doc.as_ref(), Some(changed)),
            DocKind::Case | DocKind::Roster | DocKind::Rules | DocKind::Work => {
                (Some(changed), other_doc.as_ref())
            }
        };
        let projection = project(id, case_doc, identity_doc, &self.rules());
        if let Some(doc) = other_doc {
            w.cache.put((id, other), doc);
        }
        projection
    }

    fn cached_or_loaded(
        &self,
        w: &mut crate::Writer,
        id: CaseId,
        kind: DocKind,
    ) -> Result<Option<Automerge>> {
        match w.cache.take(&(id, kind)) {
            Some(doc) => Ok(Some(doc)),
            None => self.load_doc(&w.conn, id, kind),
        }
    }

    /// Writes the index rows a batch has kept waiting (all but `except`, whose document is
    /// being written), from the documents as stored now.
    pub(crate) fn project_pending(
        &self,
        w: &mut crate::Writer,
        except: Option<CaseId>,
    ) -> Result<()> {
        if w.unprojected.is_empty() {
            return Ok(());
        }
        let mut ids = std::mem::take(&mut w.unprojected);
        if let Some(id) = except
            && ids.remove(&id)
        {
            w.unprojected.insert(id);
        }
        let result = self.project_ids(w, &ids);
        if let Err(e) = &result {
            // The cases taken out are not projected: the batch must not commit without them.
            crate::fail(&w.failed, e.to_string());
        }
        result
    }

    fn project_ids(
        &self,
        w: &mut crate::Writer,
        ids: &std::collections::BTreeSet<CaseId>,
    ) -> Result<()> {
        let rules = self.rules();
        let mut loaded = Vec::with_capacity(ids.len());
        for &id in ids {
            let case_doc = self.cached_or_loaded(w, id, DocKind::Case)?;
            let identity_doc = self.cached_or_loaded(w, id, DocKind::Identity)?;
            loaded.push((id, case_doc, identity_doc));
        }
        // Reading the documents is most of a projection and needs no connection.
        let projected = crate::parallel::map(loaded, |(id, case_doc, identity_doc)| {
            let projection = project(id, case_doc.as_ref(), identity_doc.as_ref(), &rules);
            (id, case_doc, identity_doc, projection)
        });
        let mut projections = Vec::with_capacity(ids.len());
        for (id, case_doc, identity_doc, projection) in projected {
            for (kind, doc) in [(DocKind::Case, case_doc), (DocKind::Identity, identity_doc)] {
                if let Some(doc) = doc {
                    w.cache.put((id, kind), doc);
                }
            }
            match projection {
                Ok(Some(projection)) => projections.push((id.to_string(), projection)),
                Ok(None) => {}
                // Left to the batch's owner to take and name: one case that does not read
                // (from a hub) must not fail the rest of a page with it.
                Err(e @ StoreError::Document { .. }) if w.in_batch() => {
                    tracing::warn!(case = %id, error = %e, "a case does not read; its index row is left as it was");
                    w.unreadable.push((id, e.to_string()));
                }
                Err(e) => return Err(e),
            }
        }
        let rows: Vec<(String, &Projection)> =
            projections.iter().map(|(id, p)| (id.clone(), p)).collect();
        // A pull's pages leave their search rows for one pass at the pull's end.
        let to = if w.defer_search && w.in_batch() { SearchRows::Backlog } else { SearchRows::Now };
        index::write_many(&w.conn, &rows, now_ms(), to)
    }

    /// Inside a batch: writes the index rows still due and gives the cases whose documents did
    /// not read (their rows are left as they were), so the batch can commit without them; the
    /// caller tells a person. Outside a batch there are none.
    pub fn take_unreadable(&self) -> Result<Vec<(CaseId, String)>> {
        let mut w = self.writer();
        if !w.in_batch() {
            return Ok(Vec::new());
        }
        self.project_pending(&mut w, None)?;
        Ok(std::mem::take(&mut w.unreadable))
    }

    /// Whether the index rows were projected with this store's rules and this release's
    /// projection. When not, [`Store::refresh_index`] brings them up to date.
    pub fn index_is_current(&self) -> Result<bool> {
        let stamp = index::stamp(&self.rules());
        Ok(crate::meta_get(&self.reader(), index::STAMP_KEY)?.as_deref() == Some(stamp.as_str()))
    }

    /// Re-projects every case's index row if the rules or the projection changed since the
    /// index was written (a release with next year's holiday table, say): the rows hold due dates
    /// and statistics facts reckoned with them. Works in short transactions so edits can go on
    /// meanwhile; `progress` hears (done, total). Returns how many rows were rewritten.
    pub fn refresh_index(&self, progress: &mut dyn FnMut(usize, usize)) -> Result<usize> {
        if self.index_is_current()? {
            return Ok(0);
        }
        let started = std::time::Instant::now();
        // The rules as they stand now; if they change meanwhile, the stamp written at the end
        // no longer matches and the next refresh runs again.
        let rules = self.rules();
        let ids = self.case_ids()?;
        let mut done = 0;
        for chunk in ids.chunks(REINDEX_BATCH) {
            let mut w = self.writer();
            let tx = w.tx()?;
            let mut projected = Vec::with_capacity(chunk.len());
            for &id in chunk {
                // A case changed since the list was read was projected by that change already.
                let Some(doc) = self.load_doc(&tx, id, DocKind::Case)? else { continue };
                if schema::document_kind(&doc).as_deref() != Some("case") {
                    continue;
                }
                // A case that does not read (something a hub sent, see `take_unreadable`) keeps
                // the row it had; the others are brought up to date. `check --deep` names it.
                let case = match schema::read_case(&doc) {
                    Ok(case) => case,
                    Err(e) => {
                        tracing::warn!(case = %id, error = %e, "a case does not read; its index row is left as it was");
                        index::keep_search_row(&tx, &id.to_string())?;
                        continue;
                    }
                };
                let identity = self
                    .load_doc(&tx, id, DocKind::Identity)?
                    .filter(|d| schema::document_kind(d).as_deref() == Some("identity"))
                    // Unreadable, the case is indexed without its names rather than left out of
                    // the ledger; `check --deep` names the document.
                    .and_then(|d| schema::read_identity(&d).ok());
                projected
                    .push((id.to_string(), index::project(&case, identity.as_ref(), &doc, &rules)));
            }
            // One search statement for the chunk: FTS5 writes a segment per statement.
            let rows: Vec<(String, &index::Projection)> =
                projected.iter().map(|(id, p)| (id.clone(), p)).collect();
            index::write_many(&tx, &rows, now_ms(), index::SearchRows::Now)?;
            tx.commit()?;
            drop(w);
            done += chunk.len();
            progress(done, ids.len());
        }
        crate::meta_set(&self.writer().conn, index::STAMP_KEY, &index::stamp(&rules))?;
        if !ids.is_empty() {
            tracing::info!(cases = ids.len(), elapsed = ?started.elapsed(), "index re-projected with the current rules");
        }
        Ok(ids.len())
    }

    /// Deletes a case and everything derived from it (documents, changes, index and search rows,
    /// outbox). `secure_delete` overwrites the freed pages. Used when a case leaves this office.
    pub fn delete_case(&self, id: CaseId) -> Result<()> {
        let mut w = self.writer();
        w.cache.evict(&(id, DocKind::Case));
        w.cache.evict(&(id, DocKind::Identity));
        let tx = w.tx()?;
        let key = id.to_string();
        if let Some(rowid) = tx
            .query_row("SELECT id FROM cases WHERE case_id = ?1", [&key], |r| r.get::<_, i64>(0))
            .optional()?
        {
            tx.execute("DELETE FROM search WHERE rowid = ?1", [rowid])?;
            tx.execute("DELETE FROM search_backlog WHERE id = ?1", [rowid])?;
        }
        // Attachments no other case here cites leave with the case.
        tx.execute(
            "DELETE FROM blobs WHERE hash IN (SELECT hash FROM blob_refs WHERE case_id = ?1)
               AND hash NOT IN (SELECT hash FROM blob_refs WHERE case_id != ?1)",
            [&key],
        )?;
        tx.execute(
            "DELETE FROM blob_staging WHERE hash IN (SELECT hash FROM blob_refs WHERE case_id = ?1)
               AND hash NOT IN (SELECT hash FROM blob_refs WHERE case_id != ?1)",
            [&key],
        )?;
        tx.execute(
            "DELETE FROM receipts WHERE case_id = ?1 OR hash IN (SELECT hash FROM changes WHERE case_id = ?1)",
            [&key],
        )?;
        for sql in [
            "DELETE FROM cases WHERE case_id = ?1",
            "DELETE FROM docs WHERE case_id = ?1",
            "DELETE FROM changes WHERE case_id = ?1",
            "DELETE FROM outbox WHERE case_id = ?1",
            "DELETE FROM fingerprints WHERE case_id = ?1",
            "DELETE FROM staging WHERE case_id = ?1",
            "DELETE FROM blob_refs WHERE case_id = ?1",
        ] {
            tx.execute(sql, [&key])?;
        }
        // FTS5 keeps a deleted row's tokens in its index until segments merge: merge now, so
        // no piece of a name that left stays on disk.
        tx.execute("INSERT INTO search (search) VALUES ('optimize')", [])?;
        tx.commit()?;
        checkpoint(&mut w);
        Ok(())
    }

    /// Deletes one document of a case (an identity document once the case is restricted):
    /// secure delete, WAL checkpointed, index re-projected without the names it held.
    pub fn delete_doc(&self, id: CaseId, kind: DocKind) -> Result<()> {
        let mut w = self.writer();
        w.cache.evict(&(id, kind));
        let key = id.to_string();
        let projection = match kind {
            DocKind::Identity => {
                let doc = match w.cache.take(&(id, DocKind::Case)) {
                    Some(doc) => Some(doc),
                    None => self.load_doc(&w.conn, id, DocKind::Case)?,
                };
                // `Some(None)`: the case does not read (something a hub sent), so its row cannot
                // be projected without the names: the row and its search rows go instead; the
                // identity leaves whatever the case document holds.
                let projection = match &doc {
                    Some(d) if schema::document_kind(d).as_deref() == Some("case") => {
                        match schema::read_case(d) {
                            Ok(case) => Some(Some(index::project(&case, None, d, &self.rules()))),
                            Err(e) => {
                                tracing::warn!(case = %id, error = %e, "a case does not read; its index row leaves with its identity");
                                Some(None)
                            }
                        }
                    }
                    _ => None,
                };
                if let Some(d) = doc {
                    w.cache.put((id, DocKind::Case), d);
                }
                projection
            }
            DocKind::Case | DocKind::Roster | DocKind::Rules | DocKind::Work => None,
        };
        let tx = w.tx()?;
        if kind == DocKind::Identity {
            // Names waiting for the search index leave with the identity, projected or not.
            tx.execute(
                "DELETE FROM search_backlog WHERE id = (SELECT id FROM cases WHERE case_id = ?1)",
                [&key],
            )?;
        }
        tx.execute("DELETE FROM docs WHERE case_id = ?1 AND kind = ?2", params![key, kind.code()])?;
        tx.execute(
            "DELETE FROM changes WHERE case_id = ?1 AND kind = ?2",
            params![key, kind.code()],
        )?;
        tx.execute(
            "DELETE FROM staging WHERE case_id = ?1 AND kind = ?2",
            params![key, kind.code()],
        )?;
        if let Some(projection) = &projection {
            match projection {
                Some(p) => index::write(&tx, &key, p, now_ms())?,
                None => {
                    if let Some(rowid) = tx
                        .query_row("SELECT id FROM cases WHERE case_id = ?1", [&key], |r| {
                            r.get::<_, i64>(0)
                        })
                        .optional()?
                    {
                        tx.execute("DELETE FROM search WHERE rowid = ?1", [rowid])?;
                    }
                    tx.execute("DELETE FROM cases WHERE case_id = ?1", [&key])?;
                }
            }
            // The names the identity gave the search index go with it (see `delete_case`).
            tx.execute("INSERT INTO search (search) VALUES ('optimize')", [])?;
        }
        tx.commit()?;
        checkpoint(&mut w);
        Ok(())
    }

    /// Replaces one document of a case with the hub's saved copy (after the hub refused a
    /// change to it): the local document, its changes and its outbox entries go; the hub's copy
    /// is stored and the index re-projected. Returns the document as it stood before.
    pub fn replace_doc(
        &self,
        id: CaseId,
        kind: DocKind,
        saved: &[u8],
    ) -> Result<Option<Automerge>> {
        let hub = crate::guarded(|| Automerge::load(saved).map_err(|e| e.to_string()))
            .map_err(|reason| StoreError::Unloadable { id, reason })?
            .with_actor(self.actor());
        let mut w = self.writer();
        let key = (id, kind);
        let before = match w.cache.take(&key) {
            Some(doc) => Some(doc),
            None => self.load_doc(&w.conn, id, kind)?,
        };
        let projection = match self.projection_for(&mut w, id, kind, &hub) {
            Ok(p) => p,
            Err(e) => {
                w.cache.evict(&key);
                return Err(e);
            }
        };
        let write = CaseWrite::whole(id, kind, hub.save(), &hub, projection);
        let tx = w.tx()?;
        tx.execute(
            "DELETE FROM outbox WHERE case_id = ?1 AND kind = ?2",
            params![id.to_string(), kind.code()],
        )?;
        persist(&tx, &write)?;
        tx.commit()?;
        if kind == DocKind::Rules {
            self.apply_rules_doc(&hub);
        }
        w.cache.put(key, hub);
        Ok(before)
    }

    /// The heads of a stored document.
    pub fn heads(&self, id: CaseId, kind: DocKind) -> Result<Vec<ChangeHash>> {
        self.with_doc(id, kind, |d| d.get_heads())
    }

    /// Every stored document after `after`, in (case, kind) order, with its sorted heads (hex),
    /// read from the table without loading documents.
    pub fn doc_heads(
        &self,
        after: Option<(CaseId, DocKind)>,
        limit: usize,
    ) -> Result<Vec<(CaseId, DocKind, Vec<String>)>> {
        let conn = self.reader();
        let (case, kind) =
            after.map(|(c, k)| (c.to_string(), k.code())).unwrap_or((String::new(), -1));
        let mut stmt = conn.prepare_cached(
            "SELECT case_id, kind, heads FROM docs WHERE (case_id, kind) > (?1, ?2) ORDER BY case_id, kind LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![case, kind, limit as i64], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (case, kind, heads) = row?;
            let (Ok(id), Some(kind)) = (case.parse(), DocKind::from_code(kind)) else { continue };
            out.push((
                id,
                kind,
                heads.split(',').filter(|h| !h.is_empty()).map(str::to_owned).collect(),
            ));
        }
        Ok(out)
    }

    /// The saved bytes of a stored document (for sending it whole).
    pub fn save_doc(&self, id: CaseId, kind: DocKind) -> Result<Vec<u8>> {
        self.with_doc(id, kind, |d| d.save())
    }
}

pub(crate) fn insert_drop(tx: &Connection, drop: &DropRecord) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO drops (id, case_id, persons, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![drop.id, drop.case_id.to_string(), drop.persons, now_ms()])?;
    Ok(())
}

/// Moves the WAL into the database and truncates it, so deleted pages (secure delete zeroes
/// them in the database) do not linger in the WAL file either. Best effort: a reader holding
/// the WAL only delays it to the next checkpoint.
pub(crate) fn checkpoint(w: &mut crate::Writer) {
    // Inside a batch the WAL cannot be truncated yet: the batch does it when it commits.
    if !w.conn.is_autocommit() {
        w.checkpoint_due = true;
        return;
    }
    w.checkpoint_due = false;
    // SQLite answers "busy" at once (a row, not an error) while another connection
    // checkpoints: the store's own checkpoint thread, rung by the same commit. Its passive
    // checkpoint ends within moments; the truncation tries again meanwhile. (Readers it waits
    // for itself, through the busy timeout.)
    let deadline = std::time::Instant::now() + TRUNCATE_WAIT;
    loop {
        match w.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0)) {
            Ok(0) => return,
            Ok(_) if std::time::Instant::now() < deadline => std::thread::sleep(TRUNCATE_PAUSE),
            Ok(_) => {
                tracing::warn!(
                    "the WAL stayed busy; deleted pages leave it at the next deletion's checkpoint"
                );
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "WAL checkpoint failed");
                return;
            }
        }
    }
}

/// How long a truncating checkpoint is tried again while another one runs, and how far apart.
const TRUNCATE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
const TRUNCATE_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

/// The index row of a case from its documents; `None` while the case document has nothing to
/// show (still waiting for its first change) or is gone.
fn project(
    id: CaseId,
    case_doc: Option<&Automerge>,
    identity_doc: Option<&Automerge>,
    rules: &ledger_domain::Rules,
) -> Result<Option<Projection>> {
    match case_doc {
        Some(doc) if schema::document_kind(doc).as_deref() == Some("case") => {
            let case = schema::read_case(doc).map_err(|source| StoreError::document(id, source))?;
            let identity = identity_doc
                .filter(|d| schema::document_kind(*d).as_deref() == Some("identity"))
                // As in `refresh_index`: indexed without its names, named by `check --deep`.
                .and_then(|d| schema::read_identity(d).ok());
            Ok(Some(index::project(&case, identity.as_ref(), doc, rules)))
        }
        _ => Ok(None),
    }
}

fn doc_missing(doc: &Automerge) -> Vec<ChangeHash> {
    doc.get_missing_deps(&[])
}

/// Writes one case's documents, changes, outbox entries and index rows.
pub(crate) fn persist(tx: &Connection, write: &CaseWrite) -> Result<()> {
    let key = write.id.to_string();
    for (kind, snapshot) in &write.snapshots {
        tx.prepare_cached(
            "INSERT INTO docs (case_id, kind, snapshot, pending) VALUES (?1, ?2, ?3, 0)
             ON CONFLICT(case_id, kind) DO UPDATE SET snapshot = excluded.snapshot, pending = 0",
        )?
        .execute(params![key, kind.code(), snapshot])?;
        tx.prepare_cached("DELETE FROM changes WHERE case_id = ?1 AND kind = ?2")?
            .execute(params![key, kind.code()])?;
    }
    for (kind, hash, bytes) in &write.appended {
        tx.prepare_cached(
            "INSERT OR IGNORE INTO changes (case_id, kind, hash, bytes) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![key, kind.code(), hash, bytes])?;
        tx.prepare_cached(
            "UPDATE docs SET pending = pending + 1 WHERE case_id = ?1 AND kind = ?2",
        )?
        .execute(params![key, kind.code()])?;
    }
    let now = now_ms();
    for change in &write.outbox {
        crate::outbox::insert(tx, &key, change.kind, &change.hash, &change.bytes, now)?;
    }
    for (kind, heads) in &write.heads {
        tx.prepare_cached("UPDATE docs SET heads = ?3 WHERE case_id = ?1 AND kind = ?2")?
            .execute(params![key, kind.code(), heads])?;
    }
    for drop in &write.drops {
        insert_drop(tx, drop)?;
    }
    for fp in &write.fingerprints {
        tx.prepare_cached(
            "INSERT OR IGNORE INTO fingerprints (fingerprint, case_id) VALUES (?1, ?2)",
        )?
        .execute(params![fp, key])?;
    }
    if let Some(projection) = &write.projection {
        index::write(tx, &key, projection, now)?;
    }
    Ok(())
}
