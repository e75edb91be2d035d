//! A real hub process (`ledger-hub serve` beside this executable) for the benchmarks whose hub
//! must own its memory and CPU: started on a free loopback port over HTTP, killed on drop.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use ledger_domain::Role;
use ledger_hub::store::OfficeRecord;
use ledger_hub::{HubStore, PgHubStore, SqliteHubStore, auth};
use ledger_tests::pg;

use crate::error::{BenchError, Result};
use crate::measure::{Memory, cpu_seconds_of, memory_of};

/// The `ledger-hub` binary beside `exe`.
pub(crate) fn hub_binary(exe: &Path) -> Result<PathBuf> {
    let dir = exe.parent().ok_or_else(|| BenchError::other("no executable directory"))?;
    let path = dir.join("ledger-hub");
    if path.is_file() {
        Ok(path)
    } else {
        Err(BenchError::other(format!(
            "{} not found: build it first (cargo build --release -p ledger-hub -p ledger-bench)",
            path.display()
        )))
    }
}

/// A running `ledger-hub serve`.
pub(crate) struct HubProcess {
    child: Child,
    /// Where it listens.
    pub(crate) addr: std::net::SocketAddr,
}

impl HubProcess {
    /// Starts the hub on the data directory `dir`, its records in SQLite there or, with
    /// `database_url`, in that PostgreSQL database (passed in the environment, not on the
    /// command line where `ps` shows it).
    pub(crate) fn start(binary: &Path, dir: &Path, database_url: Option<&str>) -> Result<Self> {
        let mut command = Command::new(binary);
        command
            .arg("--data-dir")
            .arg(dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .env_remove("LEDGER_HUB_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(url) = database_url {
            command.env("LEDGER_HUB_DATABASE_URL", url);
        }
        let mut child = command.spawn()?;
        let stdout = child.stdout.take().ok_or_else(|| BenchError::other("hub stdout"))?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| BenchError::other(format!("hub did not start: {line}")))?;
        Ok(Self { child, addr })
    }

    /// Its address as a URL.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Its resident memory now and at its peak (zero when unreadable).
    pub(crate) fn memory(&self) -> Memory {
        memory_of(&self.child.id().to_string())
            .unwrap_or(Memory { peak_resident_mib: 0.0, resident_mib: 0.0 })
    }

    /// Its CPU time so far, seconds (zero when unreadable).
    pub(crate) fn cpu_seconds(&self) -> f64 {
        cpu_seconds_of(&self.child.id().to_string()).unwrap_or(0.0)
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Adds an office to `store` and returns a fresh enrollment token for it (valid a day).
pub(crate) fn office_token(
    store: &dyn HubStore,
    code: &str,
    name: &str,
    role: Role,
    townships: &[String],
) -> Result<String> {
    store
        .add_office(&OfficeRecord {
            code: code.to_owned(),
            name: name.to_owned(),
            role,
            townships: townships.to_vec(),
            created_at: ledger_hub::now_ms(),
        })
        .map_err(BenchError::other)?;
    let token = auth::new_token().map_err(BenchError::other)?;
    store
        .add_token(code, &auth::hash_secret(&token), ledger_hub::now_ms() + 86_400_000)
        .map_err(BenchError::other)?;
    Ok(token)
}

/// The hubs' data directories and the store offices and tokens are made in (the first hub's),
/// on SQLite, or on one fresh PostgreSQL database with every process signing with the first
/// one's key (docs/operations.md).
pub(crate) struct HubSite {
    pub(crate) dirs: Vec<tempfile::TempDir>,
    pub(crate) store: Box<dyn HubStore>,
    pub(crate) db: Option<pg::TestDb>,
}

impl HubSite {
    /// Data directories for `hubs` processes (more than one needs `postgres`).
    pub(crate) fn prepare(hubs: usize, postgres: bool) -> Result<Self> {
        if !postgres && hubs > 1 {
            return Err(BenchError::other("several hub processes need --postgres"));
        }
        let dirs =
            (0..hubs.max(1)).map(|_| tempfile::tempdir()).collect::<std::io::Result<Vec<_>>>()?;
        let db = postgres.then(pg::TestDb::create);
        let store: Box<dyn HubStore> = match &db {
            Some(db) => Box::new(PgHubStore::open(&db.url, dirs[0].path())?),
            None => Box::new(SqliteHubStore::open(dirs[0].path())?),
        };
        store.signing_key()?;
        for dir in &dirs[1..] {
            std::fs::copy(
                dirs[0].path().join(ledger_hub::sqlite::KEY_FILE),
                dir.path().join(ledger_hub::sqlite::KEY_FILE),
            )?;
        }
        Ok(Self { dirs, store, db })
    }

    /// Starts one `ledger-hub serve` per data directory.
    pub(crate) fn start(&self, binary: &Path) -> Result<Vec<HubProcess>> {
        let url = self.db.as_ref().map(|db| db.url.clone());
        self.dirs.iter().map(|dir| HubProcess::start(binary, dir.path(), url.as_deref())).collect()
    }
}
