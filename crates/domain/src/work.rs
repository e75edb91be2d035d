//! 工作记录: the petition work an office does that is not a case (政策咨询, 宣传与培训,
//! 矛盾纠纷排查, 信访值班, 领导包案包片, 领导接待日), kept so the annual report can count it from
//! what was recorded.
//!
//! Every work record is one Automerge document owned by the office that made it (the bureau
//! sees every office's): a fixed header (kind, office, who made it and when) and an append-only
//! log of entries, the way a case keeps its events. Nothing in the log is ever edited: a
//! correction is an 更正 entry carrying the new values, a record or item entered by mistake is
//! voided by a 作废 entry (kept, never counted), and a township's monthly screening list is
//! filed by a 报送 entry. What a record says now is [`WorkRecord::state`], a replay of its log
//! in (Lamport number, device time, entry id) order, as a case replays its events: an entry
//! always follows the ones its author had seen; two devices of an office correcting the same
//! field offline both keep their entries, and the later by the clock wins.
//!
//! [`check_entry`] is the one judgement of an entry's fields (which keys each kind takes, their
//! types and bounds); the office runs it before writing and the hub on every entry it receives.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::coded_enum;
use crate::model::{DeviceTime, china_date};
use crate::registration::FieldError;

coded_enum! {
    /// 工作记录种类: which kind of work a record keeps.
    pub enum WorkKind {
        /// 政策咨询: a policy question answered at the counter or by phone; counted, not a case.
        Consult = ("consult", "政策咨询", "咨询", "政策咨询解答"),
        /// 宣传与培训: an outreach or training event.
        Outreach = ("outreach", "宣传与培训", "宣传", "培训", "宣传活动"),
        /// 矛盾纠纷排查: one office's dispute screening list for one month.
        Screening = ("screening", "矛盾纠纷排查", "排查", "月排查"),
        /// 信访值班: one day's petition duty at an office.
        Duty = ("duty", "信访值班", "值班"),
        /// 领导包案/包片: a leader answerable for one matter or one area, and whether it was
        /// settled (化解).
        Leader = ("leader", "领导包案包片", "领导包案", "包案", "包片"),
        /// 领导接待日: a leader's reception day and the visitors received, each on a case
        /// registered for them.
        Reception = ("reception", "领导接待日", "接待日", "领导接访"),
    }
}

coded_enum! {
    /// 接待结果: what became of a visitor received on a reception day.
    pub enum ReceptionOutcome {
        /// 当场解决: settled or answered on the spot.
        OnSpot = ("on_spot", "当场解决", "当场答复"),
        /// 登记办理: registered and handled as a case, with a written reply within its deadline.
        Registered = ("registered", "登记办理", "交办", "转办"),
    }
}

coded_enum! {
    /// 班次: the part of the day a duty covers.
    pub enum DutyShift {
        /// 白班.
        Day = ("day", "白班", "日班"),
        /// 夜班.
        Night = ("night", "夜班"),
        /// 全天.
        AllDay = ("all_day", "全天", "24小时"),
    }
}

coded_enum! {
    /// 包案或包片: a leader answers for one matter or for an area.
    pub enum LeaderScope {
        /// 包案: one matter (a case number, or the matter in words).
        Case = ("case", "包案"),
        /// 包片: an area (a township or villages).
        Area = ("area", "包片"),
    }
}

coded_enum! {
    /// 化解情况: whether what a leader answers for was settled.
    pub enum Settlement {
        /// 化解中.
        Pending = ("pending", "化解中", "未办结"),
        /// 已化解.
        Settled = ("settled", "已化解", "化解"),
        /// 未化解.
        Unsettled = ("unsettled", "未化解"),
    }
}

coded_enum! {
    /// 记录操作: what one entry of a work record's log does.
    pub enum EntryOp {
        /// 建立: the record's own fields, written when it is made.
        Open = ("open", "建立"),
        /// 更正: new values for fields of the record, or of one of its items (`target`).
        Amend = ("amend", "更正"),
        /// 增加条目: an item of the record (one dispute on a screening list).
        Item = ("item", "增加条目"),
        /// 作废: the record, or one of its items, entered by mistake: kept, never counted.
        Void = ("void", "作废"),
        /// 报送: a screening list filed for its month.
        File = ("file", "报送"),
    }
}

coded_enum! {
    /// 咨询方式: how a policy question reached the office.
    pub enum ConsultChannel {
        /// 窗口接待: at the counter.
        Counter = ("counter", "窗口", "窗口接待", "当面", "来访"),
        /// 电话: by phone.
        Phone = ("phone", "电话", "来电"),
        /// 其他: online, by letter, on a visit to a village.
        Other = ("other", "其他"),
    }
}

