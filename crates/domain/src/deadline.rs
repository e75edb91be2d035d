//! Legal deadlines (`reference/domain.md` §3): a versioned policy table and, per case, each
//! deadline with its days left as of a given date.
//!
//! Periods count per 民法典 §201/§203 on the [`WorkCalendar`]: the start day is not counted, and
//! a last day that is not a working day moves to the next working day. A deadline whose last day
//! falls outside the calendar's coverage is reported as a problem, never guessed.

use std::borrow::Cow;

use chrono::NaiveDate;
use serde::Serialize;

use crate::calendar::{Reckoned, WorkCalendar};
use crate::coded_enum;
use crate::facts::Notice;
use crate::model::Case;
use crate::terms::{CloseReason, ReviewOutcome, Source};
use crate::workflow::{ActionKind, Replay, Status};

/// One version of the deadline rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Policy {
    /// A stable id (`xfgztl-2022`; a county's version adds its first day: `xfgztl-2022+2027-01-01`).
    pub id: Cow<'static, str>,
    /// The instrument, in Chinese.
    pub name: Cow<'static, str>,
    /// The first day (by receipt) the version applies to.
    pub effective_from: NaiveDate,
    /// 受理告知期限: days from receipt to decide and notify (§23).
    pub decide_days: u32,
    /// Whether `decide_days` counts working days (浙江省信访条例 §20: 5 working days).
    pub decide_working: bool,
    /// 异议期限: working days to object to a misdirected referral (§23 ¶3).
    pub objection_working_days: u32,
    /// 办理期限: days from acceptance to handle (§34).
    pub handle_days: u32,
    /// 延期上限: the most an extension may add (§34).
    pub extension_max_days: u32,
    /// 复查申请期限: days from the reply for the petitioner to ask for a review (§35).
    pub review_request_days: u32,
    /// 复查期限: days from the request to issue the review opinion (§35).
    pub review_days: u32,
    /// 评价期限: days after the reply for the rating before it counts as 超期未评价.
    pub rating_days: u32,
    /// Persons from whom a visit counts as 集体访 (no national number; 5 is common practice).
    pub collective_threshold: u32,
    /// 停访息诉观察期: days after closing without a new submission.
    pub settled_window_days: u32,
    /// 代表人数上限: the most representatives a visit of several people may choose
    /// (信访工作条例 §20: 5); a larger visit must name them. One number: a province with tiers
    /// (浙江省信访条例 §15: 3 for ten people or fewer, 5 above) keeps the national 5.
    pub representatives_max: u32,
    /// 12336判定期限: working days from receipt for the county to decide whether a 12336
    /// report is in its remit (no national limit; local practice registers within 1 working
    /// day and assigns the check within 2).
    pub assess_12336_working_days: u32,
    /// 12336反馈期限: days from receipt to feed the result back to the platform (no national
    /// limit; the §34 handling period by default, a province sets its own).
    pub feedback_12336_days: u32,
    /// Warn this many days before a deadline (10 and 3 days).
    pub alert_days: [u32; 2],
}

/// The versioned policy table.
#[derive(Debug, Clone)]
pub struct PolicyTable {
    versions: Vec<Policy>,
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

impl Default for PolicyTable {
    /// 信访条例 (2005) until 2022-04-30, then 信访工作条例 (2022); the deadlines are the same.
    fn default() -> Self {
        let r22 = Policy {
            id: Cow::Borrowed("xfgztl-2022"),
            name: Cow::Borrowed("信访工作条例（2022）"),
            effective_from: date(2022, 5, 1),
            decide_days: 15,
            decide_working: false,
            objection_working_days: 5,
            handle_days: 60,
            extension_max_days: 30,
            review_request_days: 30,
            review_days: 30,
            rating_days: 30,
            collective_threshold: 5,
            settled_window_days: 90,
            representatives_max: 5,
            assess_12336_working_days: 2,
            feedback_12336_days: 60,
            alert_days: [10, 3],
        };
        let r05 = Policy {
            id: Cow::Borrowed("xftl-2005"),
            name: Cow::Borrowed("信访条例（2005，国务院令第431号）"),
            effective_from: date(2005, 5, 1),
            ..r22
        };
        Self { versions: vec![r05, r22] }
    }
}

impl PolicyTable {
    /// The version in force for a matter received on `received`.
    pub fn for_date(&self, received: NaiveDate) -> &Policy {
        self.versions
            .iter()
            .rev()
            .find(|p| p.effective_from <= received)
            .or_else(|| self.versions.first())
            .unwrap_or(&DEFAULT_FALLBACK)
    }

    /// The latest version, including one a county set to take effect later; for what applies
    /// on a day use [`PolicyTable::for_date`].
    pub fn current(&self) -> &Policy {
        self.versions.last().unwrap_or(&DEFAULT_FALLBACK)
    }

    /// Every version, oldest first.
    pub fn versions(&self) -> &[Policy] {
        &self.versions
    }

    /// Adds a version, replacing one that takes effect the same day.
    pub fn insert(&mut self, policy: Policy) {
        self.versions.retain(|p| p.effective_from != policy.effective_from);
        let at = self.versions.partition_point(|p| p.effective_from < policy.effective_from);
        self.versions.insert(at, policy);
    }
}

static DEFAULT_FALLBACK: Policy = Policy {
    id: Cow::Borrowed("xfgztl-2022"),
    name: Cow::Borrowed("信访工作条例（2022）"),
    effective_from: NaiveDate::MIN,
    decide_days: 15,
    decide_working: false,
    objection_working_days: 5,
    handle_days: 60,
    extension_max_days: 30,
    review_request_days: 30,
    review_days: 30,
    rating_days: 30,
    collective_threshold: 5,
    settled_window_days: 90,
    representatives_max: 5,
    assess_12336_working_days: 2,
    feedback_12336_days: 60,
    alert_days: [10, 3],
};

coded_enum! {
    /// 期限类别: which legal clock a deadline is.
    pub enum DeadlineKind {
        /// 受理告知期限: decide on acceptance and notify, 15 days from receipt.
        Decide = ("decide", "受理告知期限"),
        /// 异议期限: a referral that is not this office's business may be returned with reasons
        /// within 5 working days of receipt (信访工作条例 §23 ¶3). A right of the receiving office,
        /// not a duty: never overdue work, and shown only to that office.
        Objection = ("objection", "异议期限"),
        /// 办理期限: reply within 60 days of acceptance (or as extended).
        Handle = ("handle", "办理期限"),
        /// 交办期限: the deadline the bureau set when it assigned the case down.
        Assigned = ("assigned", "交办期限"),
        /// 复查申请期限: the petitioner may ask for a review within 30 days of the reply.
        ReviewRequest = ("review_request", "复查申请期限"),
        /// 复查期限: the reviewing body's opinion is due within 30 days of the request (its
        /// duty, not the handling office's: never this office's overdue work).
        Review = ("review", "复查期限"),
        /// 复核申请期限: the petitioner may ask for a re-review within 30 days of receiving the
        /// review opinion (§36).
        RecheckRequest = ("recheck_request", "复核申请期限"),
        /// 复核期限: the re-review opinion is due within 30 days of the request.
        Recheck = ("recheck", "复核期限"),
        /// 督办反馈期限: the day a 督办单 asked the supervised office to report by.
        Supervised = ("supervised", "督办反馈期限"),
        /// 紧急上报期限: a 重大紧急 or 扬言 matter is reported upward at once (信访工作条例 §25):
        /// the day it was received; met by 紧急上报.
        UrgentReport = ("urgent_report", "紧急上报期限"),
        /// 12336判定期限: decide whether a 12336 report is in the county's remit (the rules'
        /// working days from receipt); met by the decision on acceptance.
        Assess12336 = ("assess_12336", "12336判定期限"),
        /// 12336反馈期限: feed the result back to the platform (the rules' days from receipt);
        /// met by the §30 feedback (the reply on the report track), or by a decision that ends
        /// the matter (不予受理, 转送).
        Feedback12336 = ("feedback_12336", "12336反馈期限"),
    }
}

/// One deadline of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Deadline {
    /// Which clock.
    pub kind: DeadlineKind,
    /// The day the clock started (not counted).
    pub start: NaiveDate,
    /// The last day.
    pub due: NaiveDate,
    /// The day the duty was met, if it was.
    pub met_on: Option<NaiveDate>,
    /// Calendar days from `as_of` to `due` (negative when past).
    pub days_left: i64,
    /// Not met and past due as of the date asked.
    pub overdue: bool,
    /// Met, but after the due date.
    pub late: bool,
    /// A petitioner's window rather than a duty of the office: never overdue work.
    pub informational: bool,
    /// 预计: the due date runs past the holiday table and was reckoned without next year's
    /// holiday schedule; it may move once the table is updated.
    pub estimated: bool,
}

