//! 工作记录 at the office: recording policy consultations, outreach and training events and the
//! monthly dispute screening, listing them, and what they add up to. Each record is one
//! document this office owns ([`ledger_domain::work`]); it syncs like a case, to the bureau
//! only. Every check of an entry is the domain's ([`check_entry`]), the one the hub applies.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use ledger_domain::work::{
    self, EntryOp, FieldType, FieldValue, ScreeningMonth, WorkEntry, WorkKind, WorkRecord,
    WorkState, WorkTotals, check_entry,
};
use ledger_domain::{CaseId, FieldError, SCHEMA_VERSION, schema};
use ledger_protocol::work_id;
use ledger_store::DocKind;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Office, OfficeError, Result};

/// 月度排查汇总 as the screens show it: the month, and the name of every office it mentions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ScreeningView {
    /// The lists, the offices yet to file, the disputes by risk level.
    #[serde(flatten)]
    pub month: ScreeningMonth,
    /// 单位名称 by 单位代码, for every office the month names.
    pub office_names: BTreeMap<String, String>,
}

/// What importing a file of work records did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WorkImportReport {
    /// Records read.
    pub rows: usize,
    /// Records made.
    pub records: usize,
    /// Records imported before (the same line): nothing made.
    pub duplicates: usize,
    /// Nothing was written.
    pub dry_run: bool,
}

/// One line of a work-record file (`.jsonl`): a record as [`WorkInput`] gives it, with a
/// screening list's disputes and whether it was filed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkLine {
    kind: String,
    #[serde(default)]
    fields: BTreeMap<String, FieldValue>,
    #[serde(default)]
    handler: Option<String>,
    #[serde(default)]
    items: Vec<BTreeMap<String, FieldValue>>,
    #[serde(default)]
    filed: bool,
}

/// The largest work-record file read (a county's year is a few hundred lines).
const MAX_WORK_FILE: u64 = 16 * 1024 * 1024;

/// The most bad lines an import names before it stops looking.
const MAX_PROBLEMS: usize = 100;

/// The most items one line of a work-record file may carry (a record holds at most
/// [`work::MAX_ENTRIES`] entries, and one change must stay within the hub's bounds).
const MAX_ITEMS_PER_LINE: usize = 500;

/// The form of each kind of work record (`consult`, `outreach`, `screening`) and of a screening
/// list's items (`screening_item`): the table the office and the hub check entries by.
pub fn work_forms() -> BTreeMap<String, Vec<work::FieldForm>> {
    WorkKind::KNOWN
        .iter()
        .map(|k| (k.code().to_owned(), work::form_of(work::record_fields(k))))
        .chain([
            ("screening_item".to_owned(), work::form_of(work::item_fields(&WorkKind::Screening))),
            ("reception_item".to_owned(), work::form_of(work::item_fields(&WorkKind::Reception))),
        ])
        .collect()
}

/// A new record as a form or the command line gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct WorkInput {
    /// 记录种类 (`consult`, `outreach`, `screening`).
    pub kind: String,
    /// Its fields by key (`date`, `topic`, `leaflets` ...): text, or a number for counts.
    pub fields: BTreeMap<String, FieldValue>,
    /// 办理人 (the office's first staff member when not given).
    pub handler: Option<String>,
}

/// What may be done to a record already made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum WorkChange {
    /// 更正: new values for the record's fields, or an item's (`item`).
    Amend {
        /// The item's id; none for the record itself.
        item: Option<String>,
        /// The fields to correct.
        fields: BTreeMap<String, FieldValue>,
    },
    /// 增加条目: one dispute on a screening list.
    Item {
        /// Its fields.
        fields: BTreeMap<String, FieldValue>,
    },
    /// 作废: the record, or one of its items, entered by mistake.
    Void {
        /// The item's id; none for the record itself.
        item: Option<String>,
        /// 作废理由.
        reason: String,
    },
    /// 报送: a screening list filed for its month.
    File,
}

/// A record as the screens and the command line show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WorkView {
    /// Its id.
    pub id: String,
    /// 记录种类 code.
    pub kind: String,
    /// Its label (政策咨询).
    pub kind_label: String,
    /// 单位代码 of the office that owns it.
    pub office: String,
    /// That office's name.
    pub office_name: String,
    /// Who made it.
    pub created_by: String,
    /// The day it is about (the 日期, or the first of the 月份).
    pub day: NaiveDate,
    /// What it says now.
    pub state: WorkState,
    /// Whether this office may add to it (its own, and not voided).
    pub editable: bool,
}