coded_enum! {
    /// 宣传活动类型: the occasion of an outreach or training event.
    pub enum Occasion {
        /// 4.22 世界地球日.
        EarthDay = ("earth_day", "4.22地球日", "地球日", "世界地球日", "4.22"),
        /// 6.25 全国土地日.
        LandDay = ("land_day", "6.25土地日", "土地日", "全国土地日", "6.25"),
        /// 12.4 国家宪法日 (法制宣传日).
        LawDay = ("law_day", "12.4宪法日", "宪法日", "法制宣传日", "12.4"),
        /// 信访业务培训: training of petition staff.
        Training = ("training", "信访业务培训", "培训", "业务培训"),
        /// 其他宣传: any other outreach.
        Other = ("other", "其他宣传", "其他"),
    }
}

coded_enum! {
    /// 风险等级: how likely a dispute is to become a petition or worse.
    pub enum RiskLevel {
        /// 高.
        High = ("high", "高", "高风险"),
        /// 中.
        Medium = ("medium", "中", "中风险"),
        /// 低.
        Low = ("low", "低", "低风险"),
    }
}

coded_enum! {
    /// 排查事项状态: where a screened dispute stands.
    pub enum ScreeningStatus {
        /// 稳控中: watched and kept stable.
        Watching = ("watching", "稳控中", "稳控"),
        /// 化解中: being resolved.
        Resolving = ("resolving", "化解中"),
        /// 已化解: settled.
        Settled = ("settled", "已化解", "化解"),
        /// 已转为信访事项: it became a petition case.
        Referred = ("referred", "已转为信访事项", "转信访"),
    }
}

/// One field value: a count or a text (dates and codes are texts in a fixed form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum FieldValue {
    /// A number of things (leaflets, attendees).
    Count(u64),
    /// Text, a date (`2017-04-22`), a month (`2017-04`) or a code.
    Text(String),
}

/// One entry of a record's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WorkEntry {
    /// Its id (UUIDv7), the key in the log.
    pub id: String,
    /// One more than the largest its author had seen in the log: an entry never sorts before
    /// one its author had already seen, whatever the clocks say.
    pub lamport: u64,
    /// What it does.
    pub op: EntryOp,
    /// For 更正 and 作废 of an item, and nothing else: the item's entry id.
    pub target: Option<String>,
    /// 办理人: the staff member who wrote it.
    pub by: String,
    /// The office that wrote it (the record's own).
    pub office: String,
    /// Device time it was written.
    pub at: DeviceTime,
    /// Its fields, by key.
    pub fields: BTreeMap<String, FieldValue>,
}

/// A work record as its document holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WorkRecord {
    /// Its id (UUIDv7; the document id).
    pub id: Uuid,
    /// Layout version of the document.
    pub schema_version: u64,
    /// Which kind.
    pub kind: WorkKind,
    /// 单位代码 of the office that owns it.
    pub office: String,
    /// Who made it.
    pub created_by: String,
    /// Device time it was made.
    pub created_at: DeviceTime,
    /// For a record imported from a file: a digest of the line it came from, so importing the
    /// file again is recognised.
    pub import_key: Option<String>,
    /// The log, in no particular order ([`WorkRecord::state`] orders it).
    pub entries: Vec<WorkEntry>,
}

/// Who voided a record or an item, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Voided {
    /// 办理人.
    pub by: String,
    /// The day.
    pub on: NaiveDate,
    /// 作废理由.
    pub reason: String,
}

/// One item of a record as it stands (a dispute on a screening list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WorkItem {
    /// The entry id that added it.
    pub id: String,
    /// Its fields as last corrected.
    pub fields: BTreeMap<String, FieldValue>,
    /// Who added it.
    pub added_by: String,
    /// The day it was added.
    pub added_on: NaiveDate,
    /// Set when voided.
    pub voided: Option<Voided>,
}

/// 报送: when a screening list was filed and by whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Filed {
    /// 办理人.
    pub by: String,
    /// The day.
    pub on: NaiveDate,
}

/// What a record says now: its log replayed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WorkState {
    /// The record's fields as last corrected.
    pub fields: BTreeMap<String, FieldValue>,
    /// Set when the record was voided.
    pub voided: Option<Voided>,
    /// Its items, in the order they were added.
    pub items: Vec<WorkItem>,
    /// The first 报送 (a list filed twice was filed on the first day).
    pub filed: Option<Filed>,
    /// Entries the replay could not place (an 更正 naming no item), described: kept, shown.
    pub anomalies: Vec<String>,
}

impl WorkState {
    /// A text field, empty when absent.
    pub fn text(&self, key: &str) -> &str {
        text_of(&self.fields, key)
    }

    /// A count field, zero when absent.
    pub fn count(&self, key: &str) -> u64 {
        count_of(&self.fields, key)
    }

    /// The items not voided.
    pub fn live_items(&self) -> impl Iterator<Item = &WorkItem> {
        self.items.iter().filter(|i| i.voided.is_none())
    }
}

