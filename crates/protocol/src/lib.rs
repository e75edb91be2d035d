//! The hub <-> office wire contract: the `POST /v1/sync` exchange, its record kinds (`change`,
//! `enter`, `leave`, `blob`), protocol versions and the binary, zstd-compressed encoding.
//!
//! Pure: no IO, no async. Built with the sync issue.
