//! The office as a [`SyncTarget`]: it builds each sync request from its outbox, cursor and
//! pending work, and applies each response durably.
//!
//! Order matters for crash safety. Acknowledged changes leave the outbox first; then every
//! record of the page is applied (each idempotent: a change already here, a piece already held,
//! a case already marked leaving); only then does the cursor move, and not at all while a touched
//! case is missing dependencies (it is asked for whole instead). A `leave` marks the case
//! 已转交 (read-only); it is deleted once none of its changes wait in the outbox, and the
//! deletion is confirmed to the hub on the next exchange.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use ledger_client::{
    Applied, Binding, RepairReport, SyncStatus, SyncTarget, TargetError, TargetErrorKind,
};
use ledger_domain::CaseId;
use ledger_domain::automerge::Change;
use ledger_domain::schema;
use ledger_protocol::keys::{PublicKey, SecretKey};
use ledger_protocol::{
    BlobChunk, BlobWant, Bootstrap, Cursor, DocKind as WireKind, DropPerson, EnrollResponse, Hash,
    IdentityDrop, LeaseWant, MAX_CHANGES, MAX_LIST, MIN_BATCH_BYTES, Partial, Record, Refused,
    SyncRequest, SyncResponse, UpChange, is_work_id, roster_id, rules_id,
};
use ledger_store::{
    BootstrapPosition, DocKind, LEGACY_META_KEY, PartialPosition, Preloaded, Store, StoreError,
    SyncBook, SyncPosition,
};
use serde::{Serialize, de::DeserializeOwned};

use crate::config::OfficeConfig;
use crate::error::{OfficeError, Result};
use crate::hub::HubAddress;
use crate::recover::RecoveryReport;

mod control;
mod page;
mod problems;

pub use control::{CountyRepeat, Repaired};

use crate::{Clock, Office};
use page::Flow;

pub(crate) const HUB: &str = "sync.hub";
/// The county CA this office trusts for its hub (PEM).
pub(crate) const HUB_CA: &str = "sync.hub_ca";
/// "1" when a person chose plain HTTP to another machine.
pub(crate) const PLAIN_HTTP: &str = "sync.plain_http";
/// This device's Ed25519 private key (hex seed): it signs the bundles this device writes.
const DEVICE_KEY: &str = "sync.device_key";
/// The hub's Ed25519 public key (hex): return bundles are checked with it.
const HUB_KEY: &str = "sync.hub_key";
/// "1" once the hub holds this device's public key.
const KEY_REGISTERED: &str = "sync.key_registered";
const CREDENTIAL: &str = "sync.credential";
const DEVICE: &str = "sync.device";
const WANT_WHOLE: &str = "sync.want_whole";
const LEAVING: &str = "sync.leaving";
/// The sync's own lists, part of its position: a restart mends them.
const SYNC_LISTS: [&str; 7] =
    [WANT_WHOLE, LEAVING, EVICTED, NEED_BLOBS, WANT_BLOBS, RESET, RECOVERED];
/// The county directory as last received from the hub (JSON).
const DIRECTORY: &str = "directory";
const EVICTED: &str = "sync.evicted";
const NEED_BLOBS: &str = "sync.need_blobs";
const WANT_BLOBS: &str = "sync.want_blobs";
const STATUS: &str = "sync.status";
const REPAIR: &str = "sync.needs_repair";
/// Cases to replace with the hub's copy (after refused changes), JSON.
const RESET: &str = "sync.reset";
/// What the last recovery redid and could not redo, JSON.
const RECOVERED: &str = "sync.recovered";
/// What the last repair found (JSON, `null` until one finishes), for whoever asked for it.
const REPAIRED: &str = "sync.repaired";
/// Set by a restore from backup (ledger-store).
const RESTORED: &str = "needs_repair";

/// What enrollment brought: the actor the device registered, the hub's address and trust, its
/// reply, the credential opened from it, and the device's key.
#[derive(Clone, Copy)]
pub(crate) struct Admission<'a> {
    pub(crate) actor: &'a str,
    pub(crate) hub: &'a HubAddress,
    pub(crate) enrolled: &'a EnrollResponse,
    pub(crate) credential: &'a str,
    pub(crate) device_key: &'a SecretKey,
}

/// Number series this device uses (official numbers, document numbers), JSON.
const SERIES: &str = "numbers.series";
/// Ask for a new block when fewer numbers than this are left.
const LOW_WATER: u64 = 5;

fn wire(kind: DocKind) -> WireKind {
    match kind {
        DocKind::Case => WireKind::Case,
        DocKind::Identity => WireKind::Identity,
        DocKind::Roster => WireKind::Roster,
        DocKind::Rules => WireKind::Rules,
        DocKind::Work => WireKind::Work,
    }
}

fn local(kind: WireKind) -> DocKind {
    match kind {
        WireKind::Case => DocKind::Case,
        WireKind::Identity => DocKind::Identity,
        WireKind::Roster => DocKind::Roster,
        WireKind::Rules => DocKind::Rules,
        WireKind::Work => DocKind::Work,
    }
}

/// Records whose whole documents are loaded side by side at a time.
const PRELOAD_RUN: usize = 64;
/// Loaded runs waiting for the writer, at most: with the one being loaded and the one being
/// written, ten runs' documents are in memory (a loaded document is many times its saved
/// size; a page is at most a few MiB saved). Deep enough that the loaders keep working while
/// the writer moves the earlier pages' search rows into the search index.
const PRELOAD_WAITING: usize = 8;

/// The whole documents among `records` loaded, aligned with them (`None` for the others).
fn preload(records: &[Record]) -> Vec<Option<Preloaded<'_>>> {
    let mut loaded =
        Store::preload(records.iter().filter_map(whole_document).collect()).into_iter();
    records.iter().map(|r| whole_document(r).and_then(|_| loaded.next())).collect()
}

/// The saved document an `enter` record carries whole, in one piece.
fn whole_document(record: &Record) -> Option<&[u8]> {
    match record {
        Record::Enter { offset: 0, total, bytes, .. } if bytes.len() as u64 == *total => {
            Some(bytes)
        }
        _ => None,
    }
}

/// The wire's cursor as the store keeps it.
pub(crate) fn position_of(cursor: &Cursor) -> SyncPosition {
    SyncPosition {
        seq: cursor.seq,
        bootstrap: cursor.bootstrap.as_ref().map(|b| BootstrapPosition {
            head: b.head,
            after: b.after.map(|(case, kind)| (CaseId(case), local(kind))),
        }),
        partial: cursor.partial.as_ref().map(|p| PartialPosition {
            case_id: CaseId(p.case_id),
            kind: local(p.kind),
            heads: p.heads.iter().map(Hash::to_hex).collect(),
            offset: p.offset,
        }),
    }
}

/// The stored position as the wire's cursor (the store checked every hash).
fn cursor_of(position: SyncPosition) -> Cursor {
    Cursor {
        seq: position.seq,
        bootstrap: position.bootstrap.map(|b| Bootstrap {
            head: b.head,
            after: b.after.map(|(case, kind)| (case.0, wire(kind))),
        }),
        partial: position.partial.map(|p| Partial {
            case_id: p.case_id.0,
            kind: wire(p.kind),
            heads: p.heads.iter().filter_map(|h| Hash::from_hex(h)).collect(),
            offset: p.offset,
        }),
    }
}

fn target_err(e: impl Into<OfficeError>) -> TargetError {
    let e = e.into();
    let kind = match e {
        OfficeError::Store(StoreError::BadSyncPosition(_)) => TargetErrorKind::SyncPositionDamaged,
        OfficeError::Sync(ledger_client::ClientError::Decode(_)) => TargetErrorKind::Unreadable,
        _ => TargetErrorKind::Local,
    };
    TargetError { kind, message: e.to_string() }
}

impl Office {
    /// The sync bookkeeping (what sync keeps besides the case documents), through its trait:
    /// the trait and its conformance suite, not SQLite, are what this module relies on.
    fn book(&self) -> &dyn SyncBook {
        &self.store
    }

    fn meta_json<T: DeserializeOwned + Default>(&self, key: &str) -> Result<T> {
        // A damaged value stops the sync with the reason rather than reading as empty; one of
        // the sync's own lists is part of its position, which a restart mends.
        Ok(match self.store.meta(key)? {
            Some(json) => serde_json::from_str(&json).map_err(|e| {
                if SYNC_LISTS.contains(&key) {
                    StoreError::BadSyncPosition(format!("{key}: {e}"))
                } else {
                    StoreError::from(e)
                }
            })?,
            None => T::default(),
        })
    }

    fn meta_pairs(&self, pairs: &[(&str, String)]) -> Result<()> {
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.store.set_meta(&refs)?;
        Ok(())
    }

    fn to_json<T: Serialize>(value: &T) -> String {
        serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
    }

    /// A fresh Automerge actor (hex) for a device about to enroll; the store created after
    /// enrollment uses it.
    pub fn new_actor() -> String {
        ledger_domain::automerge::ActorId::random().to_hex_string()
    }

