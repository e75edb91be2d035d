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
    for (case, kind) in &differ {
        if !repair_document(client, target, &binding, *case, *kind, &mut report).await? {
            report.unsettled += 1;
            tracing::warn!(%case, ?kind, "repair did not reach the hub's heads; will retry");
        }
    }
    report.differ = differ.len();
    report.missing = missing.len();
    target.repair_finished(&missing, &report).map_err(local)?;
    tracing::info!(?report, "repair finished");
    Ok(report)
}

/// Runs the sync protocol on one document; whether the office ended holding the hub's heads.
async fn repair_document(
    client: &HubClient,
    target: &Arc<dyn SyncTarget>,
    binding: &Binding,
    case: Uuid,
    kind: DocKind,
    report: &mut RepairReport,
) -> Result<bool, ClientError> {
    let mut state = Vec::new();
    let mut incoming: Option<Vec<u8>> = None;
    for _ in 0..MAX_ROUNDS {
        let message = match target.repair_step(case, kind, &mut state, incoming.as_deref()) {
            Ok(Some(message)) => message,
            Ok(None) => return Ok(true),
            // What the hub answered for this document does not read here (the office has
            // named it): this one stays unsettled, the others are still repaired.
            Err(e) if e.kind == TargetErrorKind::Unreadable => {
                tracing::warn!(%case, ?kind, error = %e, "the hub's repair answer does not read");
                return Ok(false);
            }
            Err(e) => return Err(local(e)),
        };
        report.messages += 1;
        let asked = RepairSync { case_id: case, kind, message };
        let reply = match client.repair_sync(&binding.hub, &binding.credential, &asked).await {
            Ok(reply) => reply,
            // The hub refused this one document (out of this office's scope since the digests,
            // or a message it could not apply) or answered with bytes that do not read: it
            // stays unsettled and the others are still repaired. The link, the credential or a
            // busy or failing hub end the run.
            Err(
                e @ (ClientError::Refused(_) | ClientError::BadRequest(_) | ClientError::Decode(_)),
            ) => {
                tracing::warn!(%case, ?kind, error = %e, "the hub did not repair this document");
                target.repair_refused(case, kind, &e).map_err(local)?;
                return Ok(false);
            }
            Err(e) => return Err(e),
        };
        match reply.message {
            Some(m) => incoming = Some(m),
            // The hub does not hold the document: nothing to fetch from it.
            None => return Ok(true),
        }
    }
    Ok(false)
}
