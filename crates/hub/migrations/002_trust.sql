-- Trust at the merge point (issue 10): refused changes kept for the county to inspect,
-- identity drops already merged, number blocks leased to devices, documents set aside by
-- `ledger-hub check --quarantine`, and the age of partial attachment uploads.

-- Every change the hub refused, with the rule and reason, as received (bounded per device).
CREATE TABLE quarantine (
    id          INTEGER PRIMARY KEY,
    hash        TEXT    NOT NULL,
    case_id     TEXT    NOT NULL,
    kind        INTEGER NOT NULL,
    device      TEXT    NOT NULL,
    office      TEXT    NOT NULL,
    rule        TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    bytes       BLOB    NOT NULL
);
CREATE INDEX quarantine_device ON quarantine (device, id);

-- Identity drops merged into identity documents: a drop sent twice merges once.
CREATE TABLE drops (
    id        TEXT PRIMARY KEY,
    case_id   TEXT    NOT NULL,
    office    TEXT    NOT NULL,
    merged_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Number series (official case numbers, document numbers) per office, and the blocks leased
-- from them to devices, so two devices offline never issue the same number.
CREATE TABLE number_series (
    office TEXT    NOT NULL,
    series TEXT    NOT NULL,
    next   INTEGER NOT NULL,
    PRIMARY KEY (office, series)
) WITHOUT ROWID;
CREATE TABLE number_leases (
    id        INTEGER PRIMARY KEY,
    office    TEXT    NOT NULL,
    series    TEXT    NOT NULL,
    device    TEXT    NOT NULL,
    start     INTEGER NOT NULL,
    end       INTEGER NOT NULL,
    leased_at INTEGER NOT NULL
);

-- Documents `ledger-hub check --quarantine` set aside because they no longer load.
CREATE TABLE docs_set_aside (
    id       INTEGER PRIMARY KEY,
    case_id  TEXT    NOT NULL,
    kind     INTEGER NOT NULL,
    snapshot BLOB    NOT NULL,
    reason   TEXT    NOT NULL,
    at       INTEGER NOT NULL
);

-- Every write to a document bumps its version, so an engine holding a document in memory sees
-- another process's writes (`ledger-hub bundle import` while `serve` runs) and loads it again.
ALTER TABLE docs ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

-- Partial attachment uploads, one row a piece (appending never rewrites what is held); pieces
-- untouched for a week are dropped. The old one-row staging table is no longer used.
CREATE TABLE blob_pieces (
    hash       TEXT    NOT NULL,
    offset     INTEGER NOT NULL,
    total      INTEGER NOT NULL,
    bytes      BLOB    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (hash, offset)
) WITHOUT ROWID;
DROP TABLE blob_uploads;