impl WorkItem {
    /// A text field, empty when absent.
    pub fn text(&self, key: &str) -> &str {
        text_of(&self.fields, key)
    }
}

fn text_of<'a>(fields: &'a BTreeMap<String, FieldValue>, key: &str) -> &'a str {
    match fields.get(key) {
        Some(FieldValue::Text(s)) => s,
        _ => "",
    }
}

fn count_of(fields: &BTreeMap<String, FieldValue>, key: &str) -> u64 {
    match fields.get(key) {
        Some(FieldValue::Count(n)) => *n,
        _ => 0,
    }
}

impl WorkRecord {
    /// The Lamport number of the next entry written after everything in the log.
    pub fn next_lamport(&self) -> u64 {
        self.entries.iter().map(|e| e.lamport).max().unwrap_or(0).saturating_add(1)
    }

    /// Replays the log: entries in (Lamport number, device time, id) order; 建立 and 更正 set
    /// fields (the later value wins), 增加条目 adds an item, 作废 voids the record or an item
    /// once, 报送 files.
    pub fn state(&self) -> WorkState {
        let mut order: Vec<&WorkEntry> = self.entries.iter().collect();
        order.sort_by(|a, b| {
            (a.lamport, a.at).cmp(&(b.lamport, b.at)).then_with(|| a.id.cmp(&b.id))
        });
        let mut state = WorkState::default();
        for e in order {
            let on = china_date(e.at);
            let item = e.target.as_deref().map(|t| state.items.iter().position(|i| i.id == t));
            match (&e.op, item) {
                (EntryOp::Open | EntryOp::Amend, None) => {
                    state.fields.extend(e.fields.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                (EntryOp::Amend, Some(Some(i))) => {
                    state.items[i]
                        .fields
                        .extend(e.fields.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                (EntryOp::Item, None) => state.items.push(WorkItem {
                    id: e.id.clone(),
                    fields: e.fields.clone(),
                    added_by: e.by.clone(),
                    added_on: on,
                    voided: None,
                }),
                (EntryOp::Void, target) => {
                    let voided = Voided {
                        by: e.by.clone(),
                        on,
                        reason: text_of(&e.fields, "reason").to_owned(),
                    };
                    match target {
                        None => {
                            state.voided.get_or_insert(voided);
                        }
                        Some(Some(i)) => {
                            state.items[i].voided.get_or_insert(voided);
                        }
                        Some(None) => {
                            state.anomalies.push(format!("作废记录 {} 指向不存在的条目", e.id))
                        }
                    }
                }
                (EntryOp::File, None) => {
                    state.filed.get_or_insert(Filed { by: e.by.clone(), on });
                }
                (op, _) => state.anomalies.push(format!(
                    "{}记录 {} 无法归入（没有对应的条目）",
                    op.label(),
                    e.id
                )),
            }
        }
        state
    }

    /// The day the record is about: its 日期, a 包案's 开始日期, or the first day of a screening
    /// list's 月份; the day it was made when none reads.
    pub fn day(&self, state: &WorkState) -> NaiveDate {
        parse_date(state.text("date"))
            .or_else(|| parse_date(state.text("start")))
            .or_else(|| parse_month(state.text("month")))
            .unwrap_or_else(|| china_date(self.created_at))
    }
}

/// Reads `2017-04-22`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// Reads `2017-04` as its first day.
pub fn parse_month(s: &str) -> Option<NaiveDate> {
    let (y, m) = s.split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)
}

/// Writes a month the way records store it (`2017-04`).
pub fn month_code(day: NaiveDate) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
}

// ---------------------------------------------------------------------------------------------
// What each kind of entry may hold

/// The type of a field.
#[derive(Debug, Clone, Copy)]
pub enum FieldType {
    /// Text of at most this many characters.
    Text(usize),
    /// A count, at most [`MAX_COUNT`].
    Count,
    /// A day, `2017-04-22`.
    Date,
    /// A month, `2017-04`.
    Month,
    /// A code of one of the vocabularies.
    Code(fn(&str) -> bool),
}

/// One field a kind of entry takes.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    /// The key stored.
    pub key: &'static str,
    /// What people call it.
    pub label: &'static str,
    /// Its type.
    pub ty: FieldType,
    /// Whether a 建立 or 增加条目 must give it.
    pub required: bool,
}

/// The most entries one record holds: a year's screening list is a few dozen; the bound keeps
/// what the hub reads to judge a change to one record small.
pub const MAX_ENTRIES: usize = 2000;

/// The largest count a field takes (more leaflets than that is a typing mistake).
pub const MAX_COUNT: u64 = 10_000_000;

const fn text(key: &'static str, label: &'static str, max: usize, required: bool) -> FieldSpec {
    FieldSpec { key, label, ty: FieldType::Text(max), required }
}

const fn count(key: &'static str, label: &'static str) -> FieldSpec {
    FieldSpec { key, label, ty: FieldType::Count, required: false }
}

fn consult_channel(s: &str) -> bool {
    ConsultChannel::from_code(s).is_known()
}
fn occasion(s: &str) -> bool {
    Occasion::from_code(s).is_known()
}
fn risk(s: &str) -> bool {
    RiskLevel::from_code(s).is_known()
}
fn screening_status(s: &str) -> bool {
    ScreeningStatus::from_code(s).is_known()
}
fn duty_shift(s: &str) -> bool {
    DutyShift::from_code(s).is_known()
}
fn leader_scope(s: &str) -> bool {
    LeaderScope::from_code(s).is_known()
}
fn settlement(s: &str) -> bool {
    Settlement::from_code(s).is_known()
}
fn reception_outcome(s: &str) -> bool {
    ReceptionOutcome::from_code(s).is_known()
}

/// The code of a vocabulary field's value given as its code, label or an accepted spelling
/// (`电话` for `phone`); `None` for a value no vocabulary of `key` knows.
pub fn code_of(key: &str, typed: &str) -> Option<String> {
    match key {
        "channel" => ConsultChannel::parse(typed).map(|v| v.code().to_owned()),
        "occasion" => Occasion::parse(typed).map(|v| v.code().to_owned()),
        "risk" => RiskLevel::parse(typed).map(|v| v.code().to_owned()),
        "status" => ScreeningStatus::parse(typed).map(|v| v.code().to_owned()),
        "shift" => DutyShift::parse(typed).map(|v| v.code().to_owned()),
        "scope" => LeaderScope::parse(typed).map(|v| v.code().to_owned()),
        "settlement" => Settlement::parse(typed).map(|v| v.code().to_owned()),
        "outcome" => ReceptionOutcome::parse(typed).map(|v| v.code().to_owned()),
        _ => None,
    }
}

const CONSULT: &[FieldSpec] = &[
    FieldSpec { key: "date", label: "咨询日期", ty: FieldType::Date, required: true },
    FieldSpec {
        key: "channel",
        label: "咨询方式",
        ty: FieldType::Code(consult_channel),
        required: true,
    },
    text("topic", "咨询事项", 200, true),
    text("answer", "解答内容", 2000, true),
    text("asker", "咨询人", 50, false),
];

const OUTREACH: &[FieldSpec] = &[
    FieldSpec { key: "date", label: "活动日期", ty: FieldType::Date, required: true },
    FieldSpec {
        key: "occasion", label: "活动类型", ty: FieldType::Code(occasion), required: true
    },
    text("place", "地点", 100, true),
    text("topic", "主题", 200, false),
    count("leaflets", "发放宣传单（张）"),
    count("slogans", "张贴标语（条）"),
    count("mass_meetings", "召开群众会（次）"),
    count("forums", "召开座谈会（次）"),
    count("trainings", "举办培训（期）"),
    count("attendees", "参加人数"),
];

const SCREENING: &[FieldSpec] =
    &[FieldSpec { key: "month", label: "排查月份", ty: FieldType::Month, required: true }];

const SCREENING_ITEM: &[FieldSpec] = &[
    text("parties", "当事人", 200, true),
    text("place", "地点", 100, true),
    text("issue", "矛盾纠纷情况", 1000, true),
    FieldSpec { key: "risk", label: "风险等级", ty: FieldType::Code(risk), required: true },
    text("measures", "稳控化解措施", 1000, true),
    text("owner", "责任人", 50, true),
    FieldSpec {
        key: "status",
        label: "状态",
        ty: FieldType::Code(screening_status),
        required: true,
    },
];

const DUTY: &[FieldSpec] = &[
    FieldSpec { key: "date", label: "值班日期", ty: FieldType::Date, required: true },
    text("staff", "值班人员", 50, true),
    FieldSpec { key: "shift", label: "班次", ty: FieldType::Code(duty_shift), required: true },
    text("phone", "值班电话", 30, false),
];

const LEADER: &[FieldSpec] = &[
    FieldSpec {
        key: "scope",
        label: "包案或包片",
        ty: FieldType::Code(leader_scope),
        required: true,
    },
    text("leader", "包案领导", 50, true),
    text("matter", "包案事项或片区", 200, true),
    FieldSpec { key: "start", label: "开始日期", ty: FieldType::Date, required: true },
    FieldSpec {
        key: "settlement",
        label: "化解情况",
        ty: FieldType::Code(settlement),
        required: false,
    },
    text("result", "办理结果", 1000, false),
];

const RECEPTION: &[FieldSpec] = &[
    FieldSpec { key: "date", label: "接待日期", ty: FieldType::Date, required: true },
    text("leader", "接待领导", 50, true),
    text("place", "接待地点", 100, true),
];

const RECEPTION_ITEM: &[FieldSpec] = &[
    text("case", "案件编号", 60, true),
    text("matter", "反映问题", 200, true),
    count("persons", "来访人数"),
    FieldSpec {
        key: "outcome",
        label: "接待结果",
        ty: FieldType::Code(reception_outcome),
        required: true,
    },
    text("result", "答复意见", 1000, false),
];

const VOID: &[FieldSpec] = &[text("reason", "作废理由", 500, true)];

/// The fields of the record itself for `kind` (its 建立 and 更正 entries).
pub fn record_fields(kind: &WorkKind) -> &'static [FieldSpec] {
    match kind {
        WorkKind::Consult => CONSULT,
        WorkKind::Outreach => OUTREACH,
        WorkKind::Screening => SCREENING,
        WorkKind::Duty => DUTY,
        WorkKind::Leader => LEADER,
        WorkKind::Reception => RECEPTION,
        WorkKind::Unknown(_) => &[],
    }
}

