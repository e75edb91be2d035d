//! The bootstrap benchmark (`ledger-bench bootstrap`): a county whose bureau imported a ledger
//! file of N rows (one row a case) and uploaded it through a real hub over TLS on loopback, then
//! a fresh bureau device pulling every case. The pull runs in a fresh process (the benchmark
//! re-executes itself with the hidden `bootstrap-probe` subcommand) so its CPU time is its own.
//! When there is a `strace`, a second fresh device then pulls again under it, which counts its
//! fsyncs: the tracer stops every thread it follows and slowed the timed pull by a quarter to
//! nearly twice its time, so the timed pull runs untraced.
//!
//! Beside the figures it measures the floors: the bytes of the documents the hub holds, saved
//! and compressed with zstd as one stream (what a page could carry at best), and the time of
//! loading every one of them with Automerge and inserting them into SQLite in one transaction
//! (what an apply could take at best).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ledger_client::{SyncConfig, SyncTarget, sync_until_done};
use ledger_domain::Role;
use ledger_domain::automerge::{Automerge, Change};
use ledger_office::{HubAddress, ImportOptions, Office, Unlock};
use ledger_protocol::DocKind;
use ledger_tests::{FaultProxy, LinkProfile, TestHub, clock_at, test_trust};
use serde::{Deserialize, Serialize};

use crate::data::{Generator, LAST_DAY};
use crate::error::{BenchError, Result};
use crate::measure::{cpu_seconds, round3};

/// The day every office's clock shows.
const TODAY: &str = "2026-11-20";

/// What to run.
#[derive(Debug, Clone)]
pub struct BootstrapOptions {
    /// Rows of the bureau's ledger file, one case each.
    pub cases: usize,
    /// The data seed.
    pub seed: u64,
    /// This benchmark's executable, re-run as the pulling device.
    pub exe: PathBuf,
    /// The fresh device's store encrypted (as the app keeps it), or plain.
    pub encrypted: Option<Unlock>,
    /// Round trip time of the pull's link (zero: loopback as it is).
    pub rtt: Duration,
    /// The pulling device reads the next page while it applies one.
    pub read_ahead: bool,
}

/// What the pulling device measured, in its own process.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PullReport {
    /// Wall time of the pull, seconds.
    pub seconds: f64,
    /// CPU time (user + system, every thread) of the pull, seconds.
    pub cpu_seconds: f64,
    /// Exchanges with the hub.
    pub rounds: usize,
    /// Records applied.
    pub records: usize,
    /// Cases in the store afterwards.
    pub cases: u64,
}

/// Byte figures of the pull.
#[derive(Debug, Clone, Serialize)]
pub struct Bytes {
    /// HTTP bytes from the hub to the device (headers and bodies, TLS included).
    pub down: u64,
    /// HTTP bytes from the device to the hub.
    pub up: u64,
    /// Both, per case.
    pub per_case: f64,
    /// The hub's documents saved as Automerge saves them (deflated columns), concatenated and
    /// compressed with zstd level 3, per case.
    pub saved_zstd_per_case: f64,
    /// The same saved without deflate, so zstd sees across documents, per case.
    pub undeflated_zstd_per_case: f64,
    /// The undeflated stream at zstd's strongest setting (level 19, long-distance matching):
    /// what compression alone could reach with all the time in the world.
    pub undeflated_zstd19_per_case: f64,
    /// The undeflated stream at level 3 with a 112 KiB dictionary trained on the first tenth
    /// of the documents (the dictionary itself not counted): what a dictionary both ends held
    /// would save.
    pub dictionary_zstd_per_case: f64,
    /// The ledger file's rows compressed with zstd level 3, per case: the content itself.
    pub csv_zstd_per_case: f64,
}

/// The floors, measured on this machine in this run.
#[derive(Debug, Clone, Serialize)]
pub struct Floor {
    /// Documents the hub holds for the bureau.
    pub documents: usize,
    /// `Automerge::load` of every document, seconds.
    pub load_s: f64,
    /// Inserting every document's bytes into a fresh SQLite file in one transaction, with the
    /// store's settings (WAL, synchronous FULL), seconds.
    pub insert_s: f64,
}

