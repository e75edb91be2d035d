//! The facts of a case that lists, deadlines lists and statistics need, projected once when
//! the case changes, so that they never have to load every document.
//!
//! A store keeps one [`CaseFacts`] per case (as JSON in its index); the hub derives the same
//! from its documents. Both feed [`crate::stats::statistics`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::WorkCalendar;
use crate::deadline::{DeadlineKind, PolicyTable, clocks};
use crate::model::{Case, CaseId};
use crate::terms::{Category, Channel, DocumentKind, Purpose, Satisfaction, Sector, Source};
use crate::workflow::{Replay, Status};

/// 书面告知: what is known of the written notice of the bureau's first decision (受理告知书,
/// 不予受理告知书, or for a forwarded matter 转送告知书), which the 15-day clock of §23 measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// Facts projected before notices were projected: the decision's date stands in for it.
    #[default]
    Unprojected,
    /// 未告知: no notice recorded yet.
    Missing,
    /// 已告知: the earliest notice was issued that day.
    Issued(NaiveDate),
    /// 无法告知: the first submission was anonymous, so no notice is possible (§23 ¶2); the
    /// decision's date counts.
    NotPossible,
    /// 告知日期不详: the decision came with imported history and no notice was recorded; it is
    /// neither timely nor late.
    Unknown,
}

/// One submission, as the statistics count it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmissionFacts {
    /// 信访日期.
    pub received: NaiveDate,
    /// 信访形式.
    pub channel: Channel,
    /// 信访来源.
    pub source: Source,
    /// 批次.
    pub batches: u32,
    /// 人数/人次.
    pub persons: u32,
    /// 集体访.
    pub collective: bool,
    /// 越级.
    pub skip_level: bool,
    /// 重复.
    pub repeat: bool,
    /// 重大紧急.
    #[serde(default)]
    pub urgent: bool,
    /// 扬言.
    #[serde(default)]
    pub threat: bool,
    /// 涉法涉诉.
    #[serde(default)]
    pub litigation: bool,
}

/// What statistics need to know about one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseFacts {
    /// The case.
    pub id: CaseId,
    /// Derived status.
    pub status: Status,
    /// 所属乡镇.
    pub township: Option<String>,
    /// 涉及领域.
    pub sector: Sector,
    /// 问题类别.
    pub category: Category,
    /// 信访目的.
    pub purpose: Purpose,
    /// Every submission.
    pub submissions: Vec<SubmissionFacts>,
    /// The day the first submission was received.
    pub received: Option<NaiveDate>,
    /// 受理告知期限.
    pub decide_due: Option<NaiveDate>,
    /// The bureau's first decision.
    pub decided_on: Option<NaiveDate>,
    /// 书面告知 of that decision; absent in facts projected by older versions.
    #[serde(default)]
    pub notice: Notice,
    /// The day handling began (受理 or 交办); `None` for not accepted or forwarded matters.
    pub accepted_on: Option<NaiveDate>,
    /// 办理期限 (as extended).
    pub handle_due: Option<NaiveDate>,
    /// The first reply.
    pub first_reply_on: Option<NaiveDate>,
    /// 办结.
    pub closed_on: Option<NaiveDate>,
    /// The latest rating.
    pub evaluation: Option<Satisfaction>,
    /// The day of the latest rating.
    pub evaluated_on: Option<NaiveDate>,
    /// The day a rating counts as 超期未评价 after.
    pub rating_due: Option<NaiveDate>,
    /// Routed into a statutory procedure (导入法定程序): outside the satisfaction rating, whose
    /// scope leaves out matters that go to litigation, arbitration or review.
    #[serde(default)]
    pub statutory: bool,
    /// Events that did not fit the workflow.
    pub anomalies: u32,
}

impl CaseFacts {
    /// Projects a case and its replay.
    pub fn project(
        case: &Case,
        replay: &Replay,
        policies: &PolicyTable,
        calendar: &WorkCalendar,
    ) -> Self {
        let clocks = clocks(case, replay, policies, calendar);
        let due = |kind: DeadlineKind| {
            clocks.iter().find(|c| c.kind == kind).and_then(|c| c.due.as_ref().ok()).map(|r| r.date)
        };
        let received = case.received();
        let rating_days = policies.for_date(received.unwrap_or(NaiveDate::MIN)).rating_days;
        Self {
            id: case.id,
            status: replay.status.clone(),
            township: case.jurisdiction.clone(),
            sector: case.sector.clone(),
            category: case.category.clone(),
            purpose: case.purpose.clone(),
            submissions: case
                .submissions
                .iter()
                .map(|s| SubmissionFacts {
                    received: s.received,
                    channel: s.channel.clone(),
                    source: s.source.clone(),
                    batches: s.batches,
                    persons: s.persons,
                    collective: s.collective,
                    skip_level: s.skip_level,
                    repeat: s.repeat,
                    urgent: s.urgent,
                    threat: s.threat,
                    litigation: s.litigation,
                })
                .collect(),
            received,
            // A referral returned with an objection was never this bureau's to accept.
            decide_due: due(DeadlineKind::Decide).filter(|_| replay.status != Status::Returned),
            decided_on: replay.decided.as_ref().map(|(_, d)| *d),
            notice: notice(case, replay),
            accepted_on: replay.accepted_on,
            handle_due: due(DeadlineKind::Handle),
            first_reply_on: replay.first_reply_on,
            closed_on: replay.closed.as_ref().map(|(d, _)| *d),
            evaluation: replay.evaluation.as_ref().map(|(s, _)| s.clone()),
            evaluated_on: replay.evaluation.as_ref().map(|(_, d)| *d),
            rating_due: replay
                .first_reply_on
                .map(|d| d + chrono::Days::new(u64::from(rating_days))),
            statutory: replay.track().is_statutory(),
            anomalies: u32::try_from(replay.anomalies.len()).unwrap_or(u32::MAX),
        }
    }

    /// Whether the case is voided (excluded from statistics).
    pub fn voided(&self) -> bool {
        self.status == Status::Voided
    }
}

/// The written notice of the decision on acceptance, as the 15-day clock of §23 and 及时受理率
/// judge it.
pub(crate) fn notice(case: &Case, replay: &Replay) -> Notice {
    let issued = case
        .documents()
        .into_iter()
        .filter(|d| {
            matches!(
                d.kind,
                DocumentKind::AcceptanceNotice
                    | DocumentKind::NonAcceptanceNotice
                    | DocumentKind::ForwardingNotice
                    | DocumentKind::NoFurtherNotice
            )
        })
        .map(|d| d.issued)
        .min();
    if let Some(day) = issued {
        return Notice::Issued(day);
    }
    let first = case.submissions.iter().min_by_key(|s| (s.received, &s.id));
    if first.is_some_and(|s| s.anonymous) {
        return Notice::NotPossible;
    }
    let imported = replay.decided.as_ref().is_some_and(|(kind, day)| {
        case.events.iter().any(|e| e.action == *kind && e.date == *day && e.imported)
    });
    if imported { Notice::Unknown } else { Notice::Missing }
}
