//! An office's replica on SQLite (DESIGN §4): the case and identity documents with the changes
//! appended since their last compaction, the projected index that lists, filters, search and
//! counts read, content-addressed attachment blobs, the outbox and the pull cursor. The sync
//! bookkeeping (everything but the documents) is also behind the [`SyncBook`] trait, with an
//! in-memory implementation, [`MemorySyncBook`].
//!
//! Crash safety is the point of the layout. A local edit commits its Automerge change, its index
//! row, its search row and its outbox entry in one SQLite transaction (WAL, `synchronous=FULL`),
//! so a power cut loses nothing that was reported saved. The outbox keeps its own copy of every
//! unacknowledged change, so compacting a document never loses one. One process holds a store at
//! a time (`ledger.lock`), so an Automerge (actor, sequence) pair is never reused.
//!
//! Opening never loads documents: lists and counts come from the index, and only the working
//! set of documents stays in memory (an LRU of [`DOC_CACHE`] documents).
//!
//! Every write is one transaction unless it runs inside [`Store::batch`]: then the writes of
//! one thread (a page of records from the hub, say) share one transaction and one fsync, the
//! other threads' writes and document reads wait for it, and reads on the batch's thread see
//! its writes.

mod backup;
mod blobs;
mod book;
mod check;
mod checkpoint;
pub mod cipher;

mod docs;
mod drops;
mod error;
mod index;
mod lock;
mod outbox;
mod parallel;
mod position;
pub mod private;
mod sync;

use std::num::NonZeroUsize;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};
use std::thread::ThreadId;
use std::time::{SystemTime, UNIX_EPOCH};

pub use ledger_domain::Rules;
use ledger_domain::automerge::{ActorId, Automerge};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

pub use blobs::blob_hash;
pub use book::{MemorySyncBook, SyncBook};
pub use check::{DeepCheck, DeepProblem};
pub use cipher::StoreKey;
pub use docs::{Applied, DropRecord, NewCaseDocs};
pub use error::{Result, StoreError};
pub use index::{COUNT_CAP, CaseQuery, CaseRow, Page};
pub use outbox::{OutboxEntry, QuarantinedChange};
pub use position::{BootstrapPosition, LEGACY_META_KEY, PartialPosition, SyncPosition};
pub use sync::Preloaded;

use docs::DocCache;
pub use index::STAMP_KEY as INDEX_STAMP_KEY;
use lock::LockFile;

/// How many documents stay loaded.
pub const DOC_CACHE: usize = 256;
/// [`DOC_CACHE`] as the LRU's capacity.
const DOC_CACHE_CAPACITY: NonZeroUsize = match NonZeroUsize::new(DOC_CACHE) {
    Some(n) => n,
    None => NonZeroUsize::MIN,
};

/// The file name of the store inside its data directory.
pub const DB_FILE: &str = "ledger.db";

/// Which document of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocKind {
    /// The case document (信访事项).
    Case,
    /// The identity document (信访人身份).
    Identity,
    /// The office's staff roster (人员名单; one document, id `roster_id(office)`).
    Roster,
    /// The county's rules (全县规则; one document, id `rules_id()`).
    Rules,
    /// A work record (工作记录: 政策咨询, 宣传与培训, 矛盾纠纷排查; id `work_id(..)`).
    Work,
}

impl DocKind {
    /// The code stored in the database and sent on the wire.
    pub fn code(self) -> i64 {
        match self {
            Self::Case => 0,
            Self::Identity => 1,
            Self::Roster => 2,
            Self::Rules => 3,
            Self::Work => 4,
        }
    }

    /// The kind of a stored code.
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            0 => Some(Self::Case),
            1 => Some(Self::Identity),
            2 => Some(Self::Roster),
            3 => Some(Self::Rules),
            4 => Some(Self::Work),
            _ => None,
        }
    }
}

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/001_init.sql"),
    include_str!("../migrations/002_sync.sql"),
    include_str!("../migrations/003_trust.sql"),
    include_str!("../migrations/004_search_pairs.sql"),
    include_str!("../migrations/005_demo.sql"),
    include_str!("../migrations/006_demo_indexes.sql"),
    include_str!("../migrations/007_open_indexes.sql"),
    include_str!("../migrations/008_blob_refs_case.sql"),
    include_str!("../migrations/009_sync_position.sql"),
    include_str!("../migrations/010_outbox_waiting.sql"),
    include_str!("../migrations/011_search_backlog.sql"),
    include_str!("../migrations/012_search_grams.sql"),
];

