//! Reports and documents: the year's statistics for the 统计 screen, the statistics tables with
//! year-over-year change, the summary paragraph, Excel export and import of the ledger, the
//! statistics workbook, and the statutory documents printed from a case (previewed, or issued
//! with a 文书编号 and recorded as a 出具文书 event).

use std::path::Path;

use chrono::{Datelike, NaiveDate};
use ledger_domain::facts::CaseFacts;
use ledger_domain::schema;
use ledger_domain::stats::{Period, Statistics, StatsQuery, statistics};
use ledger_domain::workflow::{permit, replay};
use ledger_domain::{ActionKind, Case, CaseId, DocumentKind, Role};
use ledger_report::{
    Breakdown, DocumentRequest, ReportError, ReportTables, check_document, ledger_xlsx, read_xlsx,
    referring_body, render_document, statistics_xlsx, summary_paragraph, work_paragraph,
};
use ledger_store::DocKind;
use serde::Serialize;

use crate::Office;
use crate::error::{OfficeError, Result};
use crate::import::{ImportOptions, ImportReport, Progress};

/// A year's statistics as the desktop's 统计 screen shows them: the year, the year before, and
/// each month (January first).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct YearReport {
    /// The year's statistics.
    pub year: Statistics,
    /// The year before's, for year-over-year change.
    pub previous: Statistics,
    /// The twelve months of the year.
    pub months: Vec<Statistics>,
}

/// What importing one file of a folder did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum FolderImport {
    /// A ledger file (cases).
    Ledger(ImportReport),
    /// A work-record file.
    Work(crate::WorkImportReport),
}

/// Where the 信访处理意见书 tells the petitioner to ask for a review (信访工作条例 §35: the
/// body one level above the one that handled it).
const REVIEW_BODY: &str = "本机关的上一级行政机关";

/// What a township's 办结报告 is addressed to: the bureau that assigned the case.
const BUREAU_ADDRESSEE: &str = "县国土资源局";

fn report_error(e: ReportError) -> OfficeError {
    match e {
        ReportError::Refused(message) => OfficeError::Refused(message),
        other => OfficeError::BadFile(other.to_string()),
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| {
        OfficeError::BadFile(format!(
            "无法写入 {}：{e}；请检查目录是否存在、文件是否正被 Excel 打开",
            path.display()
        ))
    })
}

/// Adds `offset` to the row number of a `第N行 列名: reason` message, so rows under a title row
/// are named by their Excel row.
fn shift_row(message: &str, offset: usize) -> String {
    let Some(rest) = message.strip_prefix('第') else { return message.to_owned() };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    match (digits.parse::<usize>(), rest[digits.len()..].strip_prefix('行')) {
        (Ok(n), Some(tail)) => format!("第{}行{tail}", n + offset),
        _ => message.to_owned(),
    }
}

impl Office {
    /// The statistics of a period as of the earlier of its end and today, with the 停访息诉
    /// window in force that day (the hub's `/v1/stats` judges alike).
    pub(crate) fn period_stats(
        &self,
        facts: &[CaseFacts],
        period: Period,
        township: Option<&str>,
    ) -> Statistics {
        let as_of = period.to.min(self.today());
        let query = StatsQuery {
            period,
            township,
            as_of,
            settled_window_days: self.store.rules().policies.for_date(as_of).settled_window_days,
        };
        statistics(facts, &query)
    }

    fn year_period(year: i32) -> Result<Period> {
        Period::year(year)
            .ok_or_else(|| OfficeError::invalid("year", "年份", format!("年份 {year} 无效")))
    }

    /// The year's statistics, the year before's and each month's, county-wide or for one
    /// township: what the 统计 screen shows.
    pub fn year_report(&self, year: i32, township: Option<&str>) -> Result<YearReport> {
        let facts = self.store.all_facts()?;
        let period = Self::year_period(year)?;
        let previous = Self::year_period(year - 1)?;
        let months = (1..=12)
            .filter_map(|m| Period::month(year, m))
            .map(|p| self.period_stats(&facts, p, township))
            .collect();
        Ok(YearReport {
            year: self.period_stats(&facts, period, township),
            previous: self.period_stats(&facts, previous, township),
            months,
        })
    }

