//! The SQLite hub's WAL checkpoints, on a thread of their own. SQLite checkpoints inside the
//! commit that crosses its threshold, so one office's acknowledgement in every few waited while
//! megabytes of pages were copied into the database file and synced: a twentieth of an
//! upload's time at the hub, with the other cores idle. Here the writer's commits only ring a
//! bell past the threshold; a thread with its own connection copies the pages (a passive
//! checkpoint, which never blocks the writer or a reader) while the next batch is judged. If
//! that thread ever falls far behind, the writer checkpoints itself, as SQLite would have, so
//! the WAL stays bounded.

use std::ffi::c_int;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use rusqlite::Connection;
use rusqlite::hooks::Wal;
use rusqlite::wal::CheckpointMode;

/// When the WAL holds this many pages, the checkpoint thread is asked to copy them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Thresholds {
    /// Pages after which the thread checkpoints.
    pub ring_at: c_int,
    /// Pages after which the writer checkpoints itself (the thread fell behind).
    pub writer_at: c_int,
}

#[derive(Default)]
struct Bell {
    rung: bool,
    stop: bool,
}

#[derive(Default)]
struct Shared {
    bell: Mutex<Bell>,
    wake: Condvar,
    /// Checkpoints the thread completed (for tests and logs).
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
}

/// The checkpoint thread of one database file; stopped (and joined) when dropped.
pub(crate) struct Checkpointer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread on its own connection to `file`, and has `writer` ring it (replacing
    /// SQLite's automatic checkpoints on that connection).
    pub(crate) fn start(
        file: &Path,
        writer: &mut Connection,
        at: Thresholds,
    ) -> Result<Self, String> {
        let failed = |e: &dyn std::fmt::Display| format!("{}: checkpoints: {e}", file.display());
        let conn = Connection::open(file).map_err(|e| failed(&e))?;
        conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(|e| failed(&e))?;
        // A connection that has read nothing has not opened the WAL, and its checkpoints
        // would report the file as not in WAL mode and copy nothing.
        let mode: String =
            conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).map_err(|e| failed(&e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(failed(&format!("journal mode {mode}, not WAL")));
        }
        let shared = Arc::new(Shared::default());
        let bell = shared.clone();
        writer
            .wal_hook(Some(move |wal: &mut Wal, pages: c_int| {
                if pages >= at.writer_at {
                    tracing::warn!(
                        pages,
                        "the WAL outgrew its checkpoints; the writer checkpoints"
                    );
                    // The transaction is committed already: an error here (the thread holding
                    // the checkpoint lock, say) would reach its caller as a failed commit.
                    // Logged, and tried again at the next commit, as SQLite's own are.
                    if let Err(e) = wal.checkpoint() {
                        tracing::warn!(error = %e, "the writer's checkpoint did not run");
                    }
                } else if pages >= at.ring_at {
                    bell.ring(false);
                }
                Ok(())
            }))
            .map_err(|e| failed(&e))?;
        let worker = shared.clone();
        let thread = std::thread::Builder::new()
            .name("hub-checkpoint".into())
            .spawn(move || {
                while worker.wait() {
                    match conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE) {
                        Ok((log, copied)) if log >= 0 => {
                            worker.done.fetch_add(1, Ordering::Relaxed);
                            tracing::debug!(log, copied, "WAL checkpointed");
                        }
                        Ok(_) => tracing::warn!("WAL checkpoint did not run"),
                        Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; retried at the next commit"),
                    }
                }
            })
            .map_err(|e| failed(&e))?;
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
            tracing::error!("the checkpoint thread panicked");
        }
    }
}
