//! A sync pass as a state machine, in the shape of samod-core: the office's side of syncing
//! until nothing is left to move, as state + event in, effects out ("exchange a page of this
//! size", "wait this long", "run a repair", "tell the status this", "the pass is over"). It
//! holds no clock, no network and no store: `ledger-client` performs each effect and feeds
//! back what happened, so every branch (a cut or timed-out exchange, a refusal, more pages, a
//! repair, the deadline) is decided here and tested here without either.
//!
//! Sizes: an exchange that broke (offline, timeout, too large) halves the batch, down to
//! [`crate::MIN_BATCH_BYTES`] where one change still goes; a success that came back quickly
//! (within [`PassConfig::grow_within`]) doubles it, up to the configured maximum, so a fast
//! link moves a bootstrap in a few large exchanges while a slow one keeps each exchange (and
//! what a cut loses) short. Waits: the [`Backoff`] schedule, and never past the deadline.

use std::time::Duration;

use crate::backoff::Backoff;

/// How a pass runs.
#[derive(Debug, Clone)]
pub struct PassConfig {
    /// The largest batch and page, in bytes.
    pub max_batch: u32,
    /// The first retry wait.
    pub backoff_base: Duration,
    /// The longest retry wait.
    pub backoff_max: Duration,
    /// Seeds the retry jitter.
    pub seed: u64,
    /// The pass gives up on a failure whose retry would start after this long (from the start).
    pub deadline: Duration,
    /// An exchange answered within this long lets the next batch double; a slower one keeps
    /// the size it has.
    pub grow_within: Duration,
}

/// What one exchange's answer, once applied, said.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exchanged {
    /// Local changes the hub acknowledged.
    pub uploaded: usize,
    /// Records applied.
    pub downloaded: usize,
    /// Changes refused (and quarantined).
    pub refused: usize,
    /// The hub has more pages.
    pub more_pages: bool,
    /// The office has something that needs another exchange (cases to fetch whole, evictions
    /// to confirm, attachments to move).
    pub wants_more: bool,
    /// Local changes still waiting.
    pub outbox_left: u64,
    /// Device clock minus hub clock, ms.
    pub skew_ms: i64,
    /// The office asks for a repair (after a restore, or a case the feed cannot complete).
    pub needs_repair: bool,
    /// The answer was a page asked for ahead, already there: its time says nothing of the
    /// link, so it does not grow the batch.
    pub read_ahead: bool,
}

impl Exchanged {
    /// Whether another exchange is due: more pages, a refusal (the rest of the outbox goes on),
    /// something the office still wants, or changes left after some went up.
    pub fn needs_another(&self) -> bool {
        self.more_pages
            || self.refused > 0
            || self.wants_more
            || self.outbox_left > 0 && self.uploaded > 0
    }
}

/// How an exchange or a repair failed, as far as the pass cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The link broke, timed out or the batch was too large: retry with a smaller batch.
    Broken,
    /// Worth retrying as it is (a busy hub, an unreadable answer).
    Transient,
    /// A person has to act (credentials, certificate, protocol version, a local error).
    Fatal,
}

/// What happened, fed back to the pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The exchange asked for completed and its answer was applied.
    Exchanged(Exchanged),
    /// The exchange asked for failed.
    ExchangeFailed(Failure),
    /// The wait asked for is over.
    Waited,
    /// The repair asked for finished; whether it found documents to fetch or fix.
    Repaired {
        /// Documents were missing or differed.
        found: bool,
    },
    /// The repair asked for failed.
    RepairFailed(Failure),
}

/// What the status shown to a person should now say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    /// A pass started: 正在同步, progress counters from zero.
    Started,
    /// An exchange reached the hub.
    Reached {
        /// Device clock minus hub clock, ms.
        skew_ms: i64,
        /// Records applied by it.
        downloaded: usize,
        /// Changes acknowledged by it.
        uploaded: usize,
        /// Local changes still waiting.
        pending: u64,
    },
    /// The last exchange failed (the IO layer words which error); the pass retries.
    Retrying,
    /// The pass ended.
    Finished {
        /// Whether it ended with everything moved.
        ok: bool,
        /// Local changes still waiting, if any exchange said.
        pending: Option<u64>,
    },
}

