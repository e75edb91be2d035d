//! Several hub processes on one PostgreSQL database must never let a log row become visible
//! after a row with a larger number: a puller that read up to 102 would never see 101.
//!
//! Two stores with pools of their own stand for two hub processes (to the database they are
//! two sets of sessions). Writers commit through both, one store pausing between taking its
//! rows' numbers and committing, while a puller pages the log with a cursor as an office does.
//! With the store's ordering lock every row reaches the puller; the same run without it (the
//! naive sequence) loses rows, which shows the test can see the fault it guards against.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ledger_domain::CaseId;
use ledger_hub::store::{Commit, LogEntry, NewLogRow, Reader};
use ledger_hub::{HubStore, PgHubStore, PgOptions};
use ledger_protocol::DocKind;
use uuid::Uuid;

#[path = "support/pg.rs"]
mod pg;

const WRITERS_PER_STORE: usize = 2;
const COMMITS: usize = 15;

fn commit(writer: usize, n: usize) -> Commit {
    let hash = format!("w{writer}-{n}");
    Commit {
        log: vec![NewLogRow {
            case_id: CaseId(Uuid::from_u128((writer * 1000 + n + 1) as u128)),
            kind: DocKind::Case,
            entry: LogEntry::Change {
                hash,
                author_device: format!("dev-{writer}"),
                township: None,
                registrar: None,
                bureau_only: false,
            },
            received_at: 0,
        }],
        ..Commit::default()
    }
}

/// Commits through a slow and a fast store while a puller follows the log; returns every hash
/// committed and every hash the puller saw.
fn race(unordered: bool) -> (BTreeSet<String>, BTreeSet<String>) {
    let db = pg::TestDb::create();
    let dir = tempfile::tempdir().unwrap();
    let slow = PgHubStore::open_with(
        &db.url,
        dir.path(),
        PgOptions {
            pause_before_commit: Some(Duration::from_millis(30)),
            unordered,
            ..PgOptions::default()
        },
    )
    .unwrap();
    let fast =
        PgHubStore::open_with(&db.url, dir.path(), PgOptions { unordered, ..PgOptions::default() })
            .unwrap();
    let reader = Reader { office: "county", device: "puller", bureau: true, townships: &[] };
    let done = AtomicBool::new(false);
    let mut seen = BTreeSet::new();
    std::thread::scope(|s| {
        let writers: Vec<_> = (0..WRITERS_PER_STORE * 2)
            .map(|w| {
                let store: &PgHubStore = if w % 2 == 0 { &slow } else { &fast };
                s.spawn(move || {
                    for n in 0..COMMITS {
                        store.commit(&commit(w, n)).unwrap();
                    }
                })
            })
            .collect();
        let puller = s.spawn(|| {
            let mut cursor = 0;
            let mut got = BTreeSet::new();
            loop {
                // Read the flag first: after the writers finished, one more page reads all.
                let last = done.load(Ordering::SeqCst);
                for row in fast.log_after(cursor, &reader, 1000).unwrap() {
                    cursor = row.seq;
                    got.insert(row.hash.unwrap());
                }
                if last {
                    return got;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        for w in writers {
            w.join().unwrap();
        }
        done.store(true, Ordering::SeqCst);
        seen = puller.join().unwrap();
    });
    let all = (0..WRITERS_PER_STORE * 2)
        .flat_map(|w| (0..COMMITS).map(move |n| format!("w{w}-{n}")))
        .collect();
    (all, seen)
}

#[test]
fn a_puller_following_two_hub_processes_sees_every_row() {
    let (all, seen) = race(false);
    let missed: Vec<&String> = all.difference(&seen).collect();
    assert!(missed.is_empty(), "the puller never saw {missed:?}");
}

#[test]
fn without_the_ordering_lock_a_puller_misses_rows() {
    let (all, seen) = race(true);
    assert!(
        seen.len() < all.len(),
        "the naive sequence lost nothing this time: the race is not exercised"
    );
}

/// Two hub processes creating the same document at once (two first syncs of one office behind
/// a load balancer making its roster, say): exactly one write is stored, the other is told
/// "busy" and stores nothing, and the document is the winner's whole, never a mix.
#[test]
fn two_processes_creating_one_document_store_exactly_one() {
    use ledger_hub::store::{DocWrite, StoreError, StoredChange};
    let db = pg::TestDb::create();
    let dir = tempfile::tempdir().unwrap();
    // The first holds its new row for a while before it commits.
    let slow = PgHubStore::open_with(
        &db.url,
        dir.path(),
        PgOptions { pause_before_commit: Some(Duration::from_millis(300)), ..PgOptions::default() },
    )
    .unwrap();
    let fast = PgHubStore::open(&db.url, dir.path()).unwrap();
    let case = CaseId(Uuid::from_u128(7));
    let create = |snapshot: &str, hash: &str| Commit {
        changes: vec![StoredChange {
            hash: hash.to_owned(),
            case_id: case,
            kind: DocKind::Roster,
            device: "dev".to_owned(),
            received_at: 0,
            bytes: hash.as_bytes().to_vec(),
        }],
        docs: vec![DocWrite {
            case_id: case,
            kind: DocKind::Roster,
            snapshot: Some(snapshot.as_bytes().to_vec()),
            tail: vec![hash.to_owned()],
            expected: None,
        }],
        ..Commit::default()
    };
    let (first, second) = std::thread::scope(|s| {
        let first = s.spawn(|| slow.commit(&create("first", "h1")));
        std::thread::sleep(Duration::from_millis(50));
        let second = s.spawn(|| fast.commit(&create("second", "h2")));
        (first.join().unwrap(), second.join().unwrap())
    });
    let (won, lost) = match (&first, &second) {
        (Ok(()), Err(StoreError::Busy(_))) => (("first", "h1"), "h2"),
        (Err(StoreError::Busy(_)), Ok(())) => (("second", "h2"), "h1"),
        other => panic!("exactly one of the two must be stored: {other:?}"),
    };
    let (snapshot, tail) = fast.doc(case, DocKind::Roster).unwrap().unwrap();
    assert_eq!(snapshot, won.0.as_bytes());
    assert_eq!(tail, vec![won.1.as_bytes().to_vec()]);
    assert_eq!(fast.doc_version(case, DocKind::Roster).unwrap(), Some(1));
    assert!(!fast.has_change(lost).unwrap(), "the busy batch stored nothing");
}