/// The writer's page cache, in KiB (taken only as pages are read).
const WRITER_CACHE_KIB: i64 = 64 * 1024;

/// Finds the county's rules document at every open (through the `docs_kind` index).
const RULES_DOC_SQL: &str = "SELECT case_id FROM docs WHERE kind = ?1 LIMIT 1";

/// The office's replica.
pub struct Store {
    /// Copies the WAL into the file beside the writer ([`checkpoint`]); stops first on drop.
    #[cfg_attr(not(test), expect(dead_code, reason = "held for its thread, which its drop stops"))]
    checkpointer: checkpoint::Checkpointer,
    dir: PathBuf,
    /// The data key when the store is encrypted (backups are exported under it).
    key: Option<StoreKey>,
    writer: Mutex<Writer>,
    reader: Mutex<Connection>,
    actor: Mutex<ActorId>,
    /// This release's rules, which the rules document's entries apply to.
    base: Rules,
    /// The rules the index is projected with: `base` with the county's rules document.
    rules: RwLock<Arc<Rules>>,
    /// The thread whose [`Store::batch`] holds the write transaction open. It changes only
    /// while `writer` is held, so a writer that checks it under that lock cannot race a batch.
    batch_owner: Mutex<Option<ThreadId>>,
    /// Signalled when a batch ends, for the writes of other threads that wait on it.
    batch_ended: Condvar,
    _lock: LockFile,
}

struct Writer {
    conn: Connection,
    cache: DocCache,
    /// A deletion inside a batch asked for a WAL checkpoint, which waits for the commit.
    checkpoint_due: bool,
    /// Inside a batch: cases whose index rows are written when the batch next reads, when
    /// enough of them wait, or when it commits (a case and its identity arriving in one page
    /// are projected once, and the search index takes its rows in runs).
    unprojected: std::collections::BTreeSet<ledger_domain::CaseId>,
    /// Inside a batch: why it must not commit (a write failed part-way), the first reason.
    failed: std::cell::RefCell<Option<String>>,
    /// Inside a batch: its search rows wait in `search_backlog` (a page of a pull, which
    /// [`Store::catch_up_search`] ends).
    defer_search: bool,
    /// Inside a batch: cases whose documents did not read when their index rows were due
    /// (something a hub sent), each with the reason. Their rows stay as last projected; the
    /// batch fails unless its owner takes them ([`Store::take_unreadable`]) and says so.
    unreadable: Vec<(ledger_domain::CaseId, String)>,
}

impl Writer {
    /// A write transaction: a savepoint of its own, or inside a batch the batch's transaction
    /// (savepoints there would make the search index flush at every one).
    pub(crate) fn tx(&mut self) -> Result<Tx<'_>> {
        if self.conn.is_autocommit() {
            return Ok(Tx::Own(self.conn.savepoint()?));
        }
        Ok(Tx::InBatch(BatchTx { conn: &self.conn, failed: &self.failed, done: false }))
    }

    /// Whether this write is inside a batch.
    pub(crate) fn in_batch(&self) -> bool {
        !self.conn.is_autocommit()
    }
}

/// A write transaction from [`Writer::tx`]. Dropped without [`Tx::commit`], its own savepoint
/// rolls back; inside a batch it marks the batch failed, which then rolls back whole.
pub(crate) enum Tx<'a> {
    Own(rusqlite::Savepoint<'a>),
    InBatch(BatchTx<'a>),
}

/// A write inside a batch.
pub(crate) struct BatchTx<'a> {
    conn: &'a Connection,
    failed: &'a std::cell::RefCell<Option<String>>,
    done: bool,
}

impl Drop for BatchTx<'_> {
    fn drop(&mut self) {
        if !self.done {
            fail(self.failed, "一次写入未完成".to_owned());
        }
    }
}

/// Records why a batch must not commit, keeping the first reason.
fn fail(failed: &std::cell::RefCell<Option<String>>, reason: String) {
    failed.borrow_mut().get_or_insert(reason);
}

impl Tx<'_> {
    pub(crate) fn commit(self) -> Result<()> {
        match self {
            Tx::Own(savepoint) => savepoint.commit()?,
            Tx::InBatch(mut write) => write.done = true,
        }
        Ok(())
    }
}

