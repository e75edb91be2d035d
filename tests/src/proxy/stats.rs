//! The proxy's counters: atomics bumped by the relay tasks, and the [`ProxyStats`] snapshot
//! tests and the benchmark read.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of a proxy's counters since it started.
///
/// Counters only grow (except [`connections_active`](Self::connections_active)); take one
/// snapshot before a phase and one after, and [`since`](Self::since) gives the phase's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// Bytes delivered from clients to the upstream.
    pub bytes_up: u64,
    /// Bytes delivered from the upstream to clients.
    pub bytes_down: u64,
    /// Connections accepted and relayed (or held, in a black hole).
    pub connections_accepted: u64,
    /// Connections open right now.
    pub connections_active: u64,
    /// Connections the proxy broke on purpose: byte-limit cuts, random resets, and connections
    /// dropped by [`stop`](super::FaultProxy::stop) or shutdown.
    pub connections_cut: u64,
    /// Connections closed on arrival because the proxy was stopped.
    pub connections_refused: u64,
}

impl ProxyStats {
    /// The figures accumulated between `earlier` and `self`; `connections_active` is the
    /// current value.
    #[must_use]
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            bytes_up: self.bytes_up.saturating_sub(earlier.bytes_up),
            bytes_down: self.bytes_down.saturating_sub(earlier.bytes_down),
            connections_accepted: self
                .connections_accepted
                .saturating_sub(earlier.connections_accepted),
            connections_active: self.connections_active,
            connections_cut: self.connections_cut.saturating_sub(earlier.connections_cut),
            connections_refused: self
                .connections_refused
                .saturating_sub(earlier.connections_refused),
        }
    }
}

/// The live counters behind [`ProxyStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) bytes_up: AtomicU64,
    pub(crate) bytes_down: AtomicU64,
    pub(crate) accepted: AtomicU64,
    pub(crate) active: AtomicU64,
    pub(crate) cut: AtomicU64,
    pub(crate) refused: AtomicU64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> ProxyStats {
        ProxyStats {
            bytes_up: self.bytes_up.load(Ordering::Relaxed),
            bytes_down: self.bytes_down.load(Ordering::Relaxed),
            connections_accepted: self.accepted.load(Ordering::Relaxed),
            connections_active: self.active.load(Ordering::Relaxed),
            connections_cut: self.cut.load(Ordering::Relaxed),
            connections_refused: self.refused.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn bump(counter: &AtomicU64, by: u64) {
        counter.fetch_add(by, Ordering::Relaxed);
    }

    /// Counts a connection as open until the guard drops.
    pub(crate) fn open(&self) -> ActiveGuard<'_> {
        Self::bump(&self.active, 1);
        ActiveGuard(&self.active)
    }
}

/// Holds one unit of [`Counters::active`].
pub(crate) struct ActiveGuard<'a>(&'a AtomicU64);

impl Drop for ActiveGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
