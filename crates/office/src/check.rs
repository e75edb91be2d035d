//! `ledger check --deep`: the store's own deep check (every document loads and reads, every
//! outbox entry decodes and hashes right), plus every change still waiting for the hub judged
//! by the same rules the hub applies (`ledger_domain::validate`), so a change the hub will
//! refuse is found before it is sent.

use chrono::NaiveDate;
use ledger_domain::automerge::{Automerge, Change};
use ledger_domain::model::{Roster, StaffEntry};
use ledger_domain::schema;
use ledger_domain::validate::{self, Caller, DocClass, Input, Known, Limits};
use ledger_store::{DeepCheck, DeepProblem, DocKind};

use crate::Office;
use crate::error::Result;

/// What `ledger check` found.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// SQLite's own integrity check of the store file: `ok`, or what is damaged.
    pub integrity: String,
    /// Cases in the ledger.
    pub cases: u64,
    /// Local changes waiting to go up to the hub.
    pub pending: u64,
    /// The deep check ([`Office::check_deep`]) when asked for and the file is intact.
    pub deep: Option<DeepCheck>,
}

impl CheckReport {
    /// Whether the store file passed SQLite's integrity check.
    pub fn intact(&self) -> bool {
        self.integrity == "ok"
    }
}

impl Office {
    /// Checks the store: SQLite's integrity check, the counts, and with `deep` (only on an
    /// intact file: a damaged one is restored from a backup first) [`Office::check_deep`].
    pub fn check(&self, deep: bool) -> Result<CheckReport> {
        let integrity = self.integrity_check()?;
        let cases = self.case_count()?;
        let pending = self.pending_changes()?;
        let mut report = CheckReport { integrity, cases, pending, deep: None };
        if deep && report.intact() {
            report.deep = Some(self.check_deep()?);
        }
        Ok(report)
    }

    /// Loads and reads every document, checks the outbox, and judges every change waiting
    /// for the hub as the hub would.
    pub fn check_deep(&self) -> Result<DeepCheck> {
        let mut report = self.store.check_deep()?;
        let cfg = self.config();
        // Before the first sync the hub's roster of this office is not here yet; the staff list
        // it will be made from stands in, so a new or stand-alone office is judged too. A roster
        // that does not load is one of the store's own findings above, so dropping it is right.
        let roster = self
            .store
            .with_doc(self.roster_key(), DocKind::Roster, schema::read_roster)
            .ok()
            .and_then(|r| r.ok())
            .unwrap_or_else(|| Roster {
                office: cfg.code.clone(),
                staff: cfg
                    .staff
                    .iter()
                    .map(|name| StaffEntry {
                        name: name.clone(),
                        added: NaiveDate::MIN,
                        left: None,
                    })
                    .collect(),
            });
        for entry in self.store.outbox_batch(usize::MAX, usize::MAX)? {
            let Ok(change) = Change::from_bytes(entry.bytes.clone()) else { continue };
            let before = self.store.with_doc(entry.case_id, entry.kind, |doc| {
                doc.fork_at(change.deps()).unwrap_or_else(|_| Automerge::new())
            });
            // A change or document that does not load is one of the store's findings already.
            let Ok(before) = before else { continue };
            let case_doc = match entry.kind {
                DocKind::Identity => {
                    self.store.with_doc(entry.case_id, DocKind::Case, Clone::clone).ok()
                }
                _ => None,
            };
            let actors = [change.actor_id().to_hex_string()];
            let input = Input {
                caller: Caller {
                    office: &cfg.code,
                    role: &cfg.role,
                    townships: &cfg.townships,
                    actors: &actors,
                },
                class: match entry.kind {
                    DocKind::Case => DocClass::Case,
                    DocKind::Identity => DocClass::Identity,
                    DocKind::Roster => DocClass::Roster,
                    DocKind::Rules => DocClass::Rules,
                    DocKind::Work => DocClass::Work,
                },
                doc_id: entry.case_id.0,
                case_doc: case_doc.as_ref(),
                roster: Some(&roster),
                limits: Limits::default(),
                known: Known::default(),
            };
            // The rules never panic by design; a panic inside Automerge is still one finding.
            let verdict = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                validate::judge(&input, &before, &entry.bytes, None).map(|_| ())
            }));
            let reason = match verdict {
                Ok(Ok(())) => continue,
                Ok(Err(refusal)) => refusal.reason,
                Err(_) => "更改无法处理".to_owned(),
            };
            report.problems.push(DeepProblem {
                case_id: Some(entry.case_id),
                problem: format!(
                    "待上传更改 #{} 将被县局拒收：{reason}（可运行 ledger repair 恢复）",
                    entry.seq
                ),
            });
        }
        Ok(report)
    }
}