    /// A new device key (32 bytes from the operating system's random source).
    pub(crate) fn new_device_key() -> Result<SecretKey> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)
            .map_err(|e| OfficeError::Refused(format!("无法生成设备密钥：{e}")))?;
        Ok(SecretKey::from_seed(seed))
    }

    /// A store enrolled before device keys gets one now; it goes to the hub with the next
    /// sync (the hub registers it, since it has none for the device).
    pub(crate) fn ensure_device_key(&self) -> Result<()> {
        if self.store.meta(CREDENTIAL)?.is_none() || self.store.meta(DEVICE_KEY)?.is_some() {
            return Ok(());
        }
        let key = Self::new_device_key()?;
        self.meta_pairs(&[(DEVICE_KEY, key.to_hex())])?;
        tracing::info!("device key made; it is registered at the hub with the next sync");
        Ok(())
    }

    /// Creates the store of a device the hub has just enrolled, bound to that hub, holding the
    /// credential (opened from the hub's sealed reply) and the device's key.
    pub(crate) fn init_enrolled(
        dir: &Path,
        admission: &Admission<'_>,
        staff: Vec<String>,
        key: Option<ledger_store::StoreKey>,
        clock: Clock,
    ) -> Result<Self> {
        let Admission { actor, hub, enrolled, credential, device_key } = *admission;
        let role =
            ledger_domain::Role::parse(&enrolled.role).unwrap_or(ledger_domain::Role::Township);
        let mut config = OfficeConfig::new(&enrolled.office, &enrolled.name, role);
        config.townships = enrolled.townships.clone();
        config.device = enrolled.device_letter.clone();
        config.staff = staff;
        let store = Store::create_keyed(dir, Some(actor), key)?;
        let office = Self::adopt(store, config, clock)?;
        office.meta_pairs(&[
            (HUB, hub.url.trim().trim_end_matches('/').to_owned()),
            (CREDENTIAL, credential.to_owned()),
            (DEVICE, enrolled.device_id.clone()),
            (PLAIN_HTTP, if hub.allow_plain { "1" } else { "0" }.to_owned()),
            (DEVICE_KEY, device_key.to_hex()),
            (HUB_KEY, enrolled.hub_key.clone()),
            (KEY_REGISTERED, "1".to_owned()),
        ])?;
        if let Some(ca) = &hub.ca_pem {
            office.meta_pairs(&[(HUB_CA, ca.clone())])?;
        }
        if let Some(directory) = &enrolled.directory {
            office.meta_pairs(&[(DIRECTORY, Self::to_json(directory))])?;
        }
        if !enrolled.roster.is_empty() {
            // The roster goes up before anything signed by the staff on it.
            office.store.merge_remote(office.roster_key(), DocKind::Roster, &enrolled.roster)?;
            office.reconcile_roster()?;
        }
        Ok(office)
    }

    /// The county directory (offices, their names and townships; the county's townships), as
    /// last received from the hub; `None` for a store of this computer only or before the first
    /// sync with an older hub.
    pub fn directory(&self) -> Result<Option<ledger_protocol::Directory>> {
        let Some(json) = self.store.meta(DIRECTORY)? else { return Ok(None) };
        serde_json::from_str(&json).map(Some).map_err(|e| {
            OfficeError::Damaged(format!(
                "本机保存的县级名录已损坏（{e}）：同步一次即可从县局重新取回"
            ))
        })
    }

    /// The hub this office syncs with, if enrolled.
    pub fn hub_url(&self) -> Result<Option<String>> {
        Ok(self.store.meta(HUB)?)
    }

    /// The sync status as last recorded.
    pub fn sync_status(&self) -> Result<SyncStatus> {
        let mut status: SyncStatus = self.meta_json(STATUS)?;
        status.pending = self.book().outbox_len()?;
        status.quarantined = self.book().quarantined()?.len() as u64;
        status.unresolved = self.sync_problems()?.len() as u64;
        Ok(status)
    }

    /// Changes the hub refused, for the sync screen.
    pub fn quarantine(&self) -> Result<Vec<ledger_store::QuarantinedChange>> {
        Ok(self.book().quarantined()?)
    }

    /// Puts a case's refused changes back in the queue (after the cause was fixed at the hub).
    pub fn retry_quarantined(&self, id: CaseId) -> Result<u64> {
        Ok(self.book().release_quarantine(id)?)
    }

    /// The office's place in the hub's log. A damaged one is reported (the sync stops with
    /// the reason), never read as zero; [`Office::restart_sync`] is the deliberate way back.
    pub(crate) fn cursor(&self) -> Result<Cursor> {
        if let Some(position) = self.book().sync_position()? {
            return Ok(cursor_of(position));
        }
        // Kept as JSON by the release before the typed row.
        match self.store.meta(LEGACY_META_KEY)? {
            None => Ok(Cursor::default()),
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| StoreError::BadSyncPosition(e.to_string()).into()),
        }
    }

    /// Forgets this office's place in the hub's log, so the next sync reads it again from the
    /// beginning: the way back from a damaged sync position. Every case the hub sends merges
    /// with the one here; nothing local is lost, and changes not yet sent stay queued.
    pub fn restart_sync(&self) -> Result<()> {
        self.book().clear_sync_position()?;
        // A list that no longer reads as what it holds is rebuilt: cases still leaving from
        // the 已转交 marks (so they are deleted once their changes are up), the others empty
        // (what they held is asked for again by the restart: cases to fetch whole,
        // attachments; evictions are confirmed again when the hub sends the leave again).
        let mut rebuilt: Vec<(&str, String)> = Vec::new();
        let unreadable = |key: &str, reads: fn(&str) -> bool| -> Result<bool> {
            Ok(self.store.meta(key)?.is_some_and(|json| !reads(&json)))
        };
        fn cases(json: &str) -> bool {
            serde_json::from_str::<Vec<CaseId>>(json).is_ok()
        }
        for key in [WANT_WHOLE, EVICTED, RESET] {
            if unreadable(key, cases)? {
                rebuilt.push((key, "[]".to_owned()));
            }
        }
        if unreadable(LEAVING, cases)? {
            rebuilt.push((LEAVING, Self::to_json(&self.store.handed_over_cases()?)));
        }
        if unreadable(NEED_BLOBS, |j| serde_json::from_str::<Vec<BlobWant>>(j).is_ok())? {
            rebuilt.push((NEED_BLOBS, "[]".to_owned()));
        }
        if unreadable(WANT_BLOBS, |j| serde_json::from_str::<Vec<String>>(j).is_ok())? {
            rebuilt.push((WANT_BLOBS, "[]".to_owned()));
        }
        if unreadable(RECOVERED, |j| serde_json::from_str::<RecoveryReport>(j).is_ok())? {
            rebuilt.push((RECOVERED, Self::to_json(&RecoveryReport::default())));
        }
        if !rebuilt.is_empty() {
            let keys: Vec<&str> = rebuilt.iter().map(|(k, _)| *k).collect();
            tracing::warn!(lists = ?keys, "damaged sync lists rebuilt");
            self.meta_pairs(&rebuilt)?;
        }
        tracing::warn!("sync position cleared; the next sync starts from the beginning");
        Ok(())
    }

    /// Attachments cited by `case` that are not here yet.
    fn missing_attachments(&self, id: CaseId) -> Result<Vec<String>> {
        Ok(self.store.missing_blobs(id)?)
    }

    /// The roster document's id for this office.
    pub(crate) fn roster_key(&self) -> CaseId {
        CaseId(roster_id(&self.cfg().code))
    }

    /// Whether this device has received its office's roster from the hub. Until it has, no
    /// event goes up: the hub judges every event's 办理人 against that roster, which this
    /// device first brings up to date with its staff list (roster changes always go up first).
    fn roster_ready(&self) -> Result<bool> {
        Ok(self.store.has_doc(self.roster_key(), DocKind::Roster)?)
    }

    /// Adds to the roster the hub created every member of this device's staff list it lacks.
    /// Only adds: another device of the office may have members this one does not list, and
    /// leaving is recorded only when a member is removed here ([`Office::update_config`]).
    pub(crate) fn reconcile_roster(&self) -> Result<()> {
        self.update_roster(&[])
    }

    /// Adds missing members, and records that `left` have left the office.
    pub(crate) fn update_roster(&self, left: &[String]) -> Result<()> {
        let id = self.roster_key();
        if !self.store.has_doc(id, DocKind::Roster)? {
            return Ok(());
        }
        let Ok(roster) = self.store.with_doc(id, DocKind::Roster, schema::read_roster)? else {
            return Ok(());
        };
        let staff = self.cfg().staff.clone();
        let add: Vec<&String> = staff.iter().filter(|s| !roster.has_current(s)).collect();
        let gone: Vec<String> = roster
            .staff
            .iter()
            .filter(|e| e.left.is_none() && left.contains(&e.name) && !staff.contains(&e.name))
            .map(|e| e.name.clone())
            .collect();
        if add.is_empty() && gone.is_empty() {
            return Ok(());
        }
        let today = self.today();
        self.store.edit(id, DocKind::Roster, |tx| {
            for name in &add {
                schema::add_staff(tx, name, today)?;
            }
            for name in &gone {
                schema::staff_left(tx, name, today)?;
            }
            Ok(())
        })?;
        tracing::info!(added = add.len(), left = gone.len(), "staff roster updated");
        Ok(())
    }

    /// Number series whose leased blocks run low (the bureau's official numbers always; in
    /// December next year's too).
    fn lease_wants(&self) -> Result<Vec<LeaseWant>> {
        let mut series: Vec<String> = self.meta_json(SERIES)?;
        if self.is_bureau() {
            let today = self.today();
            let year = chrono::Datelike::year(&today);
            series.push(format!("official:{year}"));
            if chrono::Datelike::month(&today) == 12 {
                series.push(format!("official:{}", year + 1));
            }
        }
        series.sort();
        series.dedup();
        let mut wants = Vec::new();
        for s in series {
            if self.book().numbers_left(&s)? < LOW_WATER {
                wants.push(LeaseWant { used: self.book().counter_value(&s)?, series: s });
            }
        }
        wants.truncate(MAX_LIST);
        Ok(wants)
    }

    /// The next number of a series: from the blocks the hub leased this device when it is
    /// enrolled; else (a store for this computer only) from the local counter. `None` when an
    /// enrolled device has no leased number left (offline since before its first sync, or past
    /// its block): the caller numbers with its device letter instead, which never collides.
    pub(crate) fn leased_number(&self, series: &str) -> Result<Option<u64>> {
        if self.store.meta(CREDENTIAL)?.is_none() {
            return Ok(Some(self.book().reserve_counter(series, 1)?));
        }
        let mut known: Vec<String> = self.meta_json(SERIES)?;
        if !known.iter().any(|s| s == series) {
            known.push(series.to_owned());
            self.meta_pairs(&[(SERIES, Self::to_json(&known))])?;
        }
        Ok(self.book().take_number(series)?)
    }

    /// Asks for `cases` whole, to replace them with the hub's copy on arrival.
    pub(crate) fn mark_for_reset(&self, cases: &BTreeSet<CaseId>) -> Result<()> {
        let mut reset: BTreeSet<CaseId> =
            self.meta_json::<Vec<CaseId>>(RESET)?.into_iter().collect();
        reset.extend(cases.iter().copied());
        let mut want: BTreeSet<CaseId> =
            self.meta_json::<Vec<CaseId>>(WANT_WHOLE)?.into_iter().collect();
        want.extend(cases.iter().copied());
        self.meta_pairs(&[
            (RESET, Self::to_json(&reset.iter().collect::<Vec<_>>())),
            (WANT_WHOLE, Self::to_json(&want.iter().collect::<Vec<_>>())),
            (RECOVERED, Self::to_json(&RecoveryReport::default())),
        ])
    }

    /// What the last recovery did so far.
    pub(crate) fn recovery_report(&self) -> Result<RecoveryReport> {
        self.meta_json(RECOVERED)
    }

    pub(crate) fn clear_recovery_report(&self) -> Result<()> {
        self.meta_pairs(&[(RECOVERED, Self::to_json(&RecoveryReport::default()))])
    }

    /// Has the next pass compare every document with the hub's ([`Office::last_repair`] then
    /// tells what it found).
    pub(crate) fn ask_for_repair(&self) -> Result<()> {
        self.meta_pairs(&[(REPAIR, "1".to_owned()), (REPAIRED, Self::to_json(&None::<()>))])
    }

    /// What the repair asked for last found, once it has run.
    pub(crate) fn last_repair(&self) -> Result<Option<RepairReport>> {
        self.meta_json(REPAIRED)
    }

    /// Identity drops waiting for the hub, as sent.
    fn drops(&self) -> Result<Vec<IdentityDrop>> {
        let mut out = Vec::new();
        for d in self.book().pending_drops(MAX_LIST)? {
            let (Ok(id), Ok(persons)) =
                (d.id.parse::<uuid::Uuid>(), serde_json::from_str::<Vec<DropPerson>>(&d.persons))
            else {
                tracing::error!(drop = %d.id, "an identity drop here does not parse; kept");
                continue;
            };
            out.push(IdentityDrop { id, case_id: d.case_id.0, persons });
        }
        Ok(out)
    }

    fn prepare_request(&self, budget: u32) -> Result<SyncRequest> {
        let budget = budget.max(MIN_BATCH_BYTES);
        // Never more changes than the hub takes in one request: small edits at a grown budget
        // would pass it, and the hub refuses the whole request.
        let mut outbox = self.book().outbox_batch(budget as usize, MAX_CHANGES)?;
        if !self.roster_ready()? {
            outbox.retain(|e| e.kind == DocKind::Roster);
        }
        let changes: Vec<UpChange> = outbox
            .into_iter()
            .filter_map(|e| {
                Some(UpChange {
                    case_id: e.case_id.0,
                    kind: wire(e.kind),
                    hash: Hash::from_hex(&e.hash)?,
                    bytes: e.bytes,
                })
            })
            .collect();
        let sent: usize = changes.iter().map(|c| c.bytes.len()).sum();
        let mut room = (budget as usize).saturating_sub(sent);
        let need: Vec<BlobWant> = self.meta_json(NEED_BLOBS)?;
        let mut blobs = Vec::new();
        for want in need {
            if room == 0 {
                break;
            }
            let Some(bytes) = self.book().blob(&want.hash)? else { continue };
            let start = usize::try_from(want.offset).unwrap_or(usize::MAX).min(bytes.len());
            let end = (start + room.max(MIN_BATCH_BYTES as usize)).min(bytes.len());
            room = room.saturating_sub(end - start);
            blobs.push(BlobChunk {
                hash: want.hash,
                offset: start as u64,
                total: bytes.len() as u64,
                bytes: bytes[start..end].to_vec(),
            });
        }
        let want_blobs: Vec<String> = self.meta_json(WANT_BLOBS)?;
        let mut wants = Vec::new();
        for hash in want_blobs {
            let offset = self.book().blob_staged(&hash)?;
            wants.push(BlobWant { hash, offset });
        }
        let status: SyncStatus = self.meta_json(STATUS)?;
        let pending = self.book().outbox_len()?.saturating_sub(changes.len() as u64);
        let device_key = if self.store.meta(KEY_REGISTERED)?.as_deref() == Some("1") {
            None
        } else {
            match self.store.meta(DEVICE_KEY)? {
                Some(hex) => Some(
                    SecretKey::from_hex(&hex)
                        .map_err(|e| OfficeError::Refused(format!("本机设备密钥有误：{e}")))?
                        .public()
                        .to_hex(),
                ),
                None => None,
            }
        };
        Ok(SyncRequest {
            device_key,
            cursor: self.cursor()?,
            changes,
            page_bytes: budget,
            want_whole: self
                .meta_json::<Vec<CaseId>>(WANT_WHOLE)?
                .into_iter()
                .map(|c| c.0)
                .collect(),
            evicted: self.meta_json::<Vec<CaseId>>(EVICTED)?.into_iter().map(|c| c.0).collect(),
            blob_offers: self.book().unsent_blobs(32)?,
            blobs,
            want_blobs: wants,
            device_time: self.now(),
            pending,
            last_error: status.last_error,
            actor: Some(self.actor_hex()),
            drops: self.drops()?,
            want_leases: self.lease_wants()?,
            // A damaged copy goes without a version, so the hub sends the directory again.
            directory_version: self.directory().ok().flatten().map(|d| d.version),
        })
    }

    /// Applies a page in one store transaction: its records, what it acknowledged and the
    /// cursor after it are saved together or not at all.
    fn apply_response(&self, request: &SyncRequest, response: &SyncResponse) -> Result<Applied> {
        self.store.batch_replayable(|| self.apply_page(request, response))
    }

    fn apply_page(&self, request: &SyncRequest, response: &SyncResponse) -> Result<Applied> {
        self.apply_acks(request, response)?;
        let mut page = PageState::load(self, request)?;
        self.apply_records(&response.records, &mut page)?;
        for (id, _) in self.store.take_unreadable()? {
            let line = format!(
                "案件 {} 从县局收到的记录本机无法读取，台账暂不显示其更新；请联系县局核对该案件",
                self.case_label(id)
            );
            page.problems.push_once(line);
        }
        self.book().record_receipts(&page.receipts)?;
        self.reconcile_roster()?;

        let flow = Flow::of(request, response);
        // Cases still missing dependencies are asked for whole; the cursor waits for them.
        let mut want_whole =
            page::keep_wanted(self.meta_json::<BTreeSet<CaseId>>(WANT_WHOLE)?, &flow);
        for id in page.touched.iter().chain(want_whole.clone().iter()) {
            if self.misses_dependencies(*id, &page.docs)? {
                want_whole.insert(*id);
            } else {
                want_whole.remove(id);
            }
        }
        let newly_wanted = self.want_attachments(&mut page)?;
        let (still_leaving, newly_evicted) = self.settle_leaving(&mut page)?;
        let resets = page::settle_resets(&page.resets, &flow);
        for id in &resets.absent {
            page.recovered.unrecoverable.push(format!(
                "案件 {} 在县局没有记录（其登记被拒收）；本机的记录保留，请核对后重新登记",
                self.case_label(*id)
            ));
        }
        want_whole.extend(resets.waiting.iter().copied());

        let mut pairs = vec![
            (WANT_WHOLE, Self::to_json(&want_whole)),
            (LEAVING, Self::to_json(&still_leaving)),
            (EVICTED, Self::to_json(&page.evicted)),
            (NEED_BLOBS, Self::to_json(&response.need_blobs)),
            (WANT_BLOBS, Self::to_json(&page.want_blobs)),
            (RESET, Self::to_json(&resets.waiting)),
            (RECOVERED, Self::to_json(&page.recovered)),
        ];
        pairs.extend(page.problems.pairs());
        if page::cursor_moves(&self.cursor()?, &response.cursor, !want_whole.is_empty()) {
            self.book().set_sync_position(&position_of(&response.cursor))?;
        }
        if page::stuck(&want_whole, &flow, &page.resets) {
            pairs.push((REPAIR, "1".to_owned()));
        }
        self.meta_pairs(&pairs)?;

        let uploaded = request.changes.iter().filter(|c| response.acked.contains(&c.hash)).count();
        let leftovers = page::Leftovers {
            want_whole: !want_whole.is_empty(),
            more_drops: !response.acked_drops.is_empty()
                && !self.book().pending_drops(1)?.is_empty(),
            roster_pending: self.book().outbox_len_of_kind(DocKind::Roster)? > 0,
            newly_evicted,
            hub_needs_blobs: !response.need_blobs.is_empty(),
            want_blobs: !page.want_blobs.is_empty(),
            blob_progress: page.blob_progress || newly_wanted,
            leaving: !still_leaving.is_empty(),
            uploaded: uploaded > 0,
        };
        let wants_more = page::wants_more(leftovers);
        if !response.more {
            // The hub has sent all it has: the search rows the pages left wait no longer (even
            // if this pass goes on for attachments or a case to fetch whole).
            self.store.catch_up_search()?;
        }
        Ok(Applied {
            uploaded,
            downloaded: response.records.len(),
            outbox_left: self.book().outbox_len()?,
            wants_more,
        })
    }

    /// What the page says about what this device sent: its key registered, changes and drops
    /// acknowledged or refused, number blocks, the directory, attachments the hub holds.
    fn apply_acks(&self, request: &SyncRequest, response: &SyncResponse) -> Result<()> {
        if request.device_key.is_some()
            && let Some(hub_key) = &response.hub_key
            && PublicKey::from_hex(hub_key).is_ok()
        {
            self.meta_pairs(&[(HUB_KEY, hub_key.clone()), (KEY_REGISTERED, "1".to_owned())])?;
        }
        let acked: Vec<String> = response.acked.iter().map(Hash::to_hex).collect();
        self.book().acknowledge(&acked)?;
        if !response.refused.is_empty() {
            self.quarantine_refused(&response.refused)?;
        }
        let merged: Vec<String> = response.acked_drops.iter().map(uuid::Uuid::to_string).collect();
        self.book().ack_drops(&merged)?;
        for (id, reason) in &response.refused_drops {
            self.book().refuse_drop(&id.to_string(), reason)?;
        }
        let blocks: Vec<(String, u64, u64)> =
            response.leases.iter().map(|l| (l.series.clone(), l.start, l.end)).collect();
        self.book().add_number_blocks(&blocks)?;
        if let Some(directory) = &response.directory {
            self.meta_pairs(&[(DIRECTORY, Self::to_json(directory))])?;
        }
        // Attachments offered and not asked for are at the hub; asked-for ones go up next time.
        let needed: BTreeSet<&str> = response.need_blobs.iter().map(|w| w.hash.as_str()).collect();
        let held: Vec<String> =
            request.blob_offers.iter().filter(|h| !needed.contains(h.as_str())).cloned().collect();
        self.book().mark_blobs_sent(&held)?;
        Ok(())
    }

    /// Applies a page's records in order. The next runs' whole documents are loaded on
    /// another thread meanwhile ([`PRELOAD_WAITING`] runs ahead at most), so loading overlaps
    /// the writes; and while the first runs load, the search rows the pull's earlier pages
    /// left waiting go into the search index, instead of all of them after the last page with
    /// the other core idle (a 20,000-case pull: 2.5 of its 9 seconds).
    fn apply_records(&self, records: &[Record], page: &mut PageState) -> Result<()> {
        if !records.iter().any(|r| whole_document(r).is_some()) {
            return self.apply_records_here(records, page);
        }
        std::thread::scope(|scope| {
            let (ahead, loaded_runs) = std::sync::mpsc::sync_channel(PRELOAD_WAITING);
            let loader = move || {
                for run in records.chunks(PRELOAD_RUN) {
                    // A send fails once the writer stopped (a record failed): nothing to load.
                    if ahead.send((run, preload(run))).is_err() {
                        break;
                    }
                }
            };
            let thread = std::thread::Builder::new().name("page-preload".into());
            let loading = match thread.spawn_scoped(scope, loader) {
                Ok(loading) => loading,
                Err(e) => {
                    // The closure (and the channel's sender) is gone with the error: load here.
                    tracing::warn!(error = %e, "no thread to load a page's documents ahead");
                    return self.apply_records_here(records, page);
                }
            };
            self.store.catch_up_search()?;
            for (run, loaded) in loaded_runs {
                for (record, loaded) in run.iter().zip(loaded) {
                    self.apply_record(record, page, loaded)?;
                }
            }
            // The runs stop early only if the loader panicked: the page must not commit
            // half-applied, and the panic goes on as it would have on this thread.
            if let Err(panic) = loading.join() {
                std::panic::resume_unwind(panic);
            }
            Ok(())
        })
    }

    /// [`Office::apply_records`] on this thread alone: each run's documents loaded, then written.
    fn apply_records_here(&self, records: &[Record], page: &mut PageState) -> Result<()> {
        for run in records.chunks(PRELOAD_RUN) {
            for (record, loaded) in run.iter().zip(preload(run)) {
                self.apply_record(record, page, loaded)?;
            }
        }
        Ok(())
    }

    /// Applies one record of the page.
    /// `loaded` is the record's document if it carries one whole ([`preload`]).
    fn apply_record(
        &self,
        record: &Record,
        page: &mut PageState,
        loaded: Option<Preloaded<'_>>,
    ) -> Result<()> {
        match record {
            Record::Change { case_id, kind, received_at, bytes, .. } => {
                let id = CaseId(*case_id);
                let result = match self.store.apply_remote(id, local(*kind), vec![bytes.clone()]) {
                    Ok(result) => result,
                    Err(e @ StoreError::BadChange { .. }) => {
                        self.skip_unreadable(page, id, "一条更改", &e);
                        return Ok(());
                    }
                    Err(e) => return Err(e.into()),
                };
                page.docs.note(id, local(*kind), &result);
                for hash in &result.received {
                    page.receipts.push((hash.to_string(), *received_at, id));
                }
                if *kind != WireKind::Roster {
                    page.touched.insert(id);
                }
            }
            Record::Enter { case_id, kind, offset, total, bytes } => {
                let id = CaseId(*case_id);
                if let Some(loaded) = loaded {
                    self.apply_enter(id, local(*kind), loaded, page)?;
                } else if let Some(saved) =
                    self.book().stage_piece(id, local(*kind), *offset, *total, bytes)?
                {
                    self.apply_enter(id, local(*kind), Preloaded::load(&saved), page)?;
                }
            }
            Record::Leave { case_id, kind: Some(kind) } => {
                // Only one document leaves: the identity of a case that became restricted.
                let id = CaseId(*case_id);
                if self.store.has_doc(id, local(*kind))? {
                    self.store.delete_doc(id, local(*kind))?;
                    page.docs.forget(id, local(*kind));
                    tracing::info!(case = %id, "identity document left this office (restricted)");
                }
            }
            Record::Leave { case_id, kind: None } => {
                let id = CaseId(*case_id);
                if self.store.row(id)?.is_some() && !page.leaving.contains(&id) {
                    self.store.set_handed_over(id, true)?;
                    page.leaving.push(id);
                }
            }
            Record::Blob(chunk) => {
                page.blob_progress = true;
                if self.book().stage_blob_piece(
                    &chunk.hash,
                    chunk.offset,
                    chunk.total,
                    &chunk.bytes,
                )? {
                    page.want_blobs.retain(|h| *h != chunk.hash);
                }
            }
        }
        Ok(())
    }

    /// A whole document from the hub: merged, or (for a case under recovery) put in place of
    /// the local one. One that does not load is refused alone; the page goes on, and the
    /// recovery report says so.
    fn apply_enter(
        &self,
        id: CaseId,
        kind: DocKind,
        loaded: Preloaded<'_>,
        page: &mut PageState,
    ) -> Result<()> {
        if page.resets.contains(&id) {
            self.reset_doc(id, kind, loaded.saved(), &mut page.recovered)?;
            page.docs.forget(id, kind);
        } else {
            match self.store.merge_preloaded(id, kind, loaded) {
                Ok(result) => page.docs.note(id, kind, &result),
                Err(e @ StoreError::Unloadable { .. }) => {
                    self.skip_unreadable(page, id, "数据", &e);
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            }
        }
        if kind != DocKind::Roster {
            page.touched.insert(id);
        }
        if page.leaving.contains(&id) {
            // The case came back before it was deleted here.
            page.leaving.retain(|c| *c != id);
            self.store.set_handed_over(id, false)?;
        }
        Ok(())
    }

    /// Something the hub sent for a case does not read here: it is refused alone, logged, and
    /// named for a person ([`Office::sync_problems`]: the sync screen shows it until looked
    /// at); the page goes on.
    fn skip_unreadable(&self, page: &mut PageState, id: CaseId, what: &str, error: &StoreError) {
        tracing::error!(case = %id, what, error = %error, "something from the hub does not read; skipped");
        page.problems.push(format!(
            "案件 {} 从县局收到的{what}无法读取，已跳过；请联系县局核对该案件",
            self.case_label(id)
        ));
    }

    /// Attachments the page's cases cite and this office lacks join the wanted list; whether
    /// any was new.
    fn want_attachments(&self, page: &mut PageState) -> Result<bool> {
        let mut newly_wanted = false;
        for id in &page.touched {
            for hash in self.missing_attachments(*id)? {
                if !page.want_blobs.contains(&hash) {
                    page.want_blobs.push(hash);
                    newly_wanted = true;
                }
            }
        }
        Ok(newly_wanted)
    }

    /// Cases that left: deleted once nothing of theirs waits to go up (demo data at once:
    /// work on it, refused by the hub once purged, is worth nothing). Returns the cases still
    /// leaving and whether any was deleted now.
    fn settle_leaving(&self, page: &mut PageState) -> Result<(Vec<CaseId>, bool)> {
        let mut newly_evicted = false;
        let mut still_leaving = Vec::new();
        for id in std::mem::take(&mut page.leaving) {
            let demo = self.store.row(id)?.is_some_and(|r| r.demo);
            if demo || self.book().outbox_for_case(id)? == 0 {
                self.store.delete_case(id)?;
                page.evicted.push(id);
                newly_evicted = true;
                tracing::info!(case = %id, "case left this office and was deleted");
            } else {
                still_leaving.push(id);
            }
        }
        Ok((still_leaving, newly_evicted))
    }

    /// Whether a document of the case still waits for changes it depends on: what this page
    /// applied says so itself, the store is asked about the rest.
    fn misses_dependencies(&self, id: CaseId, applied: &PageDocs) -> Result<bool> {
        let kinds: &[DocKind] = if id.0 == rules_id() {
            &[DocKind::Case, DocKind::Identity, DocKind::Rules]
        } else if is_work_id(&id.0) {
            &[DocKind::Work]
        } else {
            &[DocKind::Case, DocKind::Identity]
        };
        for kind in kinds {
            let missing = match applied.missing(id, *kind) {
                Some(missing) => missing,
                None => self.store.missing_deps(id, *kind)?,
            };
            if missing {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn quarantine_refused(&self, refused: &[Refused]) -> Result<()> {
        let pairs: Vec<(String, String)> =
            refused.iter().map(|r| (r.hash.clone(), r.reason.clone())).collect();
        self.book().quarantine(&pairs)?;
        let mut want: BTreeSet<CaseId> =
            self.meta_json::<Vec<CaseId>>(WANT_WHOLE)?.into_iter().collect();
        want.extend(refused.iter().map(|r| CaseId(r.case_id)));
        self.meta_pairs(&[(WANT_WHOLE, Self::to_json(&want.iter().collect::<Vec<_>>()))])
    }
}

/// What importing a return bundle did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BundleReport {
    /// Local changes the hub acknowledged.
    pub acknowledged: usize,
    /// Records applied.
    pub records: usize,
    /// Changes the hub refused (quarantined).
    pub refused: usize,
}

impl Office {
    fn bundle_device(&self) -> Result<String> {
        self.store.meta(DEVICE)?.ok_or_else(|| {
            OfficeError::Refused("本机尚未接入县局，不能导出或导入同步包".to_owned())
        })
    }

    /// 24 random bytes for a bundle body's encryption.
    fn nonce() -> Result<[u8; 24]> {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce)
            .map_err(|e| OfficeError::Refused(format!("无法取得随机数：{e}")))?;
        Ok(nonce)
    }

    /// This device's private key, which signs the bundles it writes.
    fn signing_key(&self) -> Result<SecretKey> {
        let hex = self.store.meta(DEVICE_KEY)?.ok_or_else(|| {
            OfficeError::Refused("本机没有设备密钥，不能导出同步包：请先联网同步一次".to_owned())
        })?;
        SecretKey::from_hex(&hex)
            .map_err(|e| OfficeError::Refused(format!("本机设备密钥有误：{e}")))
    }

    /// The hub's public key, which return bundles are checked with.
    fn hub_public_key(&self) -> Result<PublicKey> {
        let registered = self.store.meta(KEY_REGISTERED)?.as_deref() == Some("1");
        let hex = self.store.meta(HUB_KEY)?.filter(|_| registered).ok_or_else(|| {
            OfficeError::Refused(
                "本机还没有取得县局的公钥，不能导入同步包：请先联网同步一次（本机在启用设备密钥前接入）"
                    .to_owned(),
            )
        })?;
        PublicKey::from_hex(&hex)
            .map_err(|e| OfficeError::Refused(format!("保存的县局公钥有误：{e}")))
    }

    /// Writes every unacknowledged change (and attachments the hub may lack) to a signed,
    /// compressed bundle for carrying to the hub on a USB stick. Returns the changes written.
    pub fn export_bundle(&self, path: &Path) -> Result<usize> {
        // A bundle holds what the hub can read in one body: what does not fit goes with the
        // next bundle.
        const BUNDLE_BYTES: usize = 12 * 1024 * 1024;
        let device = self.bundle_device()?;
        let key = self.signing_key()?;
        // The hub checks this bundle with the key it registered; an unregistered one (a device
        // enrolled before keys) cannot be checked, so it must sync once first.
        if self.store.meta(KEY_REGISTERED)?.as_deref() != Some("1") {
            return Err(OfficeError::Refused(
                "县局还没有登记本机的设备密钥，不能导出同步包：请先联网同步一次".to_owned(),
            ));
        }
        let mut request = self.prepare_request(BUNDLE_BYTES as u32)?;
        let mut room =
            BUNDLE_BYTES.saturating_sub(request.changes.iter().map(|c| c.bytes.len()).sum());
        for hash in self.book().unsent_blobs(MAX_LIST)? {
            if let Some(bytes) = self.book().blob(&hash)?
                && bytes.len() <= room
            {
                room -= bytes.len();
                request.blobs.push(BlobChunk { hash, offset: 0, total: bytes.len() as u64, bytes });
            }
        }
        request.blob_offers.clear();
        request.page_bytes = ledger_protocol::DEFAULT_BATCH_BYTES;
        let n = request.changes.len();
        // Only this device and the hub can read what the stick carries.
        let body = key.shared_with(&self.hub_public_key()?).encrypt(
            Self::nonce()?,
            &ledger_protocol::encode(&request)
                .map_err(|e| OfficeError::Refused(format!("无法写出同步包：{e}")))?,
        );
        let bundle = ledger_protocol::bundle::Bundle {
            kind: ledger_protocol::bundle::BundleKind::Up,
            device_id: device,
            created_at: self.now(),
            body,
        };
        ledger_store::private::write_file(path, &ledger_protocol::bundle::write(&bundle, &key))
            .map_err(|e| OfficeError::BadFile(format!("无法写入 {}：{e}", path.display())))?;
        Ok(n)
    }

    /// Applies a return bundle from the hub. Importing it twice changes nothing, and an older
    /// one never moves the cursor back.
    pub fn import_bundle(&self, path: &Path) -> Result<BundleReport> {
        let device = self.bundle_device()?;
        let key = self.hub_public_key()?;
        let bytes = std::fs::read(path)
            .map_err(|e| OfficeError::BadFile(format!("无法读取 {}：{e}", path.display())))?;
        let bundle = ledger_protocol::bundle::verify(&bytes, &key)
            .map_err(|e| OfficeError::BadFile(e.to_string()))?;
        if bundle.kind != ledger_protocol::bundle::BundleKind::Return {
            return Err(OfficeError::BadFile(
                "这是本机导出的同步包，应交县局导入；请导入县局返回的同步包".to_owned(),
            ));
        }
        if bundle.device_id != device {
            return Err(OfficeError::BadFile("这个同步包是县局为另一台设备生成的".to_owned()));
        }
        let plain = self
            .signing_key()?
            .shared_with(&key)
            .decrypt(&bundle.body)
            .map_err(|e| OfficeError::BadFile(format!("同步包内容无法解密：{e}")))?;
        let body: ledger_protocol::bundle::ReturnBody = ledger_protocol::decode(&plain)
            .map_err(|e| OfficeError::BadFile(format!("同步包内容无法解析：{e}")))?;
        if !body.refused.is_empty() {
            self.quarantine_refused(&body.refused)?;
        }
        let applied = self.apply_response(&SyncRequest::default(), &body.response)?;
        Ok(BundleReport {
            acknowledged: body.response.acked.len(),
            records: applied.downloaded,
            refused: body.refused.len(),
        })
    }

    fn repair_message(
        &self,
        case: CaseId,
        kind: DocKind,
        state: &mut Vec<u8>,
        incoming: Option<&[u8]>,
    ) -> Result<Option<Vec<u8>>> {
        use ledger_domain::automerge::ReadDoc;
        use ledger_domain::automerge::sync::{Message, State, SyncDoc};
        let bad = |e: String| OfficeError::BadFile(format!("修复同步出错：{e}"));
        let carried = RepairState::decode(state).map_err(|e| bad(e.to_owned()))?;
        let mut sync_state = if carried.sync.is_empty() {
            State::new()
        } else {
            State::decode(&carried.sync).map_err(|e| bad(e.to_string()))?
        };
        // Work on a copy that also holds the hub's changes still waiting for a dependency, so
        // that Automerge asks for that dependency by hash: the stateless hub judges by a Bloom
        // filter of this office's changes, and a false positive there is never sent unasked.
        let mut copy = self.store.with_doc(case, kind, Clone::clone)?;
        let before = copy.get_heads();
        let mut waiting = carried.waiting().map_err(|e| bad(e.to_string()))?;
        copy.apply_changes(waiting.values().cloned()).map_err(|e| bad(e.to_string()))?;
        let mut settled = false;
        if let Some(bytes) = incoming {
            // The hub's bytes go through Automerge on a copy: whatever they do, even a panic
            // inside it, ends as this step's error and the stored document is untouched.
            settled = ledger_store::guarded(|| {
                let message = Message::decode(bytes).map_err(|e| e.to_string())?;
                let hub_heads = message.heads.clone();
                // A whole-document chunk does not parse as a change; it never waits anyway.
                for chunk in message.changes.iter() {
                    if let Ok(change) = Change::from_bytes(chunk.to_vec()) {
                        waiting.insert(change.hash(), change);
                    }
                }
                copy.receive_sync_message(&mut sync_state, message).map_err(|e| e.to_string())?;
                Ok(hub_heads.iter().all(|h| copy.get_change_by_hash(h).is_some()))
            })
            .map_err(|e| OfficeError::Sync(ledger_client::ClientError::Decode(e)))?;
        }
        let added: Vec<Vec<u8>> =
            copy.get_changes(&before).iter().map(|c| c.raw_bytes().to_vec()).collect();
        if !added.is_empty() {
            // Stored through the normal path; the copy is dropped.
            self.store.apply_remote(case, kind, added)?;
        }
        if settled {
            *state = Vec::new();
            return Ok(None);
        }
        waiting.retain(|hash, _| copy.get_change_by_hash(hash).is_none());
        // The state decoded above has not responded yet, so Automerge always has a message.
        let Some(mut next) = copy.generate_sync_message(&mut sync_state) else {
            return Err(bad("没有可发送的同步消息".to_owned()));
        };
        // The hub takes this office's changes through the outbox, judged, never from repair.
        next.changes = Vec::<Vec<u8>>::new().into();
        *state = RepairState {
            sync: sync_state.encode(),
            waiting: waiting.values().map(|c| c.raw_bytes().to_vec()).collect(),
        }
        .encode();
        Ok(Some(next.encode()))
    }
}

/// What one document's repair carries from step to step: Automerge's sync state, and the hub's
/// changes received but still waiting for a dependency (the store would not keep them).
#[derive(Debug, Default)]
struct RepairState {
    sync: Vec<u8>,
    waiting: Vec<Vec<u8>>,
}

impl RepairState {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for part in std::iter::once(&self.sync).chain(&self.waiting) {
            out.extend_from_slice(&(part.len() as u64).to_le_bytes());
            out.extend_from_slice(part);
        }
        out
    }

    fn decode(mut bytes: &[u8]) -> std::result::Result<Self, &'static str> {
        let mut parts = Vec::new();
        while !bytes.is_empty() {
            let (len, rest) = bytes.split_first_chunk::<8>().ok_or("状态长度不完整")?;
            let len = usize::try_from(u64::from_le_bytes(*len)).map_err(|_| "状态长度无效")?;
            if rest.len() < len {
                return Err("状态内容不完整");
            }
            let (part, rest) = rest.split_at(len);
            parts.push(part.to_vec());
            bytes = rest;
        }
        let mut parts = parts.into_iter();
        Ok(Self { sync: parts.next().unwrap_or_default(), waiting: parts.collect() })
    }

    fn waiting(
        &self,
    ) -> std::result::Result<
        std::collections::BTreeMap<ledger_domain::automerge::ChangeHash, Change>,
        ledger_domain::automerge::LoadChangeError,
    > {
        self.waiting.iter().map(|b| Change::from_bytes(b.clone()).map(|c| (c.hash(), c))).collect()
    }
}