impl Deref for Tx<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        match self {
            Tx::Own(savepoint) => savepoint,
            Tx::InBatch(write) => write.conn,
        }
    }
}

/// Whether a batch's commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Durability {
    /// Every commit is on disk when it returns (`synchronous=FULL`).
    Full,
    /// Fetched again if lost ([`Store::batch_replayable`]).
    Replayable,
}

/// Sets the writer up for a replayable batch: commits that do not wait for the disk.
fn relax_durability(conn: &Connection) -> rusqlite::Result<()> {
    conn.prepare_cached("PRAGMA synchronous = NORMAL")?.execute([]).map(drop)
}

/// Puts the writer back to waiting for the disk on every commit.
fn restore_durability(conn: &Connection) {
    if let Err(e) = conn.prepare_cached("PRAGMA synchronous = FULL").and_then(|mut s| s.execute([]))
    {
        // Left at NORMAL the store stays consistent; only the last commits could be undone.
        tracing::error!(error = %e, "restoring synchronous=FULL failed");
    }
}

/// A batch in progress; dropped, it rolls back unless it committed, and lets other writers on.
struct OpenBatch<'a> {
    store: &'a Store,
    committed: bool,
    durability: Durability,
}

impl Drop for OpenBatch<'_> {
    fn drop(&mut self) {
        let mut w = self.store.writer_lock();
        if !self.committed {
            if !w.conn.is_autocommit()
                && let Err(e) = w.conn.execute_batch("ROLLBACK")
            {
                tracing::error!(error = %e, "rolling back a batch failed");
            }
            // Documents edited in memory during the batch no longer match the store, nor may
            // the rules a rules document of the batch set: both go before anyone else writes.
            w.cache.clear();
            w.unprojected.clear();
            if let Err(e) = self.store.reload_rules_from(&mut w) {
                tracing::error!(error = %e, "reading the rules after a rolled-back batch failed");
            }
        }
        if self.durability == Durability::Replayable {
            restore_durability(&w.conn);
        }
        w.defer_search = false;
        self.store.set_batch_owner(None);
        drop(w);
        self.store.batch_ended.notify_all();
    }
}

/// A connection to read from: the reader's, or inside a batch on its own thread the writer's
/// (which sees the batch's uncommitted writes).
pub(crate) enum ReadConn<'a> {
    Reader(MutexGuard<'a, Connection>),
    Writer(MutexGuard<'a, Writer>),
}

impl Deref for ReadConn<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        match self {
            Self::Reader(conn) => conn,
            Self::Writer(w) => &w.conn,
        }
    }
}

/// Milliseconds since the epoch by this device's clock.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn connect(path: &Path, flags: OpenFlags, key: Option<&StoreKey>) -> Result<Connection> {
    let conn = Connection::open_with_flags(path, flags)?;
    if let Some(key) = key {
        // The key is the first statement on a connection to an encrypted file.
        cipher::unlock(&conn, key)?;
        // The operating system caches a file's pages, but an encrypted page is decrypted (and
        // its MAC checked) on every read from that cache: keep up to 64 MiB of decrypted pages
        // here, taken only as pages are read, so repeated searches cost what plain ones do.
        conn.pragma_update(None, "cache_size", -65_536)?;
    }
    // The write path keeps a few dozen statements prepared (index rows, documents, outbox).
    conn.set_prepared_statement_cache_capacity(64);
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let supported = MIGRATIONS.len() as i64;
    if version > supported {
        return Err(StoreError::TooNew { found: version, supported });
    }
    for (n, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(version).unwrap_or(0)) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", n as i64 + 1)?;
        tx.commit()?;
        tracing::info!(migration = n + 1, "store migrated");
    }
    Ok(())
}

impl Store {
    /// Whether `dir` holds a store.
    pub fn exists(dir: &Path) -> bool {
        dir.join(DB_FILE).is_file()
    }

    /// Creates a new store in `dir` (made if missing) and mints its Automerge actor.
    pub fn create(dir: &Path) -> Result<Self> {
        Self::create_keyed(dir, None, None)
    }

    /// Creates a new store whose actor was minted beforehand (a device enrolls its actor with
    /// the hub before its store exists).
    pub fn create_with_actor(dir: &Path, actor_hex: &str) -> Result<Self> {
        Self::create_keyed(dir, Some(actor_hex), None)
    }

