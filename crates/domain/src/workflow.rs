//! The workflow (`reference/domain.md` §3): which actions exist, who may record them, and what
//! status a case is in, derived by replaying its event log.
//!
//! Status is never stored. Replay orders events by (`lamport`, device time, `event_id`), so an
//! event never precedes one its author had already seen, whatever the office clock said; only
//! truly concurrent events are ordered by clock. An event that is invalid in the merged order
//! (a township replied while the bureau voided the case, say) is kept and reported as an
//! [`Anomaly`]; it never changes the status and is never dropped.
//!
//! Recording a new action goes through [`permit`], which applies the role table (the bureau
//! accepts, assigns, reassigns, extends, closes and voids; a township investigates, replies and
//! follows up; both register) and refuses in Chinese. Imported history is exempt from the role
//! table.

use std::cmp::Ordering;

use chrono::NaiveDate;
use serde::Serialize;

use crate::coded_enum;
use crate::model::{Case, DeviceTime, Event};
use crate::terms::{
    CloseReason, DocumentKind, HandlingTrack, ReviewOutcome, Role, Satisfaction, Sector,
};

coded_enum! {
    /// 办理动作: what an event records (§2.4, plus the app's own 作废, 评价, 出具文书, 冲突处理).
    pub enum ActionKind {
        /// 登记: registration; the first event of every case.
        Register = ("register", "登记"),
        /// 受理: the bureau accepts the matter.
        Accept = ("accept", "受理"),
        /// 不予受理: the bureau does not accept it (not its remit, or a statutory route applies).
        NotAccept = ("not_accept", "不予受理"),
        /// 不再受理: no further acceptance (already concluded, or still within its time limit).
        NoFurther = ("no_further", "不再受理"),
        /// 转送: forwarded to another competent body.
        Forward = ("forward", "转送"),
        /// 交办: assigned down to a township office, which becomes the jurisdiction.
        Assign = ("assign", "交办"),
        /// 改派: reassigned to another township.
        Reassign = ("reassign", "改派", "重新交办"),
        /// 异议退回: a township objects to a misdirected assignment and returns it.
        Object = ("object", "异议退回"),
        /// 告知: the petitioner was told something (how it is handled, where it went).
        Notify = ("notify", "告知"),
        /// 调查核实: investigation.
        Investigate = ("investigate", "调查核实", "调查"),
        /// 听证: a hearing.
        Hearing = ("hearing", "听证"),
        /// 调解: mediation.
        Mediate = ("mediate", "调解"),
        /// 延期: the handling period is extended (at most 30 days, §34).
        Extend = ("extend", "延期"),
        /// 答复: the written reply is issued; its text is frozen into the event.
        Reply = ("reply", "答复"),
        /// 复查: the petitioner asked the next level up for a review of the reply (the bureau
        /// records the request; §35).
        Review = ("review", "复查", "复查申请", "复查请求"),
        /// 复查意见: the reviewing body's opinion, recorded by the bureau: the body in `target`,
        /// 维持 / 撤销并责令重作 / 变更 in `review_outcome`. 撤销并责令重作 reopens the case with a new
        /// handling period.
        ReviewOpinion = ("review_opinion", "复查意见"),
        /// 复核: the petitioner asked the level above the reviewing body for a re-review (§36).
        RecheckRequest = ("recheck_request", "复核", "复核申请", "复核请求"),
        /// 复核意见: the re-reviewing body's opinion, recorded by the bureau; final.
        RecheckOpinion = ("recheck_opinion", "复核意见"),
        /// 送达: a document was served on the petitioner (受送达人 in `target`, 送达方式 in `text`,
        /// the day it was received as the event's date). The 30-day windows after a reply run
        /// from the day the petitioner received it (信访工作条例 §35).
        Deliver = ("deliver", "送达"),
        /// 督办: the bureau supervises a township's handling with a 督办单: what it demands
        /// (`text`), by when the township reports (`due`), to whom (`target`, the township
        /// assigned when absent).
        Supervise = ("supervise", "督办"),
        /// 督办反馈: the supervised office reports on a 督办单 (`refers` names it; `text` is
        /// the result). One report answers one 督办单.
        SuperviseReport = ("supervise_report", "督办反馈", "督办回复"),
        /// 催办: the bureau chases a township.
        Chase = ("chase", "催办"),
        /// 紧急上报: a 重大紧急 or 扬言 matter reported upward at once (信访工作条例 §25): to whom
        /// (`target`: 县委县政府, 县信访局, 县局) and what was reported (`text`).
        ReportUp = ("report_up", "紧急上报", "上报"),
        /// 回访: a follow-up call or visit after the reply: how (`method`), what the petitioner
        /// said (`text`), their satisfaction when asked (`satisfaction`), or that they could not
        /// be reached (`unreachable`).
        FollowUp = ("follow_up", "回访"),
        /// 评价: the petitioner's satisfaction rating.
        Evaluate = ("evaluate", "评价", "满意度评价"),
        /// 办结: the case is closed.
        Close = ("close", "办结"),
        /// 作废: a mistaken registration is voided; kept, and left out of the statistics.
        Void = ("void", "作废"),
        /// 出具文书: a statutory document was issued.
        IssueDocument = ("issue_document", "出具文书"),
        /// 冲突处理: a concurrent-edit conflict on a field was resolved.
        ResolveConflict = ("resolve_conflict", "冲突处理"),
        /// 解除保密: the bureau lifts the restriction on the petitioners' identity (the informant
        /// consented, or the matter was misclassified), with its reason; only this lifts it.
        LiftRestriction = ("lift_restriction", "解除保密"),
        /// 清除演示数据: the bureau removes a demo case; the hub then purges it everywhere.
        /// Refused on any case not created as demo data.
        RemoveDemo = ("remove_demo", "清除演示数据"),
    }
}

coded_enum! {
    /// 办理状态: where a case stands, derived from its events.
    pub enum Status {
        /// 登记: registered, awaiting the bureau's decision.
        Registered = ("registered", "登记"),
        /// 受理: accepted by the bureau.
        Accepted = ("accepted", "受理"),
        /// 不予受理: not accepted (or not accepted again).
        NotAccepted = ("not_accepted", "不予受理"),
        /// 转送: forwarded to another body.
        Forwarded = ("forwarded", "转送"),
        /// 交办: assigned to a township, not yet started there.
        Assigned = ("assigned", "交办"),
        /// 办理中: being investigated and handled.
        InProgress = ("in_progress", "办理中"),
        /// 延期: handling extended.
        Extended = ("extended", "延期"),
        /// 已答复: the reply has been issued.
        Replied = ("replied", "已答复"),
        /// 复查中: the petitioner asked for a review.
        UnderReview = ("under_review", "复查中"),
        /// 已复查: the reviewing body upheld or changed the opinion; a 复核 may follow.
        Reviewed = ("reviewed", "已复查"),
        /// 复核中: the petitioner asked for a re-review.
        UnderRecheck = ("under_recheck", "复核中"),
        /// 已复核: the re-review is done; the matter is not accepted again on the same facts.
        Rechecked = ("rechecked", "已复核"),
        /// 办结: closed.
        Closed = ("closed", "办结"),
        /// 作废: voided; excluded from statistics.
        Voided = ("voided", "作废"),
        /// 已退回: a referral that is not the bureau's business went back to the body that sent
        /// it, with the bureau's objection (异议退回, 信访工作条例 §23 ¶3).
        Returned = ("returned", "已退回"),
    }
}

