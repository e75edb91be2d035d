//! Things a well-behaved office never sends, made by hand to prove the hub refuses them:
//! changes by the wrong actor, to the wrong case or field, and raw bodies.

use std::path::Path;

use ledger_domain::automerge::transaction::Transactable;
use ledger_domain::automerge::{ActorId, Automerge, ROOT, ReadDoc};

/// zstd-compresses `bytes` as the protocol does.
pub fn compress(bytes: &[u8]) -> Vec<u8> {
    zstd::bulk::compress(bytes, 19).unwrap_or_default()
}

/// A change to a saved document that sets root `key` to `value`, made by `actor`. Returns its
/// hash and bytes.
pub fn edit_change(saved: &[u8], actor: ActorId, key: &str, value: &str) -> ([u8; 32], Vec<u8>) {
    let Ok(doc) = Automerge::load(saved) else { return ([0; 32], Vec::new()) };
    let mut doc = doc.with_actor(actor);
    let mut tx = doc.transaction();
    let _ = tx.put(ROOT, key, value);
    let (hash, _) = tx.commit();
    let bytes = hash
        .and_then(|h| doc.get_change_by_hash(&h))
        .map(|c| c.raw_bytes().to_vec())
        .unwrap_or_default();
    (hash.map(|h| h.0).unwrap_or([0; 32]), bytes)
}

/// Puts raw change bytes into an office's outbox, below the facade (another connection to the
/// store's SQLite file; WAL lets it in while the office is open).
pub fn inject_outbox(dir: &tempfile::TempDir, case: ledger_domain::CaseId, bytes: &[u8]) {
    let path: &Path = dir.path();
    let Ok(change) = ledger_domain::automerge::Change::from_bytes(bytes.to_vec()) else { return };
    let Ok(conn) = rusqlite::Connection::open(path.join("ledger.db")) else { return };
    let _ = conn.busy_timeout(std::time::Duration::from_secs(5));
    let _ = conn.execute(
        "INSERT INTO outbox (case_id, kind, hash, bytes, created_at) VALUES (?1, 0, ?2, ?3, 0)",
        rusqlite::params![case.to_string(), change.hash().to_string(), bytes],
    );
}
