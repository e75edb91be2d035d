-- Demo data purged at the bureau's request (issue 11): the one deletion the hub performs, and
-- only of cases created as demo data. The tombstone refuses anything later sent for the case,
-- so an office that was offline cannot bring it back.
CREATE TABLE purged (
    case_id   TEXT    PRIMARY KEY,
    office    TEXT    NOT NULL,   -- the bureau that asked
    purged_at INTEGER NOT NULL
) WITHOUT ROWID;
