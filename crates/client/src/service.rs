//! Driving the exchange: one round ([`sync_round`]), a whole sync with retries inside a time
//! bound ([`sync_until_done`]), and the background [`SyncService`].
//!
//! The decisions of a pass (another exchange or not, batch sizes, waits, repair, the deadline)
//! are made by the pure state machine [`ledger_protocol::pass::Pass`]; this module performs its
//! effects (HTTP through [`HubClient`], the store through [`SyncTarget`], tokio's timers) and
//! feeds back what happened. The outbox never wedges: every failure is retried on the backoff
//! schedule, and a refused change is quarantined at once so the rest of the outbox goes on.

use std::sync::Arc;
use std::time::Duration;

use crate::hub_client::{ClientError, HubClient};
use crate::target::{Binding, SyncStatus, SyncTarget};
use ledger_protocol::backoff::Backoff;
use ledger_protocol::pass::{
    Effect, Event, Exchanged, Failure, Pass, PassConfig, PassReport, StatusChange,
};
use ledger_protocol::readahead;
use ledger_protocol::{DEFAULT_BATCH_BYTES, MAX_BATCH_BYTES, SyncRequest, SyncResponse};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

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
    /// An exchange answered within this long lets the next batch double (up to `max_batch`).
    pub grow_within: Duration,
    /// Seeds the retry jitter.
    pub seed: u64,
    /// Ask for the next page while this one is applied ([`ledger_protocol::readahead`]).
    pub read_ahead: bool,
}

impl SyncConfig {
    /// The batch a device's first pass starts with: quick exchanges grow it from there.
    pub fn first_batch(&self) -> u32 {
        DEFAULT_BATCH_BYTES.min(self.max_batch)
    }
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
            max_batch: MAX_BATCH_BYTES,
            grow_within: Duration::from_secs(2),
            seed: 0x9e37_79b9,
            read_ahead: true,
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
pub type SyncReport = PassReport;

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::target::TargetError> + Send + 'static,
) -> Result<T, ClientError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ClientError::Local(e.to_string()))?
        .map_err(ClientError::from)
}

/// One exchange: build the request, send it, apply the answer (or quarantine what was refused).
pub async fn sync_round(
    client: &HubClient,
    target: &Arc<dyn SyncTarget>,
    budget: u32,
) -> Result<RoundOutcome, ClientError> {
    let exchanged = exchange(client, target, budget, &mut None, false).await?;
    Ok(RoundOutcome {
        uploaded: exchanged.uploaded,
        downloaded: exchanged.downloaded,
        refused: exchanged.refused,
        more: exchanged.needs_another(),
        skew_ms: exchanged.skew_ms,
        pending: exchanged.outbox_left,
    })
}

/// One exchange, as the pass's event.
async fn exchange(
    client: &HubClient,
    target: &Arc<dyn SyncTarget>,
    budget: u32,
    ahead: &mut Option<ReadAhead>,
    read_ahead: bool,
) -> Result<Exchanged, ClientError> {
    let t = target.clone();
    let binding = blocking(move || t.binding()).await?.ok_or(ClientError::NotEnrolled)?;
    let t = target.clone();
    let prepared: SyncRequest = blocking(move || t.prepare(budget)).await?;
    let (request, response, from_ahead) = match ahead.take() {
        Some(read) if readahead::same_read(&read.request, &prepared) => {
            tracing::debug!("using the page read ahead");
            let (request, response) = read.answer().await?;
            (request, response, true)
        }
        // Dropping a read-ahead that guessed wrong cancels it.
        _ => {
            let response = client.sync(&binding.hub, &binding.credential, &prepared).await?;
            (prepared, response, false)
        }
    };
    *ahead = readahead::next_read(&request, &response)
        .filter(|_| read_ahead)
        .map(|next| ReadAhead::send(client.clone(), binding.clone(), next));
    let skew_ms = request.device_time - response.hub_time;
    let more_pages = response.more;
    // Refused changes come back inside the normal reply; applying it quarantines them.
    let refused = response.refused.len();
    if refused > 0 {
        tracing::warn!(refused, "hub refused changes; quarantined, the rest goes on");
    }
    let t = target.clone();
    let (applied, needs_repair) =
        blocking(move || Ok((t.apply(&request, &response)?, t.needs_repair()))).await?;
    Ok(Exchanged {
        uploaded: applied.uploaded,
        downloaded: applied.downloaded,
        refused,
        more_pages,
        wants_more: applied.wants_more,
        outbox_left: applied.outbox_left,
        skew_ms,
        needs_repair,
        read_ahead: from_ahead,
    })
}

