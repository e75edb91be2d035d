//! The county hub (`ledger-hub`): an axum server that merges every office's changes into its
//! own copy of every case, decides what each office may see, and serves it as pages of the hub
//! log (DESIGN §5–6).
//!
//! - [`store`]: the `HubStore` trait; [`sqlite`] its default backend, [`postgres`] the one for
//!   several hub processes on one database, [`memory`] the one its conformance suite checks both
//!   against.
//! - [`engine`]: judging each change (the rules are `ledger_domain::validate`), scope, the hub
//!   log and paging.
//! - [`auth`]: enrollment tokens and device credentials.
//! - [`bundles`]: USB bundles, validated like a network sync.
//! - [`check`]: proves every stored document loads (`ledger-hub check`).
//! - [`config`]: the configuration file, and database URLs fit for a log.
//! - [`metrics`]: what `GET /metrics` shows, in Prometheus text.
//! - [`http`]: the routes, thin adapters over the engine.
//! - [`tls`]: the county CA, the server certificate and the TLS accept loop.
//! - [`private`]: files and directories only the hub's user may read.
//! - [`repeat`]: the county-wide repeat-petitioner hint, by keyed hash of ID number.
//!
//! [`router`] builds the app for in-process tests; [`serve`] runs it on a listener until the
//! shutdown future resolves (tests bind `127.0.0.1:0`).

pub mod auth;
pub mod bundles;
mod case_locks;
pub mod check;
mod checkpoint;
pub mod config;
pub mod engine;
pub mod http;
pub mod memory;
pub mod metrics;
mod plan;
pub mod postgres;
pub mod private;
pub mod repeat;
pub mod sqlite;
pub mod store;
pub mod tls;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use engine::{Caller, Engine, SyncError};
pub use http::router;
pub use memory::MemoryHubStore;
pub use postgres::{PgHubStore, PgOptions};
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
    /// Failed authentications per address.
    pub limiter: AuthLimiter,
    /// Requests, changes and sync times counted for `GET /metrics`.
    pub metrics: metrics::Metrics,
    /// The repeat-petitioner index and its per-office rate limit.
    pub repeats: repeat::RepeatIndex,
}

impl HubState {
    /// A hub over `store`.
    pub fn new(store: Arc<dyn HubStore>) -> Arc<Self> {
        Arc::new(Self {
            engine: Engine::new(store),
            limiter: AuthLimiter::default(),
            metrics: metrics::Metrics::default(),
            repeats: repeat::RepeatIndex::default(),
        })
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
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

/// Counts failed authentications and enrollments per address: past [`AuthLimiter::LIMIT`]
/// failures in [`AuthLimiter::WINDOW`], the address's further failures are answered 429 until
/// the window ends (valid credentials still pass), and logged once.
#[derive(Debug, Default)]
pub struct AuthLimiter {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl AuthLimiter {
    /// Failures allowed per window.
    pub const LIMIT: u32 = 20;
    /// The window.
    pub const WINDOW: Duration = Duration::from_secs(60);

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, (u32, Instant)>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts a failure; returns whether the address is now over the limit.
    pub fn failed(&self, ip: IpAddr) -> bool {
        let mut map = self.map();
        if map.len() > 10_000 {
            map.retain(|_, (_, since)| since.elapsed() < Self::WINDOW);
        }
        let entry = map.entry(ip).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= Self::WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 = entry.0.saturating_add(1);
        if entry.0 == Self::LIMIT {
            tracing::warn!(peer = %ip, "too many failed authentications from one address");
        }
        entry.0 >= Self::LIMIT
    }

    /// Whether a failure from the address should still be logged one by one (past the limit,
    /// only the line at the limit is, so a flood cannot fill the log).
    pub fn loggable(&self, ip: Option<IpAddr>) -> bool {
        let Some(ip) = ip else { return true };
        self.map()
            .get(&ip)
            .is_none_or(|(n, since)| *n < Self::LIMIT || since.elapsed() >= Self::WINDOW)
    }
}
