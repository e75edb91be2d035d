//! The Tauri commands: each extracts its input, calls one `Office` use case on a blocking thread,
//! and converts the error. Grouped by screen; the names match `ui/src/api/commands.md`.

pub(crate) mod cases;
pub(crate) mod reports;
pub(crate) mod setup;
pub(crate) mod sync;
pub(crate) mod work;

use ledger_office::{Office, OfficeError};

use crate::error::{CommandError, CommandResult};
use crate::state::Desktop;

/// Runs an office use case off the UI thread.
async fn with_office<T: Send + 'static>(
    desktop: &Desktop,
    f: impl FnOnce(&Office) -> Result<T, OfficeError> + Send + 'static,
) -> CommandResult<T> {
    let running = desktop.running()?;
    tauri::async_runtime::spawn_blocking(move || f(&running.office).map_err(CommandError::from))
        .await
        .map_err(|e| CommandError::new("internal", format!("内部错误：{e}")))?
}

/// Opens a file dialog for `purpose` and keeps the chosen paths on this side; the webview gets
/// handles and names (empty when cancelled).
#[tauri::command(rename_all = "snake_case")]
async fn pick_files(
    app: tauri::AppHandle,
    desktop: tauri::State<'_, Desktop>,
    purpose: crate::files::Purpose,
    text: crate::files::DialogText,
) -> CommandResult<Vec<crate::files::Picked>> {
    crate::files::pick(&app, &desktop.picks, purpose, text).await
}

/// Every command, for `invoke_handler`.
pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        setup::app_state,
        setup::vocabularies,
        setup::enroll,
        setup::setup_local,
        setup::unlock,
        setup::recovery_shown,
        setup::update_staff,
        setup::rules_view,
        setup::set_rule,
        setup::remove_demo,
        setup::township_choices,
        cases::list_cases,
        cases::case_detail,
        cases::register_case,
        cases::similar_cases,
        cases::county_repeats,
        cases::act,
        cases::add_submission,
        cases::set_field,
        cases::set_draft,
        cases::resolve_conflict,
        cases::attach_file,
        pick_files,
        cases::open_attachment,
        reports::due_list,
        reports::statistics,
        reports::year_report,
        reports::export_ledger,
        reports::export_statistics,
        reports::import_ledger,
        reports::import_work,
        reports::render_document,
        sync::sync_status,
        sync::sync_now,
        sync::quarantine,
        sync::retry_quarantined,
        sync::recover_refused,
        sync::restart_sync,
        sync::sync_problems,
        sync::dismiss_sync_problems,
        sync::hub_offices,
        work::work_records,
        work::work_totals,
        work::screening_month,
        work::add_work,
        work::change_work,
        work::duty_outlook,
    ]
}
