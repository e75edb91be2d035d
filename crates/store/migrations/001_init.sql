-- The office replica. Never edit a migration that has shipped: add a new one.

-- Settings of this store: office, role, actor, staff, townships, sync state.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- One compacted Automerge document per (case, kind): kind 0 is the case, 1 its identity.
-- A rowid table: snapshots are large, and WITHOUT ROWID tables store large rows poorly.
CREATE TABLE docs (
    case_id   TEXT    NOT NULL,
    kind      INTEGER NOT NULL,
    snapshot  BLOB    NOT NULL,
    pending   INTEGER NOT NULL DEFAULT 0,  -- changes appended since the snapshot
    heads     TEXT    NOT NULL DEFAULT '', -- the document's sorted heads, hex, for repair digests
    PRIMARY KEY (case_id, kind)
);

-- Changes appended since each document's snapshot, in the order they were applied.
CREATE TABLE changes (
    id      INTEGER PRIMARY KEY,
    case_id TEXT    NOT NULL,
    kind    INTEGER NOT NULL,
    hash    TEXT    NOT NULL,
    bytes   BLOB    NOT NULL,
    UNIQUE (case_id, kind, hash)
);

-- Local changes not yet acknowledged by the hub, with their own copy of the bytes so that
-- compaction can never lose one.
CREATE TABLE outbox (
    seq         INTEGER PRIMARY KEY,
    case_id     TEXT    NOT NULL,
    kind        INTEGER NOT NULL,
    hash        TEXT    NOT NULL UNIQUE,
    bytes       BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    quarantined INTEGER NOT NULL DEFAULT 0,
    error       TEXT
);
CREATE INDEX outbox_case ON outbox (case_id);

-- The projected index: what lists, filters and counts need, so opening never loads documents.
CREATE TABLE cases (
    id            INTEGER PRIMARY KEY,          -- also the rowid of the case's search row
    case_id       TEXT    NOT NULL UNIQUE,
    number        TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    township      TEXT,
    category      TEXT    NOT NULL,
    sector        TEXT    NOT NULL,
    purpose       TEXT    NOT NULL,
    source        TEXT,
    channel       TEXT,
    received      TEXT,
    last_received TEXT,
    names         TEXT    NOT NULL DEFAULT '',  -- masked display names, for lists
    search_names  TEXT    NOT NULL DEFAULT '',  -- display names, and full names where the identity is here
    village       TEXT    NOT NULL DEFAULT '',
    next_due      TEXT,
    next_due_kind TEXT,
    anomalies     INTEGER NOT NULL DEFAULT 0,
    conflicts     INTEGER NOT NULL DEFAULT 0,
    handed_over   INTEGER NOT NULL DEFAULT 0,  -- 已转交: reassigned away, awaiting eviction
    registered_by TEXT    NOT NULL,
    updated_at    INTEGER NOT NULL,
    facts         TEXT    NOT NULL             -- ledger_domain::CaseFacts as JSON, for statistics
);
-- Lists sort by (received DESC, number DESC): indexes ending in both let a deep page walk the
-- index instead of sorting every match; the received index also covers the one- and
-- two-character search (LIKE over names, village, number), so that scan reads a narrow index.
CREATE INDEX cases_status ON cases (status, received, number);
CREATE INDEX cases_township ON cases (township, received, number);
CREATE INDEX cases_received ON cases (received, number, search_names, village);
CREATE INDEX cases_next_due ON cases (next_due);

-- Search of three or more characters over names, villages, the request text and numbers.
CREATE VIRTUAL TABLE search USING fts5 (
    number, names, village, request,
    tokenize = 'trigram'
);

-- Attachments, content-addressed (BLAKE3) and stored once.
CREATE TABLE blobs (
    hash  TEXT PRIMARY KEY,
    size  INTEGER NOT NULL,
    bytes BLOB    NOT NULL
) WITHOUT ROWID;

-- Fingerprints of imported ledger rows, so importing the same file twice adds nothing.
CREATE TABLE fingerprints (
    fingerprint TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL
) WITHOUT ROWID;

-- Counters: case numbers per year and device, document numbers.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
