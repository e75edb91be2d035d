//! USB bundles at the hub: an office's bundle is verified (checksum, then its device's
//! signature with the public key registered at enrollment), applied with exactly the
//! validation of a network sync, and answered with a return bundle, signed with the hub's
//! private key, holding every page the office should receive and every change that was refused.
//! Both bodies are encrypted with the key only the device and the hub share (X25519 of their
//! keys), so a lost USB stick gives away nothing.

use std::sync::Arc;

use ledger_protocol::bundle::{self, Bundle, BundleError, BundleKind, ReturnBody};
use ledger_protocol::{Refused, SyncRequest};

use crate::auth::{self, AuthError};
use crate::engine::{Engine, SyncError};
use crate::store::HubStore;

/// Why a bundle could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is damaged, truncated or not signed by the device it names.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The device is unknown or revoked.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A return bundle was given where an office's bundle was expected.
    #[error("这是县局生成的返回包，应在乡镇的电脑上导入")]
    WrongKind,
    /// The body is not a sync request.
    #[error("同步包内容无法解析：{0}")]
    Body(String),
    /// Applying it failed.
    #[error(transparent)]
    Sync(#[from] SyncError),
}

/// The outcome of an import.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The return bundle's bytes.
    pub bytes: Vec<u8>,
    /// The office.
    pub office: String,
    /// Changes in the bundle.
    pub changes: usize,
    /// Changes refused.
    pub refused: usize,
    /// Records in the return bundle.
    pub records: usize,
}

fn nonce() -> Result<[u8; 24], ImportError> {
    let mut nonce = [0u8; 24];
    getrandom::fill(&mut nonce).map_err(|e| ImportError::Body(e.to_string()))?;
    Ok(nonce)
}

/// Imports an office's bundle and builds its return bundle.
pub fn import(store: Arc<dyn HubStore>, bytes: &[u8], now: i64) -> Result<Imported, ImportError> {
    let header = bundle::read(bytes)?;
    if header.kind != BundleKind::Up {
        return Err(ImportError::WrongKind);
    }
    let (caller, key) = auth::bundle_caller(store.as_ref(), &header.device_id)?;
    let verified = bundle::verify(bytes, &key)?;
    let hub_key = auth::hub_key(store.as_ref())?;
    let shared = hub_key.shared_with(&key);
    let plain = shared.decrypt(&verified.body).map_err(|e| ImportError::Body(e.to_string()))?;
    let request: SyncRequest =
        ledger_protocol::decode(&plain).map_err(|e| ImportError::Body(e.to_string()))?;
    let changes = request.changes.len();
    let engine = Engine::new(store);
    // Each change gets its verdict as on the network: refused ones (and later ones to their
    // documents) are named in the return bundle, the rest is applied.
    let response = engine.bundle(&caller, &request, now)?;
    let records = response.records.len();
    let refused: Vec<Refused> = response.refused.clone();
    let body = ReturnBody { response, refused };
    let refused = body.refused.len();
    let ret = Bundle {
        kind: BundleKind::Return,
        device_id: verified.device_id,
        created_at: now,
        body: shared.encrypt(
            nonce()?,
            &ledger_protocol::encode(&body).map_err(|e| ImportError::Body(e.to_string()))?,
        ),
    };
    Ok(Imported {
        bytes: bundle::write(&ret, &hub_key),
        office: caller.office.code,
        changes,
        refused,
        records,
    })
}