    /// The statistics of `period` and of the same period a year earlier, as tables with the
    /// change of every figure.
    pub fn report_tables(&self, period: Period, township: Option<&str>) -> Result<ReportTables> {
        let facts = self.store.all_facts()?;
        let tables = self.tables_of(&facts, period, township);
        Ok(match township {
            None => tables.with_work(self.work_totals_between(period.from, period.to)?),
            Some(_) => tables,
        })
    }

    fn tables_of(
        &self,
        facts: &[CaseFacts],
        period: Period,
        township: Option<&str>,
    ) -> ReportTables {
        let current = self.period_stats(facts, period, township);
        let previous = period.previous_year().map(|p| self.period_stats(facts, p, township));
        ReportTables::new(&current, previous.as_ref())
    }

    /// The summary paragraph of `period` in the annual report's words, with a sentence on the
    /// change from a year earlier when that year had petitions; county-wide, the period's
    /// consultations and outreach follow, counted from the work records.
    pub fn summary(&self, period: Period, township: Option<&str>) -> Result<String> {
        let facts = self.store.all_facts()?;
        let current = self.period_stats(&facts, period, township);
        let previous = period.previous_year().map(|p| self.period_stats(&facts, p, township));
        let mut text = summary_paragraph(&current, previous.as_ref());
        if township.is_none() {
            text.push_str(&work_paragraph(
                &self.work_totals_between(period.from, period.to)?,
                &period,
            ));
        }
        Ok(text)
    }

    /// Writes the statistics workbook of `period`: the tables with year-over-year change, and
    /// for the county the figures of every township (and of every month, for a whole year).
    pub fn statistics_xlsx(
        &self,
        period: Period,
        township: Option<&str>,
        path: &Path,
    ) -> Result<()> {
        let facts = self.store.all_facts()?;
        let tables = self.tables_of(&facts, period, township);
        let mut breakdowns = Vec::new();
        if township.is_none() {
            let mut names: Vec<String> = self.config().townships;
            let mut others: Vec<String> = facts
                .iter()
                .filter_map(|f| f.township.clone())
                .filter(|t| !names.contains(t))
                .collect();
            others.sort();
            others.dedup();
            names.extend(others);
            let mut rows = vec![("全县".to_owned(), self.period_stats(&facts, period, None))];
            rows.extend(names.into_iter().map(|t| {
                let s = self.period_stats(&facts, period, Some(&t));
                (t, s)
            }));
            breakdowns.push(Breakdown {
                sheet: "分乡镇".to_owned(),
                heading: "乡镇".to_owned(),
                rows,
            });
        }
        if Period::year(period.from.year()) == Some(period) {
            let rows = (1..=12)
                .filter_map(|m| Period::month(period.from.year(), m))
                .map(|p| (format!("{}月", p.from.month()), self.period_stats(&facts, p, township)))
                .collect();
            breakdowns.push(Breakdown {
                sheet: "分月".to_owned(),
                heading: "月份".to_owned(),
                rows,
            });
        }
        let bytes = statistics_xlsx(&tables, &breakdowns).map_err(report_error)?;
        write_file(path, &bytes)
    }

    /// Writes the ledger as an .xlsx workbook in the canonical import layout (one row per
    /// submission). Returns the number of rows.
    pub fn export_xlsx(&self, path: &Path, progress: &mut dyn FnMut(Progress)) -> Result<usize> {
        let (header, rows) = self.export_table(progress)?;
        let bytes = ledger_xlsx(&header, &rows).map_err(report_error)?;
        write_file(path, &bytes)?;
        Ok(rows.len())
    }