/// The fields of one item of `kind` (empty for a kind without items).
pub fn item_fields(kind: &WorkKind) -> &'static [FieldSpec] {
    match kind {
        WorkKind::Screening => SCREENING_ITEM,
        WorkKind::Reception => RECEPTION_ITEM,
        _ => &[],
    }
}

/// One field as a form shows it: what to ask for and how, from the same table the checks use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FieldForm {
    /// The key stored.
    pub key: String,
    /// What people call it.
    pub label: String,
    /// `text`, `count`, `date`, `month` or `code`.
    pub input: String,
    /// For a code: its vocabulary (`consult_channel`, `occasion`, `risk_level`,
    /// `screening_status`).
    pub vocabulary: Option<String>,
    /// For text: the most characters.
    pub max_chars: Option<u32>,
    /// Whether a new record or item must give it.
    pub required: bool,
}

/// The form of `specs` ([`record_fields`], [`item_fields`]).
pub fn form_of(specs: &[FieldSpec]) -> Vec<FieldForm> {
    specs
        .iter()
        .map(|s| {
            let (input, max_chars) = match s.ty {
                FieldType::Text(max) => ("text", u32::try_from(max).ok()),
                FieldType::Count => ("count", None),
                FieldType::Date => ("date", None),
                FieldType::Month => ("month", None),
                FieldType::Code(_) => ("code", None),
            };
            let vocabulary = match (s.ty, s.key) {
                (FieldType::Code(_), "channel") => Some("consult_channel"),
                (FieldType::Code(_), "occasion") => Some("occasion"),
                (FieldType::Code(_), "risk") => Some("risk_level"),
                (FieldType::Code(_), "status") => Some("screening_status"),
                (FieldType::Code(_), "shift") => Some("duty_shift"),
                (FieldType::Code(_), "scope") => Some("leader_scope"),
                (FieldType::Code(_), "settlement") => Some("settlement"),
                (FieldType::Code(_), "outcome") => Some("reception_outcome"),
                _ => None,
            };
            FieldForm {
                vocabulary: vocabulary.map(str::to_owned),
                key: s.key.to_owned(),
                label: s.label.to_owned(),
                input: input.to_owned(),
                max_chars,
                required: s.required,
            }
        })
        .collect()
}

