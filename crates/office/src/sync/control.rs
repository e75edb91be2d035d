//! Sync control for the adapters: the background service, a pass run from a terminal, a repair
//! against the hub's record (with the recovery of refused changes), and the bureau's view of
//! every office. The office builds the hub client and the service here, so neither the CLI nor
//! the desktop names them.

use std::sync::Arc;
use std::time::Duration;

use ledger_client::{
    Binding, ClientError, HubClient, RepairReport, SyncConfig, SyncHandle, SyncReport, SyncService,
    SyncTarget, sync_until_done,
};

use crate::Office;
use crate::error::{OfficeError, Result};
use crate::recover::RecoveryReport;

/// One request of the background service gives up after this long (a black-holed link).
const SERVICE_TIMEOUT: Duration = Duration::from_secs(30);
/// A repair's requests carry thousands of digests: they may take longer.
const REPAIR_TIMEOUT: Duration = Duration::from_secs(60);
/// The bureau's list of every office.
const OFFICES_TIMEOUT: Duration = Duration::from_secs(15);
/// The county-wide repeat hint: asked while a clerk types, so it gives up soon.
const REPEAT_TIMEOUT: Duration = Duration::from_secs(5);
/// A repair's own pass (no background service): the recovered cases, every digest, what
/// differs and what is missing.
const REPAIR_PASS: Duration = Duration::from_secs(120);

/// An open matter of the same petitioner elsewhere in the county ([`Office::county_repeats`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CountyRepeat {
    /// 案件编号.
    pub number: String,
    /// The office that registered it (its code).
    pub office: String,
    /// That office's name, from the county directory.
    pub office_name: String,
    /// 所属乡镇.
    pub township: Option<String>,
    /// 办理状态.
    pub status: ledger_domain::Status,
    /// 信访日期.
    pub received: Option<chrono::NaiveDate>,
}

/// What [`Office::repair`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Repaired {
    /// Cases with refused changes, replaced with the hub's record.
    pub refused_cases: usize,
    /// What recovering them redid, and what it could not.
    pub recovered: RecoveryReport,
    /// What comparing every document with the hub's found; `None` when the pass ended before
    /// it ran (the comparison then stays due, and a later pass runs it).
    pub compared: Option<RepairReport>,
    /// What the pass moved.
    pub sync: SyncReport,
}

impl Office {
    /// A client for this office's hub whose requests give up after `timeout`.
    pub(crate) fn client(&self, timeout: Duration) -> Result<HubClient> {
        HubClient::new(timeout, &self.hub_trust()?).map_err(OfficeError::Sync)
    }

    /// Where and as whom this office syncs; `None` when it is not enrolled.
    fn bound(&self) -> Result<Option<Binding>> {
        Ok(SyncTarget::binding(self).map_err(ClientError::from)?)
    }

    /// Starts the background sync on the current tokio runtime (the caller enters it): it syncs
    /// after each edit it is told of ([`SyncHandle::notify_edit`]), on a timer and on demand,
    /// backing off while the hub is away. `None` when the office is not enrolled with a hub.
    pub fn start_sync(self: &Arc<Self>) -> Result<Option<SyncHandle>> {
        if self.bound()?.is_none() {
            return Ok(None);
        }
        let client = self.client(SERVICE_TIMEOUT)?;
        let target: Arc<dyn SyncTarget> = self.clone();
        Ok(Some(SyncService::spawn(client, target, SyncConfig::default())))
    }

    /// Syncs until nothing is left to move, but for no longer than `within`: a pass from a
    /// terminal or a script, which retries soon (from half a second, at most ten seconds apart)
    /// because someone is waiting for it.
    pub async fn sync_once(self: &Arc<Self>, within: Duration) -> Result<SyncReport> {
        let config = SyncConfig {
            request_timeout: within.clamp(Duration::from_secs(5), Duration::from_secs(60)),
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(10),
            ..SyncConfig::default()
        };
        let client = self.client(config.request_timeout)?;
        let target: Arc<dyn SyncTarget> = self.clone();
        let deadline = tokio::time::Instant::now() + within;
        let mut budget = config.first_batch();
        Ok(sync_until_done(&client, &target, &config, deadline, &mut budget).await?)
    }

