//! 期限, 统计 and files: due lists, statistics, import and export, printable documents.

use ledger_office::{
    CaseId, DocumentKind, DueList, ImportOptions, ImportReport, Period, Statistics, YearReport,
};
use tauri::State;

use super::with_office;
use crate::error::{CommandError, CommandResult};
use crate::state::Desktop;

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn due_list(
    desktop: State<'_, Desktop>,
    township: Option<String>,
) -> CommandResult<DueList> {
    with_office(&desktop, move |o| o.due(township.as_deref().filter(|t| !t.is_empty()))).await
}

/// The period of `from`..=`to` (ISO dates, both included).
pub(crate) fn period(from: &str, to: &str) -> CommandResult<Period> {
    let bad = |d: &str| CommandError::new("invalid_input", format!("日期「{d}」无效"));
    let period =
        Period { from: from.parse().map_err(|_| bad(from))?, to: to.parse().map_err(|_| bad(to))? };
    if period.from > period.to {
        return Err(CommandError::new(
            "invalid_input",
            format!("统计期间的开始日期「{from}」晚于结束日期「{to}」，请重新选择"),
        ));
    }
    Ok(period)
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn statistics(
    desktop: State<'_, Desktop>,
    from: String,
    to: String,
    township: Option<String>,
) -> CommandResult<Statistics> {
    let period = period(&from, &to)?;
    with_office(&desktop, move |o| {
        o.statistics(period, township.as_deref().filter(|t| !t.is_empty()))
    })
    .await
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn year_report(
    desktop: State<'_, Desktop>,
    year: i32,
    township: Option<String>,
) -> CommandResult<YearReport> {
    with_office(&desktop, move |o| {
        o.year_report(year, township.as_deref().filter(|t| !t.is_empty()))
    })
    .await
}

fn is_xlsx(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn export_ledger(
    desktop: State<'_, Desktop>,
    handle: String,
) -> CommandResult<usize> {
    let path = desktop.picks.path(&handle)?;
    let progress_to = desktop.inner_handle();
    with_office(&desktop, move |o| {
        let mut progress = |p: ledger_office::Progress| {
            progress_to.progress(crate::state::ProgressTask::Export, p.done, p.total)
        };
        if is_xlsx(&path) {
            o.export_xlsx(&path, &mut progress)
        } else {
            o.export_csv(&path, &mut progress)
        }
    })
    .await
}

/// Writes the statistics workbook of `from`..=`to` (the tables with year-over-year change; the
/// townships and, for a whole year, the months on their own sheets) to `path`.
#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn export_statistics(
    desktop: State<'_, Desktop>,
    from: String,
    to: String,
    handle: String,
    township: Option<String>,
) -> CommandResult<()> {
    let period = period(&from, &to)?;
    let path = desktop.picks.path(&handle)?;
    with_office(&desktop, move |o| {
        o.statistics_xlsx(period, township.as_deref().filter(|t| !t.is_empty()), &path)
    })
    .await
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn import_ledger(
    desktop: State<'_, Desktop>,
    handle: String,
    skip_invalid: bool,
    dry_run: bool,
    join_by_number: bool,
) -> CommandResult<ImportReport> {
    let path = desktop.picks.path(&handle)?;
    let progress_to = desktop.inner_handle();
    let report = with_office(&desktop, move |o| {
        let mut progress = |p: ledger_office::Progress| {
            progress_to.progress(crate::state::ProgressTask::Import, p.done, p.total)
        };
        // A clerk's file is never the demo data set.
        let options = ImportOptions { skip_invalid, dry_run, join_by_number, demo: false };
        o.import_file(&path, options, &mut progress)
    })
    .await?;
    if !dry_run {
        desktop.changed(None);
    }
    Ok(report)
}

/// 导入工作记录: a `.jsonl` file of work records (政策咨询, 宣传与培训, 排查 …) the dialog chose; a
/// dry run first says what it would add, and a file with one bad line adds nothing.
#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn import_work(
    desktop: State<'_, Desktop>,
    handle: String,
    dry_run: bool,
) -> CommandResult<ledger_office::WorkImportReport> {
    let path = desktop.picks.path(&handle)?;
    let report = with_office(&desktop, move |o| o.import_work_file(&path, dry_run)).await?;
    if !dry_run {
        desktop.changed(None);
    }
    Ok(report)
}

#[tauri::command(rename_all = "snake_case")]
pub(crate) async fn render_document(
    desktop: State<'_, Desktop>,
    id: String,
    kind: String,
    issue: bool,
) -> CommandResult<String> {
    let case: CaseId = id.parse().map_err(|_| CommandError::new("not_found", "案件标识无效"))?;
    let kind = DocumentKind::parse(&kind)
        .ok_or_else(|| CommandError::new("invalid_input", format!("文书类别「{kind}」无效")))?;
    let html = with_office(&desktop, move |o| o.document(case, &kind, issue, None)).await?;
    if issue {
        desktop.changed(Some(id));
    }
    Ok(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_two_iso_dates_in_order() {
        let p = period("2017-03-01", "2017-05-31").unwrap();
        assert_eq!(
            (p.from.to_string(), p.to.to_string()),
            ("2017-03-01".into(), "2017-05-31".into())
        );
        assert!(period("2017-03-01", "2017-03-01").is_ok());
        let bad = period("2017-02-30", "2017-03-31").unwrap_err();
        assert_eq!(
            (bad.code.as_str(), bad.message.as_str()),
            ("invalid_input", "日期「2017-02-30」无效")
        );
        let reversed = period("2017-06-01", "2017-03-31").unwrap_err();
        assert_eq!(reversed.code, "invalid_input");
        assert!(reversed.message.contains("晚于结束日期"), "{}", reversed.message);
    }
}
