//! The office's use cases as one facade, [`Office`]: register a case, record the workflow's
//! actions, attach files, list, search and page, due and overdue lists, statistics, conflicts
//! to review, import and export, backup. The desktop app and the `ledger` command line both call
//! it and nothing else, so whatever the app does can be scripted and tested headless.
//!
//! Every action goes through the domain's role table and workflow before anything is written,
//! and is refused with a Chinese sentence when it does not fit. Every write is one store
//! transaction.

mod act;
mod cases;
mod check;
mod config;
mod demo;
mod directory;
mod error;
mod hub;
mod import;
mod queries;
mod recover;
mod reports;
mod rules;
mod sync;
pub mod vault;
mod vaulted;
mod work;

use std::path::Path;
use std::sync::{Arc, RwLock, RwLockReadGuard};

use chrono::NaiveDate;
use ledger_domain::DeviceTime;
use ledger_domain::model::china_date;
use ledger_domain::rules::{CountySetting, RuleItem};
use ledger_store::Store;

pub use cases::{ActionInput, CaseView, SubmissionInput};
pub use check::CheckReport;
pub use config::OfficeConfig;
pub use demo::DemoRemoval;
pub use directory::TownshipChoice;
pub use error::{OfficeError, Result, sync_error_text, sync_message};
pub use hub::{Enrollment, HubAddress};
pub use import::{ImportOptions, ImportReport, LEDGER_COLUMNS, Progress};
pub use ledger_store::private;
pub use ledger_store::{
    CaseQuery, CaseRow, DeepCheck, DeepProblem, INDEX_STAMP_KEY, Page, QuarantinedChange,
    StoreError,
};
pub use queries::{DueList, ReviewItem};
pub use recover::RecoveryReport;
pub use reports::{FolderImport, YearReport};
pub use rules::{BasisView, EntryView, ItemView, PolicyView, RuleInput, RulesView};
pub use sync::{BundleReport, CountyRepeat, Repaired};
pub use vault::Unlock;
pub use vaulted::Opened;
pub use work::{ScreeningView, WorkChange, WorkImportReport, WorkInput, WorkView, work_forms};

// What the adapters name of the layers below, by name: the CLI and the desktop depend on this
// crate alone, and what of the domain and the sync client they see is decided here, not by
// whatever those crates make public. A case's id, the coded vocabularies they parse and label,
// the fields a person edits and the statistics they show:
pub use ledger_domain::deadline::DeadlineKind;
pub use ledger_domain::schema::{CaseField, Draft};
pub use ledger_domain::stats::Period;
pub use ledger_domain::text::display_width;
pub use ledger_domain::work::{
    ConsultChannel, DutyOutlook, DutyShift, FieldForm, FieldValue, LeaderScope, Occasion,
    ReceptionOutcome, RiskLevel, ScreeningMonth, ScreeningStatus, Settlement, WorkKind, WorkTotals,
    label_of,
};
pub use ledger_domain::{
    ActionKind, CaseId, Category, Channel, CloseReason, DocumentKind, FieldError, FollowUpMethod,
    HandlingTrack, NewCase, Outcome, Purpose, ReviewOutcome, Role, Satisfaction, Sector, Source,
    Statistics, Status,
};
// and sync as the office runs it: the handle of the background service, what a pass moved,
// the status the header shows, how the hub is reached, and the failure the adapters word.
pub use ledger_client::{
    ClientError, HubLink, RepairReport, SyncHandle, SyncReport, SyncState, SyncStatus,
};

/// Where the time comes from: the device clock, or a fixed time for tests and scripts.
pub type Clock = Arc<dyn Fn() -> DeviceTime + Send + Sync>;

/// Whether `dir` already holds a store.
pub fn ledger_store_exists(dir: &Path) -> bool {
    Store::exists(dir)
}

/// The device clock.
pub fn system_clock() -> Clock {
    Arc::new(ledger_store::now_ms)
}

/// The office: its store, its settings and its clock.
pub struct Office {
    store: Store,
    config: RwLock<OfficeConfig>,
    clock: Clock,
    /// Ids from a counter instead of the random source: only an office made by
    /// [`Office::init_deterministic`] (tests, the UI's recorded fixtures) has one.
    id_counter: Option<std::sync::atomic::AtomicU64>,
}

const CONFIG_KEY: &str = "office";

impl Office {
    /// Creates a new office store in `dir`.
    /// The settings are kept as [`OfficeConfig`] normalises them (the CLI and the app pass
    /// what was typed).
    pub fn init(dir: &Path, config: OfficeConfig, clock: Clock) -> Result<Self> {
        let config = config.normalised()?;
        Self::adopt(Store::create(dir)?, config, clock)
    }

