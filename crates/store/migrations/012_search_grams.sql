-- One search table instead of two (the trigram `search` and the two-character `search_pairs`):
-- each case's numbers, names, village and request text as their two-character pieces in order,
-- one token each (`index::grams`), so a query's pieces as a phrase match exactly where the
-- query is a substring, from two characters up. Contentless (the texts are in the documents;
-- an identity's names are no longer kept a second time as text) with deletes allowed, and the
-- `ascii` tokenizer, which keeps every non-ASCII character inside a token: writing a pull's
-- search rows costs a seventh of what the two tables cost (BENCHMARKS.md, bootstrap). The
-- rows are written again on the next open (the projection version changed).
DROP TABLE search;
DROP TABLE search_pairs;
DROP TABLE search_backlog;
CREATE VIRTUAL TABLE search USING fts5 (
    grams,
    content = '',
    contentless_delete = 1,
    tokenize = 'ascii'
);
-- 待建搜索, as before (011_search_backlog.sql): a pull's search rows until they move in one pass.
CREATE TABLE search_backlog (
    id    INTEGER PRIMARY KEY,
    grams TEXT NOT NULL
);
