//! `SyncTarget`: what the client needs from the office's replica, and nothing more. The office
//! builds each request from its outbox and cursor and applies each response durably; the client
//! only moves bytes and decides when to try again.

use ledger_protocol::{DocDigest, DocKind, SyncRequest, SyncResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why the office side failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct TargetError {
    /// Which kind of failure: it decides what the status tells a person to do.
    pub kind: TargetErrorKind,
    /// What went wrong, in words.
    pub message: String,
}

/// The kinds of office failure the sync status tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetErrorKind {
    /// The store failed: a person has to look (`ledger check`).
    Local,
    /// The office's place in the hub's log does not read back: restarting the sync from the
    /// beginning is the way back (nothing local is lost).
    SyncPositionDamaged,
    /// What the hub sent for one document does not read here (damaged, or a hostile hub): the
    /// office has named it for a person; that document is skipped and the rest goes on.
    Unreadable,
}

impl From<TargetError> for crate::ClientError {
    fn from(e: TargetError) -> Self {
        match e.kind {
            TargetErrorKind::Local => Self::Local(e.message),
            TargetErrorKind::SyncPositionDamaged => Self::SyncPositionDamaged(e.message),
            TargetErrorKind::Unreadable => Self::Decode(e.message),
        }
    }
}

/// Where and as whom to sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The hub's base URL (`http://10.0.0.5:8750`).
    pub hub: String,
    /// This device's credential.
    pub credential: String,
}

/// What applying one response did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Local changes the hub acknowledged.
    pub uploaded: usize,
    /// Records applied from the page.
    pub downloaded: usize,
    /// Local changes still waiting.
    pub outbox_left: u64,
    /// Something still needs another exchange (cases to fetch whole, evictions to confirm,
    /// attachments to move).
    pub wants_more: bool,
}

/// What the office shows about sync. Every field has a default, so a status written by an
/// older release (fewer fields) still reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct SyncStatus {
    /// Last sync that completed (device time, ms).
    pub last_success: Option<i64>,
    /// Last attempt (device time, ms).
    pub last_attempt: Option<i64>,
    /// Local changes waiting to go up.
    pub pending: u64,
    /// Changes the hub refused (quarantined).
    pub quarantined: u64,
    /// The last error's code (`offline`, `timeout`, `unauthorized` ...), cleared by a success.
    pub last_error: Option<String>,
    /// Its technical detail.
    pub last_error_detail: Option<String>,
    /// This device's clock minus the hub's (ms), as of the last exchange.
    pub clock_skew_ms: Option<i64>,
    /// Whether the last attempt reached the hub.
    pub online: bool,
    /// Whether a sync is running now.
    pub syncing: bool,
    /// Records received so far in the running sync (the first sync's progress).
    pub pass_downloaded: u64,
    /// Changes acknowledged so far in the running sync.
    pub pass_uploaded: u64,
    /// What sync skipped here for a person to look at (something the hub sent that does not
    /// read at this office), until the clerk has looked at it.
    pub unresolved: u64,
}

/// What the header says about sync (the one place this is decided; every screen shows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// Enrolled, never synced, and the first sync is on its way or running: the ledger fills
    /// from the hub (正在首次同步).
    FirstSync,
    /// A sync is running and the link answers (正在同步).
    Syncing,
    /// The last attempt did not reach the hub, or the hub stopped answering (离线).
    Offline,
    /// The hub answered with an error a person must look at, or something it sent was
    /// skipped here and waits to be looked at (同步出错).
    Failed,
    /// Reachable, with local changes waiting (待上传).
    Pending,
    /// Everything is up (已同步).
    Synced,
}

impl SyncStatus {
    /// The state the header shows. An unreachable hub is 离线 even while retries run, so a
    /// dead link never reads as 正在同步 for ever.
    pub fn state(&self) -> SyncState {
        let attempted = self.last_attempt.is_some();
        if attempted && !self.online {
            return SyncState::Offline;
        }
        if self.last_success.is_none() && (self.syncing || !attempted) {
            return SyncState::FirstSync;
        }
        if self.syncing {
            return SyncState::Syncing;
        }
        if self.last_error.is_some() || self.unresolved > 0 {
            return SyncState::Failed;
        }
        if self.pending > 0 {
            return SyncState::Pending;
        }
        SyncState::Synced
    }
}

