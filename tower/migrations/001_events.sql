-- Canonical events, their keys exploded for lookup, and what the collector refused.

CREATE TABLE events (
    seq            BIGINT      NOT NULL,  -- ingest sequence: commit order, the correlator's watermark
    event_id       VARCHAR     NOT NULL,
    id_hash        UBIGINT     NOT NULL,  -- hash(event_id): a narrow column for the duplicate check
    occurred_at    TIMESTAMPTZ NOT NULL,
    received_at    TIMESTAMPTZ NOT NULL,
    source         VARCHAR     NOT NULL,
    system         VARCHAR     NOT NULL,
    facility       VARCHAR,
    type           VARCHAR     NOT NULL,
    object_type    VARCHAR     NOT NULL,
    keys           JSON        NOT NULL,
    correlation_id VARCHAR,
    status         VARCHAR     NOT NULL,
    error          VARCHAR,
    attributes     JSON        NOT NULL,
    related        JSON        NOT NULL
);

-- One row per key an event carries: its own keys (related_index NULL) and the keys of each
-- object it references (related_index = position in `related`). Lookup by any ID starts here.
CREATE TABLE event_keys (
    seq           BIGINT  NOT NULL,
    related_index INTEGER,
    object_type   VARCHAR NOT NULL,
    namespace     VARCHAR NOT NULL,
    value         VARCHAR NOT NULL
);

CREATE SEQUENCE event_reject_ids;

CREATE TABLE event_rejects (
    reject_id    BIGINT      NOT NULL DEFAULT nextval('event_reject_ids'),
    received_at  TIMESTAMPTZ NOT NULL,
    request_id   VARCHAR     NOT NULL,
    batch_index  INTEGER,              -- NULL when the whole body was unreadable
    line         INTEGER,              -- 1-based line of an NDJSON body
    reason       VARCHAR     NOT NULL,
    raw          VARCHAR     NOT NULL
);
