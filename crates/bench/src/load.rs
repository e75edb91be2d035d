//! The hub load benchmark (issue 15): `ledger-bench hub --offices 1000` runs a working day of a
//! city's offices against real `ledger-hub serve` processes (on SQLite, or one or more on one
//! PostgreSQL database), this process being the load generator.
//!
//! The day: the hub first holds the seeded cases (the bureau's ledger, spread over one township
//! per township office, uploaded by the bureau), and every office has enrolled and taken its
//! share. Then a working day of `DAY_MINUTES` is compressed into the run: every office syncs
//! every `sync_every` minutes of the day (its first sync at a random moment of the first
//! interval, each next one 80-120 % of an interval later) and acts `acts_per_day` times at
//! random moments: a township investigates a case assigned to it, replies to one it
//! investigated, or registers a new one; the bureau registers a case and assigns it down.
//!
//! Figures: changes the hubs acknowledged per second of the run, sync latency (the wall time of
//! one whole sync as the office sees it, every round until nothing is left) at p50 and p99, each
//! hub's peak memory and CPU, this process's CPU, and the database's size.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use ledger_client::{SyncConfig, SyncTarget, sync_until_done};
use ledger_domain::schema::Draft;
use ledger_domain::{ActionKind, Role, Status};
use ledger_office::{ActionInput, Office};
use ledger_tests::TestOffice;
use serde::Serialize;

use crate::data::Generator;
use crate::error::{BenchError, Result};
use crate::fleet::act;
use crate::hubproc::{HubProcess, HubSite, hub_binary, office_token};
use crate::measure::{MachineCpu, cpu_seconds, cpu_seconds_named, nearest_rank, round3};
use crate::rng::Rng;

/// Minutes in the working day the run compresses (08:00 to 12:00 and 14:00 to 18:00).
const DAY_MINUTES: f64 = 480.0;

/// The day every office lives on.
const TODAY: &str = "2026-11-20";

/// Offices enrolling at once while the benchmark sets up.
const ENROLL_AT_ONCE: usize = 8;

/// What to run.
#[derive(Debug, Clone)]
pub struct HubLoadOptions {
    /// Offices: the bureau and N-1 townships, each answering for a township of its own.
    pub offices: usize,
    /// Cases the hub holds before the day starts.
    pub cases: usize,
    /// Wall-clock minutes the working day is compressed into.
    pub minutes: f64,
    /// Minutes of the working day between an office's syncs.
    pub sync_every: f64,
    /// Cases each office registers or acts on in the day.
    pub acts_per_day: usize,
    /// The hubs keep their records in PostgreSQL (a fresh database on the server
    /// `LEDGER_TEST_PG` names) instead of SQLite.
    pub postgres: bool,
    /// Hub processes serving the database (offices spread over them round-robin).
    pub hubs: usize,
    /// Seed of the generated data and of the offices' timetables.
    pub seed: u64,
    /// This executable (the hub binary sits beside it).
    pub exe: PathBuf,
}