/// What the IO layer does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Tell the status.
    Status(StatusChange),
    /// Build a request of at most `budget` bytes, send it, apply the answer; feed back
    /// [`Event::Exchanged`] or [`Event::ExchangeFailed`].
    Exchange {
        /// The batch and page size, bytes.
        budget: u32,
    },
    /// Sleep, then feed back [`Event::Waited`].
    Wait(Duration),
    /// Compare every document with the hub's and fetch or fix what differs; feed back
    /// [`Event::Repaired`] or [`Event::RepairFailed`].
    Repair,
    /// The pass is over: with its report, or with the last failure (the IO layer returns the
    /// error it holds).
    Finish(Result<PassReport, Failure>),
}

/// What a whole pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassReport {
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

/// One pass.
#[derive(Debug, Clone)]
pub struct Pass {
    config: PassConfig,
    budget: u32,
    backoff: Backoff,
    report: PassReport,
    pending: Option<u64>,
    repaired: bool,
    done: bool,
    /// When the exchange in flight was asked for (from the start of the pass).
    asked_at: Duration,
}

impl Pass {
    /// A pass starting with batches of `budget` bytes (what the last pass ended with).
    pub fn new(config: PassConfig, budget: u32) -> Self {
        let backoff = Backoff::new(config.backoff_base, config.backoff_max, config.seed);
        let budget =
            budget.clamp(crate::MIN_BATCH_BYTES, config.max_batch.max(crate::MIN_BATCH_BYTES));
        Self {
            config,
            budget,
            backoff,
            report: PassReport::default(),
            pending: None,
            repaired: false,
            done: false,
            asked_at: Duration::ZERO,
        }
    }

    /// The batch size now (carried to the next pass).
    pub fn budget(&self) -> u32 {
        self.budget
    }

    /// The first effects.
    pub fn start(&mut self) -> Vec<Effect> {
        vec![Effect::Status(StatusChange::Started), self.exchange()]
    }

    /// What to do after `event`, which happened `now` after the pass started.
    pub fn handle(&mut self, event: Event, now: Duration) -> Vec<Effect> {
        if self.done {
            return Vec::new();
        }
        let out = match event {
            Event::Exchanged(round) => {
                let quick = !round.read_ahead
                    && now.saturating_sub(self.asked_at) <= self.config.grow_within;
                self.exchanged(round, quick)
            }
            Event::ExchangeFailed(failure) => self.failed(failure, now),
            Event::Waited => vec![self.exchange()],
            Event::Repaired { found: true } => vec![self.exchange()],
            Event::Repaired { found: false } => self.finish(Ok(())),
            Event::RepairFailed(Failure::Fatal) => self.finish(Err(Failure::Fatal)),
            // A repair cut short is not retried in this pass beyond one more exchange: the
            // flag that asked for it stays set, and the next pass tries again.
            Event::RepairFailed(_) => vec![self.exchange()],
        };
        if out.iter().any(|e| matches!(e, Effect::Exchange { .. })) {
            self.asked_at = now;
        }
        out
    }

    fn exchange(&self) -> Effect {
        Effect::Exchange { budget: self.budget }
    }