/// The documents a page applied, and whether each still misses dependencies afterwards.
#[derive(Default)]
struct PageDocs(BTreeMap<(CaseId, DocKind), bool>);

impl PageDocs {
    fn note(&mut self, id: CaseId, kind: DocKind, applied: &ledger_store::Applied) {
        self.0.insert((id, kind), !applied.missing_deps.is_empty());
    }

    /// The document changed some other way since: the store is asked about it.
    fn forget(&mut self, id: CaseId, kind: DocKind) {
        self.0.remove(&(id, kind));
    }

    fn missing(&self, id: CaseId, kind: DocKind) -> Option<bool> {
        self.0.get(&(id, kind)).copied()
    }
}

/// The sync lists a page reads and updates, loaded once before its records and saved with it.
struct PageState {
    /// Cases deleted here whose deletion the hub has not confirmed.
    evicted: Vec<CaseId>,
    /// Cases that left, waiting for their changes to go up before they are deleted.
    leaving: Vec<CaseId>,
    /// Attachments wanted from the hub.
    want_blobs: Vec<String>,
    /// Cases under recovery.
    resets: BTreeSet<CaseId>,
    /// What recovery did and could not do.
    recovered: RecoveryReport,
    /// What sync skipped, for a person to look at.
    problems: problems::Problems,
    /// Cases the page changed.
    touched: BTreeSet<CaseId>,
    /// When the hub received each change of the page.
    receipts: Vec<(String, i64, CaseId)>,
    /// Whether the page carried attachment pieces.
    blob_progress: bool,
    /// Documents the page applied, and whether each still misses dependencies.
    docs: PageDocs,
}

