-- Sync state beyond the outbox: documents arriving in pieces, attachments in transit, and the
-- hub's receipt time of each change.

-- A document arriving in pieces (an `enter` larger than a page), kept until complete.
CREATE TABLE staging (
    case_id TEXT    NOT NULL,
    kind    INTEGER NOT NULL,
    total   INTEGER NOT NULL,
    bytes   BLOB    NOT NULL,
    PRIMARY KEY (case_id, kind)
) WITHOUT ROWID;

-- An attachment arriving in pieces.
CREATE TABLE blob_staging (
    hash  TEXT PRIMARY KEY,
    total INTEGER NOT NULL,
    bytes BLOB    NOT NULL
) WITHOUT ROWID;

-- Attachments the hub is known to hold.
CREATE TABLE blob_sent (
    hash TEXT PRIMARY KEY
) WITHOUT ROWID;

-- When the hub received each change made elsewhere (device time stays in the document).
CREATE TABLE receipts (
    hash        TEXT PRIMARY KEY,
    received_at INTEGER NOT NULL
) WITHOUT ROWID;
