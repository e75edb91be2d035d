//! The fleet benchmark: a real hub process (`ledger-hub serve`, so its memory is its own) and N
//! real office stores, each behind its own fault proxy with the given link profile, running a
//! working month: each working day the bureau registers and assigns cases, townships investigate
//! and reply, the bureau rates what was answered and records its service, and every office
//! syncs morning and evening, all at once. Then every office syncs until nothing is left to move.
//!
//! Figures: HTTP bytes up and down (counted by the proxies), exchanges (completed and failed),
//! bytes re-sent because of cuts (wire bytes minus the bodies and headers of the exchanges that
//! completed), time to converge after the month, and the hub's peak resident memory.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ledger_client::{SyncConfig, SyncTarget, Traffic, sync_until_done};
use ledger_domain::schema::Draft;
use ledger_domain::{ActionKind, CaseId, Role, Satisfaction, Status};
use ledger_hub::SqliteHubStore;
use ledger_office::ActionInput;
use ledger_tests::{FaultProxy, LinkProfile, ProxyStats, TestOffice};
use serde::Serialize;

use crate::data::Generator;
use crate::error::{BenchError, Result};
use crate::hubproc::{HubProcess, hub_binary, office_token};
use crate::measure::round3;

/// What to run.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// Offices (the bureau and N-1 townships).
    pub offices: usize,
    /// Cases the bureau registers over the month.
    pub cases: usize,
    /// The link profile of every office (`rtt=300ms,rate=64kbit,cut-every=20KiB`).
    pub link: LinkProfile,
    /// Working days in the month.
    pub days: usize,
    /// Seed of the generated data.
    pub seed: u64,
    /// This executable (the hub binary sits beside it).
    pub exe: std::path::PathBuf,
}

/// The report.
#[derive(Debug, Serialize)]
pub struct FleetReport {
    /// Always "fleet".
    pub benchmark: &'static str,
    /// Offices.
    pub offices: usize,
    /// Cases registered.
    pub cases: usize,
    /// Working days simulated.
    pub days: usize,
    /// The link profile.
    pub link: String,
    /// HTTP bytes office to hub, all offices.
    pub bytes_up: u64,
    /// HTTP bytes hub to office, all offices.
    pub bytes_down: u64,
    /// Exchanges that completed.
    pub requests: u64,
    /// Exchanges that broke on the way and were retried.
    pub failed_requests: u64,
    /// Connections the proxies cut or reset.
    pub cuts: u64,
    /// Bytes that crossed the wire in exchanges that did not complete.
    pub resent_bytes: u64,
    /// `resent_bytes / cuts`; the target is at most one batch per cut.
    pub resent_per_cut: f64,
    /// The largest batch (bytes).
    pub max_batch: u32,
    /// HTTP header bytes per completed exchange (measured on a clean exchange).
    pub header_bytes_per_exchange: u64,
    /// Wall time of the month.
    pub month_seconds: f64,
    /// Wall time from the end of the month until every office has everything.
    pub converge_seconds: f64,
    /// The hub process's peak resident memory (MiB).
    pub hub_peak_mib: f64,
    /// Whether every office ended with an empty outbox and the bureau holds every case.
    pub converged: bool,
}

pub(crate) fn act(action: ActionKind) -> ActionInput {
    // A reply states its 处理意见 (信访工作条例 §32).
    let outcome = (action == ActionKind::Reply).then_some(ledger_domain::Outcome::Supported);
    ActionInput { action: Some(action), outcome, ..Default::default() }
}

