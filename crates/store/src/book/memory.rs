//! An in-memory [`SyncBook`]: maps and vectors behind one mutex, nothing on disk.
//!
//! It is the second implementation that keeps the trait honest: the conformance suite runs
//! against it and against [`crate::Store`], so what the sync relies on is written in the trait
//! and the suite, not in SQLite's behaviour. It is also a book for tests of sync logic that
//! need no data directory.
//!
//! It does what the SQLite tables do wherever a caller can see it: the order of every list,
//! which duplicate stands, the byte limit of a batch, the outbox's queue numbers. The sync
//! position is kept as the row SQLite would store and read back through the same decoding, so
//! both refuse and report alike. A transaction ([`SyncBook::atomically`]) keeps a copy of the
//! whole book and puts it back if the transaction fails; other threads' writes wait for it to
//! end and their reads see the book as it was before it began, as SQLite's readers do.

use super::spliced;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::ThreadId;

use ledger_domain::CaseId;

use crate::book::SyncBook;
use crate::error::{Result, StoreError};
use crate::position::{RawRow, decode, encode};
use crate::{DocKind, DropRecord, OutboxEntry, QuarantinedChange, SyncPosition, blob_hash, now_ms};

/// An office's sync bookkeeping in memory.
#[derive(Default)]
pub struct MemorySyncBook {
    state: Mutex<State>,
    /// Signalled when a transaction ends, for the writes of other threads that wait on it.
    turn: Condvar,
}

#[derive(Default)]
struct State {
    book: Book,
    open: Option<Open>,
}

/// A transaction in progress: its thread, the book as it was, and whether a nested one failed.
struct Open {
    owner: ThreadId,
    before: Book,
    failed: bool,
}

/// Every table of the sync bookkeeping, as maps and vectors.
#[derive(Clone, Default)]
struct Book {
    position: Option<RawRow>,
    /// By queue number, which is one more than the largest in the queue (SQLite's rowid).
    outbox: BTreeMap<i64, Queued>,
    /// By hash: when the hub received it, and the case.
    receipts: BTreeMap<String, (i64, CaseId)>,
    /// By id.
    drops: BTreeMap<String, KeptDrop>,
    /// In the order they arrived (SQLite's rowid order).
    blocks: Vec<Block>,
    counters: BTreeMap<String, i64>,
    /// By document: the total the pieces are cut to, and the bytes so far.
    staging: BTreeMap<(CaseId, DocKind), (u64, Vec<u8>)>,
    blobs: BTreeMap<String, Vec<u8>>,
    /// By hash: the total, and the bytes so far.
    blob_staging: BTreeMap<String, (u64, Vec<u8>)>,
    blob_sent: BTreeSet<String>,
}

#[derive(Clone)]
struct Queued {
    case_id: CaseId,
    kind: DocKind,
    hash: String,
    bytes: Vec<u8>,
    created_at: i64,
    quarantined: bool,
    error: Option<String>,
}

#[derive(Clone)]
struct KeptDrop {
    case_id: CaseId,
    persons: String,
    created_at: i64,
    error: Option<String>,
}

/// A leased block: `next..=end` are free. `next` passes `end` by one once it is used up.
#[derive(Clone)]
struct Block {
    series: String,
    start: u64,
    next: u64,
    end: u64,
}

impl Book {
    fn queued(&self) -> impl Iterator<Item = &Queued> {
        self.outbox.values().filter(|q| !q.quarantined)
    }

    fn drops_sorted(&self) -> Vec<(&String, &KeptDrop)> {
        let mut drops: Vec<_> = self.drops.iter().collect();
        drops.sort_by_key(|(id, d)| (d.created_at, *id));
        drops
    }
}

