//! 同步台账: the office's sync bookkeeping behind one trait, [`SyncBook`], with two
//! implementations: [`Store`] (SQLite, the office's file) and [`MemorySyncBook`] (maps and
//! vectors behind a mutex). One conformance suite (`tests/book_conformance.rs`) runs against
//! both, so the trait, not SQLite, is the contract the sync relies on.
//!
//! The scope is the state the sync protocol keeps besides the case documents: the sync
//! position (typed, a damaged one reported as [`BadSyncPosition`](crate::StoreError::BadSyncPosition)), the outbox and
//! its quarantine, the hub's receipt times, identity drops, number blocks and local counters,
//! documents and attachments arriving in pieces, and the attachments themselves with what the
//! hub is known to hold.
//!
//! The case documents stay outside it, SQLite only (`merge_remote`, `apply_remote`,
//! `with_doc`, `edit`, rows, the index, `missing_blobs`): every write to a document projects
//! its index and search rows in the same SQL transaction, and the lists, filters and search
//! are SQL over that projection. A second implementation of documents would be a second
//! index, not a second store of bytes. The outbox is filled by that edit path, in the
//! transaction of each change; [`SyncBook::enqueue`] and [`SyncBook::add_drop`] write the same
//! rows through the same statements, for a book without documents.
//!
//! Atomicity: [`SyncBook::atomically`] is the trait's transaction. On [`Store`] it is
//! [`Store::batch`]; a sync page that also applies documents calls `batch` on the store itself.

mod memory;

use ledger_domain::CaseId;

pub use memory::MemorySyncBook;

use crate::error::Result;
use crate::{DocKind, DropRecord, OutboxEntry, QuarantinedChange, Store, SyncPosition};

/// The office's sync bookkeeping: what the sync protocol keeps besides the case documents.
///
/// Every call is its own transaction unless it runs inside [`SyncBook::atomically`]. Every
/// implementation must pass the conformance suite in `crates/store/tests/book_conformance.rs`.
pub trait SyncBook: Send + Sync {
    /// Runs `f` with every call it makes on this book (from this thread) in one transaction:
    /// kept whole when `f` returns `Ok`, undone whole when it fails. Calls from other threads
    /// wait until it ends. Inside another `atomically` it is part of the outer one, and a
    /// failure fails the outer one too.
    fn atomically(&self, f: &mut dyn FnMut() -> Result<()>) -> Result<()>;

    /// The office's place in the hub's log: `None` before the first page was applied. A stored
    /// position that does not read back is [`BadSyncPosition`](crate::StoreError::BadSyncPosition), never zero.
    fn sync_position(&self) -> Result<Option<SyncPosition>>;
    /// Keeps the office's place; a position no row can hold is refused and nothing changes.
    fn set_sync_position(&self, position: &SyncPosition) -> Result<()>;
    /// Forgets the office's place (the next sync starts from the beginning).
    fn clear_sync_position(&self) -> Result<()>;

    /// Queues a local change of `case` for the hub; a hash queued already stays as it is.
    fn enqueue(&self, case: CaseId, kind: DocKind, hash: &str, bytes: &[u8]) -> Result<()>;
    /// The oldest changes to send, roster changes first: at most `max_bytes` of them, but
    /// always at least one, and at most `max_count`. Quarantined changes are left out.
    fn outbox_batch(&self, max_bytes: usize, max_count: usize) -> Result<Vec<OutboxEntry>>;
    /// Changes still to send (quarantined ones excluded).
    fn outbox_len(&self) -> Result<u64>;
    /// Changes still to send of one kind of document (quarantined ones excluded).
    fn outbox_len_of_kind(&self, kind: DocKind) -> Result<u64>;
    /// Unacknowledged changes of one case (quarantined ones included).
    fn outbox_for_case(&self, id: CaseId) -> Result<u64>;
    /// Drops acknowledged changes (quarantined or not); unknown hashes are ignored.
    fn acknowledge(&self, hashes: &[String]) -> Result<()>;

    /// Moves refused changes (hash, the hub's reason), and every later change to the same
    /// cases, to quarantine; a change keeps the first reason given. Unknown hashes are ignored.
    fn quarantine(&self, refused: &[(String, String)]) -> Result<()>;
    /// The quarantined changes, oldest first.
    fn quarantined(&self) -> Result<Vec<QuarantinedChange>>;
    /// The quarantined changes of one case, oldest first.
    fn quarantined_for(&self, id: CaseId) -> Result<Vec<QuarantinedChange>>;
    /// Puts a case's quarantined changes back in the queue; returns how many.
    fn release_quarantine(&self, id: CaseId) -> Result<u64>;

