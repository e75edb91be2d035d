//! `ledger-bench`: Petition Ledger's benchmarks, each printing one JSON object on stdout and its
//! progress on stderr. `local` measures an office store on disk; `open-probe` is the fresh
//! process `local` starts to measure opening a store.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use ledger_bench::local::{self, LocalOptions};
use ledger_bench::probe;

// The same allocator as the `ledger` binary, so memory and speed figures match what ships.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "ledger-bench", version, about = "Petition Ledger benchmarks (JSON on stdout)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Builds an office store of N realistic cases on disk and measures register, open, a
    /// filtered page, name and request search, and the import of a ledger file.
    Local {
        /// Cases in the store before measuring.
        #[arg(long, default_value_t = 20_000)]
        cases: usize,
        /// Rows of the ledger CSV imported into a fresh store.
        #[arg(long, default_value_t = 10_000)]
        import_rows: usize,
        /// Directory for the stores and the CSV (kept afterwards; must not hold them yet).
        /// A temporary directory when absent.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Samples per timed figure.
        #[arg(long, default_value_t = 200)]
        samples: usize,
        /// Fresh processes that open the store.
        #[arg(long, default_value_t = 5)]
        open_samples: usize,
        /// Seed of the generated data.
        #[arg(long, default_value_t = 20_170)]
        seed: u64,
        /// Encrypted stores (SQLCipher), the key in the keyring (`keyring`) or behind a
        /// passphrase (`passphrase`, Argon2 at every open), as the app keeps them.
        #[arg(long, value_parser = local::parse_unlock)]
        encrypted: Option<ledger_office::Unlock>,
    },
    /// A plain store against encrypted ones (passphrase, and keyring when a Secret Service
    /// answers) of the same N cases, measured in interleaved rounds; prints each figure's
    /// encrypted ÷ plain ratio against the 1.5x budget.
    Encryption {
        /// Cases in each store before measuring.
        #[arg(long, default_value_t = 20_000)]
        cases: usize,
        /// Rows of the ledger CSV imported per variant and round (0: no import).
        #[arg(long, default_value_t = 10_000)]
        import_rows: usize,
        /// Rounds; every variant is measured once in each.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Register and query samples per variant and round.
        #[arg(long, default_value_t = 60)]
        samples: usize,
        /// Open probes per variant and round.
        #[arg(long, default_value_t = 5)]
        open_samples: usize,
        /// Seed of the generated data.
        #[arg(long, default_value_t = 20_170)]
        seed: u64,
    },
    /// A real hub and offices: ingest from 25 offices at once, a fresh bureau pulling every
    /// case, and a sync with nothing new (HTTP bytes counted by the fault proxy).
    Sync {
        /// Cases the bureau holds and the hub receives.
        #[arg(long, default_value_t = 20_000)]
        cases: usize,
        /// Cases each of the 25 offices registers for the concurrent ingest.
        #[arg(long, default_value_t = 40)]
        per_office: usize,
        /// Seed of the generated data.
        #[arg(long, default_value_t = 20_170)]
        seed: u64,
    },
    /// N offices upload their day's work at once through one hub process on SQLite, or one or
    /// more on one PostgreSQL database (a fresh one on the server LEDGER_TEST_PG names):
    /// changes/s, and the hubs' CPU time (ledger-hub must be built beside this executable)
    Ingest {
        /// Offices uploading at once: the bureau and N-1 townships.
        #[arg(long, default_value_t = 25)]
        offices: usize,
        /// Cases each office registers before the upload.
        #[arg(long, default_value_t = 40)]
        per_office: usize,
        /// Keep the hubs' records in PostgreSQL.
        #[arg(long)]
        postgres: bool,
        /// Hubs serving the database (more than one needs --postgres).
        #[arg(long, default_value_t = 1)]
        hubs: usize,
        /// Seed of the generated data.
        #[arg(long, default_value_t = 20_170)]
        seed: u64,
    },
    /// A working day of N offices (each answering for a township of its own) compressed into a
    /// few minutes, against real hub processes pre-seeded with the bureau's cases: changes/s,
    /// sync latency p50/p99, hub memory and CPU, database size.
    Hub {
        /// Offices: the bureau and N-1 townships.
        #[arg(long, default_value_t = 1_000)]
        offices: usize,
        /// Cases the hub holds before the day starts.
        #[arg(long, default_value_t = 20_000)]
        cases: usize,
        /// Wall-clock minutes the working day (480 minutes) is compressed into.
        #[arg(long, default_value_t = 10.0)]
        minutes: f64,
        /// Minutes of the working day between one office's syncs.
        #[arg(long, default_value_t = 5.0)]
        sync_every: f64,
        /// Cases each office registers or acts on in the day.
        #[arg(long, default_value_t = 5)]
        acts_per_day: usize,
        /// Keep the hubs' records in PostgreSQL (a fresh database on the server LEDGER_TEST_PG
        /// names).
        #[arg(long)]
        postgres: bool,
        /// Hub processes serving the database (more than one needs --postgres).
        #[arg(long, default_value_t = 1)]
        hubs: usize,
        /// Seed of the generated data and the offices' timetables.
        #[arg(long, default_value_t = 20_170)]
        seed: u64,
    },
    /// A working month of N offices against a real hub process, every office behind its own
    /// fault proxy with the link profile.
    Fleet {
        /// Offices: the bureau and N-1 townships.
        #[arg(long, default_value_t = 25)]
        offices: usize,
        /// Cases the bureau registers over the month.
        #[arg(long, default_value_t = 200)]
        cases: usize,
        /// The link of every office, e.g. "rtt=300ms,rate=64kbit,cut-every=20KiB" (clean if absent).
        #[arg(long, default_value = "")]
        link: String,
        /// Working days.
        #[arg(long, default_value_t = 22)]
        days: usize,
        /// Seed of the generated data.
        #[arg(long, default_value_t = 20_170)]
        seed: u64,
    },
    /// A bureau imports a ledger file of N rows (one row a case) and uploads it through a real
    /// hub over TLS; a fresh device then pulls every case in its own process: time, CPU,
    /// fsyncs, bytes a case, against the floors (zstd of the documents, Automerge load and
    /// SQLite insert of every one).
    Bootstrap {
        /// Rows of the ledger file, one case each.
        #[arg(long, default_value_t = 5_000)]
        cases: usize,
        /// Seed of the generated data.
        #[arg(long, default_value_t = 20_170)]
        seed: u64,
        /// The fresh device's store encrypted, its key in the keyring (`keyring`) or behind a
        /// passphrase (`passphrase`); plain when absent.
        #[arg(long, value_parser = local::parse_unlock)]
        encrypted: Option<ledger_office::Unlock>,
        /// The pull over a link with this round trip time, ms (the upload stays on loopback).
        #[arg(long, default_value_t = 0)]
        rtt_ms: u64,
        /// The pulling device waits for each page to be applied before asking for the next.
        #[arg(long)]
        no_read_ahead: bool,
    },
    /// Opens the enrolled office store in DIR and syncs until nothing is left; prints time and
    /// CPU.
    #[command(hide = true)]
    BootstrapProbe {
        /// The office's data directory.
        #[arg(long)]
        dir: PathBuf,
        /// Without read-ahead.
        #[arg(long)]
        no_read_ahead: bool,
    },
    /// Opens the office store in DIR and lists its first page; prints time and resident memory.
    #[command(hide = true)]
    OpenProbe {
        /// The office's data directory.
        #[arg(long)]
        dir: PathBuf,
    },
}