/// A deadline that could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeadlineProblem {
    /// Which clock.
    pub kind: DeadlineKind,
    /// Why, in Chinese.
    pub message: String,
}

/// Every deadline of a case as of a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CaseDeadlines {
    /// The deadlines that apply now or applied.
    pub items: Vec<Deadline>,
    /// Deadlines that could not be computed (a date beyond the holiday table).
    pub problems: Vec<DeadlineProblem>,
}

impl CaseDeadlines {
    /// The nearest open duty, for lists: the earliest due date not yet met.
    pub fn next_due(&self) -> Option<&Deadline> {
        self.items.iter().filter(|d| d.met_on.is_none() && !d.informational).min_by_key(|d| d.due)
    }

    /// Whether any open duty is past due.
    pub fn overdue(&self) -> bool {
        self.items.iter().any(|d| d.overdue)
    }

    /// The deadline of a kind, if it applies.
    pub fn get(&self, kind: &DeadlineKind) -> Option<&Deadline> {
        self.items.iter().find(|d| &d.kind == kind)
    }

    /// What office `office` is shown: the 异议期限 is the receiving office's alone (the office
    /// that registered the referral); to every other office it is noise about someone else's
    /// right.
    pub fn seen_by(mut self, case: &Case, office: &str) -> Self {
        if case.registered_by != office {
            self.items.retain(|d| d.kind != DeadlineKind::Objection);
            self.problems.retain(|p| p.kind != DeadlineKind::Objection);
        }
        self
    }
}

/// The legal clocks of a case derived from its replayed events: start, due, met.
/// Shared by [`deadlines`] and the statistics projection so both judge the same dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Clock {
    pub(crate) kind: DeadlineKind,
    pub(crate) start: NaiveDate,
    /// The last day, or why it cannot be known (a date past the holiday table, a reply whose
    /// service is not recorded).
    pub(crate) due: Result<Reckoned, String>,
    pub(crate) met_on: Option<NaiveDate>,
    pub(crate) informational: bool,
    /// Why a recorded extension was not applied (decided after expiry, or too long): the clock
    /// keeps its original last day, so an overdue case cannot be made current again.
    pub(crate) refused_extension: Option<String>,
}

pub(crate) fn clocks(
    case: &Case,
    replay: &Replay,
    policies: &PolicyTable,
    calendar: &WorkCalendar,
) -> Vec<Clock> {
    let mut out = Vec::new();
    let Some(received) = case.received() else { return out };
    let policy = policies.for_date(received);
    let decided_on = replay.decided.as_ref().map(|(_, d)| *d);
    // §23: decide *and notify in writing* within 15 days; the decision alone does not meet it.
    // Where no notice is possible (anonymous), or the decision is imported history without
    // one, the decision's day stands in; a referral returned with an objection owes the
    // petitioner no notice.
    let notified = match crate::facts::notice(case, replay) {
        Notice::Issued(day) => Some(day),
        Notice::Missing if replay.status != Status::Returned => None,
        _ => decided_on,
    };
    out.push(Clock {
        kind: DeadlineKind::Decide,
        start: received,
        due: if policy.decide_working {
            calendar.add_working_days(received, policy.decide_days)
        } else {
            calendar.add_days(received, policy.decide_days)
        }
        .map_err(|e| e.to_string()),
        met_on: notified,
        informational: false,
        refused_extension: None,
    });
    if case.first_source().is_some_and(|s| s.is_referral()) {
        let objected = case
            .events
            .iter()
            .filter(|e| matches!(e.action, ActionKind::Object | ActionKind::Forward))
            .map(|e| e.date)
            .min();
        // Only open while the referral is still undecided, or was objected to.
        if decided_on.is_none() || objected.is_some() {
            out.push(Clock {
                kind: DeadlineKind::Objection,
                start: received,
                due: calendar
                    .add_working_days(received, policy.objection_working_days)
                    .map_err(|e| e.to_string()),
                met_on: objected.or(decided_on),
                informational: true,
                refused_extension: None,
            });
        }
    }
    for (flagged, reported) in case.urgent_reports() {
        out.push(Clock {
            kind: DeadlineKind::UrgentReport,
            start: flagged,
            due: Ok(Reckoned { date: flagged, estimated: false }),
            met_on: reported,
            informational: false,
            refused_extension: None,
        });
    }
    let twelve = case.first_source() == Some(&Source::Report12336);
    if twelve && policy.assess_12336_working_days > 0 {
        out.push(Clock {
            kind: DeadlineKind::Assess12336,
            start: received,
            due: calendar
                .add_working_days(received, policy.assess_12336_working_days)
                .map_err(|e| e.to_string()),
            met_on: decided_on,
            informational: false,
            refused_extension: None,
        });
    }
    if twelve && policy.feedback_12336_days > 0 {
        // What goes back to the platform: the §30 reply; a decision that ends the matter
        // (不予受理, 不再受理, 转送); or, on a track with no reply (执法查处 and the other
        // statutory routes), the closing.
        let ending = replay.decided.as_ref().and_then(|(action, on)| {
            matches!(action, ActionKind::NotAccept | ActionKind::NoFurther | ActionKind::Forward)
                .then_some(*on)
        });
        let closed = replay.closed.as_ref().map(|(on, _)| *on);
        out.push(Clock {
            kind: DeadlineKind::Feedback12336,
            start: received,
            due: calendar.add_days(received, policy.feedback_12336_days).map_err(|e| e.to_string()),
            met_on: replay.first_reply_on.or(ending).or(closed),
            informational: false,
            refused_extension: None,
        });
    }
    let track = replay.track();
    // A matter routed into a statutory procedure runs on that procedure's time, not the
    // petition procedure's 60 days.
    if let Some(accepted) = replay.accepted_on.filter(|_| !track.is_statutory()) {
        // 撤销并责令重作: the handling body decides again within a new handling period.
        let start = replay.redo_on.unwrap_or(accepted);
        let original = calendar.add_days(start, policy.handle_days).map_err(|e| e.to_string());
        let extension = replay.extended_to.and_then(|to| {
            let on = case
                .events
                .iter()
                .filter(|e| e.action == ActionKind::Extend && e.due == Some(to))
                .map(|e| e.date)
                .min()?;
            Some((on, to))
        });
        let (due, refused_extension) = match (&original, extension) {
            (Ok(original), Some((on, to))) => {
                match extension_verdict(original.date, on, to, policy, calendar) {
                    Ok(extended) => (Ok(extended), None),
                    Err(why) => (Ok(*original), Some(why)),
                }
            }
            _ => (original.clone(), None),
        };
        let met_on = match replay.redo_on {
            Some(redo) => replay.replied.as_ref().map(|(d, _)| *d).filter(|d| *d >= redo),
            None => replay.first_reply_on,
        };
        out.push(Clock {
            kind: DeadlineKind::Handle,
            start,
            due,
            met_on,
            informational: false,
            refused_extension,
        });
    }
    if let (Some(due), Some(assigned_on)) = (replay.assigned_due, assign_date(case)) {
        out.push(Clock {
            kind: DeadlineKind::Assigned,
            start: assigned_on,
            due: Ok(Reckoned { date: due, estimated: false }),
            met_on: replay.replied.as_ref().map(|(d, _)| *d),
            informational: false,
            refused_extension: None,
        });
    }
    for s in replay.supervisions.iter().filter(|s| s.withdrawn_on.is_none()) {
        let Some(due) = s.due else { continue };
        out.push(Clock {
            kind: DeadlineKind::Supervised,
            start: s.issued_on,
            due: Ok(Reckoned { date: due, estimated: false }),
            met_on: s.report.as_ref().map(|(on, _)| *on),
            informational: false,
            refused_extension: None,
        });
    }
    if let Some((replied_on, _)) = replay.replied.as_ref().filter(|_| track.reviewable()) {
        // §35: 30 days from the day the petitioner received the written reply, not from the
        // day it was written; until its service is recorded the window cannot be known.
        out.push(petitioner_window(
            DeadlineKind::ReviewRequest,
            *replied_on,
            replay.reply_served_on,
            replay.review_requested_on,
            policy.review_request_days,
            calendar,
            "答复尚未登记送达：复查申请期限自信访人收到答复之日起计算，请登记「送达」",
        ));
    }
    if let Some(requested) = replay.review_requested_on {
        out.push(Clock {
            kind: DeadlineKind::Review,
            start: requested,
            due: calendar.add_days(requested, policy.review_days).map_err(|e| e.to_string()),
            met_on: replay.review_opinion.as_ref().map(|(d, _)| *d).filter(|d| *d >= requested),
            informational: true,
            refused_extension: None,
        });
    }
    if let Some((opinion_on, outcome)) = &replay.review_opinion
        && *outcome != ReviewOutcome::Redo
    {
        // §36: from the day the petitioner received the review opinion.
        out.push(petitioner_window(
            DeadlineKind::RecheckRequest,
            *opinion_on,
            replay.review_served_on,
            replay.recheck_requested_on,
            policy.review_request_days,
            calendar,
            "复查意见尚未登记送达：复核申请期限自信访人收到复查意见之日起计算，请登记「送达」",
        ));
    }
    if let Some(requested) = replay.recheck_requested_on {
        out.push(Clock {
            kind: DeadlineKind::Recheck,
            start: requested,
            due: calendar.add_days(requested, policy.review_days).map_err(|e| e.to_string()),
            met_on: replay.recheck_opinion.as_ref().map(|(d, _)| *d).filter(|d| *d >= requested),
            informational: true,
            refused_extension: None,
        });
    }
    out
}

