//! The case model (`reference/domain.md` §2): one [`Case`] is one 信访事项 with its submissions,
//! its event log and its attachments; the petitioners' identities live apart in an
//! [`Identity`] document.
//!
//! These are plain values. How they are laid out in Automerge is [`crate::schema`]; what the
//! event log means is [`crate::workflow`].

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::terms::{
    Category, Channel, CloseReason, DocumentKind, FollowUpMethod, HandlingTrack, IdType, Outcome,
    PetitionerKind, Purpose, ReviewOutcome, Role, Satisfaction, Sector, Source,
};
use crate::workflow::{ActionKind, EventOrder};

/// The schema version this build writes into every document it creates.
pub const SCHEMA_VERSION: u64 = 1;

/// 案件标识: a case's id, a UUIDv7 minted by the office that registered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(transparent)]
pub struct CaseId(pub Uuid);

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for CaseId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s.trim()).map(Self)
    }
}

/// Device time: milliseconds since the Unix epoch by the recording device's clock, which may be
/// wrong; replay never trusts it over causality.
pub type DeviceTime = i64;

/// The civil date of a device time in China Standard Time (UTC+8), where every office works.
pub fn china_date(at: DeviceTime) -> NaiveDate {
    const CST_MS: i64 = 8 * 3600 * 1000;
    let days = (at + CST_MS).div_euclid(86_400_000);
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(days + 719_163).unwrap_or(if days < 0 {
        1
    } else {
        i32::MAX / 2
    }))
    .unwrap_or(NaiveDate::MIN)
}

/// 信访事项: one petition matter and everything recorded about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Case {
    /// The case id.
    pub id: CaseId,
    /// The schema version of the document the case was read from.
    pub schema_version: u64,
    /// 案件编号: the human number allocated offline by the registering device
    /// (`黄桥-2017-A-0012`).
    pub number: String,
    /// 正式编号: the bureau's official number, added on acceptance.
    pub official_number: Option<String>,
    /// 登记单位: the code of the office that registered the case.
    pub registered_by: String,
    /// 信访目的.
    pub purpose: Purpose,
    /// 涉及领域.
    pub sector: Sector,
    /// 问题类别.
    pub category: Category,
    /// 所属乡镇: the township the matter belongs to, by name (黄桥镇); set at registration and
    /// changed only by the bureau's assign or reassign.
    pub jurisdiction: Option<String>,
    /// 被反映对象: the person or unit complained about.
    pub subject: String,
    /// 诉求内容: what the petitioner asks for, with facts and reasons.
    pub request: String,
    /// 问题属地: the village or place the matter concerns.
    pub village: String,
    /// 是否保密: the petitioner asked for confidentiality; identity goes to the bureau only.
    pub confidential: bool,
    /// 解除保密: the bureau lifted the identity restriction (every concurrent value agrees; a
    /// concurrent tightening keeps it restricted).
    #[serde(default)]
    pub identity_released: bool,
    /// Whether a losing concurrent value of 信访目的 or 是否保密 restricts the identity: a
    /// concurrent edit never loosens a restriction.
    #[serde(default)]
    pub restrictive_values: bool,
    /// 演示数据: the case came with the demo data set. Written once, at creation; only such a
    /// case may be removed (清除演示数据), the one deletion the hub performs (DESIGN §6).
    #[serde(default)]
    pub demo: bool,
    /// 信访人: references to the petitioners, with masked display names.
    pub petitioners: Vec<PetitionerRef>,
    /// 信访件: every letter, visit, call or referral about the matter, by received date.
    pub submissions: Vec<Submission>,
    /// 办理记录: the event log, in replay order.
    pub events: Vec<Event>,
    /// 附件: attachment references, by time added.
    pub attachments: Vec<AttachmentRef>,
    /// 答复草稿: the reply while it is drafted (Automerge text).
    pub reply_draft: String,
    /// 调查报告: the investigation report while it is drafted (Automerge text).
    pub investigation_report: String,
}

