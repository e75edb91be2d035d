//! An office's replica on SQLite: case and identity documents with their incremental
//! changes, the projected query index, full-text search, attachment blobs, the outbox and the
//! pull cursor. Crash-safe: one local edit is one transaction. Built with the store issue.
