-- The correlator's tables: identity graph, journeys, their events and links.

-- Every key that names an object: (object type, namespace, value) -> the journey of that object.
CREATE TABLE identity (
    object_type VARCHAR NOT NULL,
    namespace   VARCHAR NOT NULL,
    value       VARCHAR NOT NULL,
    journey_id  BIGINT  NOT NULL
);

-- Which events are a journey's own (the event's `keys` name its object).
CREATE TABLE journey_events (
    journey_id BIGINT NOT NULL,
    seq        BIGINT NOT NULL
);

-- An event of journey `from_journey` referenced journey `to_journey` in its `related` list
-- (a shipment referencing the orders it carries). Links, never merges.
CREATE TABLE journey_links (
    from_journey BIGINT NOT NULL,
    to_journey   BIGINT NOT NULL
);

CREATE TABLE journeys (
    journey_id       BIGINT      NOT NULL,
    kind             VARCHAR     NOT NULL,
    label            VARCHAR     NOT NULL,  -- the preferred key, e.g. oms_order:W-1001
    keys             JSON        NOT NULL,  -- every alias: {"oms_order": ["W-1001"], ...}
    stage            VARCHAR,
    stage_entered_at TIMESTAMPTZ,
    started_at       TIMESTAMPTZ NOT NULL,
    last_event_at    TIMESTAMPTZ NOT NULL,
    state            VARCHAR     NOT NULL,  -- open | done | failed; status adds time
    next_stage       VARCHAR,
    next_due_at      TIMESTAMPTZ,
    at_risk_at       TIMESTAMPTZ,
    error_open       BOOLEAN     NOT NULL,
    facility         VARCHAR,
    customer         VARCHAR,
    channel          VARCHAR,
    value            DOUBLE,
    currency         VARCHAR,
    systems          VARCHAR[]   NOT NULL,
    sources          VARCHAR[]   NOT NULL,
    event_count      INTEGER     NOT NULL,
    anomaly_count    INTEGER     NOT NULL,
    anomaly_kinds    VARCHAR[]   NOT NULL,
    history          JSON        NOT NULL,
    anomalies        JSON        NOT NULL,
    updated_seq      BIGINT      NOT NULL   -- the watermark when this row was last rebuilt
);

CREATE TABLE correlator_state (
    name  VARCHAR PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO correlator_state VALUES ('watermark', 0), ('next_journey_id', 1);