fn kind_of(code: &str) -> Result<WorkKind> {
    WorkKind::parse(code).ok_or_else(|| {
        OfficeError::invalid(
            "kind",
            "记录种类",
            format!("请选择记录种类：{}", WorkKind::known_labels()),
        )
    })
}

fn invalid(e: FieldError) -> OfficeError {
    OfficeError::Invalid(vec![e])
}

impl Office {
    fn work_entry(
        &self,
        kind: &WorkKind,
        lamport: u64,
        op: EntryOp,
        target: Option<String>,
        handler: &str,
        fields: BTreeMap<String, FieldValue>,
    ) -> WorkEntry {
        let specs = match (&op, &target) {
            (EntryOp::Item, _) | (EntryOp::Amend, Some(_)) => work::item_fields(kind),
            _ => work::record_fields(kind),
        };
        WorkEntry {
            id: self.mint_id(),
            lamport,
            op,
            target,
            by: handler.to_owned(),
            office: self.cfg().code.clone(),
            at: self.now(),
            fields: normalized(specs, fields),
        }
    }

    /// Makes a record: a consultation, an outreach event, or this office's screening list for
    /// a month (`month`; the list this office already has for that month is returned instead
    /// of a second one).
    pub fn add_work(&self, input: WorkInput) -> Result<WorkView> {
        let kind = kind_of(&input.kind)?;
        let handler = self.handler(input.handler.as_deref())?;
        let open = self.work_entry(&kind, 1, EntryOp::Open, None, &handler, input.fields);
        check_entry(&kind, &open).map_err(invalid)?;
        if kind == WorkKind::Screening {
            let month = open.fields.get("month").cloned();
            if let Some(FieldValue::Text(month)) = month
                && let Some(held) = self.own_screening(&month)?
            {
                return Ok(held);
            }
        }
        let record = WorkRecord {
            id: work_id(self.mint_uuid()),
            schema_version: SCHEMA_VERSION,
            kind,
            office: self.cfg().code.clone(),
            created_by: handler,
            created_at: open.at,
            import_key: None,
            entries: vec![open],
        };
        let id = CaseId(record.id);
        self.store.create_doc(id, DocKind::Work, |tx| schema::write_work(tx, &record))?;
        tracing::info!(record = %record.id, kind = record.kind.code(), "work record made");
        self.work_view(&record)
    }

    /// Adds to a record this office owns: a correction, a dispute, a voiding, a filing.
    pub fn change_work(
        &self,
        id: &str,
        change: WorkChange,
        handler: Option<&str>,
    ) -> Result<WorkView> {
        let record = self.load_work(id)?;
        if record.office != self.cfg().code {
            return Err(OfficeError::Refused(format!(
                "这份工作记录属于{}，只有该单位可以修改",
                self.office_name(&record.office)
            )));
        }
        let state = record.state();
        if state.voided.is_some() {
            return Err(OfficeError::Refused("这份工作记录已作废，不能再修改".into()));
        }
        if record.entries.len() >= work::MAX_ENTRIES {
            return Err(OfficeError::Refused(format!(
                "这份工作记录已有 {} 条记录，已满；请另建一份",
                record.entries.len()
            )));
        }
        let handler = self.handler(handler)?;
        let lamport = record.next_lamport();
        let item_of = |item: Option<String>| -> Result<Option<String>> {
            match item {
                Some(i) if !state.items.iter().any(|x| x.id == i) => Err(OfficeError::invalid(
                    "item",
                    "条目",
                    "这份记录中没有该条目；请从列表中选择",
                )),
                Some(i) if state.items.iter().any(|x| x.id == i && x.voided.is_some()) => {
                    Err(OfficeError::Refused("该条目已作废，不能再修改".into()))
                }
                other => Ok(other),
            }
        };
        let entry = match change {
            WorkChange::Amend { item, fields } => {
                let target = item_of(item)?;
                self.work_entry(&record.kind, lamport, EntryOp::Amend, target, &handler, fields)
            }
            WorkChange::Item { fields } => {
                let entry =
                    self.work_entry(&record.kind, lamport, EntryOp::Item, None, &handler, fields);
                if record.kind == WorkKind::Reception {
                    self.check_reception_case(&entry)?;
                }
                entry
            }
            WorkChange::Void { item, reason } => {
                let target = item_of(item)?;
                let fields = BTreeMap::from([("reason".to_owned(), FieldValue::Text(reason))]);
                self.work_entry(&record.kind, lamport, EntryOp::Void, target, &handler, fields)
            }
            WorkChange::File => {
                if state.filed.is_some() {
                    return Err(OfficeError::Refused("本月排查表已经报送过了".into()));
                }
                self.work_entry(
                    &record.kind,
                    lamport,
                    EntryOp::File,
                    None,
                    &handler,
                    BTreeMap::new(),
                )
            }
        };
        check_entry(&record.kind, &entry).map_err(invalid)?;
        let doc = CaseId(record.id);
        self.store.edit(doc, DocKind::Work, |tx| schema::add_work_entry(tx, &entry))?;
        // The record as stored now: what was read, and the one entry just written.
        let mut record = record;
        record.entries.push(entry);
        self.work_view(&record)
    }

