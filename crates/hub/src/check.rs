//! `ledger-hub check`: proves that every stored document loads, reads with the schema, agrees
//! with the scope the hub serves it under, and holds exactly the changes the hub recorded for
//! it (a change acknowledged to an office and served in the log but missing from the document,
//! or one in the document the hub never accepted, is reported); with `quarantine`, sets aside
//! the ones that do not load, so one broken document can never stop the hub or the offices
//! again.

use std::collections::BTreeSet;

use ledger_domain::CaseId;
use ledger_domain::schema;
use ledger_domain::scope::CaseScope;
use ledger_protocol::DocKind;
use serde::Serialize;

use crate::engine::check_doc;
use crate::store::{Commit, HubStore, StoreError};

/// One document that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The case (or roster).
    pub case_id: CaseId,
    /// Which document.
    pub kind: DocKind,
    /// What is wrong, in Chinese.
    pub reason: String,
    /// Whether it was set aside.
    pub set_aside: bool,
}

/// What a check found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Documents checked.
    pub documents: usize,
    /// Documents that failed.
    pub problems: Vec<Problem>,
}

/// Loads and reads every document and compares its changes with the hub's records of them;
/// with `quarantine`, sets aside those that fail to load or read, and rewrites a scope record
/// that disagrees with its document (the document is right). A document whose changes disagree
/// with the records is only reported: which side is right is for the county to decide.
pub fn check(store: &dyn HubStore, quarantine: bool, now: i64) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let mut after = None;
    loop {
        let docs = store.all_docs(after, 500)?;
        let Some(last) = docs.last().copied() else { break };
        after = Some(last);
        for (case, kind) in docs {
            report.documents += 1;
            // A case stored under a work record's kind of id (an older hub took any id for a
            // case) is served as neither: the county decides what it is.
            let work_id = ledger_protocol::is_work_id(&case.0);
            if work_id != (kind == DocKind::Work) {
                let reason = format!(
                    "文档的标识与其种类不符：{}文档使用了{}的标识，县局不会发送它；请核查该文档",
                    doc_kind_label(kind),
                    if work_id { "工作记录" } else { "案件" }
                );
                tracing::error!(case = %case, ?kind, %reason, "document id does not fit its kind");
                report.problems.push(Problem { case_id: case, kind, reason, set_aside: false });
            }
            let loaded = match store.doc(case, kind) {
                Ok(Some((snapshot, tail))) => check_doc(kind, &snapshot, tail),
                Ok(None) => continue,
                Err(StoreError::Damaged(e)) => Err(e),
                Err(e) => return Err(e),
            };
            match loaded {
                Err(e) => {
                    let reason = format!("文档无法载入或读取：{e}");
                    if quarantine {
                        store.set_aside(case, kind, &reason, now)?;
                    }
                    tracing::error!(case = %case, ?kind, %reason, "document check failed");
                    report.problems.push(Problem {
                        case_id: case,
                        kind,
                        reason,
                        set_aside: quarantine,
                    });
                }
                Ok(doc) => {
                    if let Some((reason, scope)) = scope_mismatch(store, case, kind, &doc)? {
                        if quarantine && let Some(scope) = scope {
                            store.commit(&Commit {
                                cases: vec![(case, scope, None)],
                                ..Commit::default()
                            })?;
                        }
                        tracing::error!(case = %case, ?kind, %reason, "scope record disagrees");
                        report.problems.push(Problem {
                            case_id: case,
                            kind,
                            reason,
                            set_aside: false,
                        });
                    }
                    if let Some(reason) = changes_mismatch(store, case, kind, &doc)? {
                        tracing::error!(case = %case, ?kind, %reason, "document disagrees with the change log");
                        report.problems.push(Problem {
                            case_id: case,
                            kind,
                            reason,
                            set_aside: false,
                        });
                    }
                }
            }
        }
    }
    Ok(report)
}

/// Whether a document's changes differ from the ones the hub recorded for it: a change the hub
/// accepted (acknowledged to its office, served in the log) that the document lacks, or a change
/// in the document the hub has no record of.
fn changes_mismatch(
    store: &dyn HubStore,
    case: CaseId,
    kind: DocKind,
    doc: &ledger_domain::automerge::Automerge,
) -> Result<Option<String>, StoreError> {
    let recorded: BTreeSet<String> = store.doc_change_hashes(case, kind)?.into_iter().collect();
    let held: BTreeSet<String> =
        doc.get_changes_meta(&[]).iter().map(|c| c.hash.to_string()).collect();
    let missing: Vec<&String> = recorded.difference(&held).collect();
    let unrecorded: Vec<&String> = held.difference(&recorded).collect();
    let mut parts = Vec::new();
    if let Some(first) = missing.first() {
        parts.push(format!("县局已接受的 {} 条更改不在文档中（如 {first}）", missing.len()));
    }
    if let Some(first) = unrecorded.first() {
        parts.push(format!("文档中有 {} 条更改县局没有接受记录（如 {first}）", unrecorded.len()));
    }
    Ok((!parts.is_empty()).then(|| format!("文档与县局的更改记录不符：{}", parts.join("；"))))
}

/// Whether the scope the hub keeps for a case differs from what its document says; with the
/// scope the document gives, to write back.
fn scope_mismatch(
    store: &dyn HubStore,
    case: CaseId,
    kind: DocKind,
    doc: &ledger_domain::automerge::Automerge,
) -> Result<Option<(String, Option<CaseScope>)>, StoreError> {
    let kept = store.case_scope(case)?;
    let expected = match kind {
        DocKind::Case => schema::read_case(doc).ok().map(|c| CaseScope {
            township: c.jurisdiction.clone(),
            registrar: c.registered_by.clone(),
            restricted: c.identity_restricted(),
        }),
        DocKind::Roster => schema::read_roster(doc).ok().map(|r| CaseScope {
            township: None,
            registrar: r.office,
            restricted: false,
        }),
        DocKind::Rules => schema::read_rules(doc).ok().map(|_| CaseScope::default()),
        DocKind::Work => schema::read_work(doc).ok().map(|r| CaseScope {
            township: None,
            registrar: r.office,
            restricted: false,
        }),
        DocKind::Identity => {
            return Ok(kept.is_none().then(|| ("身份文档没有对应的案件".to_owned(), None)));
        }
    };
    Ok(match (kept, expected) {
        (Some(k), Some(e)) if k != e => Some((
            format!(
                "县局记录的可见范围与文档不符（记录：{:?}/{}/{}，文档：{:?}/{}/{}）",
                k.township, k.registrar, k.restricted, e.township, e.registrar, e.restricted
            ),
            Some(e),
        )),
        (None, e) => Some(("文档没有可见范围记录".to_owned(), e)),
        _ => None,
    })
}

/// What a kind of document is called, for the county's reports.
pub fn doc_kind_label(kind: DocKind) -> &'static str {
    match kind {
        DocKind::Case => "案件",
        DocKind::Identity => "信访人身份",
        DocKind::Roster => "人员名单",
        DocKind::Rules => "全县规则",
        DocKind::Work => "工作记录",
    }
}