/// The next page, asked for while this one is applied ([`ledger_protocol::readahead`]).
/// Dropped unused, its request is cancelled.
struct ReadAhead {
    request: SyncRequest,
    answer: tokio::task::JoinHandle<Result<SyncResponse, ClientError>>,
}

impl ReadAhead {
    fn send(client: HubClient, binding: Binding, request: SyncRequest) -> Self {
        let sent = request.clone();
        let answer =
            tokio::spawn(
                async move { client.sync(&binding.hub, &binding.credential, &sent).await },
            );
        Self { request, answer }
    }

    /// The request as it was sent and the hub's answer to it.
    async fn answer(mut self) -> Result<(SyncRequest, SyncResponse), ClientError> {
        let response = (&mut self.answer)
            .await
            .map_err(|e| ClientError::Local(format!("read-ahead stopped: {e}")))??;
        Ok((std::mem::take(&mut self.request), response))
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        self.answer.abort();
    }
}

/// How the pass should take an error.
fn failure_of(e: &ClientError) -> Failure {
    match e {
        ClientError::Offline(_) | ClientError::Timeout | ClientError::TooLarge => Failure::Broken,
        e if e.is_transient() => Failure::Transient,
        _ => Failure::Fatal,
    }
}

/// Where status changes go as they happen (the app's header), besides the store.
pub type StatusSink<'a> = &'a (dyn Fn(&SyncStatus) + Send + Sync);

fn record(
    target: &Arc<dyn SyncTarget>,
    sink: StatusSink<'_>,
    update: impl FnOnce(&mut SyncStatus),
) {
    // A status that does not read back starts afresh: it is the header's display only, and is
    // saved whole just below.
    let mut status = target.load_status().unwrap_or_default();
    update(&mut status);
    if let Err(e) = target.save_status(&status) {
        tracing::warn!(error = %e, "could not save sync status");
    }
    sink(&status);
}

/// One round, watched: if the hub has not answered within `config.stall`, the status says so
/// (离线, `no_answer`) while the round goes on waiting for its own timeout.
async fn watched_exchange(
    client: &HubClient,
    target: &Arc<dyn SyncTarget>,
    config: &SyncConfig,
    budget: u32,
    sink: StatusSink<'_>,
    ahead: &mut Option<ReadAhead>,
) -> Result<Exchanged, ClientError> {
    let round = exchange(client, target, budget, ahead, config.read_ahead);
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
    let started = Instant::now();
    let mut pass = Pass::new(
        PassConfig {
            max_batch: config.max_batch,
            backoff_base: config.backoff_base,
            backoff_max: config.backoff_max,
            seed: config.seed,
            deadline: deadline.saturating_duration_since(started),
            grow_within: config.grow_within,
        },
        *budget,
    );
    // The error the pass's failures stand for (the machine knows only their kind).
    let mut last_error: Option<ClientError> = None;
    // The next page, asked for while the last one was applied.
    let mut ahead = None;
    let mut effects = pass.start();
    loop {
        let mut event = None;
        for effect in effects {
            match effect {
                Effect::Status(change) => {
                    let now = target.now();
                    record(target, sink, |s| apply_status(s, change, now, last_error.as_ref()));
                }
                Effect::Exchange { budget } => {
                    event = Some(
                        match watched_exchange(client, target, config, budget, sink, &mut ahead)
                            .await
                        {
                            Ok(exchanged) => Event::Exchanged(exchanged),
                            Err(e) => {
                                let failure = failure_of(&e);
                                if failure != Failure::Fatal {
                                    tracing::info!(error = %e, "sync failed; retrying");
                                }
                                last_error = Some(e);
                                Event::ExchangeFailed(failure)
                            }
                        },
                    );
                }
                Effect::Wait(wait) => {
                    tokio::time::sleep(wait).await;
                    event = Some(Event::Waited);
                }
                Effect::Repair => {
                    event = Some(match crate::repair::repair(client, target).await {
                        Ok(r) => Event::Repaired { found: r.missing > 0 || r.differ > 0 },
                        Err(e) => {
                            let failure = failure_of(&e);
                            last_error = Some(e);
                            Event::RepairFailed(failure)
                        }
                    });
                }
                Effect::Finish(result) => {
                    *budget = pass.budget();
                    return result.map_err(|_| {
                        last_error.take().unwrap_or_else(|| {
                            ClientError::Local("sync pass ended without its error".into())
                        })
                    });
                }
            }
        }
        let Some(event) = event else {
            return Err(ClientError::Local("sync pass stopped without a next step".into()));
        };
        effects = pass.handle(event, started.elapsed());
    }
}

