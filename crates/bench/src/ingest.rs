//! The ingest benchmark (issue 15): N offices upload their day's work to the hub at the same
//! time, through one hub on SQLite, or one or more hubs on one PostgreSQL database.
//!
//! The hubs are real `ledger-hub serve` processes (plain HTTP on loopback), this process holds
//! the offices: on this two-core machine the offices' own work (preparing their batches,
//! applying what each exchange brings back) competes with the hubs'. So besides the wall time
//! the report gives the hubs' own CPU time and the changes per second of it: what the hub
//! ingests where the offices are elsewhere, as they are in a county. Every office first syncs
//! once (its roster, the rules: not ingest), then registers its cases offline; the figure is
//! the changes the hubs acknowledged, over the wall time from the moment every office starts
//! uploading until the last one has nothing left to send.

use std::path::PathBuf;
use std::time::Duration;

use ledger_client::SyncConfig;
use ledger_domain::Role;
use ledger_domain::fixtures::TOWNSHIPS;
use ledger_domain::schema::{CaseField, Draft};
use ledger_tests::TestOffice;
use serde::Serialize;

use crate::data::Generator;
use crate::error::{BenchError, Result};
use crate::hubproc::{HubProcess, HubSite, hub_binary, office_token};
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
    /// This executable (the hub binary sits beside it).
    pub exe: PathBuf,
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
    /// Wall time of the upload: until the hubs had answered for every office's last change.
    pub seconds: f64,
    /// Until every office had also pulled what the others uploaded meanwhile (the bureau takes
    /// every township's cases): the offices' work on this machine, not the hubs'.
    pub settled_seconds: f64,
    /// Changes per second.
    pub changes_per_second: f64,
    /// Exchanges retried (the hub answered "busy", or a request failed).
    pub retries: usize,
    /// Each hub process's CPU time during the upload (s).
    pub hub_cpu_seconds: Vec<f64>,
    /// Changes acknowledged per second of the hubs' CPU time together: the hubs' own rate,
    /// apart from the offices that share this machine with them.
    pub changes_per_hub_cpu_second: f64,
}

fn config() -> SyncConfig {
    SyncConfig {
        request_timeout: Duration::from_secs(120),
        backoff_base: Duration::from_millis(50),
        backoff_max: Duration::from_millis(500),
        ..SyncConfig::default()
    }
}

/// Runs the benchmark.
pub async fn run(opts: &IngestOptions) -> Result<IngestReport> {
    let binary = hub_binary(&opts.exe)?;
    let setup = HubSite::prepare(opts.hubs, opts.postgres)?;
    let bureau = office_token(setup.store.as_ref(), "county", "县国土资源局", Role::Bureau, &[])?;
    let mut tokens = vec![(bureau, TOWNSHIPS[0])];
    for i in 1..opts.offices.max(1) {
        let township = TOWNSHIPS[(i - 1) % TOWNSHIPS.len()];
        let token = office_token(
            setup.store.as_ref(),
            &format!("t{i:03}"),
            &format!("{township}国土所{i}"),
            Role::Township,
            &[township.to_owned()],
        )?;
        tokens.push((token, township));
    }
    let hubs = setup.start(&binary)?;
    let mut offices = Vec::new();
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
    let hub_cpu: Vec<f64> = hubs.iter().map(HubProcess::cpu_seconds).collect();
    let crate::sync::Uploads { uploaded: changes, refused, retries, acknowledged, settled } =
        crate::sync::upload_all(offices.iter().map(|(o, _)| o)).await?;
    let seconds = acknowledged.as_secs_f64();
    let hub_cpu_seconds: Vec<f64> =
        hubs.iter().zip(hub_cpu).map(|(h, before)| round3(h.cpu_seconds() - before)).collect();
    let hub_cpu_total: f64 = hub_cpu_seconds.iter().sum();
    eprintln!("ingest: {changes} changes in {seconds:.1} s, {hub_cpu_total:.1} s of the hubs' CPU");
    drop(hubs);
    drop(setup);
    Ok(IngestReport {
        benchmark: "ingest",
        backend: if opts.postgres { "postgres" } else { "sqlite" },
        hubs: opts.hubs.max(1),
        offices: offices.len(),
        changes,
        refused,
        seconds: round3(seconds),
        settled_seconds: round3(settled.as_secs_f64()),
        changes_per_second: round3(changes as f64 / seconds),
        retries,
        hub_cpu_seconds,
        changes_per_hub_cpu_second: if hub_cpu_total > 0.0 {
            round3(changes as f64 / hub_cpu_total)
        } else {
            0.0
        },
    })
}
