//! What the app holds while it runs: the office (once the store exists) and its background
//! sync, plus the plumbing that tells the UI when something changed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use ledger_office::{Office, SyncHandle, Unlock, system_clock};
use serde::Serialize;
use tauri::{AppHandle, Emitter};

use crate::error::{CommandError, CommandResult};

/// The running office and its sync.
pub struct Running {
    /// The office facade.
    pub office: Arc<Office>,
    /// Background sync, when enrolled with a hub.
    pub sync: Option<SyncHandle>,
}

/// The app's state, managed by Tauri.
pub struct Desktop {
    data_dir: PathBuf,
    app: AppHandle,
    running: RwLock<Option<Arc<Running>>>,
    /// Files chosen in dialogs, by handle.
    pub picks: crate::files::Picks,
    /// A recovery passphrase made for this store and not yet shown (once shown, it is gone).
    recovery: std::sync::Mutex<Option<String>>,
}

/// `store-changed` payload: a case changed here or arrived by sync.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct StoreChanged {
    /// The case, or `None` for many.
    pub case_id: Option<String>,
}

/// What a `progress` event reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ProgressTask {
    /// A ledger file being imported.
    Import,
    /// The ledger being written to a file.
    Export,
    /// The ledger's index being recomputed after the rules changed.
    Reindex,
    /// An old plain store being encrypted as it opens (at start or on `unlock`).
    Encrypt,
}

/// `progress` payload: `done` of `total` for `task`.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ProgressEvent {
    /// What is under way.
    pub task: ProgressTask,
    /// Steps done.
    pub done: usize,
    /// Steps in all.
    pub total: usize,
}

impl Desktop {
    /// The state for `data_dir`; opens the office if the store exists there.
    pub fn new(app: AppHandle, data_dir: PathBuf) -> Self {
        let desktop = Self {
            data_dir,
            app,
            running: RwLock::new(None),
            picks: Default::default(),
            recovery: Default::default(),
        };
        if ledger_office::ledger_store_exists(&desktop.data_dir) {
            // The keyring (or LEDGER_PASSPHRASE) opens it without asking; otherwise the app
            // shows the unlock screen and `unlock` opens it with the passphrase typed there.
            if let Err(e) = desktop.open_store(&Unlock::from_env()) {
                tracing::info!(error = %e, "the store waits for its passphrase");
            }
        }
        desktop
    }

    /// Opens the store with `unlock` (encrypting a store from before first, with progress
    /// events `encrypt`) and starts it.
    pub fn open_store(&self, unlock: &Unlock) -> Result<(), ledger_office::OfficeError> {
        let progress = Progress { app: self.app.clone() };
        let opened =
            Office::open_unlocked(&self.data_dir, unlock, system_clock(), &mut |done, total| {
                progress.progress(ProgressTask::Encrypt, to_usize(done), to_usize(total));
            })?;
        self.started(opened);
        Ok(())
    }

    /// Starts an office just opened or created encrypted, keeping its new recovery
    /// passphrase for the UI to show once.
    pub fn started(&self, opened: ledger_office::Opened) {
        if let Some(recovery) = opened.recovery {
            *self.recovery.lock().unwrap_or_else(|p| p.into_inner()) = Some(recovery);
        }
        self.start(opened.office);
    }

