//! 工作记录: policy consultations, outreach and training, and the monthly dispute screening.

use ledger_office::{DutyOutlook, ScreeningView, WorkChange, WorkInput, WorkTotals, WorkView};
use tauri::State;

use super::with_office;
use crate::error::CommandResult;
use crate::state::Desktop;

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn work_records(
    desktop: State<'_, Desktop>,
    kind: String,
    year: Option<i32>,
) -> CommandResult<Vec<WorkView>> {
    with_office(&desktop, move |o| o.work_records(Some(&kind), year)).await
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn work_totals(
    desktop: State<'_, Desktop>,
    year: i32,
) -> CommandResult<WorkTotals> {
    with_office(&desktop, move |o| o.work_totals(year)).await
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn screening_month(
    desktop: State<'_, Desktop>,
    month: String,
) -> CommandResult<ScreeningView> {
    with_office(&desktop, move |o| o.screening_month(&month)).await
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn add_work(
    desktop: State<'_, Desktop>,
    input: WorkInput,
) -> CommandResult<WorkView> {
    let view = with_office(&desktop, move |o| o.add_work(input)).await?;
    desktop.changed(None);
    Ok(view)
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn change_work(
    desktop: State<'_, Desktop>,
    id: String,
    change: WorkChange,
    handler: Option<String>,
) -> CommandResult<WorkView> {
    let view =
        with_office(&desktop, move |o| o.change_work(&id, change, handler.as_deref())).await?;
    desktop.changed(None);
    Ok(view)
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn duty_outlook(
    desktop: State<'_, Desktop>,
    office: Option<String>,
    days: u32,
) -> CommandResult<DutyOutlook> {
    with_office(&desktop, move |o| o.duty_outlook(office.as_deref(), days)).await
}
