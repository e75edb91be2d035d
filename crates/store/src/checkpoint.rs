//! The office store's WAL checkpoints, on a thread of their own. SQLite checkpoints inside the
//! commit that crosses its threshold: in a fresh device's pull, a page in every few waited
//! while megabytes of pages were copied into the database file and synced (a tenth of the
//! pull), with the other core idle. Here the writer's commits only ring a bell past the
//! threshold; a thread with its own connection copies the pages (a passive checkpoint, which
//! never blocks the writer or a reader) while the next page is applied. If that thread ever
//! falls far behind, the writer checkpoints itself, as SQLite would have, so the WAL stays
//! bounded. The truncating checkpoint after a deletion (`docs::checkpoint`, so freed pages
//! leave the WAL too) stays on the writer.
//!
//! The hub's SQLite store has the same arrangement in its own crate (`ledger-hub`'s
//! `checkpoint`): DESIGN §2 gives rusqlite to the two stores only, and neither may depend on
//! the other.

use std::ffi::c_int;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use rusqlite::Connection;
use rusqlite::hooks::Wal;
use rusqlite::wal::CheckpointMode;

use crate::error::{Result, StoreError};

/// When the WAL holds this many pages, the checkpoint thread is asked to copy them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Thresholds {
    /// Pages after which the thread checkpoints.
    pub ring_at: c_int,
    /// Pages after which the writer checkpoints itself (the thread fell behind).
    pub writer_at: c_int,
}

/// SQLite's own threshold (1,000 pages) for the thread. A pull writes faster than the thread
/// copies, and the WAL only starts over once a checkpoint has caught up with it: the writer
/// steps in at eight times that (32 MiB of WAL), so the file stays bounded.
pub(crate) const WAL_PAGES: Thresholds = Thresholds { ring_at: 1000, writer_at: 8000 };

#[derive(Default)]
struct Bell {
    rung: bool,
    stop: bool,
}

#[derive(Default)]
struct Shared {
    bell: Mutex<Bell>,
    wake: Condvar,
    /// Checkpoints the thread completed (for tests).
    done: AtomicU64,
}

impl Shared {
    fn ring(&self, stop: bool) {
        let mut bell = self.bell.lock().unwrap_or_else(|p| p.into_inner());
        bell.rung = true;
        bell.stop |= stop;
        self.wake.notify_one();
    }

    /// Waits for the bell; false when asked to stop.
    fn wait(&self) -> bool {
        let mut bell = self.bell.lock().unwrap_or_else(|p| p.into_inner());
        while !bell.rung && !bell.stop {
            bell = self.wake.wait(bell).unwrap_or_else(|p| p.into_inner());
        }
        bell.rung = false;
        !bell.stop
    }

    /// One passive checkpoint on the thread's connection.
    fn checkpoint(&self, conn: &Connection) {
        match conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE) {
            Ok((log, copied)) if log >= 0 => {
                self.done.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(log, copied, "office store WAL checkpointed");
            }
            Ok(_) => tracing::warn!("office store WAL checkpoint did not run"),
            Err(e) => {
                tracing::warn!(error = %e, "office store WAL checkpoint failed; retried at the next commit")
            }
        }
    }
}

