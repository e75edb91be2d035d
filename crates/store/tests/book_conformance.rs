//! One conformance suite for every `SyncBook`. Each check is written once against
//! `&dyn SyncBook` and run by the `conformance!` macro on a fresh `Store` (a real SQLite file in
//! a temporary directory) and on a fresh `MemorySyncBook`: a check passing on one and failing on
//! the other is an implementation that does not keep the trait's contract.
//!
//! Below the suite come the checks only the SQLite book can run: a position row damaged in the
//! file itself (the memory book has no file to damage; it is refused the same positions through
//! the trait, in the suite), and the edit path queueing its changes in the same outbox.

#![allow(clippy::unwrap_used)]

use std::thread;

use ledger_domain::CaseId;
use ledger_store::{
    BootstrapPosition, DocKind, DropRecord, PartialPosition, Store, StoreError, SyncBook,
    SyncPosition, blob_hash,
};
use uuid::Uuid;

/// Instantiates every check once per implementation, each on a book of its own.
macro_rules! conformance {
    ($($check:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $check() {
                    let dir = tempfile::tempdir().unwrap();
                    let store = ledger_store::Store::create(dir.path()).unwrap();
                    super::$check(&store);
                }
            )+
        }

        mod memory {
            $(
                #[test]
                fn $check() {
                    super::$check(&ledger_store::MemorySyncBook::new());
                }
            )+
        }
    };
}

conformance! {
    a_new_book_is_empty,
    the_position_round_trips_and_clears,
    a_position_no_row_can_hold_is_refused_and_changes_nothing,
    a_position_that_does_not_read_back_is_reported,
    the_outbox_sends_roster_changes_first_then_in_queue_order,
    an_outbox_batch_keeps_to_its_byte_limit,
    a_change_queued_twice_is_kept_once,
    acknowledging_drops_only_the_named_changes,
    quarantine_takes_the_later_changes_of_a_case_and_release_gives_them_back,
    receipts_keep_the_first_time,
    drops_wait_until_the_hub_merges_them,
    numbers_are_taken_in_order_until_the_blocks_run_out,
    a_block_arriving_again_is_never_issued_again,
    counters_reserve_runs_of_values,
    a_document_arrives_in_pieces,
    pieces_out_of_place_are_not_kept,
    attachments_arrive_in_pieces_and_are_checked,
    attachments_wait_until_the_hub_holds_them,
    a_failing_transaction_leaves_nothing_behind,
    a_transaction_keeps_everything_and_sees_its_own_writes,
    a_failing_inner_transaction_fails_the_outer_one,
    other_threads_see_a_transaction_only_once_it_ends,
}

// ---------------------------------------------------------------------------------------------
// Fixtures

fn case(n: u128) -> CaseId {
    CaseId(Uuid::from_u128(n))
}