async fn sync_all(offices: &[TestOffice], patience: Duration) {
    let mut tasks = Vec::new();
    for o in offices {
        let target: Arc<dyn SyncTarget> = o.office.clone();
        let client = o.client().clone();
        let config = o.config.clone();
        tasks.push(tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + patience;
            let mut budget = config.first_batch();
            let _ = sync_until_done(&client, &target, &config, deadline, &mut budget).await;
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

fn totals(offices: &[TestOffice], proxies: &[FaultProxy]) -> (Traffic, ProxyStats) {
    let mut traffic = Traffic::default();
    for o in offices {
        let t = o.client().traffic();
        traffic.exchanges += t.exchanges;
        traffic.failed += t.failed;
        traffic.body_up += t.body_up;
        traffic.body_down += t.body_down;
    }
    let mut stats = ProxyStats::default();
    for p in proxies {
        let s = p.stats();
        stats.bytes_up += s.bytes_up;
        stats.bytes_down += s.bytes_down;
        stats.connections_cut += s.connections_cut;
        stats.connections_accepted += s.connections_accepted;
    }
    (traffic, stats)
}

/// Runs the benchmark.
pub async fn run(opts: &FleetOptions) -> Result<FleetReport> {
    let binary = hub_binary(&opts.exe)?;
    let dir = tempfile::tempdir()?;
    let hub_dir = dir.path().join("hub");
    let store = SqliteHubStore::open(&hub_dir).map_err(BenchError::other)?;
    let townships: Vec<String> =
        ledger_domain::fixtures::TOWNSHIPS.iter().map(|t| (*t).to_owned()).collect();
    let mut tokens = vec![office_token(&store, "county", "county", Role::Bureau, &[])?];
    for i in 1..opts.offices {
        let t = townships[(i - 1) % townships.len()].clone();
        let code = format!("t{i:02}");
        tokens.push(office_token(&store, &code, &code, Role::Township, &[t])?);
    }
    drop(store);
    let hub = HubProcess::start(&binary, &hub_dir, None)?;

    let config = SyncConfig {
        request_timeout: Duration::from_secs(30),
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_secs(2),
        ..SyncConfig::default()
    };
    // Enroll on a clean link, then measure one clean exchange's header bytes.
    let mut proxies = Vec::new();
    let mut offices = Vec::new();
    for (i, tok) in tokens.iter().enumerate() {
        let proxy =
            FaultProxy::start(hub.addr, LinkProfile::clean().with_seed(opts.seed + i as u64))
                .await?;
        let mut office = TestOffice::enroll(&proxy.url(), tok, "办理人", "2026-11-02")
            .await
            .map_err(BenchError::other)?;
        office.set_config(config.clone()).map_err(BenchError::other)?;
        offices.push(office);
        proxies.push(proxy);
    }
    sync_all(&offices, Duration::from_secs(30)).await;
    let (t0, s0) = totals(&offices, &proxies);
    offices[0].sync().await.map_err(BenchError::other)?;
    let (t1, s1) = totals(&offices, &proxies);
    let wire = (s1.bytes_up + s1.bytes_down).saturating_sub(s0.bytes_up + s0.bytes_down);
    let bodies = (t1.body_up + t1.body_down).saturating_sub(t0.body_up + t0.body_down);
    let exchanges = t1.exchanges.saturating_sub(t0.exchanges).max(1);
    let header_bytes = wire.saturating_sub(bodies) / exchanges;
    for (i, p) in proxies.iter().enumerate() {
        p.set_profile(opts.link.clone().with_seed(opts.seed + i as u64));
    }
    let (t_start, s_start) = totals(&offices, &proxies);

    let mut data = Generator::new(opts.seed);
    let per_day = opts.cases.div_ceil(opts.days.max(1));
    let mut registered: Vec<(CaseId, String)> = Vec::new();
    let started = Instant::now();
    for day in 0..opts.days {
        // The bureau: new cases, assigned down.
        for _ in 0..per_day.min(opts.cases.saturating_sub(registered.len())) {
            let office = (registered.len() % (opts.offices - 1).max(1)) + 1;
            let township = townships[(office - 1) % townships.len()].clone();
            let mut input = data.new_case("2026-11-01".parse().map_err(BenchError::other)?);
            input.township = township.clone();
            let bureau = &offices[0].office;
            let id = bureau.register(&input, None)?;
            bureau.act(
                id,
                &ActionInput { target: Some(township.clone()), ..act(ActionKind::Assign) },
            )?;
            registered.push((id, township));
        }
        sync_all(&offices, Duration::from_secs(120)).await;
        // The townships: investigate what was assigned yesterday, reply to what is investigated.
        for o in &offices[1..] {
            for id in o.office.store().case_ids()? {
                let Ok(view) = o.office.view(id) else { continue };
                match view.status {
                    Status::Assigned => {
                        o.office.set_draft(
                            id,
                            Draft::Investigation,
                            &format!("第{day}天现场核实，已拍照取证。"),
                        )?;
                        o.office.act(id, &act(ActionKind::Investigate))?;
                    }
                    Status::InProgress => {
                        let reply = ActionInput {
                            text: Some("经调查核实，已依法处理并书面答复。".into()),
                            ..act(ActionKind::Reply)
                        };
                        o.office.act(id, &reply)?;
                    }
                    _ => {}
                }
            }
        }
        sync_all(&offices, Duration::from_secs(120)).await;
        // The bureau: rate what was answered and record its service.
        let bureau = &offices[0].office;
        for (id, _) in &registered {
            if bureau.view(*id).map(|v| v.status == Status::Replied).unwrap_or(false) {
                bureau.act(
                    *id,
                    &ActionInput {
                        result: Some(Satisfaction::Satisfied),
                        ..act(ActionKind::Evaluate)
                    },
                )?;
                // 答复后未申请复查 waits 30 days from service, past the simulated month: the
                // bureau records the service instead.
                bureau.act(
                    *id,
                    &ActionInput {
                        target: Some("信访人".into()),
                        text: Some("直接送达".into()),
                        ..act(ActionKind::Deliver)
                    },
                )?;
            }
        }
        eprintln!(
            "fleet: day {} of {} done ({:.0} s)",
            day + 1,
            opts.days,
            started.elapsed().as_secs_f64()
        );
    }
    let month_seconds = started.elapsed().as_secs_f64();
    let settle = Instant::now();
    for _ in 0..3 {
        sync_all(&offices, Duration::from_secs(300)).await;
    }
    let converge_seconds = settle.elapsed().as_secs_f64();
    let mut converged = offices[0].office.case_count()? as usize == registered.len();
    for o in &offices {
        converged &= o.office.store().outbox_len()? == 0;
    }
    let (t_end, s_end) = totals(&offices, &proxies);
    let bytes_up = s_end.bytes_up - s_start.bytes_up;
    let bytes_down = s_end.bytes_down - s_start.bytes_down;
    let requests = t_end.exchanges - t_start.exchanges;
    let useful = (t_end.body_up + t_end.body_down - t_start.body_up - t_start.body_down)
        + requests * header_bytes;
    let resent_bytes = (bytes_up + bytes_down).saturating_sub(useful);
    let cuts = s_end.connections_cut - s_start.connections_cut;
    Ok(FleetReport {
        benchmark: "fleet",
        offices: opts.offices,
        cases: registered.len(),
        days: opts.days,
        link: opts.link.to_string(),
        bytes_up,
        bytes_down,
        requests,
        failed_requests: t_end.failed - t_start.failed,
        cuts,
        resent_bytes,
        resent_per_cut: round3(resent_bytes as f64 / cuts.max(1) as f64),
        max_batch: config.max_batch,
        header_bytes_per_exchange: header_bytes,
        month_seconds: round3(month_seconds),
        converge_seconds: round3(converge_seconds),
        hub_peak_mib: hub.memory().peak_resident_mib,
        converged,
    })
}