    /// Creates a new office store in `dir` whose every answer is the same from run to run on a
    /// fixed `clock`: its Automerge actor is `actor_hex`, and the ids it mints count up from 1
    /// (UUIDv7 with the clock's time and the count in place of random bits). For tests and the
    /// UI's recorded fixtures only (feature `test-support`).
    #[cfg(any(test, feature = "test-support"))]
    pub fn init_deterministic(
        dir: &Path,
        config: OfficeConfig,
        clock: Clock,
        actor_hex: &str,
    ) -> Result<Self> {
        let config = config.normalised()?;
        let mut office = Self::adopt(Store::create_with_actor(dir, actor_hex)?, config, clock)?;
        office.id_counter = Some(std::sync::atomic::AtomicU64::new(0));
        Ok(office)
    }

    /// Makes a new store this office's, with these settings.
    fn adopt(store: Store, config: OfficeConfig, clock: Clock) -> Result<Self> {
        let json = serde_json::to_string(&config).map_err(ledger_store::StoreError::from)?;
        store.set_meta(&[(CONFIG_KEY, &json)])?;
        Ok(Self { store, config: RwLock::new(config), clock, id_counter: None })
    }

    /// Opens the office store in `dir` (a plain one: see [`Office::open_unlocked`] for the
    /// encrypted stores the CLI and the app keep).
    pub fn open(dir: &Path, clock: Clock) -> Result<Self> {
        Self::open_store(dir, Store::open(dir)?, clock)
    }

    fn open_store(dir: &Path, store: Store, clock: Clock) -> Result<Self> {
        let json = store
            .meta(CONFIG_KEY)?
            .ok_or_else(|| ledger_store::StoreError::Missing(dir.to_path_buf()))?;
        let config = serde_json::from_str(&json).map_err(ledger_store::StoreError::from)?;
        let office = Self { store, config: RwLock::new(config), clock, id_counter: None };
        office.migrate_document_settings(&json)?;
        office.ensure_device_key()?;
        Ok(office)
    }

    /// A store from before the county's rules kept 复查机关 and the issuer rule in its own
    /// settings: the bureau's become entries of the rules document (unless the county set them
    /// since), a township's are dropped with a warning (the county sets them now), and the
    /// settings are written again without them.
    fn migrate_document_settings(&self, json: &str) -> Result<()> {
        let Ok(raw) = serde_json::from_str::<serde_json::Value>(json) else { return Ok(()) };
        let body = raw.get("review_body").and_then(|v| v.as_str()).map(str::trim);
        let own = raw.get("issues_own_documents").and_then(serde_json::Value::as_bool);
        if body.is_none() && own.is_none() {
            return Ok(());
        }
        let rules = self.store.rules();
        let mut moved = Vec::new();
        if let Some(body) = body.filter(|b| !b.is_empty())
            && !rules.is_set(&RuleItem::County(CountySetting::ReviewBody))
        {
            moved.push(("county.review_body", body.to_owned()));
        }
        if own == Some(true) && !rules.is_set(&RuleItem::County(CountySetting::IssuesOwnDocuments))
        {
            moved.push(("county.issues_own_documents", "true".to_owned()));
        }
        for (item, value) in moved {
            if self.is_bureau() {
                let input = RuleInput { item: item.to_owned(), value, ..Default::default() };
                if let Err(e) = self.set_rule(&input) {
                    tracing::warn!(item, error = %e, "old document setting not moved to the county's rules; kept for the next start");
                    return Ok(());
                }
            } else {
                tracing::warn!(item, value = %value, "this office's old document setting is now the county's: the bureau sets it in the county's rules");
            }
        }
        let cfg = self.config();
        let json = serde_json::to_string(&cfg).map_err(ledger_store::StoreError::from)?;
        self.store.set_meta(&[(CONFIG_KEY, &json)])?;
        Ok(())
    }

    /// Replaces the store in `dir` with a backup made by `ledger backup`. A new Automerge actor
    /// is minted (the old one's later changes may already be at the hub); returns it, hex.
    pub fn restore(dir: &Path, file: &Path) -> Result<String> {
        Ok(Store::restore(dir, file)?.to_hex_string())
    }

    /// The office's settings.
    pub fn config(&self) -> OfficeConfig {
        self.cfg().clone()
    }