impl Case {
    /// The petitioners' names as this office may show them: the full name where the identity
    /// document is held here (the bureau always, a township for the cases it may know), else the
    /// masked display name (张*丰). ID numbers, phones and addresses are never part of this.
    pub fn names(&self, identity: Option<&Identity>) -> Vec<String> {
        self.petitioners
            .iter()
            .map(|p| {
                identity
                    .and_then(|i| i.persons.iter().find(|q| q.id == p.id))
                    .map(|q| q.name.trim())
                    .filter(|n| !n.is_empty())
                    .map_or_else(|| p.display_name.clone(), str::to_owned)
            })
            .collect()
    }

    /// The Lamport number for the next event recorded on this case: one more than the largest
    /// this replica has seen.
    pub fn next_lamport(&self) -> u64 {
        self.events.iter().map(|e| e.lamport).max().unwrap_or(0) + 1
    }

    /// The date the matter was first received: the earliest submission.
    pub fn received(&self) -> Option<NaiveDate> {
        self.submissions.iter().map(|s| s.received).min()
    }

    /// The first submission's source, which decides the referral deadlines.
    pub fn first_source(&self) -> Option<&Source> {
        self.submissions.iter().min_by_key(|s| (s.received, &s.id)).map(|s| &s.source)
    }

    /// Whether the petitioners' identity document may go to the bureau only: every 检举控告
    /// matter (every 12336 report is one) and every confidential case (信访工作条例 §30).
    ///
    /// A purpose this version does not know counts as restrictive (fail closed). Only the
    /// bureau's 解除保密 lifts a restriction.
    pub fn identity_restricted(&self) -> bool {
        self.restrictive() && !self.identity_released
    }

    /// Whether anything about the case restricts its identity, before any 解除保密.
    pub fn restrictive(&self) -> bool {
        self.restrictive_values
            || self.confidential
            || restrictive_purpose(&self.purpose)
            || self.submissions.iter().any(|s| s.confidential || s.source == Source::Report12336)
    }

    /// The issued documents, read from the 出具文书 events.
    pub fn documents(&self) -> Vec<IssuedDocument> {
        self.events
            .iter()
            .filter(|e| e.action == ActionKind::IssueDocument)
            .filter_map(|e| {
                Some(IssuedDocument {
                    kind: e.document_kind.clone()?,
                    number: e.document_number.clone().unwrap_or_default(),
                    issued: e.date,
                    event_id: e.id.clone(),
                    office: e.office.clone(),
                })
            })
            .collect()
    }

    /// 首问责任人: who first received the matter, the staff member who registered it (the first
    /// 登记 in replay order), with the office and the day; none when that record names no one
    /// (history imported without a handler).
    pub fn first_receiver(&self) -> Option<FirstReceiver> {
        self.events
            .iter()
            .filter(|e| e.action == ActionKind::Register)
            .min_by(|a, b| a.order().cmp(&b.order()))
            .filter(|e| !e.handler.trim().is_empty())
            .map(|e| FirstReceiver {
                handler: e.handler.clone(),
                office: e.office.clone(),
                date: e.date,
            })
    }

    /// The 紧急上报 each 重大紧急 or 扬言 submission asks (信访工作条例 §25): per day such a
    /// submission came in, the first 紧急上报 on or after it, if any. A second threat weeks
    /// later is reported again.
    pub fn urgent_reports(&self) -> Vec<(NaiveDate, Option<NaiveDate>)> {
        let days: std::collections::BTreeSet<NaiveDate> = self
            .submissions
            .iter()
            .filter(|s| s.needs_immediate_report())
            .map(|s| s.received)
            .collect();
        days.into_iter()
            .map(|day| {
                let reported = self
                    .events
                    .iter()
                    .filter(|e| e.action == ActionKind::ReportUp && e.date >= day)
                    .map(|e| e.date)
                    .min();
                (day, reported)
            })
            .collect()
    }

