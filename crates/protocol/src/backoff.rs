//! Exponential backoff with jitter: after each failure the wait doubles, up to a maximum, and is
//! drawn between half and all of that so that 25 offices coming back together do not retry in
//! step. A success resets it.

use std::time::Duration;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt as _, SeedableRng as _};

/// The retry schedule.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    failures: u32,
    jitter: Xoshiro256PlusPlus,
}

impl Backoff {
    /// A schedule starting at `base` and never waiting longer than `max`.
    pub fn new(base: Duration, max: Duration, seed: u64) -> Self {
        Self {
            base,
            max: max.max(base),
            failures: 0,
            jitter: Xoshiro256PlusPlus::seed_from_u64(seed),
        }
    }

    /// The longest this schedule ever waits.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// Failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Records a failure and returns how long to wait before the next try.
    pub fn failure(&mut self) -> Duration {
        let exp = self.base.saturating_mul(2u32.saturating_pow(self.failures.min(30)));
        self.failures = self.failures.saturating_add(1);
        let ceiling = exp.min(self.max);
        ceiling.mul_f64(self.jitter.random_range(0.5..=1.0))
    }

    /// Records a success: the next failure starts from the base again.
    pub fn success(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_with_jitter_and_never_exceeds_the_maximum() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(300), 42);
        let waits: Vec<Duration> = (0..40).map(|_| b.failure()).collect();
        assert!(waits[0] >= Duration::from_millis(500) && waits[0] <= Duration::from_secs(1));
        assert!(waits[3] >= Duration::from_secs(4) && waits[3] <= Duration::from_secs(8));
        assert!(waits.iter().all(|w| *w <= Duration::from_secs(300)));
        assert!(waits[39] >= Duration::from_secs(150), "hours of failures settle at the cap");
        b.success();
        assert!(b.failure() <= Duration::from_secs(1));
    }

    #[test]
    fn jitter_differs_between_offices() {
        let mut a = Backoff::new(Duration::from_secs(1), Duration::from_secs(300), 1);
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(300), 2);
        let (wa, wb): (Vec<_>, Vec<_>) = (0..6).map(|_| (a.failure(), b.failure())).unzip();
        assert_ne!(wa, wb);
    }
}