impl Status {
    /// Whether the case is still open work (neither concluded nor voided).
    pub fn is_open(&self) -> bool {
        !matches!(
            self,
            Self::NotAccepted | Self::Forwarded | Self::Returned | Self::Closed | Self::Voided
        )
    }
}

/// The replay sort key of an event: (`lamport`, device time, `event_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventOrder<'a> {
    /// Causal position.
    pub lamport: u64,
    /// Device clock, only to order concurrent events.
    pub at: DeviceTime,
    /// Tie-breaker, unique.
    pub id: &'a str,
}

impl Ord for EventOrder<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.lamport, self.at, self.id).cmp(&(other.lamport, other.at, other.id))
    }
}

impl PartialOrd for EventOrder<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Why an action cannot be recorded now, in plain Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    /// The sentence shown to the user: what is wrong and what to do.
    pub message: String,
}

impl Refusal {
    fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }
}

/// An event that is invalid where it falls in the merged log: kept, flagged for review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Anomaly {
    /// The event.
    pub event_id: String,
    /// Its action.
    pub action: ActionKind,
    /// Why it does not fit, in Chinese.
    pub reason: String,
}

/// Which roles may record an action.
///
/// The bureau accepts, assigns, reassigns, extends, closes and voids; a township investigates,
/// replies and follows up; both register. Handling actions (investigate, reply, follow up) are
/// also open to the bureau on a case it handles itself, that is, one it never assigned down.
pub fn roles_for(action: &ActionKind) -> &'static [Role] {
    const BUREAU: &[Role] = &[Role::Bureau];
    const TOWNSHIP: &[Role] = &[Role::Township];
    const BOTH: &[Role] = &[Role::Bureau, Role::Township];
    match action {
        ActionKind::Accept
        | ActionKind::NotAccept
        | ActionKind::NoFurther
        | ActionKind::Forward
        | ActionKind::Assign
        | ActionKind::Reassign
        | ActionKind::Extend
        | ActionKind::Review
        | ActionKind::ReviewOpinion
        | ActionKind::RecheckRequest
        | ActionKind::RecheckOpinion
        | ActionKind::Supervise
        | ActionKind::Chase
        | ActionKind::Close
        | ActionKind::Void
        | ActionKind::LiftRestriction
        | ActionKind::RemoveDemo => BUREAU,
        ActionKind::Investigate
        | ActionKind::Hearing
        | ActionKind::Mediate
        | ActionKind::Reply
        | ActionKind::SuperviseReport
        | ActionKind::FollowUp => TOWNSHIP,
        // 异议退回: a township returns a misdirected assignment to the bureau; the bureau returns
        // a misdirected referral to the body that sent it.
        ActionKind::Object
        | ActionKind::Register
        | ActionKind::Notify
        | ActionKind::Deliver
        | ActionKind::Evaluate
        | ActionKind::IssueDocument
        | ActionKind::ResolveConflict
        | ActionKind::ReportUp
        | ActionKind::Unknown(_) => BOTH,
    }
}

/// The outcome of replaying a case's event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replay {
    /// The status after the last valid event.
    pub status: Status,
    /// Events that did not fit where they fall, in replay order.
    pub anomalies: Vec<Anomaly>,
    /// The bureau's first decision on the matter (受理, 不予受理, 转送 or 交办) and its date.
    pub decided: Option<(ActionKind, NaiveDate)>,
    /// The day handling began (受理, or 交办 without a prior 受理): the 60-day clock starts here.
    pub accepted_on: Option<NaiveDate>,
    /// The township currently assigned, if the case was assigned down.
    pub assigned_to: Option<String>,
    /// The deadline the bureau set on the latest assignment (交办限期).
    pub assigned_due: Option<NaiveDate>,
    /// The new handling deadline granted by an extension.
    pub extended_to: Option<NaiveDate>,
    /// The latest reply's date and event.
    pub replied: Option<(NaiveDate, String)>,
    /// The first reply's date: what on-time reply statistics judge.
    pub first_reply_on: Option<NaiveDate>,
    /// When the latest review was requested.
    pub review_requested_on: Option<NaiveDate>,
    /// The review opinion (复查意见): its date and outcome.
    pub review_opinion: Option<(NaiveDate, ReviewOutcome)>,
    /// When a re-review (复核) was requested.
    pub recheck_requested_on: Option<NaiveDate>,
    /// The re-review opinion (复核意见): its date and outcome.
    pub recheck_opinion: Option<(NaiveDate, ReviewOutcome)>,
    /// The day a reviewing body set the opinion aside (撤销并责令重作): a new handling period
    /// runs from it.
    pub redo_on: Option<NaiveDate>,
    /// The day the petitioner received the latest reply (its first 送达 of the reply or of the
    /// 信访处理意见书): the review window runs from here.
    pub reply_served_on: Option<NaiveDate>,
    /// The day the petitioner received the review opinion (复查意见书): the 复核 window runs
    /// from here.
    pub review_served_on: Option<NaiveDate>,
    /// The day the petitioner received the re-review opinion (复核意见书).
    pub recheck_served_on: Option<NaiveDate>,
    /// 办理程序 chosen with the decision on acceptance; `None` for matters decided before tracks
    /// were recorded, which stay on the petition procedure they were handled on.
    pub track: Option<HandlingTrack>,
    /// When the case was closed, and why.
    pub closed: Option<(NaiveDate, Option<CloseReason>)>,
    /// The latest rating.
    pub evaluation: Option<(Satisfaction, NaiveDate)>,
    /// The 督办单 issued on the case, in replay order, each with its report once made.
    pub supervisions: Vec<Supervision>,
}

/// 督办单: a supervision order the bureau issued on a case, and the report that answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Supervision {
    /// The 督办 event's id.
    pub id: String,
    /// The day it was issued.
    pub issued_on: NaiveDate,
    /// 被督办单位: the office told to report.
    pub to: Option<String>,
    /// 督办要求.
    pub demand: Option<String>,
    /// 反馈期限: the day the report is due by; older 督办 records have none.
    pub due: Option<NaiveDate>,
    /// 督办反馈: the day it was reported on and the report's text.
    pub report: Option<(NaiveDate, String)>,
    /// The day the case left the office it was addressed to (改派, 异议退回) before it
    /// reported: no report is owed any more.
    pub withdrawn_on: Option<NaiveDate>,
}

impl Supervision {
    /// Whether a report is owed: an order with a report day, not answered, not withdrawn.
    /// Older 督办 records have no report day and owe none.
    pub fn awaiting_report(&self) -> bool {
        self.due.is_some() && self.report.is_none() && self.withdrawn_on.is_none()
    }
}

impl Replay {
    fn new() -> Self {
        Self {
            status: Status::Registered,
            anomalies: Vec::new(),
            decided: None,
            accepted_on: None,
            assigned_to: None,
            assigned_due: None,
            extended_to: None,
            replied: None,
            first_reply_on: None,
            review_requested_on: None,
            reply_served_on: None,
            review_served_on: None,
            recheck_served_on: None,
            review_opinion: None,
            recheck_requested_on: None,
            recheck_opinion: None,
            redo_on: None,
            track: None,
            closed: None,
            evaluation: None,
            supervisions: Vec::new(),
        }
    }

