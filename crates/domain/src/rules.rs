//! 全县规则: the rules the county's deadlines, statistics and documents follow, as data that
//! the bureau edits and every office receives by sync (信访工作条例 deadlines with a province's
//! variants, the State Council's holiday schedule, the county's document settings and the
//! legal-basis table).
//!
//! The rules document is one append-only list of [`RuleEntry`]s: each sets one [`RuleItem`] to
//! a value from a first day on. Nothing is ever edited: a correction is a later entry, so the
//! record shows who changed which rule when, and a rule change never rewrites the past: a
//! deadline policy applies to matters received from its first day, a county setting from its
//! first day, and a year's holiday schedule for the days from its first day on (a year not yet
//! in the table is taken whole: its days were only estimated, flagged 预计). No first day may lie
//! before the day the entry is recorded. The built-in rules of this release ([`Rules::builtin`])
//! are the base the entries apply to.
//!
//! Pure: the hub's validation ([`check_entry`], [`Rules::with_doc`]), the office's refusal and
//! both sides' projections use the same functions.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::calendar::WorkCalendar;
use crate::coded_enum;
use crate::deadline::{Policy, PolicyTable};
use crate::terms::Category;

coded_enum! {
    /// 期限规则项: one number (or flag) of a deadline policy a county may set.
    pub enum PolicyField {
        /// 规则名称: the instrument the version follows (浙江省信访条例).
        Name = ("name", "规则名称"),
        /// 受理告知期限（日）.
        DecideDays = ("decide_days", "受理告知期限（日）"),
        /// 受理告知期限按工作日计.
        DecideWorking = ("decide_working", "受理告知期限按工作日计"),
        /// 异议期限（工作日）.
        ObjectionWorkingDays = ("objection_working_days", "异议退回期限（工作日）"),
        /// 办理期限（日）.
        HandleDays = ("handle_days", "办理期限（日）"),
        /// 延期上限（日）.
        ExtensionMaxDays = ("extension_max_days", "延期上限（日）"),
        /// 复查（复核）申请期限（日）.
        ReviewRequestDays = ("review_request_days", "复查（复核）申请期限（日）"),
        /// 复查（复核）期限（日）.
        ReviewDays = ("review_days", "复查（复核）期限（日）"),
        /// 评价期限（日）.
        RatingDays = ("rating_days", "评价期限（日）"),
        /// 集体访人数.
        CollectiveThreshold = ("collective_threshold", "集体访人数（人及以上）"),
        /// 停访息诉观察期（日）.
        SettledWindowDays = ("settled_window_days", "停访息诉观察期（日）"),
        /// 集体访代表人数上限 (信访工作条例 §20).
        RepresentativesMax = ("representatives_max", "集体访代表人数上限（人）"),
        /// 12336判定期限（工作日）; 0: not tracked.
        Assess12336WorkingDays = ("assess_12336_working_days", "12336判定期限（工作日，0为不计）"),
        /// 12336反馈期限（日）; 0: not tracked.
        Feedback12336Days = ("feedback_12336_days", "12336反馈期限（日，0为不计）"),
    }
}

coded_enum! {
    /// 县局设置: a county setting the documents follow.
    pub enum CountySetting {
        /// 复查机关: the body that reviews the bureau's decisions (洞口县人民政府).
        ReviewBody = ("review_body", "复查机关"),
        /// 国土所以自己名义出具文书: where the township government handles the matter, the
        /// township issues documents in its own name (`reference/domain.md` §7 item 2).
        IssuesOwnDocuments = ("issues_own_documents", "国土所以自己名义出具文书"),
        /// 复查机关（乡镇）: where townships issue in their own name, the body their handling
        /// opinions name for a review (洞口县人民政府, or the bureau).
        TownshipReviewBody = ("township_review_body", "复查机关（国土所出具的文书）"),
    }
}