/// Every key an entry of any kind may hold, besides the entry's own (`op`, `target`, `by`,
/// `office`, `at`): what the hub's allow-list lets a township write into a new entry.
pub fn payload_keys() -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = [
        CONSULT,
        OUTREACH,
        SCREENING,
        SCREENING_ITEM,
        DUTY,
        LEADER,
        RECEPTION,
        RECEPTION_ITEM,
        VOID,
    ]
    .iter()
    .flat_map(|specs| specs.iter().map(|s| s.key))
    .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Whether `entry` is one a record of `kind` may hold, as far as its own fields tell: the op
/// fits the kind, every key is one it takes, every value has its type and bounds, and a 建立
/// or 增加条目 gives every required field. Whether a `target` names an item is the log's to
/// say ([`WorkRecord::state`]). The error names the field and says, in Chinese, what to write.
pub fn check_entry(kind: &WorkKind, entry: &WorkEntry) -> Result<(), FieldError> {
    let whole =
        |message: String| FieldError {
            field: "kind".into(), label: "记录种类".into(), message
        };
    if !kind.is_known() {
        return Err(whole(format!("不认识的工作记录种类「{}」", kind.code())));
    }
    let (specs, complete): (&[FieldSpec], bool) = match (&entry.op, &entry.target) {
        (EntryOp::Open, None) => (record_fields(kind), true),
        // A list's month decides where it is counted and filed: a list made for the wrong
        // month is voided and another made, never moved.
        (EntryOp::Amend, None) if *kind == WorkKind::Screening => {
            return Err(whole("排查表的月份不能更正；月份填错时请作废本表后另建".to_owned()));
        }
        (EntryOp::Amend, None) => (record_fields(kind), false),
        (EntryOp::Item, None) if !item_fields(kind).is_empty() => (item_fields(kind), true),
        (EntryOp::Amend, Some(_)) if !item_fields(kind).is_empty() => (item_fields(kind), false),
        (EntryOp::Void, _) => (VOID, true),
        (EntryOp::File, None) if *kind == WorkKind::Screening => (&[], true),
        (op, _) => return Err(whole(format!("{}不能{}", kind.label(), op.label()))),
    };
    for (key, value) in &entry.fields {
        let Some(spec) = specs.iter().find(|s| s.key == key) else {
            let shown: String = key.chars().take(40).collect();
            return Err(FieldError {
                field: shown.clone(),
                label: shown.clone(),
                message: format!(
                    "{}的{}记录不能含有字段「{shown}」",
                    kind.label(),
                    entry.op.label()
                ),
            });
        };
        check_value(spec, value).map_err(|message| FieldError {
            field: spec.key.into(),
            label: spec.label.into(),
            message,
        })?;
    }
    if complete
        && let Some(spec) = specs.iter().find(|s| s.required && !entry.fields.contains_key(s.key))
    {
        return Err(FieldError {
            field: spec.key.into(),
            label: spec.label.into(),
            message: "必须填写".to_owned(),
        });
    }
    if entry.op == EntryOp::Amend && entry.fields.is_empty() {
        return Err(whole("更正记录没有写明要更正的内容".to_owned()));
    }
    Ok(())
}

