//! The checks a workflow action (办理动作) needs beyond the workflow table, one method per
//! action: what it must name (a township, a reason, a date), which of those the law bounds
//! (deadlines, the objection and review windows, service after the decision), and the event
//! it records. `Office::act` runs the table, these, and the write.

use ledger_domain::deadline::{
    check_assign_due, check_close, check_extension, check_objection, check_review_request,
};
use ledger_domain::workflow::{
    Replay, Supervision, close_check, document_to_serve, forward_check, replay,
};
use ledger_domain::{
    ActionKind, Case, CaseId, CloseReason, DocumentKind, Event, HandlingTrack, Role, Rules, Status,
};

use crate::Office;
use crate::cases::ActionInput;
use crate::error::{OfficeError, Result};

/// What an action's checks read.
pub(crate) struct Act<'a> {
    pub(crate) id: CaseId,
    pub(crate) case: &'a Case,
    pub(crate) replayed: &'a Replay,
    pub(crate) input: &'a ActionInput,
    pub(crate) rules: &'a Rules,
    /// The input's text, trimmed; `None` when blank.
    pub(crate) text: Option<String>,
    pub(crate) action: ActionKind,
}

/// Case fields an action sets besides its event.
#[derive(Debug, Default)]
pub(crate) struct CaseSets {
    /// 承办乡镇 (交办, 改派).
    pub(crate) jurisdiction: Option<String>,
    /// 受理编号 (受理).
    pub(crate) official_number: Option<String>,
}

impl Office {
    /// The checks of the action beyond the workflow table, and what it sets on the case.
    pub(crate) fn action_checks(&self, c: &Act<'_>, event: &mut Event) -> Result<CaseSets> {
        let mut sets = CaseSets::default();
        match &c.action {
            ActionKind::Assign | ActionKind::Reassign => {
                sets.jurisdiction = self.check_assign(c, event)?
            }
            ActionKind::Forward => self.check_forward(c, event)?,
            ActionKind::Accept => sets.official_number = Some(self.check_accept(c, event)?),
            ActionKind::RemoveDemo if !c.case.demo => {
                return Err(OfficeError::Refused(
                    "只有演示数据可以清除；该案件是真实案件，不能删除".to_owned(),
                ));
            }
            ActionKind::LiftRestriction if !c.case.identity_restricted() => {
                return Err(OfficeError::Refused(
                    "该案件的信访人身份不受限制，无需解除保密".to_owned(),
                ));
            }
            ActionKind::NotAccept
            | ActionKind::NoFurther
            | ActionKind::Object
            | ActionKind::Void
            | ActionKind::LiftRestriction
                if c.text.is_none() =>
            {
                return Err(OfficeError::invalid(
                    "text",
                    "理由",
                    format!("「{}」须写明理由", c.action.label()),
                ));
            }
            // 信访工作条例 §23: a matter outside the land system is told where to go.
            ActionKind::NotAccept => {
                let to = c.input.target.as_deref().map(str::trim).filter(|t| !t.is_empty());
                event.target = to.map(str::to_owned);
            }
            ActionKind::NoFurther => self.check_no_further(c, event)?,
            ActionKind::Object if self.config().role == Role::Bureau => {
                self.check_object(c, event)?
            }
            ActionKind::Extend => self.check_extend(c, event)?,
            ActionKind::Reply => self.check_reply(c, event)?,
            ActionKind::Deliver => self.check_deliver(c, event)?,
            ActionKind::ReviewOpinion | ActionKind::RecheckOpinion => {
                self.check_opinion(c, event)?
            }
            ActionKind::Review => self.check_review(c)?,
            ActionKind::Evaluate => self.check_evaluate(c, event)?,
            ActionKind::Supervise => check_supervise(c, self.today(), event)?,
            ActionKind::SuperviseReport => check_supervise_report(c, event)?,
            ActionKind::FollowUp => check_follow_up(c, event)?,
            ActionKind::ReportUp => check_report_up(c, self.today(), event)?,
            ActionKind::Close => self.check_close(c, event)?,
            _ => {}
        }
        Ok(sets)
    }

