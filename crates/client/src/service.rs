//! Driving the exchange: one round ([`sync_round`]), a whole sync with retries inside a time
//! bound ([`sync_until_done`]), and the background [`SyncService`].
//!
//! Upload batches and pages shrink after a broken exchange (halving, down to a size where a
//! single change still goes) and grow back after successes, so a link that never carries more
//! than a few KiB on one connection still converges. The outbox never wedges: every failure is
//! retried on the backoff schedule, and a refused change is quarantined at once so the rest of
//! the outbox goes on.

use std::sync::Arc;
use std::time::Duration;

use ledger_protocol::{DEFAULT_BATCH_BYTES, MIN_BATCH_BYTES, SyncRequest};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::hub_client::{ClientError, HubClient};
use crate::target::{SyncStatus, SyncTarget};

/// How the client syncs.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Give up on one request after this long (a black-holed link).
    pub request_timeout: Duration,
    /// Sync this often when idle.
    pub interval: Duration,
    /// Wait this long after a local edit before syncing (edits come in bursts).
    pub debounce: Duration,
    /// The first retry wait.
    pub backoff_base: Duration,
    /// The longest retry wait, however long the link stays down.
    pub backoff_max: Duration,
    /// The largest batch and page, in bytes.
    pub max_batch: u32,
    /// Seeds the retry jitter.
    pub seed: u64,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            interval: Duration::from_secs(60),
            debounce: Duration::from_secs(2),
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(300),
            max_batch: DEFAULT_BATCH_BYTES,
            seed: 0x9e37_79b9,
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoundOutcome {
    /// Changes acknowledged.
    pub uploaded: usize,
    /// Records applied.
    pub downloaded: usize,
    /// Changes refused and quarantined.
    pub refused: usize,
    /// Whether another round is needed.
    pub more: bool,
    /// Device clock minus hub clock (ms).
    pub skew_ms: i64,
    /// Local changes still waiting.
    pub pending: u64,
}

/// What a whole sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Exchanges made.
    pub rounds: usize,
    /// Changes acknowledged.
    pub uploaded: usize,
    /// Records applied.
    pub downloaded: usize,
    /// Changes refused and quarantined.
    pub refused: usize,
    /// Failed attempts that were retried.
    pub retries: usize,
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::target::TargetError> + Send + 'static,
) -> Result<T, ClientError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ClientError::Local(e.to_string()))?
        .map_err(|e| ClientError::Local(e.0))
}

/// One exchange: build the request, send it, apply the answer (or quarantine what was refused).
pub async fn sync_round(
    client: &HubClient,
    target: &Arc<dyn SyncTarget>,
    budget: u32,
) -> Result<RoundOutcome, ClientError> {
    let t = target.clone();
    let binding = blocking(move || t.binding()).await?.ok_or(ClientError::NotEnrolled)?;
    let t = target.clone();
    let request: SyncRequest = blocking(move || t.prepare(budget)).await?;
    match client.sync(&binding.hub, &binding.credential, &request).await {
        Ok(response) => {
            let skew_ms = request.device_time - response.hub_time;
            let more_pages = response.more;
            // Refused changes come back inside the normal reply; applying it quarantines them.
            let refused = response.refused.len();
            if refused > 0 {
                tracing::warn!(refused, "hub refused changes; quarantined, the rest goes on");
            }
            let t = target.clone();
            let applied = blocking(move || t.apply(&request, &response)).await?;
            Ok(RoundOutcome {
                uploaded: applied.uploaded,
                downloaded: applied.downloaded,
                refused,
                more: more_pages
                    || refused > 0
                    || applied.wants_more
                    || applied.outbox_left > 0 && applied.uploaded > 0,
                skew_ms,
                pending: applied.outbox_left,
            })
        }
        Err(e) => Err(e),
    }
}

fn record(target: &Arc<dyn SyncTarget>, update: impl FnOnce(&mut SyncStatus)) {
    let mut status = target.load_status().unwrap_or_default();
    update(&mut status);
    if let Err(e) = target.save_status(&status) {
        tracing::warn!(error = %e, "could not save sync status");
    }
}

