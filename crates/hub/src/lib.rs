//! The county hub (`ledger-hub`): an axum server that merges every office's changes into its
//! own copy of every case, decides what each office may see, and serves it as pages of the hub
//! log (DESIGN §5–6).
//!
//! - [`store`]: the `HubStore` trait; [`sqlite`] its default backend.
//! - [`engine`]: validation, scope, the hub log and paging.
//! - [`auth`]: enrollment tokens and device credentials.
//! - [`bundles`]: USB bundles, validated like a network sync.
//! - [`http`]: the routes, thin adapters over the engine.
//!
//! [`router`] builds the app for in-process tests; [`serve`] runs it on a listener until the
//! shutdown future resolves (tests bind `127.0.0.1:0`).

pub mod auth;
pub mod bundles;
pub mod engine;
pub mod http;
pub mod sqlite;
pub mod store;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub use engine::{Caller, Engine, SyncError};
pub use http::router;
pub use sqlite::SqliteHubStore;
pub use store::HubStore;

/// Milliseconds since the epoch by the hub's clock.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// What every request handler shares.
pub struct HubState {
    /// The sync engine (which owns the store).
    pub engine: Engine,
}

impl HubState {
    /// A hub over `store`.
    pub fn new(store: Arc<dyn HubStore>) -> Arc<Self> {
        Arc::new(Self { engine: Engine::new(store) })
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn HubStore> {
        self.engine.store()
    }
}

/// Serves the hub on `listener` until `shutdown` resolves; requests in flight finish first.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<HubState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await
}
