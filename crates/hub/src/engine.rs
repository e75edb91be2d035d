//! The sync engine: validates and stores an office's batch, then serves the next page of the
//! hub log that office may see.
//!
//! Validation works on copies of the affected documents and stores nothing unless the whole
//! batch passes. A change is refused (403) when its actor is not one of the office's devices,
//! when the case was outside the office's scope *at the change's causal point* (what its author
//! had seen, so offline work on a case reassigned meanwhile is still accepted), or when a
//! township writes a bureau-only field. Workflow anomalies are never refused.
//!
//! Visibility of the log (DESIGN §5): a change row is visible to the offices in the case's scope;
//! when a batch moves a case between offices, its rows are bureau-only and the new office gets an
//! `enter` (the whole document, read from the hub's copy when served) while the old one gets a
//! `leave`. Identity documents of restricted cases (检举控告, confidential) are bureau-only.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use ledger_domain::automerge::sync::{self, SyncDoc};
use ledger_domain::automerge::{ActorId, Automerge, Change, ChangeHash, ReadDoc};
use ledger_domain::schema::{self, CaseField};
use ledger_domain::workflow::replay;
use ledger_domain::{CaseFacts, CaseId, PolicyTable, Role, WorkCalendar};
use ledger_protocol::{
    BlobChunk, BlobWant, Bootstrap, Cursor, DocKind, Hash, MIN_BATCH_BYTES, Partial, Record,
    Refused, RepairRequest, RepairResponse, RepairSync, RepairSyncResponse, SyncRequest,
    SyncResponse, UpChange, heads_digest, record_size,
};
use uuid::Uuid;

use crate::store::{
    CaseScope, Commit, DeviceRecord, DocWrite, HubStore, LogEntry, LogKind, NewLogRow,
    OfficeRecord, Reader, StoreError, StoredChange, SyncHealth,
};

/// The most a page may carry, whatever the office asks for.
const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;
/// Log rows read per query while filling a page.
const ROWS_PER_READ: usize = 512;
/// Compact a hub document once its tail is this long.
const COMPACT_AFTER: usize = 64;
/// Documents kept loaded.
const CACHE_DOCS: usize = 512;

/// Why a sync could not be served.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The body held something that is not a change (400).
    #[error("{0}")]
    BadRequest(String),
    /// Changes the office may not make; nothing of the batch was stored (403).
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

    fn is_bureau(&self) -> bool {
        self.office.role == Role::Bureau
    }
}

struct Cache {
    docs: HashMap<(CaseId, DocKind), (Automerge, usize, u64)>,
    tick: u64,
}

impl Cache {
    fn put(&mut self, key: (CaseId, DocKind), doc: Automerge, tail: usize) {
        self.tick += 1;
        if self.docs.len() >= CACHE_DOCS
            && !self.docs.contains_key(&key)
            && let Some(oldest) = self.docs.iter().min_by_key(|(_, v)| v.2).map(|(k, _)| *k)
        {
            self.docs.remove(&oldest);
        }
        self.docs.insert(key, (doc, tail, self.tick));
    }
}

/// The engine: the store plus the loaded documents. Batches are processed one at a time.
pub struct Engine {
    store: Arc<dyn HubStore>,
    cache: Mutex<Cache>,
    policies: PolicyTable,
    calendar: WorkCalendar,
    actor: ActorId,
}

/// A document being validated: its state before the batch, and the copy changes apply to.
struct Working {
    existed: bool,
    before_tail: usize,
    doc: Automerge,
    new: Vec<StoredChange>,
}

fn jurisdiction_values(doc: &Automerge, heads: Option<&[ChangeHash]>) -> Vec<String> {
    schema::field_values(doc, &CaseField::Jurisdiction, heads).unwrap_or_default()
}

fn registrar_of(doc: &Automerge) -> Option<String> {
    schema::read_case(doc).ok().map(|c| c.registered_by)
}