    /// Imports an .xlsx ledger through the same checks as a CSV file. Bad rows are named by
    /// their Excel row number.
    pub fn import_xlsx(
        &self,
        path: &Path,
        options: ImportOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport> {
        let bytes = std::fs::read(path)
            .map_err(|e| OfficeError::BadFile(format!("无法读取文件 {}：{e}", path.display())))?;
        let sheet = read_xlsx(&bytes).map_err(report_error)?;
        // import_table numbers rows as if the header were on row 1.
        let offset = sheet.header_row.saturating_sub(1);
        match self.import_table(&sheet.header, &sheet.rows, options, progress) {
            Ok(mut report) => {
                report.invalid = report.invalid.iter().map(|m| shift_row(m, offset)).collect();
                Ok(report)
            }
            Err(OfficeError::ImportRejected(rows)) => Err(OfficeError::ImportRejected(
                rows.iter().map(|m| shift_row(m, offset)).collect(),
            )),
            Err(e) => Err(e),
        }
    }

    /// Imports a ledger file by its extension: .xlsx as Excel, anything else as CSV (UTF-8 or
    /// GBK).
    pub fn import_file(
        &self,
        path: &Path,
        options: ImportOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport> {
        let ext =
            path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        match ext.as_str() {
            "xlsx" | "xlsm" => self.import_xlsx(path, options, progress),
            "xls" | "et" => Err(OfficeError::BadFile(
                "旧的 .xls 格式无法直接导入：请在 Excel 中另存为 .xlsx 或「CSV UTF-8」后再导入"
                    .to_owned(),
            )),
            _ => self.import_csv(path, options, progress),
        }
    }

    /// Imports every ledger (`.csv`, `.xlsx`) and work-record file (`.jsonl`) of a folder, in
    /// name order (the 2017 sample is such a folder). Every file is tried first without writing:
    /// if any is refused, nothing of the folder is imported and the error names the file. Each
    /// file is then imported whole or not at all; a failure of the disk midway leaves the files
    /// before it imported, and importing the folder again completes it (what is in adds nothing).
    pub fn import_folder(
        &self,
        dir: &Path,
        options: ImportOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Vec<FolderImport>> {
        let unreadable = |e: std::io::Error| {
            OfficeError::BadFile(format!("无法读取文件夹 {}：{e}", dir.display()))
        };
        let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
            .map_err(unreadable)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let ext = p.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
                p.is_file() && matches!(ext.as_deref(), Some("csv" | "xlsx" | "jsonl"))
            })
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(OfficeError::BadFile(format!(
                "文件夹 {} 中没有可导入的台账（.csv、.xlsx）或工作记录（.jsonl）文件",
                dir.display()
            )));
        }
        let name =
            |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let named = |file: &Path, e: OfficeError| match e {
            OfficeError::ImportRejected(rows) => OfficeError::ImportRejected(
                rows.into_iter().map(|r| format!("{}：{r}", name(file))).collect(),
            ),
            other => OfficeError::BadFile(format!("{}：{other}", name(file))),
        };
        let mut done = Vec::new();
        for dry_run in [true, false] {
            if dry_run && options.dry_run {
                continue;
            }
            done.clear();
            for file in &files {
                let is_work = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("jsonl"));
                let run = ImportOptions { dry_run: dry_run || options.dry_run, ..options };
                let outcome = if is_work {
                    self.import_work_file(file, run.dry_run).map(FolderImport::Work)
                } else {
                    self.import_file(file, run, progress).map(FolderImport::Ledger)
                };
                let outcome = outcome.map_err(|e| named(file, e))?;
                if let FolderImport::Ledger(r) = &outcome
                    && !r.invalid.is_empty()
                    && !options.skip_invalid
                {
                    return Err(OfficeError::ImportRejected(
                        r.invalid.iter().map(|row| format!("{}：{row}", name(file))).collect(),
                    ));
                }
                done.push((name(file), outcome));
            }
            if options.dry_run {
                break;
            }
        }
        Ok(done.into_iter().map(|(_, o)| o).collect())
    }

    /// A statutory document of the case as printable HTML. Without `issue` it is a preview (or,
    /// for a kind issued before, a reprint with its number and date); with `issue` the next
    /// 文书编号 is assigned from a durable counter and the issue is recorded as a 出具文书
    /// event. Refused, saying what to do, when the case lacks the document's decisive event.
    pub fn document(
        &self,
        id: CaseId,
        kind: &DocumentKind,
        issue: bool,
        handler: Option<&str>,
    ) -> Result<String> {
        let cfg = self.config();
        let case = self.store.load_case(id)?;
        let rules = self.store.rules();
        let county = rules.county_on(self.today());
        if issue
            && cfg.role == Role::Township
            && !county.issues_own_documents
            && *kind != DocumentKind::CompletionReport
        {
            return Err(OfficeError::Refused(format!(
                "国土所是县局的内设（派出）机构，{}由县局编号出具；本所可预览、打印草稿，请报县局出具",
                kind.label()
            )));
        }
        check_document(&case, kind, &cfg.name).map_err(report_error)?;
        let addressee = self.addressee(&case, kind)?;
        // A document is served on a real person: the full names this office holds.
        let names = case.names(self.store.load_identity(id)?.as_ref());
        // A township issuing in its own name has its own next level up.
        let review_body = if cfg.role == Role::Township && county.issues_own_documents {
            county.township_review_body.as_deref()
        } else {
            county.review_body.as_deref()
        }
        .unwrap_or(REVIEW_BODY);
        let render = |number: Option<&str>, date: NaiveDate| {
            let legal_basis = rules.legal_basis(&case.category, date);
            render_document(&DocumentRequest {
                case: &case,
                kind,
                issuer: &cfg.name,
                addressee: addressee.as_deref(),
                number,
                date,
                policy: rules.policies.for_date(date),
                review_body,
                legal_basis: legal_basis.as_deref(),
                names: &names,
                by_bureau: cfg.role == Role::Bureau,
            })
            .map_err(report_error)
        };
        if !issue {
            let issued = case.documents().into_iter().rfind(|d| &d.kind == kind);
            return match issued {
                Some(d) => render(Some(&d.number), d.issued),
                None => render(None, self.today()),
            };
        }
        if self.store.row(id)?.is_some_and(|r| r.handed_over) {
            return Err(OfficeError::HandedOver);
        }
        let handler = self.handler(handler)?;
        permit(&replay(&case.events), &cfg.role, &ActionKind::IssueDocument)
            .map_err(|r| OfficeError::Refused(r.message))?;
        let today = self.today();
        let year = today.year();
        // Numbers come from blocks the hub leases each device, so two devices never issue the
        // same one; past its block and offline, a device's letter keeps them apart.
        let (seq, device) = self.series_number(&format!("document:{}:{year}", kind.code()))?;
        let number =
            format!("{}国土信{}〔{year}〕{device}{seq}号", cfg.number_prefix, kind.number_tag());
        let html = render(Some(&number), today)?;
        let mut event = self.event(&case, ActionKind::IssueDocument, handler);
        // The day printed on the document, even across midnight.
        event.date = today;
        event.document_kind = Some(kind.clone());
        event.document_number = Some(number.clone());
        self.store.edit(id, DocKind::Case, |tx| schema::add_event(tx, &event))?;
        tracing::info!(case = %id, kind = kind.code(), number = %number, "document issued");
        Ok(html)
    }

    /// Whom a 办结报告 goes to: a township reports to the bureau; the bureau reports to the body
    /// that referred the matter to it.
    fn addressee(&self, case: &Case, kind: &DocumentKind) -> Result<Option<String>> {
        if *kind != DocumentKind::CompletionReport {
            return Ok(None);
        }
        if self.role() == Role::Township {
            return Ok(Some(BUREAU_ADDRESSEE.to_owned()));
        }
        // The referring body by the full name registered with the referral, else by its kind.
        let first = case.submissions.iter().min_by_key(|s| (s.received, &s.id));
        let named = first.and_then(|s| s.referred_by.clone());
        match case.first_source().and_then(referring_body) {
            Some(body) => Ok(Some(named.unwrap_or_else(|| body.to_owned()))),
            None => Err(OfficeError::Refused(
                "本案为本局直接接收的信访事项，没有交办机关，不需要出具办结报告；交办乡镇办理的案件，由承办的国土所出具办结报告"
                    .to_owned(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_numbers_shift_by_the_rows_above_the_header() {
        assert_eq!(shift_row("第3行 登记日期: 必填", 1), "第4行 登记日期: 必填");
        assert_eq!(shift_row("第12行 人数: 「x」不是整数", 0), "第12行 人数: 「x」不是整数");
        assert_eq!(shift_row("表头缺少必需的列", 2), "表头缺少必需的列");
    }
}