/// Everything `ledger-bench bootstrap` prints.
#[derive(Debug, Clone, Serialize)]
pub struct BootstrapReport {
    /// `bootstrap`.
    pub benchmark: &'static str,
    /// Cases (ledger rows).
    pub cases: usize,
    /// The fresh device's store: `plain`, `keyring` or `passphrase`.
    pub encryption: &'static str,
    /// Importing the ledger file at the bureau, seconds.
    pub import_s: f64,
    /// The bureau's upload of every case, seconds.
    pub upload_s: f64,
    /// CPU time of this process (the bureau's store, its client, the hub and its TLS) during
    /// the upload, seconds: steadier than the wall time on a busy machine.
    pub upload_cpu_s: f64,
    /// Round trip time of the pull's link, ms.
    pub rtt_ms: u64,
    /// Whether the device read ahead.
    pub read_ahead: bool,
    /// The pull.
    pub pull: PullReport,
    /// fsync and fdatasync calls of a second pull under strace (None without strace).
    pub fsyncs: Option<u64>,
    /// The time those calls took, seconds (wall time, strace's own figure).
    pub fsync_s: Option<f64>,
    /// The wall time of that traced pull, seconds (what this benchmark reported as the pull's
    /// time before it timed the pull untraced).
    pub traced_pull_s: Option<f64>,
    /// CPU time of the hub's process (the hub, its TLS and the byte-counting proxy) while the
    /// device pulled, seconds.
    pub hub_cpu_seconds: f64,
    /// The bytes.
    pub bytes: Bytes,
    /// The floors.
    pub floor: Floor,
}

fn config() -> SyncConfig {
    SyncConfig { request_timeout: Duration::from_secs(120), ..SyncConfig::default() }
}