/// A petitioner's 30-day window to ask for the next review (§35-36): it runs from the day the
/// petitioner received the decision (`served`), unknown until that is recorded; a request made
/// on or after the decision (`decided`) meets it.
fn petitioner_window(
    kind: DeadlineKind,
    decided: NaiveDate,
    served: Option<NaiveDate>,
    requested: Option<NaiveDate>,
    days: u32,
    calendar: &WorkCalendar,
    unserved: &str,
) -> Clock {
    Clock {
        kind,
        start: served.unwrap_or(decided),
        due: match served {
            Some(served) => calendar.add_days(served, days).map_err(|e| e.to_string()),
            None => Err(unserved.to_owned()),
        },
        met_on: requested.filter(|r| *r >= decided),
        informational: true,
        refused_extension: None,
    }
}

fn assign_date(case: &Case) -> Option<NaiveDate> {
    case.events
        .iter()
        .rev()
        .find(|e| matches!(e.action, ActionKind::Assign | ActionKind::Reassign))
        .map(|e| e.date)
}

/// Every deadline of `case` as of `as_of`. A voided or concluded case has no open duty: its
/// deadlines are shown as met or not, never overdue.
pub fn deadlines(
    case: &Case,
    replay: &Replay,
    policies: &PolicyTable,
    calendar: &WorkCalendar,
    as_of: NaiveDate,
) -> CaseDeadlines {
    let mut result = CaseDeadlines::default();
    let concluded = !replay.status.is_open();
    let clocks = clocks(case, replay, policies, calendar);
    if let Some(early) = early_close(case, replay, &clocks) {
        result.problems.push(early);
    }
    for clock in clocks {
        // A concluded case has no window left open: a 复查申请期限 on a closed case is history.
        if concluded && clock.informational && clock.met_on.is_none() {
            continue;
        }
        match clock.due {
            Ok(Reckoned { date: due, estimated }) => {
                if let Some(why) = &clock.refused_extension {
                    result.problems.push(DeadlineProblem {
                        kind: clock.kind.clone(),
                        message: format!("延期未予计算：{why}；仍按原办理期限 {due} 计算"),
                    });
                }
                let days_left = (due - as_of).num_days();
                let open = clock.met_on.is_none() && !concluded && !clock.informational;
                result.items.push(Deadline {
                    kind: clock.kind,
                    start: clock.start,
                    due,
                    met_on: clock.met_on,
                    days_left,
                    overdue: open && as_of > due,
                    late: clock.met_on.is_some_and(|m| m > due),
                    informational: clock.informational,
                    estimated,
                });
            }
            Err(err) => result.problems.push(DeadlineProblem {
                kind: clock.kind.clone(),
                message: format!("{}无法计算：{err}", clock.kind.label()),
            }),
        }
    }
    result
}

/// A 办结 for 答复后未申请复查 (or 复查意见送达) recorded, by another device or before this rule,
/// while the petitioner's window was still open: kept, and said.
fn early_close(case: &Case, replay: &Replay, clocks: &[Clock]) -> Option<DeadlineProblem> {
    let (closed_on, Some(reason)) = replay.closed.as_ref()? else { return None };
    let kind = match reason {
        CloseReason::Replied => DeadlineKind::ReviewRequest,
        CloseReason::ReviewServed => DeadlineKind::RecheckRequest,
        _ => return None,
    };
    let imported = case
        .events
        .iter()
        .any(|e| e.action == ActionKind::Close && e.date == *closed_on && e.imported);
    let due = clocks.iter().find(|c| c.kind == kind)?.due.as_ref().ok()?.date;
    (!imported && *closed_on <= due).then(|| DeadlineProblem {
        kind: kind.clone(),
        message: format!(
            "以「{}」办结于 {closed_on}，但{}至 {due} 才届满，请县局核实办结原因",
            reason.label(),
            kind.label()
        ),
    })
}

/// Judges an extension (延期, 信访工作条例 §34) decided on `on` to `to`, of a handling period
/// whose last day is `original`: it must be decided before that period expires, end after it and
/// add at most the policy's maximum (30 days); a last day that falls on a rest day moves to the
/// next working day (民法典 §203). Returns the extended last day.
pub fn extension_verdict(
    original: NaiveDate,
    on: NaiveDate,
    to: NaiveDate,
    policy: &Policy,
    calendar: &WorkCalendar,
) -> Result<Reckoned, String> {
    if on > original {
        return Err(format!(
            "延期须在办理期限届满前决定：办理期限 {original} 已过，延期记录于 {on}"
        ));
    }
    if to <= original {
        return Err(format!("延期后的期限 {to} 须晚于现办理期限 {original}"));
    }
    // The 30th day itself moves off a rest day, so the latest last day is that working day.
    let limit = calendar
        .next_working_day_from(original + chrono::Days::new(u64::from(policy.extension_max_days)))
        .map_err(|e| e.to_string())?
        .date;
    if to > limit {
        return Err(format!(
            "延期不得超过{}日：现办理期限 {original}，最迟可延至 {limit}",
            policy.extension_max_days
        ));
    }
    calendar.next_working_day_from(to).map_err(|e| e.to_string())
}

/// Checks an extension recorded on `on`: see [`extension_verdict`]. Returns the last day to
/// record (moved off a rest day).
pub fn check_extension(
    case: &Case,
    replay: &Replay,
    policies: &PolicyTable,
    calendar: &WorkCalendar,
    on: NaiveDate,
    to: NaiveDate,
) -> Result<Reckoned, String> {
    let received = case.received().ok_or("案件没有信访件，无法计算期限")?;
    let policy = policies.for_date(received);
    let accepted = replay.accepted_on.ok_or("案件尚未受理或交办，无需延期")?;
    let original = calendar.add_days(accepted, policy.handle_days).map_err(|e| e.to_string())?;
    extension_verdict(original.date, on, to, policy, calendar)
}

/// Checks a 复查 request recorded on `on`: within 30 days of the day the petitioner received the
/// reply (§35), or later only with the justified reason `reason` recorded. A request whose
/// window cannot be known yet (service not recorded) is not refused.
pub fn check_review_request(
    case: &Case,
    replay: &Replay,
    policies: &PolicyTable,
    calendar: &WorkCalendar,
    on: NaiveDate,
    reason: Option<&str>,
) -> Result<(), String> {
    let window = clocks(case, replay, policies, calendar)
        .into_iter()
        .find(|c| c.kind == DeadlineKind::ReviewRequest)
        .and_then(|c| c.due.ok());
    match window {
        Some(due) if on > due.date && reason.is_none_or(|r| r.trim().is_empty()) => Err(format!(
            "复查申请已超过期限：自收到答复之日起30日，截至 {}。如有正当理由，请写明理由后再登记",
            due.date
        )),
        _ => Ok(()),
    }
}