    /// The 督办单 that wait for their report ([`Supervision::awaiting_report`]).
    pub fn open_supervisions(&self) -> impl Iterator<Item = &Supervision> {
        self.supervisions.iter().filter(|s| s.awaiting_report())
    }

    /// Whether the case was voided.
    pub fn voided(&self) -> bool {
        self.status == Status::Voided
    }

    /// The track the matter is handled on: the one chosen at acceptance, or for matters decided
    /// before tracks were recorded, the petition procedure they were handled on.
    pub fn track(&self) -> HandlingTrack {
        self.track.clone().unwrap_or(HandlingTrack::Petition)
    }
}

/// Replays `events` (in any order) and derives the status.
pub fn replay(events: &[Event]) -> Replay {
    let mut ordered: Vec<&Event> = events.iter().collect();
    ordered.sort_by(|a, b| a.order().cmp(&b.order()));
    let mut state = Replay::new();
    let mut registered = false;
    for event in ordered {
        let checked = if event.action == ActionKind::Register {
            if registered {
                Err(Refusal::new("案件已登记，重复的登记记录"))
            } else {
                Ok(())
            }
        } else if !registered {
            Err(Refusal::new("案件尚无登记记录"))
        } else {
            check(&state, &event.role, event.imported, &event.action)
                .and_then(|()| check_payload(&state, event))
        };
        match checked {
            Ok(()) => {
                registered = true;
                apply(&mut state, event);
            }
            Err(refusal) => state.anomalies.push(Anomaly {
                event_id: event.id.clone(),
                action: event.action.clone(),
                reason: refusal.message,
            }),
        }
    }
    state
}

/// The status `event` leads to from `state` (a set-aside review opinion reopens the case, which
/// the action alone does not say).
pub fn status_after(state: &Replay, event: &Event) -> Status {
    let mut next = state.clone();
    apply(&mut next, event);
    next.status
}

/// The document a 送达 recorded now serves, when the clerk does not say: the latest written
/// decision the petitioner is owed (the re-review opinion, the review opinion, or the reply).
pub fn document_to_serve(state: &Replay) -> DocumentKind {
    match state.status {
        Status::Rechecked => DocumentKind::RecheckOpinion,
        Status::Reviewed => DocumentKind::ReviewOpinion,
        _ => DocumentKind::HandlingOpinion,
    }
}

/// Decides whether an office of `role` may record `action` on a case in state `state` now.
/// Returns the status the case would move to.
pub fn permit(state: &Replay, role: &Role, action: &ActionKind) -> Result<Status, Refusal> {
    check(state, role, false, action)?;
    Ok(next_status(state, action, role))
}

/// The actions an office of `role` may record now: what the UI offers, and only that.
pub fn allowed_actions(state: &Replay, role: &Role) -> Vec<ActionKind> {
    ActionKind::KNOWN
        .iter()
        // 解除保密 is offered by the case screen only where the identity is restricted.
        .filter(|a| {
            !matches!(
                a,
                ActionKind::Register
                    | ActionKind::ResolveConflict
                    | ActionKind::LiftRestriction
                    | ActionKind::RemoveDemo
                    | ActionKind::ReportUp
            )
        })
        .filter(|a| check(state, role, false, a).is_ok())
        // 督办反馈 answers a 督办单: offered only while one waits for its report.
        .filter(|a| {
            **a != ActionKind::SuperviseReport || state.open_supervisions().next().is_some()
        })
        .cloned()
        .collect()
}

/// The actions the case screen offers on `case`: [`allowed_actions`], and 紧急上报 where a
/// submission is 重大紧急 or 扬言 (信访工作条例 §25; 扬言 by the national system's flag) and no
/// report on or after it was recorded yet.
pub fn case_actions(case: &Case, state: &Replay, role: &Role) -> Vec<ActionKind> {
    let mut actions = allowed_actions(state, role);
    let unreported = case.urgent_reports().iter().any(|(_, reported)| reported.is_none());
    if unreported && check(state, role, false, &ActionKind::ReportUp).is_ok() {
        actions.push(ActionKind::ReportUp);
    }
    actions
}

fn check(state: &Replay, role: &Role, imported: bool, action: &ActionKind) -> Result<(), Refusal> {
    use Status as S;
    let status = &state.status;
    if let ActionKind::Unknown(code) = action {
        return Err(Refusal::new(format!("本版本不认识办理动作「{code}」，请升级软件后再处理")));
    }
    if *status == S::Voided {
        return Err(Refusal::new("案件已作废，不能再办理"));
    }
    let self_handled = state.assigned_to.is_none();
    if !imported && !roles_for(action).contains(role) {
        let handling = matches!(
            action,
            ActionKind::Investigate
                | ActionKind::Hearing
                | ActionKind::Mediate
                | ActionKind::Reply
                | ActionKind::FollowUp
        );
        let supervised_here = *action == ActionKind::SuperviseReport && self_handled;
        if !(*role == Role::Bureau && ((handling && self_handled) || supervised_here)) {
            let who = if *role == Role::Bureau { "乡镇国土所" } else { "县局" };
            let hint = if *role == Role::Bureau {
                "案件已交办乡镇，请由承办的国土所办理"
            } else {
                "请报县局办理"
            };
            return Err(Refusal::new(format!("「{}」只能由{who}办理；{hint}", action.label())));
        }
    }
    let ok = match action {
        ActionKind::Register | ActionKind::ResolveConflict | ActionKind::Unknown(_) => true,
        // Which 督办单 it answers is the payload's question.
        ActionKind::SuperviseReport => status.is_open(),
        ActionKind::Accept | ActionKind::NotAccept | ActionKind::NoFurther => {
            *status == S::Registered
        }
        ActionKind::Forward | ActionKind::Assign => matches!(status, S::Registered | S::Accepted),
        ActionKind::Reassign => matches!(status, S::Assigned | S::InProgress | S::Extended),
        ActionKind::Object if *role == Role::Bureau => *status == S::Registered,
        ActionKind::Object => *status == S::Assigned,
        ActionKind::Notify
        | ActionKind::IssueDocument
        | ActionKind::Supervise
        | ActionKind::Chase => status.is_open() || matches!(action, ActionKind::IssueDocument),
        // §25 asks the report whatever became of the matter (a threat on a closed case too).
        ActionKind::ReportUp => true,
        // A review is the reviewing body's, not the handling office's: nothing is handled again
        // until it sets the opinion aside (撤销并责令重作 reopens the case as 办理中).
        ActionKind::Investigate | ActionKind::Hearing | ActionKind::Mediate => {
            matches!(status, S::Accepted | S::Assigned | S::InProgress | S::Extended)
        }
        ActionKind::Extend => matches!(status, S::Accepted | S::Assigned | S::InProgress),
        ActionKind::Reply => {
            matches!(status, S::Accepted | S::Assigned | S::InProgress | S::Extended)
        }
        ActionKind::Review if !state.track().reviewable() => {
            return Err(Refusal::new(format!(
                "本事项按「{}」办理，不适用复查（信访工作条例第三十五条只适用于信访处理意见）",
                state.track().label()
            )));
        }
        ActionKind::Review => *status == S::Replied,
        ActionKind::ReviewOpinion => *status == S::UnderReview,
        ActionKind::RecheckRequest => *status == S::Reviewed,
        ActionKind::RecheckOpinion => *status == S::UnderRecheck,
        ActionKind::Deliver => *status != S::Registered,
        ActionKind::FollowUp | ActionKind::Evaluate => matches!(
            status,
            S::Replied | S::UnderReview | S::Reviewed | S::UnderRecheck | S::Rechecked | S::Closed
        ),
        ActionKind::Close => !matches!(status, S::Registered | S::Closed),
        ActionKind::Void | ActionKind::LiftRestriction | ActionKind::RemoveDemo => true,
    };
    if ok { Ok(()) } else { Err(Refusal::new(transition_refusal(action, status))) }
}

