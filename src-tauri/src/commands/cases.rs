//! 台账 and 案件详情: list, search, register, act, edit, attach.

use chrono::NaiveDate;
use ledger_office::{
    ActionInput, ActionKind, CaseField, CaseId, CaseQuery, CaseRow, CaseView, Category,
    CloseReason, DocumentKind, Draft, FollowUpMethod, HandlingTrack, NewCase, Outcome, Page,
    ReviewOutcome, Satisfaction, Status, SubmissionInput,
};
use serde::Deserialize;
use tauri::State;

use super::with_office;
use crate::error::{CommandError, CommandResult};
use crate::state::Desktop;

pub(crate) fn case_id(id: &str) -> CommandResult<CaseId> {
    id.parse().map_err(|_| CommandError::new("not_found", format!("案件标识「{id}」无效")))
}

/// The list filters as the UI sends them (codes; an empty one filters nothing).
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "CaseQuery", optional_fields))]
#[serde(default)]
pub(crate) struct QueryInput {
    status: Option<Status>,
    township: Option<String>,
    category: Option<Category>,
    source: Option<String>,
    received_from: Option<String>,
    received_to: Option<String>,
    text: Option<String>,
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    overdue: bool,
    limit: Option<u32>,
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    offset: u32,
}

impl QueryInput {
    /// The store's query: codes checked, empty filters dropped.
    pub(crate) fn into_query(self) -> CommandResult<CaseQuery> {
        Ok(CaseQuery {
            status: self.status.filter(|s| !s.code().is_empty()),
            township: self.township.filter(|s| !s.is_empty()),
            category: self.category.filter(|c| !c.code().is_empty()),
            source: self.source.filter(|s| !s.is_empty()),
            received_from: date(self.received_from.as_deref())?,
            received_to: date(self.received_to.as_deref())?,
            text: self.text.filter(|s| !s.trim().is_empty()),
            overdue: self.overdue,
            limit: self.limit,
            offset: self.offset,
            ..Default::default()
        })
    }
}