/// What a [`RuleEntry`] sets, parsed from its `item` code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RuleItem {
    /// `policy.<field>`: a number of the deadline policy.
    Policy(PolicyField),
    /// `holidays.<year>`: a year's holiday schedule, in the holiday-table line format.
    Holidays(i32),
    /// `county.<setting>`.
    County(CountySetting),
    /// `basis.<category>`: the law and article a category of matter turns on (法律依据).
    LegalBasis(Category),
    /// Written by a newer version: kept, ignored.
    Unknown(String),
}

impl RuleItem {
    /// Parses an item code.
    pub fn parse(code: &str) -> Self {
        let known = match code.split_once('.') {
            Some(("policy", f)) => {
                Some(PolicyField::from_code(f)).filter(PolicyField::is_known).map(Self::Policy)
            }
            Some(("holidays", y)) => y
                .parse::<i32>()
                .ok()
                .filter(|n| (2000..=2100).contains(n) && n.to_string() == y)
                .map(Self::Holidays),
            Some(("county", s)) => {
                Some(CountySetting::from_code(s)).filter(CountySetting::is_known).map(Self::County)
            }
            Some(("basis", c)) => {
                Some(Category::from_code(c)).filter(Category::is_known).map(Self::LegalBasis)
            }
            _ => None,
        };
        known.unwrap_or_else(|| Self::Unknown(code.to_owned()))
    }

    /// The item's code.
    pub fn code(&self) -> String {
        match self {
            Self::Policy(f) => format!("policy.{}", f.code()),
            Self::Holidays(y) => format!("holidays.{y}"),
            Self::County(s) => format!("county.{}", s.code()),
            Self::LegalBasis(c) => format!("basis.{}", c.code()),
            Self::Unknown(code) => code.clone(),
        }
    }

    /// What the item is, in Chinese.
    pub fn label(&self) -> String {
        match self {
            Self::Policy(f) => format!("期限规则·{}", f.label()),
            Self::Holidays(y) => format!("{y}年节假日安排"),
            Self::County(s) => format!("县局设置·{}", s.label()),
            Self::LegalBasis(c) => format!("法律依据·{}", c.label()),
            Self::Unknown(code) => format!("（新版本的规则项 {code}）"),
        }
    }
}

/// 规则变更: one rule set to a value from a day on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleEntry {
    /// The record key (a UUIDv7: entries recorded later sort later).
    pub id: String,
    /// What it sets (a [`RuleItem`] code).
    pub item: String,
    /// The value, as text.
    pub value: String,
    /// 生效日期: the first day it applies to (for a policy: matters received from then on).
    pub from: NaiveDate,
    /// When it was recorded (device time, ms).
    pub recorded_at: i64,
    /// Who recorded it (办理人).
    pub handler: String,
    /// 依据: the instrument or notice behind the change (国办发明电〔2026〕X号), if given.
    pub note: String,
}

/// The rules document as read: its entries in the order they were recorded.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RulesDoc {
    /// Every entry.
    pub entries: Vec<RuleEntry>,
}

/// Longest text a setting or legal basis may hold.
pub const MAX_TEXT_CHARS: usize = 200;