    fn exchanged(&mut self, round: Exchanged, quick: bool) -> Vec<Effect> {
        self.report.rounds += 1;
        self.report.uploaded += round.uploaded;
        self.report.downloaded += round.downloaded;
        self.report.refused += round.refused;
        self.pending = Some(round.outbox_left);
        self.backoff.success();
        if quick {
            self.budget = self.budget.saturating_mul(2).min(self.config.max_batch);
        }
        let mut out = vec![Effect::Status(StatusChange::Reached {
            skew_ms: round.skew_ms,
            downloaded: round.downloaded,
            uploaded: round.uploaded,
            pending: round.outbox_left,
        })];
        if round.needs_another() {
            out.push(self.exchange());
        } else if round.needs_repair && !self.repaired {
            self.repaired = true;
            out.push(Effect::Repair);
        } else {
            out.extend(self.finish(Ok(())));
        }
        out
    }

    fn failed(&mut self, failure: Failure, now: Duration) -> Vec<Effect> {
        if failure == Failure::Fatal {
            return self.finish(Err(failure));
        }
        self.report.retries += 1;
        if failure == Failure::Broken {
            self.budget = (self.budget / 2).max(crate::MIN_BATCH_BYTES);
        }
        let wait = self.backoff.failure();
        let mut out = vec![Effect::Status(StatusChange::Retrying)];
        if now.saturating_add(wait) > self.config.deadline {
            out.extend(self.finish(Err(failure)));
        } else {
            out.push(Effect::Wait(wait));
        }
        out
    }

