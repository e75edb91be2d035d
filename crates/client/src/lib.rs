//! The office side of sync: `HubClient` (HTTP to the hub) and `SyncService` (the background
//! loop with backoff and a status the UI can show). It reaches the store only through the
//! `SyncTarget` trait. Built with the sync issue.