/// Whether a new entry may be recorded on `today` (the China date it was recorded): the value parses
/// for its item and the change does not reach into the past. A refusal says why, in Chinese.
pub fn check_entry(entry: &RuleEntry, today: NaiveDate) -> Result<(), String> {
    let item = RuleItem::parse(&entry.item);
    let value = entry.value.as_str();
    let chars = value.chars().count();
    if chars > 4000
        || entry.note.chars().count() > MAX_TEXT_CHARS
        || entry.handler.chars().count() > 40
    {
        return Err(format!("「{}」的内容过长", item.label()));
    }
    match &item {
        RuleItem::Holidays(year) => {
            if *year < today.year() {
                return Err(format!(
                    "{year}年已经过去，其节假日安排不能再改：已算出的期限不会被改写"
                ));
            }
            WorkCalendar::parse_year(*year, value)
                .map_err(|e| format!("{year}年节假日安排：{e}"))?;
        }
        RuleItem::Policy(PolicyField::Name) => {
            if value.trim().is_empty() || chars > 60 {
                return Err("规则名称应为 1 至 60 个字".to_owned());
            }
        }
        RuleItem::Policy(PolicyField::DecideWorking)
        | RuleItem::County(CountySetting::IssuesOwnDocuments) => {
            if !matches!(value, "true" | "false") {
                return Err(format!("「{}」的值应为 true 或 false", item.label()));
            }
        }
        RuleItem::Policy(field) => {
            let limit = match field {
                PolicyField::CollectiveThreshold => 100,
                // §20 caps representatives at 5; a province may ask fewer, never more.
                PolicyField::RepresentativesMax => 5,
                _ => 365,
            };
            // The 12336 clocks are local practice, not law: 0 turns one off.
            let least = u32::from(!matches!(
                field,
                PolicyField::Assess12336WorkingDays | PolicyField::Feedback12336Days
            ));
            match value.parse::<u32>() {
                Ok(n) if (least..=limit).contains(&n) => {}
                _ => {
                    return Err(format!("「{}」应为 {least} 至 {limit} 之间的整数", item.label()));
                }
            }
        }
        RuleItem::County(CountySetting::ReviewBody | CountySetting::TownshipReviewBody) => {
            if value.trim().is_empty() || chars > 60 {
                return Err("复查机关名称应为 1 至 60 个字".to_owned());
            }
        }
        RuleItem::County(_) | RuleItem::LegalBasis(_) => {
            if chars > MAX_TEXT_CHARS {
                return Err(format!("「{}」不能超过 {MAX_TEXT_CHARS} 个字", item.label()));
            }
        }
        RuleItem::Unknown(code) => {
            return Err(format!(
                "本版本不认识规则项「{}」",
                code.chars().take(40).collect::<String>()
            ));
        }
    }
    if entry.from < today {
        return Err(format!(
            "「{}」的生效日期 {} 早于今天（{today}）：规则变更不能追溯既往，已算出的期限和统计不会被改写",
            item.label(),
            entry.from
        ));
    }
    Ok(())
}

/// The county settings in force on a day.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CountySettings {
    /// 复查机关, if the county named it.
    pub review_body: Option<String>,
    /// Whether a township issues documents in its own name.
    pub issues_own_documents: bool,
    /// 复查机关 of the documents a township issues in its own name, if the county named it.
    pub township_review_body: Option<String>,
}

/// The rules an office or the hub reckons with: the built-in rules with the county's entries.
#[derive(Debug, Clone)]
pub struct Rules {
    /// The deadline policy versions.
    pub policies: PolicyTable,
    /// The working-day calendar.
    pub calendar: WorkCalendar,
    /// County settings and legal bases, each with its changes by first day.
    settings: BTreeMap<String, Vec<(NaiveDate, String)>>,
    /// The entries applied, for display.
    entries: Vec<RuleEntry>,
}

impl Default for Rules {
    fn default() -> Self {
        Self::builtin()
    }
}

/// An entry [`Rules::with_doc`] could not apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The entry.
    pub id: String,
    /// Why, in Chinese.
    pub reason: String,
}

impl Rules {
    /// This release's rules: 信访条例 (2005) and 信访工作条例 (2022), the embedded holiday table,
    /// no county settings, the built-in legal-basis table.
    pub fn builtin() -> Self {
        Self::new(PolicyTable::default(), WorkCalendar::china())
    }

    /// Rules from a policy table and a calendar (tests use other calendars).
    pub fn new(policies: PolicyTable, calendar: WorkCalendar) -> Self {
        Self { policies, calendar, settings: BTreeMap::new(), entries: Vec::new() }
    }