    /// The satisfaction evaluations, read from the 评价 events.
    pub fn evaluations(&self) -> Vec<Evaluation> {
        self.events
            .iter()
            .filter(|e| e.action == ActionKind::Evaluate)
            .filter_map(|e| {
                Some(Evaluation {
                    result: e.satisfaction.clone()?,
                    date: e.date,
                    comment: e.text.clone().unwrap_or_default(),
                    event_id: e.id.clone(),
                })
            })
            .collect()
    }

    /// Sorts the events into replay order: (`lamport`, device time, `event_id`).
    pub fn sort_events(&mut self) {
        self.events.sort_by(|a, b| a.order().cmp(&b.order()));
    }
}

/// Whether a 信访目的 restricts the identity: 检举控告, and (fail closed) 待分类 and any purpose
/// this version does not know.
pub fn restrictive_purpose(purpose: &Purpose) -> bool {
    matches!(purpose, Purpose::Report | Purpose::Unclassified | Purpose::Unknown(_))
}

/// A reference from a case to one petitioner in its identity document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PetitionerRef {
    /// The key of the person in the case's identity document.
    pub id: String,
    /// 信访人类型.
    pub kind: PetitionerKind,
    /// The masked name shown in lists (张*明); see [`crate::idcard::mask_name`].
    pub display_name: String,
}

/// 信访件: one letter, visit, call, online post or referral about the matter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Submission {
    /// The submission id (UUIDv7).
    pub id: String,
    /// 信访形式.
    pub channel: Channel,
    /// 信访来源.
    pub source: Source,
    /// 信访日期: the day it was received; the legal clocks start here (§23).
    pub received: NaiveDate,
    /// 批次: for visits, the number of visit batches (the seed's 50批).
    pub batches: u32,
    /// 人数/人次: persons (for visits, person-visits: the seed's 116人次).
    pub persons: u32,
    /// 集体访/联名信: a collective visit or joint letter.
    pub collective: bool,
    /// 越级: the petitioner skipped a level.
    pub skip_level: bool,
    /// 重复: a repeat submission on a matter already raised (重件).
    pub repeat: bool,
    /// 匿名: anonymous; no written reply can be given.
    pub anonymous: bool,
    /// 是否保密: the petitioner asked for confidentiality.
    pub confidential: bool,
    /// The petitioners who made this submission (ids of [`PetitionerRef`]).
    pub petitioners: Vec<String>,
    /// 反映内容: what this submission says (a repeat visit may add to the request).
    pub summary: String,
    /// The office that recorded it.
    pub registered_by: String,
    /// The fingerprint of the imported ledger row it came from, so a re-import adds nothing.
    pub fingerprint: Option<String>,
    /// 来文机关: the body that referred it, by its full name (邵阳市信访局), for a referral; the
    /// 办结报告 goes back to it (信访工作条例 §22).
    #[serde(default)]
    pub referred_by: Option<String>,
    /// 来文文号: the referring body's document number (邵信交〔2024〕12号).
    #[serde(default)]
    pub referral_number: Option<String>,
    /// 平台编号: the number the 12336 platform gave the report, kept so the 反馈 goes back to
    /// the right lead; only on a 12336 report.
    #[serde(default)]
    pub platform_number: Option<String>,
    /// 代表: the petitioners several visitors chose to speak for them (ids of
    /// [`PetitionerRef`]; at most 5, 信访工作条例 §20, or the rules document's number).
    #[serde(default)]
    pub representatives: Vec<String>,
    /// 重大紧急: a major or urgent matter, to be reported at once (信访工作条例 §25).
    #[serde(default)]
    pub urgent: bool,
    /// 扬言: the petitioner threatened an extreme act (the national system's 扬言标志). §25 names
    /// only 重大紧急; reporting a threat at once like one is this system's practice.
    #[serde(default)]
    pub threat: bool,
    /// 涉法涉诉: the matter touches a court case or a statutory procedure (§22 ¶2, §28).
    #[serde(default)]
    pub litigation: bool,
}