fn drop_record(id: &str, d: &KeptDrop) -> DropRecord {
    DropRecord {
        id: id.to_owned(),
        case_id: d.case_id,
        persons: d.persons.clone(),
        error: d.error.clone(),
    }
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl MemorySyncBook {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every call checks before it writes, so a panic cannot leave a call half done.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads the book: inside another thread's transaction, as it was before that began.
    fn read<T>(&self, f: impl FnOnce(&Book) -> T) -> T {
        let state = self.lock();
        let me = std::thread::current().id();
        match &state.open {
            Some(open) if open.owner != me => f(&open.before),
            _ => f(&state.book),
        }
    }

    /// Writes the book, once no other thread's transaction is open.
    fn write<T>(&self, f: impl FnOnce(&mut Book) -> Result<T>) -> Result<T> {
        let mut state = self.wait_turn();
        f(&mut state.book)
    }

    fn wait_turn(&self) -> MutexGuard<'_, State> {
        let me = std::thread::current().id();
        let mut state = self.lock();
        while state.open.as_ref().is_some_and(|open| open.owner != me) {
            state = self.turn.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        state
    }
}

/// A transaction in progress; dropped, it puts the book back unless it was kept, and lets
/// other threads on (a panic in the transaction included).
struct Ending<'a> {
    book: &'a MemorySyncBook,
    kept: bool,
}

impl Drop for Ending<'_> {
    fn drop(&mut self) {
        let mut state = self.book.lock();
        if let Some(open) = state.open.take()
            && !self.kept
        {
            state.book = open.before;
        }
        drop(state);
        self.book.turn.notify_all();
    }
}

impl SyncBook for MemorySyncBook {
    fn atomically(&self, f: &mut dyn FnMut() -> Result<()>) -> Result<()> {
        let me = std::thread::current().id();
        {
            let mut state = self.wait_turn();
            if state.open.is_some() {
                drop(state);
                let result = f();
                if result.is_err()
                    && let Some(open) = self.lock().open.as_mut()
                {
                    open.failed = true;
                }
                return result;
            }
            let before = state.book.clone();
            state.open = Some(Open { owner: me, before, failed: false });
        }
        let mut ending = Ending { book: self, kept: false };
        f()?;
        if self.lock().open.as_ref().is_some_and(|open| open.failed) {
            return Err(StoreError::BatchFailed("一批写入中的一部分失败".to_owned()));
        }
        ending.kept = true;
        Ok(())
    }

    fn sync_position(&self) -> Result<Option<SyncPosition>> {
        self.read(|b| b.position.clone()).map(decode).transpose()
    }

    fn set_sync_position(&self, position: &SyncPosition) -> Result<()> {
        let row = encode(position)?;
        self.write(|b| {
            b.position = Some(row);
            Ok(())
        })
    }

    fn clear_sync_position(&self) -> Result<()> {
        self.write(|b| {
            b.position = None;
            Ok(())
        })
    }

    fn enqueue(&self, case: CaseId, kind: DocKind, hash: &str, bytes: &[u8]) -> Result<()> {
        self.write(|b| {
            if b.outbox.values().any(|q| q.hash == hash) {
                return Ok(());
            }
            let seq = b.outbox.last_key_value().map_or(1, |(seq, _)| seq + 1);
            b.outbox.insert(
                seq,
                Queued {
                    case_id: case,
                    kind,
                    hash: hash.to_owned(),
                    bytes: bytes.to_vec(),
                    created_at: now_ms(),
                    quarantined: false,
                    error: None,
                },
            );
            Ok(())
        })
    }

    fn outbox_batch(&self, max_bytes: usize, max_count: usize) -> Result<Vec<OutboxEntry>> {
        self.read(|b| {
            let mut queued: Vec<(&i64, &Queued)> =
                b.outbox.iter().filter(|(_, q)| !q.quarantined).collect();
            queued.sort_by_key(|(seq, q)| (q.kind != DocKind::Roster, **seq));
            let mut out = Vec::new();
            let mut size = 0;
            for (seq, q) in queued {
                if !out.is_empty() && (size + q.bytes.len() > max_bytes || out.len() >= max_count) {
                    break;
                }
                size += q.bytes.len();
                out.push(OutboxEntry {
                    seq: *seq,
                    case_id: q.case_id,
                    kind: q.kind,
                    hash: q.hash.clone(),
                    bytes: q.bytes.clone(),
                });
            }
            Ok(out)
        })
    }

    fn outbox_len(&self) -> Result<u64> {
        Ok(self.read(|b| count(b.queued().count())))
    }

    fn outbox_len_of_kind(&self, kind: DocKind) -> Result<u64> {
        Ok(self.read(|b| count(b.queued().filter(|q| q.kind == kind).count())))
    }

    fn outbox_for_case(&self, id: CaseId) -> Result<u64> {
        Ok(self.read(|b| count(b.outbox.values().filter(|q| q.case_id == id).count())))
    }

