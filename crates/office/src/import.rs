//! Importing and exporting the ledger (台账) in its canonical layout.
//!
//! A ledger is a table with a header row: [`LEDGER_COLUMNS`], in any order, with common header
//! variants accepted and unknown columns reported (not fatal). Rows sharing a 案件标识 (the case
//! id every export carries), or in a legacy ledger a 案件编号, are submissions of one case.
//!
//! A row joins a case already in this store only when it really is that matter: its 案件标识 names
//! the case. A 案件编号 alone proves nothing (two offices' exports both start at 洞口-2026-A-0001),
//! so a row that matches only by number becomes a new case, under a number of this store, unless
//! the clerk confirmed the match ([`ImportOptions::join_by_number`]); the report lists every such
//! row either way. A dry run ([`ImportOptions::dry_run`]) reports what an import would do and
//! writes nothing: the app shows it and asks before applying.
//!
//! Every row is checked with the same rules as the register form; if
//! any row is invalid nothing is imported and every bad row is listed as `第N行 列名: reason`
//! (unless invalid rows are to be skipped). Rows are fingerprinted, so importing the same file
//! again adds nothing. A row whose 办理状态 is past 登记 gets imported history: 交办 and later
//! carry an assignment to the row's township.
//!
//! CSV files may be UTF-8 (with or without BOM) or GBK/GB18030. XLSX goes through the same
//! [`Office::import_table`] path.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use ledger_domain::workflow::replay;
use ledger_domain::{
    ActionKind, Case, CaseId, CloseReason, Event, EventHead, NewCase, NewPetitioner, NewSubmission,
    Satisfaction, Status,
};
use ledger_store::CaseQuery;
use serde::Serialize;

use crate::Office;
use crate::error::{OfficeError, Result};

/// The canonical ledger columns, in export order.
pub const LEDGER_COLUMNS: [&str; 25] = [
    "案件编号",
    "登记日期",
    "信访形式",
    "信访来源",
    "信访人",
    "证件号码",
    "联系电话",
    "住址",
    "人数",
    "所属乡镇",
    "涉及领域",
    "问题类别",
    "诉求内容",
    "是否越级",
    "是否重复",
    "办理状态",
    "答复日期",
    "办结日期",
    "满意度",
    "信访目的",
    "案件标识",
    // Added later, after the columns a fingerprint covers: old files keep their fingerprints.
    "是否重大紧急",
    "是否扬言",
    "是否涉法涉诉",
    "平台编号",
];

/// The columns a row's fingerprint covers: the ledger's original nineteen, so a file imported
/// before 信访目的 and 案件标识 were added is still recognised when imported again.
const FINGERPRINT_COLUMNS: usize = 19;

/// Header spellings seen in real ledgers, mapped to the canonical column.
const HEADER_VARIANTS: &[(&str, &str)] = &[
    ("编号", "案件编号"),
    ("案件号", "案件编号"),
    ("事项编号", "案件编号"),
    ("序号编号", "案件编号"),
    ("信访日期", "登记日期"),
    ("来信来访日期", "登记日期"),
    ("受理日期", "登记日期"),
    ("日期", "登记日期"),
    ("收件日期", "登记日期"),
    ("形式", "信访形式"),
    ("信访方式", "信访形式"),
    ("来信来访形式", "信访形式"),
    ("来源", "信访来源"),
    ("信访渠道", "信访来源"),
    ("姓名", "信访人"),
    ("信访人姓名", "信访人"),
    ("当事人", "信访人"),
    ("反映人", "信访人"),
    ("身份证号", "证件号码"),
    ("身份证号码", "证件号码"),
    ("身份证", "证件号码"),
    ("电话", "联系电话"),
    ("手机", "联系电话"),
    ("手机号码", "联系电话"),
    ("联系方式", "联系电话"),
    ("地址", "住址"),
    ("家庭住址", "住址"),
    ("通讯地址", "住址"),
    ("人次", "人数"),
    ("来访人数", "人数"),
    ("乡镇", "所属乡镇"),
    ("所属乡镇(街道)", "所属乡镇"),
    ("乡镇(街道)", "所属乡镇"),
    ("问题属地", "所属乡镇"),
    ("领域", "涉及领域"),
    ("类别", "问题类别"),
    ("目的", "信访目的"),
    ("案件ID", "案件标识"),
    ("案件id", "案件标识"),
    ("信访目的类别", "信访目的"),
    ("问题类型", "问题类别"),
    ("信访类别", "问题类别"),
    ("内容分类", "问题类别"),
    ("反映问题", "诉求内容"),
    ("信访内容", "诉求内容"),
    ("诉求", "诉求内容"),
    ("主要内容", "诉求内容"),
    ("反映内容", "诉求内容"),
    ("越级", "是否越级"),
    ("是否越级访", "是否越级"),
    ("重复", "是否重复"),
    ("是否重复访", "是否重复"),
    ("重大紧急", "是否重大紧急"),
    ("扬言", "是否扬言"),
    ("涉法涉诉", "是否涉法涉诉"),
    ("12336平台编号", "平台编号"),
    ("举报编号", "平台编号"),
    ("状态", "办理状态"),
    ("办理情况", "办理状态"),
    ("处理状态", "办理状态"),
    ("回复日期", "答复日期"),
    ("结案日期", "办结日期"),
    ("满意度评价", "满意度"),
    ("群众满意度", "满意度"),
    ("评价", "满意度"),
];