impl Submission {
    /// Whether the submission must be reported upward at once (信访工作条例 §25): 重大紧急 or 扬言.
    pub fn needs_immediate_report(&self) -> bool {
        self.urgent || self.threat
    }

    /// The marks set on it, in the register's order (集体访, 越级, 重复, 匿名, 保密, 重大紧急,
    /// 扬言, 涉法涉诉).
    pub fn marks(&self) -> Vec<&'static str> {
        [
            (self.collective, "集体访"),
            (self.skip_level, "越级"),
            (self.repeat, "重复"),
            (self.anonymous, "匿名"),
            (self.confidential, "保密"),
            (self.urgent, "重大紧急"),
            (self.threat, "扬言"),
            (self.litigation, "涉法涉诉"),
        ]
        .into_iter()
        .filter_map(|(set, mark)| set.then_some(mark))
        .collect()
    }
}

/// 办理记录: one event of the log. Events are only ever added; status is derived by replaying
/// them (see [`crate::workflow::replay`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "CaseEvent"))]
pub struct Event {
    /// The event id (UUIDv7).
    pub id: String,
    /// One more than the largest Lamport number its author had seen on the case.
    pub lamport: u64,
    /// What was done.
    pub action: ActionKind,
    /// The recording device (its Automerge actor, hex).
    pub actor: String,
    /// The code of the office that recorded it.
    pub office: String,
    /// Whether that office is the bureau or a township.
    pub role: Role,
    /// 办理人: the staff member who did it.
    pub handler: String,
    /// Device time of recording.
    pub at: DeviceTime,
    /// The day the action counts as done (the device's date, or the historical date of imported
    /// history).
    pub date: NaiveDate,
    /// History brought in by an import, exempt from the role table.
    pub imported: bool,
    /// 去向单位: the township (assign, reassign) or body (forward) it went to.
    pub target: Option<String>,
    /// 期限: the deadline set by an assign or an extension.
    pub due: Option<NaiveDate>,
    /// 办理说明: the note, or for 答复 the reply as issued, frozen.
    pub text: Option<String>,
    /// 评价结果, for 评价.
    pub satisfaction: Option<Satisfaction>,
    /// 终结原因, for 办结.
    pub close_reason: Option<CloseReason>,
    /// 处理意见, for 答复.
    pub outcome: Option<Outcome>,
    /// 复查/复核结论, for 复查意见 and 复核意见 (the reviewing body is in `target`).
    pub review_outcome: Option<ReviewOutcome>,
    /// 办理程序, for the decision on acceptance (受理, or 交办 when it is the decision). Older
    /// events have none: their matters are on the track their 信访目的 proposes.
    pub track: Option<HandlingTrack>,
    /// 文书类别, for 出具文书.
    pub document_kind: Option<DocumentKind>,
    /// 文书编号, for 出具文书.
    pub document_number: Option<String>,
    /// The field a 冲突处理 event settles.
    pub field: Option<String>,
    /// The event this one answers: for 督办反馈 the 督办单 (a 督办 event's id).
    pub refers: Option<String>,
    /// 回访方式, for 回访.
    pub method: Option<FollowUpMethod>,
    /// 无法回访: a 回访 that could not reach the petitioner (`method` says how it was tried).
    pub unreachable: bool,
}

/// What every event has: who recorded it, when, and what was done. [`Event::new`] makes an
/// event of it with no details; callers then set the details their action needs.
#[derive(Debug, Clone)]
pub struct EventHead {
    /// The event id (UUIDv7).
    pub id: String,
    /// The Lamport number.
    pub lamport: u64,
    /// What was done.
    pub action: ActionKind,
    /// The recording device (its Automerge actor, hex).
    pub actor: String,
    /// The recording office's code.
    pub office: String,
    /// That office's role.
    pub role: Role,
    /// 办理人.
    pub handler: String,
    /// Device time of recording.
    pub at: DeviceTime,
    /// The day the action counts as done.
    pub date: NaiveDate,
    /// History brought in by an import.
    pub imported: bool,
}

