//! What can stop a benchmark run: the office or store failing, files, the open probe, or
//! generated data that the domain's own checks refuse (a bug in the generator).

use ledger_office::{OfficeError, StoreError};

/// An error that stops a benchmark.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// An office use case failed.
    #[error(transparent)]
    Office(#[from] OfficeError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file or process could not be used.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// JSON could not be written or read.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// The generator made a case the registration checks refuse.
    #[error("generated case refused by registration checks: {0}")]
    Generated(String),
    /// The generated ledger did not import cleanly.
    #[error("generated ledger did not import cleanly: {0}")]
    Import(String),
    /// The open probe failed.
    #[error("open probe failed: {0}")]
    Probe(String),
    /// The benchmark directory already holds a store.
    #[error("{0} already holds a store; give an empty --dir")]
    NotEmpty(std::path::PathBuf),
    /// The hub, the client or the harness failed.
    #[error("{0}")]
    Sync(String),
    /// The hub's database could not be read.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// A hub store failed.
    #[error(transparent)]
    Hub(#[from] ledger_hub::store::StoreError),
}

impl BenchError {
    /// Any other failure, by its message.
    pub fn other(e: impl std::fmt::Display) -> Self {
        Self::Sync(e.to_string())
    }
}

/// Results of a benchmark.
pub type Result<T, E = BenchError> = std::result::Result<T, E>;