    /// Creates a new store, with the actor minted beforehand if given, encrypted with `key` if
    /// given (SQLCipher; the office's vault keeps the key).
    pub fn create_keyed(
        dir: &Path,
        actor_hex: Option<&str>,
        key: Option<StoreKey>,
    ) -> Result<Self> {
        let minted = match actor_hex {
            Some(hex) => {
                Some(ActorId::from(hex::decode(hex).ok().filter(|b| !b.is_empty()).ok_or_else(
                    || StoreError::BadBackup {
                        path: dir.to_path_buf(),
                        reason: "设备标识格式有误".into(),
                    },
                )?))
            }
            None => None,
        };
        private::create_dir(dir)?;
        let lock = LockFile::acquire(dir)?;
        if Self::exists(dir) {
            return Err(StoreError::Exists(dir.to_path_buf()));
        }
        let store = Self::open_locked(dir, lock, true, minted, key)?;
        store.refresh_index(&mut |_, _| {})?;
        Ok(store)
    }

    /// Whether the store in `dir` is encrypted.
    pub fn is_encrypted(dir: &Path) -> Result<bool> {
        Ok(!cipher::is_plain(&dir.join(DB_FILE))?)
    }

    /// Opens the store in `dir` with its key (`None` for a plain store). A plain store given a
    /// key, or an encrypted one given none, is refused (`NotEncrypted`, `Encrypted`).
    pub fn open_keyed(dir: &Path, key: Option<StoreKey>) -> Result<Self> {
        if !Self::exists(dir) {
            return Err(StoreError::Missing(dir.to_path_buf()));
        }
        let lock = LockFile::acquire(dir)?;
        match (Self::is_encrypted(dir)?, &key) {
            (false, Some(_)) => return Err(StoreError::NotEncrypted),
            (true, None) => return Err(StoreError::Encrypted),
            _ => {}
        }
        let store = Self::open_locked(dir, lock, false, None, key)?;
        store.reload_rules()?;
        Ok(store)
    }

