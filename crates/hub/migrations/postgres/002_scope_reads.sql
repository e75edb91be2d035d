-- A township device's first pull reads its own cases, not the county's (issue 15; SQLite's
-- 005_scope_reads.sql says why): the county's rules documents by kind, and "did another
-- device write this document" from an index alone.
CREATE INDEX docs_kind ON docs (kind);
CREATE INDEX changes_case_device ON changes (case_id, kind, device);
