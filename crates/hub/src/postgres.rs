//! The PostgreSQL backend of [`HubStore`] (`ledger-hub --database-url postgres://...`): for a
//! city or provincial hub merging many counties, or a county that wants a standby, with several
//! stateless hub processes in front of one database.
//!
//! What several processes on one database need, and where it is kept:
//! - **The log's order.** Pull cursors follow `log.seq`, so a row must never become visible
//!   after a row with a larger number: an office that pulled 102 would never see 101. Every
//!   transaction that appends to the log first takes one transaction-scoped advisory lock
//!   ([`LOG_LOCK`]) and holds it to its commit, so numbers are taken in commit order. Only the
//!   append and the commit run under it: validation, merging and the document writes of a
//!   batch run before, in parallel with other batches.
//! - **Documents written by another process.** A batch's document writes succeed only on the
//!   version the engine loaded (an `UPDATE ... WHERE version = $expected`, or an insert that
//!   finds no row): a document another process changed or created meanwhile (the write waits
//!   for that transaction and then sees its result), or a deadlock between two batches, is
//!   [`StoreError::Busy`]; nothing of the batch is stored, the office retries, and the engine
//!   reloads the document.
//! - **Scopes read but not written.** A batch that changes a case's identity alone plans its
//!   log rows (who may pull them) with the case's scope as read, which no document write of
//!   the batch guards: the commit locks those case rows and checks them again
//!   (`Commit::scopes_read`), so a restriction another process commits meanwhile makes the
//!   batch busy instead of logging the names for the township.
//! - **Statements.** Each pooled connection keeps the statements it prepared ([`Session`]):
//!   a statement sent as text is prepared, parsed and planned again every time, and with a
//!   city's thousand offices that was most of the server's work (BENCHMARKS.md, `ledger-bench
//!   hub`). A pooler in front of the server must therefore keep sessions (docs/operations.md).
//! - **Keys.** The hub's signing key stays a file in the data directory (a copy of the
//!   database alone cannot sign); every process serving one database needs the same file.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_executor::block_on;
use ledger_domain::{CaseFacts, CaseId, Role};
use ledger_protocol::{BlobChunk, DocKind};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, ToSql};
use tokio_postgres::{Client, GenericClient, NoTls, Row, Statement, Transaction};
use uuid::Uuid;

use crate::store::{
    CaseScope, Commit, DeviceRecord, DocWrite, HubStore, LogEntry, LogKind, LogRow,
    MAX_ACTORS_PER_DEVICE, MAX_LEASES_PER_DAY, OfficeRecord, QUARANTINE_SAMPLE, QuarantineRecord,
    Reader, Result, StoreError, StoredDoc, Survey, SyncHealth, TokenRecord,
};

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/postgres/001_init.sql"),
    include_str!("../migrations/postgres/002_scope_reads.sql"),
];

/// The advisory lock every log append holds until its commit (see the module docs).
const LOG_LOCK: i64 = 0x6c65_6467_6572_6c67; // "ledgerlg"
/// The advisory lock held while migrations run, so two processes starting at once do not both
/// create the tables.
const MIGRATE_LOCK: i64 = 0x6c65_6467_6572_6d67; // "ledgermg"

/// Server settings of every session (see [`PgHubStore::open_with`]).
const SESSION_LIMITS: &str = "-c idle_in_transaction_session_timeout=60000 -c lock_timeout=30000 -c statement_timeout=120000";

/// How a [`PgHubStore`] connects.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Connections kept to the database at most.
    pub pool_size: u32,
    /// How long a request waits for a free connection before it fails.
    pub connect_timeout: Duration,
    /// Test hook: sleep this long after a commit's log rows took their numbers, before it
    /// commits (the window in which a store without the ordering lock shows rows out of order).
    pub pause_before_commit: Option<Duration>,
    /// Test hook: append to the log without the ordering lock (the naive version the ordering
    /// test shows to lose rows). Never set outside that test.
    pub unordered: bool,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            pool_size: 16,
            connect_timeout: Duration::from_secs(30),
            pause_before_commit: None,
            unordered: false,
        }
    }
}

/// A [`HubStore`] on a PostgreSQL database.
pub struct PgHubStore {
    pool: Pool,
    /// The data directory (the hub's signing key is a file in it).
    dir: PathBuf,
    options: PgOptions,
}

/// The store's connections, and the runtime of its own that drives them.
///
/// The store's methods are synchronous. They wait on the client's futures with
/// `futures_executor::block_on`, which (unlike a tokio runtime's `block_on`) may be called from
/// any thread, a tokio worker included: the sockets are read and written by connection tasks
/// on the store's runtime, and the futures waited on only exchange messages with them. So the
/// store behaves like the SQLite one, callable from the hub's blocking threads, a CLI command
/// or a test, and never panics for being called from the wrong place.
struct Pool {
    config: tokio_postgres::Config,
    runtime: Option<tokio::runtime::Runtime>,
    state: Mutex<PoolState>,
    freed: Condvar,
    max: usize,
    timeout: Duration,
}

#[derive(Default)]
struct PoolState {
    idle: Vec<Session>,
    open: usize,
}

/// The most statements one connection keeps prepared. The store's statements are a few dozen
/// fixed texts; the bound only matters if a text ever carried a value, and then the cache
/// starts again rather than growing.
const STATEMENTS_PER_CONNECTION: usize = 256;

/// A connection and the statements prepared on it. Every query goes through a prepared
/// statement kept for the connection's life: a text sent alone costs a round trip to prepare
/// and a parse and plan on the server every time (most of a sync's database work on a busy
/// hub).
struct Session {
    client: Client,
    statements: RefCell<HashMap<String, Statement>>,
}

impl Session {
    fn new(client: Client) -> Self {
        Self { client, statements: RefCell::new(HashMap::new()) }
    }

    /// Begins a transaction on this connection.
    fn begin(&mut self) -> Result<Tx<'_>> {
        let tx = block_on(self.client.transaction()).map_err(db)?;
        Ok(Tx { tx, statements: &self.statements })
    }

    /// Begins a read-only transaction that sees one snapshot for all its reads.
    fn begin_snapshot(&mut self) -> Result<Tx<'_>> {
        let tx = block_on(
            self.client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start(),
        )
        .map_err(db)?;
        Ok(Tx { tx, statements: &self.statements })
    }
}

/// A transaction on a [`Session`], preparing through the session's statements.
struct Tx<'a> {
    tx: Transaction<'a>,
    statements: &'a RefCell<HashMap<String, Statement>>,
}

impl Tx<'_> {
    fn commit(self) -> Result<(), tokio_postgres::Error> {
        block_on(self.tx.commit())
    }
}

/// A connection taken from the pool; back in it when dropped.
struct Conn<'a> {
    pool: &'a Pool,
    session: Option<Session>,
}

impl std::ops::Deref for Conn<'_> {
    type Target = Session;
    fn deref(&self) -> &Session {
        // Taken out only in `drop`.
        self.session.as_ref().unwrap_or_else(|| unreachable!("connection used after drop"))
    }
}

impl std::ops::DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Session {
        self.session.as_mut().unwrap_or_else(|| unreachable!("connection used after drop"))
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        let mut state = self.pool.lock();
        match self.session.take() {
            Some(session) if !session.client.is_closed() => state.idle.push(session),
            _ => state.open = state.open.saturating_sub(1),
        }
        drop(state);
        self.pool.freed.notify_one();
    }
}

