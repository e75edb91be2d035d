-- A document's version (bumped by every write to it, read before every judging and checked by
-- every commit) was a column added after the snapshot in the `docs` table, so SQLite reached
-- it only by walking the snapshot's overflow pages, and each bump rewrote the whole row,
-- snapshot and all (reading versions alone was 4 % of an upload's samples at the hub). The
-- versions now live in a table of their own, one short row a document, present exactly when
-- the document is.
CREATE TABLE doc_versions (
    case_id TEXT    NOT NULL,
    kind    INTEGER NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (case_id, kind)
) WITHOUT ROWID;
INSERT INTO doc_versions (case_id, kind, version) SELECT case_id, kind, version FROM docs;
ALTER TABLE docs DROP COLUMN version;
