-- Two-character search of the request text (issue 11). Chinese clerks search in two-character
-- words (耕地, 占地), which a trigram index cannot match. Each case's request text is indexed
-- as its distinct two-character pieces, one token each, in a second FTS5 table: a query of two
-- characters is then one token lookup, at any ledger size. Rows are written with the index
-- rows; existing stores fill this table on their next open (the projection version changed).
CREATE VIRTUAL TABLE search_pairs USING fts5 (pairs);