/// How to import.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Import the good rows and report the bad ones, instead of importing nothing.
    pub skip_invalid: bool,
    /// Report what the import would do and write nothing.
    pub dry_run: bool,
    /// The clerk confirmed that rows matching a case here only by 案件编号 are that case's
    /// further submissions. Without it they become new cases.
    pub join_by_number: bool,
    /// The rows are the demo data set: every case they make is marked 演示数据, removable
    /// everywhere later ([`Office::remove_demo`]).
    pub demo: bool,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportReport {
    /// Data rows read.
    pub rows: usize,
    /// New cases created.
    pub cases: usize,
    /// Rows added as further submissions to cases already here.
    pub added_submissions: usize,
    /// Rows already imported before (same fingerprint): nothing added.
    pub duplicates: usize,
    /// Invalid rows, as `第N行 列名: reason` (skipped with `skip_invalid`).
    pub invalid: Vec<String>,
    /// Columns not in the layout (ignored).
    pub unknown_columns: Vec<String>,
    /// The bureau's steps (受理, 交办, 办结 ...) a township's import left out: the bureau
    /// records its own decisions.
    pub bureau_steps_left_out: usize,
    /// Nothing was written: this is what the import would do.
    pub dry_run: bool,
    /// Rows whose 案件编号 is a case here but no 案件标识 says they are that case, and what became
    /// of each (a new case, or with the clerk's confirmation a further submission).
    pub number_matches: Vec<String>,
    /// New cases whose 案件编号 this store already uses, registered under a number of their own.
    pub renumbered: Vec<String>,
}

/// Progress of a long import or export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Rows or cases done.
    pub done: usize,
    /// Rows or cases in all.
    pub total: usize,
}

fn canonical(header: &str) -> Option<&'static str> {
    let h: String = header
        .trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            c => c,
        })
        .collect();
    LEDGER_COLUMNS
        .iter()
        .find(|c| **c == h)
        .copied()
        .or_else(|| HEADER_VARIANTS.iter().find(|(v, _)| *v == h).map(|(_, c)| *c))
}

/// Decodes a CSV file: UTF-8 (BOM stripped) or GBK/GB18030.
pub(crate) fn decode_text(bytes: &[u8]) -> Result<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_owned());
    }
    let (text, _, had_errors) = encoding_rs::GB18030.decode(bytes);
    if had_errors {
        return Err(OfficeError::BadFile(
            "文件编码无法识别：请在 Excel 中另存为「CSV UTF-8」或 GBK 编码的 CSV 后再导入"
                .to_owned(),
        ));
    }
    Ok(text.into_owned())
}

/// The most characters a spreadsheet cell holds (Excel's limit): a longer one is not a ledger.
const MAX_CELL_CHARS: usize = 32_767;

/// What a spreadsheet would take for a formula at the start of a cell (OWASP, CSV injection).
fn formula_start(s: &str) -> bool {
    matches!(s.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r'))
}

/// A CSV cell as exported: one `'` before text a spreadsheet would run as a formula
/// (`=HYPERLINK(...)` opens as text), and before text that already starts with quotes and
/// then such a character, so [`restore_cell`] gives back exactly what was exported.
pub(crate) fn neutralize_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    if formula_start(cell.trim_start_matches('\'')) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// A CSV cell as imported: the `'` [`neutralize_cell`] added is taken off again.
pub(crate) fn restore_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if formula_start(rest.trim_start_matches('\'')) => rest,
        _ => cell,
    }
}

/// Parses CSV text into a header and rows, undoing the export's formula neutralisation.
pub(crate) fn parse_csv(text: &str) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(r)) => r.iter().map(str::to_owned).collect(),
        Some(Err(e)) => return Err(OfficeError::BadFile(format!("CSV 文件格式有误：{e}"))),
        None => return Err(OfficeError::BadFile("文件是空的，没有表头行".to_owned())),
    };
    let mut rows = Vec::new();
    for (i, record) in records.enumerate() {
        let record =
            record.map_err(|e| OfficeError::BadFile(format!("第{}行 CSV 格式有误：{e}", i + 2)))?;
        if record.iter().all(|f| f.trim().is_empty()) {
            rows.push(Vec::new());
            continue;
        }
        rows.push(record.iter().map(|f| restore_cell(f).to_owned()).collect());
    }
    Ok((header, rows))
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    for fmt in ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, fmt) {
            return Some(d);
        }
    }
    None
}

fn parse_flag(s: &str) -> Option<bool> {
    match s.trim() {
        "" | "否" | "N" | "n" | "no" | "0" | "false" => Some(false),
        "是" | "Y" | "y" | "yes" | "1" | "true" => Some(true),
        _ => None,
    }
}

/// What ties rows of one file into one case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum GroupKey {
    /// The 案件标识 an export wrote.
    Id(CaseId),
    /// A legacy ledger's 案件编号.
    Number(String),
}

/// Where a group of rows lands.
enum Landing {
    /// Further submissions of a case already here.
    Join(CaseId),
    /// A new case, under its own number or (`None`) one of this store's.
    New { number: Option<String> },
}

/// One checked row.
struct Row {
    line: usize,
    /// The 案件标识 the row names (an export's own case id).
    case_id: Option<CaseId>,
    number: String,
    fingerprint: String,
    input: NewCase,
    status: Status,
    reply_on: Option<NaiveDate>,
    closed_on: Option<NaiveDate>,
    satisfaction: Option<Satisfaction>,
}

/// The cells of a row that were read (and checked) before its case is built.
#[derive(Debug, Clone, Copy)]
struct Submitted {
    received: Option<NaiveDate>,
    persons: Option<u32>,
    skip_level: bool,
    repeat: bool,
    /// 重大紧急, 扬言, 涉法涉诉.
    urgent: bool,
    threat: bool,
    litigation: bool,
}

/// One data row of a ledger file, read by column name, with the problems found so far (each
/// named by line and column, as the clerk sees them).
struct Cells<'a> {
    line: usize,
    cells: &'a [String],
    columns: &'a HashMap<&'static str, usize>,
    errors: Vec<String>,
}