    fn acknowledge(&self, hashes: &[String]) -> Result<()> {
        let hashes: BTreeSet<&str> = hashes.iter().map(String::as_str).collect();
        self.write(|b| {
            b.outbox.retain(|_, q| !hashes.contains(q.hash.as_str()));
            Ok(())
        })
    }

    fn quarantine(&self, refused: &[(String, String)]) -> Result<()> {
        self.write(|b| {
            for (hash, error) in refused {
                let Some((from, case)) = b
                    .outbox
                    .iter()
                    .find(|(_, q)| q.hash == *hash)
                    .map(|(seq, q)| (*seq, q.case_id))
                else {
                    continue;
                };
                for q in b.outbox.range_mut(from..).map(|(_, q)| q).filter(|q| q.case_id == case) {
                    q.quarantined = true;
                    q.error.get_or_insert_with(|| error.clone());
                }
            }
            Ok(())
        })
    }

    fn quarantined(&self) -> Result<Vec<QuarantinedChange>> {
        Ok(self.read(|b| {
            b.outbox
                .values()
                .filter(|q| q.quarantined)
                .map(|q| QuarantinedChange {
                    case_id: q.case_id,
                    hash: q.hash.clone(),
                    error: q.error.clone().unwrap_or_default(),
                    created_at: q.created_at,
                })
                .collect()
        }))
    }

    fn quarantined_for(&self, id: CaseId) -> Result<Vec<QuarantinedChange>> {
        Ok(self.quarantined()?.into_iter().filter(|q| q.case_id == id).collect())
    }

    fn release_quarantine(&self, id: CaseId) -> Result<u64> {
        self.write(|b| {
            let mut n = 0;
            for q in b.outbox.values_mut().filter(|q| q.case_id == id && q.quarantined) {
                q.quarantined = false;
                q.error = None;
                n += 1;
            }
            Ok(n)
        })
    }

    fn record_receipts(&self, receipts: &[(String, i64, CaseId)]) -> Result<()> {
        self.write(|b| {
            for (hash, at, case) in receipts {
                b.receipts.entry(hash.clone()).or_insert((*at, *case));
            }
            Ok(())
        })
    }

    fn receipt(&self, hash: &str) -> Result<Option<i64>> {
        Ok(self.read(|b| b.receipts.get(hash).map(|(at, _)| *at)))
    }

    fn add_drop(&self, drop: &DropRecord) -> Result<()> {
        self.write(|b| {
            b.drops.entry(drop.id.clone()).or_insert_with(|| KeptDrop {
                case_id: drop.case_id,
                persons: drop.persons.clone(),
                created_at: now_ms(),
                error: None,
            });
            Ok(())
        })
    }

    fn pending_drops(&self, limit: usize) -> Result<Vec<DropRecord>> {
        Ok(self.read(|b| {
            b.drops_sorted().into_iter().take(limit).map(|(id, d)| drop_record(id, d)).collect()
        }))
    }

    fn drops_for(&self, id: CaseId) -> Result<Vec<DropRecord>> {
        Ok(self.read(|b| {
            b.drops_sorted()
                .into_iter()
                .filter(|(_, d)| d.case_id == id)
                .map(|(id, d)| drop_record(id, d))
                .collect()
        }))
    }

    fn ack_drops(&self, ids: &[String]) -> Result<()> {
        self.write(|b| {
            for id in ids {
                b.drops.remove(id);
            }
            Ok(())
        })
    }

    fn refuse_drop(&self, id: &str, reason: &str) -> Result<()> {
        self.write(|b| {
            if let Some(d) = b.drops.get_mut(id) {
                d.error = Some(reason.to_owned());
            }
            Ok(())
        })
    }

    fn add_number_blocks(&self, blocks: &[(String, u64, u64)]) -> Result<()> {
        self.write(|b| {
            for (series, start, end) in blocks {
                // The SQLite columns hold i64: a block past that is not kept there either.
                if end < start || i64::try_from(*end).is_err() {
                    continue;
                }
                if b.blocks.iter().any(|k| k.series == *series && k.start == *start) {
                    continue;
                }
                b.blocks.push(Block {
                    series: series.clone(),
                    start: *start,
                    next: *start,
                    end: *end,
                });
            }
            Ok(())
        })
    }

