//! Work a page of records spreads over the machine's cores: loading the documents the hub sent
//! and reading their index rows, both pure and independent per document. SQLite's writes stay
//! on the batch's thread; only what needs no connection is done here (a closure that reached
//! for the store's writer would wait for the batch its caller holds, for ever).
//!
//! The threads are a pool of the store's own, started once: a page is applied every few tens of
//! milliseconds during a pull, too often to start threads for each. (Called from a worker of
//! another rayon pool, `install` would let that worker take other jobs while it waits, one of
//! which could want the writer its caller holds: nothing else here uses rayon.)

use std::num::NonZeroUsize;
use std::sync::OnceLock;

use rayon::prelude::*;

/// At most this many threads: a township laptop has 2-4 cores, and the hub may share them.
const MAX_THREADS: usize = 4;
/// A thread takes at least this many items: a handful of small documents loads faster than
/// work moves between threads.
const MIN_PER_THREAD: usize = 8;

/// The pool, or `None` on a single core or when the system gave no threads.
fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        if cores < 2 {
            return None;
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(cores.min(MAX_THREADS))
            .thread_name(|i| format!("ledger-store-{i}"))
            .build()
            .map_err(
                |e| tracing::warn!(error = %e, "no threads for loading documents; one is used"),
            )
            .ok()
    })
    .as_ref()
}

/// `f` of every item, in the items' order, computed on the pool when there are enough of them
/// (on the caller's thread otherwise).
pub(crate) fn map<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync + Send) -> Vec<R> {
    match pool() {
        Some(pool) if items.len() >= 2 * MIN_PER_THREAD => {
            pool.install(|| items.into_par_iter().with_min_len(MIN_PER_THREAD).map(f).collect())
        }
        _ => items.into_iter().map(f).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_items_order_at_every_size() {
        for n in [0, 1, 7, 8, 15, 16, 17, 33, 100, 1001] {
            let items: Vec<usize> = (0..n).collect();
            let out = map(items, |i| i * 3 + 1);
            assert_eq!(out, (0..n).map(|i| i * 3 + 1).collect::<Vec<_>>(), "{n} items");
        }
    }

    #[test]
    fn large_inputs_are_spread_over_threads_when_the_machine_has_them() {
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        let seen = map((0..256).collect::<Vec<usize>>(), |_| {
            // Long enough that one thread cannot take every item before the others start.
            std::thread::sleep(std::time::Duration::from_millis(1));
            std::thread::current().id()
        });
        let distinct: std::collections::BTreeSet<String> =
            seen.iter().map(|id| format!("{id:?}")).collect();
        // A worker woken late on a loaded machine may find no piece left: at least two, then.
        let most = if cores < 2 { 1 } else { cores.min(MAX_THREADS) };
        let least = most.min(2);
        assert!((least..=most).contains(&distinct.len()), "{} threads used", distinct.len());
    }

    #[test]
    #[should_panic(expected = "item 50")]
    fn a_panic_on_another_thread_reaches_the_caller() {
        map((0..64).collect::<Vec<usize>>(), |i| {
            assert!(i != 50, "item 50");
            i
        });
    }
}
