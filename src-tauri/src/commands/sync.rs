//! 同步: status, sync now, the quarantine, problems left for a person, and the bureau's view
//! of every office.

use ledger_office::{CaseId, QuarantinedChange, RecoveryReport, SyncReport, SyncState, SyncStatus};
use serde::Serialize;
use tauri::State;

use super::with_office;
use crate::error::{CommandError, CommandResult};
use crate::state::Desktop;

/// The sync status with the state the header shows, as `ledger-client` decides it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "SyncStatus"))]
pub(crate) struct SyncStatusView {
    #[serde(flatten)]
    status: SyncStatus,
    state: SyncState,
}

impl From<SyncStatus> for SyncStatusView {
    fn from(status: SyncStatus) -> Self {
        Self { state: status.state(), status }
    }
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn sync_status(desktop: State<'_, Desktop>) -> CommandResult<SyncStatusView> {
    with_office(&desktop, |o| o.sync_status()).await.map(SyncStatusView::from)
}

/// What a sync moved, for the UI.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "SyncReport"))]
pub(crate) struct Moved {
    rounds: usize,
    uploaded: usize,
    downloaded: usize,
    refused: usize,
    retries: usize,
}

impl From<SyncReport> for Moved {
    fn from(r: SyncReport) -> Self {
        Self {
            rounds: r.rounds,
            uploaded: r.uploaded,
            downloaded: r.downloaded,
            refused: r.refused,
            retries: r.retries,
        }
    }
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn sync_now(desktop: State<'_, Desktop>) -> CommandResult<Moved> {
    let running = desktop.running()?;
    let Some(sync) = running.sync.clone() else {
        return Err(CommandError::new("not_enrolled", "本机没有接入县局，离线使用时不需要同步"));
    };
    let report = sync.sync_now().await?;
    desktop.changed(None);
    Ok(report.into())
}

/// Forgets this office's place in the hub's log (a damaged one) and syncs from the beginning:
/// every case the hub sends merges with the one here; nothing local is lost.
#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn restart_sync(desktop: State<'_, Desktop>) -> CommandResult<Moved> {
    let running = desktop.running()?;
    let Some(sync) = running.sync.clone() else {
        return Err(CommandError::new("not_enrolled", "本机没有接入县局，离线使用时不需要同步"));
    };
    with_office(&desktop, |o| o.restart_sync()).await?;
    let report = sync.sync_now().await?;
    desktop.changed(None);
    Ok(report.into())
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn quarantine(
    desktop: State<'_, Desktop>,
) -> CommandResult<Vec<QuarantinedChange>> {
    with_office(&desktop, |o| o.quarantine()).await
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn retry_quarantined(
    desktop: State<'_, Desktop>,
    case_id: String,
) -> CommandResult<u64> {
    let id: CaseId = case_id.parse().map_err(|_| CommandError::new("not_found", "案件标识无效"))?;
    let n = with_office(&desktop, move |o| o.retry_quarantined(id)).await?;
    desktop.changed(Some(case_id));
    Ok(n)
}

/// Recovers every case with refused changes (the hub's record is fetched and kept, and this
/// office's actions are recorded again on top) and mends every document that differs from the
/// hub's, through the background sync ([`ledger_office::Office::repair`]); returns what was
/// redone and what was not.
#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn recover_refused(desktop: State<'_, Desktop>) -> CommandResult<RecoveryReport> {
    let running = desktop.running()?;
    let repaired = running.office.repair(running.sync.as_ref()).await?;
    desktop.changed(None);
    Ok(repaired.recovered)
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn sync_problems(desktop: State<'_, Desktop>) -> CommandResult<Vec<String>> {
    with_office(&desktop, |o| o.sync_problems()).await
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn dismiss_sync_problems(
    desktop: State<'_, Desktop>,
    seen: Vec<String>,
) -> CommandResult<u64> {
    with_office(&desktop, move |o| o.dismiss_sync_problems(&seen)).await
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn hub_offices(desktop: State<'_, Desktop>) -> CommandResult<serde_json::Value> {
    Ok(desktop.running()?.office.hub_offices().await?)
}