/// What is wrong with one value, worded to follow the field's name.
fn check_value(spec: &FieldSpec, value: &FieldValue) -> Result<(), String> {
    match (spec.ty, value) {
        (FieldType::Count, FieldValue::Count(n)) if *n <= MAX_COUNT => Ok(()),
        (FieldType::Count, FieldValue::Count(_)) => Err(format!("超过上限 {MAX_COUNT}，请核对")),
        (FieldType::Count, FieldValue::Text(_)) => Err("应为数字".to_owned()),
        (_, FieldValue::Count(_)) => Err("应为文字".to_owned()),
        (FieldType::Text(max), FieldValue::Text(s)) => {
            if s.trim().is_empty() {
                Err("不能为空".to_owned())
            } else if s.chars().count() > max {
                Err(format!("不能超过 {max} 个字"))
            } else {
                Ok(())
            }
        }
        (FieldType::Date, FieldValue::Text(s)) => match parse_date(s) {
            Some(d) if crate::validate::date_in_bounds(d) => Ok(()),
            _ => Err("应为日期，如 2017-04-22".to_owned()),
        },
        (FieldType::Month, FieldValue::Text(s)) => match parse_month(s) {
            Some(d) if crate::validate::date_in_bounds(d) => Ok(()),
            _ => Err("应为月份，如 2017-04".to_owned()),
        },
        (FieldType::Code(ok), FieldValue::Text(s)) if ok(s) => Ok(()),
        (FieldType::Code(_), FieldValue::Text(s)) => {
            let shown: String = s.chars().take(20).collect();
            Err(format!("「{shown}」不在可选范围内，请选择：{}", choices(spec.key)))
        }
    }
}

/// The labels a vocabulary field offers, joined for a message.
fn choices(key: &str) -> String {
    match key {
        "channel" => ConsultChannel::known_labels(),
        "occasion" => Occasion::known_labels(),
        "risk" => RiskLevel::known_labels(),
        "status" => ScreeningStatus::known_labels(),
        "shift" => DutyShift::known_labels(),
        "scope" => LeaderScope::known_labels(),
        "settlement" => Settlement::known_labels(),
        "outcome" => ReceptionOutcome::known_labels(),
        _ => String::new(),
    }
}

