-- Trust (issue 10): identities typed here for restricted cases wait in `drops` until the hub
-- has merged them (then they are deleted, pages overwritten); number blocks leased by the hub;
-- the case of each receipt, so an evicted case leaves nothing behind.

CREATE TABLE drops (
    id         TEXT PRIMARY KEY,
    case_id    TEXT    NOT NULL,
    persons    TEXT    NOT NULL,   -- JSON: the persons as typed
    created_at INTEGER NOT NULL,
    error      TEXT                -- why the hub refused it, if it did
) WITHOUT ROWID;
CREATE INDEX drops_case ON drops (case_id);

-- Number blocks leased to this device: `next..=end` are still free. Used-up blocks stay, so
-- a block that arrives again is never issued twice.
CREATE TABLE number_blocks (
    id       INTEGER PRIMARY KEY,
    series   TEXT    NOT NULL,
    start_at INTEGER NOT NULL,
    next     INTEGER NOT NULL,
    end      INTEGER NOT NULL,
    UNIQUE (series, start_at)
);
CREATE INDEX number_blocks_series ON number_blocks (series, next);

ALTER TABLE receipts ADD COLUMN case_id TEXT;

-- Which cases cite which attachment, so a case that leaves takes its attachments with it
-- unless another case here cites them too (filled by the index projection).
CREATE TABLE blob_refs (
    hash    TEXT NOT NULL,
    case_id TEXT NOT NULL,
    PRIMARY KEY (hash, case_id)
) WITHOUT ROWID;
