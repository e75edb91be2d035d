//! A fresh PostgreSQL database per test, created on the server `LEDGER_TEST_PG` names (key=value
//! settings without a `dbname`: `dev/test` and CI start a private server and set it) and dropped
//! when the test ends. A missing server fails the test: CI never skips the PostgreSQL suite.
//! The blocking client runs on a thread of its own, so an async test may make one too.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicUsize, Ordering};

use postgres::NoTls;

/// One test's database.
pub struct TestDb {
    base: String,
    name: String,
    /// Its connection string.
    pub url: String,
    kept: bool,
}

impl TestDb {
    /// A new, empty database.
    pub fn create() -> Self {
        let base = std::env::var("LEDGER_TEST_PG").expect(
            "LEDGER_TEST_PG is not set: run the suite with dev/test, which starts a private PostgreSQL server for it",
        );
        // Unique across the test binaries running at once (each its own process).
        static MADE: AtomicUsize = AtomicUsize::new(0);
        let name =
            format!("ledger_t_{}_{}", std::process::id(), MADE.fetch_add(1, Ordering::Relaxed));
        // A database of that name left by an earlier run of a process with this id goes first.
        admin(&base, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .and_then(|()| admin(&base, &format!("CREATE DATABASE {name}")))
            .unwrap_or_else(|e| panic!("PostgreSQL at `{base}`: {e}"));
        let url = format!("{base} dbname={name}");
        Self { base, name, url, kept: false }
    }

    /// The database's size on disk, bytes (`pg_database_size`).
    pub fn size_bytes(&self) -> Result<u64, postgres::Error> {
        let (base, name) = (&self.base, &self.name);
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut client =
                    postgres::Client::connect(&format!("{base} dbname=postgres"), NoTls)?;
                let row = client.query_one("SELECT pg_database_size($1)", &[name])?;
                Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
            })
            .join()
            .unwrap()
        })
    }

    /// Keeps the database past this value (a hub restarted on it finds it again); it goes with
    /// the test server. Returns its connection string.
    pub fn keep(mut self) -> String {
        self.kept = true;
        std::mem::take(&mut self.url)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.kept {
            return;
        }
        // Whatever the test left connected goes too.
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(e) = admin(&self.base, &drop) {
            eprintln!("test database {} left behind: {e}", self.name);
        }
    }
}

/// Runs `sql` on the server's `postgres` database, from a thread outside any async runtime.
fn admin(base: &str, sql: &str) -> Result<(), postgres::Error> {
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut client = postgres::Client::connect(&format!("{base} dbname=postgres"), NoTls)?;
            client.batch_execute(sql)
        })
        .join()
        .unwrap()
    })
}