    /// Records when the hub received changes (hash, time, case); the first time kept stands.
    fn record_receipts(&self, receipts: &[(String, i64, CaseId)]) -> Result<()>;
    /// When the hub received a change, if known.
    fn receipt(&self, hash: &str) -> Result<Option<i64>>;

    /// Keeps an identity drop until the hub has merged it (a drop kept already, by id, stays
    /// as it is; a new one starts without a refusal).
    fn add_drop(&self, drop: &DropRecord) -> Result<()>;
    /// Drops not yet merged at the hub, oldest first, at most `limit`.
    fn pending_drops(&self, limit: usize) -> Result<Vec<DropRecord>>;
    /// Drops of one case still waiting, oldest first.
    fn drops_for(&self, id: CaseId) -> Result<Vec<DropRecord>>;
    /// Deletes drops the hub has merged (unknown ids are ignored).
    fn ack_drops(&self, ids: &[String]) -> Result<()>;
    /// Records why the hub refused a drop (it stays, and is sent again).
    fn refuse_drop(&self, id: &str, reason: &str) -> Result<()>;

    /// Adds number blocks the hub leased (series, first, last). A block whose last number is
    /// before its first, or past `i64::MAX`, is ignored; a block known already (series and
    /// first number), used up or not, is kept once.
    fn add_number_blocks(&self, blocks: &[(String, u64, u64)]) -> Result<()>;
    /// Takes the next number of a series from the leased blocks (the lowest free one first),
    /// or `None` when none is left.
    fn take_number(&self, series: &str) -> Result<Option<u64>>;
    /// How many numbers of a series are still free here.
    fn numbers_left(&self, series: &str) -> Result<u64>;
    /// Reserves the next `n` (at least one) values of a local counter; returns the first.
    /// Values are never handed out twice.
    fn reserve_counter(&self, name: &str, n: u64) -> Result<u64>;
    /// The value a local counter has reached, or 0.
    fn counter_value(&self, name: &str) -> Result<u64>;

    /// Adds a piece of a document arriving in pieces, cut to `total` bytes, at `offset`: a
    /// piece held already is replaced, a piece past what is held (or for another `total`
    /// than the one held) is not kept. Returns the whole document once complete.
    fn stage_piece(
        &self,
        id: CaseId,
        kind: DocKind,
        offset: u64,
        total: u64,
        piece: &[u8],
    ) -> Result<Option<Vec<u8>>>;

    /// Stores an attachment (once) and returns its hash.
    fn put_blob(&self, bytes: &[u8]) -> Result<String>;
    /// An attachment's bytes, if stored here.
    fn blob(&self, hash: &str) -> Result<Option<Vec<u8>>>;
    /// Whether an attachment is stored here.
    fn has_blob(&self, hash: &str) -> Result<bool>;
    /// Adds a piece of an attachment arriving from the hub; stores it once complete and its
    /// BLAKE3 matches (then the hub is known to hold it). Returns whether it is here now.
    fn stage_blob_piece(&self, hash: &str, offset: u64, total: u64, piece: &[u8]) -> Result<bool>;
    /// How much of an attachment in transit is held.
    fn blob_staged(&self, hash: &str) -> Result<u64>;
    /// Attachments stored here that the hub is not known to hold, by hash, at most `limit`.
    fn unsent_blobs(&self, limit: usize) -> Result<Vec<String>>;
    /// Records that the hub holds these attachments.
    fn mark_blobs_sent(&self, hashes: &[String]) -> Result<()>;
}

impl SyncBook for Store {
    fn atomically(&self, f: &mut dyn FnMut() -> Result<()>) -> Result<()> {
        self.batch(f)
    }

    fn sync_position(&self) -> Result<Option<SyncPosition>> {
        Store::sync_position(self)
    }

    fn set_sync_position(&self, position: &SyncPosition) -> Result<()> {
        Store::set_sync_position(self, position)
    }

    fn clear_sync_position(&self) -> Result<()> {
        Store::clear_sync_position(self)
    }

    fn enqueue(&self, case: CaseId, kind: DocKind, hash: &str, bytes: &[u8]) -> Result<()> {
        let mut w = self.writer();
        let tx = w.tx()?;
        crate::outbox::insert(&tx, &case.to_string(), kind, hash, bytes, crate::now_ms())?;
        tx.commit()
    }