/// The label of a vocabulary field's code (`earth_day` → 4.22地球日); `None` for a field that
/// is not a vocabulary or a code it does not know.
pub fn label_of(key: &str, code: &str) -> Option<&'static str> {
    fn known<T: Clone>(
        all: &'static [T],
        code: &str,
        code_of: fn(&T) -> &str,
        label: fn(&'static T) -> &'static str,
    ) -> Option<&'static str> {
        all.iter().find(|v| code_of(v) == code).map(label)
    }
    match key {
        "channel" => {
            known(ConsultChannel::KNOWN, code, ConsultChannel::code, ConsultChannel::label)
        }
        "occasion" => known(Occasion::KNOWN, code, Occasion::code, Occasion::label),
        "risk" => known(RiskLevel::KNOWN, code, RiskLevel::code, RiskLevel::label),
        "status" => {
            known(ScreeningStatus::KNOWN, code, ScreeningStatus::code, ScreeningStatus::label)
        }
        "shift" => known(DutyShift::KNOWN, code, DutyShift::code, DutyShift::label),
        "scope" => known(LeaderScope::KNOWN, code, LeaderScope::code, LeaderScope::label),
        "settlement" => known(Settlement::KNOWN, code, Settlement::code, Settlement::label),
        "outcome" => {
            known(ReceptionOutcome::KNOWN, code, ReceptionOutcome::code, ReceptionOutcome::label)
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// What the records add up to

/// 宣传与咨询合计: a period's consultations, outreach, reception days, leader responsibility,
/// dispute screening and duty, counted from the records (voided ones left out).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WorkTotals {
    /// 政策咨询解答（次）.
    pub consults: u64,
    /// 宣传与培训活动（次）.
    pub outreach_events: u64,
    /// 发放宣传单（张）.
    pub leaflets: u64,
    /// 张贴标语（条）.
    pub slogans: u64,
    /// 召开群众会（次）.
    pub mass_meetings: u64,
    /// 召开座谈会（次）.
    pub forums: u64,
    /// 举办培训（期）.
    pub trainings: u64,
    /// 培训与活动参加人数.
    pub attendees: u64,
    /// Per occasion (its label): events and what they handed out, held and drew.
    pub by_occasion: BTreeMap<String, OccasionTotals>,
    /// 领导包案包片 begun in the period.
    pub leader_cases: u64,
    /// Of those, marked 已化解.
    pub leader_settled: u64,
    /// 领导接待日 held.
    pub reception_days: u64,
    /// Visitors received on them (批).
    pub reception_visits: u64,
    /// Of those, settled on the spot.
    pub reception_on_spot: u64,
    /// 矛盾纠纷排查表 filed (报送) for the period's months.
    #[serde(default)]
    pub screening_lists: u64,
    /// Disputes on the period's lists (voided ones left out).
    #[serde(default)]
    pub disputes: u64,
    /// Of those, of high risk.
    #[serde(default)]
    pub disputes_high_risk: u64,
    /// Of those, settled (已化解).
    #[serde(default)]
    pub disputes_settled: u64,
    /// 信访值班 (人次): duties recorded for the period's days.
    #[serde(default)]
    pub duties: u64,
}

impl WorkTotals {
    /// 包案化解率: what the leaders answered for that was settled, of all they answered for.
    pub fn settlement_rate(&self) -> crate::stats::Rate {
        crate::stats::Rate::of(self.leader_settled, self.leader_cases)
    }
}

/// One occasion's share of [`WorkTotals`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OccasionTotals {
    /// Events.
    pub events: u64,
    /// 宣传单.
    pub leaflets: u64,
    /// 标语.
    pub slogans: u64,
    /// 群众会.
    pub mass_meetings: u64,
    /// 座谈会.
    pub forums: u64,
    /// 培训（期）.
    pub trainings: u64,
    /// 参加人数.
    pub attendees: u64,
}

/// Adds up the records whose day falls in `from..=to`.
pub fn totals<'a>(
    records: impl IntoIterator<Item = &'a WorkRecord>,
    from: NaiveDate,
    to: NaiveDate,
) -> WorkTotals {
    let mut t = WorkTotals::default();
    for r in records {
        let state = r.state();
        let day = r.day(&state);
        if state.voided.is_some() || day < from || day > to {
            continue;
        }
        match r.kind {
            WorkKind::Consult => t.consults += 1,
            WorkKind::Outreach => {
                t.outreach_events += 1;
                t.leaflets += state.count("leaflets");
                t.slogans += state.count("slogans");
                t.mass_meetings += state.count("mass_meetings");
                t.forums += state.count("forums");
                t.trainings += state.count("trainings");
                t.attendees += state.count("attendees");
                let occasion = Occasion::from_code(state.text("occasion"));
                let o = t.by_occasion.entry(occasion.label().to_owned()).or_default();
                o.events += 1;
                o.leaflets += state.count("leaflets");
                o.slogans += state.count("slogans");
                o.mass_meetings += state.count("mass_meetings");
                o.forums += state.count("forums");
                o.trainings += state.count("trainings");
                o.attendees += state.count("attendees");
            }
            WorkKind::Leader => {
                t.leader_cases += 1;
                if Settlement::from_code(state.text("settlement")) == Settlement::Settled {
                    t.leader_settled += 1;
                }
            }
            WorkKind::Reception => {
                t.reception_days += 1;
                for item in state.live_items() {
                    t.reception_visits += 1;
                    if ReceptionOutcome::from_code(item.text("outcome")) == ReceptionOutcome::OnSpot
                    {
                        t.reception_on_spot += 1;
                    }
                }
            }
            WorkKind::Screening => {
                t.screening_lists += u64::from(state.filed.is_some());
                for item in state.live_items() {
                    t.disputes += 1;
                    t.disputes_high_risk +=
                        u64::from(RiskLevel::from_code(item.text("risk")) == RiskLevel::High);
                    t.disputes_settled += u64::from(
                        ScreeningStatus::from_code(item.text("status")) == ScreeningStatus::Settled,
                    );
                }
            }
            WorkKind::Duty => t.duties += 1,
            WorkKind::Unknown(_) => {}
        }
    }
    t
}