impl<'a> Cells<'a> {
    /// The trimmed cell of `col` ("" when the file has no such column).
    fn get(&self, col: &str) -> &'a str {
        self.columns.get(col).and_then(|&i| self.cells.get(i)).map_or("", |s| s.trim())
    }

    fn err(&mut self, col: &str, msg: impl std::fmt::Display) {
        self.errors.push(format!("第{}行 {col}: {msg}", self.line));
    }

    /// A date cell; blank is `None`, anything unreadable is a problem.
    fn date(&mut self, col: &str) -> Option<NaiveDate> {
        let raw = self.get(col);
        if raw.is_empty() {
            return None;
        }
        let d = parse_date(raw);
        if d.is_none() {
            self.err(col, format!("「{raw}」不是日期，应写作 2017-03-01 或 2017/3/1"));
        }
        d
    }

    /// A 是/否 cell (blank is 否).
    fn flag(&mut self, col: &str) -> bool {
        let raw = self.get(col);
        parse_flag(raw).unwrap_or_else(|| {
            self.err(col, format!("「{raw}」应填「是」或「否」"));
            false
        })
    }

    /// 人数: a whole number, or blank.
    fn persons(&mut self) -> Option<u32> {
        match self.get("人数") {
            "" => None,
            raw => {
                raw.parse::<u32>().map_err(|_| self.err("人数", format!("「{raw}」不是整数"))).ok()
            }
        }
    }

    /// 办理状态 (blank: registered).
    fn status(&mut self) -> Status {
        match self.get("办理状态") {
            "" => Status::Registered,
            raw => Status::parse(raw).unwrap_or_else(|| {
                self.err("办理状态", format!("不认识「{raw}」，应为：{}", Status::known_labels()));
                Status::Registered
            }),
        }
    }

    /// 满意度, or blank.
    fn satisfaction(&mut self) -> Option<Satisfaction> {
        let raw = self.get("满意度");
        if raw.is_empty() {
            return None;
        }
        let s = Satisfaction::parse(raw);
        if s.is_none() {
            self.err("满意度", format!("不认识「{raw}」，应为：{}", Satisfaction::known_labels()));
        }
        s
    }

    /// The dates a status needs, in the order they can happen.
    fn check_dates(
        &mut self,
        status: &Status,
        received: Option<NaiveDate>,
        reply_on: Option<NaiveDate>,
        closed_on: Option<NaiveDate>,
    ) {
        if matches!(status, Status::Replied | Status::UnderReview) && reply_on.is_none() {
            self.err("答复日期", format!("办理状态为「{}」，须填写答复日期", status.label()));
        }
        if *status == Status::Closed && closed_on.is_none() {
            self.err("办结日期", "办理状态为「办结」，须填写办结日期".to_owned());
        }
        if let (Some(r), Some(reply)) = (received, reply_on)
            && reply < r
        {
            self.err("答复日期", format!("答复日期 {reply} 早于登记日期 {r}"));
        }
        if let (Some(r), Some(closed)) = (received.or(reply_on), closed_on)
            && closed < r
        {
            self.err("办结日期", format!("办结日期 {closed} 早于登记或答复日期 {r}"));
        }
    }

    /// The row as the register form's input.
    fn new_case(&self, s: Submitted) -> NewCase {
        let Submitted { received, persons, skip_level, repeat, urgent, threat, litigation } = s;
        let name = self.get("信访人");
        NewCase {
            submission: NewSubmission {
                received,
                channel: self.get("信访形式").to_owned(),
                source: self.get("信访来源").to_owned(),
                persons,
                batches: None,
                collective: None,
                skip_level,
                repeat,
                anonymous: name.is_empty(),
                confidential: false,
                summary: String::new(),
                // The ledger layout has no 来文机关/文号 columns yet.
                referred_by: String::new(),
                referral_number: String::new(),
                platform_number: self.get("平台编号").to_owned(),
                urgent,
                threat,
                litigation,
            },
            purpose: self.get("信访目的").to_owned(),
            sector: self.get("涉及领域").to_owned(),
            category: self.get("问题类别").to_owned(),
            township: self.get("所属乡镇").to_owned(),
            subject: String::new(),
            request: self.get("诉求内容").to_owned(),
            village: String::new(),
            petitioners: if name.is_empty() {
                Vec::new()
            } else {
                vec![NewPetitioner {
                    name: name.to_owned(),
                    id_number: self.get("证件号码").to_owned(),
                    phone: self.get("联系电话").to_owned(),
                    address: self.get("住址").to_owned(),
                    ..Default::default()
                }]
            },
        }
    }

    /// 案件标识: an export's own case id, or blank.
    fn case_id(&mut self) -> Option<CaseId> {
        match self.get("案件标识") {
            "" => None,
            raw => raw
                .parse::<CaseId>()
                .map_err(|_| {
                    self.err(
                        "案件标识",
                        format!("「{raw}」不是本系统导出的案件标识；不知道时请留空"),
                    )
                })
                .ok(),
        }
    }

    /// What identifies the row's content across imports (its first columns, as written).
    fn fingerprint(&self) -> String {
        let mut h = blake3::Hasher::new();
        for col in &LEDGER_COLUMNS[..FINGERPRINT_COLUMNS] {
            h.update(self.get(col).as_bytes());
            h.update(b"\x1f");
        }
        h.finalize().to_hex().to_string()
    }
}