    fn outbox_batch(&self, max_bytes: usize, max_count: usize) -> Result<Vec<OutboxEntry>> {
        Store::outbox_batch(self, max_bytes, max_count)
    }

    fn outbox_len(&self) -> Result<u64> {
        Store::outbox_len(self)
    }

    fn outbox_len_of_kind(&self, kind: DocKind) -> Result<u64> {
        Store::outbox_len_of_kind(self, kind)
    }

    fn outbox_for_case(&self, id: CaseId) -> Result<u64> {
        Store::outbox_for_case(self, id)
    }

    fn acknowledge(&self, hashes: &[String]) -> Result<()> {
        Store::acknowledge(self, hashes)
    }

    fn quarantine(&self, refused: &[(String, String)]) -> Result<()> {
        Store::quarantine(self, refused)
    }

    fn quarantined(&self) -> Result<Vec<QuarantinedChange>> {
        Store::quarantined(self)
    }

    fn quarantined_for(&self, id: CaseId) -> Result<Vec<QuarantinedChange>> {
        Store::quarantined_for(self, id)
    }

    fn release_quarantine(&self, id: CaseId) -> Result<u64> {
        Store::release_quarantine(self, id)
    }

    fn record_receipts(&self, receipts: &[(String, i64, CaseId)]) -> Result<()> {
        Store::record_receipts(self, receipts)
    }

    fn receipt(&self, hash: &str) -> Result<Option<i64>> {
        Store::receipt(self, hash)
    }

    fn add_drop(&self, drop: &DropRecord) -> Result<()> {
        let mut w = self.writer();
        let tx = w.tx()?;
        crate::docs::insert_drop(&tx, drop)?;
        tx.commit()
    }

    fn pending_drops(&self, limit: usize) -> Result<Vec<DropRecord>> {
        Store::pending_drops(self, limit)
    }

    fn drops_for(&self, id: CaseId) -> Result<Vec<DropRecord>> {
        Store::drops_for(self, id)
    }

    fn ack_drops(&self, ids: &[String]) -> Result<()> {
        Store::ack_drops(self, ids)
    }

    fn refuse_drop(&self, id: &str, reason: &str) -> Result<()> {
        Store::refuse_drop(self, id, reason)
    }

    fn add_number_blocks(&self, blocks: &[(String, u64, u64)]) -> Result<()> {
        Store::add_number_blocks(self, blocks)
    }

    fn take_number(&self, series: &str) -> Result<Option<u64>> {
        Store::take_number(self, series)
    }

    fn numbers_left(&self, series: &str) -> Result<u64> {
        Store::numbers_left(self, series)
    }

    fn reserve_counter(&self, name: &str, n: u64) -> Result<u64> {
        Store::reserve_counter(self, name, n)
    }

    fn counter_value(&self, name: &str) -> Result<u64> {
        Store::counter_value(self, name)
    }

    fn stage_piece(
        &self,
        id: CaseId,
        kind: DocKind,
        offset: u64,
        total: u64,
        piece: &[u8],
    ) -> Result<Option<Vec<u8>>> {
        Store::stage_piece(self, id, kind, offset, total, piece)
    }

    fn put_blob(&self, bytes: &[u8]) -> Result<String> {
        Store::put_blob(self, bytes)
    }

    fn blob(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        Store::blob(self, hash)
    }

    fn has_blob(&self, hash: &str) -> Result<bool> {
        Store::has_blob(self, hash)
    }

    fn stage_blob_piece(&self, hash: &str, offset: u64, total: u64, piece: &[u8]) -> Result<bool> {
        Store::stage_blob_piece(self, hash, offset, total, piece)
    }

    fn blob_staged(&self, hash: &str) -> Result<u64> {
        Store::blob_staged(self, hash)
    }

    fn unsent_blobs(&self, limit: usize) -> Result<Vec<String>> {
        Store::unsent_blobs(self, limit)
    }

    fn mark_blobs_sent(&self, hashes: &[String]) -> Result<()> {
        Store::mark_blobs_sent(self, hashes)
    }
}

/// `held[..offset]` followed by `piece`, or `None` when `offset` is past what is held: how a
/// piece of a document or an attachment in transit joins what came before it.
pub(crate) fn spliced(held: &[u8], offset: u64, piece: &[u8]) -> Option<Vec<u8>> {
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    let mut bytes = held.get(..offset)?.to_vec();
    bytes.extend_from_slice(piece);
    Some(bytes)
}
