//! The sync benchmark: a real hub (in this process, on `127.0.0.1:0`) and real office stores,
//! with every byte counted by the fault proxy on a clean link.
//!
//! It measures, in order:
//! 1. ingest: the bureau uploads N cases it holds (the hub's first load), then 25 offices (the
//!    bureau and 24 townships) upload their day's work at the same time: changes per second;
//! 2. a fresh bureau device pulling every case from cursor 0: time, and bytes on the wire
//!    against the zstd-compressed size of the hub's saved documents;
//! 3. a sync with nothing new on either side: round trips and HTTP bytes both ways, on a
//!    kept-alive connection.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ledger_client::SyncConfig;
use ledger_domain::Role;
use ledger_domain::fixtures::TOWNSHIPS;
use ledger_domain::schema::{CaseField, Draft};
use ledger_tests::{FaultProxy, LinkProfile, TestHub, TestOffice};
use serde::Serialize;

use crate::data::Generator;
use crate::error::{BenchError, Result};
use crate::local::populate;
use crate::measure::round3;

/// What to run.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Cases the bureau holds and the hub receives.
    pub cases: usize,
    /// Cases each of the 25 offices registers for the concurrent ingest.
    pub per_office: usize,
    /// Seed of the generated data.
    pub seed: u64,
}

/// Bytes through the proxy.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Wire {
    /// Office to hub.
    pub up: u64,
    /// Hub to office.
    pub down: u64,
    /// Both.
    pub total: u64,
}

/// The report.
#[derive(Debug, Serialize)]
pub struct SyncReport {
    /// Always "sync".
    pub benchmark: &'static str,
    /// Cases at the hub.
    pub cases: usize,
    /// The bureau's first upload of all its cases.
    pub initial_upload: Ingest,
    /// 25 offices uploading at once.
    pub concurrent_ingest: Ingest,
    /// A fresh bureau device pulling everything.
    pub bootstrap: Bootstrap,
    /// Nothing new on either side.
    pub idle: Idle,
}

/// Ingest figures.
#[derive(Debug, Serialize)]
pub struct Ingest {
    /// Offices uploading at once.
    pub offices: usize,
    /// Changes acknowledged.
    pub changes: usize,
    /// Wall time.
    pub seconds: f64,
    /// Changes per second.
    pub changes_per_second: f64,
}

/// Bootstrap figures.
#[derive(Debug, Serialize)]
pub struct Bootstrap {
    /// Documents received.
    pub documents: usize,
    /// Wall time.
    pub seconds: f64,
    /// Round trips.
    pub rounds: usize,
    /// HTTP bytes, headers and bodies.
    pub wire: Wire,
    /// The hub's saved documents, concatenated and zstd-compressed (level 3).
    pub saved_zstd_bytes: u64,
    /// The same, uncompressed.
    pub saved_bytes: u64,
    /// Wire bytes ÷ compressed saved size (target ≤ 1.3).
    pub ratio: f64,
}

/// Idle sync figures.
#[derive(Debug, Serialize)]
pub struct Idle {
    /// Round trips of one sync.
    pub rounds: usize,
    /// HTTP bytes of that sync, headers and bodies, both ways.
    pub wire: Wire,
    /// Connections opened for it (0: the kept-alive one was reused).
    pub new_connections: u64,
    /// Wall time.
    pub ms: f64,
}

fn wire(before: ledger_tests::ProxyStats, after: ledger_tests::ProxyStats) -> Wire {
    let d = after.since(&before);
    Wire { up: d.bytes_up, down: d.bytes_down, total: d.bytes_up + d.bytes_down }
}

fn big_config() -> SyncConfig {
    SyncConfig { request_timeout: Duration::from_secs(120), ..SyncConfig::default() }
}

/// What the offices' uploads came to.
#[derive(Debug, Default)]
pub(crate) struct Uploads {
    /// Changes acknowledged.
    pub(crate) uploaded: usize,
    /// Changes refused.
    pub(crate) refused: usize,
    /// Exchanges retried.
    pub(crate) retries: usize,
    /// From the start until the hub had answered for every office's last change: the ingest.
    pub(crate) acknowledged: Duration,
    /// From the start until every office had also pulled what the others sent meanwhile.
    pub(crate) settled: Duration,
}

