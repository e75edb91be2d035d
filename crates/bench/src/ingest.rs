//! The ingest benchmark (issue 15): N offices upload their day's work to the hub at the same
//! time, through one hub on SQLite, or one or more hubs on one PostgreSQL database.
//!
//! The hubs run in this process (each a server with a store and engine of its own: to the
//! database and to each other they are separate processes), on loopback with TLS, next to the
//! offices: on this two-core machine the offices' own work competes with the hubs'. Every
//! office first syncs once (its roster, the rules: not ingest), then registers its cases
//! offline; the figure is the changes the hubs acknowledged, over the wall time from the moment
//! every office starts uploading until the last one has nothing left to send.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ledger_client::SyncConfig;
use ledger_domain::Role;
use ledger_domain::fixtures::TOWNSHIPS;
use ledger_domain::schema::{CaseField, Draft};
use ledger_hub::{HubStore, PgHubStore, SqliteHubStore};
use ledger_tests::{TestHub, TestOffice, pg, test_pki};
use serde::Serialize;

use crate::data::Generator;
use crate::error::{BenchError, Result};
use crate::measure::round3;

/// What to run.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Offices uploading at once (the bureau and N-1 townships).
    pub offices: usize,
    /// Cases each office registers before the upload.
    pub per_office: usize,
    /// The hubs keep their records in PostgreSQL (a fresh database on the server
    /// `LEDGER_TEST_PG` names) instead of SQLite.
    pub postgres: bool,
    /// Hubs serving the one database (offices spread over them round-robin).
    pub hubs: usize,
    /// Seed of the generated data.
    pub seed: u64,
}

/// The report.
#[derive(Debug, Serialize)]
pub struct IngestReport {
    /// Always "ingest".
    pub benchmark: &'static str,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Hubs serving the database.
    pub hubs: usize,
    /// Offices uploading at once.
    pub offices: usize,
    /// Changes acknowledged.
    pub changes: usize,
    /// Changes the hubs refused (0 in an honest run).
    pub refused: usize,
    /// Wall time of the upload.
    pub seconds: f64,
    /// Changes per second.
    pub changes_per_second: f64,
    /// Exchanges retried (the hub answered "busy", or a request failed).
    pub retries: usize,
}

fn config() -> SyncConfig {
    SyncConfig {
        request_timeout: Duration::from_secs(120),
        backoff_base: Duration::from_millis(50),
        backoff_max: Duration::from_millis(500),
        ..SyncConfig::default()
    }
}

/// A hub's data directory and store.
type HubData = (tempfile::TempDir, Arc<dyn HubStore>);

/// The stores of the hubs, each on its own data directory (PostgreSQL: one database, the
/// first hub's signing key copied to the others, as docs/operations.md says).
fn stores(opts: &IngestOptions) -> Result<(Vec<HubData>, Option<pg::TestDb>)> {
    if !opts.postgres {
        if opts.hubs > 1 {
            return Err(BenchError::other("several hubs need --postgres"));
        }
        let dir = tempfile::tempdir()?;
        let store: Arc<dyn HubStore> = Arc::new(SqliteHubStore::open(dir.path())?);
        return Ok((vec![(dir, store)], None));
    }
    let db = pg::TestDb::create();
    let mut stores: Vec<HubData> = Vec::new();
    for _ in 0..opts.hubs.max(1) {
        let dir = tempfile::tempdir()?;
        if let Some((first, _)) = stores.first() {
            std::fs::copy(
                first.path().join(ledger_hub::sqlite::KEY_FILE),
                dir.path().join(ledger_hub::sqlite::KEY_FILE),
            )?;
        }
        let store: Arc<dyn HubStore> = Arc::new(PgHubStore::open(&db.url, dir.path())?);
        store.signing_key()?;
        stores.push((dir, store));
    }
    Ok((stores, Some(db)))
}

/// Runs the benchmark.
pub async fn run(opts: &IngestOptions) -> Result<IngestReport> {
    let (stores, db) = stores(opts)?;
    let mut hubs = Vec::new();
    for (dir, store) in stores {
        hubs.push(
            TestHub::serve_store(dir, store, Some(test_pki())).await.map_err(BenchError::other)?,
        );
    }
    let first = &hubs[0];
    let mut offices = Vec::new();
    let bureau =
        first.add_office("county", "县国土资源局", Role::Bureau, &[]).map_err(BenchError::other)?;
    let mut tokens = vec![(bureau, TOWNSHIPS[0])];
    for i in 1..opts.offices.max(1) {
        let township = TOWNSHIPS[(i - 1) % TOWNSHIPS.len()];
        let token = first
            .add_office(
                &format!("t{i:03}"),
                &format!("{township}国土所{i}"),
                Role::Township,
                &[township],
            )
            .map_err(BenchError::other)?;
        tokens.push((token, township));
    }
    eprintln!("ingest: enrolling {} offices on {} hub(s)", tokens.len(), hubs.len());
    for (i, (token, township)) in tokens.into_iter().enumerate() {
        let hub = &hubs[i % hubs.len()];
        let mut office = TestOffice::enroll(&hub.url(), &token, "李娟", "2026-11-20")
            .await
            .map_err(BenchError::other)?;
        office.set_config(config()).map_err(BenchError::other)?;
        office.sync().await.map_err(BenchError::other)?;
        offices.push((office, township));
    }
    let mut data = Generator::new(opts.seed);
    let mut queued = 0;
    for (o, township) in &offices {
        for k in 0..opts.per_office {
            let mut input = data.new_case("2026-11-19".parse().map_err(BenchError::other)?);
            input.township = (*township).to_owned();
            let id = o.office.register(&input, None)?;
            o.office.set_draft(
                id,
                Draft::Investigation,
                &format!("第{k}件：现场核实情况，已拍照取证。"),
            )?;
            o.office.set_field(id, &CaseField::Subject, "某建筑公司")?;
        }
        queued += o.office.store().outbox_len()?;
    }
    eprintln!("ingest: {} offices uploading {queued} changes at once", offices.len());
    let started = Instant::now();
    let crate::sync::Uploads { uploaded: changes, refused, retries } =
        crate::sync::upload_all(offices.iter().map(|(o, _)| o)).await?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("ingest: {changes} changes in {seconds:.1} s");
    drop(hubs);
    drop(db);
    Ok(IngestReport {
        benchmark: "ingest",
        backend: if opts.postgres { "postgres" } else { "sqlite" },
        hubs: opts.hubs.max(1),
        offices: offices.len(),
        changes,
        refused,
        seconds: round3(seconds),
        changes_per_second: round3(changes as f64 / seconds),
        retries,
    })
}
