//! The decisions of applying a page, as pure functions over what the page and the stored sync
//! lists say: which cases stay wanted whole, which cases under recovery are done, whether the
//! cursor moves, whether another exchange is due. `Office::apply_page` reads and writes the
//! store around them; these are tested without a store or a network.

use std::collections::BTreeSet;

use ledger_domain::CaseId;
use ledger_protocol::{Cursor, Record, SyncRequest, SyncResponse};

/// What one exchange asked for whole and what came back.
#[derive(Debug, Default)]
pub(super) struct Flow {
    /// Cases the request asked for whole.
    pub(super) requested: BTreeSet<CaseId>,
    /// Cases the page delivered whole (an `enter`).
    pub(super) delivered: BTreeSet<CaseId>,
    /// Cases the hub said did not fit this page.
    pub(super) deferred: BTreeSet<CaseId>,
}

impl Flow {
    pub(super) fn of(request: &SyncRequest, response: &SyncResponse) -> Self {
        Self {
            requested: request.want_whole.iter().map(|c| CaseId(*c)).collect(),
            delivered: response
                .records
                .iter()
                .filter_map(|r| match r {
                    Record::Enter { case_id, .. } => Some(CaseId(*case_id)),
                    _ => None,
                })
                .collect(),
            deferred: response.deferred_whole.iter().map(|c| CaseId(*c)).collect(),
        }
    }
}

/// The cases still to fetch whole, before this page's documents are checked: a case the hub
/// did not send when asked is no longer ours to fetch, unless it said it did not fit.
pub(super) fn keep_wanted(stored: BTreeSet<CaseId>, flow: &Flow) -> BTreeSet<CaseId> {
    stored
        .into_iter()
        .filter(|c| {
            !flow.requested.contains(c) || flow.delivered.contains(c) || flow.deferred.contains(c)
        })
        .collect()
}

/// Cases under recovery (their refused changes replaced by the hub's copy) after a page.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Resets {
    /// Still waiting for the hub's copy (asked for whole again).
    pub(super) waiting: Vec<CaseId>,
    /// Asked for and not sent: the hub never had the case (its registration was refused).
    pub(super) absent: Vec<CaseId>,
}

pub(super) fn settle_resets(resets: &BTreeSet<CaseId>, flow: &Flow) -> Resets {
    let mut out = Resets::default();
    for id in resets.iter().filter(|id| !flow.delivered.contains(id)) {
        if flow.requested.contains(id) && !flow.deferred.contains(id) {
            out.absent.push(*id);
        } else {
            out.waiting.push(*id);
        }
    }
    out
}

/// A case fetched whole that still misses dependencies: the feed cannot fix it (a repair
/// must).
pub(super) fn stuck(want_whole: &BTreeSet<CaseId>, flow: &Flow, resets: &BTreeSet<CaseId>) -> bool {
    want_whole.iter().any(|c| flow.delivered.contains(c) && !resets.contains(c))
}

/// Whether the page's cursor replaces the stored one: not while cases wait to be fetched whole
/// (the page is asked again from where it was), and never backwards (an older page, from a
/// stale return bundle, does not rewind it).
pub(super) fn cursor_moves(current: &Cursor, next: &Cursor, waiting_whole: bool) -> bool {
    let older = current.bootstrap.is_none() && next.bootstrap.is_none() && next.seq < current.seq;
    !waiting_whole && !older
}

/// What the page left to do, for [`wants_more`].
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Leftovers {
    /// Cases still to fetch whole.
    pub(super) want_whole: bool,
    /// The hub merged identity drops and more are queued.
    pub(super) more_drops: bool,
    /// Roster changes wait to go up.
    pub(super) roster_pending: bool,
    /// Cases were deleted here whose deletion the hub has to hear of.
    pub(super) newly_evicted: bool,
    /// The hub asked for attachments.
    pub(super) hub_needs_blobs: bool,
    /// Attachments are wanted from the hub ...
    pub(super) want_blobs: bool,
    /// ... and this page moved some, or found new ones to want.
    pub(super) blob_progress: bool,
    /// Cases wait to leave until their changes are up ...
    pub(super) leaving: bool,
    /// ... and this exchange uploaded some.
    pub(super) uploaded: bool,
}

/// Whether another exchange is due even with nothing left to upload.
pub(super) fn wants_more(l: Leftovers) -> bool {
    l.want_whole
        || l.more_drops
        || l.roster_pending
        || l.newly_evicted
        || l.hub_needs_blobs
        || (l.blob_progress && l.want_blobs)
        || (l.leaving && l.uploaded)
}

#[cfg(test)]
mod tests {
    use ledger_protocol::{Bootstrap, DocKind};
    use uuid::Uuid;

    use super::*;