/// Runs an async benchmark on a multi-threaded runtime; its report as pretty JSON.
fn on_runtime<R: serde::Serialize>(
    benchmark: impl std::future::Future<Output = ledger_bench::Result<R>>,
    failed: &'static str,
) -> anyhow::Result<String> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let report = runtime.block_on(benchmark).context(failed)?;
    Ok(serde_json::to_string_pretty(&report)?)
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The hubs and offices the benchmarks run in this process log only when RUST_LOG asks.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let json = match cli.command {
        Command::Local { cases, import_rows, dir, samples, open_samples, seed, encrypted } => {
            let exe = this_exe()?;
            let options = LocalOptions {
                cases,
                import_rows,
                dir,
                samples: samples.max(1),
                open_samples: open_samples.max(1),
                seed,
                exe,
                encrypted,
            };
            let report = local::run(&options).context("local benchmark failed")?;
            serde_json::to_string_pretty(&report)?
        }
        Command::Encryption { cases, import_rows, rounds, samples, open_samples, seed } => {
            let exe = this_exe()?;
            let keyring = ledger_office::vault::keyring_available();
            if !keyring {
                eprintln!("no Secret Service answers: the keyring variant is left out");
            }
            let options = ledger_bench::encryption::EncryptionOptions {
                cases,
                import_rows,
                rounds: rounds.max(1),
                samples: samples.max(1),
                open_samples: open_samples.max(1),
                seed,
                exe,
                keyring,
            };
            let report =
                ledger_bench::encryption::run(&options).context("encryption benchmark failed")?;
            serde_json::to_string_pretty(&report)?
        }
        Command::Sync { cases, per_office, seed } => {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let options = ledger_bench::sync::SyncOptions { cases, per_office, seed };
            let report = runtime
                .block_on(ledger_bench::sync::run(&options))
                .context("sync benchmark failed")?;
            serde_json::to_string_pretty(&report)?
        }
        Command::Ingest { offices, per_office, postgres, hubs, seed } => {
            let exe = this_exe()?;
            let options = ledger_bench::ingest::IngestOptions {
                offices,
                per_office,
                postgres,
                hubs,
                seed,
                exe,
            };
            on_runtime(ledger_bench::ingest::run(&options), "ingest benchmark failed")?
        }
        Command::Hub {
            offices,
            cases,
            minutes,
            sync_every,
            acts_per_day,
            postgres,
            hubs,
            seed,
        } => {
            let exe = this_exe()?;
            if !(minutes > 0.0 && sync_every > 0.0) {
                anyhow::bail!("--minutes and --sync-every must be more than zero");
            }
            let options = ledger_bench::load::HubLoadOptions {
                offices: offices.max(2),
                cases,
                minutes,
                sync_every,
                acts_per_day,
                postgres,
                hubs: hubs.max(1),
                seed,
                exe,
            };
            on_runtime(ledger_bench::load::run(&options), "hub load benchmark failed")?
        }
        Command::Fleet { offices, cases, link, days, seed } => {
            let link = link.parse().map_err(|e| anyhow::anyhow!("--link: {e}"))?;
            let exe = this_exe()?;
            let options = ledger_bench::fleet::FleetOptions {
                offices: offices.max(2),
                cases,
                link,
                days: days.max(1),
                seed,
                exe,
            };
            on_runtime(ledger_bench::fleet::run(&options), "fleet benchmark failed")?
        }
        Command::Bootstrap { cases, seed, encrypted, rtt_ms, no_read_ahead } => {
            let exe = this_exe()?;
            let options = ledger_bench::bootstrap::BootstrapOptions {
                cases: cases.max(1),
                seed,
                exe,
                encrypted,
                rtt: std::time::Duration::from_millis(rtt_ms),
                read_ahead: !no_read_ahead,
            };
            on_runtime(ledger_bench::bootstrap::run(&options), "bootstrap benchmark failed")?
        }
        Command::BootstrapProbe { dir, no_read_ahead } => {
            let report = ledger_bench::bootstrap::probe(&dir, !no_read_ahead)
                .with_context(|| format!("cannot sync the store in {}", dir.display()))?;
            serde_json::to_string(&report)?
        }
        Command::OpenProbe { dir } => {
            let report = probe::run(&dir)
                .with_context(|| format!("cannot open the store in {}", dir.display()))?;
            serde_json::to_string(&report)?
        }
    };
    println!("{json}");
    Ok(())
}

/// This executable: the benchmarks that run hubs or offices as processes find their binaries
/// beside it.
fn this_exe() -> anyhow::Result<std::path::PathBuf> {
    std::env::current_exe().context("cannot find this executable")
}