    /// 交办 / 改派: the township must be the county's, a reassignment must change it, and a
    /// deadline given must be one the law allows. Returns the new 承办乡镇.
    fn check_assign(&self, c: &Act<'_>, event: &mut Event) -> Result<Option<String>> {
        let case = c.case;
        let replayed = c.replayed;
        let input = c.input;
        let rules = c.rules;
        let action = &c.action;
        let target = input
            .target
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OfficeError::invalid("to", "承办乡镇", "请选择承办乡镇"))?;
        if !self.known_township(target)? {
            let known: Vec<String> = self.township_choices()?.into_iter().map(|c| c.name).collect();
            return Err(OfficeError::invalid(
                "to",
                "承办乡镇",
                format!("「{target}」不是本县的乡镇，请从列表中选择：{}", known.join("、")),
            ));
        }
        if *action == ActionKind::Reassign && case.jurisdiction.as_deref() == Some(target) {
            return Err(OfficeError::invalid(
                "to",
                "承办乡镇",
                format!("案件已由{target}承办，无需改派"),
            ));
        }
        if let Some(due) = input.due {
            check_assign_due(case, replayed, &rules.policies, &rules.calendar, self.today(), due)
                .map_err(|m| OfficeError::invalid("due", "交办期限", m))?;
        }
        event.target = Some(target.to_owned());
        event.due = input.due;
        let jurisdiction = Some(target.to_owned());
        // 交办 as the decision on acceptance chooses the track too.
        if replayed.decided.is_none() || input.track.is_some() {
            event.track =
                Some(input.track.clone().unwrap_or_else(|| HandlingTrack::proposed(&case.purpose)));
        }
        Ok(jurisdiction)
    }

    /// 转送: only a matter outside the land system, to a named body.
    fn check_forward(&self, c: &Act<'_>, event: &mut Event) -> Result<()> {
        let case = c.case;
        let input = c.input;
        forward_check(&case.sector).map_err(|r| OfficeError::Refused(r.message))?;
        let target =
            input.target.as_deref().map(str::trim).filter(|t| !t.is_empty()).ok_or_else(|| {
                OfficeError::invalid("to", "转送单位", "请写明转送的有权处理机关")
            })?;
        event.target = Some(target.to_owned());
        Ok(())
    }

    /// 受理: the track, and the next official number (the 受理告知书 carries it).
    fn check_accept(&self, c: &Act<'_>, event: &mut Event) -> Result<String> {
        let case = c.case;
        let input = c.input;
        let cfg = self.config();
        event.track =
            Some(input.track.clone().unwrap_or_else(|| HandlingTrack::proposed(&case.purpose)));
        let year = self.today().format("%Y").to_string();
        let (seq, letter) = self.series_number(&format!("official:{year}"))?;
        let official_number = format!("{}信〔{year}〕{letter}{seq}号", cfg.number_prefix);
        Ok(official_number)
    }

    /// 不再受理: linked to the matter already handled.
    fn check_no_further(&self, c: &Act<'_>, event: &mut Event) -> Result<()> {
        let id = c.id;
        let input = c.input;
        // The same facts and reasons again: linked to the matter already handled.
        let original = input.target.as_deref().map(str::trim).filter(|t| !t.is_empty());
        let original = original.ok_or_else(|| {
            OfficeError::invalid(
                "to",
                "原信访事项编号",
                "「不再受理」须写明已办理的原信访事项的案件编号",
            )
        })?;
        let invalid = |m: String| OfficeError::invalid("to", "原信访事项编号", m);
        let found = self.store.find_by_number(original)?.ok_or_else(|| {
            invalid(format!("台账中没有案件编号为「{original}」的信访事项，请核对"))
        })?;
        if found == id {
            return Err(invalid("原信访事项不能是本案件自身".to_owned()));
        }
        if replay(&self.case(found)?.events).voided() {
            return Err(invalid(format!("原信访事项「{original}」已作废，请核对")));
        }
        event.target = Some(original.to_owned());
        Ok(())
    }

    /// 异议退回: back to the body that sent it, within the objection window.
    fn check_object(&self, c: &Act<'_>, event: &mut Event) -> Result<()> {
        let case = c.case;
        let replayed = c.replayed;
        let input = c.input;
        let rules = c.rules;
        check_objection(case, replayed, &rules.policies, &rules.calendar, self.today())
            .map_err(OfficeError::Refused)?;
        // Back to the body that sent it: named, or the referral's source.
        let to = input.target.as_deref().map(str::trim).filter(|t| !t.is_empty());
        event.target =
            to.map(str::to_owned).or_else(|| case.first_source().map(|s| s.label().to_owned()));
        Ok(())
    }

    /// 延期: a later deadline the law allows, with the reason the petitioner is told.
    fn check_extend(&self, c: &Act<'_>, event: &mut Event) -> Result<()> {
        let case = c.case;
        let replayed = c.replayed;
        let input = c.input;
        let rules = c.rules;
        let text = &c.text;
        let due = input
            .due
            .ok_or_else(|| OfficeError::invalid("due", "延期至", "请写明延长后的办理期限"))?;
        if text.is_none() {
            return Err(OfficeError::invalid("text", "延期理由", "延期须告知信访人理由，请写明"));
        }
        let extended =
            check_extension(case, replayed, &rules.policies, &rules.calendar, self.today(), due)
                .map_err(|m| OfficeError::invalid("due", "延期至", m))?;
        event.due = Some(extended.date);
        Ok(())
    }

    /// 答复: the reply text (or its draft) and its 处理意见.
    fn check_reply(&self, c: &Act<'_>, event: &mut Event) -> Result<()> {
        let case = c.case;
        let input = c.input;
        let text = &c.text;
        let reply = text.clone().or_else(|| {
            let draft = case.reply_draft.trim();
            (!draft.is_empty()).then(|| draft.to_owned())
        });
        if reply.is_none() {
            return Err(OfficeError::invalid(
                "text",
                "答复内容",
                "请填写答复内容，或先写好答复草稿",
            ));
        }
        // 信访工作条例 §32: the written reply states its 处理意见.
        let outcome = input.outcome.clone().ok_or_else(|| {
            OfficeError::invalid(
                "outcome",
                "处理意见",
                "请选择处理意见：予以支持、解释说明或不予支持",
            )
        })?;
        event.text = reply;
        event.outcome = Some(outcome);
        Ok(())
    }

    /// 送达: to whom, how and when; never before the decision it serves nor after today.
    fn check_deliver(&self, c: &Act<'_>, event: &mut Event) -> Result<()> {
        let replayed = c.replayed;
        let input = c.input;
        let text = &c.text;
        let to = input.target.as_deref().map(str::trim).filter(|t| !t.is_empty());
        let to = to.ok_or_else(|| OfficeError::invalid("to", "受送达人", "请写明受送达人"))?;
        if text.is_none() {
            return Err(OfficeError::invalid(
                "text",
                "送达方式",
                "请写明送达方式，如直接送达、邮寄送达、留置送达",
            ));
        }
        let on = input.date.unwrap_or_else(|| self.today());
        if on > self.today() {
            return Err(OfficeError::invalid(
                "date",
                "送达日期",
                format!("送达日期 {on} 晚于今天，请核对"),
            ));
        }
        let document = input.document_kind.clone().unwrap_or_else(|| document_to_serve(replayed));
        // The decision the document states: its day, what recording it is called, and its day's name.
        let decided = match document {
            DocumentKind::HandlingOpinion => {
                Some((replayed.replied.as_ref().map(|(d, _)| *d), "答复", "答复日期"))
            }
            DocumentKind::ReviewOpinion => Some((
                replayed.review_opinion.as_ref().map(|(d, _)| *d),
                "登记复查意见",
                "意见作出日期",
            )),
            DocumentKind::RecheckOpinion => Some((
                replayed.recheck_opinion.as_ref().map(|(d, _)| *d),
                "登记复核意见",
                "意见作出日期",
            )),
            _ => None,
        };
        if let Some((made, what, day)) = decided {
            let made = made.ok_or_else(|| {
                OfficeError::Refused(format!("案件尚未{what}，没有可送达的{}", document.label()))
            })?;
            if on < made {
                return Err(OfficeError::invalid(
                    "date",
                    "送达日期",
                    format!("送达日期 {on} 早于{day} {made}"),
                ));
            }
        }
        event.target = Some(to.to_owned());
        event.document_kind = Some(document);
        event.date = on;
        Ok(())
    }

    /// 复查 / 复核意见: the body that made it and its conclusion.
    fn check_opinion(&self, c: &Act<'_>, event: &mut Event) -> Result<()> {
        let input = c.input;
        let body = input.target.as_deref().map(str::trim).filter(|t| !t.is_empty());
        let body = body
            .ok_or_else(|| OfficeError::invalid("to", "作出意见的机关", "请写明作出意见的机关"))?;
        let outcome = input.review_outcome.clone().ok_or_else(|| {
            OfficeError::invalid("review_outcome", "结论", "请选择结论：维持、撤销并责令重作或变更")
        })?;
        event.target = Some(body.to_owned());
        event.review_outcome = Some(outcome);
        Ok(())
    }

    /// 申请复查: within the window, or with the reason it is late.
    fn check_review(&self, c: &Act<'_>) -> Result<()> {
        let case = c.case;
        let replayed = c.replayed;
        let rules = c.rules;
        let text = &c.text;
        check_review_request(
            case,
            replayed,
            &rules.policies,
            &rules.calendar,
            self.today(),
            text.as_deref(),
        )
        .map_err(|m| OfficeError::invalid("text", "逾期理由", m))?;
        Ok(())
    }

    /// 满意度评价: the result.
    fn check_evaluate(&self, c: &Act<'_>, event: &mut Event) -> Result<()> {
        let input = c.input;
        let result = input.result.clone().ok_or_else(|| {
            OfficeError::invalid("result", "评价结果", "请选择评价结果：满意、基本满意或不满意")
        })?;
        event.satisfaction = Some(result);
        Ok(())
    }

    /// 办结: the reason, and what the law requires before a case closes for it.
    fn check_close(&self, c: &Act<'_>, event: &mut Event) -> Result<()> {
        let case = c.case;
        let replayed = c.replayed;
        let input = c.input;
        let rules = c.rules;
        let reason = input.reason.clone().unwrap_or(if replayed.replied.is_some() {
            CloseReason::Replied
        } else if replayed.status == Status::NotAccepted || replayed.status == Status::Forwarded {
            CloseReason::StatutoryProcedure
        } else {
            CloseReason::Replied
        });
        close_check(replayed, &reason).map_err(|r| OfficeError::Refused(r.message))?;
        check_close(case, replayed, &rules.policies, &rules.calendar, event.date, &reason)
            .map_err(OfficeError::Refused)?;
        event.close_reason = Some(reason);
        Ok(())
    }
}