impl Engine {
    /// An engine over `store`.
    pub fn new(store: Arc<dyn HubStore>) -> Self {
        Self {
            store,
            cache: Mutex::new(Cache { docs: HashMap::new(), tick: 0 }),
            policies: PolicyTable::default(),
            calendar: WorkCalendar::china(),
            actor: ActorId::random(),
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn HubStore> {
        &self.store
    }

    fn lock(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| {
            let mut guard = p.into_inner();
            guard.docs.clear();
            guard
        })
    }

    fn load(
        &self,
        cache: &mut Cache,
        case: CaseId,
        kind: DocKind,
    ) -> Result<Option<(Automerge, usize)>, SyncError> {
        if let Some((doc, tail, _)) = cache.docs.get(&(case, kind)) {
            return Ok(Some((doc.clone(), *tail)));
        }
        let Some((snapshot, tail)) = self.store.doc(case, kind)? else { return Ok(None) };
        let mut doc = Automerge::load(&snapshot).map_err(|e| {
            SyncError::Store(StoreError::Database(format!("stored document {case}: {e}")))
        })?;
        let changes: Vec<Change> =
            tail.iter().filter_map(|b| Change::from_bytes(b.clone()).ok()).collect();
        let n = changes.len();
        doc.apply_changes(changes).map_err(|e| {
            SyncError::Store(StoreError::Database(format!("stored document {case}: {e}")))
        })?;
        doc.set_actor(self.actor.clone());
        cache.put((case, kind), doc.clone(), n);
        Ok(Some((doc, n)))
    }

    /// Validates and stores the batch, then serves the next page.
    pub fn sync(
        &self,
        caller: &Caller,
        req: &SyncRequest,
        now: i64,
    ) -> Result<SyncResponse, SyncError> {
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
        let mut cache = self.lock();
        let acked = self.ingest(&mut cache, caller, &req.changes, now)?;
        for case in &req.evicted {
            self.store.log_eviction(CaseId(*case), &caller.office.code, &caller.device.id, now)?;
        }
        for chunk in &req.blobs {
            self.store.blob_piece(chunk)?;
        }
        let mut need_blobs = Vec::new();
        for hash in &req.blob_offers {
            if let Err(offset) = self.store.blob_progress(hash)? {
                need_blobs.push(BlobWant { hash: hash.clone(), offset });
            }
        }
        let budget = (req.page_bytes as usize).clamp(MIN_BATCH_BYTES as usize, MAX_PAGE_BYTES);
        let (records, cursor, more) = self.page(&mut cache, caller, req, budget)?;
        drop(cache);
        self.store.record_sync(
            &caller.device.id,
            &SyncHealth {
                at: now,
                seq: cursor.seq,
                pending: req.pending,
                last_error: req.last_error.clone(),
                skew_ms: req.device_time - now,
            },
        )?;
        Ok(SyncResponse { acked, records, cursor, more, hub_time: now, need_blobs })
    }

    fn ingest(
        &self,
        cache: &mut Cache,
        caller: &Caller,
        changes: &[UpChange],
        now: i64,
    ) -> Result<Vec<Hash>, SyncError> {
        let mut acked = Vec::new();
        let mut refused = Vec::new();
        let mut working: HashMap<(CaseId, DocKind), Working> = HashMap::new();
        let mut order: Vec<(CaseId, DocKind)> = Vec::new();
        let mut refused_cases: BTreeSet<CaseId> = BTreeSet::new();
        for up in changes {
            let case = CaseId(up.case_id);
            let change = Change::from_bytes(up.bytes.clone()).map_err(|e| {
                SyncError::BadRequest(format!(
                    "第{}条更改无法解析：{e}",
                    acked.len() + refused.len() + 1
                ))
            })?;
            if change.hash().0 != up.hash.0 {
                return Err(SyncError::BadRequest(format!("更改 {} 的哈希与内容不符", up.hash)));
            }
            let hash = up.hash.to_hex();
            if self.store.has_change(&hash)?
                || working.values().any(|w| w.new.iter().any(|c| c.hash == hash))
            {
                acked.push(up.hash);
                continue;
            }
            let refuse =
                |reason: String| Refused { hash: hash.clone(), case_id: up.case_id, reason };
            // Later changes to a case already refused in this batch depend on the refused one.
            if refused_cases.contains(&case) {
                refused.push(refuse("同一案件中更早的更改已被拒绝".into()));
                continue;
            }
            let actor = change.actor_id().to_hex_string();
            if self.store.actor_office(&actor)?.as_deref() != Some(caller.office.code.as_str()) {
                refused_cases.insert(case);
                refused.push(refuse(format!(
                    "更改的设备标识 {actor} 不属于本单位（{}）",
                    caller.office.code
                )));
                continue;
            }
            let key = (case, up.kind);
            if let std::collections::hash_map::Entry::Vacant(slot) = working.entry(key) {
                let (doc, tail, existed) = match self.load(cache, case, up.kind)? {
                    Some((doc, tail)) => (doc, tail, true),
                    None => (Automerge::new().with_actor(self.actor.clone()), 0, false),
                };
                slot.insert(Working { existed, before_tail: tail, doc, new: Vec::new() });
                order.push(key);
            }
            let case_doc = match up.kind {
                DocKind::Case => None,
                DocKind::Identity => match working.get(&(case, DocKind::Case)) {
                    Some(w) => Some(w.doc.clone()),
                    None => self.load(cache, case, DocKind::Case)?.map(|(d, _)| d),
                },
            };
            let Some(w) = working.get_mut(&key) else { continue };
            match self.authorise(caller, w, &change, up.kind, case_doc.as_ref()) {
                Ok(()) => {}
                Err(reason) => {
                    refused_cases.insert(case);
                    refused.push(refuse(reason));
                    continue;
                }
            }
            if let Err(e) = w.doc.apply_changes([change]) {
                refused_cases.insert(case);
                refused.push(refuse(format!("更改无法应用：{e}")));
                continue;
            }
            w.new.push(StoredChange {
                hash,
                case_id: case,
                kind: up.kind,
                device: caller.device.id.clone(),
                received_at: now,
                bytes: up.bytes.clone(),
            });
            acked.push(up.hash);
        }
        if !refused.is_empty() {
            tracing::warn!(office = %caller.office.code, refused = refused.len(), "batch refused");
            return Err(SyncError::Forbidden(refused));
        }
        if order.is_empty() {
            return Ok(acked);
        }
        let commit = self.commit_plan(caller, &working, &order, now)?;
        self.store.commit(&commit)?;
        for key in order {
            if let Some(w) = working.remove(&key) {
                let compacted = commit
                    .docs
                    .iter()
                    .any(|d| d.case_id == key.0 && d.kind == key.1 && d.snapshot.is_some());
                let tail = if compacted { 0 } else { w.before_tail + w.new.len() };
                cache.put(key, w.doc, tail);
            }
        }
        Ok(acked)
    }

    /// Decides whether `caller` may make `change` to the working document.
    fn authorise(
        &self,
        caller: &Caller,
        w: &Working,
        change: &Change,
        kind: DocKind,
        case_doc: Option<&Automerge>,
    ) -> Result<(), String> {
        let missing: Vec<&ChangeHash> =
            change.deps().iter().filter(|d| w.doc.get_change_by_hash(d).is_none()).collect();
        if !missing.is_empty() {
            return Err(format!("缺少此更改所依赖的 {} 条更改；请先完整同步该案件", missing.len()));
        }
        if caller.is_bureau() {
            return Ok(());
        }
        let office = &caller.office;
        let in_scope = |township: &[String], registrar: Option<&str>| {
            township.iter().any(|t| office.townships.contains(t))
                || (township.is_empty() && registrar == Some(office.code.as_str()))
        };
        match kind {
            DocKind::Case => {
                if w.doc.get_heads().is_empty() {
                    // Creation: the office registers the case, for one of its townships or none.
                    let mut probe = w.doc.clone();
                    probe
                        .apply_changes([change.clone()])
                        .map_err(|e| format!("更改无法应用：{e}"))?;
                    let case =
                        schema::read_case(&probe).map_err(|e| format!("不是有效的案件：{e}"))?;
                    if case.registered_by != office.code {
                        return Err(format!("新案件的登记单位应为本单位 {}", office.code));
                    }
                    if let Some(t) = &case.jurisdiction
                        && !office.townships.contains(t)
                    {
                        return Err(format!("「{t}」不是本单位管辖的乡镇，不能为其登记案件"));
                    }
                    return Ok(());
                }
                let at_deps = jurisdiction_values(&w.doc, Some(change.deps()));
                let registrar = registrar_of(&w.doc);
                if !in_scope(&at_deps, registrar.as_deref()) {
                    return Err("该案件在此更改所依据的版本中不属于本单位管辖".into());
                }
                let before: Vec<Vec<String>> = [CaseField::Jurisdiction, CaseField::OfficialNumber]
                    .iter()
                    .map(|f| schema::field_values(&w.doc, f, None).unwrap_or_default())
                    .collect();
                let mut probe = w.doc.clone();
                probe.apply_changes([change.clone()]).map_err(|e| format!("更改无法应用：{e}"))?;
                for (field, old) in
                    [CaseField::Jurisdiction, CaseField::OfficialNumber].iter().zip(before)
                {
                    if schema::field_values(&probe, field, None).unwrap_or_default() != old {
                        return Err(format!(
                            "乡镇国土所不能修改「{}」；该字段只能由县局变更",
                            field.label()
                        ));
                    }
                }
                Ok(())
            }
            DocKind::Identity => {
                let Some(case_doc) = case_doc else {
                    return Err("案件本身尚未同步到县局，不能先上传身份信息".into());
                };
                let now = jurisdiction_values(case_doc, None);
                let registrar = registrar_of(case_doc);
                if in_scope(&now, registrar.as_deref())
                    || registrar.as_deref() == Some(office.code.as_str())
                {
                    Ok(())
                } else {
                    Err("该案件不属于本单位管辖，不能修改信访人信息".into())
                }
            }
        }
    }

    /// Plans the commit of a validated batch: documents, case scope, facts and log rows.
    fn commit_plan(
        &self,
        caller: &Caller,
        working: &HashMap<(CaseId, DocKind), Working>,
        order: &[(CaseId, DocKind)],
        now: i64,
    ) -> Result<Commit, SyncError> {
        let mut commit = Commit::default();
        let offices = self.store.offices()?;
        let mut cases: Vec<CaseId> = Vec::new();
        for key in order {
            if !cases.contains(&key.0) {
                cases.push(key.0);
            }
        }
        for case in cases {
            let before = self.store.case_scope(case)?;
            let case_doc = working.get(&(case, DocKind::Case)).map(|w| w.doc.clone());
            let parsed = match &case_doc {
                Some(doc) => schema::read_case(doc).ok(),
                None => None,
            };
            let after = match &parsed {
                Some(c) => Some(CaseScope {
                    township: c.jurisdiction.clone(),
                    registrar: c.registered_by.clone(),
                    restricted: c.identity_restricted(),
                }),
                None => before.clone(),
            };
            let moved = match (&before, &after) {
                (Some(b), Some(a)) => scope_offices(&offices, b) != scope_offices(&offices, a),
                _ => false,
            };
            for kind in [DocKind::Case, DocKind::Identity] {
                let Some(w) = working.get(&(case, kind)) else { continue };
                if w.new.is_empty() {
                    continue;
                }
                let scope = after.clone().unwrap_or_default();
                let bureau_only =
                    moved || (kind == DocKind::Identity && scope.restricted) || after.is_none();
                for c in &w.new {
                    commit.log.push(NewLogRow {
                        case_id: case,
                        kind,
                        entry: LogEntry::Change {
                            hash: c.hash.clone(),
                            author_device: caller.device.id.clone(),
                            township: scope.township.clone(),
                            registrar: Some(scope.registrar.clone()),
                            bureau_only,
                        },
                        received_at: now,
                    });
                }
                commit.changes.extend(w.new.iter().cloned());
                let compact = !w.existed || w.before_tail + w.new.len() > COMPACT_AFTER;
                commit.docs.push(DocWrite {
                    case_id: case,
                    kind,
                    snapshot: compact.then(|| w.doc.save()),
                    tail: if compact {
                        Vec::new()
                    } else {
                        w.new.iter().map(|c| c.hash.clone()).collect()
                    },
                });
            }
            if let (Some(before), Some(after)) = (&before, &after)
                && moved
            {
                let old = scope_offices(&offices, before);
                let new = scope_offices(&offices, after);
                for office in new.difference(&old) {
                    commit.log.push(NewLogRow {
                        case_id: case,
                        kind: DocKind::Case,
                        entry: LogEntry::Enter { target: office.clone() },
                        received_at: now,
                    });
                }
                for office in old.difference(&new) {
                    commit.log.push(NewLogRow {
                        case_id: case,
                        kind: DocKind::Case,
                        entry: LogEntry::Leave { target: office.clone() },
                        received_at: now,
                    });
                }
                tracing::info!(case = %case, from = ?old, to = ?new, "case moved between offices");
            }
            if let (Some(case_value), Some(scope)) = (&parsed, &after) {
                let facts = CaseFacts::project(
                    case_value,
                    &replay(&case_value.events),
                    &self.policies,
                    &self.calendar,
                );
                commit.cases.push((case, scope.clone(), Some(facts)));
                for a in &case_value.attachments {
                    commit.blob_refs.push((a.hash.clone(), case));
                }
            }
        }
        Ok(commit)
    }

    /// Fills a page within `budget` bytes.
    fn page(
        &self,
        cache: &mut Cache,
        caller: &Caller,
        req: &SyncRequest,
        budget: usize,
    ) -> Result<(Vec<Record>, Cursor, bool), SyncError> {
        let reader = caller.reader();
        let mut records = Vec::new();
        let mut used = 0usize;
        let mut cursor = req.cursor.clone();
        let mut more = false;

        // Cases the office found incomplete: whole, first.
        for case in &req.want_whole {
            let case = CaseId(*case);
            for kind in self.visible_kinds(caller, case)? {
                if let Some((doc, _)) = self.load(cache, case, kind)? {
                    let bytes = doc.save();
                    used += bytes.len();
                    records.push(Record::Enter {
                        case_id: case.0,
                        kind,
                        offset: 0,
                        total: bytes.len() as u64,
                        bytes,
                    });
                }
            }
        }

        // A document arriving in pieces continues.
        if let Some(partial) = cursor.partial.clone() {
            let (record, done) = self.piece(cache, &partial, budget)?;
            used += record_size(&record);
            records.push(record);
            if done {
                cursor.partial = None;
                match &mut cursor.bootstrap {
                    Some(b) => b.after = Some((partial.case_id, partial.kind)),
                    None => {
                        let next = self.store.log_after(cursor.seq, &reader, 1)?;
                        if let Some(row) = next.first() {
                            cursor.seq = row.seq;
                        }
                    }
                }
            } else {
                let sent = match records.last() {
                    Some(Record::Enter { bytes, .. }) => bytes.len() as u64,
                    _ => 0,
                };
                cursor.partial = Some(Partial { offset: partial.offset + sent, ..partial });
                return Ok((records, cursor, true));
            }
        }

        // A fresh office: every document in scope, then the log after the snapshot's head.
        if cursor.seq == 0 && cursor.bootstrap.is_none() && cursor.partial.is_none() {
            cursor.bootstrap = Some(Bootstrap { head: self.store.head()?, after: None });
        }
        while let Some(boot) = cursor.bootstrap.clone() {
            let docs = self.store.scope_docs(
                &reader,
                boot.after.map(|(c, k)| (CaseId(c), k)),
                64,
                true,
            )?;
            if docs.is_empty() {
                cursor = Cursor { seq: boot.head, bootstrap: None, partial: None };
                break;
            }
            for (case, kind) in docs {
                let Some((doc, _)) = self.load(cache, case, kind)? else { continue };
                let bytes = doc.save();
                if !records.is_empty() && used + bytes.len() > budget {
                    return Ok((records, cursor, true));
                }
                if bytes.len() > budget {
                    let partial =
                        Partial { case_id: case.0, kind, heads: heads_of(&doc), offset: 0 };
                    let (record, _) = self.piece(cache, &partial, budget)?;
                    let sent = match &record {
                        Record::Enter { bytes, .. } => bytes.len() as u64,
                        _ => 0,
                    };
                    records.push(record);
                    cursor.partial = Some(Partial { offset: sent, ..partial });
                    return Ok((records, cursor, true));
                }
                used += bytes.len();
                records.push(Record::Enter {
                    case_id: case.0,
                    kind,
                    offset: 0,
                    total: bytes.len() as u64,
                    bytes,
                });
                if let Some(b) = &mut cursor.bootstrap {
                    b.after = Some((case.0, kind));
                }
            }
        }

        // The log.
        'log: loop {
            let rows = self.store.log_after(cursor.seq, &reader, ROWS_PER_READ)?;
            if rows.is_empty() {
                break;
            }
            let full = rows.len() == ROWS_PER_READ;
            for row in rows {
                let mut out: Vec<Record> = Vec::new();
                match row.what {
                    LogKind::Change => {
                        let Some(hash) = &row.hash else { continue };
                        if let Some(bytes) = self.store.change(hash)? {
                            out.push(Record::Change {
                                seq: row.seq,
                                case_id: row.case_id.0,
                                kind: row.kind,
                                received_at: row.received_at,
                                bytes,
                            });
                        }
                    }
                    LogKind::Leave => out.push(Record::Leave { case_id: row.case_id.0 }),
                    LogKind::Enter => {
                        for kind in self.visible_kinds(caller, row.case_id)? {
                            let Some((doc, _)) = self.load(cache, row.case_id, kind)? else {
                                continue;
                            };
                            let bytes = doc.save();
                            if bytes.len() > budget && records.is_empty() && out.is_empty() {
                                let partial = Partial {
                                    case_id: row.case_id.0,
                                    kind,
                                    heads: heads_of(&doc),
                                    offset: 0,
                                };
                                let (record, _) = self.piece(cache, &partial, budget)?;
                                let sent = match &record {
                                    Record::Enter { bytes, .. } => bytes.len() as u64,
                                    _ => 0,
                                };
                                records.push(record);
                                cursor.partial = Some(Partial { offset: sent, ..partial });
                                // The enter row completes (and the cursor passes it) with the last piece.
                                return Ok((records, cursor, true));
                            }
                            out.push(Record::Enter {
                                case_id: row.case_id.0,
                                kind,
                                offset: 0,
                                total: bytes.len() as u64,
                                bytes,
                            });
                        }
                    }
                }
                let size: usize = out.iter().map(record_size).sum();
                if !records.is_empty() && used + size > budget {
                    more = true;
                    break 'log;
                }
                used += size;
                records.extend(out);
                cursor.seq = row.seq;
            }
            if !full {
                break;
            }
        }

        // Attachments the office wants, in what room is left.
        for want in &req.want_blobs {
            if used >= budget && !records.is_empty() {
                more = true;
                break;
            }
            if !self.store.blob_visible(&want.hash, &reader)? {
                continue;
            }
            let Some(bytes) = self.store.blob(&want.hash)? else { continue };
            let start = usize::try_from(want.offset).unwrap_or(usize::MAX).min(bytes.len());
            let room = budget.saturating_sub(used).max(MIN_BATCH_BYTES as usize);
            let end = (start + room).min(bytes.len());
            used += end - start;
            records.push(Record::Blob(BlobChunk {
                hash: want.hash.clone(),
                offset: start as u64,
                total: bytes.len() as u64,
                bytes: bytes[start..end].to_vec(),
            }));
            if end < bytes.len() {
                more = true;
            }
        }
        Ok((records, cursor, more))
    }