fn head(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn drop_of(id: &str, case_id: CaseId) -> DropRecord {
    DropRecord { id: id.to_owned(), case_id, persons: format!("[\"{id}\"]"), error: None }
}

fn hashes(book: &dyn SyncBook, max_bytes: usize) -> Vec<String> {
    book.outbox_batch(max_bytes, usize::MAX).unwrap().into_iter().map(|e| e.hash).collect()
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Everything a reader can see of a book, for comparing before and after.
fn seen(book: &dyn SyncBook) -> String {
    format!(
        "{:?}",
        (
            book.sync_position().unwrap(),
            book.outbox_batch(usize::MAX, usize::MAX).unwrap(),
            book.quarantined().unwrap(),
            book.receipt("r1").unwrap(),
            book.pending_drops(100).unwrap(),
            (book.numbers_left("doc").unwrap(), book.counter_value("n").unwrap()),
            (book.blob_staged(&blob_hash(b"0123456789")).unwrap(), book.unsent_blobs(100).unwrap()),
        )
    )
}

/// One write to every table of the book.
fn write_everything(book: &dyn SyncBook) -> Result<(), StoreError> {
    book.set_sync_position(&SyncPosition { seq: 9, ..Default::default() })?;
    book.enqueue(case(1), DocKind::Case, "h-new", b"new")?;
    book.acknowledge(&strings(&["h-old"]))?;
    book.quarantine(&[("h-bad".to_owned(), "拒收".to_owned())])?;
    book.record_receipts(&[("r1".to_owned(), 5, case(1))])?;
    book.add_drop(&drop_of("d-new", case(1)))?;
    book.ack_drops(&strings(&["d-old"]))?;
    book.add_number_blocks(&[("doc".to_owned(), 100, 199)])?;
    book.take_number("doc")?;
    book.reserve_counter("n", 3)?;
    book.stage_piece(case(1), DocKind::Case, 0, 100, b"part")?;
    book.put_blob(b"new blob")?;
    book.stage_blob_piece(&blob_hash(b"0123456789"), 0, 10, b"0123")?;
    Ok(())
}

/// A book with something in every table, for a transaction to change.
fn filled(book: &dyn SyncBook) {
    book.set_sync_position(&SyncPosition { seq: 4, ..Default::default() }).unwrap();
    book.enqueue(case(1), DocKind::Case, "h-old", b"old").unwrap();
    book.enqueue(case(2), DocKind::Case, "h-bad", b"bad").unwrap();
    book.add_drop(&drop_of("d-old", case(1))).unwrap();
    book.add_number_blocks(&[("doc".to_owned(), 1, 3)]).unwrap();
    book.reserve_counter("n", 1).unwrap();
    book.put_blob(b"old blob").unwrap();
}

// ---------------------------------------------------------------------------------------------
// The sync position

fn a_new_book_is_empty(book: &dyn SyncBook) {
    assert_eq!(book.sync_position().unwrap(), None);
    assert!(book.outbox_batch(usize::MAX, usize::MAX).unwrap().is_empty());
    assert_eq!(book.outbox_len().unwrap(), 0);
    assert!(book.quarantined().unwrap().is_empty());
    assert_eq!(book.receipt("h").unwrap(), None);
    assert!(book.pending_drops(10).unwrap().is_empty());
    assert_eq!(book.take_number("doc").unwrap(), None);
    assert_eq!(book.numbers_left("doc").unwrap(), 0);
    assert_eq!(book.counter_value("n").unwrap(), 0);
    assert!(book.unsent_blobs(10).unwrap().is_empty());
    assert_eq!(book.blob("h").unwrap(), None);
}

fn the_position_round_trips_and_clears(book: &dyn SyncBook) {
    let positions = [
        SyncPosition { seq: 0, ..Default::default() },
        SyncPosition { seq: 41, ..Default::default() },
        SyncPosition {
            seq: 7,
            bootstrap: Some(BootstrapPosition { head: 90, after: None }),
            partial: None,
        },
        SyncPosition {
            seq: 7,
            bootstrap: Some(BootstrapPosition {
                head: 90,
                after: Some((case(3), DocKind::Identity)),
            }),
            partial: Some(PartialPosition {
                case_id: case(4),
                kind: DocKind::Case,
                heads: vec![head(1), head(2)],
                offset: 4096,
            }),
        },
        SyncPosition {
            seq: i64::MAX as u64,
            bootstrap: None,
            partial: Some(PartialPosition {
                case_id: case(4),
                kind: DocKind::Rules,
                heads: Vec::new(),
                offset: 0,
            }),
        },
    ];
    for position in positions {
        book.set_sync_position(&position).unwrap();
        assert_eq!(book.sync_position().unwrap(), Some(position));
    }
    book.clear_sync_position().unwrap();
    assert_eq!(book.sync_position().unwrap(), None);
    book.clear_sync_position().unwrap();
    assert_eq!(book.sync_position().unwrap(), None);
}

fn a_position_no_row_can_hold_is_refused_and_changes_nothing(book: &dyn SyncBook) {
    let kept = SyncPosition { seq: 12, ..Default::default() };
    book.set_sync_position(&kept).unwrap();
    let partial = |heads: Vec<String>, offset: u64| SyncPosition {
        seq: 13,
        bootstrap: None,
        partial: Some(PartialPosition { case_id: case(1), kind: DocKind::Case, heads, offset }),
    };
    let impossible = [
        SyncPosition { seq: u64::MAX, ..Default::default() },
        SyncPosition {
            seq: 13,
            bootstrap: Some(BootstrapPosition { head: 1 << 63, after: None }),
            partial: None,
        },
        partial(vec![head(1)], u64::MAX),
        partial(vec![format!("{},{}", head(1), head(2))], 0),
    ];
    for position in impossible {
        let refused = book.set_sync_position(&position);
        assert!(
            matches!(refused, Err(StoreError::BadSyncPosition(_))),
            "{position:?}: {refused:?}"
        );
        assert_eq!(book.sync_position().unwrap(), Some(kept.clone()));
    }
}

/// A head that is not a hash: whether refused when kept or when read, it never reads back as a
/// position (let alone as zero).
fn a_position_that_does_not_read_back_is_reported(book: &dyn SyncBook) {
    let position = SyncPosition {
        seq: 3,
        bootstrap: None,
        partial: Some(PartialPosition {
            case_id: case(1),
            kind: DocKind::Case,
            heads: vec!["zz".to_owned()],
            offset: 1,
        }),
    };
    let read = book.set_sync_position(&position).and_then(|()| book.sync_position());
    assert!(matches!(read, Err(StoreError::BadSyncPosition(_))), "{read:?}");
    // A restart of sync mends it.
    book.clear_sync_position().unwrap();
    assert_eq!(book.sync_position().unwrap(), None);
}

// ---------------------------------------------------------------------------------------------
// The outbox and quarantine

fn the_outbox_sends_roster_changes_first_then_in_queue_order(book: &dyn SyncBook) {
    book.enqueue(case(2), DocKind::Case, "c1", b"1").unwrap();
    book.enqueue(case(1), DocKind::Identity, "i1", b"2").unwrap();
    book.enqueue(case(9), DocKind::Roster, "r1", b"3").unwrap();
    book.enqueue(case(2), DocKind::Case, "c2", b"4").unwrap();
    book.enqueue(case(8), DocKind::Rules, "u1", b"5").unwrap();
    book.enqueue(case(9), DocKind::Roster, "r2", b"6").unwrap();
    assert_eq!(hashes(book, usize::MAX), strings(&["r1", "r2", "c1", "i1", "c2", "u1"]));
    let batch = book.outbox_batch(usize::MAX, usize::MAX).unwrap();
    let first = &batch[2];
    assert_eq!(
        (first.case_id, first.kind, first.bytes.as_slice()),
        (case(2), DocKind::Case, &b"1"[..])
    );
    // Queue numbers follow the order the changes were queued in.
    let mut by_seq = batch.clone();
    by_seq.sort_by_key(|e| e.seq);
    let queued: Vec<&str> = by_seq.iter().map(|e| e.hash.as_str()).collect();
    assert_eq!(queued, ["c1", "i1", "r1", "c2", "u1", "r2"]);
    assert_eq!(book.outbox_len().unwrap(), 6);
    assert_eq!(book.outbox_len_of_kind(DocKind::Case).unwrap(), 2);
    assert_eq!(book.outbox_len_of_kind(DocKind::Roster).unwrap(), 2);
    assert_eq!(book.outbox_len_of_kind(DocKind::Identity).unwrap(), 1);
    assert_eq!(book.outbox_for_case(case(2)).unwrap(), 2);
    assert_eq!(book.outbox_for_case(case(3)).unwrap(), 0);
}

fn an_outbox_batch_keeps_to_its_byte_limit(book: &dyn SyncBook) {
    assert!(book.outbox_batch(0, usize::MAX).unwrap().is_empty());
    book.enqueue(case(1), DocKind::Case, "a", &[0; 10]).unwrap();
    book.enqueue(case(1), DocKind::Case, "b", &[0; 20]).unwrap();
    book.enqueue(case(1), DocKind::Case, "c", &[0; 30]).unwrap();
    book.enqueue(case(1), DocKind::Case, "d", &[0; 1]).unwrap();
    // Always at least one, however large.
    assert_eq!(hashes(book, 0), strings(&["a"]));
    assert_eq!(hashes(book, 9), strings(&["a"]));
    assert_eq!(hashes(book, 30), strings(&["a", "b"]));
    // The batch stops at the first change that does not fit: it never skips ahead to a
    // smaller one (the hub must get a case's changes in order).
    assert_eq!(hashes(book, 59), strings(&["a", "b"]));
    assert_eq!(hashes(book, 60), strings(&["a", "b", "c"]));
    assert_eq!(hashes(book, 61), strings(&["a", "b", "c", "d"]));
    // Never more than the count asked for (the hub's limit on a request), oldest first.
    let counted: Vec<String> =
        book.outbox_batch(usize::MAX, 2).unwrap().into_iter().map(|e| e.hash).collect();
    assert_eq!(counted, strings(&["a", "b"]));
    assert_eq!(book.outbox_batch(0, 0).unwrap().len(), 1, "still at least one");
}

fn a_change_queued_twice_is_kept_once(book: &dyn SyncBook) {
    book.enqueue(case(1), DocKind::Case, "a", b"first").unwrap();
    book.enqueue(case(1), DocKind::Case, "b", b"second").unwrap();
    book.enqueue(case(2), DocKind::Identity, "a", b"again").unwrap();
    let batch = book.outbox_batch(usize::MAX, usize::MAX).unwrap();
    assert_eq!(batch.len(), 2);
    assert_eq!((batch[0].case_id, batch[0].bytes.as_slice()), (case(1), &b"first"[..]));
    assert_eq!(book.outbox_for_case(case(2)).unwrap(), 0);
}

fn acknowledging_drops_only_the_named_changes(book: &dyn SyncBook) {
    for (n, hash) in ["a", "b", "c", "d"].into_iter().enumerate() {
        book.enqueue(case(n as u128 % 2), DocKind::Case, hash, hash.as_bytes()).unwrap();
    }
    book.acknowledge(&[]).unwrap();
    book.acknowledge(&strings(&["unknown", "b"])).unwrap();
    assert_eq!(hashes(book, usize::MAX), strings(&["a", "c", "d"]));
    // A quarantined change the hub acknowledges after all leaves too.
    book.quarantine(&[("d".to_owned(), "拒收".to_owned())]).unwrap();
    assert_eq!(book.outbox_for_case(case(1)).unwrap(), 1);
    book.acknowledge(&strings(&["d", "a", "a"])).unwrap();
    assert_eq!(hashes(book, usize::MAX), strings(&["c"]));
    assert!(book.quarantined().unwrap().is_empty());
    assert_eq!(book.outbox_for_case(case(1)).unwrap(), 0);
    assert_eq!(book.outbox_len().unwrap(), 1);
}

fn quarantine_takes_the_later_changes_of_a_case_and_release_gives_them_back(book: &dyn SyncBook) {
    let (a, b) = (case(1), case(2));
    book.enqueue(a, DocKind::Case, "a1", b"1").unwrap();
    book.enqueue(a, DocKind::Case, "a2", b"2").unwrap();
    book.enqueue(b, DocKind::Case, "b1", b"3").unwrap();
    book.enqueue(a, DocKind::Identity, "a3", b"4").unwrap();
    book.quarantine(&[]).unwrap();
    book.quarantine(&[
        ("a2".to_owned(), "角色无权".to_owned()),
        ("unknown".to_owned(), "?".to_owned()),
    ])
    .unwrap();
    let q = book.quarantined().unwrap();
    let got: Vec<_> = q.iter().map(|q| (q.case_id, q.hash.as_str(), q.error.as_str())).collect();
    assert_eq!(got, [(a, "a2", "角色无权"), (a, "a3", "角色无权")]);
    assert!(q.iter().all(|q| q.created_at > 0));
    assert_eq!(hashes(book, usize::MAX), strings(&["a1", "b1"]));
    assert_eq!((book.outbox_len().unwrap(), book.outbox_for_case(a).unwrap()), (2, 3));
    assert_eq!(book.outbox_len_of_kind(DocKind::Identity).unwrap(), 0);
    assert_eq!(book.quarantined_for(a).unwrap(), q);
    assert!(book.quarantined_for(b).unwrap().is_empty());
    // A change keeps the first reason it was refused for.
    book.quarantine(&[("a3".to_owned(), "另一原因".to_owned())]).unwrap();
    assert_eq!(book.quarantined().unwrap(), q);

    assert_eq!(book.release_quarantine(b).unwrap(), 0);
    assert_eq!(book.release_quarantine(a).unwrap(), 2);
    assert_eq!(book.release_quarantine(a).unwrap(), 0);
    assert!(book.quarantined().unwrap().is_empty());
    assert_eq!(hashes(book, usize::MAX), strings(&["a1", "a2", "b1", "a3"]));
    // Released, a change is refused afresh, with the new reason.
    book.quarantine(&[("a3".to_owned(), "又一次".to_owned())]).unwrap();
    let q = book.quarantined().unwrap();
    assert_eq!((q.len(), q[0].error.as_str()), (1, "又一次"));
}

// ---------------------------------------------------------------------------------------------
// Receipts and identity drops

fn receipts_keep_the_first_time(book: &dyn SyncBook) {
    book.record_receipts(&[]).unwrap();
    book.record_receipts(&[("h1".to_owned(), 100, case(1)), ("h2".to_owned(), 200, case(2))])
        .unwrap();
    book.record_receipts(&[("h1".to_owned(), 999, case(1)), ("h3".to_owned(), -5, case(1))])
        .unwrap();
    assert_eq!(book.receipt("h1").unwrap(), Some(100));
    assert_eq!(book.receipt("h2").unwrap(), Some(200));
    assert_eq!(book.receipt("h3").unwrap(), Some(-5));
    assert_eq!(book.receipt("h4").unwrap(), None);
}

fn drops_wait_until_the_hub_merges_them(book: &dyn SyncBook) {
    let (a, b) = (case(1), case(2));
    // Added in id order, so oldest-first is also id order whatever the clock does.
    book.add_drop(&drop_of("d1", a)).unwrap();
    book.add_drop(&drop_of("d2", b)).unwrap();
    book.add_drop(&DropRecord { error: Some("ignored".to_owned()), ..drop_of("d3", a) }).unwrap();
    let ids = |list: Vec<DropRecord>| list.into_iter().map(|d| d.id).collect::<Vec<_>>();
    assert_eq!(ids(book.pending_drops(10).unwrap()), strings(&["d1", "d2", "d3"]));
    assert_eq!(ids(book.pending_drops(2).unwrap()), strings(&["d1", "d2"]));
    assert_eq!(ids(book.drops_for(a).unwrap()), strings(&["d1", "d3"]));
    assert!(book.drops_for(case(3)).unwrap().is_empty());
    // A new drop starts without a refusal; the persons are kept as typed.
    assert_eq!(book.drops_for(b).unwrap(), [drop_of("d2", b)]);
    assert_eq!(book.pending_drops(10).unwrap()[2].error, None);

    book.refuse_drop("d2", "身份信息不完整").unwrap();
    book.refuse_drop("unknown", "?").unwrap();
    let refused = book.drops_for(b).unwrap().remove(0);
    assert_eq!(refused.error.as_deref(), Some("身份信息不完整"));
    // The same drop added again (a write replayed) stays as it is, refusal included.
    book.add_drop(&DropRecord { persons: "[]".to_owned(), ..drop_of("d2", b) }).unwrap();
    assert_eq!(book.drops_for(b).unwrap(), [refused]);

    book.ack_drops(&[]).unwrap();
    book.ack_drops(&strings(&["d1", "unknown"])).unwrap();
    assert_eq!(ids(book.pending_drops(10).unwrap()), strings(&["d2", "d3"]));
    book.ack_drops(&strings(&["d2", "d3"])).unwrap();
    assert!(book.pending_drops(10).unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Number blocks and counters

fn numbers_are_taken_in_order_until_the_blocks_run_out(book: &dyn SyncBook) {
    book.add_number_blocks(&[]).unwrap();
    // Leased out of order: the lowest free number is still taken first.
    book.add_number_blocks(&[("doc".to_owned(), 10, 11), ("other".to_owned(), 5, 5)]).unwrap();
    book.add_number_blocks(&[("doc".to_owned(), 1, 3)]).unwrap();
    assert_eq!(book.numbers_left("doc").unwrap(), 5);
    let mut taken = Vec::new();
    while let Some(n) = book.take_number("doc").unwrap() {
        taken.push(n);
        assert!(taken.len() <= 5, "{taken:?}");
    }
    assert_eq!(taken, [1, 2, 3, 10, 11]);
    assert_eq!(book.numbers_left("doc").unwrap(), 0);
    assert_eq!(book.take_number("doc").unwrap(), None);
    // Series are apart.
    assert_eq!(book.numbers_left("other").unwrap(), 1);
    assert_eq!(book.take_number("other").unwrap(), Some(5));
    assert_eq!(book.take_number("other").unwrap(), None);
    assert_eq!(book.take_number("nothing").unwrap(), None);
}

fn a_block_arriving_again_is_never_issued_again(book: &dyn SyncBook) {
    let block = |series: &str, start: u64, end: u64| (series.to_owned(), start, end);
    book.add_number_blocks(&[block("doc", 1, 3), block("doc", 1, 3)]).unwrap();
    assert_eq!(book.numbers_left("doc").unwrap(), 3);
    for n in 1..=3 {
        assert_eq!(book.take_number("doc").unwrap(), Some(n));
    }
    // The used-up block again (a response applied twice), or with another end: kept once.
    book.add_number_blocks(&[block("doc", 1, 3), block("doc", 1, 9)]).unwrap();
    assert_eq!(book.take_number("doc").unwrap(), None);
    // A block that ends before it starts, or past what an i64 holds, is no block.
    book.add_number_blocks(&[block("doc", 8, 7), block("doc", 20, u64::MAX)]).unwrap();
    assert_eq!(book.numbers_left("doc").unwrap(), 0);
    // The same first number in another series is another block.
    book.add_number_blocks(&[block("other", 1, 2)]).unwrap();
    assert_eq!(book.numbers_left("other").unwrap(), 2);
    // An overlapping block with another first number is kept (the hub never leases one: see
    // the hub's number_leases_never_overlap).
    book.add_number_blocks(&[block("other", 2, 4)]).unwrap();
    assert_eq!(book.numbers_left("other").unwrap(), 5);
    assert_eq!(book.take_number("other").unwrap(), Some(1));
}

fn counters_reserve_runs_of_values(book: &dyn SyncBook) {
    assert_eq!(book.reserve_counter("case:2017", 1).unwrap(), 1);
    assert_eq!(book.reserve_counter("case:2017", 5).unwrap(), 2);
    assert_eq!(book.counter_value("case:2017").unwrap(), 6);
    // Zero reserves one all the same.
    assert_eq!(book.reserve_counter("case:2017", 0).unwrap(), 7);
    assert_eq!(book.counter_value("case:2017").unwrap(), 7);
    assert_eq!(book.reserve_counter("doc", 3).unwrap(), 1);
    assert_eq!(book.counter_value("doc").unwrap(), 3);
    assert_eq!(book.counter_value("none").unwrap(), 0);
}

// ---------------------------------------------------------------------------------------------
// Documents and attachments in pieces

fn a_document_arrives_in_pieces(book: &dyn SyncBook) {
    let id = case(1);
    assert_eq!(book.stage_piece(id, DocKind::Case, 0, 10, b"0123").unwrap(), None);
    assert_eq!(book.stage_piece(id, DocKind::Case, 4, 10, b"4567").unwrap(), None);
    // A piece sent again replaces what is held from its offset on.
    assert_eq!(book.stage_piece(id, DocKind::Case, 4, 10, b"ABCD").unwrap(), None);
    // Another document of the same case is apart.
    assert_eq!(book.stage_piece(id, DocKind::Identity, 0, 3, b"id").unwrap(), None);
    assert_eq!(
        book.stage_piece(id, DocKind::Case, 8, 10, b"89").unwrap(),
        Some(b"0123ABCD89".to_vec())
    );
    // Complete, it is no longer held: a later piece is a gap.
    assert_eq!(book.stage_piece(id, DocKind::Case, 4, 10, b"456789").unwrap(), None);
    assert_eq!(book.stage_piece(id, DocKind::Identity, 2, 3, b"!").unwrap(), Some(b"id!".to_vec()));
    // A first piece sent again starts over.
    book.stage_piece(id, DocKind::Case, 0, 6, b"abc").unwrap();
    book.stage_piece(id, DocKind::Case, 0, 6, b"xy").unwrap();
    assert_eq!(
        book.stage_piece(id, DocKind::Case, 2, 6, b"zzzz").unwrap(),
        Some(b"xyzzzz".to_vec())
    );
    // A document of nothing is complete at once.
    assert_eq!(book.stage_piece(case(2), DocKind::Case, 0, 0, b"").unwrap(), Some(Vec::new()));
}

fn pieces_out_of_place_are_not_kept(book: &dyn SyncBook) {
    let id = case(1);
    // A piece past what is held (a gap, an offset no file has) is not kept, and is no error.
    for offset in [4, 1 << 40, u64::MAX] {
        assert_eq!(book.stage_piece(id, DocKind::Case, offset, 10, b"4567").unwrap(), None);
    }
    assert_eq!(book.stage_piece(id, DocKind::Case, 0, 10, b"0123").unwrap(), None);
    assert_eq!(book.stage_piece(id, DocKind::Case, u64::MAX, 10, b"x").unwrap(), None);
    // A piece cut to another total is a gap too, and leaves what is held alone...
    assert_eq!(book.stage_piece(id, DocKind::Case, 4, 12, b"4567").unwrap(), None);
    assert_eq!(
        book.stage_piece(id, DocKind::Case, 4, 10, b"456789").unwrap(),
        Some(b"0123456789".to_vec())
    );
    // ...but a first piece of another total replaces it.
    book.stage_piece(id, DocKind::Case, 0, 10, b"0123").unwrap();
    book.stage_piece(id, DocKind::Case, 0, 12, b"abcd").unwrap();
    assert_eq!(book.stage_piece(id, DocKind::Case, 4, 10, b"456789").unwrap(), None);
    assert_eq!(
        book.stage_piece(id, DocKind::Case, 4, 12, b"efghijkl").unwrap(),
        Some(b"abcdefghijkl".to_vec())
    );
}

fn attachments_arrive_in_pieces_and_are_checked(book: &dyn SyncBook) {
    let bytes = b"0123456789";
    let hash = blob_hash(bytes);
    assert!(!book.stage_blob_piece(&hash, 0, 10, b"0123").unwrap());
    assert_eq!(book.blob_staged(&hash).unwrap(), 4);
    // A gap is not kept.
    assert!(!book.stage_blob_piece(&hash, 6, 10, b"6789").unwrap());
    assert!(!book.stage_blob_piece(&hash, u64::MAX, 10, b"6789").unwrap());
    assert_eq!(book.blob_staged(&hash).unwrap(), 4);
    assert!(!book.stage_blob_piece(&hash, 4, 10, b"45").unwrap());
    assert_eq!(book.blob_staged(&hash).unwrap(), 6);
    assert!(!book.has_blob(&hash).unwrap());
    assert!(book.stage_blob_piece(&hash, 6, 10, b"6789").unwrap());
    assert_eq!(book.blob(&hash).unwrap().as_deref(), Some(&bytes[..]));
    assert!(book.has_blob(&hash).unwrap());
    assert_eq!(book.blob_staged(&hash).unwrap(), 0);
    // It came from the hub, so the hub holds it.
    assert!(book.unsent_blobs(10).unwrap().is_empty());
    // Here already: any piece says so.
    assert!(book.stage_blob_piece(&hash, 3, 10, b"").unwrap());

    // Bytes that do not hash to their name are dropped, to be fetched again.
    let other = blob_hash(b"abcdefghij");
    assert!(!book.stage_blob_piece(&other, 0, 10, b"abcde").unwrap());
    assert!(!book.stage_blob_piece(&other, 5, 10, b"XXXXX").unwrap());
    assert_eq!(book.blob(&other).unwrap(), None);
    assert_eq!(book.blob_staged(&other).unwrap(), 0);
    assert!(book.stage_blob_piece(&other, 0, 10, b"abcdefghij").unwrap());
}

fn attachments_wait_until_the_hub_holds_them(book: &dyn SyncBook) {
    let mut stored: Vec<String> =
        [&b"one"[..], b"two", b"three"].iter().map(|b| book.put_blob(b).unwrap()).collect();
    assert_eq!(book.put_blob(b"two").unwrap(), stored[1]);
    assert_eq!(stored[0], blob_hash(b"one"));
    assert_eq!(book.blob(&stored[2]).unwrap().as_deref(), Some(&b"three"[..]));
    stored.sort();
    assert_eq!(book.unsent_blobs(10).unwrap(), stored);
    assert_eq!(book.unsent_blobs(2).unwrap(), stored[..2]);
    assert!(book.unsent_blobs(0).unwrap().is_empty());
    book.mark_blobs_sent(&[]).unwrap();
    book.mark_blobs_sent(&[stored[0].clone(), "unknown".to_owned(), stored[0].clone()]).unwrap();
    assert_eq!(book.unsent_blobs(10).unwrap(), stored[1..]);
    assert!(book.has_blob(&stored[0]).unwrap(), "sent, it stays");
}

// ---------------------------------------------------------------------------------------------
// Transactions

fn a_failing_transaction_leaves_nothing_behind(book: &dyn SyncBook) {
    filled(book);
    let before = seen(book);
    let failed = book.atomically(&mut || {
        write_everything(book)?;
        Err(StoreError::BatchFailed("测试".to_owned()))
    });
    assert!(matches!(failed, Err(StoreError::BatchFailed(ref r)) if r == "测试"), "{failed:?}");
    assert_eq!(seen(book), before);
    // The book is usable afterwards, and the same writes, made for good, show.
    write_everything(book).unwrap();
    assert_ne!(seen(book), before);
}

fn a_transaction_keeps_everything_and_sees_its_own_writes(book: &dyn SyncBook) {
    filled(book);
    let before = seen(book);
    let mut inside = String::new();
    book.atomically(&mut || {
        write_everything(book)?;
        inside = seen(book);
        Ok(())
    })
    .unwrap();
    assert_ne!(inside, before);
    assert_eq!(seen(book), inside);
}

fn a_failing_inner_transaction_fails_the_outer_one(book: &dyn SyncBook) {
    filled(book);
    let before = seen(book);
    let outer = book.atomically(&mut || {
        book.enqueue(case(5), DocKind::Case, "outer", b"o")?;
        let inner = book.atomically(&mut || {
            book.reserve_counter("n", 10)?;
            Err(StoreError::BatchFailed("inner".to_owned()))
        });
        assert!(inner.is_err());
        // The outer part carries on as if the inner failure did not matter...
        book.take_number("doc")?;
        Ok(())
    });
    // ...but cannot keep half of what it meant.
    assert!(matches!(outer, Err(StoreError::BatchFailed(_))), "{outer:?}");
    assert_eq!(seen(book), before);
    // An inner transaction that succeeds is part of the outer one.
    book.atomically(&mut || {
        book.atomically(&mut || book.enqueue(case(5), DocKind::Case, "x", b"x"))
    })
    .unwrap();
    assert_eq!(book.outbox_for_case(case(5)).unwrap(), 1);
}

fn other_threads_see_a_transaction_only_once_it_ends(book: &dyn SyncBook) {
    thread::scope(|s| {
        let mut writer = None;
        book.atomically(&mut || {
            book.enqueue(case(1), DocKind::Case, "inside", b"1")?;
            assert_eq!(book.outbox_len()?, 1, "the transaction sees its own write");
            let seen_outside = s.spawn(|| book.outbox_len().unwrap()).join().unwrap();
            assert_eq!(seen_outside, 0, "another thread does not see it before it ends");
            // Another thread's write waits for the transaction to end.
            writer = Some(s.spawn(|| book.enqueue(case(2), DocKind::Case, "outside", b"2")));
            Ok(())
        })
        .unwrap();
        writer.unwrap().join().unwrap().unwrap();
    });
    assert_eq!(hashes(book, usize::MAX), strings(&["inside", "outside"]));
}

// ---------------------------------------------------------------------------------------------
// SQLite only

/// Writes a position row into the store's file behind its back (constraints off where the
/// damage needs it).
fn damage(dir: &std::path::Path, sql: &str) {
    let conn = rusqlite::Connection::open(dir.join(ledger_store::DB_FILE)).unwrap();
    conn.pragma_update(None, "ignore_check_constraints", true).unwrap();
    conn.execute("DELETE FROM sync_position", []).unwrap();
    conn.execute(sql, []).unwrap();
}

/// The memory book keeps its position as the row SQLite stores and reads it through the same
/// decoding, but it has no file to damage: this runs on SQLite alone.
#[test]
fn a_damaged_position_row_is_reported_not_reset() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path()).unwrap();
    let book: &dyn SyncBook = &store;
    let c = case(1);
    let rows = [
        "INSERT INTO sync_position (id, seq) VALUES (1, -1)".to_owned(),
        format!(
            "INSERT INTO sync_position (id, seq, bootstrap_after_case, bootstrap_after_kind)
             VALUES (1, 3, '{c}', 0)"
        ),
        "INSERT INTO sync_position (id, seq, bootstrap_head, bootstrap_after_case,
             bootstrap_after_kind) VALUES (1, 3, 9, 'not a case', 0)"
            .to_owned(),
        format!(
            "INSERT INTO sync_position (id, seq, bootstrap_head, bootstrap_after_case,
                 bootstrap_after_kind) VALUES (1, 3, 9, '{c}', 7)"
        ),
        format!(
            "INSERT INTO sync_position (id, seq, partial_case, partial_kind, partial_heads,
                 partial_offset) VALUES (1, 3, '{c}', 0, 'zz', 0)"
        ),
        format!(
            "INSERT INTO sync_position (id, seq, partial_case, partial_kind, partial_offset)
             VALUES (1, 3, '{c}', 0, 0)"
        ),
        format!(
            "INSERT INTO sync_position (id, seq, partial_case, partial_kind, partial_heads,
                 partial_offset) VALUES (1, 3, '{c}', 0, '', -4)"
        ),
    ];
    for sql in rows {
        damage(dir.path(), &sql);
        let read = book.sync_position();
        assert!(matches!(read, Err(StoreError::BadSyncPosition(_))), "{sql}: {read:?}");
        book.clear_sync_position().unwrap();
        assert_eq!(book.sync_position().unwrap(), None);
    }
}