/// 督办: a 督办单 says what is demanded and by when the supervised office reports, and names
/// that office: the township assigned, or on a case the bureau handles itself the office it
/// names (a township that does not hold the case could never answer).
fn check_supervise(c: &Act<'_>, today: chrono::NaiveDate, event: &mut Event) -> Result<()> {
    if c.text.is_none() {
        return Err(OfficeError::invalid("text", "督办要求", "请写明督办要求"));
    }
    let due = c.input.due.ok_or_else(|| {
        OfficeError::invalid("due", "反馈期限", "请填写反馈期限：被督办单位须在此日前报告办理情况")
    })?;
    if due < today {
        return Err(OfficeError::invalid("due", "反馈期限", "反馈期限不能早于今天"));
    }
    let named = c.input.target.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let to = match (named, c.replayed.assigned_to.as_deref()) {
        (Some(other), Some(assigned)) if other != assigned => {
            return Err(OfficeError::invalid(
                "to",
                "被督办单位",
                format!(
                    "案件由{assigned}承办，督办单只能发给{assigned}；如需其他单位办理，请先改派"
                ),
            ));
        }
        (_, Some(assigned)) => assigned.to_owned(),
        (Some(named), None) => named.to_owned(),
        (None, None) => {
            return Err(OfficeError::invalid(
                "to",
                "被督办单位",
                "案件未交办乡镇，请写明被督办单位",
            ));
        }
    };
    event.target = Some(to);
    event.due = Some(due);
    Ok(())
}