/// The office side of sync.
pub trait SyncTarget: Send + Sync + 'static {
    /// The hub and credential, if this office is enrolled.
    fn binding(&self) -> Result<Option<Binding>, TargetError>;
    /// The next request, its upload batch within `budget` bytes.
    fn prepare(&self, budget: u32) -> Result<SyncRequest, TargetError>;
    /// Applies a response durably: acknowledgements and refusals (refused changes, and later
    /// ones to the same documents, go to quarantine), the page, then the cursor.
    fn apply(&self, request: &SyncRequest, response: &SyncResponse)
    -> Result<Applied, TargetError>;
    /// Stores the status for the UI.
    fn save_status(&self, status: &SyncStatus) -> Result<(), TargetError>;
    /// The stored status.
    fn load_status(&self) -> Result<SyncStatus, TargetError>;
    /// Now, by the office's clock (ms).
    fn now(&self) -> i64;

    /// Whether the replica should be compared with the hub (after a restore from backup, or
    /// when a case stayed incomplete after being fetched whole).
    fn needs_repair(&self) -> bool;
    /// The digests of the documents after `after`, in (case, kind) order, at most `limit`.
    fn digests(
        &self,
        after: Option<(Uuid, DocKind)>,
        limit: usize,
    ) -> Result<Vec<DocDigest>, TargetError>;
    /// One step of Automerge's sync protocol on a document: applies the hub's `incoming`
    /// message (if any) durably, then returns the next message to send, or none once the
    /// office holds every head the hub announced. `state` carries what the next step needs.
    fn repair_step(
        &self,
        case: Uuid,
        kind: DocKind,
        state: &mut Vec<u8>,
        incoming: Option<&[u8]>,
    ) -> Result<Option<Vec<u8>>, TargetError>;
    /// The hub would not repair this document (`answer`: it refused the step, or what it
    /// sent does not decode); it stays unsettled and the run goes on. The office tells a person.
    fn repair_refused(
        &self,
        case: Uuid,
        kind: DocKind,
        answer: &crate::ClientError,
    ) -> Result<(), TargetError>;
    /// Repair is over: documents the office lacks are to be fetched whole. Unless every
    /// differing document reached the hub's heads (`report.unsettled` is 0), repair stays due.
    /// The office keeps `report` to tell whoever asked for the repair what it found.
    fn repair_finished(
        &self,
        missing: &[(Uuid, DocKind)],
        report: &crate::RepairReport,
    ) -> Result<(), TargetError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_state_never_hides_a_dead_link_behind_syncing() {
        let fresh = SyncStatus::default();
        assert_eq!(fresh.state(), SyncState::FirstSync, "just enrolled: the first sync is due");
        let first = SyncStatus { syncing: true, last_attempt: Some(1), online: true, ..fresh };
        assert_eq!(first.state(), SyncState::FirstSync);
        // Retrying against a hub that does not answer is 离线, not 正在同步.
        let retrying = SyncStatus { online: false, ..first.clone() };
        assert_eq!(retrying.state(), SyncState::Offline);
        let synced = SyncStatus { syncing: false, last_success: Some(2), ..first };
        assert_eq!(synced.state(), SyncState::Synced);
        assert_eq!(SyncStatus { syncing: true, ..synced.clone() }.state(), SyncState::Syncing);
        assert_eq!(SyncStatus { pending: 3, ..synced.clone() }.state(), SyncState::Pending);
        let failed = SyncStatus { last_error: Some("unauthorized".into()), ..synced.clone() };
        assert_eq!(failed.state(), SyncState::Failed);
        // Syncing works, but something it brought was skipped: a person must look.
        let skipped = SyncStatus { unresolved: 1, pending: 2, ..synced.clone() };
        assert_eq!(skipped.state(), SyncState::Failed);
        let gone = SyncStatus { online: false, last_error: Some("offline".into()), ..synced };
        assert_eq!(gone.state(), SyncState::Offline);
    }
}