/// Runs the benchmark.
pub async fn run(opts: &BootstrapOptions) -> Result<BootstrapReport> {
    let hub = TestHub::start().await.map_err(BenchError::other)?;
    let proxy = FaultProxy::start(hub.addr(), LinkProfile::clean()).await?;
    let token = hub
        .add_office("county", "洞口县国土资源局", Role::Bureau, &[])
        .map_err(BenchError::other)?;
    let work = tempfile::tempdir()?;
    let bureau = Arc::new(enroll(&proxy.url(), &token, &work.path().join("bureau"), None).await?);

    let (csv, csv_zstd) = ledger_file(opts, &work.path().join("ledger.csv"))?;
    eprintln!("bootstrap: importing {} rows at the bureau", opts.cases);
    let started = Instant::now();
    let report = bureau.import_csv(&csv, ImportOptions::default(), &mut |_| {})?;
    let import_s = round3(started.elapsed().as_secs_f64());
    if report.cases != opts.cases || !report.invalid.is_empty() {
        return Err(BenchError::Import(format!(
            "{} cases of {} rows, {} invalid",
            report.cases,
            opts.cases,
            report.invalid.len()
        )));
    }
    let started = Instant::now();
    let cpu = cpu_seconds()?;
    let uploaded = sync(bureau.clone(), &config()).await?;
    let upload_s = round3(started.elapsed().as_secs_f64());
    let upload_cpu_s = round3(cpu_seconds()? - cpu);
    eprintln!(
        "bootstrap: import {import_s} s, upload {upload_s} s ({} changes)",
        uploaded.uploaded
    );
    drop(bureau);

    let saved = floor_bytes(&hub)?;
    let floor = time_floor(&saved.documents, work.path())?;
    eprintln!("bootstrap: floor: load {} s, insert {} s", floor.load_s, floor.insert_s);

    let device = work.path().join("device");
    let token = hub.token("county").map_err(BenchError::other)?;
    drop(enroll(&proxy.url(), &token, &device, opts.encrypted.clone()).await?);
    proxy.set_profile(LinkProfile::clean().with_rtt(opts.rtt));
    let before = proxy.stats();
    let hub_cpu = cpu_seconds()?;
    let (pull, _) = spawn_probe(&opts.exe, &device, work.path(), opts.read_ahead, None)?;
    let hub_cpu_seconds = round3(cpu_seconds()? - hub_cpu);
    let moved = proxy.stats().since(&before);
    let (mut fsyncs, mut fsync_s, mut traced_pull_s) = (None, None, None);
    if let Some(strace) = which("strace") {
        let again = work.path().join("device-traced");
        let token = hub.token("county").map_err(BenchError::other)?;
        drop(enroll(&proxy.url(), &token, &again, opts.encrypted.clone()).await?);
        let traced = spawn_probe(&opts.exe, &again, work.path(), opts.read_ahead, Some(&strace))?;
        if let (traced, Some((n, s))) = traced {
            (fsyncs, fsync_s, traced_pull_s) = (Some(n), Some(s), Some(traced.seconds));
        }
    }
    let cases = opts.cases.max(1) as f64;
    let per_case = |bytes: usize| round3(bytes as f64 / cases);
    Ok(BootstrapReport {
        benchmark: "bootstrap",
        cases: opts.cases,
        encryption: crate::local::encryption_name(opts.encrypted.as_ref()),
        import_s,
        upload_s,
        upload_cpu_s,
        rtt_ms: u64::try_from(opts.rtt.as_millis()).unwrap_or(u64::MAX),
        read_ahead: opts.read_ahead,
        pull,
        fsyncs,
        fsync_s,
        traced_pull_s,
        hub_cpu_seconds,
        bytes: Bytes {
            down: moved.bytes_down,
            up: moved.bytes_up,
            per_case: round3((moved.bytes_down + moved.bytes_up) as f64 / cases),
            saved_zstd_per_case: per_case(saved.deflated_zstd),
            undeflated_zstd_per_case: per_case(saved.undeflated_zstd),
            undeflated_zstd19_per_case: per_case(saved.undeflated_zstd19),
            dictionary_zstd_per_case: per_case(saved.dictionary_zstd),
            csv_zstd_per_case: per_case(csv_zstd),
        },
        floor,
    })
}

async fn enroll(hub: &str, token: &str, dir: &Path, unlock: Option<Unlock>) -> Result<Office> {
    let enrollment = ledger_office::Enrollment {
        hub: HubAddress { url: hub.to_owned(), ca_pem: test_trust(hub), ..HubAddress::default() },
        token: token.to_owned(),
        staff: vec!["刘洪".to_owned()],
        device_name: "bench".to_owned(),
        unlock,
    };
    Ok(Office::enroll(dir, &enrollment, clock_at(TODAY)).await?.office)
}

async fn sync(office: Arc<Office>, config: &SyncConfig) -> Result<ledger_client::SyncReport> {
    let client = office.hub_client(config.request_timeout)?;
    let target: Arc<dyn SyncTarget> = office;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3600);
    let mut budget = config.first_batch();
    sync_until_done(&client, &target, config, deadline, &mut budget)
        .await
        .map_err(BenchError::other)
}

/// Writes the bureau's ledger file: `cases` rows, each its own case. Returns its path and the
/// zstd size of its rows.
fn ledger_file(opts: &BootstrapOptions, path: &Path) -> Result<(PathBuf, usize)> {
    let end = LAST_DAY.min(TODAY.parse().map_err(BenchError::other)?);
    // The generator writes repeat visits as further rows of a case: keep each case's first.
    let mut seen = std::collections::BTreeSet::new();
    let mut rows = Vec::with_capacity(opts.cases);
    let mut data = Generator::new(opts.seed);
    while rows.len() < opts.cases {
        for row in data.ledger_rows(opts.cases * 2, end) {
            if rows.len() < opts.cases && seen.insert(row[0].clone()) {
                rows.push(row);
            }
        }
    }
    let body = crate::local::ledger_csv_rows(&rows);
    std::fs::write(path, crate::local::ledger_csv_header() + &body)?;
    Ok((path.to_path_buf(), zstd::bulk::compress(body.as_bytes(), 3)?.len()))
}

