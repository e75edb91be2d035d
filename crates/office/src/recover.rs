//! 恢复被拒收的更改: after the hub refused changes to a case (a corrupted outbox entry, a clerk
//! working past a rule, a device that was tampered with), `ledger repair` fetches the case whole
//! from the hub, replaces this office's copy with it under a new Automerge actor (Automerge
//! refuses a reused sequence number for ever), records again on top the actions this office
//! had taken that the hub does not hold, through the same rules as any new action, and lists
//! what could not be redone.

use std::collections::BTreeSet;

use ledger_domain::automerge::{Automerge, ROOT, ReadDoc, ScalarValue, Value};
use ledger_domain::schema::{self, CaseField, Draft};
use ledger_domain::{ActionKind, CaseId, Event};
use ledger_store::DocKind;
use serde::{Deserialize, Serialize};

use crate::Office;
use crate::cases::ActionInput;
use crate::error::Result;

/// The fields an office edits after registration, which recovery sets again.
const EDITABLE: [CaseField; 7] = [
    CaseField::Purpose,
    CaseField::Sector,
    CaseField::Category,
    CaseField::Subject,
    CaseField::Request,
    CaseField::Village,
    CaseField::Confidential,
];

/// What the last recovery did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct RecoveryReport {
    /// Cases replaced with the hub's copy.
    pub cases: usize,
    /// Actions recorded again, in words.
    pub redone: Vec<String>,
    /// What could not be redone, and why, in words.
    pub unrecoverable: Vec<String>,
}

impl Office {
    /// Starts recovering every case with refused changes: mints a new actor and asks the hub
    /// for those cases whole; the next sync replaces them and records this office's actions
    /// again. Returns how many cases.
    pub fn begin_recovery(&self) -> Result<usize> {
        let cases: BTreeSet<CaseId> = self.store.quarantined()?.iter().map(|q| q.case_id).collect();
        if cases.is_empty() {
            return Ok(0);
        }
        self.store.rotate_actor()?;
        self.mark_for_reset(&cases)?;
        tracing::info!(cases = cases.len(), "recovering cases with refused changes");
        Ok(cases.len())
    }

    /// What the last recovery did; reading it clears it.
    pub fn take_recovery_report(&self) -> Result<RecoveryReport> {
        let report = self.recovery_report()?;
        self.clear_recovery_report()?;
        Ok(report)
    }

    /// Replaces one document of a case being recovered with the hub's copy; for the case
    /// document, records this office's missing actions again.
    pub(crate) fn reset_doc(
        &self,
        id: CaseId,
        kind: DocKind,
        saved: &[u8],
        report: &mut RecoveryReport,
    ) -> Result<()> {
        let before = self.store.replace_doc(id, kind, saved)?;
        if kind != DocKind::Case {
            return Ok(());
        }
        report.cases += 1;
        let Some(old) = before else { return Ok(()) };
        self.redo_missing(id, &old, report)
    }