    /// The next piece of a document sent in chunks; whether it was the last.
    fn piece(
        &self,
        cache: &mut Cache,
        partial: &Partial,
        budget: usize,
    ) -> Result<(Record, bool), SyncError> {
        let case = CaseId(partial.case_id);
        let Some((doc, _)) = self.load(cache, case, partial.kind)? else {
            return Err(SyncError::Store(StoreError::NotFound(format!("案件 {case} 不在县局"))));
        };
        let heads: Vec<ChangeHash> = partial.heads.iter().map(|h| ChangeHash(h.0)).collect();
        let bytes = if heads_of(&doc) == partial.heads {
            doc.save()
        } else {
            doc.fork_at(&heads)
                .map_err(|e| SyncError::Store(StoreError::Database(e.to_string())))?
                .save()
        };
        let start = usize::try_from(partial.offset).unwrap_or(usize::MAX).min(bytes.len());
        let end = (start + budget).min(bytes.len());
        let record = Record::Enter {
            case_id: partial.case_id,
            kind: partial.kind,
            offset: start as u64,
            total: bytes.len() as u64,
            bytes: bytes[start..end].to_vec(),
        };
        Ok((record, end == bytes.len()))
    }

    /// The documents of a case the caller may hold.
    fn visible_kinds(&self, caller: &Caller, case: CaseId) -> Result<Vec<DocKind>, SyncError> {
        let Some(scope) = self.store.case_scope(case)? else { return Ok(Vec::new()) };
        if caller.is_bureau() {
            return Ok(vec![DocKind::Case, DocKind::Identity]);
        }
        let office = &caller.office;
        let in_scope = match &scope.township {
            Some(t) => office.townships.contains(t),
            None => scope.registrar == office.code,
        };
        Ok(match (in_scope, scope.restricted) {
            (false, _) => Vec::new(),
            (true, true) => vec![DocKind::Case],
            (true, false) => vec![DocKind::Case, DocKind::Identity],
        })
    }