impl Event {
    /// An event with its head and no details.
    pub fn new(head: EventHead) -> Self {
        let EventHead { id, lamport, action, actor, office, role, handler, at, date, imported } =
            head;
        Self {
            id,
            lamport,
            action,
            actor,
            office,
            role,
            handler,
            at,
            date,
            imported,
            target: None,
            due: None,
            text: None,
            satisfaction: None,
            close_reason: None,
            outcome: None,
            review_outcome: None,
            track: None,
            document_kind: None,
            document_number: None,
            field: None,
            refers: None,
            method: None,
            unreachable: false,
        }
    }

    /// The key replay sorts by: an event never precedes one its author had already seen,
    /// whatever the office clock says; only concurrent events are ordered by clock.
    pub fn order(&self) -> EventOrder<'_> {
        EventOrder { lamport: self.lamport, at: self.at, id: &self.id }
    }
}

/// 首问责任: the first receiver bound to the matter (首问负责制: whoever first receives a
/// petitioner answers for the matter until it is handed on in writing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FirstReceiver {
    /// 首问责任人: the staff member.
    pub handler: String,
    /// The code of their office.
    pub office: String,
    /// The day the matter was registered.
    pub date: NaiveDate,
}

/// 文书: a written notice or reply issued on the case, read from its 出具文书 event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IssuedDocument {
    /// The kind.
    pub kind: DocumentKind,
    /// 文书编号.
    pub number: String,
    /// 出具日期.
    pub issued: NaiveDate,
    /// The 出具文书 event.
    pub event_id: String,
    /// The issuing office.
    pub office: String,
}

/// 满意度评价: the petitioner's rating, read from its 评价 event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Evaluation {
    /// The rating.
    pub result: Satisfaction,
    /// When it was given.
    pub date: NaiveDate,
    /// The petitioner's comment.
    pub comment: String,
    /// The 评价 event.
    pub event_id: String,
}

/// 附件: a file cited by the case, stored once as a content-addressed blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AttachmentRef {
    /// BLAKE3 hash of the content, hex.
    pub hash: String,
    /// The file name as given.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// MIME type, if known.
    pub mime: String,
    /// When it was attached (device time).
    pub added_at: DeviceTime,
    /// The office that attached it.
    pub added_by: String,
}

impl AttachmentRef {
    /// The MIME type of a file by its name's extension (the app opens it with it; a document
    /// preview needs it right), `application/octet-stream` when unknown.
    pub fn mime_of(name: &str) -> &'static str {
        match name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).as_deref() {
            Some("pdf") => "application/pdf",
            Some("jpg" | "jpeg") => "image/jpeg",
            Some("png") => "image/png",
            Some("doc") => "application/msword",
            Some("docx") => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            Some("xls") => "application/vnd.ms-excel",
            Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Some("txt") => "text/plain",
            Some("mp3") => "audio/mpeg",
            Some("mp4") => "video/mp4",
            _ => "application/octet-stream",
        }
    }
}

/// 信访人身份: the separate per-case identity document. Every 检举控告 and confidential case's
/// identity goes to the bureau only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Identity {
    /// The case it belongs to.
    pub case_id: CaseId,
    /// The schema version of the document it was read from.
    pub schema_version: u64,
    /// The persons, keyed by [`PetitionerRef::id`], sorted by id.
    pub persons: Vec<Person>,
}

/// 信访人: one petitioner's identity and contact details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Person {
    /// The key the case's [`PetitionerRef`] points to.
    pub id: String,
    /// 姓名(名称).
    pub name: String,
    /// 证件类型.
    pub id_type: IdType,
    /// 证件号码.
    pub id_number: String,
    /// 联系电话.
    pub phone: String,
    /// 住址.
    pub address: String,
}