/// Rules that depend on what the event carries, not only on the status.
fn check_payload(state: &Replay, event: &Event) -> Result<(), Refusal> {
    match event.action {
        ActionKind::Close => {
            let reason = event.close_reason.clone().unwrap_or(CloseReason::Replied);
            close_check(state, &reason)
        }
        ActionKind::Assign | ActionKind::Reassign if event.target.is_none() => {
            Err(Refusal::new("交办记录没有写明承办乡镇"))
        }
        ActionKind::LiftRestriction
            if event.text.as_deref().is_none_or(|t| t.trim().is_empty()) =>
        {
            Err(Refusal::new("解除保密须写明理由"))
        }
        ActionKind::SuperviseReport => {
            let order = event
                .refers
                .as_deref()
                .and_then(|id| state.supervisions.iter().find(|s| s.id == id));
            match order {
                None => Err(Refusal::new("督办反馈没有对应的督办单")),
                Some(s) if s.report.is_some() => {
                    Err(Refusal::new(format!("该督办单（{}）已经反馈过", s.issued_on)))
                }
                Some(s) if !s.awaiting_report() => Err(Refusal::new(format!(
                    "该督办单（{}）不需要反馈：没有反馈期限，或案件已改派、退回",
                    s.issued_on
                ))),
                Some(s) if event.date < s.issued_on => {
                    Err(Refusal::new(format!("督办反馈的日期早于督办单（{}）", s.issued_on)))
                }
                Some(_) if event.text.as_deref().is_none_or(|t| t.trim().is_empty()) => {
                    Err(Refusal::new("督办反馈须写明办理情况"))
                }
                Some(_) => Ok(()),
            }
        }
        ActionKind::ReviewOpinion | ActionKind::RecheckOpinion
            if event.review_outcome.is_none() || event.target.is_none() =>
        {
            Err(Refusal::new(
                "复查、复核意见须写明作出意见的机关和结论（维持、撤销并责令重作或变更）",
            ))
        }
        _ => Ok(()),
    }
}

/// Whether a matter of `sector` may be forwarded (转送). A land bureau is a working department,
/// not a 信访部门 (`reference/domain.md` §1): it forwards within the land and mineral system
/// (to a 乡镇人民政府 or another land body); a matter outside it (涉及领域 其它) gets a 告知
/// instead: 不予受理, naming the body to turn to (信访工作条例 §23).
pub fn forward_check(sector: &Sector) -> Result<(), Refusal> {
    match sector {
        Sector::Land | Sector::Mineral => Ok(()),
        _ => Err(Refusal::new(
            "该事项不属于国土资源系统的职责范围，不能转送：请选择「不予受理」，写明有权处理的机关，告知信访人向其提出（信访工作条例第二十三条）",
        )),
    }
}

/// Whether a case in `state` may be closed for `reason`.
pub fn close_check(state: &Replay, reason: &CloseReason) -> Result<(), Refusal> {
    let replied = state.replied.is_some();
    let decided_elsewhere = matches!(state.status, Status::NotAccepted | Status::Forwarded);
    if reason.needs_reply() && !replied && !decided_elsewhere {
        return Err(Refusal::new(
            "案件尚未答复，不能以「答复后未申请复查」办结；如信访人撤回、已调解或导入法定程序，请选择相应的办结原因",
        ));
    }
    Ok(())
}

fn transition_refusal(action: &ActionKind, status: &Status) -> String {
    let hint = match action {
        ActionKind::Accept | ActionKind::NotAccept | ActionKind::NoFurther => {
            "只有刚登记、尚未作出受理决定的案件才能作此决定"
        }
        ActionKind::Forward | ActionKind::Assign => {
            "交办或转送须在受理决定阶段进行；已交办的案件请用「改派」"
        }
        ActionKind::Reassign => "只有已交办、尚未答复的案件才能改派；未交办的请用「交办」",
        ActionKind::Object => {
            "县局只能对尚未作出受理决定的转送、交办件提出异议退回；乡镇只能对刚交办、尚未开始办理的案件提出"
        }
        ActionKind::Investigate | ActionKind::Hearing | ActionKind::Mediate => {
            "须先受理或交办，案件答复、办结后不能再调查"
        }
        ActionKind::Extend => "只能在办理期间延期一次；已延期的案件不能再次延期",
        ActionKind::Reply => {
            "须先受理或交办；复查由上一级机关作出意见，请由县局登记「复查意见」，撤销并责令重作后方可重新答复"
        }
        ActionKind::Review => "只有已答复的案件才能登记复查申请",
        ActionKind::ReviewOpinion => "只有复查中的案件才能登记复查意见",
        ActionKind::RecheckRequest => "只有复查机关已作出维持或变更意见的案件才能登记复核申请",
        ActionKind::RecheckOpinion => "只有复核中的案件才能登记复核意见",
        ActionKind::Deliver => "案件尚未作出任何决定，没有可送达的文书",
        ActionKind::FollowUp | ActionKind::Evaluate => "须在答复之后进行",
        ActionKind::Close => "须先作出受理决定并答复；已办结的案件不能重复办结",
        ActionKind::Notify | ActionKind::Supervise | ActionKind::Chase => "案件已办结",
        _ => "",
    };
    format!("案件当前状态为「{}」，不能「{}」：{hint}", status.label(), action.label())
}

fn next_status(state: &Replay, action: &ActionKind, role: &Role) -> Status {
    use Status as S;
    match action {
        ActionKind::Register => S::Registered,
        ActionKind::Accept => S::Accepted,
        ActionKind::NotAccept | ActionKind::NoFurther => S::NotAccepted,
        ActionKind::Forward => S::Forwarded,
        ActionKind::Assign | ActionKind::Reassign => S::Assigned,
        // A township hands a misdirected assignment back; the bureau returns a referral.
        ActionKind::Object if *role == Role::Bureau => S::Returned,
        ActionKind::Object => S::Registered,
        ActionKind::Investigate | ActionKind::Hearing | ActionKind::Mediate => match state.status {
            S::Extended => S::Extended,
            S::UnderReview => S::UnderReview,
            _ => S::InProgress,
        },
        ActionKind::Extend => S::Extended,
        ActionKind::Reply => S::Replied,
        ActionKind::Review => S::UnderReview,
        ActionKind::ReviewOpinion => S::Reviewed,
        ActionKind::RecheckRequest => S::UnderRecheck,
        ActionKind::RecheckOpinion => S::Rechecked,
        ActionKind::Close => S::Closed,
        // Left out of everything from now on, as a voided registration is, until it is gone.
        ActionKind::Void | ActionKind::RemoveDemo => S::Voided,
        ActionKind::Notify
        | ActionKind::Deliver
        | ActionKind::Supervise
        | ActionKind::SuperviseReport
        | ActionKind::ReportUp
        | ActionKind::Chase
        | ActionKind::FollowUp
        | ActionKind::Evaluate
        | ActionKind::IssueDocument
        | ActionKind::ResolveConflict
        | ActionKind::LiftRestriction
        | ActionKind::Unknown(_) => state.status.clone(),
    }
}