    pub(crate) fn cfg(&self) -> RwLockReadGuard<'_, OfficeConfig> {
        self.config.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the settings (staff, townships, device letter).
    pub fn update_config(&self, config: OfficeConfig) -> Result<()> {
        let json = serde_json::to_string(&config).map_err(ledger_store::StoreError::from)?;
        let removed: Vec<String> =
            self.cfg().staff.iter().filter(|s| !config.staff.contains(s)).cloned().collect();
        self.store.set_meta(&[(CONFIG_KEY, &json)])?;
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = config;
        // The hub judges every event's 办理人 against the roster: staff changes go up first.
        self.update_roster(&removed)
    }

    /// Whether the ledger's index was computed with this release's rules (deadlines, holiday
    /// table). After an upgrade that changed them, [`Office::refresh_index`] recomputes it.
    pub fn index_is_current(&self) -> Result<bool> {
        Ok(self.store.index_is_current()?)
    }

    /// Recomputes every case's due dates and statistics facts with this release's rules;
    /// `progress` hears (done, total). Edits may go on meanwhile.
    pub fn refresh_index(&self, progress: &mut dyn FnMut(usize, usize)) -> Result<usize> {
        Ok(self.store.refresh_index(progress)?)
    }

    /// The store underneath, for tests and benchmarks only (feature `test-support`): the CLI
    /// and the desktop reach the office through its methods alone.
    #[cfg(any(test, feature = "test-support"))]
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Takes in a case's documents as `other` (another device) holds them, as a sync that
    /// brought them would: concurrent edits of the two become the case's conflicts. For tests
    /// and the UI's recorded fixtures only (feature `test-support`).
    #[cfg(any(test, feature = "test-support"))]
    pub fn merge_case_from(&self, other: &Office, id: CaseId) -> Result<()> {
        for kind in [ledger_store::DocKind::Case, ledger_store::DocKind::Identity] {
            if other.store.has_doc(id, kind)? {
                let saved = other.store.save_doc(id, kind)?;
                self.store.merge_remote(id, kind, &saved)?;
            }
        }
        Ok(())
    }

    /// This device's Automerge actor (hex): the identity it syncs under, for diagnostics.
    pub fn device_actor(&self) -> String {
        self.actor_hex()
    }

    /// SQLite's own integrity check of the store file: `ok`, or what is damaged.
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self.store.integrity_check()?)
    }

    /// Local changes waiting to go up to the hub.
    pub fn pending_changes(&self) -> Result<u64> {
        Ok(self.store.outbox_len()?)
    }

    /// Now, by this office's clock.
    pub fn now(&self) -> DeviceTime {
        (self.clock)()
    }

    /// Today, in China Standard Time.
    pub fn today(&self) -> NaiveDate {
        china_date(self.now())
    }

    /// Whether this office is the bureau.
    pub fn is_bureau(&self) -> bool {
        self.cfg().role == Role::Bureau
    }

    /// The handler to record: the one named if on the staff list, else the default (first)
    /// staff member; an office with no staff list records the name as given.
    pub fn handler(&self, named: Option<&str>) -> Result<String> {
        let named = named.map(str::trim).filter(|s| !s.is_empty());
        let cfg = self.cfg();
        match (named, cfg.staff.first()) {
            (Some(name), _) if cfg.staff.is_empty() || cfg.staff.iter().any(|s| s == name) => {
                Ok(name.to_owned())
            }
            (Some(name), _) => Err(OfficeError::invalid(
                "handler",
                "办理人",
                format!(
                    "「{name}」不在本单位人员名单中（{}）；请先添加该人员",
                    cfg.staff.join("、")
                ),
            )),
            (None, Some(first)) => Ok(first.clone()),
            (None, None) => Err(OfficeError::invalid(
                "handler",
                "办理人",
                "本单位还没有人员名单；请先添加办理人",
            )),
        }
    }

    /// A new UUIDv7 as text.
    fn mint_id(&self) -> String {
        self.mint_uuid().to_string()
    }

    /// A new UUIDv7 (from the counter, when the office was made deterministic).
    fn mint_uuid(&self) -> uuid::Uuid {
        let ms = u64::try_from(self.now()).unwrap_or(0);
        if let Some(counter) = &self.id_counter {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            let mut bits = [0u8; 10];
            bits[2..].copy_from_slice(&n.to_be_bytes());
            return uuid::Builder::from_unix_timestamp_millis(ms, &bits).into_uuid();
        }
        let ts = uuid::Timestamp::from_unix(
            uuid::NoContext,
            ms / 1000,
            ((ms % 1000) * 1_000_000) as u32,
        );
        uuid::Uuid::new_v7(ts)
    }

    fn actor_hex(&self) -> String {
        self.store.actor().to_hex_string()
    }
}

#[cfg(test)]
mod tests;