    /// The recovery passphrase waiting to be shown, if any.
    pub fn pending_recovery(&self) -> Option<String> {
        self.recovery.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The recovery passphrase was shown and written down: forget it.
    pub fn recovery_shown(&self) {
        *self.recovery.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Starts an office: keeps it, and starts its background sync if it is enrolled.
    pub fn start(&self, office: Office) {
        let office = Arc::new(office);
        // The sync service spawns onto the current tokio runtime: Tauri's.
        let runtime = tauri::async_runtime::handle();
        let _enter = runtime.inner().enter();
        let sync = match office.start_sync() {
            Ok(Some(handle)) => {
                self.forward_status(&handle, office.clone());
                Some(handle)
            }
            Ok(None) => None,
            Err(e) => {
                tracing::error!(error = %e, "cannot start sync");
                None
            }
        };
        *self.running.write().unwrap_or_else(|p| p.into_inner()) =
            Some(Arc::new(Running { office: office.clone(), sync }));
        self.refresh_index_in_background(office);
    }

    /// After an upgrade, or a change of the county's rules (by this bureau or received by sync),
    /// recomputes the ledger's due dates off the UI thread.
    pub fn refresh_index_in_background(&self, office: Arc<Office>) {
        refresh_index_in_background(office, self.app.clone());
    }

    /// Stops the office (its store is released when the last command using it ends).
    pub fn stop(&self) -> Option<Arc<Running>> {
        let running = self.running.write().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(handle) = running.as_ref().and_then(|r| r.sync.clone()) {
            tauri::async_runtime::spawn(async move { handle.shutdown().await });
        }
        running
    }

    /// The running office, or the error telling the user to set one up.
    pub fn running(&self) -> CommandResult<Arc<Running>> {
        self.running
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(CommandError::not_ready)
    }

    /// Whether an office is running.
    pub fn ready(&self) -> bool {
        self.running.read().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// Tells the UI a case (or many) changed, and the sync service that there is work.
    pub fn changed(&self, case_id: Option<String>) {
        if let Some(sync) = self.running().ok().and_then(|r| r.sync.clone()) {
            sync.notify_edit();
        }
        let _ = self.app.emit("store-changed", StoreChanged { case_id });
    }

    /// Something that can report progress from a blocking thread.
    pub fn inner_handle(&self) -> Progress {
        Progress { app: self.app.clone() }
    }

    fn forward_status(&self, handle: &SyncHandle, office: Arc<Office>) {
        let mut status = handle.subscribe();
        let app = self.app.clone();
        tauri::async_runtime::spawn(async move {
            while status.changed().await.is_ok() {
                let current = status.borrow().clone();
                let _ = app.emit(
                    "sync-status",
                    crate::commands::sync::SyncStatusView::from(current.clone()),
                );
                // A finished pass may have brought cases from the hub, or the county's rules.
                if !current.syncing {
                    let _ = app.emit("store-changed", StoreChanged { case_id: None });
                    refresh_index_in_background(office.clone(), app.clone());
                }
            }
        });
    }
}

/// Whether a re-projection is running (one at a time).
static REINDEXING: AtomicBool = AtomicBool::new(false);

/// Recomputes the ledger's index rows when the rules they were reckoned with changed, off the
/// UI thread, reporting `progress` as task `reindex`; the app stays usable meanwhile.
fn refresh_index_in_background(office: Arc<Office>, app: AppHandle) {
    // Even the stamp check reads SQLite: nothing of it runs on the async runtime's threads.
    tauri::async_runtime::spawn_blocking(move || refresh_index_if_stale(&office, &app));
}

fn refresh_index_if_stale(office: &Arc<Office>, app: &AppHandle) {
    match office.index_is_current() {
        Ok(true) => return,
        Ok(false) => {}
        Err(e) => {
            tracing::error!(error = %e, "cannot read the index stamp");
            return;
        }
    }
    if REINDEXING.swap(true, Ordering::SeqCst) {
        return;
    }
    let progress = Progress { app: app.clone() };
    {
        // Rules that changed again meanwhile leave the stamp stale: go round until it holds.
        loop {
            let result = office.refresh_index(&mut |done, total| {
                progress.progress(ProgressTask::Reindex, done, total)
            });
            match result {
                Ok(n) => tracing::info!(cases = n, "ledger index recomputed"),
                Err(e) => {
                    tracing::error!(error = %e, "ledger index refresh failed");
                    break;
                }
            }
            if office.index_is_current().unwrap_or(true) {
                break;
            }
        }
        REINDEXING.store(false, Ordering::SeqCst);
        let _ = app.emit("store-changed", StoreChanged { case_id: None });
    }
}

/// Emits `progress` events from any thread.
#[derive(Clone)]
pub struct Progress {
    app: AppHandle,
}

impl Progress {
    /// Reports `done` of `total` for `task`.
    pub fn progress(&self, task: ProgressTask, done: usize, total: usize) {
        let _ = self.app.emit("progress", ProgressEvent { task, done, total });
    }
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
