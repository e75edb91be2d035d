//! `ledger check --deep`: proves that every document of the store loads and reads with the
//! schema, and that every outbox entry is a change that decodes, hashes to its name and belongs
//! to a document here: what `PRAGMA integrity_check` cannot see.

use ledger_domain::CaseId;
use ledger_domain::automerge::Change;
use ledger_domain::schema;
use rusqlite::params;
use serde::Serialize;

use crate::error::Result;
use crate::{DocKind, Store};

/// One thing wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeepProblem {
    /// The case (or roster) concerned.
    pub case_id: Option<CaseId>,
    /// What is wrong, in Chinese.
    pub problem: String,
}

/// What a deep check found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeepCheck {
    /// Documents loaded.
    pub documents: usize,
    /// Outbox entries checked.
    pub outbox: usize,
    /// What is wrong.
    pub problems: Vec<DeepProblem>,
}

impl Store {
    /// Loads and reads every document and checks every outbox entry.
    pub fn check_deep(&self) -> Result<DeepCheck> {
        let mut report = DeepCheck::default();
        let mut after = None;
        loop {
            let docs = self.doc_heads(after, 500)?;
            let Some((case, kind, _)) = docs.last().cloned() else { break };
            after = Some((case, kind));
            for (id, kind, _) in docs {
                report.documents += 1;
                let read = self.with_doc(id, kind, |doc| {
                    let r = match kind {
                        DocKind::Case => schema::read_case(doc).map(|_| ()),
                        DocKind::Identity => schema::read_identity(doc).map(|_| ()),
                        DocKind::Roster => schema::read_roster(doc).map(|_| ()),
                        DocKind::Rules => schema::read_rules(doc).map(|_| ()),
                        DocKind::Work => schema::read_work(doc).map(|_| ()),
                    };
                    // A document still waiting for its first change has nothing to read yet.
                    r.or_else(|e| if doc.get_heads().is_empty() { Ok(()) } else { Err(e) })
                });
                let problem = match read {
                    Ok(Ok(())) => None,
                    Ok(Err(e)) => Some(format!("文档不符合规定：{e}")),
                    Err(e) => Some(format!("文档无法载入：{e}")),
                };
                if let Some(problem) = problem {
                    report.problems.push(DeepProblem { case_id: Some(id), problem });
                }
            }
        }
        let entries: Vec<(i64, String, i64, String, Vec<u8>)> = {
            let conn = self.reader();
            let mut stmt =
                conn.prepare("SELECT seq, case_id, kind, hash, bytes FROM outbox ORDER BY seq")?;
            let rows = stmt.query_map(params![], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for (seq, case, kind, hash, bytes) in entries {
            report.outbox += 1;
            // An id that does not parse is reported below as belonging to no document.
            let id = case.parse::<CaseId>().ok();
            let problem = match Change::from_bytes(bytes) {
                Err(e) => Some(format!("待上传更改 #{seq} 无法解析：{e}")),
                Ok(change) if change.hash().to_string() != hash => {
                    Some(format!("待上传更改 #{seq} 的内容与其哈希不符（已损坏）"))
                }
                Ok(_) => match (id, DocKind::from_code(kind)) {
                    (Some(id), Some(kind)) if self.has_doc(id, kind)? => None,
                    _ => Some(format!("待上传更改 #{seq} 不属于本机的任何文档")),
                },
            };
            if let Some(problem) = problem {
                report.problems.push(DeepProblem { case_id: id, problem });
            }
        }
        Ok(report)
    }
}