    /// Encrypts the plain store in `dir` with `key`: a consistent encrypted copy is written
    /// beside it (SQLCipher's export), made durable, and put in its place; the plain file is
    /// gone only once the encrypted one is complete. The store must not be open. `progress`
    /// hears (bytes done, bytes in all).
    pub fn encrypt_in_place(
        dir: &Path,
        key: &StoreKey,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<()> {
        let _lock = LockFile::acquire(dir)?;
        if Self::is_encrypted(dir)? {
            return Ok(());
        }
        Self::replace_exported(dir, None, key, progress)
    }

    /// Gives the encrypted store in `dir` the key `new` in place of `old` (every page is written
    /// again under the new key). The store must not be open.
    pub fn rekey_in_place(
        dir: &Path,
        old: &StoreKey,
        new: &StoreKey,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<()> {
        let _lock = LockFile::acquire(dir)?;
        Self::replace_exported(dir, Some(old), new, progress)
    }

    /// Exports the store in `dir` (opened with `from`) under `to` beside it, then swaps it in.
    fn replace_exported(
        dir: &Path,
        from: Option<&StoreKey>,
        to: &StoreKey,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<()> {
        let path = dir.join(DB_FILE);
        let total = std::fs::metadata(&path)?.len();
        progress(0, total);
        let staging = dir.join("ledger.db.encrypting");
        if staging.exists() {
            std::fs::remove_file(&staging)?;
        }
        {
            let conn = connect(
                &path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                from,
            )?;
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            private::touch(&staging)?;
            cipher::export(&conn, &staging, Some(to))?;
        }
        std::fs::File::open(&staging)?.sync_all()?;
        for suffix in ["-wal", "-shm"] {
            let side = dir.join(format!("{DB_FILE}{suffix}"));
            if side.exists() {
                std::fs::remove_file(side)?;
            }
        }
        std::fs::rename(&staging, &path)?;
        // Durability of the rename only: the file itself is synced, and some systems cannot
        // open or sync a directory.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        progress(total, total);
        Ok(())
    }

    /// Opens the store in `dir`, running any pending migrations.
    pub fn open(dir: &Path) -> Result<Self> {
        Self::open_with(dir, Rules::default())
    }

    /// Opens the store with other deadline rules.
    pub fn open_with(dir: &Path, rules: Rules) -> Result<Self> {
        if !Self::exists(dir) {
            return Err(StoreError::Missing(dir.to_path_buf()));
        }
        let lock = LockFile::acquire(dir)?;
        if Self::is_encrypted(dir)? {
            return Err(StoreError::Encrypted);
        }
        let mut store = Self::open_locked(dir, lock, false, None, None)?;
        store.base = rules;
        store.reload_rules()?;
        Ok(store)
    }

    fn open_locked(
        dir: &Path,
        lock: LockFile,
        create: bool,
        minted: Option<ActorId>,
        key: Option<StoreKey>,
    ) -> Result<Self> {
        let path = dir.join(DB_FILE);
        if create {
            // Made 0600 before SQLite opens it: its -wal and -shm files take the database's mode.
            private::touch(&path)?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | if create { OpenFlags::SQLITE_OPEN_CREATE } else { OpenFlags::empty() };
        let mut conn = connect(&path, flags, key.as_ref())?;
        // A pull's page rewrites pages all over the index's B-trees (cases arrive in id order,
        // the indexes want them by date, township, status): in SQLite's default 2 MiB they were
        // read back from the OS and spilled mid-transaction, page after page.
        conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
        migrate(&mut conn)?;
        let actor = match meta_get(&conn, "actor")? {
            Some(hex) => ActorId::from(hex::decode(&hex).map_err(|_| StoreError::BadBackup {
                path: path.clone(),
                reason: "actor 格式有误".into(),
            })?),
            None => {
                let actor = minted.unwrap_or_else(ActorId::random);
                meta_set(&conn, "actor", &actor.to_hex_string())?;
                meta_set(&conn, "created_at", &now_ms().to_string())?;
                actor
            }
        };
        let reader = connect(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            key.as_ref(),
        )?;
        let checkpoints = connect(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            key.as_ref(),
        )?;
        let checkpointer =
            checkpoint::Checkpointer::start(checkpoints, &mut conn, checkpoint::WAL_PAGES)?;
        let base = Rules::default();
        Ok(Self {
            checkpointer,
            dir: dir.to_path_buf(),
            key,
            writer: Mutex::new(Writer {
                conn,
                cache: DocCache::new(DOC_CACHE_CAPACITY),
                checkpoint_due: false,
                unprojected: std::collections::BTreeSet::new(),
                failed: std::cell::RefCell::new(None),
                defer_search: false,
                unreadable: Vec::new(),
            }),
            reader: Mutex::new(reader),
            actor: Mutex::new(actor),
            rules: RwLock::new(Arc::new(base.clone())),
            base,
            batch_owner: Mutex::new(None),
            batch_ended: Condvar::new(),
            _lock: lock,
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Checkpoints the store's checkpoint thread completed.
    #[cfg(test)]
    pub(crate) fn checkpoints_done(&self) -> u64 {
        self.checkpointer.done()
    }

    /// This store's Automerge actor: every local change is made by it.
    pub fn actor(&self) -> ActorId {
        self.actor.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Mints a new actor for every later change (after the hub refused a change, its document is
    /// replaced by the hub's copy; the refused change's (actor, sequence) pair must never be
    /// reused with other content). Returns it, hex.
    pub fn rotate_actor(&self) -> Result<String> {
        let actor = ActorId::random();
        let mut w = self.writer();
        meta_set(&w.conn, "actor", &actor.to_hex_string())?;
        // Loaded documents carry the old actor: load them again.
        w.cache.clear();
        *self.actor.lock().unwrap_or_else(|p| p.into_inner()) = actor.clone();
        tracing::info!(actor = %actor.to_hex_string(), "store actor rotated");
        Ok(actor.to_hex_string())
    }

    /// The rules the index is projected with: this release's, with the county's rules
    /// document as last received.
    pub fn rules(&self) -> Arc<Rules> {
        self.rules.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Reads the county's rules document, if this store holds it (at open; every write to it
    /// applies it at once through [`Store::apply_rules_doc`]). An entry that does not apply is
    /// logged and left out: the hub refuses such entries, so only a newer bureau version's
    /// could be.
    pub(crate) fn reload_rules(&self) -> Result<()> {
        self.reload_rules_from(&mut self.writer())
    }

    /// [`Store::reload_rules`] through the writer already held (after a rolled-back batch,
    /// whose documents left the working set).
    fn reload_rules_from(&self, w: &mut Writer) -> Result<()> {
        // One rules document per county; the store needs no id to find it.
        let id: Option<String> =
            w.conn.query_row(RULES_DOC_SQL, [DocKind::Rules.code()], |r| r.get(0)).optional()?;
        let doc = match id.and_then(|s| s.parse::<ledger_domain::CaseId>().ok()) {
            Some(id) => self.load_doc(&w.conn, id, DocKind::Rules).unwrap_or_else(|e| {
                // The store stays usable on the built-in rules (the law's defaults), and the
                // deep check (`ledger check --deep`) names the document.
                tracing::error!(error = %e, "the county rules document does not load; built-in rules apply");
                None
            }),
            None => None,
        };
        match doc {
            Some(doc) => self.apply_rules_doc(&doc),
            None => {
                *self.rules.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(self.base.clone())
            }
        }
        Ok(())
    }

    /// Sets the rules from a rules document (built-in rules when it does not read). The index
    /// rows then no longer match their stamp, and [`Store::refresh_index`] re-projects them;
    /// case views reckon with the new rules at once.
    pub(crate) fn apply_rules_doc(&self, doc: &Automerge) {
        let read = ledger_domain::schema::read_rules(doc);
        let rules = match read {
            Ok(doc) => {
                let (rules, skipped) = self.base.with_doc(&doc);
                for s in skipped {
                    tracing::warn!(entry = %s.id, reason = %s.reason, "rules entry not applied");
                }
                rules
            }
            Err(e) => {
                tracing::error!(error = %e, "the rules document does not read; keeping the built-in rules");
                self.base.clone()
            }
        };
        *self.rules.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(rules);
    }

    /// The writer, once no other thread's batch holds it.
    fn writer(&self) -> MutexGuard<'_, Writer> {
        let me = std::thread::current().id();
        let mut guard = self.writer_lock();
        while self.batch_owner().is_some_and(|owner| owner != me) {
            guard = self.batch_ended.wait(guard).unwrap_or_else(|p| p.into_inner());
        }
        guard
    }

    fn writer_lock(&self) -> MutexGuard<'_, Writer> {
        // A panic while holding the lock leaves the SQLite state consistent (transactions roll
        // back); the cache may hold a half-edited document, so it is cleared.
        self.writer.lock().unwrap_or_else(|poisoned| {
            let mut guard = poisoned.into_inner();
            guard.cache.clear();
            guard
        })
    }

    fn batch_owner(&self) -> Option<ThreadId> {
        *self.batch_owner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_batch_owner(&self, owner: Option<ThreadId>) {
        *self.batch_owner.lock().unwrap_or_else(|p| p.into_inner()) = owner;
    }

    fn reader(&self) -> ReadConn<'_> {
        if self.batch_owner() == Some(std::thread::current().id()) {
            let mut w = self.writer();
            // What the batch wrote is what its own reads see, index rows included.
            if let Err(e) = self.project_pending(&mut w, None) {
                tracing::error!(error = %e, "index rows of a batch could not be written");
                fail(&w.failed, e.to_string());
            }
            return ReadConn::Writer(w);
        }
        ReadConn::Reader(self.reader.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Runs `f` with every write of this thread in one transaction: committed (one fsync) when
    /// `f` returns `Ok`, rolled back when it fails, with the loaded documents dropped and the
    /// rules read again so nothing in memory outlives what was rolled back. Writes from other
    /// threads wait until the batch ends, and so do their reads of documents (which go through
    /// the writer's working set); their lists, counts and settings see the store as it was
    /// before the batch (but a text search while a pull's search rows wait, which waits for
    /// the batch and writes them first: [`Store::list`]). A batch inside a batch is part of the
    /// outer one, and fails it if it fails.
    pub fn batch<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.batch_with(Durability::Full, f)
    }

    /// A [`Store::batch`] that is fetched again if it is lost: a page from the hub, whose sync
    /// position commits with it. It commits without waiting for the disk (WAL with
    /// `synchronous=NORMAL`): a power cut may undo it, never half of it, and the position
    /// undone with it asks for the page again. The next ordinary commit makes it durable.
    pub fn batch_replayable<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.batch_with(Durability::Replayable, f)
    }

    fn batch_with<T, E: From<StoreError>>(
        &self,
        durability: Durability,
        f: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let me = std::thread::current().id();
        {
            let mut w = self.writer();
            if self.batch_owner() == Some(me) {
                drop(w);
                let result = f();
                if result.is_err() {
                    // The inner part failed: the outer batch cannot commit half of it.
                    fail(&self.writer().failed, "一批写入中的一部分失败".to_owned());
                }
                return result;
            }
            if durability == Durability::Replayable
                && let Err(e) = relax_durability(&w.conn)
            {
                restore_durability(&w.conn);
                return Err(StoreError::from(e).into());
            }
            if let Err(e) = w.conn.prepare_cached("BEGIN IMMEDIATE").and_then(|mut s| s.execute([]))
            {
                if durability == Durability::Replayable {
                    restore_durability(&w.conn);
                }
                return Err(StoreError::from(e).into());
            }
            w.failed.replace(None);
            w.unreadable.clear();
            w.defer_search = durability == Durability::Replayable;
            self.set_batch_owner(Some(me));
        }
        // Ends the batch however `f` ends, a panic included, so no other thread waits forever.
        let mut open = OpenBatch { store: self, committed: false, durability };
        let value = f()?;
        let mut w = self.writer_lock();
        self.project_pending(&mut w, None)?;
        if let Some(reason) = w.failed.take() {
            return Err(StoreError::BatchFailed(reason).into());
        }
        if let Some((id, reason)) = w.unreadable.first() {
            return Err(
                StoreError::BatchFailed(format!("案件 {id} 的记录无法读取（{reason}）")).into()
            );
        }
        w.conn
            .prepare_cached("COMMIT")
            .and_then(|mut s| s.execute([]))
            .map_err(StoreError::from)?;
        open.committed = true;
        if w.checkpoint_due {
            docs::checkpoint(&mut w);
        }
        drop(w);
        Ok(value)
    }

    /// A setting of this store.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        meta_get(&self.reader(), key)
    }

    /// Sets settings in one transaction.
    pub fn set_meta(&self, pairs: &[(&str, &str)]) -> Result<()> {
        let mut w = self.writer();
        let tx = w.tx()?;
        for (k, v) in pairs {
            meta_set(&tx, k, v)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Reserves the next `n` values of a named counter (case numbers, document numbers),
    /// durably; returns the first. Values are never handed out twice, even after a crash.
    pub fn reserve_counter(&self, name: &str, n: u64) -> Result<u64> {
        let w = self.writer();
        let n = i64::try_from(n.max(1)).unwrap_or(i64::MAX);
        let last: i64 = w.conn.query_row(
            "INSERT INTO counters (name, value) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET value = value + ?2 RETURNING value",
            params![name, n],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(last - n + 1).unwrap_or(0))
    }

    /// Records that an imported row landed in a case (for rows added to existing cases).
    pub fn record_fingerprint(&self, fingerprint: &str, id: ledger_domain::CaseId) -> Result<()> {
        let w = self.writer();
        w.conn.execute(
            "INSERT OR IGNORE INTO fingerprints (fingerprint, case_id) VALUES (?1, ?2)",
            params![fingerprint, id.to_string()],
        )?;
        Ok(())
    }

    /// The case with this human number, if any.
    pub fn find_by_number(&self, number: &str) -> Result<Option<ledger_domain::CaseId>> {
        Ok(self
            .reader()
            .query_row("SELECT case_id FROM cases WHERE number = ?1 LIMIT 1", [number], |r| {
                index::case_id_at(r, 0)
            })
            .optional()?)
    }

    /// Checks the database file (`PRAGMA integrity_check`): `ok` or the problems found.
    pub fn integrity_check(&self) -> Result<String> {
        let conn = self.reader();
        let mut stmt = conn.prepare("PRAGMA integrity_check")?;
        let lines: Vec<String> =
            stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(lines.join("\n"))
    }

    /// Whether an imported row with this fingerprint is already here.
    pub fn has_fingerprint(&self, fingerprint: &str) -> Result<bool> {
        Ok(self
            .reader()
            .query_row("SELECT 1 FROM fingerprints WHERE fingerprint = ?1", [fingerprint], |_| {
                Ok(())
            })
            .optional()?
            .is_some())
    }

    /// Drops every loaded document (after a restore, or to measure memory).
    pub fn clear_cache(&self) {
        self.writer().cache.clear();
    }
}

fn meta_get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

fn meta_set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

/// Runs Automerge on bytes from the network: a panic inside it (a malformed document it
/// does not expect) becomes an error for that one item, so its neighbours still apply and the
/// sync is not stuck on it forever.
pub fn guarded<T>(
    f: impl FnOnce() -> std::result::Result<T, String>,
) -> std::result::Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(format!("Automerge 处理时出错中止（{what}）"))
    })
}

#[cfg(test)]
mod tests;