    /// Imports a file of work records (`.jsonl`, one record a line, as the 2017 sample ships
    /// them). Every line is checked first: a bad line refuses the file, naming each bad line
    /// (the first hundred), and nothing is written. A line imported before here is recognised
    /// (each record keeps a digest of its line) and skipped, so importing a file twice, or a
    /// file with a line twice, adds it once.
    pub fn import_work_file(&self, path: &Path, dry_run: bool) -> Result<WorkImportReport> {
        use std::io::Read;
        let bad = |why: String| OfficeError::BadFile(format!("{}：{why}", path.display()));
        let file = std::fs::File::open(path).map_err(|e| bad(format!("无法读取（{e}）")))?;
        let mut bytes = Vec::new();
        file.take(MAX_WORK_FILE + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| bad(format!("无法读取（{e}）")))?;
        if bytes.len() as u64 > MAX_WORK_FILE {
            return Err(bad(format!("文件超过工作记录文件的上限 {MAX_WORK_FILE} 字节")));
        }
        let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes))
            .map_err(|_| bad("不是 UTF-8 文本".to_owned()))?;
        let own = self.cfg().code.clone();
        let mut seen: std::collections::BTreeSet<String> = self
            .all_work()?
            .into_iter()
            .filter(|r| r.office == own)
            .filter_map(|r| r.import_key)
            .collect();
        let mut report = WorkImportReport { dry_run, ..Default::default() };
        let mut records = Vec::new();
        let mut problems = Vec::new();
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            if problems.len() >= MAX_PROBLEMS {
                problems.push("……其余各行未再检查".to_owned());
                break;
            }
            report.rows += 1;
            match self.work_from_line(line) {
                Ok(record)
                    if record.import_key.as_ref().is_some_and(|k| !seen.insert(k.clone())) =>
                {
                    report.duplicates += 1;
                }
                Ok(record) => records.push(record),
                Err(why) => problems.push(format!("第{}行: {why}", n + 1)),
            }
        }
        if !problems.is_empty() {
            return Err(OfficeError::ImportRejected(problems));
        }
        report.records = records.len();
        if !dry_run {
            for record in records {
                let id = CaseId(record.id);
                self.store.create_doc(id, DocKind::Work, |tx| schema::write_work(tx, &record))?;
            }
        }
        tracing::info!(?report, "work records imported");
        Ok(report)
    }

    /// The record one line of a work-record file makes, every entry checked; or why not.
    fn work_from_line(&self, line: &str) -> std::result::Result<WorkRecord, String> {
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("不是一条工作记录（{e}）"))?;
        // The digest of the line as data, so spacing and key order do not make it new.
        let import_key = blake3::hash(canonical(&value).as_bytes()).to_hex()[..32].to_owned();
        let parsed: WorkLine =
            serde_json::from_value(value).map_err(|e| format!("不是一条工作记录（{e}）"))?;
        if parsed.items.len() > MAX_ITEMS_PER_LINE {
            return Err(format!("一条记录最多 {MAX_ITEMS_PER_LINE} 个条目"));
        }
        let kind = WorkKind::parse(&parsed.kind).ok_or_else(|| {
            format!("记录种类「{}」不认识：{}", parsed.kind, WorkKind::known_labels())
        })?;
        let handler = self.handler(parsed.handler.as_deref()).map_err(|e| e.to_string())?;
        let mut entries =
            vec![self.work_entry(&kind, 1, EntryOp::Open, None, &handler, parsed.fields)];
        for fields in parsed.items {
            let lamport = entries.len() as u64 + 1;
            entries.push(self.work_entry(&kind, lamport, EntryOp::Item, None, &handler, fields));
        }
        if parsed.filed {
            let lamport = entries.len() as u64 + 1;
            entries.push(self.work_entry(
                &kind,
                lamport,
                EntryOp::File,
                None,
                &handler,
                BTreeMap::new(),
            ));
        }
        for e in &entries {
            check_entry(&kind, e).map_err(|e| e.to_string())?;
        }
        let created_at = entries[0].at;
        Ok(WorkRecord {
            id: work_id(self.mint_uuid()),
            import_key: Some(import_key),
            schema_version: SCHEMA_VERSION,
            kind,
            office: self.cfg().code.clone(),
            created_by: handler,
            created_at,
            entries,
        })
    }

    /// One record.
    pub fn work_record(&self, id: &str) -> Result<WorkView> {
        self.work_view(&self.load_work(id)?)
    }

    /// The records this office holds (the bureau: the county's), of `kind` when given and
    /// about a day of `year` when given, newest first.
    pub fn work_records(&self, kind: Option<&str>, year: Option<i32>) -> Result<Vec<WorkView>> {
        let kind = kind.map(kind_of).transpose()?;
        let mut views = Vec::new();
        for record in self.all_work()? {
            if kind.as_ref().is_some_and(|k| *k != record.kind) {
                continue;
            }
            let view = self.work_view(&record)?;
            if year.is_some_and(|y| view.day.year() != y) {
                continue;
            }
            views.push(view);
        }
        views.sort_by(|a, b| b.day.cmp(&a.day).then_with(|| b.id.cmp(&a.id)));
        Ok(views)
    }

    /// What the records of `year` add up to (政策咨询解答, 宣传单, 标语, 群众会, 座谈会, 培训).
    pub fn work_totals(&self, year: i32) -> Result<WorkTotals> {
        let (from, to) = year_bounds(year)?;
        self.work_totals_between(from, to)
    }

    /// What the records about a day of `from..=to` add up to.
    pub(crate) fn work_totals_between(&self, from: NaiveDate, to: NaiveDate) -> Result<WorkTotals> {
        Ok(work::totals(&self.all_work()?, from, to))
    }

    /// The screening lists of `month` (`2017-04`) this office sees, and which township offices
    /// have filed none: for the bureau every township office of the directory, for a township
    /// office itself.
    pub fn screening_month(&self, month: &str) -> Result<ScreeningView> {
        if work::parse_month(month).is_none() {
            return Err(OfficeError::invalid("month", "排查月份", "月份应写成 2017-04 的形式"));
        }
        let expected: Vec<String> = if self.is_bureau() {
            self.directory()?
                .map(|d| {
                    d.offices
                        .iter()
                        .filter(|o| o.role != "bureau")
                        .map(|o| o.code.clone())
                        .collect()
                })
                .unwrap_or_default()
        } else {
            vec![self.cfg().code.clone()]
        };
        let month = work::screening_month(&self.all_work()?, month, &expected);
        let office_names = month
            .lists
            .iter()
            .map(|l| &l.office)
            .chain(&month.not_filed)
            .map(|code| (code.clone(), self.office_name(code)))
            .collect();
        Ok(ScreeningView { month, office_names })
    }

    /// 值班安排 of `office` (this office when not given): today's duty, the duties of the
    /// coming `days` days (today included; at most 31) and the days nobody is on duty.
    pub fn duty_outlook(&self, office: Option<&str>, days: u32) -> Result<work::DutyOutlook> {
        if !(1..=31).contains(&days) {
            return Err(OfficeError::invalid("days", "天数", "只能查看 1 至 31 天的值班安排"));
        }
        let own = self.cfg().code.clone();
        let office = office.map(str::trim).filter(|o| !o.is_empty()).unwrap_or(&own);
        if office != own && !self.is_bureau() {
            return Err(OfficeError::Refused("乡镇国土所只能查看本单位的值班安排".into()));
        }
        Ok(work::duty_outlook(&self.all_work()?, office, self.today(), days))
    }

    /// A visitor of a reception day names a case registered here for them (登记 first, then the
    /// visit is recorded on the reception day).
    fn check_reception_case(&self, entry: &WorkEntry) -> Result<()> {
        let Some(FieldValue::Text(number)) = entry.fields.get("case") else { return Ok(()) };
        let number = number.trim();
        let known = match number.parse::<Uuid>() {
            Ok(id) => self.store.has_doc(CaseId(id), DocKind::Case)?,
            Err(_) => self.store.find_by_number(number)?.is_some(),
        };
        if known {
            Ok(())
        } else {
            Err(OfficeError::invalid(
                "case",
                "案件编号",
                format!("台账中没有案件「{number}」：请先登记这次来访，再把它记入接待日"),
            ))
        }
    }

    /// This office's live screening list for `month`, if it has one.
    fn own_screening(&self, month: &str) -> Result<Option<WorkView>> {
        let code = self.cfg().code.clone();
        for record in self.all_work()? {
            if record.kind != WorkKind::Screening || record.office != code {
                continue;
            }
            let state = record.state();
            if state.voided.is_none() && state.text("month") == month {
                return Ok(Some(self.work_view(&record)?));
            }
        }
        Ok(None)
    }

    fn load_work(&self, id: &str) -> Result<WorkRecord> {
        let not_found = || OfficeError::NotFound(format!("找不到工作记录 {id}"));
        let uuid: Uuid = id.trim().parse().map_err(|_| not_found())?;
        let doc = CaseId(uuid);
        if !self.store.has_doc(doc, DocKind::Work)? {
            return Err(not_found());
        }
        self.store
            .with_doc(doc, DocKind::Work, schema::read_work)?
            .map_err(|e| OfficeError::Damaged(format!("工作记录 {id} 无法读取：{e}")))
    }

    /// Every work record held. One that does not read is left out and logged: the hub proved
    /// each one loads before it stored it, so this is local damage, which `ledger check` names.
    fn all_work(&self) -> Result<Vec<WorkRecord>> {
        let mut records = Vec::new();
        for id in self.store.doc_ids(DocKind::Work)? {
            match self.store.with_doc(id, DocKind::Work, schema::read_work)? {
                Ok(r) => records.push(r),
                Err(e) => tracing::warn!(record = %id, error = %e, "work record does not read"),
            }
        }
        Ok(records)
    }

    fn work_view(&self, record: &WorkRecord) -> Result<WorkView> {
        let state = record.state();
        Ok(WorkView {
            id: record.id.to_string(),
            kind: record.kind.code().to_owned(),
            kind_label: record.kind.label().to_owned(),
            office_name: self.office_name(&record.office),
            created_by: record.created_by.clone(),
            day: record.day(&state),
            editable: record.office == self.cfg().code && state.voided.is_none(),
            office: record.office.clone(),
            state,
        })
    }
}

