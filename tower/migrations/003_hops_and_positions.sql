-- Stage-to-stage hops of every journey (for lag percentiles and the process map), and the
-- latest stock position each source reported per SKU and facility (for drift).

CREATE TABLE journey_hops (
    journey_id      BIGINT      NOT NULL,
    kind            VARCHAR     NOT NULL,
    facility        VARCHAR,
    from_stage      VARCHAR,
    stage           VARCHAR     NOT NULL,
    from_system     VARCHAR,
    system          VARCHAR     NOT NULL,
    entered_at      TIMESTAMPTZ NOT NULL,
    latency_seconds DOUBLE
);

CREATE TABLE inventory_positions (
    sku         VARCHAR     NOT NULL,
    facility    VARCHAR     NOT NULL,
    source      VARCHAR     NOT NULL,
    system      VARCHAR     NOT NULL,
    on_hand     DOUBLE      NOT NULL,
    reported_at TIMESTAMPTZ NOT NULL,
    seq         BIGINT      NOT NULL,
    PRIMARY KEY (sku, facility, source)
);