/// 紧急上报 (信访工作条例 §25): to whom and what was reported, both required.
fn check_report_up(c: &Act<'_>, today: chrono::NaiveDate, event: &mut Event) -> Result<()> {
    let to = c.input.target.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let to = to.ok_or_else(|| {
        OfficeError::invalid("to", "上报对象", "请写明上报对象（如 县委县政府、县信访局）")
    })?;
    if c.text.is_none() {
        return Err(OfficeError::invalid("text", "上报内容", "请写明上报的情况和已采取的措施"));
    }
    // A report phoned up at once and entered later keeps its own day: not before the matter
    // came in, not after today.
    if let Some(on) = c.input.date {
        let first = c.case.received();
        if on > today || first.is_some_and(|f| on < f) {
            return Err(OfficeError::invalid(
                "date",
                "上报日期",
                format!("上报日期 {on} 应在信访日期之后、今天之前，请核对"),
            ));
        }
        event.date = on;
    }
    event.target = Some(to.to_owned());
    Ok(())
}

/// 督办反馈: answers one 督办单 still waiting for its report, with what was done.
fn check_supervise_report(c: &Act<'_>, event: &mut Event) -> Result<()> {
    let open: Vec<&Supervision> = c.replayed.open_supervisions().collect();
    let chosen = match c.input.refers.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        Some(id) => open.iter().find(|s| s.id == id).copied().ok_or_else(|| {
            OfficeError::invalid("refers", "督办单", "所选督办单不存在或已经反馈，请重新选择")
        })?,
        None => match open.as_slice() {
            [] => {
                return Err(OfficeError::Refused("该案件没有待反馈的督办单".to_owned()));
            }
            [only] => only,
            _ => {
                return Err(OfficeError::invalid(
                    "refers",
                    "督办单",
                    format!("该案件有{}份待反馈的督办单，请选择所反馈的一份", open.len()),
                ));
            }
        },
    };
    if c.text.is_none() {
        return Err(OfficeError::invalid("text", "反馈内容", "请写明督办事项的办理情况"));
    }
    event.refers = Some(chosen.id.clone());
    Ok(())
}

/// 回访: how the petitioner was reached and what they said, or that they could not be; their
/// satisfaction when they gave it (kept apart from the 评价 the statistics count).
fn check_follow_up(c: &Act<'_>, event: &mut Event) -> Result<()> {
    let method = c
        .input
        .method
        .clone()
        .ok_or_else(|| OfficeError::invalid("method", "回访方式", "请选择回访方式"))?;
    if c.input.unreachable {
        if c.input.result.is_some() {
            return Err(OfficeError::invalid("result", "回访满意度", "无法回访时不能记录满意度"));
        }
    } else if c.text.is_none() {
        return Err(OfficeError::invalid(
            "text",
            "回访情况",
            "请写明回访情况；联系不上信访人的，请勾选「无法回访」",
        ));
    }
    event.method = Some(method);
    event.unreachable = c.input.unreachable;
    event.satisfaction = c.input.result.clone();
    Ok(())
}