/// The history a ledger row's 办理状态 implies, each step with its day: an old ledger kept
/// only the status, so an import records the steps that lead to it. 受理 (or its
/// alternatives), 交办, 调查 and 延期 fall on the day received; 答复 and 复查 on the reply day;
/// 评价 and 办结 on the day closed. `reply_on` is the reply day (or the day closed, or received).
fn implied_steps(
    status: &Status,
    received: NaiveDate,
    reply_on: NaiveDate,
    closed_on: Option<NaiveDate>,
    evaluated: bool,
) -> Vec<(ActionKind, NaiveDate)> {
    use Status as S;
    let mut steps = Vec::new();
    match status {
        S::Accepted => steps.push((ActionKind::Accept, received)),
        S::NotAccepted => steps.push((ActionKind::NotAccept, received)),
        S::Forwarded => steps.push((ActionKind::Forward, received)),
        S::Voided => steps.push((ActionKind::Void, received)),
        _ => {}
    }
    let replied = matches!(status, S::Replied | S::UnderReview | S::Closed);
    if replied || matches!(status, S::Assigned | S::InProgress | S::Extended) {
        steps.push((ActionKind::Assign, received));
    }
    if matches!(status, S::InProgress | S::Extended) {
        steps.push((ActionKind::Investigate, received));
    }
    if *status == S::Extended {
        steps.push((ActionKind::Extend, received));
    }
    if replied {
        steps.push((ActionKind::Reply, reply_on));
    }
    if *status == S::UnderReview {
        steps.push((ActionKind::Review, reply_on));
    }
    if evaluated && replied {
        steps.push((ActionKind::Evaluate, closed_on.unwrap_or(reply_on)));
    }
    if *status == S::Closed {
        steps.push((ActionKind::Close, closed_on.unwrap_or(reply_on)));
    }
    steps
}

/// The first petitioner's name on a row ("" for an anonymous row).
fn first_name(row: &Row) -> &str {
    row.input.petitioners.first().map_or("", |p| p.name.as_str())
}

fn row_year(row: &Row) -> String {
    row.input.submission.received.map(|d| d.format("%Y").to_string()).unwrap_or_default()
}

/// A row's field errors become `第N行 列名: reason`.
fn column_of(field: &str) -> &'static str {
    match field {
        "received" => "登记日期",
        "channel" => "信访形式",
        "source" => "信访来源",
        "purpose" => "信访目的",
        "persons" | "batches" => "人数",
        "township" => "所属乡镇",
        "sector" => "涉及领域",
        "category" => "问题类别",
        "request" => "诉求内容",
        f if f.ends_with(".id_number") => "证件号码",
        f if f.ends_with(".phone") => "联系电话",
        f if f.starts_with("petitioners") => "信访人",
        _ => "登记",
    }
}