impl PageState {
    fn load(office: &Office, request: &SyncRequest) -> Result<Self> {
        // Evictions the hub has now seen confirmed are done.
        let confirmed: BTreeSet<CaseId> = request.evicted.iter().map(|c| CaseId(*c)).collect();
        let mut evicted: Vec<CaseId> = office.meta_json(EVICTED)?;
        evicted.retain(|c| !confirmed.contains(c));
        Ok(Self {
            evicted,
            leaving: office.meta_json(LEAVING)?,
            want_blobs: office.meta_json(WANT_BLOBS)?,
            resets: office.meta_json(RESET)?,
            recovered: office.meta_json(RECOVERED)?,
            problems: office.stored_problems()?,
            touched: BTreeSet::new(),
            receipts: Vec::new(),
            blob_progress: false,
            docs: PageDocs::default(),
        })
    }
}

impl SyncTarget for Office {
    fn binding(&self) -> Result<Option<Binding>, TargetError> {
        let hub = self.store.meta(HUB).map_err(target_err)?;
        let credential = self.store.meta(CREDENTIAL).map_err(target_err)?;
        Ok(match (hub, credential) {
            (Some(hub), Some(credential)) => Some(Binding { hub, credential }),
            _ => None,
        })
    }

    fn prepare(&self, budget: u32) -> Result<SyncRequest, TargetError> {
        self.prepare_request(budget).map_err(target_err)
    }

