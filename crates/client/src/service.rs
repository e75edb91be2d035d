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
    /// A request unanswered this long marks the hub unreachable (离线) while it goes on
    /// waiting up to `request_timeout`: the header must not say 正在同步 on a dead link.
    pub stall: Duration,
    /// Sync this often when idle.
    pub interval: Duration,
    /// While the hub is reachable and nothing else is due, ask it this often whether it still
    /// answers (a tiny request), so a hub that goes away shows as 离线 within seconds rather
    /// than at the next sync. While offline the backoff schedule alone decides.
    pub probe: Duration,
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
            stall: Duration::from_secs(8),
            interval: Duration::from_secs(60),
            probe: Duration::from_secs(5),
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

/// Where status changes go as they happen (the app's header), besides the store.
pub type StatusSink<'a> = &'a (dyn Fn(&SyncStatus) + Send + Sync);

fn record(
    target: &Arc<dyn SyncTarget>,
    sink: StatusSink<'_>,
    update: impl FnOnce(&mut SyncStatus),
) {
    let mut status = target.load_status().unwrap_or_default();
    update(&mut status);
    if let Err(e) = target.save_status(&status) {
        tracing::warn!(error = %e, "could not save sync status");
    }
    sink(&status);
}

/// One round, watched: if the hub has not answered within `config.stall`, the status says so
/// (离线, `no_answer`) while the round goes on waiting for its own timeout.
async fn watched_round(
    client: &HubClient,
    target: &Arc<dyn SyncTarget>,
    config: &SyncConfig,
    budget: u32,
    sink: StatusSink<'_>,
) -> Result<RoundOutcome, ClientError> {
    let round = sync_round(client, target, budget);
    tokio::pin!(round);
    tokio::select! {
        result = &mut round => return result,
        () = tokio::time::sleep(config.stall) => {}
    }
    tracing::info!(stall_ms = config.stall.as_millis() as u64, "the hub has not answered yet");
    record(target, sink, |s| {
        s.online = false;
        s.last_error = Some("no_answer".to_owned());
        s.last_error_detail = None;
    });
    round.await
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
    sync_until_done_reporting(client, target, config, deadline, budget, &|_| {}).await
}

/// [`sync_until_done`], telling `sink` every status change as it happens.
///
/// A failed exchange is retried within the pass on the backoff schedule (a broken or
/// timed-out one with a smaller batch); every failure is recorded at once, so the header says
/// 离线 while the retries run.
pub async fn sync_until_done_reporting(
    client: &HubClient,
    target: &Arc<dyn SyncTarget>,
    config: &SyncConfig,
    deadline: Instant,
    budget: &mut u32,
    sink: StatusSink<'_>,
) -> Result<SyncReport, ClientError> {
    let mut backoff = Backoff::new(config.backoff_base, config.backoff_max, config.seed);
    let mut report = SyncReport::default();
    let mut pending = None;
    let started = target.now();
    record(target, sink, |s| {
        s.syncing = true;
        s.last_attempt = Some(started);
        s.pass_downloaded = 0;
        s.pass_uploaded = 0;
    });
    let mut repaired = false;
    let result = loop {
        match watched_round(client, target, config, *budget, sink).await {
            Ok(round) => {
                report.rounds += 1;
                report.uploaded += round.uploaded;
                report.downloaded += round.downloaded;
                report.refused += round.refused;
                pending = Some(round.pending);
                backoff.success();
                *budget = budget.saturating_mul(2).min(config.max_batch);
                let now = target.now();
                record(target, sink, |s| {
                    s.online = true;
                    s.last_attempt = Some(now);
                    s.clock_skew_ms = Some(round.skew_ms);
                    s.pass_downloaded += round.downloaded as u64;
                    s.pass_uploaded += round.uploaded as u64;
                    s.pending = round.pending;
                    if s.last_error.as_deref() == Some("no_answer") {
                        s.last_error = None;
                    }
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
                record(target, sink, |s| {
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
    record(target, sink, |s| {
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
                s.online = !e.is_offline();
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

/// Asks an online hub whether it still answers; records 离线 and says so when it does not.
/// Offline, nothing is probed: passes on the backoff schedule find the hub again.
async fn went_offline(
    client: &HubClient,
    target: &Arc<dyn SyncTarget>,
    config: &SyncConfig,
    status_tx: &watch::Sender<SyncStatus>,
) -> bool {
    let status = target.load_status().unwrap_or_default();
    if !status.online || status.syncing {
        return false;
    }
    let t = target.clone();
    let Ok(Some(binding)) = blocking(move || t.binding()).await else {
        return false;
    };
    match client.health(&binding.hub, config.stall).await {
        Ok(()) => false,
        Err(e) if e.is_offline() => {
            tracing::info!(error = %e, "the hub stopped answering");
            let code = if matches!(e, ClientError::Timeout) { "no_answer" } else { e.code() };
            let now = target.now();
            record(target, &|s: &SyncStatus| drop(status_tx.send(s.clone())), |s| {
                s.online = false;
                s.last_attempt = Some(now);
                s.last_error = Some(code.to_owned());
                s.last_error_detail = Some(e.to_string());
            });
            true
        }
        // Answered, if unhappily: the next sync reports why.
        Err(_) => false,
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
        let status_tx = Arc::new(status_tx);
        tokio::spawn(async move {
            let mut backoff =
                Backoff::new(config.backoff_base, config.backoff_max, config.seed ^ 0x5a5a);
            let mut budget = config.max_batch;
            let mut next = Instant::now() + config.debounce;
            let mut next_probe = Instant::now() + config.probe;
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
                    () = tokio::time::sleep_until(next_probe), if next_probe < next => {
                        next_probe = Instant::now() + config.probe;
                        if went_offline(&client, &target, &config, &status_tx).await {
                            // Gone: the backoff schedule decides when to look again.
                            next = Instant::now() + backoff.failure();
                        }
                        continue;
                    }
                }
                let deadline = Instant::now() + config.request_timeout * 4;
                // Retries inside one pass back off up to one request timeout; between passes the
                // service's own backoff applies (up to `backoff_max`), so a pass never blocks a
                // "sync now" for long and a dead hub is not called every few seconds.
                let pass_config = SyncConfig {
                    backoff_max: config.request_timeout.max(config.backoff_base),
                    ..config.clone()
                };
                let tx = status_tx.clone();
                let sink = move |s: &SyncStatus| {
                    let _ = tx.send(s.clone());
                };
                let result = sync_until_done_reporting(
                    &client,
                    &target,
                    &pass_config,
                    deadline,
                    &mut budget,
                    &sink,
                )
                .await;
                next = match &result {
                    Ok(_) => {
                        backoff.success();
                        Instant::now() + config.interval
                    }
                    Err(e) if e.is_transient() => {
                        let wait = backoff.failure();
                        tracing::info!(
                            error = %e,
                            wait_s = wait.as_secs(),
                            failures = backoff.failures(),
                            "sync pass failed; next pass after the backoff"
                        );
                        Instant::now() + wait
                    }
                    Err(_) => Instant::now() + config.interval.max(config.backoff_max),
                };
                let _ = status_tx.send(target.load_status().unwrap_or_default());
                next_probe = Instant::now() + config.probe;
                if let Some(r) = reply {
                    let _ = r.send(result);
                }
            }
        });
        SyncHandle { tx, status: status_rx }
    }
}