/// The hub's documents as Automerge saves them, and the zstd sizes of all of them concatenated.
struct Saved {
    documents: Vec<Vec<u8>>,
    /// Saved with DEFLATE (Automerge's default), then zstd.
    deflated_zstd: usize,
    /// Saved without it, then zstd.
    undeflated_zstd: usize,
    /// Saved without it, then zstd level 19 with long-distance matching.
    undeflated_zstd19: usize,
    /// Saved without it, then zstd with a dictionary trained on a tenth of them.
    dictionary_zstd: usize,
}

/// Every document the hub holds for the bureau, saved both ways.
fn floor_bytes(hub: &TestHub) -> Result<Saved> {
    let conn = rusqlite::Connection::open(hub.dir().join(ledger_hub::sqlite::DB_FILE))?;
    let mut stmt = conn.prepare("SELECT case_id, kind FROM docs")?;
    let keys: Vec<(String, i64)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    let (mut deflated, mut undeflated, mut docs) = (Vec::new(), Vec::new(), Vec::new());
    let mut samples = Vec::new();
    for (case, kind) in &keys {
        let id: ledger_domain::CaseId = case.parse().map_err(BenchError::other)?;
        // The case documents and their identities: the roster and rules are the county's own.
        let kind = match kind {
            0 => DocKind::Case,
            1 => DocKind::Identity,
            _ => continue,
        };
        let Some((snapshot, tail)) = hub.store().doc(id, kind).map_err(BenchError::other)? else {
            continue;
        };
        let mut doc = Automerge::load(&snapshot).map_err(BenchError::other)?;
        let changes: Vec<Change> =
            tail.into_iter().filter_map(|b| Change::from_bytes(b).ok()).collect();
        doc.apply_changes(changes).map_err(BenchError::other)?;
        let saved = doc.save();
        deflated.extend_from_slice(&saved);
        let plain = doc.save_with_options(ledger_domain::automerge::SaveOptions {
            deflate: false,
            ..Default::default()
        });
        if samples.len() * 10 < keys.len() {
            samples.push(plain.clone());
        }
        undeflated.extend(plain);
        docs.push(saved);
    }
    let zstd = |bytes: &[u8]| zstd::bulk::compress(bytes, 3).map(|c| c.len());
    Ok(Saved {
        documents: docs,
        deflated_zstd: zstd(&deflated)?,
        undeflated_zstd: zstd(&undeflated)?,
        undeflated_zstd19: strongest_zstd(&undeflated)?,
        dictionary_zstd: dictionary_zstd(&samples, &undeflated)?,
    })
}

/// Size of `bytes` at zstd level 19 with long-distance matching over a 128 MiB window.
fn strongest_zstd(bytes: &[u8]) -> Result<usize> {
    let mut encoder = zstd::stream::Encoder::new(Vec::new(), 19)?;
    encoder.long_distance_matching(true)?;
    encoder.window_log(27)?;
    std::io::Write::write_all(&mut encoder, bytes)?;
    Ok(encoder.finish()?.len())
}

/// Size of `bytes` at level 3 with a dictionary trained on `samples`.
fn dictionary_zstd(samples: &[Vec<u8>], bytes: &[u8]) -> Result<usize> {
    let dictionary = zstd::dict::from_samples(samples, 112 * 1024)?;
    let mut compressor = zstd::bulk::Compressor::with_dictionary(3, &dictionary)?;
    Ok(compressor.compress(bytes)?.len())
}