/// Checks an objection (异议退回) the bureau records on `on` against a referral: within 5 working
/// days of receipt (信访工作条例 §23 ¶3); after that the referral is the bureau's to decide.
pub fn check_objection(
    case: &Case,
    replay: &Replay,
    policies: &PolicyTable,
    calendar: &WorkCalendar,
    on: NaiveDate,
) -> Result<(), String> {
    if !case.first_source().is_some_and(|s| s.is_referral()) {
        return Err(
            "只有转送、交办来的信访件才能异议退回；直接收到的请作出受理、不予受理或转送决定"
                .to_owned(),
        );
    }
    let clock = clocks(case, replay, policies, calendar)
        .into_iter()
        .find(|c| c.kind == DeadlineKind::Objection)
        .ok_or("该件已作出受理决定，不能再异议退回")?;
    match clock.due {
        Err(why) => Err(why),
        Ok(due) if on > due.date => Err(format!(
            "异议退回须在收到之日起{}个工作日内提出，已于 {} 届满；请作出受理决定后依法办理",
            policies.for_date(clock.start).objection_working_days,
            due.date
        )),
        Ok(_) => Ok(()),
    }
}

/// Checks a 办结 recorded on `on` for `reason` (终结原因, `reference/domain.md` §2.3): each
/// reason only when its condition holds. 答复后未申请复查 waits until the review window has run
/// out, 复查意见送达 until the re-review window has, and 复核意见送达 needs the re-review opinion
/// served. The other reasons (撤回, 调解协议履行, 死亡无承受人, 导入法定程序) end a case at any
/// stage. A close that arrives by sync is not judged here: it stays in the record, and
/// [`deadlines`] says when it came before its window ran out.
pub fn check_close(
    case: &Case,
    replay: &Replay,
    policies: &PolicyTable,
    calendar: &WorkCalendar,
    on: NaiveDate,
    reason: &CloseReason,
) -> Result<(), String> {
    let window_over = |kind: DeadlineKind, what: &str| -> Result<(), String> {
        let due = clocks(case, replay, policies, calendar)
            .into_iter()
            .find(|c| c.kind == kind)
            .map(|c| c.due)
            .ok_or_else(|| format!("{}尚未开始计算", kind.label()))?;
        match due {
            Err(why) => {
                Err(format!("{why}；{}届满后方可以「{}」办结", kind.label(), reason.label()))
            }
            Ok(due) if on <= due.date => Err(format!(
                "{}至 {} 届满：届满后信访人仍未申请{what}，方可以「{}」办结；信访人撤回、已调解等请选择相应的办结原因",
                kind.label(),
                due.date,
                reason.label()
            )),
            Ok(_) => Ok(()),
        }
    };
    match reason {
        CloseReason::Replied => match replay.status {
            // §30 reports and suggestions are fed back and closed: there is no review to wait for.
            Status::Replied if !replay.track().reviewable() => Ok(()),
            Status::Replied => window_over(DeadlineKind::ReviewRequest, "复查"),
            Status::UnderReview
            | Status::Reviewed
            | Status::UnderRecheck
            | Status::Rechecked => Err(
                "信访人已申请复查，不能以「答复后未申请复查」办结：请在复查（复核）意见送达后，以相应原因办结"
                    .to_owned(),
            ),
            // Decided elsewhere (不予受理, 转送) or not yet replied: `close_check` judges these.
            _ => Ok(()),
        },
        CloseReason::ReviewServed => match replay.status {
            Status::Reviewed => window_over(DeadlineKind::RecheckRequest, "复核"),
            Status::UnderRecheck | Status::Rechecked => Err(
                "信访人已申请复核，请在复核意见送达后以「复核意见送达」办结".to_owned(),
            ),
            _ => Err("复查机关尚未作出维持或变更的复查意见，不能以「复查意见送达」办结".to_owned()),
        },
        CloseReason::RecheckServed => match (&replay.status, replay.recheck_served_on) {
            (Status::Rechecked, Some(_)) => Ok(()),
            (Status::Rechecked, None) => {
                Err("复核意见尚未登记送达：请先登记「送达」，再以「复核意见送达」办结".to_owned())
            }
            _ => Err("复核机关尚未作出复核意见，不能以「复核意见送达」办结".to_owned()),
        },
        _ => Ok(()),
    }
}

