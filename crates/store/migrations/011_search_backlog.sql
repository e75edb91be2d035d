-- 待建搜索: search rows a pull from the hub has written but the two FTS5 tables have not taken
-- yet. FTS5 writes its pending terms out as a new segment at every commit and merges the
-- segments again and again; a bootstrap committing a page at a time spent a quarter of its
-- time there. A page from the hub writes its cases' search texts here (keyed by `cases.id`,
-- the latest text wins) and the pull's last page moves them all in one pass; a text search
-- made before then moves them first, so no search misses a case.
CREATE TABLE search_backlog (
    id      INTEGER PRIMARY KEY,
    number  TEXT NOT NULL,
    names   TEXT NOT NULL,
    village TEXT NOT NULL,
    request TEXT NOT NULL,
    pairs   TEXT NOT NULL
);
