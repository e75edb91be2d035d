//! The cases batches are changing now, and the order in which waiting batches get them.
//!
//! A batch waits until none of its cases is held by another, then holds them all at once (so
//! two batches never wait on each other in a cycle): batches on different cases validate and
//! commit in parallel, and one case's changes are applied one batch after another. Batches
//! that want a case get it in the order they asked: a batch of many cases is not passed over
//! again and again by small batches that each want one of them.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Condvar, Mutex, MutexGuard};

use ledger_domain::CaseId;

/// The held cases and the batches waiting for theirs.
#[derive(Default)]
pub(crate) struct CaseLocks {
    state: Mutex<State>,
    freed: Condvar,
}

#[derive(Default)]
struct State {
    held: HashSet<CaseId>,
    /// Waiting batches by ticket (the order they asked in), each with its cases, sorted.
    waiting: BTreeMap<u64, Vec<CaseId>>,
    next_ticket: u64,
}

/// Cases held by one batch; released when dropped.
pub(crate) struct CaseGuard<'a> {
    locks: &'a CaseLocks,
    cases: Vec<CaseId>,
}

impl CaseLocks {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until none of `cases` is held and no batch that asked earlier wants one of them,
    /// then holds them all.
    pub(crate) fn hold(&self, cases: impl IntoIterator<Item = CaseId>) -> CaseGuard<'_> {
        let cases: Vec<CaseId> = cases.into_iter().collect::<BTreeSet<_>>().into_iter().collect();
        let mut state = self.lock();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        while state.blocks(ticket, &cases) {
            state.waiting.entry(ticket).or_insert_with(|| cases.clone());
            state = self.freed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        if state.waiting.remove(&ticket).is_some() {
            // Batches behind this one may have waited only for its turn.
            self.freed.notify_all();
        }
        state.held.extend(cases.iter().copied());
        CaseGuard { locks: self, cases }
    }

    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.lock().waiting.len()
    }
}

impl State {
    fn blocks(&self, ticket: u64, cases: &[CaseId]) -> bool {
        cases.iter().any(|c| self.held.contains(c))
            || self.waiting.range(..ticket).any(|(_, earlier)| overlap(earlier, cases))
    }
}

/// Whether two sorted lists share a case.
fn overlap(a: &[CaseId], b: &[CaseId]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

impl Drop for CaseGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.locks.lock();
        for case in &self.cases {
            state.held.remove(case);
        }
        drop(state);
        self.locks.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use uuid::Uuid;

    use super::*;

    fn case(n: u128) -> CaseId {
        CaseId(Uuid::from_u128(n))
    }

    fn until(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    #[test]
    fn overlap_of_sorted_lists() {
        assert!(overlap(&[case(1), case(3)], &[case(2), case(3)]));
        assert!(!overlap(&[case(1), case(3)], &[case(2), case(4)]));
        assert!(!overlap(&[], &[case(1)]));
    }

    #[test]
    fn different_cases_are_held_at_once_and_one_case_by_one_batch() {
        let locks = CaseLocks::default();
        let a = locks.hold([case(1), case(2)]);
        let b = locks.hold([case(3)]);
        assert_eq!(locks.lock().held.len(), 3);
        drop(a);
        let c = locks.hold([case(2), case(2)]);
        assert_eq!(c.cases, vec![case(2)], "a case named twice is held once");
        drop((b, c));
        assert!(locks.lock().held.is_empty());
    }

    #[test]
    fn a_waiting_batch_is_not_passed_by_a_later_one_on_its_cases() {
        let locks = Arc::new(CaseLocks::default());
        let order = Arc::new(Mutex::new(Vec::new()));
        let first = locks.hold([case(1)]);
        let spawn = |name: &'static str, cases: Vec<CaseId>| {
            let (locks, order) = (locks.clone(), order.clone());
            std::thread::spawn(move || {
                let _held = locks.hold(cases);
                order.lock().unwrap().push(name);
                std::thread::sleep(Duration::from_millis(20));
            })
        };
        // A batch of two cases waits for case 1; a later batch wants only case 2, which is
        // free, and must still wait its turn behind the first.
        let big = spawn("big", vec![case(1), case(2)]);
        until("the big batch to wait", || locks.waiting() == 1);
        let small = spawn("small", vec![case(2)]);
        until("the small batch to wait", || locks.waiting() == 2);
        // A batch on another case entirely is not held up by either.
        let other = locks.hold([case(9)]);
        drop(other);
        drop(first);
        big.join().unwrap();
        small.join().unwrap();
        assert_eq!(*order.lock().unwrap(), vec!["big", "small"]);
        assert_eq!(locks.waiting(), 0);
        assert!(locks.lock().held.is_empty());
    }
}