/// Checks the deadline of a 交办 recorded on `on`: after that day and within the case's own
/// handling period (60 days from acceptance, or from this assignment when it is the decision),
/// which the assigned office cannot be given more of.
pub fn check_assign_due(
    case: &Case,
    replay: &Replay,
    policies: &PolicyTable,
    calendar: &WorkCalendar,
    on: NaiveDate,
    due: NaiveDate,
) -> Result<(), String> {
    if due <= on {
        return Err(format!("交办期限 {due} 须晚于交办日 {on}"));
    }
    let received = case.received().ok_or("案件没有信访件，无法计算期限")?;
    let policy = policies.for_date(received);
    let handle = clocks(case, replay, policies, calendar)
        .into_iter()
        .find(|c| c.kind == DeadlineKind::Handle)
        .and_then(|c| c.due.ok())
        .map(|r| r.date);
    let limit = match handle {
        Some(limit) => limit,
        None => calendar.add_days(on, policy.handle_days).map_err(|e| e.to_string())?.date,
    };
    if due > limit {
        return Err(format!(
            "交办期限不得晚于案件的办理期限 {limit}（受理之日起{}日，可延期的除外）",
            policy.handle_days
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CaseId, Event, EventHead, Submission};
    use crate::terms::{Category, Channel, Purpose, Role, Sector, Source};
    use crate::workflow::replay;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn case(received: &str, source: Source) -> Case {
        Case {
            id: CaseId(uuid::Uuid::nil()),
            schema_version: 1,
            number: "X-2024-A-0001".into(),
            official_number: None,
            registered_by: "county".into(),
            purpose: Purpose::Appeal,
            sector: Sector::Land,
            category: Category::Dispute,
            jurisdiction: Some("黄桥镇".into()),
            subject: String::new(),
            request: String::new(),
            village: String::new(),
            confidential: false,
            identity_released: false,
            restrictive_values: false,
            demo: false,
            petitioners: vec![],
            submissions: vec![Submission {
                id: "s1".into(),
                channel: Channel::Letter,
                source,
                received: d(received),
                batches: 0,
                persons: 1,
                collective: false,
                skip_level: false,
                repeat: false,
                anonymous: false,
                confidential: false,
                petitioners: vec![],
                summary: String::new(),
                registered_by: "county".into(),
                fingerprint: None,
                referred_by: None,
                referral_number: None,
                platform_number: None,
                representatives: Vec::new(),
                urgent: false,
                threat: false,
                litigation: false,
            }],
            events: vec![],
            attachments: vec![],
            reply_draft: String::new(),
            investigation_report: String::new(),
        }
    }

    /// The written 受理告知书, issued on `date`.
    fn notify(case: &mut Case, date: &str) {
        push(case, ActionKind::IssueDocument, date, None);
        case.events.last_mut().unwrap().document_kind =
            Some(crate::terms::DocumentKind::AcceptanceNotice);
    }

    #[test]
    fn the_decide_clock_is_met_by_the_written_notice_not_the_decision() {
        let mut c = case("2024-03-01", Source::Direct);
        push(&mut c, ActionKind::Register, "2024-03-01", None);
        push(&mut c, ActionKind::Accept, "2024-03-04", None);
        // Decided on the 4th, no notice yet: the duty is still open, then overdue.
        let dl = compute(&c, "2024-03-10");
        let decide = dl.get(&DeadlineKind::Decide).unwrap();
        // 2024-03-16 is a Saturday: the last day moves to Monday the 18th.
        assert_eq!((decide.due, decide.met_on), (d("2024-03-18"), None));
        assert!(compute(&c, "2024-03-20").overdue());
        // The 受理告知书 goes out 35 days after receipt: met, and late.
        notify(&mut c, "2024-04-05");
        let decide = compute(&c, "2024-04-06").get(&DeadlineKind::Decide).unwrap().clone();
        assert_eq!(decide.met_on, Some(d("2024-04-05")));
        assert!(decide.late && !decide.overdue);
        // Anonymous: no notice is possible, the decision meets it.
        let mut anon = case("2024-03-01", Source::Direct);
        anon.submissions[0].anonymous = true;
        push(&mut anon, ActionKind::Register, "2024-03-01", None);
        push(&mut anon, ActionKind::Accept, "2024-03-04", None);
        let decide = compute(&anon, "2024-03-20").get(&DeadlineKind::Decide).unwrap().clone();
        assert_eq!(decide.met_on, Some(d("2024-03-04")));
        // Imported history without a notice: the old ledger's decision stands, not late.
        let mut old = case("2017-03-01", Source::Direct);
        push(&mut old, ActionKind::Register, "2017-03-01", None);
        push(&mut old, ActionKind::Accept, "2017-03-04", None);
        old.events.last_mut().unwrap().imported = true;
        let decide = compute(&old, "2017-04-20").get(&DeadlineKind::Decide).unwrap().clone();
        assert_eq!(decide.met_on, Some(d("2017-03-04")));
    }

    fn push(case: &mut Case, action: ActionKind, date: &str, due: Option<&str>) {
        let lamport = case.next_lamport();
        let role = match action {
            ActionKind::Investigate | ActionKind::Reply | ActionKind::SuperviseReport => {
                Role::Township
            }
            _ => Role::Bureau,
        };
        case.events.push(Event {
            target: Some("黄桥镇".into()),
            due: due.map(d),
            ..Event::new(EventHead {
                id: format!("e{lamport:02}"),
                lamport,
                action,
                actor: "a".into(),
                office: "o".into(),
                role,
                handler: "h".into(),
                at: 0,
                date: d(date),
                imported: false,
            })
        });
    }

    fn compute(case: &Case, as_of: &str) -> CaseDeadlines {
        let r = replay(&case.events);
        deadlines(case, &r, &PolicyTable::default(), &WorkCalendar::china(), d(as_of))
    }

    #[test]
    fn an_urgent_or_threatening_matter_is_reported_the_day_it_comes_in() {
        let mut c = case("2024-03-01", Source::Direct);
        push(&mut c, ActionKind::Register, "2024-03-01", None);
        assert!(compute(&c, "2024-03-01").get(&DeadlineKind::UrgentReport).is_none());
        c.submissions[0].threat = true;
        let report = compute(&c, "2024-03-01").get(&DeadlineKind::UrgentReport).unwrap().clone();
        assert_eq!(
            (report.start, report.due, report.overdue),
            (d("2024-03-01"), d("2024-03-01"), false)
        );
        assert!(compute(&c, "2024-03-02").overdue(), "立即: the next day is already late");
        // A report before the matter came in does not count; the one the day after meets it late.
        push(&mut c, ActionKind::ReportUp, "2024-02-28", None);
        assert!(compute(&c, "2024-03-02").overdue());
        push(&mut c, ActionKind::ReportUp, "2024-03-02", None);
        let report = compute(&c, "2024-03-05").get(&DeadlineKind::UrgentReport).unwrap().clone();
        assert_eq!(report.met_on, Some(d("2024-03-02")));
        assert!(report.late && !report.overdue);
        // A second threat weeks later is reported again: its own clock, not met by the first.
        let mut again = c.submissions[0].clone();
        again.id = "s2".into();
        again.received = d("2024-04-01");
        c.submissions.push(again);
        let dl = compute(&c, "2024-04-02");
        let clocks: Vec<_> =
            dl.items.iter().filter(|d| d.kind == DeadlineKind::UrgentReport).collect();
        assert_eq!(clocks.len(), 2);
        assert!(clocks[1].overdue && clocks[1].met_on.is_none(), "{:?}", clocks[1]);
        // §25 asks it whatever became of the matter: a closed case still takes the report.
        push(&mut c, ActionKind::Close, "2024-03-20", None);
        assert!(
            crate::workflow::permit(&replay(&c.events), &Role::Township, &ActionKind::ReportUp)
                .is_ok()
        );
    }

    #[test]
    fn a_12336_report_is_judged_in_working_days_and_fed_back_by_its_reply() {
        let mut c = case("2024-03-01", Source::Report12336);
        push(&mut c, ActionKind::Register, "2024-03-01", None);
        let dl = compute(&c, "2024-03-01");
        // Friday the 1st: two working days run to Tuesday the 5th.
        assert_eq!(dl.get(&DeadlineKind::Assess12336).unwrap().due, d("2024-03-05"));
        assert_eq!(dl.get(&DeadlineKind::Feedback12336).unwrap().due, d("2024-04-30"));
        assert!(compute(&c, "2024-03-06").overdue());
        push(&mut c, ActionKind::Accept, "2024-03-04", None);
        notify(&mut c, "2024-03-04");
        let dl = compute(&c, "2024-03-06");
        assert_eq!(dl.get(&DeadlineKind::Assess12336).unwrap().met_on, Some(d("2024-03-04")));
        assert_eq!(dl.get(&DeadlineKind::Feedback12336).unwrap().met_on, None);
        push(&mut c, ActionKind::Reply, "2024-04-10", None);
        let dl = compute(&c, "2024-04-11");
        assert_eq!(dl.get(&DeadlineKind::Feedback12336).unwrap().met_on, Some(d("2024-04-10")));
        // Not in remit: the decision itself is what goes back to the platform.
        let mut out = case("2024-03-01", Source::Report12336);
        push(&mut out, ActionKind::Register, "2024-03-01", None);
        push(&mut out, ActionKind::NotAccept, "2024-03-04", None);
        let dl = compute(&out, "2024-03-06");
        assert_eq!(dl.get(&DeadlineKind::Feedback12336).unwrap().met_on, Some(d("2024-03-04")));
        // 不予受理 then 办结: the decision still is what went back.
        push(&mut out, ActionKind::Close, "2024-03-10", None);
        let dl = compute(&out, "2024-03-11");
        assert_eq!(dl.get(&DeadlineKind::Feedback12336).unwrap().met_on, Some(d("2024-03-04")));
        // 执法查处 has no petition reply: its closing is the feedback.
        let mut enforced = case("2024-03-01", Source::Report12336);
        push(&mut enforced, ActionKind::Register, "2024-03-01", None);
        push(&mut enforced, ActionKind::Accept, "2024-03-04", None);
        enforced.events.last_mut().unwrap().track = Some(crate::terms::HandlingTrack::Enforcement);
        push(&mut enforced, ActionKind::Close, "2024-04-20", None);
        enforced.events.last_mut().unwrap().close_reason = Some(CloseReason::StatutoryProcedure);
        let dl = compute(&enforced, "2024-04-21");
        assert_eq!(dl.get(&DeadlineKind::Feedback12336).unwrap().met_on, Some(d("2024-04-20")));
        // A county that does not track the assessment sets it to 0: that clock is gone, the
        // feedback's stays.
        let mut table = PolicyTable::default();
        let mut off = table.current().clone();
        off.assess_12336_working_days = 0;
        table.insert(off);
        let r = replay(&c.events);
        let dl = deadlines(&c, &r, &table, &WorkCalendar::china(), d("2024-03-06"));
        assert!(dl.get(&DeadlineKind::Assess12336).is_none());
        assert!(dl.get(&DeadlineKind::Feedback12336).is_some());
        // Any other source has neither clock.
        let direct = compute(&case("2024-03-01", Source::Direct), "2024-03-02");
        assert!(direct.get(&DeadlineKind::Assess12336).is_none());
        assert!(direct.get(&DeadlineKind::Feedback12336).is_none());
    }

    #[test]
    fn a_supervision_order_runs_to_its_report() {
        let mut c = case("2024-05-06", Source::Direct);
        push(&mut c, ActionKind::Register, "2024-05-06", None);
        push(&mut c, ActionKind::Assign, "2024-05-07", None);
        // An older 督办 with no due date sets no clock.
        push(&mut c, ActionKind::Supervise, "2024-05-08", None);
        push(&mut c, ActionKind::Supervise, "2024-05-10", Some("2024-05-20"));
        let dl = compute(&c, "2024-05-21");
        let supervised: Vec<&Deadline> =
            dl.items.iter().filter(|i| i.kind == DeadlineKind::Supervised).collect();
        assert_eq!(supervised.len(), 1);
        assert_eq!((supervised[0].start, supervised[0].due), (d("2024-05-10"), d("2024-05-20")));
        assert!(supervised[0].overdue && !supervised[0].informational);
        let order = c.events.last().unwrap().id.clone();
        push(&mut c, ActionKind::SuperviseReport, "2024-05-22", None);
        let report = c.events.last_mut().unwrap();
        report.refers = Some(order);
        report.text = Some("已查清".into());
        let dl = compute(&c, "2024-05-23");
        let met = dl.get(&DeadlineKind::Supervised).unwrap();
        assert_eq!(met.met_on, Some(d("2024-05-22")));
        assert!(!met.overdue && met.late, "reported two days after the day set");
    }

    #[test]
    fn decide_deadline_counts_from_receipt_and_reports_days_left() {
        let mut c = case("2024-03-02", Source::Direct);
        push(&mut c, ActionKind::Register, "2024-03-02", None);
        let dl = compute(&c, "2024-03-10");
        let decide = dl.get(&DeadlineKind::Decide).unwrap();
        // 2024-03-17 is a Sunday: the deadline moves to Monday the 18th.
        assert_eq!(decide.due, d("2024-03-18"));
        assert_eq!(decide.days_left, 8);
        assert!(!decide.overdue);
        assert!(dl.get(&DeadlineKind::Objection).is_none(), "direct petitions have no objection");
        let late = compute(&c, "2024-03-19");
        assert!(late.overdue());
        assert_eq!(late.next_due().unwrap().days_left, -1);
    }

    #[test]
    fn a_provincial_working_day_decide_period_counts_working_days() {
        // 浙江省信访条例 §20: 5 working days, set by the county from 2024-01-01.
        let mut table = PolicyTable::default();
        table.insert(Policy {
            id: "xfgztl-2022+2024-01-01".into(),
            decide_days: 5,
            decide_working: true,
            effective_from: d("2024-01-01"),
            ..table.for_date(d("2024-01-01")).clone()
        });
        // Received Thursday 2024-02-08, before 春节 (02-10 to 02-17; 02-18 a 调休 Sunday):
        // 02-09, 02-18, 02-19, 02-20, 02-21 are the five working days.
        let c = case_on("2024-02-08");
        let r = replay(&c.events);
        let dl = deadlines(&c, &r, &table, &WorkCalendar::china(), d("2024-02-09"));
        assert_eq!(dl.get(&DeadlineKind::Decide).unwrap().due, d("2024-02-21"));
        // A matter received before the county's version keeps the national 15 days.
        let c = case_on("2023-12-29");
        let r = replay(&c.events);
        let dl = deadlines(&c, &r, &table, &WorkCalendar::china(), d("2024-01-02"));
        assert_eq!(dl.get(&DeadlineKind::Decide).unwrap().due, d("2024-01-15"));
    }

    #[test]
    fn referral_objection_window_is_working_days() {
        let mut c = case("2024-02-08", Source::CityBureau);
        push(&mut c, ActionKind::Register, "2024-02-08", None);
        let dl = compute(&c, "2024-02-09");
        assert_eq!(dl.get(&DeadlineKind::Objection).unwrap().due, d("2024-02-21"));
        // Once assigned without objection the window no longer applies.
        push(&mut c, ActionKind::Assign, "2024-02-19", None);
        assert!(compute(&c, "2024-02-20").get(&DeadlineKind::Objection).is_none());
    }

    #[test]
    fn the_bureau_objects_to_a_referral_only_within_five_working_days() {
        let (pol, cal) = (PolicyTable::default(), WorkCalendar::china());
        let mut c = case("2024-02-08", Source::CityBureau);
        push(&mut c, ActionKind::Register, "2024-02-08", None);
        let r = replay(&c.events);
        // Received the day before the Spring Festival break: five working days run to 02-21.
        assert!(check_objection(&c, &r, &pol, &cal, d("2024-02-21")).is_ok());
        let err = check_objection(&c, &r, &pol, &cal, d("2024-02-22")).unwrap_err();
        assert!(err.contains("2024-02-21") && err.contains("5个工作日"), "{err}");
        // A petition received directly is the bureau's to decide: nothing to object to.
        let mut direct = case("2024-02-08", Source::Direct);
        push(&mut direct, ActionKind::Register, "2024-02-08", None);
        let err = check_objection(&direct, &replay(&direct.events), &pol, &cal, d("2024-02-09"))
            .unwrap_err();
        assert!(err.contains("转送、交办"), "{err}");
        // Returned: the decide clock is met by the objection and no longer counts as late.
        push(&mut c, ActionKind::Object, "2024-02-19", None);
        let dl = compute(&c, "2024-03-30");
        assert_eq!(dl.get(&DeadlineKind::Decide).unwrap().met_on, Some(d("2024-02-19")));
        assert!(!dl.overdue());
    }

    #[test]
    fn the_objection_window_is_a_right_never_overdue_and_only_the_receivers() {
        let mut c = case("2024-02-08", Source::CityBureau);
        push(&mut c, ActionKind::Register, "2024-02-08", None);
        // Long past the fifth working day, the case still in 登记: not overdue work.
        let dl = compute(&c, "2024-03-01");
        let window = dl.get(&DeadlineKind::Objection).unwrap();
        assert!(window.informational && !window.overdue && window.days_left < 0);
        // The decide clock is the duty that is overdue, and the one lists show.
        assert_eq!(dl.next_due().unwrap().kind, DeadlineKind::Decide);
        let registered_by = c.registered_by.clone();
        let own = dl.clone().seen_by(&c, &registered_by);
        assert!(own.get(&DeadlineKind::Objection).is_some());
        let other = dl.seen_by(&c, "some-township");
        assert!(other.get(&DeadlineKind::Objection).is_none());
        assert!(other.get(&DeadlineKind::Decide).is_some());
    }

    #[test]
    fn an_extension_recorded_after_expiry_launders_nothing() {
        // A township's 延期 dated ten days after the handling period ran out, arriving by sync:
        // accepted into the record, but the case stays overdue and the clerk is told why.
        let mut c = case("2024-01-02", Source::Direct);
        push(&mut c, ActionKind::Register, "2024-01-02", None);
        push(&mut c, ActionKind::Accept, "2024-01-05", None);
        push(&mut c, ActionKind::Extend, "2024-03-15", Some("2024-04-03"));
        let dl = compute(&c, "2024-03-20");
        let handle = dl.get(&DeadlineKind::Handle).unwrap();
        assert_eq!(handle.due, d("2024-03-05"));
        assert!(handle.overdue && handle.days_left == -15);
        assert_eq!(dl.problems.len(), 1);
        assert!(dl.problems[0].message.contains("届满前"), "{}", dl.problems[0].message);
        // An over-long one is not applied either.
        let mut c = case("2024-01-02", Source::Direct);
        push(&mut c, ActionKind::Register, "2024-01-02", None);
        push(&mut c, ActionKind::Accept, "2024-01-05", None);
        push(&mut c, ActionKind::Extend, "2024-03-01", Some("2024-05-01"));
        let dl = compute(&c, "2024-03-20");
        assert_eq!(dl.get(&DeadlineKind::Handle).unwrap().due, d("2024-03-05"));
        assert!(dl.problems[0].message.contains("30"));
    }

    #[test]
    fn an_assignment_deadline_stays_within_the_handling_period() {
        let mut c = case("2024-01-02", Source::Direct);
        push(&mut c, ActionKind::Register, "2024-01-02", None);
        let r = replay(&c.events);
        let (pol, cal) = (PolicyTable::default(), WorkCalendar::china());
        let on = d("2024-01-05");
        // Assigned as the decision: 60 days from the assignment, 2024-03-05.
        assert!(check_assign_due(&c, &r, &pol, &cal, on, d("2024-03-05")).is_ok());
        let err = check_assign_due(&c, &r, &pol, &cal, on, d("2024-03-06")).unwrap_err();
        assert!(err.contains("2024-03-05"), "{err}");
        assert!(check_assign_due(&c, &r, &pol, &cal, on, on).is_err());
        // Accepted first: the handling period runs from the acceptance.
        push(&mut c, ActionKind::Accept, "2024-01-03", None);
        let r = replay(&c.events);
        assert!(check_assign_due(&c, &r, &pol, &cal, on, d("2024-03-04")).is_ok());
        assert!(check_assign_due(&c, &r, &pol, &cal, on, d("2024-03-05")).is_err());
    }

    #[test]
    fn handle_deadline_sixty_days_then_extension_then_met() {
        let mut c = case("2024-01-02", Source::Direct);
        push(&mut c, ActionKind::Register, "2024-01-02", None);
        push(&mut c, ActionKind::Accept, "2024-01-05", None);
        notify(&mut c, "2024-01-05");
        let dl = compute(&c, "2024-01-06");
        assert_eq!(dl.get(&DeadlineKind::Decide).unwrap().met_on, Some(d("2024-01-05")));
        // 2024-01-05 + 60 = 2024-03-05 (Tuesday).
        assert_eq!(dl.get(&DeadlineKind::Handle).unwrap().due, d("2024-03-05"));
        let r = replay(&c.events);
        let cal = WorkCalendar::china();
        let pol = PolicyTable::default();
        let on = d("2024-03-01");
        // 2024-03-05 + 30 = 2024-04-04, a day of the 清明 holiday (4-6 April, 7 April worked):
        // the extended last day moves to the next working day.
        assert_eq!(
            check_extension(&c, &r, &pol, &cal, on, d("2024-04-04")).unwrap().date,
            d("2024-04-07")
        );
        assert_eq!(
            check_extension(&c, &r, &pol, &cal, on, d("2024-04-03")).unwrap().date,
            d("2024-04-03")
        );
        assert_eq!(
            check_extension(&c, &r, &pol, &cal, on, d("2024-04-07")).unwrap().date,
            d("2024-04-07")
        );
        assert!(
            check_extension(&c, &r, &pol, &cal, on, d("2024-04-08")).unwrap_err().contains("30")
        );
        assert!(check_extension(&c, &r, &pol, &cal, on, d("2024-03-01")).is_err());
        // Decided after the period ran out: refused, whatever the new day.
        let late = check_extension(&c, &r, &pol, &cal, d("2024-03-15"), d("2024-04-03"));
        assert!(late.unwrap_err().contains("届满前"));
        push(&mut c, ActionKind::Extend, "2024-03-01", Some("2024-04-07"));
        let dl = compute(&c, "2024-03-20");
        let handle = dl.get(&DeadlineKind::Handle).unwrap();
        assert_eq!(handle.due, d("2024-04-07"));
        assert!(!handle.overdue);
        assert!(dl.problems.is_empty(), "{:?}", dl.problems);
        push(&mut c, ActionKind::Reply, "2024-04-08", None);
        let dl = compute(&c, "2024-04-10");
        let handle = dl.get(&DeadlineKind::Handle).unwrap();
        assert!(handle.late && !handle.overdue);
        // The review window waits for the reply's service to be recorded.
        assert!(dl.get(&DeadlineKind::ReviewRequest).is_none());
        assert!(dl.problems.iter().any(|p| p.message.contains("送达")), "{:?}", dl.problems);
        push(&mut c, ActionKind::Deliver, "2024-04-12", None);
        let dl = compute(&c, "2024-04-13");
        let window = dl.get(&DeadlineKind::ReviewRequest).unwrap();
        assert!(window.informational);
        // 30 days from receipt on 12 April, not from the reply on the 8th.
        assert_eq!((window.start, window.due), (d("2024-04-12"), d("2024-05-13")));
        assert!(dl.next_due().is_none());
        assert!(dl.problems.is_empty(), "{:?}", dl.problems);
    }

    #[test]
    fn the_review_window_runs_from_service_and_a_late_request_needs_its_reason() {
        let mut c = case("2024-01-02", Source::Direct);
        push(&mut c, ActionKind::Register, "2024-01-02", None);
        push(&mut c, ActionKind::Accept, "2024-01-05", None);
        push(&mut c, ActionKind::Reply, "2024-02-01", None);
        push(&mut c, ActionKind::Deliver, "2024-02-05", None);
        let r = replay(&c.events);
        assert_eq!(r.reply_served_on, Some(d("2024-02-05")));
        let (pol, cal) = (PolicyTable::default(), WorkCalendar::china());
        // 2024-02-05 + 30 = 2024-03-06.
        assert!(check_review_request(&c, &r, &pol, &cal, d("2024-03-06"), None).is_ok());
        // 43 days after the reply, 39 after service: late, and refused without a reason.
        let err = check_review_request(&c, &r, &pol, &cal, d("2024-03-15"), None).unwrap_err();
        assert!(err.contains("2024-03-06"), "{err}");
        assert!(check_review_request(&c, &r, &pol, &cal, d("2024-03-15"), Some("  ")).is_err());
        assert!(
            check_review_request(&c, &r, &pol, &cal, d("2024-03-15"), Some("住院治疗，有病历"))
                .is_ok()
        );
        // Recorded late (by sync from elsewhere, or with its reason), the window says so.
        push(&mut c, ActionKind::Review, "2024-03-15", None);
        let dl = compute(&c, "2024-03-16");
        let window = dl.get(&DeadlineKind::ReviewRequest).unwrap();
        assert!(window.late, "a late request is shown late, never just 已完成");
        // A second service of the same reply does not move the window.
        let mut again = c.clone();
        push(&mut again, ActionKind::Deliver, "2024-03-01", None);
        assert_eq!(replay(&again.events).reply_served_on, Some(d("2024-02-05")));
    }

    #[test]
    fn each_close_reason_waits_for_its_condition() {
        use crate::terms::DocumentKind;
        let (pol, cal) = (PolicyTable::default(), WorkCalendar::china());
        let close = |c: &Case, on: &str, reason: CloseReason| {
            check_close(c, &replay(&c.events), &pol, &cal, d(on), &reason)
        };
        let mut c = case("2024-01-02", Source::Direct);
        push(&mut c, ActionKind::Register, "2024-01-02", None);
        push(&mut c, ActionKind::Accept, "2024-01-05", None);
        push(&mut c, ActionKind::Reply, "2024-02-01", None);
        // Until the reply's service is recorded its window cannot have run out.
        let err = close(&c, "2024-06-01", CloseReason::Replied).unwrap_err();
        assert!(err.contains("送达"), "{err}");
        // Withdrawal, mediation, death and a statutory route end a case at any stage.
        assert!(close(&c, "2024-02-02", CloseReason::Withdrawn).is_ok());
        assert!(close(&c, "2024-02-02", CloseReason::StatutoryProcedure).is_ok());
        push(&mut c, ActionKind::Deliver, "2024-02-05", None);
        // Served 2024-02-05: the window runs to 2024-03-06 and closes the day after.
        let err = close(&c, "2024-03-06", CloseReason::Replied).unwrap_err();
        assert!(err.contains("2024-03-06"), "{err}");
        assert!(close(&c, "2024-03-07", CloseReason::Replied).is_ok());
        assert!(close(&c, "2024-03-07", CloseReason::ReviewServed).is_err());
        assert!(close(&c, "2024-03-07", CloseReason::RecheckServed).is_err());

        // A review was asked for: the reply no longer ends the matter.
        push(&mut c, ActionKind::Review, "2024-03-01", None);
        let err = close(&c, "2024-06-01", CloseReason::Replied).unwrap_err();
        assert!(err.contains("已申请复查"), "{err}");
        push(&mut c, ActionKind::ReviewOpinion, "2024-03-20", None);
        c.events.last_mut().unwrap().review_outcome = Some(ReviewOutcome::Upheld);
        let err = close(&c, "2024-06-01", CloseReason::ReviewServed).unwrap_err();
        assert!(err.contains("复查意见尚未登记送达"), "{err}");
        // A 送达 recorded now serves the review opinion, and the 复核 window runs from it.
        assert_eq!(
            crate::workflow::document_to_serve(&replay(&c.events)),
            DocumentKind::ReviewOpinion
        );
        push(&mut c, ActionKind::Deliver, "2024-03-25", None);
        c.events.last_mut().unwrap().document_kind = Some(DocumentKind::ReviewOpinion);
        let r = replay(&c.events);
        assert_eq!(r.review_served_on, Some(d("2024-03-25")));
        assert_eq!(r.reply_served_on, Some(d("2024-02-05")), "the reply's service stays");
        let window = compute(&c, "2024-03-26");
        let window = window.get(&DeadlineKind::RecheckRequest).unwrap();
        assert_eq!((window.start, window.due), (d("2024-03-25"), d("2024-04-24")));
        assert!(close(&c, "2024-04-24", CloseReason::ReviewServed).is_err());
        assert!(close(&c, "2024-04-25", CloseReason::ReviewServed).is_ok());

        // 复核: the re-review opinion closes the matter once served.
        push(&mut c, ActionKind::RecheckRequest, "2024-04-10", None);
        assert!(close(&c, "2024-06-01", CloseReason::ReviewServed).is_err());
        push(&mut c, ActionKind::RecheckOpinion, "2024-04-30", None);
        c.events.last_mut().unwrap().review_outcome = Some(ReviewOutcome::Upheld);
        let err = close(&c, "2024-05-01", CloseReason::RecheckServed).unwrap_err();
        assert!(err.contains("送达"), "{err}");
        push(&mut c, ActionKind::Deliver, "2024-05-06", None);
        c.events.last_mut().unwrap().document_kind = Some(DocumentKind::RecheckOpinion);
        assert!(close(&c, "2024-05-06", CloseReason::RecheckServed).is_ok());
    }

    #[test]
    fn the_track_chosen_at_acceptance_decides_the_clocks_and_the_review() {
        use crate::terms::HandlingTrack;
        use crate::workflow::permit;
        let (pol, cal) = (PolicyTable::default(), WorkCalendar::china());
        let accepted_on = |track: Option<HandlingTrack>| {
            let mut c = case("2024-01-02", Source::Direct);
            push(&mut c, ActionKind::Register, "2024-01-02", None);
            push(&mut c, ActionKind::Accept, "2024-01-05", None);
            c.events.last_mut().unwrap().track = track;
            notify(&mut c, "2024-01-05");
            c
        };
        // §30: handled, fed back and closed; no 复查 window and no 复查.
        let mut report = accepted_on(Some(HandlingTrack::Report));
        assert!(compute(&report, "2024-01-06").get(&DeadlineKind::Handle).is_some());
        push(&mut report, ActionKind::Reply, "2024-02-01", None);
        push(&mut report, ActionKind::Deliver, "2024-02-02", None);
        let r = replay(&report.events);
        assert_eq!(r.track(), HandlingTrack::Report);
        let refused = permit(&r, &Role::Bureau, &ActionKind::Review).unwrap_err();
        assert!(refused.message.contains("不适用复查"), "{refused}");
        assert!(compute(&report, "2024-02-03").get(&DeadlineKind::ReviewRequest).is_none());
        assert!(
            check_close(&report, &r, &pol, &cal, d("2024-02-03"), &CloseReason::Replied).is_ok()
        );
        // §31(1)-(5): routed into enforcement, no petition handling period.
        let enforcement = accepted_on(Some(HandlingTrack::Enforcement));
        assert!(compute(&enforcement, "2024-06-01").get(&DeadlineKind::Handle).is_none());
        assert!(!compute(&enforcement, "2024-06-01").overdue());
        // §31(6), and every matter decided before tracks were recorded: the petition procedure.
        for track in [Some(HandlingTrack::Petition), None] {
            let mut c = accepted_on(track);
            push(&mut c, ActionKind::Reply, "2024-02-01", None);
            let r = replay(&c.events);
            assert_eq!(r.track(), HandlingTrack::Petition);
            assert!(permit(&r, &Role::Bureau, &ActionKind::Review).is_ok());
        }
    }

    #[test]
    fn a_close_synced_before_the_window_ran_out_is_kept_and_said() {
        let mut c = case("2024-01-02", Source::Direct);
        push(&mut c, ActionKind::Register, "2024-01-02", None);
        push(&mut c, ActionKind::Accept, "2024-01-05", None);
        push(&mut c, ActionKind::Reply, "2024-02-01", None);
        push(&mut c, ActionKind::Deliver, "2024-02-05", None);
        push(&mut c, ActionKind::Close, "2024-02-06", None);
        c.events.last_mut().unwrap().close_reason = Some(CloseReason::Replied);
        assert_eq!(replay(&c.events).status, Status::Closed, "kept: never dropped");
        let dl = compute(&c, "2024-02-07");
        assert!(
            dl.problems
                .iter()
                .any(|p| p.message.contains("2024-03-06") && p.message.contains("核实")),
            "{:?}",
            dl.problems
        );
        // Imported history closed on the reply day is the old ledger's record, not an anomaly.
        c.events.last_mut().unwrap().imported = true;
        assert!(compute(&c, "2024-02-07").problems.is_empty());
    }

    #[test]
    fn a_closed_case_has_no_window_left_open() {
        let mut c = case("2024-01-02", Source::Direct);
        push(&mut c, ActionKind::Register, "2024-01-02", None);
        push(&mut c, ActionKind::Accept, "2024-01-05", None);
        push(&mut c, ActionKind::Reply, "2024-02-01", None);
        push(&mut c, ActionKind::Deliver, "2024-02-02", None);
        assert!(compute(&c, "2024-02-10").get(&DeadlineKind::ReviewRequest).is_some());
        push(&mut c, ActionKind::Close, "2024-02-03", None);
        let dl = compute(&c, "2024-02-10");
        assert!(dl.get(&DeadlineKind::ReviewRequest).is_none(), "{:?}", dl.items);
    }

    #[test]
    fn assigned_deadline_and_review() {
        let mut c = case("2024-05-06", Source::Direct);
        push(&mut c, ActionKind::Register, "2024-05-06", None);
        push(&mut c, ActionKind::Assign, "2024-05-07", Some("2024-05-31"));
        notify(&mut c, "2024-05-08");
        let dl = compute(&c, "2024-06-01");
        let assigned = dl.get(&DeadlineKind::Assigned).unwrap();
        assert!(assigned.overdue);
        assert_eq!(dl.next_due().unwrap().kind, DeadlineKind::Assigned);
        push(&mut c, ActionKind::Reply, "2024-06-03", None);
        push(&mut c, ActionKind::Deliver, "2024-06-04", None);
        push(&mut c, ActionKind::Review, "2024-06-10", None);
        let dl = compute(&c, "2024-06-12");
        assert_eq!(dl.get(&DeadlineKind::Review).unwrap().due, d("2024-07-10"));
        assert!(dl.get(&DeadlineKind::ReviewRequest).unwrap().met_on.is_some());
    }

    #[test]
    fn deadline_in_spring_festival_and_beyond_coverage() {
        // Received 2026-01-30, 15 days later is 2026-02-14, an adjusted working Saturday.
        let mut c = case("2026-01-30", Source::Direct);
        push(&mut c, ActionKind::Register, "2026-01-30", None);
        assert_eq!(
            compute(&c, "2026-02-01").get(&DeadlineKind::Decide).unwrap().due,
            d("2026-02-14")
        );
        // Received 2026-02-01: the 16th falls in the festival; the next working day is the 24th.
        let mut c = case("2026-02-01", Source::Direct);
        push(&mut c, ActionKind::Register, "2026-02-01", None);
        assert_eq!(
            compute(&c, "2026-02-02").get(&DeadlineKind::Decide).unwrap().due,
            d("2026-02-24")
        );
        let mut c = case("2026-12-24", Source::Direct);
        push(&mut c, ActionKind::Register, "2026-12-24", None);
        // 2026-12-24 + 15 = Friday 2027-01-08, beyond the table: kept, marked estimated.
        let dl = compute(&c, "2026-12-25");
        let decide = dl.get(&DeadlineKind::Decide).unwrap();
        assert_eq!((decide.due, decide.estimated), (d("2027-01-08"), true));
        assert!(dl.problems.is_empty());
        // A period that ends inside the table is not.
        let dl = compute(&case_on("2026-11-02"), "2026-11-03");
        assert_eq!(dl.items.len(), 1);
        assert!(!dl.items[0].estimated);
    }

    fn case_on(received: &str) -> Case {
        let mut c = case(received, Source::Direct);
        push(&mut c, ActionKind::Register, received, None);
        c
    }

    #[test]
    fn concluded_cases_have_nothing_overdue() {
        let mut c = case("2024-01-02", Source::Direct);
        push(&mut c, ActionKind::Register, "2024-01-02", None);
        push(&mut c, ActionKind::Void, "2024-01-03", None);
        assert!(!compute(&c, "2025-01-01").overdue());
    }

    #[test]
    fn policy_versions_by_receipt_date() {
        let table = PolicyTable::default();
        assert_eq!(table.for_date(d("2017-06-01")).id, "xftl-2005");
        assert_eq!(table.for_date(d("2022-05-01")).id, "xfgztl-2022");
        assert_eq!(table.current().handle_days, 60);
    }
}