/// 人员名单: an office's staff roster as the hub and the office's devices hold it. Entries
/// are never removed: a member who leaves gets a `left` date, so the events they recorded
/// before still validate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    /// The office's code.
    pub office: String,
    /// The members, by name.
    pub staff: Vec<StaffEntry>,
}

/// One member of a [`Roster`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffEntry {
    /// 姓名: the name recorded as 办理人.
    pub name: String,
    /// The day they were added.
    pub added: NaiveDate,
    /// The day they left, if they did.
    pub left: Option<NaiveDate>,
}

impl Roster {
    /// Whether `name` may sign an event dated `date`: on the roster, and not yet left then.
    pub fn may_sign(&self, name: &str, date: NaiveDate) -> bool {
        self.staff.iter().any(|s| s.name == name && s.left.is_none_or(|left| date <= left))
    }

    /// Whether `name` is on the roster now.
    pub fn has_current(&self, name: &str) -> bool {
        self.staff.iter().any(|s| s.name == name && s.left.is_none())
    }
}

/// A human case number, allocated per device so two devices offline never collide:
/// `{prefix}-{year}-{device}-{seq:04}` (`黄桥-2017-A-0012`).
pub fn case_number(prefix: &str, year: i32, device: &str, seq: u32) -> String {
    format!("{prefix}-{year}-{device}-{seq:04}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attachment_type_comes_from_its_extension_only() {
        assert_eq!(AttachmentRef::mime_of("现场照片.JPG"), "image/jpeg");
        assert_eq!(AttachmentRef::mime_of("台账.2017.xlsx"), AttachmentRef::mime_of("a.XLSX"));
        assert_eq!(AttachmentRef::mime_of("复查意见书.pdf"), "application/pdf");
        // A name that is only an extension's letters, or has no extension, is not that type.
        assert_eq!(AttachmentRef::mime_of("pdf"), "application/octet-stream");
        assert_eq!(AttachmentRef::mime_of("笔录.exe"), "application/octet-stream");
    }

    #[test]
    fn china_date_uses_utc_plus_8() {
        // 2017-03-01T16:30:00Z is 2017-03-02 00:30 in Beijing.
        let at = 1_488_385_800_000;
        assert_eq!(china_date(at), NaiveDate::from_ymd_opt(2017, 3, 2).unwrap());
        assert_eq!(china_date(at - 3_600_000), NaiveDate::from_ymd_opt(2017, 3, 1).unwrap());
        assert_eq!(china_date(0), NaiveDate::from_ymd_opt(1970, 1, 1).unwrap());
    }

    #[test]
    fn names_are_full_only_where_the_identity_is_held() {
        let case = crate::fixtures::seed_2017().remove(0);
        let masked: Vec<String> = case.petitioners.iter().map(|p| p.display_name.clone()).collect();
        assert!(masked[0].contains('*'), "{masked:?}");
        assert_eq!(case.names(None), masked);
        let identity = Identity {
            case_id: case.id,
            schema_version: 1,
            persons: vec![Person {
                id: case.petitioners[0].id.clone(),
                name: "王志强".into(),
                id_type: crate::IdType::ResidentId,
                id_number: "110105194912310021".into(),
                phone: "13800000000".into(),
                address: "大屋村".into(),
            }],
        };
        assert_eq!(case.names(Some(&identity))[0], "王志强");
        // An identity without this petitioner (or with a blank name) leaves the mask.
        let other = Identity { persons: vec![], ..identity };
        assert_eq!(case.names(Some(&other)), masked);
    }

    #[test]
    fn case_numbers_carry_device_and_sequence() {
        assert_eq!(case_number("黄桥", 2017, "A", 12), "黄桥-2017-A-0012");
    }
}