    fn take_number(&self, series: &str) -> Result<Option<u64>> {
        self.write(|b| {
            // The lowest free number first; between blocks at the same number, the older one.
            let block = b
                .blocks
                .iter_mut()
                .filter(|k| k.series == series && k.next <= k.end)
                .reduce(|best, k| if k.next < best.next { k } else { best });
            Ok(block.map(|k| {
                k.next += 1;
                k.next - 1
            }))
        })
    }

    fn numbers_left(&self, series: &str) -> Result<u64> {
        Ok(self.read(|b| {
            b.blocks
                .iter()
                .filter(|k| k.series == series && k.next <= k.end)
                .fold(0u64, |sum, k| sum.saturating_add(k.end - k.next + 1))
        }))
    }

    fn reserve_counter(&self, name: &str, n: u64) -> Result<u64> {
        let n = i64::try_from(n.max(1)).unwrap_or(i64::MAX);
        self.write(|b| {
            let value = b.counters.get(name).copied().unwrap_or(0);
            // SQLite refuses what no integer column holds; so does the book.
            let last = value.checked_add(n).ok_or_else(|| {
                StoreError::Sqlite(rusqlite::Error::IntegralValueOutOfRange(1, value))
            })?;
            b.counters.insert(name.to_owned(), last);
            Ok(u64::try_from(last - n + 1).unwrap_or(0))
        })
    }

    fn counter_value(&self, name: &str) -> Result<u64> {
        Ok(self.read(|b| b.counters.get(name).and_then(|n| u64::try_from(*n).ok()).unwrap_or(0)))
    }

    fn stage_piece(
        &self,
        id: CaseId,
        kind: DocKind,
        offset: u64,
        total: u64,
        piece: &[u8],
    ) -> Result<Option<Vec<u8>>> {
        self.write(|b| {
            let held: &[u8] = match b.staging.get(&(id, kind)) {
                Some((t, bytes)) if *t == total => bytes.as_slice(),
                _ => &[],
            };
            let Some(bytes) = spliced(held, offset, piece) else {
                return Ok(None);
            };
            if count(bytes.len()) >= total {
                b.staging.remove(&(id, kind));
                return Ok(Some(bytes));
            }
            b.staging.insert((id, kind), (total, bytes));
            Ok(None)
        })
    }

    fn put_blob(&self, bytes: &[u8]) -> Result<String> {
        let hash = blob_hash(bytes);
        self.write(|b| {
            b.blobs.entry(hash.clone()).or_insert_with(|| bytes.to_vec());
            Ok(())
        })?;
        Ok(hash)
    }

    fn blob(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.read(|b| b.blobs.get(hash).cloned()))
    }

    fn has_blob(&self, hash: &str) -> Result<bool> {
        Ok(self.read(|b| b.blobs.contains_key(hash)))
    }

    fn stage_blob_piece(&self, hash: &str, offset: u64, total: u64, piece: &[u8]) -> Result<bool> {
        self.write(|b| {
            if b.blobs.contains_key(hash) {
                return Ok(true);
            }
            let held = b.blob_staging.get(hash).map_or(&[][..], |(_, bytes)| bytes.as_slice());
            let Some(bytes) = spliced(held, offset, piece) else {
                return Ok(false);
            };
            if count(bytes.len()) >= total {
                b.blob_staging.remove(hash);
                if blob_hash(&bytes) != hash {
                    tracing::warn!(%hash, "attachment arrived corrupted; it will be fetched again");
                    return Ok(false);
                }
                b.blobs.insert(hash.to_owned(), bytes);
                b.blob_sent.insert(hash.to_owned());
                return Ok(true);
            }
            b.blob_staging.insert(hash.to_owned(), (total, bytes));
            Ok(false)
        })
    }

    fn blob_staged(&self, hash: &str) -> Result<u64> {
        Ok(self.read(|b| b.blob_staging.get(hash).map_or(0, |(_, bytes)| count(bytes.len()))))
    }

    fn unsent_blobs(&self, limit: usize) -> Result<Vec<String>> {
        Ok(self.read(|b| {
            b.blobs.keys().filter(|h| !b.blob_sent.contains(*h)).take(limit).cloned().collect()
        }))
    }

    fn mark_blobs_sent(&self, hashes: &[String]) -> Result<()> {
        self.write(|b| {
            b.blob_sent.extend(hashes.iter().cloned());
            Ok(())
        })
    }
}