/// Fields as a form or a terminal typed them, in the form records keep: text trimmed (so a
/// blank one is refused as blank, not stored as spaces), a count typed as text (`16000`) made
/// a number, a vocabulary's label (电话, 高) made its code. What does not convert stays as
/// typed, for [`check_entry`] to refuse by name.
fn normalized(
    specs: &[work::FieldSpec],
    fields: BTreeMap<String, FieldValue>,
) -> BTreeMap<String, FieldValue> {
    fields
        .into_iter()
        .map(|(k, v)| {
            let spec = specs.iter().find(|s| s.key == k);
            let v = match (spec.map(|s| s.ty), v) {
                (Some(FieldType::Count), FieldValue::Text(s)) => match s.trim().parse::<u64>() {
                    Ok(n) => FieldValue::Count(n),
                    Err(_) => FieldValue::Text(s),
                },
                (Some(FieldType::Code(_)), FieldValue::Text(s)) => FieldValue::Text(
                    work::code_of(&k, s.trim()).unwrap_or_else(|| s.trim().to_owned()),
                ),
                (_, FieldValue::Text(s)) => FieldValue::Text(s.trim().to_owned()),
                (_, count) => count,
            };
            (k, v)
        })
        .collect()
}

fn year_bounds(year: i32) -> Result<(NaiveDate, NaiveDate)> {
    match (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31)) {
        (Some(from), Some(to)) if (1980..=2100).contains(&year) => Ok((from, to)),
        _ => Err(OfficeError::invalid("year", "年度", "年度应在 1980 至 2100 之间")),
    }
}

/// A JSON value written with every object's keys in order, so two spellings of the same data
/// read alike.
fn canonical(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&map[k])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => {
            format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(","))
        }
        other => other.to_string(),
    }
}
