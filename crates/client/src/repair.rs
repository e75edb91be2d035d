//! Repair: compare per-document heads digests with the hub, then run Automerge's own sync
//! protocol only for the documents that differ, and fetch whole the ones the office lacks.
//! Needed after a restore from backup: the change feed never re-sends a device its own changes,
//! so whatever this device wrote after the backup comes back only this way.

use std::sync::Arc;

use ledger_protocol::{DocKind, RepairRequest, RepairSync};
use uuid::Uuid;

use crate::hub_client::{ClientError, HubClient};
use crate::target::{Binding, SyncTarget, TargetErrorKind};

/// Digests per request.
const DIGESTS_PER_REQUEST: usize = 2000;
/// Sync-protocol rounds per document before giving up on it for now.
const MAX_ROUNDS: usize = 24;
/// Documents in a row the hub refuses before the run ends: past this, it is the hub (or what
/// stands in front of it) refusing everything, not one document.
const MAX_REFUSED_IN_A_ROW: usize = 3;

/// How one document's repair ended.
enum Outcome {
    /// The office holds the hub's heads.
    Settled,
    /// Not yet (rounds used up, or the hub's answer did not read here).
    Unsettled,
    /// The hub refused this document's step.
    Refused(ClientError),
}

/// What a repair found and did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RepairReport {
    /// Documents compared.
    pub compared: usize,
    /// Documents whose heads differed and were synced.
    pub differ: usize,
    /// Documents the office lacked, now to be fetched whole.
    pub missing: usize,
    /// Sync-protocol messages exchanged.
    pub messages: usize,
    /// Differing documents that did not reach the hub's heads; repair stays due.
    pub unsettled: usize,
}

fn local(e: crate::target::TargetError) -> ClientError {
    e.into()
}

/// Runs a repair against the hub.
pub async fn repair(
    client: &HubClient,
    target: &Arc<dyn SyncTarget>,
) -> Result<RepairReport, ClientError> {
    let binding = target.binding().map_err(local)?.ok_or(ClientError::NotEnrolled)?;
    let mut report = RepairReport::default();
    let mut differ = Vec::new();
    let mut missing = Vec::new();
    let mut after = None;
    loop {
        let digests = target.digests(after, DIGESTS_PER_REQUEST).map_err(local)?;
        let last = digests.len() < DIGESTS_PER_REQUEST;
        report.compared += digests.len();
        let next = digests.last().map(|d| (d.case_id, d.kind));
        let req = RepairRequest { after, digests, last };
        let response = client.repair_digests(&binding.hub, &binding.credential, &req).await?;
        differ.extend(response.differ);
        missing.extend(response.missing);
        if last {
            break;
        }
        after = next;
    }
    let mut refused_in_a_row = 0;
    for &(case, kind) in &differ {
        match repair_document(client, target, &binding, case, kind, &mut report).await? {
            Outcome::Settled => refused_in_a_row = 0,
            Outcome::Unsettled => {
                refused_in_a_row = 0;
                report.unsettled += 1;
                tracing::warn!(%case, ?kind, "repair did not reach the hub's heads; will retry");
            }
            Outcome::Refused(e) => {
                refused_in_a_row += 1;
                if refused_in_a_row >= MAX_REFUSED_IN_A_ROW {
                    return Err(e);
                }
                tracing::warn!(%case, ?kind, error = %e, "the hub did not repair this document");
                target.repair_refused(case, kind, &e).map_err(local)?;
                report.unsettled += 1;
            }
        }
    }
    report.differ = differ.len();
    report.missing = missing.len();
    target.repair_finished(&missing, &report).map_err(local)?;
    tracing::info!(?report, "repair finished");
    Ok(report)
}

/// Runs the sync protocol on one document.
async fn repair_document(
    client: &HubClient,
    target: &Arc<dyn SyncTarget>,
    binding: &Binding,
    case: Uuid,
    kind: DocKind,
    report: &mut RepairReport,
) -> Result<Outcome, ClientError> {
    let mut state = Vec::new();
    let mut incoming: Option<Vec<u8>> = None;
    for _ in 0..MAX_ROUNDS {
        let message = match target.repair_step(case, kind, &mut state, incoming.as_deref()) {
            Ok(Some(message)) => message,
            Ok(None) => return Ok(Outcome::Settled),
            // What the hub answered for this document does not read here (the office has
            // named it): this one stays unsettled, the others are still repaired.
            Err(e) if e.kind == TargetErrorKind::Unreadable => {
                tracing::warn!(%case, ?kind, error = %e, "the hub's repair answer does not read");
                return Ok(Outcome::Unsettled);
            }
            Err(e) => return Err(local(e)),
        };
        report.messages += 1;
        let asked = RepairSync { case_id: case, kind, message };
        let reply = match client.repair_sync(&binding.hub, &binding.credential, &asked).await {
            Ok(reply) => reply,
            // The hub refused this one document: out of this office's scope since the digests
            // (its refusal names the case), or a message it could not apply. It stays
            // unsettled and the others are still repaired, unless the refusals go on (see
            // `MAX_REFUSED_IN_A_ROW`). A refusal that names no case (a proxy's page), an answer
            // that does not decode, the link, the credential or a failing hub end the run.
            Err(ClientError::Refused(refused)) if refused.iter().any(|r| r.case_id == case) => {
                return Ok(Outcome::Refused(ClientError::Refused(refused)));
            }
            Err(e @ ClientError::BadRequest(_)) => return Ok(Outcome::Refused(e)),
            Err(e) => return Err(e),
        };
        match reply.message {
            Some(m) => incoming = Some(m),
            // The hub does not hold the document: nothing to fetch from it.
            None => return Ok(Outcome::Settled),
        }
    }
    Ok(Outcome::Unsettled)
}