    /// Compares every document with the hub's and mends the ones that differ; the ones this
    /// office lacks are fetched by the next sync ([`RepairReport::missing`]). Needed after a
    /// restore from backup, and offered by `ledger check --deep`.
    pub async fn repair_from_hub(self: &Arc<Self>) -> Result<RepairReport> {
        let client = self.client(REPAIR_TIMEOUT)?;
        let target: Arc<dyn SyncTarget> = self.clone();
        Ok(ledger_client::repair(&client, &target).await?)
    }

    /// `ledger repair` and the app's 恢复: recovers every case with refused changes (the
    /// hub's record is kept and this office's actions are recorded again on top, see
    /// [`Office::begin_recovery`]), then compares every document with the hub's, mends the
    /// ones that differ and fetches the ones this office lacks. It all runs in one sync pass:
    /// through the background `service` when one runs, so no second pass runs beside it, else
    /// in a pass of its own.
    pub async fn repair(self: &Arc<Self>, service: Option<&SyncHandle>) -> Result<Repaired> {
        if self.bound()?.is_none() {
            return Err(ClientError::NotEnrolled.into());
        }
        let refused_cases = self.begin_recovery()?;
        self.ask_for_repair()?;
        let sync = match service {
            Some(service) => service.sync_now().await?,
            None => self.sync_once(REPAIR_PASS).await?,
        };
        Ok(Repaired {
            refused_cases,
            recovered: self.take_recovery_report()?,
            compared: self.last_repair()?,
            sync,
        })
    }

    /// 全县重复信访提示: the open matters elsewhere in the county of the petitioners with these
    /// ID numbers, as the hub may tell this office (a township never hears of an informant's).
    /// Numbers that cannot be ID numbers are not sent. Offline, or not enrolled, the error says
    /// so and the adapters keep the local hint ([`Office::similar`]).
    pub async fn county_repeats(&self, id_numbers: &[String]) -> Result<Vec<CountyRepeat>> {
        let binding = self.bound()?.ok_or(ClientError::NotEnrolled)?;
        let id_numbers: Vec<String> = id_numbers
            .iter()
            .filter_map(|n| ledger_protocol::normalize_id_number(n))
            .take(ledger_protocol::MAX_REPEAT_IDS)
            .collect();
        if id_numbers.is_empty() {
            return Ok(Vec::new());
        }
        let client = self.client(REPEAT_TIMEOUT)?;
        let query = ledger_protocol::RepeatQuery { id_numbers };
        let answer = match client.repeat(&binding.hub, &binding.credential, &query).await {
            // Too many queries: the hub's own words say when to ask again.
            Err(ClientError::Server(429, message)) => return Err(OfficeError::Refused(message)),
            other => other?,
        };
        Ok(answer
            .matters
            .into_iter()
            .map(|m| CountyRepeat {
                office_name: self.office_name(&m.registered_by),
                number: m.number,
                office: m.registered_by,
                township: m.township,
                status: ledger_domain::Status::from_code(&m.status),
                received: m.received.and_then(|d| d.parse().ok()),
            })
            .collect())
    }

    /// The hub's list of every office and how its sync stands (the bureau's 各单位同步情况),
    /// as the hub's JSON.
    pub async fn hub_offices(&self) -> Result<serde_json::Value> {
        if !self.is_bureau() {
            return Err(OfficeError::Refused("只有县局可以查看各单位的同步情况".to_owned()));
        }
        let binding = self.bound()?.ok_or(ClientError::NotEnrolled)?;
        let client = self.client(OFFICES_TIMEOUT)?;
        Ok(client.get_json(&binding.hub, &binding.credential, "/v1/offices").await?)
    }
}