/// Loads every document and inserts every one into a fresh SQLite file in one transaction.
fn time_floor(documents: &[Vec<u8>], dir: &Path) -> Result<Floor> {
    let started = Instant::now();
    for bytes in documents {
        Automerge::load(bytes).map_err(BenchError::other)?;
    }
    let load_s = round3(started.elapsed().as_secs_f64());
    let mut conn = rusqlite::Connection::open(dir.join("floor.db"))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, snapshot BLOB NOT NULL)", [])?;
    let started = Instant::now();
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare("INSERT INTO docs (snapshot) VALUES (?1)")?;
        for bytes in documents {
            insert.execute([bytes])?;
        }
    }
    tx.commit()?;
    let insert_s = round3(started.elapsed().as_secs_f64());
    Ok(Floor { documents: documents.len(), load_s, insert_s })
}

/// Runs `exe bootstrap-probe --dir DIR`, under `strace -c` for its fsyncs when given one.
fn spawn_probe(
    exe: &Path,
    dir: &Path,
    work: &Path,
    read_ahead: bool,
    strace: Option<&Path>,
) -> Result<(PullReport, Option<(u64, f64)>)> {
    let counts = work.join("strace.txt");
    let mut command = match strace {
        Some(strace) => {
            let mut c = Command::new(strace);
            c.args(["-f", "--seccomp-bpf", "-c", "-w", "-e", "trace=fsync,fdatasync", "-o"])
                .arg(&counts)
                .arg(exe);
            c
        }
        None => Command::new(exe),
    };
    command.arg("bootstrap-probe").arg("--dir").arg(dir);
    if !read_ahead {
        command.arg("--no-read-ahead");
    }
    let output = command.stderr(Stdio::inherit()).output()?;
    if !output.status.success() {
        return Err(BenchError::Probe(format!("bootstrap probe exited with {}", output.status)));
    }
    let report: PullReport = serde_json::from_slice(&output.stdout)?;
    let fsyncs = match strace {
        Some(_) => Some(fsync_calls(&std::fs::read_to_string(&counts)?)),
        None => None,
    };
    Ok((report, fsyncs))
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.is_file())
}

/// The calls and seconds of `strace -c`'s fsync and fdatasync rows.
fn fsync_calls(summary: &str) -> (u64, f64) {
    summary
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let name = *fields.last()?;
            // % time, seconds, usecs/call, calls, [errors,] syscall
            if name != "fsync" && name != "fdatasync" {
                return None;
            }
            Some((fields.get(3)?.parse::<u64>().ok()?, fields.get(1)?.parse::<f64>().ok()?))
        })
        .fold((0, 0.0), |(n, s), (calls, secs)| (n + calls, s + secs))
}

/// The pulling device: opens the store in `dir` and syncs until nothing is left.
pub fn probe(dir: &Path, read_ahead: bool) -> Result<PullReport> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let office = Arc::new(crate::local::open_office(dir)?);
    let cpu = cpu_seconds()?;
    let started = Instant::now();
    let config = SyncConfig { read_ahead, ..config() };
    let report = runtime.block_on(sync(office.clone(), &config))?;
    let seconds = round3(started.elapsed().as_secs_f64());
    let cpu_seconds = round3(cpu_seconds()? - cpu);
    let cases = office.list(&ledger_office::CaseQuery { limit: Some(0), ..Default::default() })?;
    Ok(PullReport {
        seconds,
        cpu_seconds,
        rounds: report.rounds,
        records: report.downloaded,
        cases: cases.total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fsyncs_are_read_from_strace_summaries() {
        let summary = "% time     seconds  usecs/call     calls    errors syscall\n\
            ------ ----------- ----------- --------- --------- ----------------\n\
             98.00    0.120000          12      9876           fdatasync\n\
              2.00    0.002000          10       200         3 fsync\n\
            ------ ----------- ----------- --------- --------- ----------------\n\
            100.00    0.122000          12     10076         3 total\n";
        let (calls, seconds) = fsync_calls(summary);
        assert_eq!(calls, 10_076);
        assert!((seconds - 0.122).abs() < 1e-9, "{seconds}");
        assert_eq!(fsync_calls(""), (0, 0.0));
    }
}
