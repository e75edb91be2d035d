-- The county hub. Never edit a migration that has shipped: add a new one.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Offices: the bureau and the township land offices, with the townships each answers for.
CREATE TABLE offices (
    code       TEXT PRIMARY KEY,
    name       TEXT    NOT NULL,
    role       TEXT    NOT NULL,           -- township | bureau
    townships  TEXT    NOT NULL,           -- JSON array of township names
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- One-time enrollment tokens (hashes only). A use is remembered so that the same device
-- retrying a lost reply within minutes gets the same credential back.
CREATE TABLE tokens (
    hash       TEXT PRIMARY KEY,
    office     TEXT    NOT NULL REFERENCES offices (code),
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    used_actor TEXT,
    device_id  TEXT
) WITHOUT ROWID;

-- Enrolled devices (hashes of credentials only), with their sync health.
CREATE TABLE devices (
    id              TEXT PRIMARY KEY,
    office          TEXT    NOT NULL REFERENCES offices (code),
    name            TEXT    NOT NULL,
    actor           TEXT    NOT NULL,
    letter          TEXT    NOT NULL,
    credential_hash TEXT    NOT NULL UNIQUE,
    enrolled_at     INTEGER NOT NULL,
    revoked_at      INTEGER,
    last_sync       INTEGER,
    last_seq        INTEGER NOT NULL DEFAULT 0,
    pending         INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    skew_ms         INTEGER
) WITHOUT ROWID;
CREATE INDEX devices_office ON devices (office);
CREATE INDEX devices_actor ON devices (actor);

-- Further Automerge actors of a device (a restore from backup mints a new one).
CREATE TABLE actors (
    actor  TEXT PRIMARY KEY,
    device TEXT NOT NULL REFERENCES devices (id),
    office TEXT NOT NULL
) WITHOUT ROWID;

-- Every accepted change, once (deduplicated by hash).
CREATE TABLE changes (
    hash        TEXT PRIMARY KEY,
    case_id     TEXT    NOT NULL,
    kind        INTEGER NOT NULL,
    device      TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    bytes       BLOB    NOT NULL
) WITHOUT ROWID;
CREATE INDEX changes_case ON changes (case_id, kind);

-- The hub's copy of every document: a snapshot plus the changes applied since (by hash).
CREATE TABLE docs (
    case_id  TEXT    NOT NULL,
    kind     INTEGER NOT NULL,
    snapshot BLOB    NOT NULL,
    PRIMARY KEY (case_id, kind)
) WITHOUT ROWID;
CREATE TABLE doc_tail (
    id      INTEGER PRIMARY KEY,
    case_id TEXT    NOT NULL,
    kind    INTEGER NOT NULL,
    hash    TEXT    NOT NULL
);
CREATE INDEX doc_tail_case ON doc_tail (case_id, kind);

-- What the hub knows of each case: its scope (township, registrar, restricted identity) and the
-- statistics facts.
CREATE TABLE cases (
    case_id    TEXT PRIMARY KEY,
    township   TEXT,
    registrar  TEXT    NOT NULL,
    restricted INTEGER NOT NULL DEFAULT 0,
    facts      TEXT,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX cases_township ON cases (township);

-- The hub log: `change` records with their visibility, and `enter`/`leave` for one office.
CREATE TABLE log (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT    NOT NULL,          -- change | enter | leave
    case_id       TEXT    NOT NULL,
    doc_kind      INTEGER NOT NULL DEFAULT 0,
    hash          TEXT,                      -- change
    author_device TEXT,                      -- change
    township      TEXT,                      -- change: visible to offices answering for it
    registrar     TEXT,                      -- change: ...or to the registrar while unassigned
    bureau_only   INTEGER NOT NULL DEFAULT 0,
    target        TEXT,                      -- enter/leave: the office
    received_at   INTEGER NOT NULL
);
CREATE INDEX log_target ON log (target, seq);

-- Confirmed evictions: the office deleted the case after a `leave`.
CREATE TABLE evictions (
    case_id      TEXT    NOT NULL,
    office       TEXT    NOT NULL,
    device       TEXT    NOT NULL,
    confirmed_at INTEGER NOT NULL,
    PRIMARY KEY (case_id, device)
) WITHOUT ROWID;

-- Attachments, content-addressed; partial uploads; which cases cite which blob.
CREATE TABLE blobs (
    hash  TEXT PRIMARY KEY,
    size  INTEGER NOT NULL,
    bytes BLOB    NOT NULL
) WITHOUT ROWID;
CREATE TABLE blob_uploads (
    hash  TEXT PRIMARY KEY,
    total INTEGER NOT NULL,
    bytes BLOB    NOT NULL
) WITHOUT ROWID;
CREATE TABLE blob_refs (
    hash    TEXT NOT NULL,
    case_id TEXT NOT NULL,
    PRIMARY KEY (hash, case_id)
) WITHOUT ROWID;