    /// The statistics of every case at the hub.
    pub fn facts(&self) -> Result<Vec<CaseFacts>, StoreError> {
        self.store.all_facts()
    }

    /// Repair, step one: which of the office's documents (a range, in order) differ from the
    /// hub's, and which documents in that range it may hold but lacks.
    pub fn repair_digests(
        &self,
        caller: &Caller,
        req: &RepairRequest,
    ) -> Result<RepairResponse, SyncError> {
        let mut cache = self.lock();
        let reader = caller.reader();
        let mut response = RepairResponse::default();
        let theirs: BTreeSet<(Uuid, DocKind)> =
            req.digests.iter().map(|d| (d.case_id, d.kind)).collect();
        for digest in &req.digests {
            let case = CaseId(digest.case_id);
            if !self.visible_kinds(caller, case)?.contains(&digest.kind) {
                continue;
            }
            if let Some((doc, _)) = self.load(&mut cache, case, digest.kind)?
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
            for (case, kind) in &docs {
                if !req.last && end.is_some_and(|e| (case.0, *kind) > e) {
                    break 'scan;
                }
                if !theirs.contains(&(case.0, *kind)) {
                    response.missing.push((case.0, *kind));
                }
            }
            after = docs.last().copied();
        }
        Ok(response)
    }