/// Syncs until nothing is left to move, retrying transient failures on the backoff schedule,
/// but never past `deadline`. `budget` carries the adapted batch size between calls.
pub async fn sync_until_done(
    client: &HubClient,
    target: &Arc<dyn SyncTarget>,
    config: &SyncConfig,
    deadline: Instant,
    budget: &mut u32,
) -> Result<SyncReport, ClientError> {
    let mut backoff = Backoff::new(config.backoff_base, config.backoff_max, config.seed);
    let mut report = SyncReport::default();
    let mut pending = None;
    let started = target.now();
    record(target, |s| {
        s.syncing = true;
        s.last_attempt = Some(started);
    });
    let mut repaired = false;
    let result = loop {
        match sync_round(client, target, *budget).await {
            Ok(round) => {
                report.rounds += 1;
                report.uploaded += round.uploaded;
                report.downloaded += round.downloaded;
                report.refused += round.refused;
                pending = Some(round.pending);
                backoff.success();
                *budget = budget.saturating_mul(2).min(config.max_batch);
                let now = target.now();
                record(target, |s| {
                    s.online = true;
                    s.last_attempt = Some(now);
                    s.clock_skew_ms = Some(round.skew_ms);
                });
                if !round.more {
                    if !repaired && target.needs_repair() {
                        repaired = true;
                        match crate::repair::repair(client, target).await {
                            Ok(r) if r.missing > 0 || r.differ > 0 => continue,
                            Ok(_) => {}
                            Err(e) if e.is_transient() => continue,
                            Err(e) => break Err(e),
                        }
                    }
                    break Ok(report);
                }
            }
            Err(e) if e.is_transient() => {
                report.retries += 1;
                if matches!(
                    e,
                    ClientError::Offline(_) | ClientError::Timeout | ClientError::TooLarge
                ) {
                    *budget = (*budget / 2).max(MIN_BATCH_BYTES);
                }
                let wait = backoff.failure();
                tracing::info!(error = %e, wait_ms = wait.as_millis() as u64, "sync failed; retrying");
                let now = target.now();
                record(target, |s| {
                    s.online = false;
                    s.last_attempt = Some(now);
                    s.last_error = Some(e.code().to_owned());
                    s.last_error_detail = Some(e.to_string());
                });
                if Instant::now() + wait > deadline {
                    break Err(e);
                }
                tokio::time::sleep(wait).await;
            }
            Err(e) => break Err(e),
        }
    };
    let now = target.now();
    record(target, |s| {
        s.syncing = false;
        if let Some(p) = pending {
            s.pending = p;
        }
        match &result {
            Ok(_) => {
                s.last_success = Some(now);
                s.last_error = None;
                s.last_error_detail = None;
            }
            Err(e) => {
                s.online = !matches!(e, ClientError::Offline(_) | ClientError::Timeout);
                s.last_error = Some(e.code().to_owned());
                s.last_error_detail = Some(e.to_string());
            }
        }
    });
    result
}

enum Command {
    Edited,
    SyncNow(oneshot::Sender<Result<SyncReport, ClientError>>),
    Shutdown,
}

/// The running background sync.
#[derive(Debug, Clone)]
pub struct SyncHandle {
    tx: mpsc::Sender<Command>,
    status: watch::Receiver<SyncStatus>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Edited => "Edited",
            Self::SyncNow(_) => "SyncNow",
            Self::Shutdown => "Shutdown",
        })
    }
}

impl SyncHandle {
    /// A local edit happened: sync soon.
    pub fn notify_edit(&self) {
        let _ = self.tx.try_send(Command::Edited);
    }

    /// Syncs now and waits for the result.
    pub async fn sync_now(&self) -> Result<SyncReport, ClientError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Command::SyncNow(tx))
            .await
            .map_err(|_| ClientError::Local("sync service stopped".into()))?;
        rx.await.map_err(|_| ClientError::Local("sync service stopped".into()))?
    }

    /// The latest status.
    pub fn status(&self) -> SyncStatus {
        self.status.borrow().clone()
    }

    /// Status updates as they happen.
    pub fn subscribe(&self) -> watch::Receiver<SyncStatus> {
        self.status.clone()
    }

    /// Stops the service after the current exchange.
    pub async fn shutdown(&self) {
        let _ = self.tx.send(Command::Shutdown).await;
    }
}

/// The background loop: sync after local edits (debounced), on a timer, and on demand; back
/// off after failures without ever waiting longer than the configured maximum.
pub struct SyncService;

impl SyncService {
    /// Starts the loop on the current tokio runtime.
    pub fn spawn(client: HubClient, target: Arc<dyn SyncTarget>, config: SyncConfig) -> SyncHandle {
        let (tx, mut rx) = mpsc::channel(64);
        let initial = target.load_status().unwrap_or_default();
        let (status_tx, status_rx) = watch::channel(initial);
        tokio::spawn(async move {
            let mut backoff =
                Backoff::new(config.backoff_base, config.backoff_max, config.seed ^ 0x5a5a);
            let mut budget = config.max_batch;
            let mut next = Instant::now() + config.debounce;
            loop {
                let mut reply = None;
                tokio::select! {
                    cmd = rx.recv() => match cmd {
                        Some(Command::Edited) => {
                            next = next.min(Instant::now() + config.debounce);
                            continue;
                        }
                        Some(Command::SyncNow(r)) => reply = Some(r),
                        Some(Command::Shutdown) | None => break,
                    },
                    () = tokio::time::sleep_until(next) => {}
                }
                let deadline = Instant::now() + config.request_timeout * 4;
                // Retries inside one pass are short; between passes the service's own backoff
                // applies, so a pass never blocks a "sync now" for long.
                let pass_config = SyncConfig { backoff_max: config.backoff_base, ..config.clone() };
                let result =
                    sync_until_done(&client, &target, &pass_config, deadline, &mut budget).await;
                next = match &result {
                    Ok(_) => {
                        backoff.success();
                        Instant::now() + config.interval
                    }
                    Err(e) if e.is_transient() => Instant::now() + backoff.failure(),
                    Err(_) => Instant::now() + config.interval.max(config.backoff_max),
                };
                let _ = status_tx.send(target.load_status().unwrap_or_default());
                if let Some(r) = reply {
                    let _ = r.send(result);
                }
            }
        });
        SyncHandle { tx, status: status_rx }
    }
}
