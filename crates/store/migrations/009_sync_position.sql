-- 同步进度: where this office stands in the hub's log, in typed columns. It was JSON in `meta`
-- (`sync.cursor`), where a damaged value silently read as "start again from zero"; a value
-- these columns cannot hold is now refused when written and reported when read. The cursor
-- stays opaque on the wire: the office converts it to and from this row. One row, or none
-- before the first page (the legacy `meta` value, if any, is read then and removed on the
-- first write).
CREATE TABLE sync_position (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL CHECK (seq >= 0),
    bootstrap_head INTEGER CHECK (bootstrap_head >= 0),
    bootstrap_after_case TEXT,
    bootstrap_after_kind INTEGER CHECK (bootstrap_after_kind BETWEEN 0 AND 3),
    partial_case TEXT,
    partial_kind INTEGER CHECK (partial_kind BETWEEN 0 AND 3),
    partial_heads TEXT,
    partial_offset INTEGER CHECK (partial_offset >= 0),
    CHECK ((bootstrap_after_case IS NULL) = (bootstrap_after_kind IS NULL)),
    CHECK (bootstrap_after_case IS NULL OR bootstrap_head IS NOT NULL),
    CHECK ((partial_case IS NULL) = (partial_kind IS NULL)),
    CHECK ((partial_case IS NULL) = (partial_heads IS NULL)),
    CHECK ((partial_case IS NULL) = (partial_offset IS NULL))
) STRICT;