    /// Repair, step two: one round of Automerge's own sync protocol on one document. The hub
    /// answers from a copy: changes in the office's message are not stored here (they come
    /// through the outbox, validated).
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
            }]));
        }
        let mut cache = self.lock();
        let Some((mut doc, _)) = self.load(&mut cache, case, req.kind)? else {
            return Ok(RepairSyncResponse::default());
        };
        drop(cache);
        let message = sync::Message::decode(&req.message)
            .map_err(|e| SyncError::BadRequest(format!("同步消息无法解析：{e}")))?;
        let mut state = sync::State::new();
        doc.receive_sync_message(&mut state, message)
            .map_err(|e| SyncError::BadRequest(format!("同步消息无法应用：{e}")))?;
        Ok(RepairSyncResponse {
            message: doc
                .generate_sync_message(&mut state)
                .map(|m| ledger_protocol::serde_bytes_opt::Bytes(m.encode())),
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
        let mut request = req.clone();
        request.page_bytes = MAX_PAGE_BYTES as u32;
        let mut merged = self.sync(caller, &request, now)?;
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
            merged.records.extend(page.records);
            merged.cursor = page.cursor;
            merged.more = page.more;
            merged.need_blobs = page.need_blobs;
        }
        Ok(merged)
    }
}

fn heads_of(doc: &Automerge) -> Vec<Hash> {
    doc.get_heads().iter().map(|h| Hash(h.0)).collect()
}

/// The township offices that see a case with this scope (the bureau sees everything anyway).
fn scope_offices(offices: &[OfficeRecord], scope: &CaseScope) -> BTreeSet<String> {
    offices
        .iter()
        .filter(|o| o.role != Role::Bureau)
        .filter(|o| match &scope.township {
            Some(t) => o.townships.contains(t),
            None => o.code == scope.registrar,
        })
        .map(|o| o.code.clone())
        .collect()
}