    /// These rules with the entries of a rules document applied, and the entries that could
    /// not be applied (a value that does not parse, a holiday year beyond the next one).
    pub fn with_doc(&self, doc: &RulesDoc) -> (Self, Vec<Skipped>) {
        let mut out = self.clone();
        let mut skipped = Vec::new();
        let mut entries = doc.entries.clone();
        // Recorded order; concurrent entries (two bureau devices) by id.
        entries.sort_by(|a, b| (a.recorded_at, &a.id).cmp(&(b.recorded_at, &b.id)));
        // Holiday years in year order, each year's schedules in the order recorded (a later one
        // replaces the earlier from its own first day).
        let mut years: BTreeMap<i32, Vec<&RuleEntry>> = BTreeMap::new();
        let mut policy: BTreeMap<NaiveDate, Vec<(PolicyField, &RuleEntry)>> = BTreeMap::new();
        for e in &entries {
            match RuleItem::parse(&e.item) {
                RuleItem::Holidays(y) => years.entry(y).or_default().push(e),
                RuleItem::Policy(f) => policy.entry(e.from).or_default().push((f, e)),
                RuleItem::County(_) | RuleItem::LegalBasis(_) => {
                    out.settings.entry(e.item.clone()).or_default().push((e.from, e.value.clone()));
                }
                RuleItem::Unknown(_) => {}
            }
        }
        for (year, schedules) in years {
            for e in schedules {
                let applied = WorkCalendar::parse_year(year, &e.value)
                    .and_then(|marks| out.calendar.with_year(year, &marks, e.from));
                match applied {
                    Ok(calendar) => out.calendar = calendar,
                    Err(err) => skipped.push(Skipped { id: e.id.clone(), reason: err.to_string() }),
                }
            }
        }
        for (from, fields) in policy {
            let base = out.policies.for_date(from).clone();
            let root = base.id.split('+').next().unwrap_or_default().to_owned();
            let mut version = Policy {
                id: format!("{root}+{from}").into(),
                name: format!(
                    "{}（县局调整，自{from}起）",
                    base.name.split('（').next().unwrap_or_default()
                )
                .into(),
                effective_from: from,
                ..base
            };
            for (field, e) in fields {
                if let Err(reason) = apply_field(&mut version, &field, &e.value) {
                    skipped.push(Skipped { id: e.id.clone(), reason });
                }
            }
            out.policies.insert(version);
        }
        for list in out.settings.values_mut() {
            // Stable: entries with the same first day keep their recorded order.
            list.sort_by_key(|(from, _)| *from);
        }
        out.entries = entries;
        (out, skipped)
    }

    /// The value of a county setting or legal basis in force on `on`, if one was set.
    fn setting(&self, item: &RuleItem, on: NaiveDate) -> Option<&str> {
        self.settings
            .get(&item.code())?
            .iter()
            .rev()
            .find(|(from, _)| *from <= on)
            .map(|(_, v)| v.as_str())
    }

    /// The county settings in force on `on`.
    pub fn county_on(&self, on: NaiveDate) -> CountySettings {
        CountySettings {
            review_body: self
                .setting(&RuleItem::County(CountySetting::ReviewBody), on)
                .map(str::to_owned)
                .filter(|s| !s.trim().is_empty()),
            issues_own_documents: self
                .setting(&RuleItem::County(CountySetting::IssuesOwnDocuments), on)
                == Some("true"),
            township_review_body: self
                .setting(&RuleItem::County(CountySetting::TownshipReviewBody), on)
                .map(str::to_owned)
                .filter(|s| !s.trim().is_empty()),
        }
    }

    /// Whether the county has set this county setting or legal basis at all (else the default
    /// or the built-in table holds).
    pub fn is_set(&self, item: &RuleItem) -> bool {
        self.settings.contains_key(&item.code())
    }

    /// 法律依据: the law and article a category of matter turns on, in force on `on`: the
    /// county's entry, else the built-in table; `None` when neither names one.
    pub fn legal_basis(&self, category: &Category, on: NaiveDate) -> Option<String> {
        match self.setting(&RuleItem::LegalBasis(category.clone()), on) {
            Some(v) if v.trim().is_empty() => None,
            Some(v) => Some(v.to_owned()),
            None => builtin_basis(category).map(str::to_owned),
        }
    }