    fn apply(
        &self,
        request: &SyncRequest,
        response: &SyncResponse,
    ) -> Result<Applied, TargetError> {
        self.apply_response(request, response).map_err(target_err)
    }

    fn save_status(&self, status: &SyncStatus) -> Result<(), TargetError> {
        // The header's display, saved at every step of a pass: it need not wait for the disk
        // (a power cut loses at most the last word of it), and waiting made half the fsyncs
        // of a pull.
        self.store
            .batch_replayable(|| self.meta_pairs(&[(STATUS, Self::to_json(status))]))
            .map_err(target_err)
    }

    fn load_status(&self) -> Result<SyncStatus, TargetError> {
        self.sync_status().map_err(target_err)
    }

    fn now(&self) -> i64 {
        Office::now(self)
    }

    fn needs_repair(&self) -> bool {
        let flag = |k: &str| self.store.meta(k).ok().flatten().is_some_and(|v| v == "1");
        flag(REPAIR) || flag(RESTORED)
    }

    fn digests(
        &self,
        after: Option<(uuid::Uuid, WireKind)>,
        limit: usize,
    ) -> Result<Vec<ledger_protocol::DocDigest>, TargetError> {
        let rows = self
            .store
            .doc_heads(after.map(|(c, k)| (CaseId(c), local(k))), limit)
            .map_err(target_err)?;
        Ok(rows
            .into_iter()
            .map(|(id, kind, heads)| {
                let heads: Vec<Hash> = heads.iter().filter_map(|h| Hash::from_hex(h)).collect();
                ledger_protocol::DocDigest {
                    case_id: id.0,
                    kind: wire(kind),
                    heads: ledger_protocol::heads_digest(&heads),
                }
            })
            .collect())
    }