    fn finish(&mut self, result: Result<(), Failure>) -> Vec<Effect> {
        self.done = true;
        let status = StatusChange::Finished { ok: result.is_ok(), pending: self.pending };
        vec![Effect::Status(status), Effect::Finish(result.map(|()| self.report))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MIN_BATCH_BYTES;

    const MAX: u32 = 1 << 20;

    fn pass(deadline_s: u64) -> Pass {
        Pass::new(
            PassConfig {
                max_batch: MAX,
                backoff_base: Duration::from_secs(1),
                backoff_max: Duration::from_secs(8),
                seed: 3,
                deadline: Duration::from_secs(deadline_s),
                grow_within: Duration::from_secs(2),
            },
            MAX,
        )
    }

    fn done() -> Exchanged {
        Exchanged { uploaded: 2, downloaded: 5, ..Exchanged::default() }
    }

    fn at(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// The action among the effects (the last one; the others tell the status).
    fn action(effects: &[Effect]) -> Effect {
        *effects.last().expect("a pass always says what to do next")
    }

    #[test]
    fn one_exchange_that_moves_everything_ends_the_pass() {
        let mut p = pass(60);
        assert_eq!(
            p.start(),
            vec![Effect::Status(StatusChange::Started), Effect::Exchange { budget: MAX }]
        );
        let out = p.handle(Event::Exchanged(done()), at(1));
        assert_eq!(
            out[0],
            Effect::Status(StatusChange::Reached {
                skew_ms: 0,
                downloaded: 5,
                uploaded: 2,
                pending: 0
            })
        );
        assert_eq!(out[1], Effect::Status(StatusChange::Finished { ok: true, pending: Some(0) }));
        let report = PassReport { rounds: 1, uploaded: 2, downloaded: 5, ..PassReport::default() };
        assert_eq!(out[2], Effect::Finish(Ok(report)));
        assert!(p.handle(Event::Waited, at(2)).is_empty(), "a finished pass does nothing more");
    }

    #[test]
    fn each_reason_for_another_exchange_asks_for_one() {
        let reasons = [
            Exchanged { more_pages: true, ..done() },
            Exchanged { refused: 1, ..done() },
            Exchanged { wants_more: true, ..done() },
            Exchanged { outbox_left: 3, uploaded: 1, ..done() },
        ];
        for round in reasons {
            let mut p = pass(60);
            p.start();
            assert_eq!(
                action(&p.handle(Event::Exchanged(round), at(1))),
                Effect::Exchange { budget: MAX },
                "{round:?}"
            );
        }
        // Changes left but none went up this time: not worth another exchange now.
        assert!(!Exchanged { outbox_left: 3, uploaded: 0, ..done() }.needs_another());
    }

    #[test]
    fn a_broken_exchange_halves_the_batch_waits_and_a_success_grows_it_back() {
        let mut p = pass(600);
        p.start();
        let out = p.handle(Event::ExchangeFailed(Failure::Broken), at(0));
        assert_eq!(out[0], Effect::Status(StatusChange::Retrying));
        let Effect::Wait(wait) = out[1] else { panic!("{out:?}") };
        assert!(wait >= Duration::from_millis(500) && wait <= at(1), "{wait:?}");
        assert_eq!(p.handle(Event::Waited, at(1)), vec![Effect::Exchange { budget: MAX / 2 }]);
        for _ in 0..30 {
            p.handle(Event::ExchangeFailed(Failure::Broken), at(1));
        }
        assert_eq!(p.budget(), MIN_BATCH_BYTES, "never below one change's size");
        let out = p.handle(Event::Exchanged(Exchanged { more_pages: true, ..done() }), at(2));
        assert_eq!(action(&out), Effect::Exchange { budget: MIN_BATCH_BYTES * 2 });
    }

    #[test]
    fn only_a_quick_exchange_grows_the_batch() {
        let mut p = Pass::new(PassConfig { max_batch: MAX, ..pass(600).config }, MIN_BATCH_BYTES);
        let more = || Event::Exchanged(Exchanged { more_pages: true, ..done() });
        p.start();
        // Answered after 1 s of the 2 allowed: doubled.
        assert_eq!(
            action(&p.handle(more(), at(1))),
            Effect::Exchange { budget: MIN_BATCH_BYTES * 2 }
        );
        // Asked at 1 s, answered at 5 s: a slow link keeps its size.
        assert_eq!(
            action(&p.handle(more(), at(5))),
            Effect::Exchange { budget: MIN_BATCH_BYTES * 2 }
        );
        // Asked at 5 s, answered at 6 s: quick again.
        assert_eq!(
            action(&p.handle(more(), at(6))),
            Effect::Exchange { budget: MIN_BATCH_BYTES * 4 }
        );
        // After a wait, the time counts from the exchange asked for after it.
        p.handle(Event::ExchangeFailed(Failure::Transient), at(7));
        assert_eq!(
            p.handle(Event::Waited, at(30)),
            vec![Effect::Exchange { budget: MIN_BATCH_BYTES * 4 }]
        );
        assert_eq!(
            action(&p.handle(more(), at(31))),
            Effect::Exchange { budget: MIN_BATCH_BYTES * 8 }
        );
        // A page read ahead came back at once whatever the link: it keeps the size.
        let ahead = Event::Exchanged(Exchanged { more_pages: true, read_ahead: true, ..done() });
        assert_eq!(
            action(&p.handle(ahead, at(31))),
            Effect::Exchange { budget: MIN_BATCH_BYTES * 8 }
        );
        for s in 32..60 {
            p.handle(more(), at(s));
        }
        assert_eq!(p.budget(), MAX, "never past the maximum");
    }

    #[test]
    fn a_transient_failure_keeps_the_batch_and_counts_a_retry() {
        let mut p = pass(600);
        p.start();
        p.handle(Event::ExchangeFailed(Failure::Transient), at(0));
        assert_eq!(p.handle(Event::Waited, at(1)), vec![Effect::Exchange { budget: MAX }]);
        let out = p.handle(Event::Exchanged(done()), at(2));
        let Effect::Finish(Ok(report)) = action(&out) else { panic!("{out:?}") };
        assert_eq!((report.rounds, report.retries), (1, 1));
    }

    #[test]
    fn waits_grow_and_reset_after_a_success() {
        let mut p = pass(100_000);
        p.start();
        let wait = |out: Vec<Effect>| match action(&out) {
            Effect::Wait(w) => w,
            other => panic!("{other:?}"),
        };
        let first = wait(p.handle(Event::ExchangeFailed(Failure::Transient), at(0)));
        let second = wait(p.handle(Event::ExchangeFailed(Failure::Transient), at(0)));
        let third = wait(p.handle(Event::ExchangeFailed(Failure::Transient), at(0)));
        assert!(
            first <= at(1) && second >= at(1) && third >= at(2),
            "{first:?} {second:?} {third:?}"
        );
        p.handle(Event::Exchanged(Exchanged { more_pages: true, ..done() }), at(1));
        let after = wait(p.handle(Event::ExchangeFailed(Failure::Transient), at(1)));
        assert!(after <= at(1), "{after:?}");
    }

    #[test]
    fn a_fatal_failure_ends_the_pass_at_once() {
        let mut p = pass(600);
        p.start();
        let out = p.handle(Event::ExchangeFailed(Failure::Fatal), at(0));
        assert_eq!(
            out,
            vec![
                Effect::Status(StatusChange::Finished { ok: false, pending: None }),
                Effect::Finish(Err(Failure::Fatal))
            ]
        );
    }

    #[test]
    fn a_retry_that_would_start_after_the_deadline_ends_the_pass_with_the_failure() {
        let mut p = pass(10);
        p.start();
        // The first wait is at least half a second: from 9.6 s it would start after 10 s.
        let out = p.handle(Event::ExchangeFailed(Failure::Broken), Duration::from_millis(9_600));
        assert_eq!(out[0], Effect::Status(StatusChange::Retrying));
        assert_eq!(action(&out), Effect::Finish(Err(Failure::Broken)));
        let mut p = pass(10);
        p.start();
        assert!(matches!(
            action(&p.handle(Event::ExchangeFailed(Failure::Broken), at(2))),
            Effect::Wait(_)
        ));
    }

    #[test]
    fn a_repair_runs_once_when_asked_and_what_it_found_is_fetched() {
        let mut p = pass(600);
        p.start();
        let asks = Exchanged { needs_repair: true, ..done() };
        assert_eq!(action(&p.handle(Event::Exchanged(asks), at(1))), Effect::Repair);
        assert_eq!(
            p.handle(Event::Repaired { found: true }, at(2)),
            vec![Effect::Exchange { budget: MAX }]
        );
        // Still flagged after the fetch: not repaired twice in one pass.
        let out = p.handle(Event::Exchanged(asks), at(3));
        assert!(matches!(action(&out), Effect::Finish(Ok(_))), "{out:?}");

        let mut p = pass(600);
        p.start();
        p.handle(Event::Exchanged(asks), at(1));
        assert!(matches!(
            action(&p.handle(Event::Repaired { found: false }, at(2))),
            Effect::Finish(Ok(_))
        ));

        let mut p = pass(600);
        p.start();
        p.handle(Event::Exchanged(asks), at(1));
        assert_eq!(
            action(&p.handle(Event::RepairFailed(Failure::Broken), at(2))),
            Effect::Exchange { budget: MAX }
        );
        let mut p = pass(600);
        p.start();
        p.handle(Event::Exchanged(asks), at(1));
        assert_eq!(
            action(&p.handle(Event::RepairFailed(Failure::Fatal), at(2))),
            Effect::Finish(Err(Failure::Fatal))
        );
    }

    #[test]
    fn a_repair_waits_for_the_feed_to_finish_first() {
        let mut p = pass(600);
        p.start();
        let out = p.handle(
            Event::Exchanged(Exchanged { needs_repair: true, more_pages: true, ..done() }),
            at(1),
        );
        assert_eq!(action(&out), Effect::Exchange { budget: MAX });
    }

    #[test]
    fn the_starting_budget_is_kept_within_bounds() {
        let config = PassConfig {
            max_batch: MAX,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(8),
            seed: 1,
            deadline: at(60),
            grow_within: at(2),
        };
        assert_eq!(Pass::new(config.clone(), 0).budget(), MIN_BATCH_BYTES);
        assert_eq!(Pass::new(config, u32::MAX).budget(), MAX);
    }
}