/// One duty as a screen lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DutySlot {
    /// The record.
    pub record: Uuid,
    /// The day.
    pub date: NaiveDate,
    /// 值班人员.
    pub staff: String,
    /// 班次 code.
    pub shift: String,
    /// 值班电话 (empty when not given).
    pub phone: String,
}

/// 值班安排: who is on duty today and which of the coming days nobody is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DutyOutlook {
    /// 单位代码.
    pub office: String,
    /// Today.
    pub today: NaiveDate,
    /// Today's duties.
    pub on_duty: Vec<DutySlot>,
    /// Every duty from today through the last day looked at, by day.
    pub coming: Vec<DutySlot>,
    /// Days from today through the last day looked at with nobody on duty.
    pub gaps: Vec<NaiveDate>,
}

/// The duties of `office` from `today` for `days` days (today included), and the days among
/// them nobody is on duty. Voided duties do not count.
pub fn duty_outlook<'a>(
    records: impl IntoIterator<Item = &'a WorkRecord>,
    office: &str,
    today: NaiveDate,
    days: u32,
) -> DutyOutlook {
    let last = today + chrono::Days::new(u64::from(days.saturating_sub(1)));
    let mut coming = Vec::new();
    for r in records {
        if r.kind != WorkKind::Duty || r.office != office {
            continue;
        }
        let state = r.state();
        let Some(date) = parse_date(state.text("date")) else { continue };
        if state.voided.is_some() || date < today || date > last {
            continue;
        }
        coming.push(DutySlot {
            record: r.id,
            date,
            staff: state.text("staff").to_owned(),
            shift: state.text("shift").to_owned(),
            phone: state.text("phone").to_owned(),
        });
    }
    coming.sort_by(|a, b| (a.date, &a.shift, &a.staff).cmp(&(b.date, &b.shift, &b.staff)));
    let gaps = today
        .iter_days()
        .take_while(|d| *d <= last)
        .filter(|d| !coming.iter().any(|s| s.date == *d))
        .collect();
    DutyOutlook {
        office: office.to_owned(),
        today,
        on_duty: coming.iter().filter(|s| s.date == today).cloned().collect(),
        coming,
        gaps,
    }
}

/// One office's screening list for a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ScreeningList {
    /// The record (an office whose two devices each began the month's list offline has two;
    /// both are shown).
    pub record: Uuid,
    /// 单位代码.
    pub office: String,
    /// Set once filed.
    pub filed: Option<Filed>,
    /// The disputes listed, voided ones included (each says so).
    pub items: Vec<WorkItem>,
}

/// 月度排查汇总: the county's screening lists for one month and the offices yet to file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ScreeningMonth {
    /// `2017-04`.
    pub month: String,
    /// Every office's list for the month (voided lists left out).
    pub lists: Vec<ScreeningList>,
    /// Offices of `expected` with no filed list for the month.
    pub not_filed: Vec<String>,
    /// Disputes listed and not voided, per risk level (highest first; levels with none left
    /// out).
    pub by_risk: Vec<RiskCount>,
}

/// How many disputes of one risk level a month lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RiskCount {
    /// The level's code (`high`).
    pub risk: String,
    /// Disputes at that level.
    pub count: u64,
}

/// The screening lists of `month` (`2017-04`) among `records`, and which of `expected`
/// (the offices that must file) have filed none.
pub fn screening_month<'a>(
    records: impl IntoIterator<Item = &'a WorkRecord>,
    month: &str,
    expected: &[String],
) -> ScreeningMonth {
    let mut lists = Vec::new();
    let mut by_risk: BTreeMap<RiskLevel, u64> = BTreeMap::new();
    for r in records {
        if r.kind != WorkKind::Screening {
            continue;
        }
        let state = r.state();
        if state.voided.is_some() || state.text("month") != month {
            continue;
        }
        for item in state.live_items() {
            *by_risk.entry(RiskLevel::from_code(item.text("risk"))).or_insert(0) += 1;
        }
        lists.push(ScreeningList {
            record: r.id,
            office: r.office.clone(),
            filed: state.filed.clone(),
            items: state.items,
        });
    }
    lists.sort_by(|a, b| a.office.cmp(&b.office).then(a.record.cmp(&b.record)));
    let not_filed = expected
        .iter()
        .filter(|o| !lists.iter().any(|l| &l.office == *o && l.filed.is_some()))
        .cloned()
        .collect();
    // The coded enum orders as declared: 高, 中, 低, then codes a newer version wrote.
    let by_risk = by_risk
        .into_iter()
        .map(|(risk, count)| RiskCount { risk: risk.code().to_owned(), count })
        .collect();
    ScreeningMonth { month: month.to_owned(), lists, not_filed, by_risk }
}

#[cfg(test)]
mod tests;