/// The report.
#[derive(Debug, Serialize)]
pub struct HubLoadReport {
    /// Always "hub".
    pub benchmark: &'static str,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Hub processes.
    pub hubs: usize,
    /// Offices.
    pub offices: usize,
    /// Cases at the hub before the day.
    pub seeded_cases: usize,
    /// Wall time of setting up (seeding, enrolling, every office's first pull).
    pub setup_seconds: f64,
    /// Wall time of the day.
    pub run_seconds: f64,
    /// Seconds between one office's syncs (the day's interval compressed).
    pub sync_interval_seconds: f64,
    /// Syncs that completed.
    pub syncs: usize,
    /// Syncs that failed (after the client's own retries).
    pub failed_syncs: usize,
    /// Syncs left out because the office's previous sync ran past the next one's time (a
    /// saturated hub shows here first).
    pub skipped_syncs: usize,
    /// Syncs per second of the run.
    pub syncs_per_second: f64,
    /// Cases registered or acted on.
    pub acts: usize,
    /// Changes the hubs acknowledged.
    pub changes_up: usize,
    /// Changes the hubs refused (0 in an honest run).
    pub refused: usize,
    /// Records the offices pulled.
    pub records_down: usize,
    /// `changes_up` per second of the run.
    pub changes_per_second: f64,
    /// Sync latency, median (ms).
    pub sync_p50_ms: f64,
    /// Sync latency, 99th percentile (ms).
    pub sync_p99_ms: f64,
    /// The slowest sync (ms).
    pub sync_max_ms: f64,
    /// Each hub's peak resident memory (MiB).
    pub hub_peak_mib: Vec<f64>,
    /// Each hub's CPU time over the run (s).
    pub hub_cpu_seconds: Vec<f64>,
    /// The load generator's (this process's) CPU time over the run (s).
    pub generator_cpu_seconds: f64,
    /// CPU seconds of the PostgreSQL server's processes in the day (0 on SQLite).
    pub database_cpu_seconds: f64,
    /// Share of the machine's cores busy in the day (0 to 1): the hubs, the database server
    /// and this generator share them.
    pub machine_busy: f64,
    /// The hub's database at the end: SQLite's file and its write-ahead log, or
    /// `pg_database_size`.
    pub database_bytes: u64,
    /// The bureau's first repeat query (重复信访提示) after the seeded cases arrived: the hub's
    /// index catches up with every one of them (ms).
    pub repeat_first_ms: f64,
    /// The next query, the index current (ms).
    pub repeat_next_ms: f64,
}

/// The township office `i` (1-based) answers for.
fn township_name(i: usize) -> String {
    format!("第{i:04}乡")
}

fn config() -> SyncConfig {
    SyncConfig {
        request_timeout: Duration::from_secs(60),
        backoff_base: Duration::from_millis(200),
        backoff_max: Duration::from_secs(2),
        ..SyncConfig::default()
    }
}

/// One office's work for the day.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Event {
    Sync,
    Act,
}

/// A uniform fraction in [0, 1).
fn fraction(rng: &mut Rng) -> f64 {
    rng.below(1_000_000) as f64 / 1_000_000.0
}

/// The office's timetable: (seconds into the run, what), in order.
fn timetable(rng: &mut Rng, run: f64, interval: f64, acts: usize) -> Vec<(f64, Event)> {
    let mut events = Vec::new();
    let mut at = fraction(rng) * interval;
    while at < run {
        events.push((at, Event::Sync));
        at += interval * (0.8 + 0.4 * fraction(rng));
    }
    events.extend((0..acts).map(|_| (fraction(rng) * run, Event::Act)));
    events.sort_by(|a, b| a.0.total_cmp(&b.0));
    events
}

/// What one office did in the day.
#[derive(Debug, Default)]
struct Tally {
    latencies_ms: Vec<f64>,
    failed: usize,
    skipped: usize,
    acts: usize,
    uploaded: usize,
    refused: usize,
    downloaded: usize,
}

/// The bureau registers a case and assigns it to a township.
fn bureau_act(office: &Office, data: &mut Generator, today: NaiveDate) -> Result<()> {
    let input = data.new_case(today);
    let township = input.township.clone();
    let id = office.register(&input, None)?;
    office.act(id, &ActionInput { target: Some(township), ..act(ActionKind::Assign) })?;
    Ok(())
}