/// Every office syncs until it has nothing left to send, all at once.
pub(crate) async fn upload_all<'a>(
    offices: impl Iterator<Item = &'a TestOffice>,
) -> Result<Uploads> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    let mut queues = Vec::new();
    for o in offices {
        let office = o.office.clone();
        let client = o.client().clone();
        let config = o.config.clone();
        tasks.push(tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(1800);
            let mut budget = config.first_batch();
            let target: Arc<dyn ledger_client::SyncTarget> = office;
            // The last exchange that acknowledged changes of this office; the pass goes on to
            // pull what other offices sent meanwhile, which is not ingest.
            let last_ack: Mutex<(u64, Option<Instant>)> = Mutex::new((0, None));
            let sink = |s: &ledger_client::SyncStatus| {
                let mut last = last_ack.lock().unwrap_or_else(|p| p.into_inner());
                if s.pass_uploaded > last.0 {
                    *last = (s.pass_uploaded, Some(Instant::now()));
                }
            };
            let report = ledger_client::sync_until_done_reporting(
                &client,
                &target,
                &config,
                deadline,
                &mut budget,
                &sink,
            )
            .await?;
            let finished = Instant::now();
            let acked = last_ack.into_inner().unwrap_or_else(|p| p.into_inner()).1;
            Ok::<_, ledger_client::ClientError>((report, acked, finished))
        }));
        queues.push(o.office.clone());
    }
    let mut total = Uploads::default();
    for (t, office) in tasks.into_iter().zip(queues) {
        let (report, acked, finished) =
            t.await.map_err(BenchError::other)?.map_err(BenchError::other)?;
        total.uploaded += report.uploaded;
        total.refused += report.refused;
        total.retries += report.retries;
        // An office whose queue did not end empty counts until its pass ended.
        let emptied = if office.store().outbox_len()? == 0 { acked } else { None };
        total.acknowledged = total.acknowledged.max(emptied.unwrap_or(finished) - started);
        total.settled = total.settled.max(finished - started);
    }
    Ok(total)
}

