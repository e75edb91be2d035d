//! The office side of sync (DESIGN §5): [`HubClient`] speaks HTTP to the hub, [`sync_round`] and
//! [`sync_until_done`] drive the exchange, and [`SyncService`] runs it in the background after
//! each local edit, on a timer and on demand, with exponential backoff and jitter.
//!
//! The client never touches the store: everything it needs from the office goes through the
//! [`SyncTarget`] trait, which `ledger-office` implements. Errors carry a stable code
//! ([`ClientError::code`]) that the UI words in Chinese.

mod hub_client;
mod repair;
mod service;
mod target;
mod tls;

pub use hub_client::{ClientError, HubClient, Traffic};
pub use ledger_protocol as protocol;
pub use ledger_protocol::backoff::Backoff;
pub use repair::{RepairReport, repair};
pub use service::{
    RoundOutcome, StatusSink, SyncConfig, SyncHandle, SyncReport, SyncService, sync_round,
    sync_until_done, sync_until_done_reporting,
};
pub use target::{
    Applied, Binding, SyncState, SyncStatus, SyncTarget, TargetError, TargetErrorKind,
};
pub use tls::{HubLink, HubTrust, TlsProblem, UrlProblem, check_hub_url};