/// A township acts on a case waiting for it (a few tries at random), or registers a new one.
fn township_act(
    office: &Office,
    data: &mut Generator,
    rng: &mut Rng,
    today: NaiveDate,
) -> Result<()> {
    let ids = office.store().case_ids()?;
    for _ in 0..4 {
        if ids.is_empty() {
            break;
        }
        let id = ids[rng.index(ids.len())];
        let Ok(view) = office.view(id) else { continue };
        match view.status {
            Status::Assigned => {
                office.set_draft(id, Draft::Investigation, "现场核实情况，已拍照取证。")?;
                office.act(id, &act(ActionKind::Investigate))?;
                return Ok(());
            }
            Status::InProgress => {
                let reply = ActionInput {
                    text: Some("经调查核实，已依法处理并书面答复。".into()),
                    ..act(ActionKind::Reply)
                };
                office.act(id, &reply)?;
                return Ok(());
            }
            _ => {}
        }
    }
    let id = office.register(&data.new_case(today), None)?;
    office.set_draft(id, Draft::Investigation, "已登记，待现场核实。")?;
    Ok(())
}

/// One office's day.
async fn day(
    office: TestOffice,
    bureau: bool,
    events: Vec<(f64, Event)>,
    start: tokio::time::Instant,
    mut data: Generator,
    mut rng: Rng,
) -> Result<Tally> {
    let today: NaiveDate = TODAY.parse().map_err(BenchError::other)?;
    let target: Arc<dyn SyncTarget> = office.office.clone();
    let mut tally = Tally::default();
    for (i, &(at, event)) in events.iter().enumerate() {
        tokio::time::sleep_until(start + Duration::from_secs_f64(at)).await;
        // An office's sync timer does not queue: a sync whose successor is already due (the
        // last one took longer than the interval) is left out, as the app's timer would.
        let next_sync = events[i + 1..].iter().find(|(_, e)| *e == Event::Sync);
        let now = start.elapsed().as_secs_f64();
        if event == Event::Sync && next_sync.is_some_and(|&(t, _)| t <= now) {
            tally.skipped += 1;
            continue;
        }
        match event {
            Event::Act => {
                if bureau {
                    bureau_act(&office.office, &mut data, today)?;
                } else {
                    township_act(&office.office, &mut data, &mut rng, today)?;
                }
                tally.acts += 1;
            }
            Event::Sync => {
                let began = Instant::now();
                let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
                let mut budget = office.config.first_batch();
                match sync_until_done(
                    office.client(),
                    &target,
                    &office.config,
                    deadline,
                    &mut budget,
                )
                .await
                {
                    Ok(report) => {
                        tally.latencies_ms.push(began.elapsed().as_secs_f64() * 1000.0);
                        tally.uploaded += report.uploaded;
                        tally.refused += report.refused;
                        tally.downloaded += report.downloaded;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "sync failed");
                        tally.failed += 1;
                    }
                }
            }
        }
    }
    Ok(tally)
}

/// The hubs' data directories, offices and tokens made; PostgreSQL's database when asked.
struct Setup {
    site: HubSite,
    tokens: Vec<String>,
    townships: Vec<String>,
}

fn prepare(opts: &HubLoadOptions) -> Result<Setup> {
    let site = HubSite::prepare(opts.hubs, opts.postgres)?;
    let store = &site.store;
    let townships: Vec<String> = (1..opts.offices.max(2)).map(township_name).collect();
    store.set_county_townships(&townships)?;
    let mut tokens =
        vec![office_token(store.as_ref(), "county", "市国土资源局", Role::Bureau, &[])?];
    for (i, township) in townships.iter().enumerate() {
        let code = format!("t{:04}", i + 1);
        let name = format!("{township}国土所");
        tokens.push(office_token(
            store.as_ref(),
            &code,
            &name,
            Role::Township,
            std::slice::from_ref(township),
        )?);
    }
    Ok(Setup { site, tokens, townships })
}

