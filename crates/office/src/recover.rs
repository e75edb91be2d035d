//! 恢复被拒收的更改: after the hub refused changes to a case (a corrupted outbox entry, a clerk
//! working past a rule, a device that was tampered with), `ledger repair` fetches the case whole
//! from the hub, replaces this office's copy with it under a new Automerge actor (Automerge
//! refuses a reused sequence number for ever), records again on top the actions this office
//! had taken that the hub does not hold, through the same rules as any new action, and lists
//! what could not be redone.

use std::collections::BTreeSet;

use ledger_domain::automerge::Automerge;
use ledger_domain::schema::{self, CaseField};
use ledger_domain::{ActionKind, CaseId, Event};
use ledger_store::DocKind;
use serde::{Deserialize, Serialize};

use crate::Office;
use crate::cases::ActionInput;
use crate::error::Result;

/// What the last recovery did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
        let hub_case = self.store.load_case(id)?;
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
            let what = format!("案件 {label}「{}」", event.action.label());
            match self.redo(id, event) {
                Ok(()) => report.redone.push(format!("{what}已重新记录")),
                Err(reason) => report.unrecoverable.push(format!("{what}未能重做：{reason}")),
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

    /// Records one of this office's actions again, through the same rules as a new one.
    fn redo(&self, id: CaseId, e: &Event) -> std::result::Result<(), String> {
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
                    handler,
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