    /// Everything deadlines and statistics are reckoned with, as text: two rules with the same
    /// description reckon every case alike (county settings and legal bases are left out: they
    /// only change documents).
    pub fn describe(&self) -> String {
        format!("{:?}\n{}", self.policies, self.calendar.describe())
    }

    /// The entries applied, in recorded order.
    pub fn entries(&self) -> &[RuleEntry] {
        &self.entries
    }
}

fn apply_field(p: &mut Policy, field: &PolicyField, value: &str) -> Result<(), String> {
    let n =
        || value.parse::<u32>().map_err(|_| format!("「{}」的值 {value} 不是整数", field.label()));
    match field {
        PolicyField::Name => p.name = value.to_owned().into(),
        PolicyField::DecideDays => p.decide_days = n()?,
        PolicyField::DecideWorking => p.decide_working = value == "true",
        PolicyField::ObjectionWorkingDays => p.objection_working_days = n()?,
        PolicyField::HandleDays => p.handle_days = n()?,
        PolicyField::ExtensionMaxDays => p.extension_max_days = n()?,
        PolicyField::ReviewRequestDays => p.review_request_days = n()?,
        PolicyField::ReviewDays => p.review_days = n()?,
        PolicyField::RatingDays => p.rating_days = n()?,
        PolicyField::CollectiveThreshold => p.collective_threshold = n()?,
        PolicyField::SettledWindowDays => p.settled_window_days = n()?,
        PolicyField::RepresentativesMax => p.representatives_max = n()?,
        PolicyField::Assess12336WorkingDays => p.assess_12336_working_days = n()?,
        PolicyField::Feedback12336Days => p.feedback_12336_days = n()?,
        PolicyField::Unknown(_) => {}
    }
    Ok(())
}

/// The legal basis each category of land and mineral matter turns on, by default: 《土地管理法》
/// (2019 revision) for land; the mineral categories name the law only, since its 2024 revision
/// renumbered the articles: a county enters the article it cites.
pub fn builtin_basis(category: &Category) -> Option<&'static str> {
    Some(match category {
        Category::IllegalTransfer | Category::IllegalUseRightTransfer => {
            "《中华人民共和国土地管理法》第七十四条"
        }
        Category::FarmlandDamage => "《中华人民共和国土地管理法》第七十五条",
        Category::IllegalOccupation | Category::IllegalOccupation12336 => {
            "《中华人民共和国土地管理法》第七十七条"
        }
        Category::IllegalApproval => "《中华人民共和国土地管理法》第七十九条",
        Category::Dispute => "《中华人民共和国土地管理法》第十四条",
        Category::OtherLandViolation => "《中华人民共和国土地管理法》",
        Category::MiningRight
        | Category::IllegalExploration
        | Category::IllegalMining
        | Category::IllegalMiningApproval
        | Category::IllegalMiningRightTransfer
        | Category::OtherMineralViolation => "《中华人民共和国矿产资源法》",
        Category::EnquiryCertificate | Category::Other | Category::Unknown(_) => return None,
    })
}

/// The change that creates the rules document: the same bytes wherever it is made (a fixed
/// actor, time 0), so the hub and a bureau that set rules before it ever synced create one
/// document, not two whose `entries` would hide each other's.
pub fn genesis() -> Vec<u8> {
    use automerge::ReadDoc;
    use automerge::transaction::CommitOptions;
    let mut doc = automerge::Automerge::new().with_actor(automerge::ActorId::from(GENESIS_ACTOR));
    let mut tx = doc.transaction();
    if crate::schema::write_rules(&mut tx).is_err() {
        tx.rollback();
        return Vec::new();
    }
    let (hash, _) = tx.commit_with(CommitOptions::default().with_time(0));
    hash.and_then(|h| doc.get_change_by_hash(&h).map(|c| c.raw_bytes().to_vec()))
        .unwrap_or_default()
}

/// The actor of [`genesis`]: no device's.
const GENESIS_ACTOR: &[u8] = b"ledger-county-rules-genesis";

#[cfg(test)]
mod tests;
