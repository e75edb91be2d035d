-- The county hub on PostgreSQL (issue 15): the same records as the SQLite file's migrations
-- 001-004, in one step. Never edit a migration that has shipped: add a new one.
--
-- Case ids are `uuid` (ordered by their bytes, as SQLite orders their text); every text the hub
-- sorts by is compared with COLLATE "C" so both backends list in the same order.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE offices (
    code       TEXT PRIMARY KEY,
    name       TEXT   NOT NULL,
    role       TEXT   NOT NULL,            -- township | bureau
    townships  TEXT[] NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE tokens (
    hash       TEXT PRIMARY KEY,
    office     TEXT   NOT NULL REFERENCES offices (code),
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    used_actor TEXT,
    device_id  TEXT
);

CREATE TABLE devices (
    id              TEXT PRIMARY KEY,
    office          TEXT   NOT NULL REFERENCES offices (code),
    name            TEXT   NOT NULL,
    actor           TEXT   NOT NULL,
    letter          TEXT   NOT NULL,
    credential_hash TEXT   NOT NULL UNIQUE,
    enrolled_at     BIGINT NOT NULL,
    revoked_at      BIGINT,
    last_sync       BIGINT,
    last_seq        BIGINT NOT NULL DEFAULT 0,
    pending         BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    skew_ms         BIGINT,
    public_key      TEXT
);
CREATE INDEX devices_office ON devices (office);
CREATE INDEX devices_actor ON devices (actor);

CREATE TABLE actors (
    actor  TEXT PRIMARY KEY,
    device TEXT NOT NULL REFERENCES devices (id),
    office TEXT NOT NULL
);
CREATE INDEX actors_device ON actors (device);

CREATE TABLE changes (
    hash        TEXT PRIMARY KEY,
    case_id     UUID     NOT NULL,
    kind        SMALLINT NOT NULL,
    device      TEXT     NOT NULL,
    received_at BIGINT   NOT NULL,
    bytes       BYTEA    NOT NULL
);
CREATE INDEX changes_case ON changes (case_id, kind);

CREATE TABLE docs (
    case_id  UUID     NOT NULL,
    kind     SMALLINT NOT NULL,
    snapshot BYTEA    NOT NULL,
    version  BIGINT   NOT NULL DEFAULT 0,
    PRIMARY KEY (case_id, kind)
);
CREATE TABLE doc_tail (
    id      BIGSERIAL PRIMARY KEY,
    case_id UUID     NOT NULL,
    kind    SMALLINT NOT NULL,
    hash    TEXT     NOT NULL
);
CREATE INDEX doc_tail_case ON doc_tail (case_id, kind);

CREATE TABLE cases (
    case_id    UUID PRIMARY KEY,
    township   TEXT,
    registrar  TEXT    NOT NULL,
    restricted BOOLEAN NOT NULL DEFAULT FALSE,
    facts      TEXT,
    updated_at BIGINT  NOT NULL
);
CREATE INDEX cases_township ON cases (township);

-- The hub log. `seq` comes from the sequence while the writer holds the log's ordering lock
-- (see postgres.rs), so rows become visible in the order of their numbers.
CREATE TABLE log (
    seq           BIGSERIAL PRIMARY KEY,
    kind          TEXT     NOT NULL,         -- change | enter | leave
    case_id       UUID     NOT NULL,
    doc_kind      SMALLINT NOT NULL DEFAULT 0,
    hash          TEXT,
    author_device TEXT,
    township      TEXT,
    registrar     TEXT,
    bureau_only   BOOLEAN  NOT NULL DEFAULT FALSE,
    target        TEXT,
    received_at   BIGINT   NOT NULL
);
CREATE INDEX log_target ON log (target, seq);
CREATE INDEX log_case ON log (case_id);

CREATE TABLE evictions (
    case_id      UUID   NOT NULL,
    office       TEXT   NOT NULL,
    device       TEXT   NOT NULL,
    confirmed_at BIGINT NOT NULL,
    PRIMARY KEY (case_id, device)
);

CREATE TABLE blobs (
    hash  TEXT PRIMARY KEY,
    size  BIGINT NOT NULL,
    bytes BYTEA  NOT NULL
);
CREATE TABLE blob_pieces (
    hash       TEXT   NOT NULL,
    "offset"   BIGINT NOT NULL,
    total      BIGINT NOT NULL,
    bytes      BYTEA  NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (hash, "offset")
);
CREATE TABLE blob_refs (
    hash    TEXT NOT NULL,
    case_id UUID NOT NULL,
    PRIMARY KEY (hash, case_id)
);
CREATE INDEX blob_refs_case ON blob_refs (case_id);

CREATE TABLE quarantine (
    id          BIGSERIAL PRIMARY KEY,
    hash        TEXT     NOT NULL,
    case_id     UUID     NOT NULL,
    kind        SMALLINT NOT NULL,
    device      TEXT     NOT NULL,
    office      TEXT     NOT NULL,
    rule        TEXT     NOT NULL,
    reason      TEXT     NOT NULL,
    received_at BIGINT   NOT NULL,
    bytes       BYTEA    NOT NULL
);
CREATE INDEX quarantine_device ON quarantine (device, id);

CREATE TABLE drops (
    id        UUID PRIMARY KEY,
    case_id   UUID   NOT NULL,
    office    TEXT   NOT NULL,
    merged_at BIGINT NOT NULL
);

CREATE TABLE number_series (
    office TEXT   NOT NULL,
    series TEXT   NOT NULL,
    next   BIGINT NOT NULL,
    PRIMARY KEY (office, series)
);
CREATE TABLE number_leases (
    id        BIGSERIAL PRIMARY KEY,
    office    TEXT   NOT NULL,
    series    TEXT   NOT NULL,
    device    TEXT   NOT NULL,
    first     BIGINT NOT NULL,
    last      BIGINT NOT NULL,
    leased_at BIGINT NOT NULL
);
CREATE INDEX number_leases_device ON number_leases (device, series, leased_at);

CREATE TABLE docs_set_aside (
    id       BIGSERIAL PRIMARY KEY,
    case_id  UUID     NOT NULL,
    kind     SMALLINT NOT NULL,
    snapshot BYTEA    NOT NULL,
    reason   TEXT     NOT NULL,
    at       BIGINT   NOT NULL
);
CREATE INDEX docs_set_aside_case ON docs_set_aside (case_id, kind);

CREATE TABLE purged (
    case_id   UUID PRIMARY KEY,
    office    TEXT   NOT NULL,
    purged_at BIGINT NOT NULL
);