/// The case changes hands (交办 from the bureau, 改派, 异议退回): the orders that still wait
/// are withdrawn. The office that now handles it owes no report on another's order; the
/// bureau issues its own.
fn withdraw_supervisions(state: &mut Replay, date: NaiveDate) {
    for s in state.supervisions.iter_mut().filter(|s| s.awaiting_report()) {
        s.withdrawn_on = Some(date);
    }
}

fn apply(state: &mut Replay, event: &Event) {
    let date = event.date;
    match &event.action {
        ActionKind::Accept => {
            state.decided.get_or_insert((ActionKind::Accept, date));
            state.accepted_on.get_or_insert(date);
            if event.track.is_some() {
                state.track = event.track.clone();
            }
        }
        ActionKind::NotAccept | ActionKind::NoFurther | ActionKind::Forward => {
            state.decided.get_or_insert((event.action.clone(), date));
        }
        ActionKind::Assign | ActionKind::Reassign => {
            if state.assigned_to != event.target {
                withdraw_supervisions(state, date);
            }
            state.decided.get_or_insert((ActionKind::Assign, date));
            state.accepted_on.get_or_insert(date);
            if event.track.is_some() {
                state.track = event.track.clone();
            }
            state.assigned_to = event.target.clone();
            state.assigned_due = event.due;
        }
        ActionKind::Object if event.role == Role::Bureau => {
            state.decided.get_or_insert((ActionKind::Object, date));
        }
        ActionKind::Object => {
            withdraw_supervisions(state, date);
            state.assigned_to = None;
            state.assigned_due = None;
        }
        ActionKind::Extend => state.extended_to = event.due,
        ActionKind::Reply => {
            state.replied = Some((date, event.id.clone()));
            state.first_reply_on.get_or_insert(date);
            state.reply_served_on = None;
        }
        ActionKind::Deliver => {
            // The first service on or after the decision the document states.
            let slot = match event.document_kind.as_ref() {
                None | Some(DocumentKind::HandlingOpinion) => {
                    Some((state.replied.as_ref().map(|(on, _)| *on), &mut state.reply_served_on))
                }
                Some(DocumentKind::ReviewOpinion) => Some((
                    state.review_opinion.as_ref().map(|(on, _)| *on),
                    &mut state.review_served_on,
                )),
                Some(DocumentKind::RecheckOpinion) => Some((
                    state.recheck_opinion.as_ref().map(|(on, _)| *on),
                    &mut state.recheck_served_on,
                )),
                _ => None,
            };
            if let Some((decided, served)) = slot
                && decided.is_some_and(|on| date >= on)
                && served.is_none()
            {
                *served = Some(date);
            }
        }
        ActionKind::Review => state.review_requested_on = Some(date),
        ActionKind::ReviewOpinion | ActionKind::RecheckOpinion => {
            let outcome = event.review_outcome.clone().unwrap_or(ReviewOutcome::Upheld);
            if event.action == ActionKind::ReviewOpinion {
                state.review_opinion = Some((date, outcome.clone()));
                state.review_served_on = None;
            } else {
                state.recheck_opinion = Some((date, outcome.clone()));
                state.recheck_served_on = None;
            }
            if outcome == ReviewOutcome::Redo {
                state.redo_on = Some(date);
                state.replied = None;
                state.reply_served_on = None;
                state.extended_to = None;
            }
        }
        ActionKind::RecheckRequest => state.recheck_requested_on = Some(date),
        ActionKind::Evaluate => {
            if let Some(result) = &event.satisfaction {
                state.evaluation = Some((result.clone(), date));
            }
        }
        ActionKind::Close => state.closed = Some((date, event.close_reason.clone())),
        ActionKind::Supervise => state.supervisions.push(Supervision {
            id: event.id.clone(),
            issued_on: date,
            to: event.target.clone().or_else(|| state.assigned_to.clone()),
            demand: event.text.clone(),
            due: event.due,
            report: None,
            withdrawn_on: None,
        }),
        ActionKind::SuperviseReport => {
            if let Some(s) = state
                .supervisions
                .iter_mut()
                .find(|s| Some(s.id.as_str()) == event.refers.as_deref())
            {
                s.report = Some((date, event.text.clone().unwrap_or_default()));
            }
        }
        _ => {}
    }
    state.status = next_status(state, &event.action, &event.role);
    if matches!(event.action, ActionKind::ReviewOpinion | ActionKind::RecheckOpinion)
        && event.review_outcome == Some(ReviewOutcome::Redo)
    {
        state.status = Status::InProgress;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EventHead;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// A log builder: each event gets the next Lamport number, as one office would write it.
    struct Log {
        events: Vec<Event>,
        lamport: u64,
    }

    impl Log {
        fn new() -> Self {
            let mut log = Self { events: Vec::new(), lamport: 0 };
            log.push(Role::Bureau, ActionKind::Register, "2024-03-01");
            log
        }

        fn push(&mut self, role: Role, action: ActionKind, date: &str) -> &mut Event {
            self.lamport += 1;
            let n = self.events.len();
            self.events.push(event(n, self.lamport, role, action, date));
            self.events.last_mut().unwrap()
        }
    }

    fn event(n: usize, lamport: u64, role: Role, action: ActionKind, date: &str) -> Event {
        let date = d(date);
        Event {
            target: Some("黄桥镇".into()),
            ..Event::new(EventHead {
                id: format!("ev-{n:03}"),
                lamport,
                action,
                actor: "a".into(),
                office: if role == Role::Bureau { "county".into() } else { "hq".into() },
                role,
                handler: "王五".into(),
                at: date.and_hms_opt(9, 0, 0).unwrap().and_utc().timestamp_millis(),
                date,
                imported: false,
            })
        }
    }

    #[test]
    fn referral_flow_walks_every_status() {
        let mut log = Log::new();
        assert_eq!(replay(&log.events).status, Status::Registered);
        log.push(Role::Bureau, ActionKind::Accept, "2024-03-02");
        assert_eq!(replay(&log.events).status, Status::Accepted);
        log.push(Role::Bureau, ActionKind::Assign, "2024-03-03").due = Some(d("2024-04-01"));
        let r = replay(&log.events);
        assert_eq!(r.status, Status::Assigned);
        assert_eq!(r.assigned_to.as_deref(), Some("黄桥镇"));
        assert_eq!(r.assigned_due, Some(d("2024-04-01")));
        log.push(Role::Township, ActionKind::Investigate, "2024-03-05");
        assert_eq!(replay(&log.events).status, Status::InProgress);
        log.push(Role::Bureau, ActionKind::Extend, "2024-04-20").due = Some(d("2024-05-20"));
        assert_eq!(replay(&log.events).status, Status::Extended);
        log.push(Role::Township, ActionKind::Investigate, "2024-04-25");
        assert_eq!(replay(&log.events).status, Status::Extended);
        log.push(Role::Township, ActionKind::Reply, "2024-05-10");
        assert_eq!(replay(&log.events).status, Status::Replied);
        log.push(Role::Bureau, ActionKind::Review, "2024-05-20");
        assert_eq!(replay(&log.events).status, Status::UnderReview);
        // The reviewing body answers; the bureau records its opinion.
        let opinion = log.push(Role::Bureau, ActionKind::ReviewOpinion, "2024-06-10");
        opinion.target = Some("洞口县人民政府".into());
        opinion.review_outcome = Some(ReviewOutcome::Upheld);
        assert_eq!(replay(&log.events).status, Status::Reviewed);
        log.push(Role::Township, ActionKind::FollowUp, "2024-06-12");
        log.push(Role::Bureau, ActionKind::Evaluate, "2024-06-12").satisfaction =
            Some(Satisfaction::BasicallySatisfied);
        log.push(Role::Bureau, ActionKind::Close, "2024-07-15").close_reason =
            Some(CloseReason::ReviewServed);
        let r = replay(&log.events);
        assert_eq!(r.status, Status::Closed);
        assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
        assert_eq!(r.decided, Some((ActionKind::Accept, d("2024-03-02"))));
        assert_eq!(r.accepted_on, Some(d("2024-03-02")));
        assert_eq!(r.first_reply_on, Some(d("2024-05-10")));
        assert_eq!(r.replied.as_ref().map(|r| r.0), Some(d("2024-05-10")));
        assert_eq!(r.review_opinion, Some((d("2024-06-10"), ReviewOutcome::Upheld)));
        assert_eq!(r.evaluation, Some((Satisfaction::BasicallySatisfied, d("2024-06-12"))));
        assert_eq!(r.closed, Some((d("2024-07-15"), Some(CloseReason::ReviewServed))));
    }

    #[test]
    fn review_and_recheck_are_the_reviewing_bodies_and_a_set_aside_reopens() {
        let mut log = Log::new();
        log.push(Role::Bureau, ActionKind::Accept, "2024-03-02");
        log.push(Role::Bureau, ActionKind::Assign, "2024-03-03");
        log.push(Role::Township, ActionKind::Reply, "2024-04-10");
        log.push(Role::Bureau, ActionKind::Review, "2024-04-20");
        // A township answering the review itself (as older versions allowed) is flagged.
        let mut flagged = Log { events: log.events.clone(), lamport: log.lamport };
        flagged.push(Role::Township, ActionKind::Reply, "2024-05-01");
        let r = replay(&flagged.events);
        assert_eq!(r.status, Status::UnderReview);
        assert_eq!(r.anomalies.len(), 1, "{:?}", r.anomalies);
        assert!(r.anomalies[0].reason.contains("复查意见"), "{}", r.anomalies[0].reason);
        // An opinion without its body and conclusion is flagged too.
        let mut bare = Log { events: log.events.clone(), lamport: log.lamport };
        bare.push(Role::Bureau, ActionKind::ReviewOpinion, "2024-05-15").target = None;
        assert_eq!(replay(&bare.events).anomalies.len(), 1);
        // 撤销并责令重作: handling starts again, the reply is to be made anew.
        let mut redo = Log { events: log.events.clone(), lamport: log.lamport };
        let o = redo.push(Role::Bureau, ActionKind::ReviewOpinion, "2024-05-15");
        o.target = Some("洞口县人民政府".into());
        o.review_outcome = Some(ReviewOutcome::Redo);
        let r = replay(&redo.events);
        assert_eq!(
            (r.status.clone(), r.redo_on, r.replied.clone()),
            (Status::InProgress, Some(d("2024-05-15")), None)
        );
        assert_eq!(permit(&r, &Role::Township, &ActionKind::Reply), Ok(Status::Replied));
        // 维持, then 复核 and its opinion: final.
        let o = log.push(Role::Bureau, ActionKind::ReviewOpinion, "2024-05-15");
        o.target = Some("洞口县人民政府".into());
        o.review_outcome = Some(ReviewOutcome::Upheld);
        let refused =
            permit(&replay(&log.events), &Role::Township, &ActionKind::RecheckRequest).unwrap_err();
        assert!(refused.message.contains("县局"), "{refused}");
        log.push(Role::Bureau, ActionKind::RecheckRequest, "2024-06-01");
        assert_eq!(replay(&log.events).status, Status::UnderRecheck);
        let o = log.push(Role::Bureau, ActionKind::RecheckOpinion, "2024-06-25");
        o.target = Some("邵阳市自然资源和规划局".into());
        o.review_outcome = Some(ReviewOutcome::Upheld);
        let r = replay(&log.events);
        assert_eq!(r.status, Status::Rechecked);
        assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
        assert_eq!(r.recheck_opinion, Some((d("2024-06-25"), ReviewOutcome::Upheld)));
        assert!(permit(&r, &Role::Bureau, &ActionKind::Close).is_ok());
    }

    #[test]
    fn decisions_other_than_accept() {
        for (action, status) in [
            (ActionKind::NotAccept, Status::NotAccepted),
            (ActionKind::NoFurther, Status::NotAccepted),
            (ActionKind::Forward, Status::Forwarded),
        ] {
            let mut log = Log::new();
            log.push(Role::Bureau, action.clone(), "2024-03-04");
            let r = replay(&log.events);
            assert_eq!(r.status, status);
            assert_eq!(r.decided, Some((action.clone(), d("2024-03-04"))));
            assert_eq!(r.accepted_on, None);
            // A decided case cannot be assigned afterwards, but it can be closed.
            assert!(permit(&r, &Role::Bureau, &ActionKind::Assign).is_err());
            log.push(Role::Bureau, ActionKind::Close, "2024-03-05").close_reason =
                Some(CloseReason::StatutoryProcedure);
            assert_eq!(replay(&log.events).status, Status::Closed);
        }
    }

    #[test]
    fn assign_without_accept_starts_the_handling_clock() {
        let mut log = Log::new();
        log.push(Role::Bureau, ActionKind::Assign, "2024-03-03");
        let r = replay(&log.events);
        assert_eq!(r.decided, Some((ActionKind::Assign, d("2024-03-03"))));
        assert_eq!(r.accepted_on, Some(d("2024-03-03")));
    }

    #[test]
    fn reassign_and_objection() {
        let mut log = Log::new();
        log.push(Role::Bureau, ActionKind::Assign, "2024-03-03");
        assert!(permit(&replay(&log.events), &Role::Bureau, &ActionKind::Assign).is_err());
        log.push(Role::Bureau, ActionKind::Reassign, "2024-03-04").target = Some("石江镇".into());
        let r = replay(&log.events);
        assert_eq!(r.status, Status::Assigned);
        assert_eq!(r.assigned_to.as_deref(), Some("石江镇"));
        log.push(Role::Township, ActionKind::Object, "2024-03-05");
        let r = replay(&log.events);
        assert_eq!(r.status, Status::Registered);
        assert_eq!(r.assigned_to, None);
        // Returned to the bureau, it can be assigned again, and the first decision still stands.
        assert_eq!(permit(&r, &Role::Bureau, &ActionKind::Assign), Ok(Status::Assigned));
        assert_eq!(r.decided, Some((ActionKind::Assign, d("2024-03-03"))));
    }

    #[test]
    fn the_bureau_returns_a_misdirected_referral_and_it_leaves_its_work() {
        let mut log = Log::new();
        let r = replay(&log.events);
        assert_eq!(permit(&r, &Role::Bureau, &ActionKind::Object), Ok(Status::Returned));
        log.push(Role::Bureau, ActionKind::Object, "2024-03-04");
        let r = replay(&log.events);
        assert_eq!(r.status, Status::Returned);
        assert!(!r.status.is_open(), "a returned referral is no longer open work");
        assert_eq!(r.decided, Some((ActionKind::Object, d("2024-03-04"))));
        assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
        assert!(permit(&r, &Role::Bureau, &ActionKind::Accept).is_err());
        // Once decided, the bureau cannot object any more; a township only to an assignment.
        let mut accepted = Log::new();
        accepted.push(Role::Bureau, ActionKind::Accept, "2024-03-02");
        let r = replay(&accepted.events);
        assert!(permit(&r, &Role::Bureau, &ActionKind::Object).is_err());
        assert!(permit(&r, &Role::Township, &ActionKind::Object).is_err());
    }

    #[test]
    fn role_table_refuses_in_chinese() {
        let mut log = Log::new();
        let r = replay(&log.events);
        let refused = permit(&r, &Role::Township, &ActionKind::Accept).unwrap_err();
        assert!(refused.message.contains("只能由县局办理"), "{refused}");
        log.push(Role::Bureau, ActionKind::Assign, "2024-03-03");
        let r = replay(&log.events);
        for action in
            [ActionKind::Close, ActionKind::Void, ActionKind::Extend, ActionKind::Reassign]
        {
            assert!(permit(&r, &Role::Township, &action).is_err(), "{action:?}");
        }
        assert!(permit(&r, &Role::Township, &ActionKind::Investigate).is_ok());
        // The bureau does not investigate a case it assigned down.
        let refused = permit(&r, &Role::Bureau, &ActionKind::Investigate).unwrap_err();
        assert!(refused.message.contains("乡镇国土所"), "{refused}");
        assert!(permit(&r, &Role::Bureau, &ActionKind::Void).is_ok());
    }

    #[test]
    fn bureau_handles_its_own_cases() {
        let mut log = Log::new();
        log.push(Role::Bureau, ActionKind::Accept, "2024-03-02");
        let r = replay(&log.events);
        assert_eq!(permit(&r, &Role::Bureau, &ActionKind::Investigate), Ok(Status::InProgress));
        assert_eq!(permit(&r, &Role::Bureau, &ActionKind::Reply), Ok(Status::Replied));
    }

    #[test]
    fn a_supervision_order_waits_for_its_report_and_one_report_answers_one_order() {
        let mut log = Log::new();
        log.push(Role::Bureau, ActionKind::Assign, "2024-03-02");
        let r = replay(&log.events);
        assert!(!allowed_actions(&r, &Role::Township).contains(&ActionKind::SuperviseReport));
        let order = log.push(Role::Bureau, ActionKind::Supervise, "2024-03-20");
        order.target = None;
        order.text = Some("请于月底前查清并报告".into());
        order.due = Some(d("2024-03-31"));
        let order_id = order.id.clone();
        let r = replay(&log.events);
        assert_eq!(r.supervisions.len(), 1);
        assert_eq!(r.supervisions[0].to.as_deref(), Some("黄桥镇"), "the township assigned");
        assert_eq!(r.supervisions[0].due, Some(d("2024-03-31")));
        assert_eq!(r.open_supervisions().count(), 1);
        assert!(allowed_actions(&r, &Role::Township).contains(&ActionKind::SuperviseReport));
        assert!(
            !allowed_actions(&r, &Role::Bureau).contains(&ActionKind::SuperviseReport),
            "the township assigned reports, not the bureau"
        );

        log.push(Role::Township, ActionKind::SuperviseReport, "2024-03-25").refers =
            Some("ev-999".into());
        let report = log.push(Role::Township, ActionKind::SuperviseReport, "2024-03-28");
        report.refers = Some(order_id.clone());
        report.text = Some("已查清，拟于4月5日前答复".into());
        log.push(Role::Township, ActionKind::SuperviseReport, "2024-03-29").refers = Some(order_id);
        let r = replay(&log.events);
        assert_eq!(
            r.supervisions[0].report,
            Some((d("2024-03-28"), "已查清，拟于4月5日前答复".to_owned()))
        );
        let reasons: Vec<&str> = r.anomalies.iter().map(|a| a.reason.as_str()).collect();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(reasons[0].contains("没有对应的督办单"), "{reasons:?}");
        assert!(reasons[1].contains("已经反馈过"), "{reasons:?}");
        assert_eq!(r.status, Status::Assigned, "a supervision moves no status");
        assert!(!allowed_actions(&r, &Role::Township).contains(&ActionKind::SuperviseReport));

        // A case that changes hands takes no waiting order with it; a closed case owes none.
        let mut moved = Log::new();
        moved.push(Role::Bureau, ActionKind::Assign, "2024-03-02");
        moved.push(Role::Bureau, ActionKind::Supervise, "2024-03-05").due = Some(d("2024-03-15"));
        let old = moved.push(Role::Bureau, ActionKind::Supervise, "2024-03-06");
        old.due = None; // an older 督办 record: no report day, no report owed
        let r = replay(&moved.events);
        assert_eq!(r.open_supervisions().count(), 1);
        moved.push(Role::Bureau, ActionKind::Reassign, "2024-03-08").target = Some("石江镇".into());
        let r = replay(&moved.events);
        assert_eq!(r.supervisions[0].withdrawn_on, Some(d("2024-03-08")));
        assert_eq!(r.open_supervisions().count(), 0);
        assert!(!allowed_actions(&r, &Role::Township).contains(&ActionKind::SuperviseReport));
        let late = moved.push(Role::Township, ActionKind::SuperviseReport, "2024-03-09");
        late.refers = Some(r.supervisions[0].id.clone());
        late.text = Some("已查清".into());
        let r = replay(&moved.events);
        assert!(r.anomalies[0].reason.contains("不需要反馈"), "{:?}", r.anomalies);

        // A report dated before its order, or saying nothing, is out of order.
        let mut early = Log::new();
        early.push(Role::Bureau, ActionKind::Assign, "2024-03-02");
        early.push(Role::Bureau, ActionKind::Supervise, "2024-03-10").due = Some(d("2024-03-20"));
        let order = early.events.last().unwrap().id.clone();
        let backdated = early.push(Role::Township, ActionKind::SuperviseReport, "2024-03-01");
        backdated.refers = Some(order.clone());
        backdated.text = Some("已查清".into());
        early.push(Role::Township, ActionKind::SuperviseReport, "2024-03-12").refers = Some(order);
        let r = replay(&early.events);
        let reasons: Vec<&str> = r.anomalies.iter().map(|a| a.reason.as_str()).collect();
        assert!(reasons.len() == 2 && reasons[0].contains("早于督办单"), "{reasons:?}");
        assert!(reasons[1].contains("须写明办理情况"), "{reasons:?}");
        assert!(r.supervisions[0].awaiting_report());
        early.push(Role::Bureau, ActionKind::Close, "2024-03-13").close_reason =
            Some(CloseReason::Withdrawn);
        let r = replay(&early.events);
        assert!(!allowed_actions(&r, &Role::Township).contains(&ActionKind::SuperviseReport));

        // A case the bureau handles itself: its own report answers.
        let mut own = Log::new();
        own.push(Role::Bureau, ActionKind::Accept, "2024-03-02");
        own.push(Role::Bureau, ActionKind::Supervise, "2024-03-05").due = Some(d("2024-03-15"));
        let r = replay(&own.events);
        assert!(allowed_actions(&r, &Role::Bureau).contains(&ActionKind::SuperviseReport));
    }

    #[test]
    fn transitions_refused_with_the_status_named() {
        let mut log = Log::new();
        let r = replay(&log.events);
        let refused = permit(&r, &Role::Township, &ActionKind::Reply).unwrap_err();
        assert!(refused.message.contains("「登记」"), "{refused}");
        let refused = permit(&r, &Role::Bureau, &ActionKind::Close).unwrap_err();
        assert!(refused.message.contains("不能「办结」"), "{refused}");
        log.push(Role::Bureau, ActionKind::Assign, "2024-03-03");
        log.push(Role::Bureau, ActionKind::Extend, "2024-04-01");
        let r = replay(&log.events);
        let refused = permit(&r, &Role::Bureau, &ActionKind::Extend).unwrap_err();
        assert!(refused.message.contains("不能再次延期"), "{refused}");
    }

    #[test]
    fn close_without_reply_needs_a_reason() {
        let mut log = Log::new();
        log.push(Role::Bureau, ActionKind::Accept, "2024-03-02");
        let r = replay(&log.events);
        assert!(close_check(&r, &CloseReason::Replied).is_err());
        assert!(close_check(&r, &CloseReason::Withdrawn).is_ok());
        log.push(Role::Bureau, ActionKind::Close, "2024-03-09");
        let r = replay(&log.events);
        assert_eq!(r.status, Status::Accepted);
        assert_eq!(r.anomalies.len(), 1);
        assert!(r.anomalies[0].reason.contains("尚未答复"));
    }

    #[test]
    fn void_excludes_and_freezes() {
        let mut log = Log::new();
        log.push(Role::Bureau, ActionKind::Void, "2024-03-02");
        log.push(Role::Bureau, ActionKind::Accept, "2024-03-03");
        let r = replay(&log.events);
        assert!(r.voided());
        assert_eq!(r.anomalies.len(), 1);
        assert_eq!(r.anomalies[0].event_id, "ev-002");
        assert!(allowed_actions(&r, &Role::Bureau).is_empty());
    }

    #[test]
    fn imported_history_is_exempt_from_roles_but_not_from_order() {
        let mut log = Log::new();
        log.push(Role::Township, ActionKind::Assign, "2017-03-03").imported = true;
        log.push(Role::Township, ActionKind::Close, "2017-03-09").imported = true;
        let r = replay(&log.events);
        assert_eq!(r.status, Status::Assigned);
        assert_eq!(r.anomalies.len(), 1, "closing unanswered is still out of order");
    }

    #[test]
    fn role_violation_in_a_synced_log_is_an_anomaly() {
        let mut log = Log::new();
        log.push(Role::Township, ActionKind::Void, "2024-03-03");
        let r = replay(&log.events);
        assert_eq!(r.status, Status::Registered);
        assert_eq!(r.anomalies.len(), 1);
    }

    #[test]
    fn missing_or_duplicate_registration_is_flagged() {
        let mut log = Log::new();
        log.push(Role::Bureau, ActionKind::Register, "2024-03-02");
        let r = replay(&log.events);
        assert_eq!(r.anomalies.len(), 1);
        let lone = vec![event(9, 5, Role::Bureau, ActionKind::Accept, "2024-03-02")];
        assert_eq!(replay(&lone).anomalies.len(), 1);
    }

    /// The bureau assigns on its (correct) clock; the township, whose clock is two days slow,
    /// answers after syncing the assignment. Its device time says it replied "before" the
    /// assignment, but its Lamport number puts the reply after the event it answered.
    #[test]
    fn slow_clock_reply_still_follows_the_assignment() {
        let register = event(0, 1, Role::Bureau, ActionKind::Register, "2024-03-01");
        let mut assign = event(1, 2, Role::Bureau, ActionKind::Assign, "2024-03-10");
        assign.at = d("2024-03-10").and_hms_opt(10, 0, 0).unwrap().and_utc().timestamp_millis();
        let slow = 2 * 86_400_000;
        let mut investigate = event(2, 3, Role::Township, ActionKind::Investigate, "2024-03-08");
        investigate.at = assign.at + 3_600_000 - slow;
        let mut reply = event(3, 4, Role::Township, ActionKind::Reply, "2024-03-08");
        reply.at = assign.at + 7_200_000 - slow;
        // Concurrently, the bureau supervised the case without having seen the township's work.
        let mut supervise = event(4, 3, Role::Bureau, ActionKind::Supervise, "2024-03-11");
        supervise.at = assign.at + 86_400_000;
        // Merge order of arrival must not matter.
        let merged = vec![reply, supervise, investigate, assign, register];
        let r = replay(&merged);
        assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
        assert_eq!(r.status, Status::Replied);
        let mut sorted = merged;
        sorted.sort_by(|a, b| a.order().cmp(&b.order()));
        let ids: Vec<_> = sorted.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["ev-000", "ev-001", "ev-002", "ev-004", "ev-003"]);
    }

    #[test]
    fn concurrent_reply_and_void_keep_both_events() {
        let register = event(0, 1, Role::Bureau, ActionKind::Register, "2024-03-01");
        let assign = event(1, 2, Role::Bureau, ActionKind::Assign, "2024-03-02");
        let void = event(2, 3, Role::Bureau, ActionKind::Void, "2024-03-03");
        let reply = event(3, 3, Role::Township, ActionKind::Reply, "2024-03-04");
        let r = replay(&[register, assign, void, reply]);
        assert_eq!(r.status, Status::Voided);
        assert_eq!(r.anomalies.len(), 1);
        assert_eq!(r.anomalies[0].action, ActionKind::Reply);
    }

    #[test]
    fn unknown_actions_from_a_newer_version_are_flagged_not_fatal() {
        let mut log = Log::new();
        log.push(Role::Bureau, ActionKind::Unknown("escalate".into()), "2024-03-02");
        log.push(Role::Bureau, ActionKind::Accept, "2024-03-03");
        let r = replay(&log.events);
        assert_eq!(r.status, Status::Accepted);
        assert_eq!(r.anomalies.len(), 1);
        assert!(r.anomalies[0].reason.contains("escalate"));
    }

    #[test]
    fn only_a_matter_of_the_land_system_is_forwarded() {
        assert!(forward_check(&Sector::Land).is_ok());
        assert!(forward_check(&Sector::Mineral).is_ok());
        let refused = forward_check(&Sector::Other).unwrap_err();
        assert!(refused.message.contains("不予受理"), "{}", refused.message);
        assert!(forward_check(&Sector::Unknown("forestry".into())).is_err(), "fail closed");
    }

    #[test]
    fn allowed_actions_follow_status_and_role() {
        let mut log = Log::new();
        log.push(Role::Bureau, ActionKind::Assign, "2024-03-03");
        let r = replay(&log.events);
        let township = allowed_actions(&r, &Role::Township);
        assert!(township.contains(&ActionKind::Investigate));
        assert!(township.contains(&ActionKind::Reply));
        assert!(township.contains(&ActionKind::Object));
        assert!(!township.contains(&ActionKind::Close));
        let bureau = allowed_actions(&r, &Role::Bureau);
        assert!(bureau.contains(&ActionKind::Reassign));
        assert!(bureau.contains(&ActionKind::Extend));
        assert!(!bureau.contains(&ActionKind::Reply));
    }
}