pub(crate) fn date(value: Option<&str>) -> CommandResult<Option<NaiveDate>> {
    value
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse().map_err(|_| CommandError::new("invalid_input", format!("日期「{s}」无效")))
        })
        .transpose()
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn list_cases(
    desktop: State<'_, Desktop>,
    query: QueryInput,
) -> CommandResult<Page> {
    let q = query.into_query()?;
    with_office(&desktop, move |o| o.list(&q)).await
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn case_detail(
    desktop: State<'_, Desktop>,
    id: String,
) -> CommandResult<CaseView> {
    let id = case_id(&id)?;
    with_office(&desktop, move |o| o.view(id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn register_case(
    desktop: State<'_, Desktop>,
    input: NewCase,
    handler: Option<String>,
) -> CommandResult<String> {
    let id = with_office(&desktop, move |o| o.register(&input, handler.as_deref())).await?;
    desktop.changed(Some(id.to_string()));
    Ok(id.to_string())
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn similar_cases(
    desktop: State<'_, Desktop>,
    name: String,
    village: String,
) -> CommandResult<Vec<CaseRow>> {
    with_office(&desktop, move |o| o.similar_open_cases(&name, &village)).await
}

/// 全县重复信访提示: the petitioners' open matters elsewhere in the county, as the hub may tell
/// this office. Offline or not enrolled, the error says so; the form keeps its local hint.
#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn county_repeats(
    desktop: State<'_, Desktop>,
    id_numbers: Vec<String>,
) -> CommandResult<Vec<ledger_office::CountyRepeat>> {
    Ok(desktop.running()?.office.county_repeats(&id_numbers).await?)
}

/// An action as the UI sends it: codes or labels.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[cfg_attr(test, ts(rename = "ActionInput", optional_fields))]
#[serde(default)]
pub(crate) struct ActInput {
    #[cfg_attr(test, ts(optional = false))]
    action: String,
    target: Option<String>,
    due: Option<String>,
    text: Option<String>,
    result: Option<String>,
    reason: Option<String>,
    outcome: Option<String>,
    /// 送达日期, for 送达.
    date: Option<String>,
    /// 文书类别, for 送达 (the reply's when absent).
    document_kind: Option<String>,
    /// 复查/复核结论, for 复查意见 and 复核意见.
    review_outcome: Option<String>,
    /// 办理程序, for 受理 and 交办 (proposed from the 信访目的 when absent).
    track: Option<String>,
    handler: Option<String>,
    /// 督办单, for 督办反馈: the 督办 event's id.
    refers: Option<String>,
    /// 回访方式, for 回访.
    method: Option<String>,
    /// 无法回访, for 回访.
    unreachable: Option<bool>,
}

fn coded<T>(
    value: Option<String>,
    parse: fn(&str) -> Option<T>,
    label: &str,
) -> CommandResult<Option<T>> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            parse(&v)
                .ok_or_else(|| CommandError::new("invalid_input", format!("{label}「{v}」无效")))
        })
        .transpose()
}

impl ActInput {
    /// The office's action input: the action, dates and codes checked.
    pub(crate) fn into_action(self) -> CommandResult<ActionInput> {
        let action = ActionKind::parse(&self.action).ok_or_else(|| {
            CommandError::new("invalid_input", format!("办理动作「{}」无效", self.action))
        })?;
        let due = date(self.due.as_deref())?;
        Ok(ActionInput {
            action: Some(action),
            target: self.target,
            due,
            text: self.text,
            result: coded(self.result, Satisfaction::parse, "评价结果")?,
            reason: coded(self.reason, CloseReason::parse, "办结原因")?,
            outcome: coded(self.outcome, Outcome::parse, "处理意见")?,
            document_kind: coded(self.document_kind, DocumentKind::parse, "文书类别")?,
            date: date(self.date.as_deref())?,
            review_outcome: coded(self.review_outcome, ReviewOutcome::parse, "复查、复核结论")?,
            track: coded(self.track, HandlingTrack::parse, "办理程序")?,
            handler: self.handler,
            refers: self.refers,
            method: coded(self.method, FollowUpMethod::parse, "回访方式")?,
            unreachable: self.unreachable.unwrap_or(false),
        })
    }
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn act(
    desktop: State<'_, Desktop>,
    id: String,
    input: ActInput,
) -> CommandResult<String> {
    let case = case_id(&id)?;
    let action_input = input.into_action()?;
    let status = with_office(&desktop, move |o| o.act(case, &action_input)).await?;
    desktop.changed(Some(id));
    Ok(status.code().to_owned())
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn add_submission(
    desktop: State<'_, Desktop>,
    id: String,
    input: SubmissionInput,
) -> CommandResult<String> {
    let case = case_id(&id)?;
    let sub = with_office(&desktop, move |o| o.add_submission(case, &input, None)).await?;
    desktop.changed(Some(id));
    Ok(sub)
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn set_field(
    desktop: State<'_, Desktop>,
    id: String,
    field: String,
    value: String,
) -> CommandResult<()> {
    let case = case_id(&id)?;
    let field = case_field(&field)?;
    with_office(&desktop, move |o| o.set_field(case, &field, &value)).await?;
    desktop.changed(Some(id));
    Ok(())
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn set_draft(
    desktop: State<'_, Desktop>,
    id: String,
    draft: String,
    text: String,
) -> CommandResult<()> {
    let case = case_id(&id)?;
    let draft = match draft.as_str() {
        "reply" => Draft::Reply,
        "investigation" => Draft::Investigation,
        other => {
            return Err(CommandError::new("invalid_input", format!("草稿类别「{other}」无效")));
        }
    };
    with_office(&desktop, move |o| o.set_draft(case, draft, &text)).await?;
    desktop.changed(Some(id));
    Ok(())
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn resolve_conflict(
    desktop: State<'_, Desktop>,
    id: String,
    field: String,
    value: String,
) -> CommandResult<()> {
    let case = case_id(&id)?;
    let field = case_field(&field)?;
    with_office(&desktop, move |o| o.resolve_conflict(case, &field, &value, None)).await?;
    desktop.changed(Some(id));
    Ok(())
}

pub(crate) fn case_field(name: &str) -> CommandResult<CaseField> {
    CaseField::parse(name)
        .ok_or_else(|| CommandError::new("invalid_input", format!("字段「{name}」无效")))
}

/// Attaches the file a dialog chose (`handle` from `pick_files`): its size is checked before a
/// byte is read, and the file is read on a blocking thread.
#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn attach_file(
    desktop: State<'_, Desktop>,
    id: String,
    handle: String,
) -> CommandResult<String> {
    let case = case_id(&id)?;
    let path = desktop.picks.path(&handle)?;
    let hash = with_office(&desktop, move |o| o.attach_file(case, &path)).await?;
    desktop.changed(Some(id));
    Ok(hash)
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn open_attachment(
    desktop: State<'_, Desktop>,
    hash: String,
    name: String,
) -> CommandResult<()> {
    let bytes = with_office(&desktop, move |o| o.attachment(&hash)).await?;
    // A private directory of this user, emptied at exit: not the shared temporary directory.
    let path = crate::files::write_opened(desktop.data_dir(), &name, &bytes)?;
    tauri_plugin_opener::open_path(&path, None::<&str>).map_err(|e| {
        CommandError::new("io", format!("无法打开附件：{e}；文件已保存在 {}", path.display()))
    })
}