/// The checkpoint thread of the store's file; stopped (and joined) when dropped.
pub(crate) struct Checkpointer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread on `conn` (its own connection to the store's file, unlocked when the
    /// store is encrypted) and has `writer` ring it, replacing SQLite's automatic checkpoints
    /// on that connection.
    pub(crate) fn start(conn: Connection, writer: &mut Connection, at: Thresholds) -> Result<Self> {
        let shared = Arc::new(Shared::default());
        // A connection that has read nothing has not opened the WAL, and its checkpoints would
        // report the file as not in WAL mode and copy nothing. A file system without WAL keeps
        // its rollback journal, and SQLite's ways, with no thread.
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(%mode, "the office store is not in WAL mode; no checkpoint thread");
            return Ok(Self { shared, thread: None });
        }
        let bell = shared.clone();
        writer.wal_hook(Some(move |wal: &mut Wal, pages: c_int| {
            if pages >= at.writer_at {
                tracing::warn!(
                    pages,
                    "the office store's WAL outgrew its checkpoints; the writer checkpoints"
                );
                // The transaction is committed already: an error here would reach its caller
                // as a failed commit. Logged, and tried again at the next commit.
                if let Err(e) = wal.checkpoint() {
                    tracing::warn!(error = %e, "the writer's checkpoint did not run");
                }
            } else if pages >= at.ring_at {
                bell.ring(false);
            }
            Ok(())
        }))?;
        let worker = shared.clone();
        let thread = std::thread::Builder::new()
            .name("store-checkpoint".into())
            .spawn(move || {
                while worker.wait() {
                    worker.checkpoint(&conn);
                }
            })
            .map_err(|e| StoreError::Checkpoints(e.to_string()))?;
        Ok(Self { shared, thread: Some(thread) })
    }

    /// Checkpoints the thread completed.
    #[cfg(test)]
    pub(crate) fn done(&self) -> u64 {
        self.shared.done.load(Ordering::Relaxed)
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.shared.ring(true);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the office store's checkpoint thread panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal_file(dir: &std::path::Path) -> std::path::PathBuf {
        dir.join("t.db-wal")
    }

    fn len(path: &std::path::Path) -> u64 {
        std::fs::metadata(path).map_or(0, |m| m.len())
    }

    /// A writer in WAL mode and the thread's own connection to the same file.
    fn open(dir: &std::path::Path) -> (Connection, Connection) {
        let writer = Connection::open(dir.join("t.db")).unwrap();
        writer.pragma_update(None, "journal_mode", "WAL").unwrap();
        writer.execute("CREATE TABLE t (v BLOB)", []).unwrap();
        (writer, Connection::open(dir.join("t.db")).unwrap())
    }

    /// Forty commits of 20 KB each (five pages apiece).
    fn write(writer: &Connection) {
        for i in 0..40u8 {
            writer.execute("INSERT INTO t (v) VALUES (?1)", [vec![i; 20_000]]).unwrap();
        }
    }

    #[test]
    fn past_the_threshold_the_thread_copies_the_wal_into_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let (mut writer, own) = open(dir.path());
        let at = Thresholds { ring_at: 16, writer_at: 1_000_000 };
        let checkpointer = Checkpointer::start(own, &mut writer, at).unwrap();
        let before = len(&dir.path().join("t.db"));
        write(&writer);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while checkpointer.done() == 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(checkpointer.done() > 0, "the thread never checkpointed");
        // Only a checkpoint writes the database file in WAL mode.
        let after = len(&dir.path().join("t.db"));
        assert!(after > before + 100_000, "database file {before} -> {after} bytes");
        let n: i64 = writer.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 40);
    }

    #[test]
    fn a_thread_that_falls_behind_leaves_the_checkpoints_to_the_writer() {
        let never = Thresholds { ring_at: 1_000_000, writer_at: 1_000_000 };
        let unbounded = tempfile::tempdir().unwrap();
        let (mut writer, own) = open(unbounded.path());
        let _idle = Checkpointer::start(own, &mut writer, never).unwrap();
        write(&writer);
        let bounded = tempfile::tempdir().unwrap();
        let (mut other, own) = open(bounded.path());
        let at = Thresholds { ring_at: 1_000_000, writer_at: 32 };
        let checkpointer = Checkpointer::start(own, &mut other, at).unwrap();
        write(&other);
        let (grown, kept) = (len(&wal_file(unbounded.path())), len(&wal_file(bounded.path())));
        assert!(grown > 700_000, "the WAL without checkpoints holds {grown} bytes");
        assert!(kept * 4 < grown, "the writer's checkpoints kept the WAL at {kept} bytes");
        assert_eq!(checkpointer.done(), 0);
    }

    #[test]
    fn a_file_not_in_wal_mode_keeps_sqlites_ways_without_a_thread() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = Connection::open(dir.path().join("t.db")).unwrap();
        writer.execute("CREATE TABLE t (v BLOB)", []).unwrap();
        let own = Connection::open(dir.path().join("t.db")).unwrap();
        let at = Thresholds { ring_at: 1, writer_at: 1 };
        let checkpointer = Checkpointer::start(own, &mut writer, at).unwrap();
        assert!(checkpointer.thread.is_none());
        write(&writer);
        assert!(!wal_file(dir.path()).exists());
        assert_eq!(checkpointer.done(), 0);
    }
}