    fn repair_step(
        &self,
        case: uuid::Uuid,
        kind: WireKind,
        state: &mut Vec<u8>,
        incoming: Option<&[u8]>,
    ) -> Result<Option<Vec<u8>>, TargetError> {
        let id = CaseId(case);
        let step = self.repair_message(id, local(kind), state, incoming).map_err(target_err);
        if let Err(e) = &step
            && e.kind == TargetErrorKind::Unreadable
        {
            let line = format!(
                "案件 {} 修复时从县局收到的消息无法读取，已跳过；请联系县局核对该案件",
                self.case_label(id)
            );
            self.note_sync_problem(line).map_err(target_err)?;
        }
        step
    }

    fn repair_refused(
        &self,
        case: uuid::Uuid,
        _kind: WireKind,
        answer: &ledger_client::ClientError,
    ) -> Result<(), TargetError> {
        let reason = match answer.code() {
            "refused" => "县局认为该案件已不属于本单位",
            "bad_request" => "县局无法处理本机发出的修复消息",
            _ => "县局的回答无法读取",
        };
        let line = format!(
            "案件 {} 修复时{reason}，已跳过；下次同步时会再试，如仍不成请联系县局核对该案件",
            self.case_label(CaseId(case))
        );
        self.note_sync_problem(line).map_err(target_err)
    }