/// What a status change of the pass does to the status shown; `now` is device time and
/// `error` the last failure, which the status names.
fn apply_status(s: &mut SyncStatus, change: StatusChange, now: i64, error: Option<&ClientError>) {
    match change {
        StatusChange::Started => {
            s.syncing = true;
            s.last_attempt = Some(now);
            s.pass_downloaded = 0;
            s.pass_uploaded = 0;
        }
        StatusChange::Reached { skew_ms, downloaded, uploaded, pending } => {
            s.online = true;
            s.last_attempt = Some(now);
            s.clock_skew_ms = Some(skew_ms);
            s.pass_downloaded += downloaded as u64;
            s.pass_uploaded += uploaded as u64;
            s.pending = pending;
            if s.last_error.as_deref() == Some("no_answer") {
                s.last_error = None;
            }
        }
        StatusChange::Retrying => {
            s.online = false;
            s.last_attempt = Some(now);
            s.last_error = error.map(|e| e.code().to_owned());
            s.last_error_detail = error.map(ToString::to_string);
        }
        StatusChange::Finished { ok, pending } => {
            s.syncing = false;
            if let Some(p) = pending {
                s.pending = p;
            }
            if ok {
                s.last_success = Some(now);
                s.last_error = None;
                s.last_error_detail = None;
            } else if let Some(e) = error {
                s.online = !e.is_offline();
                s.last_error = Some(e.code().to_owned());
                s.last_error_detail = Some(e.to_string());
            }
        }
    }
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
        // A full queue already holds a sync to come; a stopped service has nothing to tell.
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
        // A service that has stopped already has nothing left to stop.
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
    // A status that does not read counts as offline: the next pass records it afresh.
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
        // As in `record`: a status that does not read starts afresh.
        let initial = target.load_status().unwrap_or_default();
        let (status_tx, status_rx) = watch::channel(initial);
        let status_tx = Arc::new(status_tx);
        tokio::spawn(async move {
            let mut backoff =
                Backoff::new(config.backoff_base, config.backoff_max, config.seed ^ 0x5a5a);
            let mut budget = config.first_batch();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_what_the_pass_does_with_them() {
        assert_eq!(failure_of(&ClientError::Timeout), Failure::Broken);
        assert_eq!(failure_of(&ClientError::Offline("cut".into())), Failure::Broken);
        assert_eq!(failure_of(&ClientError::TooLarge), Failure::Broken);
        assert_eq!(failure_of(&ClientError::Unreachable("refused".into())), Failure::Transient);
        assert_eq!(failure_of(&ClientError::Server(503, "busy".into())), Failure::Transient);
        assert_eq!(failure_of(&ClientError::Unauthorized("revoked".into())), Failure::Fatal);
        assert_eq!(failure_of(&ClientError::NotEnrolled), Failure::Fatal);
        // Retrying cannot mend a damaged sync position: a person restarts the sync.
        let damaged = ClientError::SyncPositionDamaged("x".into());
        assert_eq!(
            (failure_of(&damaged), damaged.code()),
            (Failure::Fatal, "sync_position_damaged")
        );
    }

    #[test]
    fn the_status_follows_the_pass() {
        let mut s = SyncStatus { pass_downloaded: 9, ..SyncStatus::default() };
        apply_status(&mut s, StatusChange::Started, 100, None);
        assert!(s.syncing);
        assert_eq!((s.last_attempt, s.pass_downloaded), (Some(100), 0));

        let cut = ClientError::Offline("reset".into());
        apply_status(&mut s, StatusChange::Retrying, 110, Some(&cut));
        assert!(!s.online);
        assert_eq!(s.last_error.as_deref(), Some("offline"));

        s.last_error = Some("no_answer".into());
        let reached = StatusChange::Reached { skew_ms: -5, downloaded: 3, uploaded: 2, pending: 4 };
        apply_status(&mut s, reached, 120, None);
        apply_status(&mut s, reached, 121, None);
        assert!(s.online);
        assert_eq!((s.pass_downloaded, s.pass_uploaded, s.pending), (6, 4, 4));
        assert_eq!((s.clock_skew_ms, s.last_error.as_deref()), (Some(-5), None));

        apply_status(&mut s, StatusChange::Finished { ok: true, pending: Some(0) }, 130, None);
        assert!(!s.syncing);
        assert_eq!((s.last_success, s.pending), (Some(130), 0));

        let revoked = ClientError::Unauthorized("停用".into());
        apply_status(
            &mut s,
            StatusChange::Finished { ok: false, pending: None },
            140,
            Some(&revoked),
        );
        assert_eq!(s.last_success, Some(130), "a failed pass is not a success");
        assert!(s.online, "the hub answered, if unhappily");
        assert_eq!(s.last_error.as_deref(), Some("unauthorized"));
    }
}
