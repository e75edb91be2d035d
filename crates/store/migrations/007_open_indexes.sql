-- What a store reads when it opens, made small: every page read costs a decryption once the
-- store is encrypted.
--
-- The county's rules document is found by its kind. Without an index on `kind` that lookup read
-- the whole key index of `docs` (two entries a case): 6 ms at every start of a 20,000-case store,
-- and more once encrypted.
CREATE INDEX docs_kind ON docs (kind);

-- The first page counts every case not being removed (`demo < 2`). The narrowest index holding
-- `demo` was `cases_township` (270 pages at 20,000 cases); this one is a tenth of that.
CREATE INDEX cases_demo ON cases (demo);