impl Office {
    /// Imports a CSV ledger file.
    pub fn import_csv(
        &self,
        path: &Path,
        options: ImportOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport> {
        let bytes = std::fs::read(path)
            .map_err(|e| OfficeError::BadFile(format!("无法读取文件 {}：{e}", path.display())))?;
        let (header, rows) = parse_csv(&decode_text(&bytes)?)?;
        self.import_table(&header, &rows, options, progress)
    }

    /// Imports a ledger table (from CSV or XLSX): checks every row, then writes all the cases in
    /// one transaction.
    pub fn import_table(
        &self,
        header: &[String],
        rows: &[Vec<String>],
        options: ImportOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport> {
        // A cell longer than any spreadsheet holds is a broken file, not a ledger: refused whole.
        for (i, cells) in rows.iter().enumerate() {
            if let Some((c, cell)) =
                cells.iter().enumerate().find(|(_, c)| c.chars().count() > MAX_CELL_CHARS)
            {
                let column = header.get(c).map(|h| h.trim()).filter(|h| !h.is_empty());
                return Err(OfficeError::BadFile(format!(
                    "第{}行「{}」列有 {} 个字符，超过表格单元格的上限 {MAX_CELL_CHARS}：文件可能已损坏，请检查后再导入；台账未作任何改动",
                    i + 2,
                    column.map_or_else(|| format!("第{}", c + 1), str::to_owned),
                    cell.chars().count()
                )));
            }
        }
        let mut report = ImportReport::default();
        let mut columns: HashMap<&'static str, usize> = HashMap::new();
        for (i, h) in header.iter().enumerate() {
            match canonical(h) {
                Some(c) => {
                    columns.entry(c).or_insert(i);
                }
                None if h.trim().is_empty() => {}
                None => report.unknown_columns.push(h.trim().to_owned()),
            }
        }
        let required =
            ["登记日期", "信访形式", "信访来源", "所属乡镇", "涉及领域", "问题类别", "诉求内容"];
        let missing: Vec<&str> =
            required.iter().filter(|c| !columns.contains_key(*c)).copied().collect();
        if !missing.is_empty() {
            return Err(OfficeError::BadFile(format!(
                "表头缺少必需的列：{}。台账的列为：{}",
                missing.join("、"),
                LEDGER_COLUMNS.join("、")
            )));
        }
        let total = rows.len();
        let townships = self.registration_townships()?;
        let mut checked: Vec<Row> = Vec::new();
        for (i, cells) in rows.iter().enumerate() {
            let line = i + 2;
            if cells.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            report.rows += 1;
            match self.check_row(line, cells, &columns, &townships) {
                Ok(row) => checked.push(row),
                Err(errors) => report.invalid.extend(errors),
            }
            if (i + 1) % 500 == 0 {
                progress(Progress { done: i + 1, total: total * 2 });
            }
        }
        if !report.invalid.is_empty() && !options.skip_invalid {
            return Err(OfficeError::ImportRejected(report.invalid));
        }
        report.dry_run = options.dry_run;
        self.write_rows(checked, &mut report, options, total, progress)?;
        progress(Progress { done: total * 2, total: total * 2 });
        Ok(report)
    }

    fn check_row(
        &self,
        line: usize,
        cells: &[String],
        columns: &HashMap<&'static str, usize>,
        townships: &[String],
    ) -> std::result::Result<Row, Vec<String>> {
        let mut c = Cells { line, cells, columns, errors: Vec::new() };
        let received = c.date("登记日期");
        if c.get("登记日期").is_empty() {
            c.err("登记日期", "必填".to_owned());
        }
        let reply_on = c.date("答复日期");
        let closed_on = c.date("办结日期");
        let skip_level = c.flag("是否越级");
        let repeat = c.flag("是否重复");
        let urgent = c.flag("是否重大紧急");
        let threat = c.flag("是否扬言");
        let litigation = c.flag("是否涉法涉诉");
        let persons = c.persons();
        let status = c.status();
        let satisfaction = c.satisfaction();
        c.check_dates(&status, received, reply_on, closed_on);
        let input = c.new_case(Submitted {
            received,
            persons,
            skip_level,
            repeat,
            urgent,
            threat,
            litigation,
        });
        // The same checks as the register form, without minting anything.
        if received.is_some() && c.get("所属乡镇").is_empty() {
            c.err("所属乡镇", "必填".to_owned());
        }
        let case_id = c.case_id();
        if let Err(field_errors) = self.dry_run(&input, townships) {
            for e in field_errors {
                if e.field == "received" && received.is_none() {
                    continue;
                }
                c.err(column_of(&e.field), e.message);
            }
        }
        if !c.errors.is_empty() {
            return Err(c.errors);
        }
        Ok(Row {
            line,
            case_id,
            number: c.get("案件编号").to_owned(),
            fingerprint: c.fingerprint(),
            input,
            status,
            reply_on,
            closed_on,
            satisfaction,
        })
    }

    /// Runs the registration checks without allocating a case number; `townships` are the ones
    /// a registration here may name ([`Office::registration_townships`]).
    fn dry_run(
        &self,
        input: &NewCase,
        townships: &[String],
    ) -> std::result::Result<(), Vec<ledger_domain::FieldError>> {
        let cfg = self.config();
        let mut mint = || String::from("x");
        let actor = String::new();
        let policy = self.store.rules().policies.for_date(self.today()).clone();
        let mut ctx = ledger_domain::RegistrationContext {
            case_id: CaseId(uuid::Uuid::nil()),
            number: String::new(),
            mint_id: &mut mint,
            office: &cfg.code,
            role: cfg.role.clone(),
            actor: &actor,
            handler: "",
            at: self.now(),
            today: self.today(),
            townships,
            default_township: None,
            collective_threshold: policy.collective_threshold,
            representatives_max: policy.representatives_max,
            fingerprint: None,
            legacy: true,
        };
        input.build(&mut ctx).map(|_| ())
    }

    fn write_rows(
        &self,
        rows: Vec<Row>,
        report: &mut ImportReport,
        options: ImportOptions,
        total: usize,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<()> {
        let groups = self.group_rows(rows, report)?;
        let enrolled = self.hub_url()?.is_some();
        // An office bound to a hub signs imported history with a member of its roster.
        let handler = match self.handler(None) {
            Ok(h) => h,
            Err(e) if enrolled => return Err(e),
            Err(_) => "导入".to_owned(),
        };
        let plan = self.plan_landings(groups, options, report)?;
        if !report.invalid.is_empty() && !options.skip_invalid {
            return Err(OfficeError::ImportRejected(report.invalid.clone()));
        }
        let mut next_number =
            if options.dry_run { HashMap::new() } else { self.reserve_numbers(&plan)? };
        let mut new_cases: Vec<ledger_store::NewCaseDocs> = Vec::new();
        let mut joins: Vec<(CaseId, Vec<Row>)> = Vec::new();
        for (group, landing) in plan {
            let number = match landing {
                Landing::Join(id) => {
                    let fresh = self.fresh_rows(id, group, report, options.dry_run)?;
                    if !fresh.is_empty() {
                        joins.push((id, fresh));
                    }
                    continue;
                }
                Landing::New { number: Some(number) } => number,
                Landing::New { number: None } if options.dry_run => String::new(),
                Landing::New { number: None } => {
                    let year = row_year(&group[0]);
                    let seq = next_number.entry(year.clone()).or_insert(1);
                    let number = self.format_case_number(&year, *seq);
                    *seq += 1;
                    number
                }
            };
            let (case, identity, fingerprints) = self.case_of_group(&group, number, &handler)?;
            let last = group.iter().rev().find(|r| r.status != Status::Registered);
            let mut case = case;
            case.demo = options.demo;
            report.bureau_steps_left_out +=
                self.imported_history(&mut case, last.unwrap_or(&group[0]), &handler, enrolled);
            report.cases += 1;
            if !options.dry_run {
                new_cases.push(self.new_case_docs(case, identity, fingerprints)?);
            }
        }
        if options.dry_run {
            return Ok(());
        }
        // One transaction for every new case: all or nothing.
        let groups_total = new_cases.len().max(1);
        self.store.create_cases_with_progress(&new_cases, &mut |n| {
            progress(Progress { done: total + n * total / groups_total, total: total * 2 });
        })?;
        for (id, group) in joins {
            for row in &group {
                let input = crate::SubmissionInput {
                    submission: row.input.submission.clone(),
                    petitioners: row.input.petitioners.clone(),
                    representatives: Vec::new(),
                };
                self.add_imported_submission(id, &input, &row.fingerprint, &handler)?;
            }
        }
        Ok(())
    }

    /// Case numbers for new cases that keep none of their own, reserved per year in one write
    /// each: the first of each year's run.
    fn reserve_numbers(&self, plan: &[(Vec<Row>, Landing)]) -> Result<HashMap<String, u64>> {
        let mut wanted: HashMap<String, u64> = HashMap::new();
        for (group, landing) in plan {
            if matches!(landing, Landing::New { number: None }) {
                *wanted.entry(row_year(&group[0])).or_default() += 1;
            }
        }
        let mut next_number = HashMap::new();
        for (year, n) in wanted {
            next_number.insert(year.clone(), self.reserve_case_numbers(&year, n)?);
        }
        Ok(next_number)
    }

    /// The rows of a group that join case `id` and are not on it yet: rows the case already
    /// holds (an export of this very store) add nothing but their fingerprint.
    fn fresh_rows(
        &self,
        id: CaseId,
        group: Vec<Row>,
        report: &mut ImportReport,
        dry_run: bool,
    ) -> Result<Vec<Row>> {
        let case = self.store.load_case(id)?;
        let (present, fresh): (Vec<Row>, Vec<Row>) =
            group.into_iter().partition(|r| r.input.submission.already_on(&case, first_name(r)));
        report.duplicates += present.len();
        report.added_submissions += fresh.len();
        if !dry_run {
            for row in &present {
                self.store.record_fingerprint(&row.fingerprint, id)?;
            }
        }
        Ok(fresh)
    }

    /// Groups rows into cases, in file order: rows naming one 案件标识 are one case, then rows
    /// sharing a 案件编号 (a legacy ledger's only link); a row with neither is a case of its own.
    /// Rows imported before are counted and dropped.
    fn group_rows(&self, rows: Vec<Row>, report: &mut ImportReport) -> Result<Vec<Vec<Row>>> {
        let mut groups: Vec<Vec<Row>> = Vec::new();
        let mut by_key: HashMap<GroupKey, usize> = HashMap::new();
        for row in rows {
            if self.store.has_fingerprint(&row.fingerprint)? {
                report.duplicates += 1;
                continue;
            }
            let key = match (&row.case_id, row.number.as_str()) {
                (Some(id), _) => GroupKey::Id(*id),
                (None, "") => {
                    groups.push(vec![row]);
                    continue;
                }
                (None, number) => GroupKey::Number(number.to_owned()),
            };
            match by_key.get(&key) {
                Some(&g) => groups[g].push(row),
                None => {
                    by_key.insert(key, groups.len());
                    groups.push(vec![row]);
                }
            }
        }
        Ok(groups)
    }

    /// Decides where each group lands: a case here (named by its 案件标识, or by its 案件编号
    /// when the clerk confirmed), or a new case with its own number or one of this store's.
    fn plan_landings(
        &self,
        groups: Vec<Vec<Row>>,
        options: ImportOptions,
        report: &mut ImportReport,
    ) -> Result<Vec<(Vec<Row>, Landing)>> {
        let mut plan = Vec::with_capacity(groups.len());
        let mut claimed: std::collections::HashSet<String> = std::collections::HashSet::new();
        for group in groups {
            let first = &group[0];
            let here_by_id = match first.case_id {
                Some(id) if self.store.has_doc(id, ledger_store::DocKind::Case)? => Some(id),
                _ => None,
            };
            let here_by_number = match (first.case_id, first.number.as_str()) {
                (None, number) if !number.is_empty() => self.find_by_number(number)?,
                _ => None,
            };
            let join = here_by_id.or(here_by_number.filter(|_| options.join_by_number));
            if let Some(id) = join {
                if let Err(e) = self.writable(id) {
                    for row in &group {
                        report.invalid.push(format!("第{}行 案件编号: {e}", row.line));
                    }
                    continue;
                }
                if here_by_id.is_none() {
                    for row in &group {
                        report.number_matches.push(format!(
                            "第{}行 案件编号 {}：经确认为本台账同号案件的重复信访件，追加到该案件",
                            row.line, row.number
                        ));
                    }
                }
                plan.push((group, Landing::Join(id)));
                continue;
            }
            let number = first.number.clone();
            let taken = !number.is_empty()
                && (claimed.contains(&number) || self.find_by_number(&number)?.is_some());
            if here_by_number.is_some() {
                report.number_matches.push(format!(
                    "第{}行 案件编号 {number}：本台账已有同号案件，但没有案件标识证明是同一事项，登记为新案件（另编号）",
                    first.line
                ));
            } else if taken {
                report.renumbered.push(format!(
                    "第{}行 案件编号 {number} 本台账已使用，新案件另编号",
                    first.line
                ));
            }
            let landing = if number.is_empty() || taken {
                Landing::New { number: None }
            } else {
                claimed.insert(number.clone());
                Landing::New { number: Some(number) }
            };
            plan.push((group, landing));
        }
        Ok(plan)
    }

    /// Builds the new case a group of rows becomes: the first row registers it, the others are
    /// its repeat submissions.
    fn case_of_group(
        &self,
        group: &[Row],
        number: String,
        handler: &str,
    ) -> Result<(Case, ledger_domain::Identity, Vec<String>)> {
        let first = &group[0];
        let (mut case, mut identity) = self
            .build_case(&first.input, Some(handler), Some(first.fingerprint.clone()), Some(number))
            .map_err(|e| {
                OfficeError::ImportRejected(vec![format!("第{}行 登记: {e}", first.line)])
            })?;
        let mut fingerprints = vec![first.fingerprint.clone()];
        for row in &group[1..] {
            let (extra, extra_identity) = self
                .build_case(
                    &row.input,
                    Some(handler),
                    Some(row.fingerprint.clone()),
                    Some(case.number.clone()),
                )
                .map_err(|e| {
                    OfficeError::ImportRejected(vec![format!("第{}行 登记: {e}", row.line)])
                })?;
            let mut submission = extra.submissions[0].clone();
            submission.repeat = true;
            for p in extra.petitioners {
                if !case.petitioners.iter().any(|q| q.display_name == p.display_name) {
                    case.petitioners.push(p);
                }
            }
            identity.persons.extend(extra_identity.persons);
            case.submissions.push(submission);
            fingerprints.push(row.fingerprint.clone());
        }
        case.submissions.sort_by(|a, b| (a.received, &a.id).cmp(&(b.received, &b.id)));
        identity.persons.sort_by(|a, b| a.id.cmp(&b.id));
        Ok((case, identity, fingerprints))
    }

    fn add_imported_submission(
        &self,
        id: CaseId,
        input: &crate::SubmissionInput,
        fingerprint: &str,
        handler: &str,
    ) -> Result<()> {
        self.add_submission_as(id, input, Some(handler), true)?;
        self.store.record_fingerprint(fingerprint, id)?;
        Ok(())
    }

    /// Finds a case by its human number.
    pub fn find_by_number(&self, number: &str) -> Result<Option<CaseId>> {
        Ok(self.store.find_by_number(number)?)
    }

    /// Builds the imported history a row's 办理状态 implies, dated from the row.
    ///
    /// Every event is recorded as this office, in its own role (a township's import records
    /// its history as the township); the hub accepts imported history only with the case's
    /// registration, and replay exempts it from the role table.
    /// Returns how many of the bureau's steps a township's import left out (`enrolled`: bound
    /// to a hub).
    fn imported_history(&self, case: &mut Case, row: &Row, handler: &str, enrolled: bool) -> usize {
        let cfg = self.config();
        let received = case.received().unwrap_or_else(|| self.today());
        let township = case.jurisdiction.clone();
        let mut left_out = 0;
        // Bound to a hub, the bureau's decisions (受理, 交办, 办结 ...) are the bureau's to
        // import; a store for this computer only keeps the whole history.
        let mut push = |case: &mut Case, action: ActionKind, date: NaiveDate| -> Option<usize> {
            if enrolled && !ledger_domain::workflow::roles_for(&action).contains(&cfg.role) {
                left_out += 1;
                return None;
            }
            let lamport = case.next_lamport();
            let at = date.and_hms_opt(1, 0, 0).map(|t| t.and_utc().timestamp_millis()).unwrap_or(0);
            case.events.push(Event::new(EventHead {
                id: self.mint_id(),
                lamport,
                action,
                actor: self.actor_hex(),
                office: cfg.code.clone(),
                role: cfg.role.clone(),
                handler: handler.to_owned(),
                at,
                date,
                imported: true,
            }));
            Some(case.events.len() - 1)
        };
        // Registration keeps the day it was received.
        if let Some(register) = case.events.first_mut() {
            register.date = received;
            register.imported = true;
        }
        let reply_on = row.reply_on.or(row.closed_on).unwrap_or(received);
        let evaluated = row.satisfaction.is_some();
        for (action, date) in
            implied_steps(&row.status, received, reply_on, row.closed_on, evaluated)
        {
            let Some(i) = push(case, action.clone(), date) else { continue };
            let event = &mut case.events[i];
            match action {
                ActionKind::Assign => event.target.clone_from(&township),
                ActionKind::Evaluate => event.satisfaction.clone_from(&row.satisfaction),
                ActionKind::Close => event.close_reason = Some(CloseReason::Replied),
                _ => {}
            }
        }
        left_out
    }

    /// Writes every case as ledger rows (one per submission) to a CSV file, UTF-8 with a BOM so
    /// Excel opens it as such. Returns the number of rows.
    pub fn export_csv(&self, path: &Path, progress: &mut dyn FnMut(Progress)) -> Result<usize> {
        let (header, rows) = self.export_table(progress)?;
        let mut out = Vec::from(&b"\xEF\xBB\xBF"[..]);
        {
            let mut writer = csv::Writer::from_writer(&mut out);
            let io = |e: csv::Error| OfficeError::BadFile(format!("写入 CSV 出错：{e}"));
            writer.write_record(&header).map_err(io)?;
            for row in &rows {
                writer
                    .write_record(row.iter().map(|c| neutralize_cell(c).into_owned()))
                    .map_err(io)?;
            }
            writer.flush().map_err(|e| OfficeError::BadFile(format!("写入 CSV 出错：{e}")))?;
        }
        std::fs::write(path, out)
            .map_err(|e| OfficeError::BadFile(format!("无法写入 {}：{e}", path.display())))?;
        Ok(rows.len())
    }

    /// The ledger as a table in the canonical layout: one row per submission.
    pub fn export_table(
        &self,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(Vec<String>, Vec<Vec<String>>)> {
        let ids = self.store.case_ids()?;
        let total = ids.len();
        let mut rows = Vec::new();
        for (n, id) in ids.into_iter().enumerate() {
            let case = self.store.load_case(id)?;
            let identity = self.store.load_identity(id)?;
            let r = replay(&case.events);
            let reply_on = r.first_reply_on.map(|d| d.to_string()).unwrap_or_default();
            let closed_on = r.closed.as_ref().map(|(d, _)| d.to_string()).unwrap_or_default();
            let satisfaction =
                r.evaluation.as_ref().map(|(s, _)| s.label().to_owned()).unwrap_or_default();
            for s in &case.submissions {
                let person = s.petitioners.first().and_then(|pid| {
                    identity.as_ref().and_then(|i| i.persons.iter().find(|p| &p.id == pid))
                });
                let display = s
                    .petitioners
                    .first()
                    .and_then(|pid| case.petitioners.iter().find(|p| &p.id == pid))
                    .map(|p| p.display_name.clone())
                    .unwrap_or_default();
                let yes = |b: bool| if b { "是" } else { "否" }.to_owned();
                rows.push(vec![
                    case.number.clone(),
                    s.received.to_string(),
                    s.channel.label().to_owned(),
                    s.source.label().to_owned(),
                    person.map(|p| p.name.clone()).unwrap_or(display),
                    person.map(|p| p.id_number.clone()).unwrap_or_default(),
                    person.map(|p| p.phone.clone()).unwrap_or_default(),
                    person.map(|p| p.address.clone()).unwrap_or_default(),
                    s.persons.to_string(),
                    case.jurisdiction.clone().unwrap_or_default(),
                    case.sector.label().to_owned(),
                    case.category.label().to_owned(),
                    case.request.clone(),
                    yes(s.skip_level),
                    yes(s.repeat),
                    r.status.label().to_owned(),
                    reply_on.clone(),
                    closed_on.clone(),
                    satisfaction.clone(),
                    case.purpose.label().to_owned(),
                    case.id.to_string(),
                    yes(s.urgent),
                    yes(s.threat),
                    yes(s.litigation),
                    s.platform_number.clone().unwrap_or_default(),
                ]);
            }
            if (n + 1) % 500 == 0 {
                progress(Progress { done: n + 1, total });
            }
        }
        progress(Progress { done: total, total });
        Ok((LEDGER_COLUMNS.iter().map(|c| (*c).to_owned()).collect(), rows))
    }

    /// How many cases the index holds.
    pub fn case_count(&self) -> Result<u64> {
        Ok(self.store.list(&CaseQuery { limit: Some(0), ..Default::default() })?.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_covers_the_ledgers_original_nineteen_columns() {
        // A column added anywhere but the end would change every old file's fingerprints, and
        // re-importing one would duplicate its cases.
        assert_eq!(
            LEDGER_COLUMNS[..FINGERPRINT_COLUMNS],
            [
                "案件编号",
                "登记日期",
                "信访形式",
                "信访来源",
                "信访人",
                "证件号码",
                "联系电话",
                "住址",
                "人数",
                "所属乡镇",
                "涉及领域",
                "问题类别",
                "诉求内容",
                "是否越级",
                "是否重复",
                "办理状态",
                "答复日期",
                "办结日期",
                "满意度",
            ]
        );
    }

    #[test]
    fn formula_cells_are_neutralised_on_export_and_restored_exactly_on_import() {
        let cases = [
            ("=HYPERLINK(\"http://x\",\"点我\")", "'=HYPERLINK(\"http://x\",\"点我\")"),
            ("+86 13812345678", "'+86 13812345678"),
            ("-5", "'-5"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            // Already quoted before a formula: quoted once more, so the import's one `'` off
            // gives it back as it was.
            ("'=1", "''=1"),
            ("''+1", "'''+1"),
            // Nothing a spreadsheet would run: as it is.
            ("'abc", "'abc"),
            ("邻居违法建房", "邻居违法建房"),
            ("", ""),
            ("a=b", "a=b"),
        ];
        for (value, exported) in cases {
            assert_eq!(neutralize_cell(value), exported, "{value:?}");
            assert_eq!(restore_cell(exported), value, "{exported:?}");
        }
    }

    #[test]
    fn a_cell_longer_than_a_spreadsheet_holds_is_refused_with_its_row_and_column() {
        let long = "法".repeat(MAX_CELL_CHARS + 1);
        let text = format!("登记日期,诉求内容\n2024-03-01,短\n2024-03-02,{long}\n");
        let (header, rows) = parse_csv(&text).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let office = crate::Office::init(
            dir.path(),
            crate::OfficeConfig::new("county", "洞口县国土资源局", ledger_domain::Role::Bureau),
            std::sync::Arc::new(|| 1_709_604_000_000),
        )
        .unwrap();
        let err = office
            .import_table(&header, &rows, ImportOptions::default(), &mut |_| {})
            .unwrap_err()
            .to_string();
        assert!(err.contains("第3行「诉求内容」列有 32768 个字符"), "{err}");
        assert!(office.store.case_ids().unwrap().is_empty(), "nothing imported");
    }

    #[test]
    fn header_variants_map_to_the_layout() {
        assert_eq!(canonical("\u{feff}案件编号"), Some("案件编号"));
        assert_eq!(canonical(" 信访日期 "), Some("登记日期"));
        assert_eq!(canonical("所属乡镇（街道）"), Some("所属乡镇"));
        assert_eq!(canonical("身份证号码"), Some("证件号码"));
        assert_eq!(canonical("备注"), None);
    }

    #[test]
    fn dates_and_flags() {
        assert_eq!(parse_date("2017/3/1"), NaiveDate::from_ymd_opt(2017, 3, 1));
        assert_eq!(parse_date("2017-03-01"), NaiveDate::from_ymd_opt(2017, 3, 1));
        assert_eq!(parse_date("2017年3月1日"), NaiveDate::from_ymd_opt(2017, 3, 1));
        assert_eq!(parse_date("2017-02-30"), None);
        assert_eq!(parse_flag("是"), Some(true));
        assert_eq!(parse_flag(""), Some(false));
        assert_eq!(parse_flag("也许"), None);
    }

    #[test]
    fn gbk_and_utf8_decode_alike() {
        let text = "案件编号,登记日期\n黄桥-1,2017-03-01\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        assert_eq!(decode_text(&gbk).unwrap(), text);
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(decode_text(&bom).unwrap(), text);
        assert!(decode_text(&[0xff, 0xfe, 0x00, 0x81, 0x30]).is_err());
    }

    #[test]
    fn a_status_implies_the_steps_that_lead_to_it() {
        use ledger_domain::ActionKind as A;
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let (received, replied, closed) = (d("2017-03-01"), d("2017-04-10"), d("2017-05-02"));
        let kinds = |status: Status, evaluated: bool| -> Vec<A> {
            super::implied_steps(&status, received, replied, Some(closed), evaluated)
                .into_iter()
                .map(|(a, _)| a)
                .collect()
        };
        assert_eq!(kinds(Status::Registered, false), Vec::<A>::new());
        assert_eq!(kinds(Status::Accepted, false), [A::Accept]);
        assert_eq!(
            kinds(Status::NotAccepted, true),
            [A::NotAccept],
            "no reply, nothing to evaluate"
        );
        assert_eq!(kinds(Status::Extended, false), [A::Assign, A::Investigate, A::Extend]);
        assert_eq!(kinds(Status::UnderReview, false), [A::Assign, A::Reply, A::Review]);
        assert_eq!(kinds(Status::Closed, true), [A::Assign, A::Reply, A::Evaluate, A::Close]);
        let days = super::implied_steps(&Status::Closed, received, replied, None, true);
        assert_eq!(
            days.iter().map(|(_, day)| *day).collect::<Vec<_>>(),
            [received, replied, replied, replied],
            "without a day closed, evaluation and closing fall on the reply day"
        );
    }
}