    fn redo_missing(&self, id: CaseId, old: &Automerge, report: &mut RecoveryReport) -> Result<()> {
        let label = self.case_label(id);
        let Ok(old_case) = schema::read_case(old) else {
            report.unrecoverable.push(format!("案件 {label}：本机原记录已无法读取，未能重做"));
            return Ok(());
        };
        let hub_case = match self.store.load_case(id) {
            Ok(case) => case,
            // The hub's copy does not read here (a hostile hub): nothing to redo onto; the
            // page goes on and the case is named.
            Err(e @ ledger_store::StoreError::Document { .. }) => {
                report
                    .unrecoverable
                    .push(format!("案件 {label}：县局的记录本机无法读取，未能重做（{e}）"));
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let known: BTreeSet<&str> = hub_case.events.iter().map(|e| e.id.as_str()).collect();
        let code = self.cfg().code.clone();
        let mut mine: Vec<&Event> = old_case
            .events
            .iter()
            .filter(|e| e.office == code && !known.contains(e.id.as_str()))
            .filter(|e| e.action != ActionKind::Register)
            .collect();
        mine.sort_by(|a, b| a.order().cmp(&b.order()));
        for event in mine {
            let what =
                format!("案件 {label}「{}」（原记录日期 {}）", event.action.label(), event.date);
            let signed = match self.handler(Some(&event.handler)) {
                Ok(_) => String::new(),
                Err(_) => {
                    format!("，原办理人「{}」已不在人员名单中，改由默认办理人署名", event.handler)
                }
            };
            match self.redo(id, event) {
                Ok(()) => report.redone.push(format!("{what}已于今天重新记录{signed}")),
                Err(reason) => report.unrecoverable.push(format!("{what}未能重做：{reason}")),
            }
        }
        self.redo_fields(id, old, &label, report)?;
        let known_att: BTreeSet<&str> =
            hub_case.attachments.iter().map(|a| a.hash.as_str()).collect();
        for a in old_case.attachments.iter().filter(|a| a.added_by == code) {
            if known_att.contains(a.hash.as_str()) {
                continue;
            }
            let what = format!("案件 {label} 的附件「{}」", a.name);
            match self.store.blob(&a.hash)? {
                Some(bytes) => match self.attach(id, &a.name, &bytes, &a.mime) {
                    Ok(_) => report.redone.push(format!("{what}已重新添加")),
                    Err(e) => report.unrecoverable.push(format!("{what}未能重新添加：{e}")),
                },
                None => report.unrecoverable.push(format!("{what}在本机已找不到，请重新添加")),
            }
        }
        for (draft, name, old_text, hub_text) in [
            (Draft::Reply, "答复草稿", &old_case.reply_draft, &hub_case.reply_draft),
            (
                Draft::Investigation,
                "调查报告",
                &old_case.investigation_report,
                &hub_case.investigation_report,
            ),
        ] {
            if old_text != hub_text && !old_text.is_empty() {
                match self.set_draft(id, draft, old_text) {
                    Ok(()) => {
                        report.redone.push(format!("案件 {label} 的{name}已恢复为本机的版本"))
                    }
                    Err(e) => {
                        report.unrecoverable.push(format!("案件 {label} 的{name}未能恢复：{e}"))
                    }
                }
            }
        }
        let subs: BTreeSet<&str> = hub_case.submissions.iter().map(|s| s.id.as_str()).collect();
        for s in old_case.submissions.iter().filter(|s| !subs.contains(s.id.as_str())) {
            if s.registered_by == code {
                report.unrecoverable.push(format!(
                    "案件 {label}：{} 收到的信访件未能上传，请重新登记该次来信来访",
                    s.received
                ));
            }
        }
        Ok(())
    }

    /// Sets again the fields whose value here came from a change the hub does not hold (only
    /// this office's own lost edits: everything else here came from the hub).
    fn redo_fields(
        &self,
        id: CaseId,
        old: &Automerge,
        label: &str,
        report: &mut RecoveryReport,
    ) -> Result<()> {
        let hub_ids: Vec<(CaseField, Vec<String>)> =
            self.store.with_doc(id, DocKind::Case, |hub| {
                EDITABLE
                    .iter()
                    .map(|f| {
                        let ids = hub
                            .get_all(ROOT, f.code())
                            .map(|all| all.into_iter().map(|(_, i)| i.to_string()).collect())
                            .unwrap_or_default();
                        (f.clone(), ids)
                    })
                    .collect()
            })?;
        for (field, hub) in hub_ids {
            let Ok(mut values) = old.get_all(ROOT, field.code()) else { continue };
            let Some((value, winner)) = values.pop() else { continue };
            if hub.contains(&winner.to_string()) {
                continue;
            }
            let text = match value {
                Value::Scalar(s) => match s.as_ref() {
                    ScalarValue::Str(t) => t.to_string(),
                    ScalarValue::Boolean(b) => if *b { "是" } else { "否" }.to_owned(),
                    _ => continue,
                },
                Value::Object(_) => continue,
            };
            let what = format!("案件 {label} 的「{}」", field.label());
            match self.set_field(id, &field, &text) {
                Ok(()) => report.redone.push(format!("{what}已恢复为「{text}」")),
                Err(e) => report.unrecoverable.push(format!("{what}未能恢复：{e}")),
            }
        }
        Ok(())
    }

    /// Records one of this office's actions again, through the same rules as a new one.
    fn redo(&self, id: CaseId, e: &Event) -> std::result::Result<(), String> {
        // Someone since gone from the staff list: the redo is recorded by the default handler.
        let handler = self.handler(Some(&e.handler)).ok();
        let result = match &e.action {
            ActionKind::ResolveConflict => {
                let field = CaseField::from_code(e.field.as_deref().unwrap_or_default());
                self.resolve_conflict(
                    id,
                    &field,
                    e.text.as_deref().unwrap_or_default(),
                    handler.as_deref(),
                )
            }
            ActionKind::IssueDocument => {
                return Err("文书须重新出具".to_owned());
            }
            action => {
                let input = ActionInput {
                    action: Some(action.clone()),
                    target: e.target.clone(),
                    due: e.due,
                    text: e.text.clone(),
                    result: e.satisfaction.clone(),
                    reason: e.close_reason.clone(),
                    outcome: e.outcome.clone(),
                    document_kind: e.document_kind.clone(),
                    // A 送达 keeps the day the document was received; others are redone today.
                    date: (*action == ActionKind::Deliver).then_some(e.date),
                    review_outcome: e.review_outcome.clone(),
                    track: e.track.clone(),
                    handler,
                    refers: e.refers.clone(),
                    method: e.method.clone(),
                    unreachable: e.unreachable,
                };
                self.act(id, &input).map(|_| ())
            }
        };
        result.map_err(|err| err.to_string())
    }

    /// A case's human number, if it is here.
    pub fn case_number(&self, id: CaseId) -> Option<String> {
        self.store.row(id).ok().flatten().map(|r| r.number)
    }

    /// Identity drops still waiting to reach the bureau.
    pub fn identities_to_deliver(&self) -> Result<usize> {
        Ok(self.store.pending_drops(usize::MAX)?.len())
    }

    /// A case's number for messages, or its id.
    pub(crate) fn case_label(&self, id: CaseId) -> String {
        match self.store.row(id) {
            Ok(Some(row)) => row.number,
            _ => id.to_string(),
        }
    }
}