    fn id(n: u128) -> CaseId {
        CaseId(Uuid::from_u128(n))
    }

    fn set(ids: &[u128]) -> BTreeSet<CaseId> {
        ids.iter().map(|n| id(*n)).collect()
    }

    fn flow(requested: &[u128], delivered: &[u128], deferred: &[u128]) -> Flow {
        Flow { requested: set(requested), delivered: set(delivered), deferred: set(deferred) }
    }

    #[test]
    fn the_flow_reads_what_was_asked_and_what_came() {
        let request = SyncRequest { want_whole: vec![Uuid::from_u128(1)], ..Default::default() };
        let response = SyncResponse {
            records: vec![
                Record::Enter {
                    case_id: Uuid::from_u128(2),
                    kind: DocKind::Case,
                    offset: 0,
                    total: 1,
                    bytes: vec![0],
                },
                Record::Leave { case_id: Uuid::from_u128(3), kind: None },
            ],
            deferred_whole: vec![Uuid::from_u128(4)],
            ..Default::default()
        };
        let f = Flow::of(&request, &response);
        assert_eq!((f.requested, f.delivered, f.deferred), (set(&[1]), set(&[2]), set(&[4])));
    }

    #[test]
    fn a_case_asked_for_and_not_sent_is_no_longer_wanted_unless_deferred() {
        // 1: asked, not sent -> dropped. 2: asked, sent -> kept (checked for deps next).
        // 3: asked, deferred -> kept. 4: not asked this time -> kept.
        let kept = keep_wanted(set(&[1, 2, 3, 4]), &flow(&[1, 2, 3], &[2], &[3]));
        assert_eq!(kept, set(&[2, 3, 4]));
    }

    #[test]
    fn recovery_waits_for_the_hubs_copy_and_reports_a_case_the_hub_never_had() {
        let resets = set(&[1, 2, 3, 4]);
        // 1 delivered: done. 2 asked and not sent: absent at the hub. 3 deferred: waits.
        // 4 not asked yet: waits.
        let out = settle_resets(&resets, &flow(&[1, 2, 3], &[1], &[3]));
        assert_eq!(out, Resets { waiting: vec![id(3), id(4)], absent: vec![id(2)] });
        assert_eq!(settle_resets(&BTreeSet::new(), &flow(&[1], &[], &[])), Resets::default());
    }

    #[test]
    fn a_case_fetched_whole_and_still_incomplete_is_stuck_unless_recovering() {
        let f = flow(&[1], &[1], &[]);
        assert!(stuck(&set(&[1]), &f, &BTreeSet::new()));
        assert!(!stuck(&set(&[1]), &f, &set(&[1])), "a recovering case is not stuck");
        assert!(!stuck(&set(&[2]), &f, &BTreeSet::new()), "not delivered yet");
    }

    #[test]
    fn the_cursor_moves_forward_only_and_waits_for_whole_cases() {
        let at = |seq| Cursor { seq, ..Default::default() };
        assert!(cursor_moves(&at(5), &at(9), false));
        assert!(cursor_moves(&at(5), &at(5), false), "the same place again is harmless");
        assert!(!cursor_moves(&at(9), &at(5), false), "a stale page never rewinds it");
        assert!(!cursor_moves(&at(5), &at(9), true), "cases still wanted whole hold it");
        // During a bootstrap the sequence is the snapshot's: a page may carry a lower one.
        let boot = Cursor {
            seq: 0,
            bootstrap: Some(Bootstrap { head: 9, after: None }),
            ..Default::default()
        };
        assert!(cursor_moves(&at(5), &boot, false));
        assert!(cursor_moves(&boot, &at(3), false));
    }

    #[test]
    fn another_exchange_is_due_for_each_leftover_alone() {
        assert!(!wants_more(Leftovers::default()));
        let each: [fn(&mut Leftovers); 5] = [
            |l| l.want_whole = true,
            |l| l.more_drops = true,
            |l| l.roster_pending = true,
            |l| l.newly_evicted = true,
            |l| l.hub_needs_blobs = true,
        ];
        for set in each {
            let mut l = Leftovers::default();
            set(&mut l);
            assert!(wants_more(l), "{l:?}");
        }
        // Pairs: one half alone is not enough.
        let pair = |a: bool, b: bool, c: bool, d: bool| Leftovers {
            want_blobs: a,
            blob_progress: b,
            leaving: c,
            uploaded: d,
            ..Default::default()
        };
        assert!(!wants_more(pair(true, false, false, false)));
        assert!(!wants_more(pair(false, true, false, false)));
        assert!(wants_more(pair(true, true, false, false)));
        assert!(!wants_more(pair(false, false, true, false)));
        assert!(!wants_more(pair(false, false, false, true)));
        assert!(wants_more(pair(false, false, true, true)));
    }
}