/// Enrolls every township office (a few at once) and lets each take its share of the county.
async fn enroll_townships(
    hubs: &[HubProcess],
    tokens: &[String],
) -> Result<Vec<(usize, TestOffice)>> {
    let mut offices = Vec::new();
    let mut next = 1;
    while next < tokens.len() {
        let mut tasks = tokio::task::JoinSet::new();
        for i in next..(next + ENROLL_AT_ONCE).min(tokens.len()) {
            let url = hubs[i % hubs.len()].url();
            let token = tokens[i].clone();
            tasks.spawn(async move {
                let mut office = TestOffice::enroll(&url, &token, "李娟", TODAY).await?;
                office.set_config(config())?;
                office.sync().await?;
                anyhow::Ok((i, office))
            });
        }
        while let Some(done) = tasks.join_next().await {
            offices.push(done.map_err(BenchError::other)?.map_err(BenchError::other)?);
        }
        next += ENROLL_AT_ONCE;
        if next % 100 < ENROLL_AT_ONCE {
            eprintln!("hub: {} of {} offices enrolled", offices.len() + 1, tokens.len());
        }
    }
    Ok(offices)
}

fn database_bytes(setup: &Setup) -> Result<u64> {
    if let Some(db) = &setup.site.db {
        return db.size_bytes().map_err(BenchError::other);
    }
    let mut total = 0;
    for entry in std::fs::read_dir(setup.site.dirs[0].path())? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(ledger_hub::sqlite::DB_FILE) {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}

/// Times two repeat queries of the bureau's: the first makes the hub's index read every case
/// the seeding brought, the second finds it current.
async fn repeat_queries(bureau: &TestOffice, hub: &str) -> Result<(f64, f64)> {
    let client =
        bureau.office.hub_client(std::time::Duration::from_secs(600)).map_err(BenchError::other)?;
    let credential = bureau
        .office
        .store()
        .meta("sync.credential")
        .map_err(BenchError::other)?
        .ok_or_else(|| BenchError::other("the bureau holds no credential"))?;
    let query = ledger_protocol::RepeatQuery { id_numbers: vec!["11010519491231002X".to_owned()] };
    let mut times = Vec::new();
    for _ in 0..2 {
        let began = Instant::now();
        client.repeat(hub, &credential, &query).await.map_err(BenchError::other)?;
        times.push(began.elapsed().as_secs_f64() * 1000.0);
    }
    Ok((times[0], times[1]))
}

/// Runs the benchmark.
pub async fn run(opts: &HubLoadOptions) -> Result<HubLoadReport> {
    let binary = hub_binary(&opts.exe)?;
    let began = Instant::now();
    let setup = prepare(opts)?;
    let hubs = setup.site.start(&binary)?;
    eprintln!("hub: {} hub process(es) up; the bureau seeds {} cases", hubs.len(), opts.cases);

    let mut bureau = TestOffice::enroll(&hubs[0].url(), &setup.tokens[0], "刘洪", TODAY)
        .await
        .map_err(BenchError::other)?;
    bureau.set_config(config()).map_err(BenchError::other)?;
    let mut seed_data = Generator::with_townships(opts.seed, setup.townships.clone());
    crate::local::populate(&bureau.office, &mut seed_data, opts.cases)?;
    let seeded = crate::sync::upload_all(std::iter::once(&bureau)).await?;
    eprintln!("hub: {} changes seeded; enrolling {} townships", seeded.uploaded, opts.offices - 1);
    let (repeat_first_ms, repeat_next_ms) = repeat_queries(&bureau, &hubs[0].url()).await?;
    eprintln!("hub: repeat query {repeat_first_ms:.0} ms catching up, then {repeat_next_ms:.1} ms");
    let mut offices = vec![(0, bureau)];
    offices.extend(enroll_townships(&hubs, &setup.tokens).await?);
    // The bureau takes what the townships' first syncs brought (their rosters).
    offices[0].1.sync().await.map_err(BenchError::other)?;
    let setup_seconds = began.elapsed().as_secs_f64();

    let run = opts.minutes * 60.0;
    let interval = opts.sync_every * run / DAY_MINUTES;
    eprintln!(
        "hub: {} offices ready in {setup_seconds:.0} s; the day runs {run:.0} s, a sync every {interval:.2} s",
        offices.len()
    );
    let hub_cpu: Vec<f64> = hubs.iter().map(HubProcess::cpu_seconds).collect();
    let cpu = cpu_seconds()?;
    let database_cpu = cpu_seconds_named("postgres")?;
    let machine = MachineCpu::now()?;
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for (i, office) in offices {
        let mut rng = Rng::new(opts.seed ^ (0x10AD_0000 + i as u64));
        let events = timetable(&mut rng, run, interval, opts.acts_per_day);
        let data = if i == 0 {
            Generator::with_townships(opts.seed + 1, setup.townships.clone())
        } else {
            Generator::with_townships(opts.seed + 1 + i as u64, vec![township_name(i)])
        };
        tasks.push(tokio::spawn(day(office, i == 0, events, start, data, rng)));
    }
    let mut latencies = Vec::new();
    let mut total = Tally::default();
    for task in tasks {
        let tally = task.await.map_err(BenchError::other)??;
        latencies.extend(tally.latencies_ms);
        total.failed += tally.failed;
        total.skipped += tally.skipped;
        total.acts += tally.acts;
        total.uploaded += tally.uploaded;
        total.refused += tally.refused;
        total.downloaded += tally.downloaded;
    }
    let run_seconds = start.elapsed().as_secs_f64();
    let generator_cpu_seconds = round3(cpu_seconds()? - cpu);
    let database_cpu_seconds =
        if opts.postgres { round3(cpu_seconds_named("postgres")? - database_cpu) } else { 0.0 };
    let machine_busy = MachineCpu::now()?.busy_since(&machine);
    let hub_cpu_seconds =
        hubs.iter().zip(hub_cpu).map(|(h, before)| round3(h.cpu_seconds() - before)).collect();
    let hub_peak_mib = hubs.iter().map(|h| h.memory().peak_resident_mib).collect();
    drop(hubs);
    let database_bytes = database_bytes(&setup)?;
    latencies.sort_by(f64::total_cmp);
    Ok(HubLoadReport {
        repeat_first_ms: round3(repeat_first_ms),
        repeat_next_ms: round3(repeat_next_ms),
        benchmark: "hub",
        backend: if opts.postgres { "postgres" } else { "sqlite" },
        hubs: setup.site.dirs.len(),
        offices: opts.offices,
        seeded_cases: opts.cases,
        setup_seconds: round3(setup_seconds),
        run_seconds: round3(run_seconds),
        sync_interval_seconds: round3(interval),
        syncs: latencies.len(),
        failed_syncs: total.failed,
        skipped_syncs: total.skipped,
        syncs_per_second: round3(latencies.len() as f64 / run_seconds),
        acts: total.acts,
        changes_up: total.uploaded,
        refused: total.refused,
        records_down: total.downloaded,
        changes_per_second: round3(total.uploaded as f64 / run_seconds),
        sync_p50_ms: round3(nearest_rank(&latencies, 50)),
        sync_p99_ms: round3(nearest_rank(&latencies, 99)),
        sync_max_ms: round3(latencies.last().copied().unwrap_or(0.0)),
        hub_peak_mib,
        hub_cpu_seconds,
        generator_cpu_seconds,
        database_cpu_seconds,
        machine_busy,
        database_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timetable_spreads_syncs_and_acts_over_the_run() {
        let mut rng = Rng::new(7);
        let events = timetable(&mut rng, 600.0, 6.25, 5);
        let syncs: Vec<f64> =
            events.iter().filter(|(_, e)| *e == Event::Sync).map(|(at, _)| *at).collect();
        assert_eq!(events.iter().filter(|(_, e)| *e == Event::Act).count(), 5);
        assert!(events.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(events.iter().all(|(at, _)| (0.0..600.0).contains(at)));
        assert!(syncs[0] < 6.25);
        assert!(syncs.windows(2).all(|w| (5.0..=7.5).contains(&(w[1] - w[0]))));
        // 600 s at 6.25 s ± 20 %: about 96 syncs.
        assert!((80..=120).contains(&syncs.len()), "{}", syncs.len());
    }
}