/// A local edit queues its changes in the book's outbox (through the statement
/// [`SyncBook::enqueue`] uses): the edit's change queued again is kept once.
#[test]
fn local_edits_fill_the_outbox_of_the_book() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path()).unwrap();
    let case = ledger_domain::fixtures::seed_2017().remove(0);
    store.create_cases(&[(case.clone(), identity(&case), vec![])]).unwrap();
    let book: &dyn SyncBook = &store;
    let queued = book.outbox_batch(usize::MAX, usize::MAX).unwrap();
    assert!(!queued.is_empty());
    assert!(queued.iter().all(|e| e.case_id == case.id), "{queued:?}");
    let n = book.outbox_len().unwrap();
    book.enqueue(case.id, queued[0].kind, &queued[0].hash, b"other bytes").unwrap();
    assert_eq!(book.outbox_len().unwrap(), n);
    assert_eq!(book.outbox_batch(usize::MAX, usize::MAX).unwrap(), queued);
    book.acknowledge(&queued.iter().map(|e| e.hash.clone()).collect::<Vec<_>>()).unwrap();
    assert_eq!(book.outbox_for_case(case.id).unwrap(), 0);
}

fn identity(case: &ledger_domain::Case) -> ledger_domain::Identity {
    ledger_domain::Identity { case_id: case.id, schema_version: 1, persons: Vec::new() }
}