/// Runs the benchmark.
pub async fn run(opts: &SyncOptions) -> Result<SyncReport> {
    let hub = TestHub::start().await.map_err(BenchError::other)?;
    let proxy = FaultProxy::start(hub.addr(), LinkProfile::clean()).await?;
    let token = hub
        .add_office("county", "洞口县国土资源局", Role::Bureau, &[])
        .map_err(BenchError::other)?;
    let mut township_tokens = Vec::new();
    for (i, t) in TOWNSHIPS.iter().enumerate() {
        let code = format!("t{i:02}");
        township_tokens.push(
            hub.add_office(&code, &format!("{t}国土所"), Role::Township, &[t])
                .map_err(BenchError::other)?,
        );
    }
    let mut bureau = TestOffice::enroll(&proxy.url(), &token, "刘洪", "2026-11-20")
        .await
        .map_err(BenchError::other)?;
    bureau.set_config(big_config()).map_err(BenchError::other)?;

    // The hub's first load: the bureau's whole ledger.
    let mut data = Generator::new(opts.seed);
    populate(&bureau.office, &mut data, opts.cases)?;
    let queued = bureau.office.store().outbox_len()?;
    eprintln!("sync: uploading {queued} changes of {} cases", opts.cases);
    let started = Instant::now();
    let report = bureau.sync().await.map_err(BenchError::other)?;
    let seconds = started.elapsed().as_secs_f64();
    let initial_upload = Ingest {
        offices: 1,
        changes: report.uploaded,
        seconds: round3(seconds),
        changes_per_second: round3(report.uploaded as f64 / seconds),
    };
    eprintln!("sync: initial upload {:.0} changes/s", initial_upload.changes_per_second);

    // 25 offices at once.
    let mut offices = vec![bureau];
    for (i, token) in township_tokens.iter().enumerate() {
        let mut o = TestOffice::enroll(&proxy.url(), token, "李娟", "2026-11-20")
            .await
            .map_err(BenchError::other)?;
        o.set_config(big_config()).map_err(BenchError::other)?;
        let _ = i;
        offices.push(o);
    }
    // Every office first takes its share of the county (its bootstrap is not ingest).
    for o in &offices[1..] {
        o.sync().await.map_err(BenchError::other)?;
    }
    let mut expected = 0;
    for (i, o) in offices.iter().enumerate() {
        let township = if i == 0 { TOWNSHIPS[0] } else { TOWNSHIPS[i - 1] };
        for k in 0..opts.per_office {
            let mut input = data.new_case("2026-11-19".parse().map_err(BenchError::other)?);
            input.township = township.to_owned();
            let id = o.office.register(&input, None)?;
            o.office.set_draft(
                id,
                Draft::Investigation,
                &format!("第{k}件：现场核实情况，已拍照取证。"),
            )?;
            o.office.set_field(id, &CaseField::Subject, "某建筑公司")?;
        }
        expected += o.office.store().outbox_len()?;
    }
    eprintln!("sync: 25 offices uploading {expected} changes at once");
    let uploads = upload_all(offices.iter()).await?;
    let (uploaded, seconds) = (uploads.uploaded, uploads.acknowledged.as_secs_f64());
    let concurrent_ingest = Ingest {
        offices: offices.len(),
        changes: uploaded,
        seconds: round3(seconds),
        changes_per_second: round3(uploaded as f64 / seconds),
    };
    eprintln!("sync: concurrent ingest {:.0} changes/s", concurrent_ingest.changes_per_second);

    // A fresh bureau device from cursor 0.
    let (saved_bytes, saved_zstd_bytes, documents) = saved_size(&hub)?;
    let mut fresh = TestOffice::enroll(
        &proxy.url(),
        &hub.token("county").map_err(BenchError::other)?,
        "刘洪",
        "2026-11-20",
    )
    .await
    .map_err(BenchError::other)?;
    fresh.set_config(big_config()).map_err(BenchError::other)?;
    let before = proxy.stats();
    let started = Instant::now();
    let pulled = fresh.sync().await.map_err(BenchError::other)?;
    let seconds = started.elapsed().as_secs_f64();
    let moved = wire(before, proxy.stats());
    let bootstrap = Bootstrap {
        documents,
        seconds: round3(seconds),
        rounds: pulled.rounds,
        wire: moved,
        saved_zstd_bytes,
        saved_bytes,
        ratio: round3(moved.total as f64 / saved_zstd_bytes.max(1) as f64),
    };
    eprintln!(
        "sync: bootstrap {} records in {seconds:.1} s, ratio {}",
        pulled.downloaded, bootstrap.ratio
    );

    // Nothing new: warm the connection, then measure one sync.
    fresh.sync().await.map_err(BenchError::other)?;
    let before = proxy.stats();
    let started = Instant::now();
    let idle_report = fresh.sync().await.map_err(BenchError::other)?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let after = proxy.stats();
    let idle = Idle {
        rounds: idle_report.rounds,
        wire: wire(before, after),
        new_connections: after.connections_accepted - before.connections_accepted,
        ms: round3(ms),
    };
    Ok(SyncReport {
        benchmark: "sync",
        cases: documents / 2,
        initial_upload,
        concurrent_ingest,
        bootstrap,
        idle,
    })
}

/// The hub's saved documents: total bytes, zstd-compressed bytes, count.
fn saved_size(hub: &TestHub) -> Result<(u64, u64, usize)> {
    let conn = rusqlite::Connection::open(hub.dir().join(ledger_hub::sqlite::DB_FILE))?;
    let mut stmt = conn.prepare("SELECT case_id, kind FROM docs")?;
    let keys: Vec<(String, i64)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    let mut all = Vec::new();
    for (case, kind) in &keys {
        let id: ledger_domain::CaseId = case.parse().map_err(BenchError::other)?;
        let kind = if *kind == 1 {
            ledger_protocol::DocKind::Identity
        } else {
            ledger_protocol::DocKind::Case
        };
        if let Some((snapshot, tail)) = hub.store().doc(id, kind).map_err(BenchError::other)? {
            let mut doc =
                ledger_domain::automerge::Automerge::load(&snapshot).map_err(BenchError::other)?;
            let changes: Vec<_> = tail
                .into_iter()
                .filter_map(|b| ledger_domain::automerge::Change::from_bytes(b).ok())
                .collect();
            doc.apply_changes(changes).map_err(BenchError::other)?;
            all.extend(doc.save());
        }
    }
    let compressed = zstd::bulk::compress(&all, 3)?;
    Ok((all.len() as u64, compressed.len() as u64, keys.len()))
}