    fn repair_finished(
        &self,
        missing: &[(uuid::Uuid, WireKind)],
        report: &RepairReport,
    ) -> Result<(), TargetError> {
        let mut want: BTreeSet<CaseId> =
            self.meta_json::<Vec<CaseId>>(WANT_WHOLE).map_err(target_err)?.into_iter().collect();
        want.extend(missing.iter().map(|(c, _)| CaseId(*c)));
        let mut pairs = vec![
            (WANT_WHOLE, Self::to_json(&want.iter().collect::<Vec<_>>())),
            (REPAIRED, Self::to_json(&Some(report))),
        ];
        if report.unsettled == 0 {
            pairs.extend([(REPAIR, "0".to_owned()), (RESTORED, "0".to_owned())]);
        }
        self.meta_pairs(&pairs).map_err(target_err)
    }
}

impl From<ledger_client::ClientError> for OfficeError {
    fn from(e: ledger_client::ClientError) -> Self {
        OfficeError::Sync(e)
    }
}

#[cfg(test)]
pub(super) mod repair_tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use ledger_domain::automerge::sync::{BloomFilter, Message, State, SyncDoc};
    use ledger_domain::automerge::{ActorId, Automerge, ChangeHash};
    use ledger_domain::schema::{CaseField, Draft, FieldValue};
    use ledger_domain::{NewCase, NewPetitioner, NewSubmission, Role};

    use super::*;

    /// What `Engine::repair_sync` does: a fresh state per request, the office's changes
    /// stripped, the answer generated from the hub's document.
    fn stateless_hub(doc: &Automerge, bytes: &[u8]) -> Option<Vec<u8>> {
        let mut doc = doc.clone();
        let mut message = Message::decode(bytes).unwrap();
        message.changes = Vec::<Vec<u8>>::new().into();
        let mut state = State::new();
        doc.receive_sync_message(&mut state, message).unwrap();
        doc.generate_sync_message(&mut state).map(|m| m.encode())
    }

    pub(super) fn township() -> (tempfile::TempDir, Office) {
        let dir = tempfile::tempdir().unwrap();
        let mut config = OfficeConfig::new("hq", "黄桥镇国土所", Role::Township);
        config.staff = vec!["李娟".into()];
        config.townships = vec!["黄桥镇".into()];
        let office = Office::init(dir.path(), config, Arc::new(|| 1_709_604_000_000)).unwrap();
        (dir, office)
    }

    pub(super) fn new_case() -> NewCase {
        NewCase {
            submission: NewSubmission {
                received: "2024-03-01".parse().ok(),
                channel: "来访".into(),
                source: "本局接收".into(),
                persons: Some(2),
                ..Default::default()
            },
            purpose: "申诉求决".into(),
            sector: "涉土".into(),
            category: "纠纷调处".into(),
            township: "黄桥镇".into(),
            request: "宅基地纠纷".into(),
            village: "大屋村".into(),
            petitioners: vec![NewPetitioner {
                name: "村民".into(),
                id_number: "11010519491231002X".into(),
                phone: "13812345678".into(),
                address: "大屋村3组".into(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    /// The hub's copy: the office's document plus `hidden` drafts and then a field by the old
    /// actor, each draft chosen so that its hash is a false positive in the Bloom filter the
    /// office sends. The stateless hub never sends those drafts unasked, only the field on top.
    fn hub_with_false_positives(office: &Automerge, hidden: usize) -> Automerge {
        let hashes: Vec<ChangeHash> = office.get_changes(&[]).iter().map(|c| c.hash()).collect();
        let bloom = BloomFilter::from_hashes(hashes.iter());
        let mut hub = office.clone();
        hub.set_actor(ActorId::from(vec![7u8; 16]));
        for level in 0..hidden {
            hub = (0..200_000)
                .find_map(|n| {
                    let mut candidate = hub.clone();
                    let mut tx = candidate.transaction();
                    let text = format!("备份之后的调查记录{level}-{n}");
                    schema::set_draft(&mut tx, Draft::Investigation, &text).unwrap();
                    let hash = tx.commit().0.unwrap();
                    bloom.contains_hash(&hash).then_some(candidate)
                })
                .unwrap();
        }
        let mut tx = hub.transaction();
        let subject = FieldValue::Text("备份之后补充的被反映人".into());
        schema::put_field(&mut tx, &CaseField::Subject, subject).unwrap();
        tx.commit();
        hub
    }

    #[test]
    fn repair_fetches_changes_the_bloom_filter_hides_from_a_stateless_hub() {
        for hidden in 1..=3 {
            let (_dir, office) = township();
            let id = office.register(&new_case(), None).unwrap();
            let mine = office.store.with_doc(id, DocKind::Case, Clone::clone).unwrap();
            let hub = hub_with_false_positives(&mine, hidden);

            let mut state = Vec::new();
            let mut incoming: Option<Vec<u8>> = None;
            let mut rounds = 0;
            while let Some(message) =
                office.repair_step(id.0, WireKind::Case, &mut state, incoming.as_deref()).unwrap()
            {
                rounds += 1;
                assert!(rounds <= 2 + hidden, "{hidden} hidden: repair does not converge");
                incoming = stateless_hub(&hub, &message);
                assert!(incoming.is_some());
            }
            let heads = office.store.with_doc(id, DocKind::Case, |d| d.get_heads()).unwrap();
            assert_eq!(heads, hub.get_heads(), "{hidden} hidden");
            let case = office.case(id).unwrap();
            assert_eq!(case.subject, "备份之后补充的被反映人");
            assert!(case.investigation_report.starts_with("备份之后的调查记录"));
        }
    }

    /// The hub's repair messages are bytes from the network: damaged or hostile ones end the
    /// step with an error and leave the stored document as it was.
    #[test]
    fn a_hostile_repair_message_is_an_error_and_changes_nothing() {
        let (_dir, office) = township();
        let id = office.register(&new_case(), None).unwrap();
        let mine = office.store.with_doc(id, DocKind::Case, Clone::clone).unwrap();
        let hub = hub_with_false_positives(&mine, 1);
        let mut state = Vec::new();
        let first = office.repair_step(id.0, WireKind::Case, &mut state, None).unwrap().unwrap();
        let answer = stateless_hub(&hub, &first).unwrap();
        let heads = || office.store.with_doc(id, DocKind::Case, |d| d.get_heads()).unwrap();
        let before = heads();
        let mut truncated = answer.clone();
        truncated.truncate(answer.len() / 2);
        for hostile in [b"\x42garbage".to_vec(), truncated, Vec::new()] {
            let mut step_state = state.clone();
            let result = office.repair_step(id.0, WireKind::Case, &mut step_state, Some(&hostile));
            assert_eq!(result.unwrap_err().kind, TargetErrorKind::Unreadable, "{hostile:?}");
            assert_eq!(heads(), before);
        }
        // Named once for the clerk, however often the hub answers so.
        let problems = office.sync_problems().unwrap();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("修复时从县局收到的消息无法读取"), "{problems:?}");
        // The undamaged answers still repair.
        let mut incoming = Some(answer);
        while let Some(message) =
            office.repair_step(id.0, WireKind::Case, &mut state, incoming.as_deref()).unwrap()
        {
            incoming = stateless_hub(&hub, &message);
        }
        assert_eq!(heads(), hub.get_heads());
    }

    #[test]
    fn an_unsettled_repair_stays_due() {
        let (_dir, office) = township();
        office.meta_pairs(&[(RESTORED, "1".to_owned())]).unwrap();
        let unsettled = RepairReport { unsettled: 1, ..RepairReport::default() };
        office.repair_finished(&[], &unsettled).unwrap();
        assert!(office.needs_repair());
        assert_eq!(office.last_repair().unwrap(), Some(unsettled), "kept to tell");
        office.repair_finished(&[], &RepairReport::default()).unwrap();
        assert!(!office.needs_repair());
    }

    #[test]
    fn repair_state_round_trips() {
        let state = RepairState { sync: vec![1, 2, 3], waiting: vec![vec![], vec![9; 40]] };
        let back = RepairState::decode(&state.encode()).unwrap();
        assert_eq!((back.sync, back.waiting), (state.sync, state.waiting));
        assert!(RepairState::decode(&[5, 0, 0]).is_err());
        assert!(RepairState::decode(&[]).unwrap().sync.is_empty());
    }
}

#[cfg(test)]
mod page_tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_document_that_does_not_load_is_refused_alone_and_the_page_applies() {
        let (_a_dir, a) = repair_tests::township();
        let good = a.register(&repair_tests::new_case(), None).unwrap();
        let other = a.register(&repair_tests::new_case(), None).unwrap();
        let (_b_dir, b) = repair_tests::township();
        let enter = |id: CaseId, kind: WireKind, bytes: Vec<u8>| Record::Enter {
            case_id: id.0,
            kind,
            offset: 0,
            total: bytes.len() as u64,
            bytes,
        };
        let mut broken = a.store.save_doc(other, DocKind::Case).unwrap();
        broken.truncate(broken.len() / 2);
        let response = SyncResponse {
            records: vec![
                enter(other, WireKind::Case, broken),
                enter(good, WireKind::Case, a.store.save_doc(good, DocKind::Case).unwrap()),
                enter(good, WireKind::Identity, a.store.save_doc(good, DocKind::Identity).unwrap()),
            ],
            ..SyncResponse::default()
        };
        let applied = b.apply_response(&SyncRequest::default(), &response).unwrap();
        assert_eq!(applied.downloaded, 3);
        assert_eq!(b.store.load_case(good).unwrap(), a.store.load_case(good).unwrap());
        assert!(b.store.row(good).unwrap().is_some());
        assert!(!b.store.has_doc(other, DocKind::Case).unwrap());
        assert!(b.store.row(other).unwrap().is_none());
        // Said where the office sees what sync could not do.
        let problems = b.sync_problems().unwrap();
        assert!(problems.iter().any(|m| m.contains("无法读取")), "{problems:?}");
    }

    /// What the hub sends may parse and load and still leave a case that does not read as a
    /// case (a hostile hub; the honest one judges every change by reading the case). That case
    /// is named for the clerk and left out of the index; the page's other cases apply and the
    /// page commits, where the index row's failure used to fail the page for ever.
    #[test]
    fn a_case_that_does_not_read_after_the_page_is_named_alone_and_the_page_applies() {
        use ledger_domain::automerge::{Automerge, ROOT, transaction::Transactable};
        let (_a_dir, a) = repair_tests::township();
        let good = a.register(&repair_tests::new_case(), None).unwrap();
        let bad = a.register(&repair_tests::new_case(), None).unwrap();
        let fresh = a.register(&repair_tests::new_case(), None).unwrap();
        let (_b_dir, b) = repair_tests::township();
        let doc_of = |id: CaseId| a.store.with_doc(id, DocKind::Case, Clone::clone).unwrap();
        let all_changes = |doc: &Automerge, id: CaseId| -> Vec<Record> {
            doc.get_changes(&[])
                .iter()
                .map(|c| Record::Change {
                    seq: 1,
                    case_id: id.0,
                    kind: WireKind::Case,
                    received_at: 1,
                    bytes: c.raw_bytes().to_vec(),
                })
                .collect()
        };
        // The first page: both cases as they are.
        let mut records = all_changes(&doc_of(good), good);
        records.extend(all_changes(&doc_of(bad), bad));
        let first = SyncResponse { records, ..SyncResponse::default() };
        b.apply_response(&SyncRequest::default(), &first).unwrap();
        let bad_row = b.store.row(bad).unwrap().unwrap();

        // Then: a change that spoils `bad`, one honest edit to `good`, and `fresh` whole and
        // spoilt.
        let spoil = |mut doc: Automerge| {
            let mut tx = doc.transaction();
            tx.put(ROOT, "petitioners", 5_i64).unwrap();
            tx.commit();
            doc
        };
        let spoilt = spoil(doc_of(bad));
        let spoiling = spoilt.get_last_local_change().unwrap().raw_bytes().to_vec();
        let mut edited = doc_of(good);
        let mut tx = edited.transaction();
        let village = schema::FieldValue::Text("县局核实的村组".into());
        schema::put_field(&mut tx, &schema::CaseField::Village, village).unwrap();
        tx.commit();
        let edit = edited.get_last_local_change().unwrap().raw_bytes().to_vec();
        let spoilt_fresh = spoil(doc_of(fresh));
        let whole = spoilt_fresh.save();
        let change = |id: CaseId, bytes: Vec<u8>| Record::Change {
            seq: 2,
            case_id: id.0,
            kind: WireKind::Case,
            received_at: 2,
            bytes,
        };
        let enter = Record::Enter {
            case_id: fresh.0,
            kind: WireKind::Case,
            offset: 0,
            total: whole.len() as u64,
            bytes: whole,
        };
        let second = SyncResponse {
            records: vec![change(bad, spoiling), change(good, edit), enter],
            ..SyncResponse::default()
        };
        let applied = b.apply_response(&SyncRequest::default(), &second).unwrap();
        assert_eq!(applied.downloaded, 3);
        assert_eq!(b.case(good).unwrap().village, "县局核实的村组");
        assert_eq!(b.store.row(good).unwrap().unwrap().village, "县局核实的村组");
        // The spoilt case keeps the row it had; the one that never read has none.
        assert_eq!(b.store.row(bad).unwrap().unwrap(), bad_row);
        assert!(b.store.row(fresh).unwrap().is_none());
        let problems = b.sync_problems().unwrap();
        let named = |id: CaseId| problems.iter().filter(|m| m.contains(&id.to_string())).count();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().all(|m| m.contains("台账暂不显示其更新")), "{problems:?}");
        assert_eq!(named(fresh), 1, "{problems:?}");
        // Kept as the hub sent them, not refused: a later change from the hub can mend them.
        let heads = |id: CaseId| b.store.with_doc(id, DocKind::Case, |d| d.get_heads()).unwrap();
        assert_eq!(heads(bad), spoilt.get_heads());
        assert_eq!(heads(fresh), spoilt_fresh.get_heads());
        assert!(problems.iter().any(|m| m.contains(&bad_row.number)), "{problems:?}");
    }

    /// A case under recovery whose copy from the hub loads but does not read as a case (a
    /// hostile hub) has nothing to redo this office's actions onto: the recovery report names
    /// it and the page applies, where the read's failure used to fail the page.
    #[test]
    fn a_recovered_case_whose_hub_copy_does_not_read_is_named_and_the_page_applies() {
        use ledger_domain::automerge::{ROOT, transaction::Transactable};
        let (_a_dir, a) = repair_tests::township();
        let bad = a.register(&repair_tests::new_case(), None).unwrap();
        let good = a.register(&repair_tests::new_case(), None).unwrap();
        let (_b_dir, b) = repair_tests::township();
        let whole = |id: CaseId, bytes: Vec<u8>| Record::Enter {
            case_id: id.0,
            kind: WireKind::Case,
            offset: 0,
            total: bytes.len() as u64,
            bytes,
        };
        let saved = |id: CaseId| a.store.save_doc(id, DocKind::Case).unwrap();
        let first = SyncResponse {
            records: vec![whole(bad, saved(bad)), whole(good, saved(good))],
            ..SyncResponse::default()
        };
        b.apply_response(&SyncRequest::default(), &first).unwrap();
        let number = b.case_number(bad).unwrap();

        let mut spoilt = a.store.with_doc(bad, DocKind::Case, Clone::clone).unwrap();
        let mut tx = spoilt.transaction();
        tx.put(ROOT, "petitioners", 5_i64).unwrap();
        tx.commit();
        b.mark_for_reset(&BTreeSet::from([bad, good])).unwrap();
        let second = SyncResponse {
            records: vec![whole(bad, spoilt.save()), whole(good, saved(good))],
            ..SyncResponse::default()
        };
        let applied = b.apply_response(&SyncRequest::default(), &second).unwrap();
        assert_eq!(applied.downloaded, 2);
        let report = b.take_recovery_report().unwrap();
        assert_eq!(report.cases, 2, "{report:?}");
        let named: Vec<&String> =
            report.unrecoverable.iter().filter(|l| l.contains("县局的记录本机无法读取")).collect();
        assert_eq!(named.len(), 1, "{report:?}");
        assert!(named[0].contains(&number), "{report:?}");
        assert_eq!(b.store.load_case(good).unwrap(), a.store.load_case(good).unwrap());
    }

    /// A change from the hub that does not parse (bytes damaged on the way, or a hostile hub)
    /// is skipped alone: the page's other records apply and the cursor moves, where the error
    /// used to fail the page and every pass after it asked for the same page again.
    #[test]
    fn a_change_that_does_not_parse_is_skipped_alone_and_the_page_applies() {
        let (_a_dir, a) = repair_tests::township();
        let good = a.register(&repair_tests::new_case(), None).unwrap();
        let other = a.register(&repair_tests::new_case(), None).unwrap();
        let (_b_dir, b) = repair_tests::township();
        let change = |id: CaseId, bytes: Vec<u8>| Record::Change {
            seq: 1,
            case_id: id.0,
            kind: WireKind::Case,
            received_at: 1,
            bytes,
        };
        let changes: Vec<Vec<u8>> = a
            .store
            .with_doc(good, DocKind::Case, |d| {
                d.get_changes(&[]).iter().map(|c| c.raw_bytes().to_vec()).collect()
            })
            .unwrap();
        let mut damaged = changes[0].clone();
        damaged.truncate(damaged.len() / 2);
        let mut records =
            vec![change(other, damaged), change(other, b"\x85\x6f\x4a\x83 not a change".to_vec())];
        records.extend(changes.iter().map(|bytes| change(good, bytes.clone())));
        let response = SyncResponse { records, ..SyncResponse::default() };
        let applied = b.apply_response(&SyncRequest::default(), &response).unwrap();
        assert_eq!(applied.downloaded, 2 + changes.len());
        assert_eq!(b.store.load_case(good).unwrap(), a.store.load_case(good).unwrap());
        assert!(b.store.row(good).unwrap().is_some());
        assert!(!b.store.has_doc(other, DocKind::Case).unwrap());
        let seen = b.sync_problems().unwrap();
        let skipped = seen.iter().filter(|m| m.contains("无法读取")).count();
        assert_eq!(skipped, 2, "{seen:?}");
        // The sync screen shows them until the clerk has looked; one that comes after stays,
        // and neither a recovery nor a restart of sync takes them away unseen.
        assert_eq!(b.sync_status().unwrap().unresolved, 2);
        b.mark_for_reset(&BTreeSet::from([good])).unwrap();
        b.take_recovery_report().unwrap();
        b.restart_sync().unwrap();
        assert_eq!(b.sync_problems().unwrap(), seen);
        let again = vec![change(other, b"\x85\x6f".to_vec())];
        let again = SyncResponse { records: again, ..SyncResponse::default() };
        b.apply_response(&SyncRequest::default(), &again).unwrap();
        assert_eq!(b.dismiss_sync_problems(&seen).unwrap(), 1);
        assert_eq!(b.sync_status().unwrap().unresolved, 1);
        assert_eq!(b.sync_problems().unwrap().len(), 1);
    }
}
