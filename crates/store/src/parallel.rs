//! Work a page of records spreads over the machine's cores: loading the documents the hub sent
//! and reading their index rows, both pure and independent per document. SQLite's writes stay
//! on the batch's thread; only what needs no connection is done here.

use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};

/// At most this many threads: a township laptop has 2-4 cores, and the hub may share them.
const MAX_THREADS: usize = 4;
/// Fewer items than this a thread are done on the caller's thread: a thread costs more than
/// loading a handful of small documents.
const MIN_PER_THREAD: usize = 8;

/// `f` of every item, in the items' order, computed on up to [`MAX_THREADS`] threads (the
/// caller's among them), each taking a contiguous run. A run the system gives no thread for is
/// done on the caller's.
pub(crate) fn map<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let threads = cores.min(MAX_THREADS).min(items.len() / MIN_PER_THREAD).max(1);
    if threads == 1 {
        return items.into_iter().map(f).collect();
    }
    let per = items.len().div_ceil(threads);
    let mut runs: Vec<Mutex<Vec<T>>> = Vec::with_capacity(threads);
    let mut items = items.into_iter();
    loop {
        let run: Vec<T> = items.by_ref().take(per).collect();
        if run.is_empty() {
            break;
        }
        runs.push(Mutex::new(run));
    }
    let f = &f;
    let Some((first, rest)) = runs.split_first() else { return Vec::new() };
    std::thread::scope(|scope| {
        let handles: Vec<_> = rest
            .iter()
            .map(|run| {
                let spawned = std::thread::Builder::new()
                    .spawn_scoped(scope, move || take(run).into_iter().map(f).collect::<Vec<R>>());
                if let Err(e) = &spawned {
                    tracing::warn!(error = %e, "no thread for a run of work; done on this one");
                }
                spawned.ok()
            })
            .collect();
        let mut out: Vec<R> = take(first).into_iter().map(f).collect();
        for (run, handle) in rest.iter().zip(handles) {
            match handle.map(|h| h.join()) {
                Some(Ok(results)) => out.extend(results),
                // `f` panicked on that thread: the same panic as if it had run here.
                Some(Err(panic)) => std::panic::resume_unwind(panic),
                None => out.extend(take(run).into_iter().map(f)),
            }
        }
        out
    })
}

/// A run's items, taken once (by its thread, or by the caller when it got none).
fn take<T>(run: &Mutex<Vec<T>>) -> Vec<T> {
    std::mem::take(&mut *run.lock().unwrap_or_else(PoisonError::into_inner))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_items_order_at_every_size() {
        for n in [0, 1, 7, 8, 16, 17, 33, 100, 1001] {
            let items: Vec<usize> = (0..n).collect();
            let out = map(items, |i| i * 3 + 1);
            assert_eq!(out, (0..n).map(|i| i * 3 + 1).collect::<Vec<_>>(), "{n} items");
        }
    }

    #[test]
    fn large_inputs_are_spread_over_threads_when_the_machine_has_them() {
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        let seen = map((0..64).collect::<Vec<usize>>(), |_| std::thread::current().id());
        let distinct: std::collections::BTreeSet<String> =
            seen.iter().map(|id| format!("{id:?}")).collect();
        assert_eq!(distinct.len(), cores.clamp(1, MAX_THREADS), "threads used");
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