impl Pool {
    fn new(config: tokio_postgres::Config, options: &PgOptions) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ledger-hub-pg")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Database(format!("database runtime: {e}")))?;
        Ok(Self {
            config,
            runtime: Some(runtime),
            state: Mutex::new(PoolState::default()),
            freed: Condvar::new(),
            max: usize::try_from(options.pool_size.max(1)).unwrap_or(1),
            timeout: options.connect_timeout,
        })
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new connection, its socket driven by a task on the store's runtime.
    fn connect(&self) -> Result<Client> {
        let Some(runtime) = &self.runtime else {
            return Err(StoreError::Database("database store closed".into()));
        };
        let config = self.config.clone();
        let timeout = self.timeout;
        let task = runtime.spawn(async move {
            let (client, connection) = tokio::time::timeout(timeout, config.connect(NoTls))
                .await
                .map_err(|_| StoreError::Database("无法连接 PostgreSQL 数据库：连接超时".into()))?
                .map_err(|e| {
                    StoreError::Database(format!("无法连接 PostgreSQL 数据库：{}", describe(&e)))
                })?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::warn!(error = %describe(&e), "database connection closed");
                }
            });
            Ok(client)
        });
        block_on(task).map_err(|e| StoreError::Database(format!("database connection: {e}")))?
    }

    /// A connection: an idle one, a new one while fewer than `max` are open, or the first one
    /// freed within the timeout.
    fn get(&self) -> Result<Conn<'_>> {
        let deadline = Instant::now() + self.timeout;
        let mut state = self.lock();
        loop {
            if let Some(session) = state.idle.pop() {
                if session.client.is_closed() {
                    state.open = state.open.saturating_sub(1);
                    continue;
                }
                return Ok(Conn { pool: self, session: Some(session) });
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                return match self.connect() {
                    Ok(client) => Ok(Conn { pool: self, session: Some(Session::new(client)) }),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(StoreError::Busy("数据库连接已全部占用".into()));
            }
            state = self.freed.wait_timeout(state, left).unwrap_or_else(|p| p.into_inner()).0;
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.lock().idle.clear();
        // Without waiting: the store may be dropped on a runtime's thread, where waiting for
        // another runtime to stop is not allowed.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The blocking calls the store makes on a client or a transaction (named apart from the
/// client's own async methods).
trait Blocking {
    fn rows(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, tokio_postgres::Error>;
    fn row_opt(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, tokio_postgres::Error>;
    fn row_one(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, tokio_postgres::Error>;
    fn exec(&self, sql: &str, params: &[&(dyn ToSql + Sync)])
    -> Result<u64, tokio_postgres::Error>;
    fn batch(&self, sql: &str) -> Result<(), tokio_postgres::Error>;
}

/// A client or a transaction of a [`Session`]: its statements and its client's calls.
trait Prepares {
    fn statements(&self) -> &RefCell<HashMap<String, Statement>>;
    fn client(&self) -> &impl GenericClient;

    /// The statement for `sql` prepared on this connection: kept, or prepared now.
    fn statement(&self, sql: &str) -> Result<Statement, tokio_postgres::Error> {
        if let Some(statement) = self.statements().borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = block_on(self.client().prepare(sql))?;
        let mut statements = self.statements().borrow_mut();
        if statements.len() >= STATEMENTS_PER_CONNECTION {
            statements.clear();
        }
        statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

impl Prepares for Session {
    fn statements(&self) -> &RefCell<HashMap<String, Statement>> {
        &self.statements
    }
    fn client(&self) -> &impl GenericClient {
        &self.client
    }
}

impl Prepares for Tx<'_> {
    fn statements(&self) -> &RefCell<HashMap<String, Statement>> {
        self.statements
    }
    fn client(&self) -> &impl GenericClient {
        &self.tx
    }
}

impl<T: Prepares> Blocking for T {
    fn rows(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        block_on(self.client().query(&self.statement(sql)?, params))
    }
    fn row_opt(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, tokio_postgres::Error> {
        block_on(self.client().query_opt(&self.statement(sql)?, params))
    }
    fn row_one(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, tokio_postgres::Error> {
        block_on(self.client().query_one(&self.statement(sql)?, params))
    }
    fn exec(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, tokio_postgres::Error> {
        block_on(self.client().execute(&self.statement(sql)?, params))
    }
    fn batch(&self, sql: &str) -> Result<(), tokio_postgres::Error> {
        block_on(self.client().batch_execute(sql))
    }
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(db)`
fn db(e: tokio_postgres::Error) -> StoreError {
    match e.code() {
        // Two batches that wrote the same documents in a different order, a serialisation
        // failure, or a lock not had in time: nothing was stored; the office retries.
        Some(c)
            if *c == SqlState::T_R_DEADLOCK_DETECTED
                || *c == SqlState::T_R_SERIALIZATION_FAILURE
                || *c == SqlState::LOCK_NOT_AVAILABLE =>
        {
            StoreError::Busy(describe(&e))
        }
        _ => StoreError::Database(describe(&e)),
    }
}

/// The server's own message when there is one (`tokio_postgres::Error` alone says only "db error").
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{} ({})", d.message(), d.code().code()),
        None => e.to_string(),
    }
}

/// A column of a row, as a store error when its type is not the one asked for.
fn get<'a, T: FromSql<'a>>(row: &'a Row, i: usize) -> Result<T> {
    row.try_get(i).map_err(db)
}

fn kind_code(kind: DocKind) -> i16 {
    match kind {
        DocKind::Case => 0,
        DocKind::Identity => 1,
        DocKind::Roster => 2,
        DocKind::Rules => 3,
        DocKind::Work => 4,
    }
}

/// A stored document kind; a code no release writes is damage, not a case document.
fn kind_of(code: i16) -> Result<DocKind> {
    match code {
        0 => Ok(DocKind::Case),
        1 => Ok(DocKind::Identity),
        2 => Ok(DocKind::Roster),
        3 => Ok(DocKind::Rules),
        4 => Ok(DocKind::Work),
        other => Err(StoreError::Damaged(format!("unknown document kind {other}"))),
    }
}

fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn as_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl PgHubStore {
    /// Connects to the database `url` names (a `postgres://` URL or `key=value` settings),
    /// running the migrations it lacks; the hub's key file lives in `dir`.
    pub fn open(url: &str, dir: &Path) -> Result<Self> {
        Self::open_with(url, dir, PgOptions::default())
    }

    /// [`PgHubStore::open`] with explicit pool settings (and the ordering test's hooks).
    pub fn open_with(url: &str, dir: &Path, options: PgOptions) -> Result<Self> {
        let mut config: tokio_postgres::Config =
            url.parse().map_err(|e| StoreError::Database(format!("数据库连接串无法识别：{e}")))?;
        // A connection whose peer vanished (a stopped or partitioned hub process) must not hold
        // the log's ordering lock or a document's row for long: the server ends a transaction
        // left idle, a wait for a lock gives up (the batch is answered "busy" and sent again),
        // and dead links are noticed by keepalives.
        config.options(SESSION_LIMITS).keepalives(true).keepalives_idle(Duration::from_secs(30));
        crate::private::create_dir(dir)
            .map_err(|e| StoreError::Database(format!("{}: {e}", dir.display())))?;
        let pool = Pool::new(config, &options)?;
        // The first connection runs the migrations: a wrong address or password is reported
        // here, at start.
        let mut first = pool.get()?;
        migrate(&mut first)?;
        drop(first);
        Ok(Self { pool, dir: dir.to_path_buf(), options })
    }

    fn conn(&self) -> Result<Conn<'_>> {
        self.pool.get()
    }

    fn row_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        self.conn()?.row_opt(sql, params).map_err(db)
    }

    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        self.conn()?.rows(sql, params).map_err(db)
    }

    fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        self.conn()?.exec(sql, params).map_err(db)
    }

    fn exists(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<bool> {
        Ok(self.row_opt(sql, params)?.is_some())
    }

    /// Takes the log's ordering lock (unless the ordering test turned it off).
    fn order_log(&self, tx: &Tx<'_>) -> Result<()> {
        if !self.options.unordered {
            tx.exec("SELECT pg_advisory_xact_lock($1)", &[&LOG_LOCK]).map_err(db)?;
        }
        Ok(())
    }

    fn commit_tx(&self, tx: Tx<'_>) -> Result<()> {
        if let Some(pause) = self.options.pause_before_commit {
            std::thread::sleep(pause);
        }
        tx.commit().map_err(db)
    }
}

/// Runs the migrations the database lacks, one transaction each, under [`MIGRATE_LOCK`].
fn migrate(conn: &mut Session) -> Result<()> {
    conn.exec("SELECT pg_advisory_lock($1)", &[&MIGRATE_LOCK]).map_err(db)?;
    let result = (|| {
        conn.batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .map_err(db)?;
        let row = conn
            .row_one("SELECT coalesce(max(version), 0) FROM schema_migrations", &[])
            .map_err(db)?;
        let version: i32 = get(&row, 0)?;
        let known = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
        if version > known {
            return Err(StoreError::Database(format!(
                "hub database schema {version} is newer than this build ({known})"
            )));
        }
        for (n, sql) in (1..).zip(MIGRATIONS.iter()).skip(usize::try_from(version).unwrap_or(0)) {
            let tx = conn.begin()?;
            tx.batch(sql).map_err(db)?;
            tx.exec(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                &[&n, &crate::now_ms()],
            )
            .map_err(db)?;
            tx.commit().map_err(db)?;
        }
        Ok(())
    })();
    let unlocked = conn.exec("SELECT pg_advisory_unlock($1)", &[&MIGRATE_LOCK]).map_err(db);
    result.and(unlocked.map(|_| ()))
}

const DEVICE_COLUMNS: &str = "id, office, name, actor, letter, enrolled_at, revoked_at, last_sync, pending, last_error, skew_ms, public_key";

fn device_row(r: &Row) -> Result<DeviceRecord> {
    Ok(DeviceRecord {
        id: get(r, 0)?,
        office: get(r, 1)?,
        name: get(r, 2)?,
        actor: get(r, 3)?,
        letter: get(r, 4)?,
        enrolled_at: get(r, 5)?,
        revoked_at: get(r, 6)?,
        last_sync: get(r, 7)?,
        pending: as_u64(get(r, 8)?),
        last_error: get(r, 9)?,
        skew_ms: get(r, 10)?,
        public_key: get(r, 11)?,
    })
}

fn office_row(r: &Row) -> Result<OfficeRecord> {
    Ok(OfficeRecord {
        code: get(r, 0)?,
        name: get(r, 1)?,
        role: Role::from_code(&get::<String>(r, 2)?),
        townships: get(r, 3)?,
        created_at: get(r, 4)?,
    })
}

fn case_id(r: &Row, i: usize) -> Result<CaseId> {
    get::<Uuid>(r, i).map(CaseId)
}

/// Fails the commit with [`StoreError::Busy`] if a case's scope is no longer the one its log
/// rows were planned with. The rows found stay locked to the commit (`FOR UPDATE`): a process
/// changing the scope meanwhile waits for it and then logs its own change after this one's. A
/// case read as having no row locks nothing; its rows were planned with no scope (seen by the
/// bureau alone), which a row created meanwhile can only widen later, in its own commit.
fn check_scopes(tx: &Tx<'_>, read: &[(CaseId, Option<CaseScope>)]) -> Result<()> {
    if read.is_empty() {
        return Ok(());
    }
    let cases: Vec<Uuid> = read.iter().map(|(c, _)| c.0).collect();
    let rows = tx
        .rows(
            "SELECT case_id, township, registrar, restricted FROM cases
             WHERE case_id = ANY($1) ORDER BY case_id FOR UPDATE",
            &[&cases],
        )
        .map_err(db)?;
    let held: HashMap<Uuid, CaseScope> =
        rows.iter().map(|r| Ok((get(r, 0)?, scope_row(r, 1)?))).collect::<Result<_>>()?;
    match read.iter().find(|(case, expected)| held.get(&case.0) != expected.as_ref()) {
        Some((case, _)) => Err(StoreError::Busy(format!("{case}/scope"))),
        None => Ok(()),
    }
}

fn scope_row(r: &Row, first: usize) -> Result<CaseScope> {
    Ok(CaseScope {
        township: get(r, first)?,
        registrar: get(r, first + 1)?,
        restricted: get(r, first + 2)?,
    })
}

/// The log rows of a commit as column arrays, in order (one statement appends them all).
#[derive(Default)]
struct LogColumns<'a> {
    kind: Vec<&'static str>,
    case_id: Vec<Uuid>,
    doc_kind: Vec<i16>,
    hash: Vec<Option<&'a str>>,
    author: Vec<Option<&'a str>>,
    township: Vec<Option<&'a str>>,
    registrar: Vec<Option<&'a str>>,
    bureau_only: Vec<bool>,
    target: Vec<Option<&'a str>>,
    received_at: Vec<i64>,
}

impl<'a> LogColumns<'a> {
    fn of(rows: &'a [crate::store::NewLogRow]) -> Self {
        let mut c = Self::default();
        for row in rows {
            let (kind, hash, author, township, registrar, bureau_only, target) = match &row.entry {
                LogEntry::Change { hash, author_device, township, registrar, bureau_only } => (
                    "change",
                    Some(hash.as_str()),
                    Some(author_device.as_str()),
                    township.as_deref(),
                    registrar.as_deref(),
                    *bureau_only,
                    None,
                ),
                LogEntry::Enter { target } => {
                    ("enter", None, None, None, None, false, Some(target.as_str()))
                }
                LogEntry::Leave { target } => {
                    ("leave", None, None, None, None, false, Some(target.as_str()))
                }
            };
            c.kind.push(kind);
            c.case_id.push(row.case_id.0);
            c.doc_kind.push(kind_code(row.kind));
            c.hash.push(hash);
            c.author.push(author);
            c.township.push(township);
            c.registrar.push(registrar);
            c.bureau_only.push(bureau_only);
            c.target.push(target);
            c.received_at.push(row.received_at);
        }
        c
    }

    /// Appends the rows, numbered in their order.
    fn append(&self, tx: &Tx<'_>) -> Result<()> {
        if self.kind.is_empty() {
            return Ok(());
        }
        tx.exec(
            "INSERT INTO log (seq, kind, case_id, doc_kind, hash, author_device, township, registrar, bureau_only, target, received_at)
             SELECT nextval(pg_get_serial_sequence('log', 'seq')), k, c, dk, h, a, t, r, b, g, ra FROM (
               SELECT * FROM unnest($1::text[], $2::uuid[], $3::smallint[], $4::text[], $5::text[],
                                    $6::text[], $7::text[], $8::boolean[], $9::text[], $10::bigint[])
                 WITH ORDINALITY AS u(k, c, dk, h, a, t, r, b, g, ra, n)
               ORDER BY n) ordered",
            &[
                &self.kind,
                &self.case_id,
                &self.doc_kind,
                &self.hash,
                &self.author,
                &self.township,
                &self.registrar,
                &self.bureau_only,
                &self.target,
                &self.received_at,
            ],
        )
        .map_err(db)?;
        Ok(())
    }
}

/// Whether no key comes twice.
fn distinct<K: Eq + std::hash::Hash>(keys: impl Iterator<Item = K>) -> bool {
    let mut seen = HashSet::new();
    keys.into_iter().all(|k| seen.insert(k))
}

/// A commit's document writes as columns, one statement per kind of write (a round trip a
/// statement, where one a document made the commit's time grow with its documents).
#[derive(Default)]
struct DocColumns<'a> {
    /// New documents: must not exist yet.
    created: Keys,
    created_snapshots: Vec<&'a [u8]>,
    /// Tails with no snapshot for a document that must not exist: nothing is written, only
    /// checked (such a tail creates no document).
    absent: Keys,
    /// Documents written over the version they were read at.
    updated: Keys,
    updated_snapshots: Vec<Option<&'a [u8]>>,
    updated_versions: Vec<i64>,
    /// Documents given a snapshot: their old tails go.
    cleared: Keys,
    /// Tails appended, in order.
    tails: Keys,
    tail_hashes: Vec<&'a str>,
}

/// Document keys as two columns.
#[derive(Default)]
struct Keys {
    cases: Vec<Uuid>,
    kinds: Vec<i16>,
}

impl Keys {
    fn push(&mut self, case: CaseId, kind: DocKind) {
        self.cases.push(case.0);
        self.kinds.push(kind_code(kind));
    }

    fn is_empty(&self) -> bool {
        self.cases.is_empty()
    }

    /// A statement that should have written every key wrote only `written`: the batch is
    /// answered busy, naming the first key it did not write.
    fn all_written(&self, written: &[Row]) -> Result<()> {
        if written.len() == self.cases.len() {
            return Ok(());
        }
        let written: HashSet<(Uuid, i16)> =
            written.iter().map(|r| Ok((get(r, 0)?, get(r, 1)?))).collect::<Result<_>>()?;
        let missed = self
            .cases
            .iter()
            .zip(&self.kinds)
            .find(|(c, k)| !written.contains(&(**c, **k)))
            .map_or_else(String::new, |(c, k)| format!("{c}/{k}"));
        Err(StoreError::Busy(missed))
    }
}

impl<'a> DocColumns<'a> {
    fn of(docs: &'a [DocWrite]) -> Self {
        let mut c = Self::default();
        for d in docs {
            match (d.expected, &d.snapshot) {
                (None, Some(snapshot)) => {
                    c.created.push(d.case_id, d.kind);
                    c.created_snapshots.push(snapshot);
                }
                (None, None) => c.absent.push(d.case_id, d.kind),
                (Some(version), snapshot) => {
                    c.updated.push(d.case_id, d.kind);
                    c.updated_snapshots.push(snapshot.as_deref());
                    c.updated_versions.push(version);
                }
            }
            if d.snapshot.is_some() {
                c.cleared.push(d.case_id, d.kind);
            }
            for hash in &d.tail {
                c.tails.push(d.case_id, d.kind);
                c.tail_hashes.push(hash);
            }
        }
        c
    }

    /// Writes them. Each write states the version it was based on and succeeds only on
    /// exactly that row: a document another process created or changed meanwhile (waited
    /// for, then seen as it committed) writes nothing, and the batch is answered "busy".
    fn write(&self, tx: &Tx<'_>) -> Result<()> {
        if !self.created.is_empty() {
            let written = tx
                .rows(
                    "INSERT INTO docs (case_id, kind, snapshot, version)
                     SELECT c, k, s, 1 FROM unnest($1::uuid[], $2::smallint[], $3::bytea[]) AS u(c, k, s)
                     ON CONFLICT (case_id, kind) DO NOTHING
                     RETURNING case_id, kind",
                    &[&self.created.cases, &self.created.kinds, &self.created_snapshots],
                )
                .map_err(db)?;
            self.created.all_written(&written)?;
        }
        if !self.absent.is_empty() {
            let held = tx
                .row_opt(
                    "SELECT d.case_id, d.kind FROM docs d
                     JOIN unnest($1::uuid[], $2::smallint[]) AS u(c, k) ON d.case_id = u.c AND d.kind = u.k
                     LIMIT 1",
                    &[&self.absent.cases, &self.absent.kinds],
                )
                .map_err(db)?;
            if let Some(row) = held {
                let (case, kind): (Uuid, i16) = (get(&row, 0)?, get(&row, 1)?);
                return Err(StoreError::Busy(format!("{case}/{kind}")));
            }
        }
        if !self.updated.is_empty() {
            let written = tx
                .rows(
                    "UPDATE docs SET snapshot = coalesce(u.s, docs.snapshot), version = docs.version + 1
                     FROM unnest($1::uuid[], $2::smallint[], $3::bytea[], $4::bigint[]) AS u(c, k, s, v)
                     WHERE docs.case_id = u.c AND docs.kind = u.k AND docs.version = u.v
                     RETURNING docs.case_id, docs.kind",
                    &[
                        &self.updated.cases,
                        &self.updated.kinds,
                        &self.updated_snapshots,
                        &self.updated_versions,
                    ],
                )
                .map_err(db)?;
            self.updated.all_written(&written)?;
        }
        if !self.cleared.is_empty() {
            tx.exec(
                "DELETE FROM doc_tail d USING unnest($1::uuid[], $2::smallint[]) AS u(c, k)
                 WHERE d.case_id = u.c AND d.kind = u.k",
                &[&self.cleared.cases, &self.cleared.kinds],
            )
            .map_err(db)?;
        }
        if !self.tails.is_empty() {
            tx.exec(
                "INSERT INTO doc_tail (case_id, kind, hash)
                 SELECT c, k, h FROM unnest($1::uuid[], $2::smallint[], $3::text[]) WITH ORDINALITY AS u(c, k, h, n)
                 ORDER BY n",
                &[&self.tails.cases, &self.tails.kinds, &self.tail_hashes],
            )
            .map_err(db)?;
        }
        Ok(())
    }
}

impl PgHubStore {
    fn write_changes(&self, tx: &Tx<'_>, commit: &Commit) -> Result<()> {
        if commit.changes.is_empty() {
            return Ok(());
        }
        let hashes: Vec<&str> = commit.changes.iter().map(|c| c.hash.as_str()).collect();
        let cases: Vec<Uuid> = commit.changes.iter().map(|c| c.case_id.0).collect();
        let kinds: Vec<i16> = commit.changes.iter().map(|c| kind_code(c.kind)).collect();
        let devices: Vec<&str> = commit.changes.iter().map(|c| c.device.as_str()).collect();
        let at: Vec<i64> = commit.changes.iter().map(|c| c.received_at).collect();
        let bytes: Vec<&[u8]> = commit.changes.iter().map(|c| c.bytes.as_slice()).collect();
        // The first copy of a change stands (a batch may carry one twice).
        tx.exec(
            "INSERT INTO changes (hash, case_id, kind, device, received_at, bytes)
             SELECT * FROM unnest($1::text[], $2::uuid[], $3::smallint[], $4::text[], $5::bigint[], $6::bytea[])
             ON CONFLICT (hash) DO NOTHING",
            &[&hashes, &cases, &kinds, &devices, &at, &bytes],
        )
        .map_err(db)?;
        Ok(())
    }

    /// The cases' scope and facts, the attachments they cite, and the identity drops merged:
    /// one statement each.
    fn write_cases(&self, tx: &Tx<'_>, commit: &Commit) -> Result<()> {
        let now = crate::now_ms();
        let mut cases = Vec::with_capacity(commit.cases.len());
        let (mut townships, mut registrars, mut restricted, mut facts) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (case, scope, case_facts) in &commit.cases {
            let json = case_facts.as_ref().map(serde_json::to_string).transpose().map_err(|e| {
                StoreError::Database(format!("facts of case {case} not written: {e}"))
            })?;
            cases.push(case.0);
            townships.push(scope.township.as_deref());
            registrars.push(scope.registrar.as_str());
            restricted.push(scope.restricted);
            facts.push(json);
        }
        // An upsert cannot touch a row twice in one statement: a case named twice (the engine
        // plans each case once a commit) is written a row at a time, in order.
        let step = if distinct(cases.iter()) { cases.len().max(1) } else { 1 };
        for start in (0..cases.len()).step_by(step) {
            let run = start..(start + step).min(cases.len());
            tx.exec(
                "INSERT INTO cases (case_id, township, registrar, restricted, facts, updated_at)
                 SELECT c, t, r, x, f, $6 FROM unnest($1::uuid[], $2::text[], $3::text[], $4::boolean[], $5::text[]) AS u(c, t, r, x, f)
                 ON CONFLICT (case_id) DO UPDATE SET township = excluded.township, registrar = excluded.registrar,
                   restricted = excluded.restricted, facts = coalesce(excluded.facts, cases.facts), updated_at = excluded.updated_at",
                &[
                    &&cases[run.clone()],
                    &&townships[run.clone()],
                    &&registrars[run.clone()],
                    &&restricted[run.clone()],
                    &&facts[run],
                    &now,
                ],
            )
            .map_err(db)?;
        }
        if !commit.blob_refs.is_empty() {
            let hashes: Vec<&str> = commit.blob_refs.iter().map(|(h, _)| h.as_str()).collect();
            let cases: Vec<Uuid> = commit.blob_refs.iter().map(|(_, c)| c.0).collect();
            tx.exec(
                "INSERT INTO blob_refs (hash, case_id) SELECT * FROM unnest($1::text[], $2::uuid[])
                 ON CONFLICT DO NOTHING",
                &[&hashes, &cases],
            )
            .map_err(db)?;
        }
        if !commit.drops.is_empty() {
            let ids: Vec<Uuid> = commit.drops.iter().map(|(id, _, _)| *id).collect();
            let cases: Vec<Uuid> = commit.drops.iter().map(|(_, c, _)| c.0).collect();
            let offices: Vec<&str> = commit.drops.iter().map(|(_, _, o)| o.as_str()).collect();
            tx.exec(
                "INSERT INTO drops (id, case_id, office, merged_at)
                 SELECT i, c, o, $4 FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS u(i, c, o)
                 ON CONFLICT DO NOTHING",
                &[&ids, &cases, &offices, &now],
            )
            .map_err(db)?;
        }
        Ok(())
    }
}

impl HubStore for PgHubStore {
    fn add_office(&self, office: &OfficeRecord) -> Result<()> {
        let n = self.execute(
            "INSERT INTO offices (code, name, role, townships, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING",
            &[&office.code, &office.name, &office.role.code(), &office.townships, &office.created_at],
        )?;
        if n == 0 {
            return Err(StoreError::Conflict(format!("单位代码 {} 已存在", office.code)));
        }
        Ok(())
    }

    fn office(&self, code: &str) -> Result<Option<OfficeRecord>> {
        self.row_opt(
            "SELECT code, name, role, townships, created_at FROM offices WHERE code = $1",
            &[&code],
        )?
        .map(|r| office_row(&r))
        .transpose()
    }

    fn offices(&self) -> Result<Vec<OfficeRecord>> {
        self.query(
            "SELECT code, name, role, townships, created_at FROM offices
             ORDER BY role COLLATE \"C\", code COLLATE \"C\"",
            &[],
        )?
        .iter()
        .map(office_row)
        .collect()
    }

    fn add_token(&self, office: &str, hash: &str, expires_at: i64) -> Result<()> {
        self.execute(
            "INSERT INTO tokens (hash, office, expires_at) VALUES ($1, $2, $3)",
            &[&hash, &office, &expires_at],
        )?;
        Ok(())
    }

    fn token(&self, hash: &str) -> Result<Option<TokenRecord>> {
        let Some(r) = self.row_opt(
            "SELECT office, expires_at, used_at, used_actor, device_id FROM tokens WHERE hash = $1",
            &[&hash],
        )?
        else {
            return Ok(None);
        };
        let used = match (get::<Option<i64>>(&r, 2)?, get(&r, 3)?, get(&r, 4)?) {
            (Some(at), Some(actor), Some(device)) => Some((at, actor, device)),
            _ => None,
        };
        Ok(Some(TokenRecord { office: get(&r, 0)?, expires_at: get(&r, 1)?, used }))
    }

    fn use_token(&self, hash: &str, device: &DeviceRecord, credential_hash: &str) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.begin()?;
        let n = tx.exec(
                "UPDATE tokens SET used_at = $2, used_actor = $3, device_id = $4 WHERE hash = $1 AND used_at IS NULL",
                &[&hash, &device.enrolled_at, &device.actor, &device.id],
            )
            .map_err(db)?;
        if n == 0 {
            return Err(StoreError::Conflict("令牌已被使用".into()));
        }
        tx.exec(
            &format!(
                "INSERT INTO devices ({DEVICE_COLUMNS}, credential_hash)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
            ),
            &[
                &device.id,
                &device.office,
                &device.name,
                &device.actor,
                &device.letter,
                &device.enrolled_at,
                &device.revoked_at,
                &device.last_sync,
                &as_i64(device.pending),
                &device.last_error,
                &device.skew_ms,
                &device.public_key,
                &credential_hash,
            ],
        )
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    fn device_by_credential(&self, hash: &str) -> Result<Option<(DeviceRecord, String)>> {
        self.row_opt(
            &format!(
                "SELECT {DEVICE_COLUMNS}, credential_hash FROM devices WHERE credential_hash = $1"
            ),
            &[&hash],
        )?
        .map(|r| Ok((device_row(&r)?, get(&r, 12)?)))
        .transpose()
    }

    fn device(&self, id: &str) -> Result<Option<DeviceRecord>> {
        self.row_opt(&format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = $1"), &[&id])?
            .map(|r| device_row(&r))
            .transpose()
    }

    fn register_device_key(&self, id: &str, public_key: &str) -> Result<bool> {
        let n = self.execute(
            "UPDATE devices SET public_key = $2 WHERE id = $1 AND public_key IS NULL",
            &[&id, &public_key],
        )?;
        Ok(n > 0)
    }

    fn signing_key(&self) -> Result<String> {
        crate::private::signing_key_file(&self.dir.join(crate::sqlite::KEY_FILE))
    }

    fn devices(&self, office: Option<&str>) -> Result<Vec<DeviceRecord>> {
        self.query(
            &format!(
                "SELECT {DEVICE_COLUMNS} FROM devices WHERE $1::text IS NULL OR office = $1
                 ORDER BY office COLLATE \"C\", enrolled_at"
            ),
            &[&office],
        )?
        .iter()
        .map(device_row)
        .collect()
    }

    fn revoke(&self, office: &str, device: Option<&str>, now: i64) -> Result<usize> {
        let mut conn = self.conn()?;
        let tx = conn.begin()?;
        let n = tx
            .exec(
                "UPDATE devices SET revoked_at = $3
                 WHERE office = $1 AND ($2::text IS NULL OR id = $2) AND revoked_at IS NULL",
                &[&office, &device, &now],
            )
            .map_err(db)?;
        // Revoking the whole office also voids every token it has not used yet.
        if device.is_none() {
            tx.exec(
                "UPDATE tokens SET expires_at = least(expires_at, $2) WHERE office = $1 AND used_at IS NULL",
                &[&office, &(now - 1)],
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn actor_office(&self, actor: &str) -> Result<Option<String>> {
        self.row_opt(
            "SELECT office FROM devices WHERE actor = $1
             UNION ALL SELECT office FROM actors WHERE actor = $1 LIMIT 1",
            &[&actor],
        )?
        .map(|r| get(&r, 0))
        .transpose()
    }

    fn register_actor(&self, actor: &str, device: &str, office: &str) -> Result<()> {
        let conn = self.conn()?;
        let known = conn
            .row_opt(
                "SELECT 1 FROM devices WHERE actor = $1 UNION ALL SELECT 1 FROM actors WHERE actor = $1 LIMIT 1",
                &[&actor],
            )
            .map_err(db)?;
        if known.is_some() {
            return Ok(());
        }
        // A device gets a new actor at a restore or a recovery: a few in its life. One minting
        // actors by the thousand is not registered (its changes are then refused).
        let held: i64 = get(
            &conn
                .row_one("SELECT count(*) FROM actors WHERE device = $1", &[&device])
                .map_err(db)?,
            0,
        )?;
        if held >= i64::from(MAX_ACTORS_PER_DEVICE) {
            tracing::warn!(device, "device has registered too many actors; refused");
            return Ok(());
        }
        conn.exec(
            "INSERT INTO actors (actor, device, office) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&actor, &device, &office],
        )
        .map_err(db)?;
        Ok(())
    }

    fn record_sync(&self, device: &str, h: &SyncHealth) -> Result<()> {
        self.execute(
            "UPDATE devices SET last_sync = $2, last_seq = $3, pending = $4, last_error = $5, skew_ms = $6 WHERE id = $1",
            &[&device, &h.at, &as_i64(h.seq), &as_i64(h.pending), &h.last_error, &h.skew_ms],
        )?;
        Ok(())
    }

    fn secret(&self) -> Result<[u8; 32]> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| StoreError::Database(e.to_string()))?;
        let conn = self.conn()?;
        // The first process to ask makes it; every other one reads that one.
        conn.exec(
            "INSERT INTO meta (key, value) VALUES ('secret', $1) ON CONFLICT DO NOTHING",
            &[&hex::encode(key)],
        )
        .map_err(db)?;
        let row = conn.row_one("SELECT value FROM meta WHERE key = 'secret'", &[]).map_err(db)?;
        crate::store::secret_from_hex(&get::<String>(&row, 0)?)
    }

    fn doc(&self, case: CaseId, kind: DocKind) -> Result<Option<StoredDoc>> {
        let mut conn = self.conn()?;
        // One snapshot of the database for both reads: a commit between them cannot pair an
        // old snapshot with a new tail.
        let tx = conn.begin_snapshot()?;
        let Some(row) = tx
            .row_opt(
                "SELECT snapshot FROM docs WHERE case_id = $1 AND kind = $2",
                &[&case.0, &kind_code(kind)],
            )
            .map_err(db)?
        else {
            return Ok(None);
        };
        let snapshot: Vec<u8> = get(&row, 0)?;
        let rows = tx
            .rows(
                "SELECT t.hash, c.bytes FROM doc_tail t LEFT JOIN changes c ON c.hash = t.hash
                 WHERE t.case_id = $1 AND t.kind = $2 ORDER BY t.id",
                &[&case.0, &kind_code(kind)],
            )
            .map_err(db)?;
        tx.commit().map_err(db)?;
        // A tail change that is not stored is damage to report: the document without it would
        // load as something it never was.
        let tail = rows
            .iter()
            .map(|r| {
                let hash: String = get(r, 0)?;
                get::<Option<Vec<u8>>>(r, 1)?.ok_or_else(|| crate::store::missing_tail(case, &hash))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((snapshot, tail)))
    }

    fn doc_version(&self, case: CaseId, kind: DocKind) -> Result<Option<i64>> {
        self.row_opt(
            "SELECT version FROM docs WHERE case_id = $1 AND kind = $2",
            &[&case.0, &kind_code(kind)],
        )?
        .map(|r| get(&r, 0))
        .transpose()
    }

    fn has_change(&self, hash: &str) -> Result<bool> {
        self.exists("SELECT 1 FROM changes WHERE hash = $1", &[&hash])
    }

    fn stored_changes(&self, hashes: &[String]) -> Result<HashSet<String>> {
        if hashes.is_empty() {
            return Ok(HashSet::new());
        }
        self.query("SELECT hash FROM changes WHERE hash = ANY($1)", &[&hashes])?
            .iter()
            .map(|r| get(r, 0))
            .collect()
    }

    fn doc_change_hashes(&self, case: CaseId, kind: DocKind) -> Result<Vec<String>> {
        self.query(
            "SELECT hash FROM changes WHERE case_id = $1 AND kind = $2
             UNION SELECT hash FROM doc_tail WHERE case_id = $1 AND kind = $2",
            &[&case.0, &kind_code(kind)],
        )?
        .iter()
        .map(|r| get(r, 0))
        .collect()
    }

    fn change(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        self.row_opt("SELECT bytes FROM changes WHERE hash = $1", &[&hash])?
            .map(|r| get(&r, 0))
            .transpose()
    }

    fn case_scope(&self, case: CaseId) -> Result<Option<CaseScope>> {
        self.row_opt(
            "SELECT township, registrar, restricted FROM cases WHERE case_id = $1",
            &[&case.0],
        )?
        .map(|r| scope_row(&r, 0))
        .transpose()
    }

    fn commit(&self, commit: &Commit) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.begin()?;
        self.write_changes(&tx, commit)?;
        if distinct(commit.docs.iter().map(|d| (d.case_id, d.kind))) {
            DocColumns::of(&commit.docs).write(&tx)?;
        } else {
            // A document written twice: each write is checked against what the one before it
            // made of the document, so they go one at a time (the engine writes each once).
            for d in &commit.docs {
                DocColumns::of(std::slice::from_ref(d)).write(&tx)?;
            }
        }
        // After the documents, as every commit locks them, and before the cases are written.
        check_scopes(&tx, &commit.scopes_read)?;
        self.write_cases(&tx, commit)?;
        if !commit.log.is_empty() {
            self.order_log(&tx)?;
            LogColumns::of(&commit.log).append(&tx)?;
        }
        self.commit_tx(tx)
    }

    fn log_after(&self, after: u64, reader: &Reader<'_>, limit: usize) -> Result<Vec<LogRow>> {
        let rows = self.query(
            "SELECT seq, case_id, doc_kind, kind, hash, received_at FROM log
             WHERE seq > $1 AND (
               (kind <> 'change' AND target = $2)
               OR (kind = 'change' AND author_device <> $3 AND (
                    $4 OR doc_kind = 3 OR (NOT bureau_only AND (township = ANY($5)
                           OR (township IS NULL AND registrar = $2))))))
             ORDER BY seq LIMIT $6",
            &[
                &as_i64(after),
                &reader.office,
                &reader.device,
                &reader.bureau,
                &reader.townships,
                &i64::try_from(limit).unwrap_or(i64::MAX),
            ],
        )?;
        rows.iter()
            .map(|r| {
                let what = match get::<&str>(r, 3)? {
                    "enter" => LogKind::Enter,
                    "leave" => LogKind::Leave,
                    _ => LogKind::Change,
                };
                Ok(LogRow {
                    seq: as_u64(get(r, 0)?),
                    case_id: case_id(r, 1)?,
                    kind: kind_of(get(r, 2)?)?,
                    what,
                    hash: get(r, 4)?,
                    received_at: get(r, 5)?,
                })
            })
            .collect()
    }

    fn head(&self) -> Result<u64> {
        let row = self.conn()?.row_one("SELECT coalesce(max(seq), 0) FROM log", &[]).map_err(db)?;
        Ok(as_u64(get(&row, 0)?))
    }

    fn scope_docs(
        &self,
        reader: &Reader<'_>,
        after: Option<(CaseId, DocKind)>,
        limit: usize,
        skip_own: bool,
    ) -> Result<Vec<(CaseId, DocKind, CaseScope)>> {
        // Before every document: the nil case with a kind below every kind.
        let (after_case, after_kind) =
            after.map_or((Uuid::nil(), -1), |(c, k)| (c.0, kind_code(k)));
        // As on SQLite: the bureau walks every document in order; anyone else starts from the
        // cases of its townships, those it registered outside any township, and the rules.
        let candidates = if reader.bureau {
            "docs d JOIN cases c ON c.case_id = d.case_id WHERE"
        } else {
            "cases c JOIN docs d ON d.case_id = c.case_id
             WHERE c.case_id IN (
                 SELECT case_id FROM cases WHERE township = ANY($2)
                 UNION ALL SELECT case_id FROM cases WHERE township IS NULL AND registrar = $3
                 UNION ALL SELECT case_id FROM docs WHERE kind = 3)
             AND"
        };
        let sql = format!(
            "SELECT d.case_id, d.kind, c.township, c.registrar, c.restricted FROM {candidates}
             ($1 OR d.kind = 3 OR ((c.township = ANY($2) OR (c.township IS NULL AND c.registrar = $3))
                    AND (d.kind = 0 OR NOT c.restricted)))
               AND (d.case_id, d.kind) > ($4, $5)
               AND (NOT $6 OR EXISTS (SELECT 1 FROM changes x
                    WHERE x.case_id = d.case_id AND x.kind = d.kind AND x.device <> $7))
             ORDER BY d.case_id, d.kind LIMIT $8"
        );
        let rows = self.query(
            &sql,
            &[
                &reader.bureau,
                &reader.townships,
                &reader.office,
                &after_case,
                &after_kind,
                &skip_own,
                &reader.device,
                &i64::try_from(limit).unwrap_or(i64::MAX),
            ],
        )?;
        rows.iter().map(|r| Ok((case_id(r, 0)?, kind_of(get(r, 1)?)?, scope_row(r, 2)?))).collect()
    }

    fn log_eviction(&self, case: CaseId, office: &str, device: &str, at: i64) -> Result<()> {
        self.execute(
            "INSERT INTO evictions (case_id, office, device, confirmed_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
            &[&case.0, &office, &device, &at],
        )?;
        Ok(())
    }

    fn evictions(&self, case: CaseId) -> Result<Vec<(String, String, i64)>> {
        self.query(
            "SELECT office, device, confirmed_at FROM evictions WHERE case_id = $1 ORDER BY confirmed_at",
            &[&case.0],
        )?
        .iter()
        .map(|r| Ok((get(r, 0)?, get(r, 1)?, get(r, 2)?)))
        .collect()
    }

    fn all_facts(&self) -> Result<Vec<CaseFacts>> {
        self.query("SELECT facts FROM cases WHERE facts IS NOT NULL", &[])?
            .iter()
            .map(|r| {
                serde_json::from_str(get::<&str>(r, 0)?)
                    .map_err(|e| StoreError::Database(e.to_string()))
            })
            .collect()
    }

    fn case_ids(&self) -> Result<Vec<CaseId>> {
        self.query("SELECT case_id FROM docs WHERE kind = 0 ORDER BY case_id", &[])?
            .iter()
            .map(|r| case_id(r, 0))
            .collect()
    }

    fn set_facts(&self, rows: &[(CaseId, CaseFacts)]) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.begin()?;
        for (id, facts) in rows {
            let json =
                serde_json::to_string(facts).map_err(|e| StoreError::Database(e.to_string()))?;
            tx.exec("UPDATE cases SET facts = $2 WHERE case_id = $1", &[&id.0, &json])
                .map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        self.row_opt("SELECT value FROM meta WHERE key = $1", &[&key])?
            .map(|r| get(&r, 0))
            .transpose()
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )?;
        Ok(())
    }

    fn blob(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        self.row_opt("SELECT bytes FROM blobs WHERE hash = $1", &[&hash])?
            .map(|r| get(&r, 0))
            .transpose()
    }

    fn blob_progress(&self, hash: &str) -> Result<Result<(), u64>> {
        if self.exists("SELECT 1 FROM blobs WHERE hash = $1", &[&hash])? {
            return Ok(Ok(()));
        }
        let row = self
            .conn()?
            .row_one(
                "SELECT coalesce(sum(length(bytes)), 0)::bigint FROM blob_pieces WHERE hash = $1",
                &[&hash],
            )
            .map_err(db)?;
        Ok(Err(as_u64(get(&row, 0)?)))
    }

    fn blob_piece(&self, chunk: &BlobChunk, now: i64) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.begin()?;
        // Pieces of one attachment arrive one after another; two processes taking pieces of
        // the same attachment wait for each other here.
        tx.exec("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", &[&chunk.hash])
            .map_err(db)?;
        let row = tx
            .row_one(
                "SELECT coalesce(sum(length(bytes)), 0)::bigint FROM blob_pieces WHERE hash = $1",
                &[&chunk.hash],
            )
            .map_err(db)?;
        let held = as_u64(get(&row, 0)?);
        // Only a piece that continues exactly where the upload stands is taken.
        if chunk.offset != held
            || chunk.total > ledger_protocol::MAX_BLOB_BYTES
            || chunk.bytes.is_empty()
            || held + chunk.bytes.len() as u64 > chunk.total
        {
            return Ok(());
        }
        tx.exec(
            "INSERT INTO blob_pieces (hash, \"offset\", total, bytes, updated_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING",
            &[&chunk.hash, &as_i64(held), &as_i64(chunk.total), &chunk.bytes, &now],
        )
        .map_err(db)?;
        if held + chunk.bytes.len() as u64 == chunk.total {
            let pieces = tx
                .rows(
                    "SELECT bytes FROM blob_pieces WHERE hash = $1 ORDER BY \"offset\"",
                    &[&chunk.hash],
                )
                .map_err(db)?;
            let mut bytes = Vec::with_capacity(usize::try_from(chunk.total).unwrap_or(0));
            for piece in &pieces {
                bytes.extend_from_slice(get::<&[u8]>(piece, 0)?);
            }
            tx.exec("DELETE FROM blob_pieces WHERE hash = $1", &[&chunk.hash]).map_err(db)?;
            if blake3::hash(&bytes).to_hex().as_str() == chunk.hash {
                tx.exec(
                    "INSERT INTO blobs (hash, size, bytes) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    &[&chunk.hash, &as_i64(bytes.len() as u64), &bytes],
                )
                .map_err(db)?;
            }
        }
        tx.commit().map_err(db)
    }

    fn blob_cases(&self, hash: &str) -> Result<Vec<CaseId>> {
        self.query("SELECT case_id FROM blob_refs WHERE hash = $1", &[&hash])?
            .iter()
            .map(|r| case_id(r, 0))
            .collect()
    }

    fn expire_uploads(&self, before: i64) -> Result<usize> {
        let n = self.execute(
            "DELETE FROM blob_pieces WHERE hash IN
               (SELECT hash FROM blob_pieces GROUP BY hash HAVING max(updated_at) < $1)",
            &[&before],
        )?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn device_actors(&self, device: &str) -> Result<Vec<String>> {
        self.query(
            "SELECT actor FROM devices WHERE id = $1 UNION SELECT actor FROM actors WHERE device = $1",
            &[&device],
        )?
        .iter()
        .map(|r| get(r, 0))
        .collect()
    }

    fn quarantine(&self, q: &QuarantineRecord, keep: usize) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.begin()?;
        // Enough to inspect; a device sending huge refused changes cannot fill the disk.
        let sample = &q.bytes[..q.bytes.len().min(QUARANTINE_SAMPLE)];
        tx.exec(
            "INSERT INTO quarantine (hash, case_id, kind, device, office, rule, reason, received_at, bytes)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &q.hash,
                &q.case_id.0,
                &kind_code(q.kind),
                &q.device,
                &q.office,
                &q.rule,
                &q.reason,
                &q.received_at,
                &sample,
            ],
        )
        .map_err(db)?;
        // A device that keeps sending refused changes cannot fill the disk.
        tx.exec(
            "DELETE FROM quarantine WHERE device = $1 AND id NOT IN
               (SELECT id FROM quarantine WHERE device = $1 ORDER BY id DESC LIMIT $2)",
            &[&q.device, &i64::try_from(keep).unwrap_or(i64::MAX)],
        )
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    fn quarantined(&self, limit: usize) -> Result<Vec<QuarantineRecord>> {
        self.query(
            "SELECT hash, case_id, kind, device, office, rule, reason, received_at, bytes
             FROM quarantine ORDER BY id DESC LIMIT $1",
            &[&i64::try_from(limit).unwrap_or(i64::MAX)],
        )?
        .iter()
        .map(|r| {
            Ok(QuarantineRecord {
                hash: get(r, 0)?,
                case_id: case_id(r, 1)?,
                kind: kind_of(get(r, 2)?)?,
                device: get(r, 3)?,
                office: get(r, 4)?,
                rule: get(r, 5)?,
                reason: get(r, 6)?,
                received_at: get(r, 7)?,
                bytes: get(r, 8)?,
            })
        })
        .collect()
    }

    fn drop_merged(&self, id: Uuid) -> Result<bool> {
        self.exists("SELECT 1 FROM drops WHERE id = $1", &[&id])
    }

    fn merged_drops(&self, ids: &[Uuid]) -> Result<HashSet<Uuid>> {
        if ids.is_empty() {
            return Ok(HashSet::new());
        }
        self.query("SELECT id FROM drops WHERE id = ANY($1)", &[&ids])?
            .iter()
            .map(|r| get(r, 0))
            .collect()
    }

    fn has_leave(&self, case: CaseId, office: &str) -> Result<bool> {
        self.exists(
            "SELECT 1 FROM log WHERE kind = 'leave' AND target = $2 AND case_id = $1 AND doc_kind = 0 LIMIT 1",
            &[&case.0, &office],
        )
    }

    fn lease(
        &self,
        office: &str,
        series: &str,
        device: &str,
        used: u64,
        size: u64,
        now: i64,
    ) -> Result<(u64, u64)> {
        let mut conn = self.conn()?;
        let tx = conn.begin()?;
        let floor = i64::try_from(used.saturating_add(1)).unwrap_or(i64::MAX).max(1);
        let size = i64::try_from(size.max(1)).unwrap_or(1);
        // One statement takes the block. The row lock it holds makes two processes leasing
        // from one series at once take blocks one after the other, and so it comes before the
        // day's count: a device's series is its office's, so two of its leases through two
        // processes count one after the other too. A refused lease rolls the block back.
        let next: i64 = get(
            &tx.row_one(
                "INSERT INTO number_series (office, series, next) VALUES ($1, $2, $3::bigint + $4::bigint)
                 ON CONFLICT (office, series) DO UPDATE
                   SET next = greatest(number_series.next, $3::bigint) + $4::bigint
                 RETURNING next",
                &[&office, &series, &floor, &size],
            )
            .map_err(db)?,
            0,
        )?;
        let recent: i64 = get(
            &tx.row_one(
                "SELECT count(*) FROM number_leases WHERE device = $1 AND series = $2 AND leased_at > $3",
                &[&device, &series, &(now - 86_400_000)],
            )
            .map_err(db)?,
            0,
        )?;
        if recent >= i64::from(MAX_LEASES_PER_DAY) {
            return Err(StoreError::Conflict(format!(
                "设备 {device} 今天已领取过多的 {series} 编号段"
            )));
        }
        let start = next - size;
        let end = next - 1;
        tx.exec(
            "INSERT INTO number_leases (office, series, device, first, last, leased_at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&office, &series, &device, &start, &end, &now],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok((as_u64(start), as_u64(end)))
    }

    fn all_docs(
        &self,
        after: Option<(CaseId, DocKind)>,
        limit: usize,
    ) -> Result<Vec<(CaseId, DocKind)>> {
        let (case, kind) = after.map_or((Uuid::nil(), -1), |(c, k)| (c.0, kind_code(k)));
        self.query(
            "SELECT case_id, kind FROM docs WHERE (case_id, kind) > ($1, $2) ORDER BY case_id, kind LIMIT $3",
            &[&case, &kind, &i64::try_from(limit).unwrap_or(i64::MAX)],
        )?
        .iter()
        .map(|r| Ok((case_id(r, 0)?, kind_of(get(r, 1)?)?)))
        .collect()
    }

    fn set_aside(&self, case: CaseId, kind: DocKind, reason: &str, now: i64) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.begin()?;
        let key: [&(dyn ToSql + Sync); 2] = [&case.0, &kind_code(kind)];
        tx.exec(
            "INSERT INTO docs_set_aside (case_id, kind, snapshot, reason, at)
             SELECT case_id, kind, snapshot, $3, $4 FROM docs WHERE case_id = $1 AND kind = $2",
            &[&case.0, &kind_code(kind), &reason, &now],
        )
        .map_err(db)?;
        tx.exec("DELETE FROM docs WHERE case_id = $1 AND kind = $2", &key).map_err(db)?;
        tx.exec("DELETE FROM doc_tail WHERE case_id = $1 AND kind = $2", &key).map_err(db)?;
        tx.commit().map_err(db)
    }

    fn is_set_aside(&self, case: CaseId, kind: DocKind) -> Result<bool> {
        self.exists(
            "SELECT 1 FROM docs_set_aside WHERE case_id = $1 AND kind = $2 LIMIT 1",
            &[&case.0, &kind_code(kind)],
        )
    }

    fn purge_case(&self, case: CaseId, by: &str, leave_for: &[String], now: i64) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.begin()?;
        for sql in [
            "DELETE FROM docs WHERE case_id = $1",
            "DELETE FROM doc_tail WHERE case_id = $1",
            "DELETE FROM changes WHERE case_id = $1",
            "DELETE FROM cases WHERE case_id = $1",
            "DELETE FROM blob_refs WHERE case_id = $1",
            "DELETE FROM log WHERE case_id = $1 AND kind = 'change'",
        ] {
            tx.exec(sql, &[&case.0]).map_err(db)?;
        }
        tx.exec(
            "INSERT INTO purged (case_id, office, purged_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&case.0, &by, &now],
        )
        .map_err(db)?;
        let leaves: Vec<crate::store::NewLogRow> = leave_for
            .iter()
            .map(|office| crate::store::NewLogRow {
                case_id: case,
                kind: DocKind::Case,
                entry: LogEntry::Leave { target: office.clone() },
                received_at: now,
            })
            .collect();
        if !leaves.is_empty() {
            self.order_log(&tx)?;
            LogColumns::of(&leaves).append(&tx)?;
        }
        self.commit_tx(tx)
    }

    fn is_purged(&self, case: CaseId) -> Result<bool> {
        self.exists("SELECT 1 FROM purged WHERE case_id = $1", &[&case.0])
    }

    fn survey(&self, keys: &[(CaseId, DocKind)]) -> Result<Survey> {
        let mut survey = Survey::default();
        if keys.is_empty() {
            return Ok(survey);
        }
        let doc_cases: Vec<Uuid> = keys.iter().map(|(c, _)| c.0).collect();
        let doc_kinds: Vec<i16> = keys.iter().map(|(_, k)| kind_code(*k)).collect();
        let cases = Survey::cases_of(keys);
        let case_ids: Vec<Uuid> = cases.iter().map(|c| c.0).collect();
        // One round trip for what was four a document: rows tagged by what they say.
        let rows = self.query(
            "WITH k AS (SELECT * FROM unnest($1::uuid[], $2::smallint[]) AS u(c, k))
             SELECT 'v', d.case_id, d.kind, d.version, NULL::text, NULL::text, NULL::boolean
               FROM docs d JOIN k ON d.case_id = k.c AND d.kind = k.k
             UNION ALL
             SELECT DISTINCT 'a', s.case_id, s.kind, NULL::bigint, NULL::text, NULL::text, NULL::boolean
               FROM docs_set_aside s JOIN k ON s.case_id = k.c AND s.kind = k.k
             UNION ALL
             SELECT 'p', p.case_id, NULL::smallint, NULL::bigint, NULL::text, NULL::text, NULL::boolean
               FROM purged p WHERE p.case_id = ANY($3)
             UNION ALL
             SELECT 's', c.case_id, NULL::smallint, NULL::bigint, c.township, c.registrar, c.restricted
               FROM cases c WHERE c.case_id = ANY($3)",
            &[&doc_cases, &doc_kinds, &case_ids],
        )?;
        for r in &rows {
            let tag: &str = get(r, 0)?;
            let case = case_id(r, 1)?;
            match tag {
                "v" => {
                    survey.versions.insert((case, kind_of(get(r, 2)?)?), get(r, 3)?);
                }
                "a" => {
                    survey.set_aside.insert((case, kind_of(get(r, 2)?)?));
                }
                "p" => {
                    survey.purged.insert(case);
                }
                _ => {
                    survey.scopes.insert(case, scope_row(r, 4)?);
                }
            }
        }
        survey.keys = keys.iter().copied().collect();
        survey.cases = cases.into_iter().collect();
        Ok(survey)
    }

    fn county_townships(&self) -> Result<Vec<String>> {
        // A list that no longer reads is an error, never an empty county that refuses nothing.
        self.meta("county_townships")?
            .map(|j| serde_json::from_str(&j))
            .transpose()
            .map(Option::unwrap_or_default)
            .map_err(|e| StoreError::Database(format!("乡镇名录无法读取：{e}")))
    }

    fn directory_stamp(&self) -> Result<String> {
        let row = self
            .conn()?
            .row_one(
                "SELECT (SELECT count(*) FROM offices)::text || ':' ||
                        coalesce((SELECT value FROM meta WHERE key = 'county_townships'), '[]')",
                &[],
            )
            .map_err(db)?;
        get(&row, 0)
    }

    fn set_county_townships(&self, townships: &[String]) -> Result<()> {
        let json =
            serde_json::to_string(townships).map_err(|e| StoreError::Database(e.to_string()))?;
        self.set_meta("county_townships", &json)
    }

    fn pool(&self) -> Option<crate::store::PoolStats> {
        let state = self.pool.lock();
        Some(crate::store::PoolStats {
            open: state.open,
            idle: state.idle.len(),
            max: self.pool.max,
        })
    }
}
