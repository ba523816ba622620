-- Telemetry in its own tables: OpenTelemetry spans, log records (OTLP and log lines) and metric
-- points, with their resource and scope attributes. JSON documents are text (see 004).
-- derived_event_id is the event_id of the canonical event the record yielded (NULL: none), so a
-- journey's events lead to their spans and log lines.

CREATE TABLE spans (
    trace_id         VARCHAR     NOT NULL,  -- 32 lower-case hex digits
    span_id          VARCHAR     NOT NULL,  -- 16 lower-case hex digits
    parent_span_id   VARCHAR,
    trace_state      VARCHAR,
    flags            UINTEGER    NOT NULL,
    name             VARCHAR     NOT NULL,
    kind             VARCHAR     NOT NULL,  -- UNSPECIFIED INTERNAL SERVER CLIENT PRODUCER CONSUMER
    start_time       TIMESTAMPTZ,
    end_time         TIMESTAMPTZ,
    duration_ms      DOUBLE,
    status_code      VARCHAR     NOT NULL,  -- UNSET OK ERROR
    status_message   VARCHAR,
    service_name     VARCHAR,
    attributes       VARCHAR     NOT NULL,
    events           VARCHAR     NOT NULL,
    links            VARCHAR     NOT NULL,
    resource         VARCHAR     NOT NULL,
    scope_name       VARCHAR,
    scope_version    VARCHAR,
    scope_attributes VARCHAR     NOT NULL,
    derived_event_id VARCHAR,
    received_at      TIMESTAMPTZ NOT NULL,
    request_id       VARCHAR     NOT NULL
);

CREATE TABLE log_records (
    time             TIMESTAMPTZ NOT NULL,  -- the record's time, else observed, else received
    observed_time    TIMESTAMPTZ,
    source           VARCHAR,               -- the given source (log lines) or service.name
    severity_number  INTEGER     NOT NULL,  -- OTLP scale: 9 INFO, 13 WARN, 17 ERROR, 21 FATAL
    severity_text    VARCHAR,
    body             VARCHAR,               -- text, or JSON text for a structured OTLP body
    event_name       VARCHAR,
    trace_id         VARCHAR,
    span_id          VARCHAR,
    keys             VARCHAR     NOT NULL,  -- keys an extractor found: {"oms_order": "W-1001"}
    extractor        VARCHAR,               -- the extractor that read the line; 'otlp'; NULL: none
    attributes       VARCHAR     NOT NULL,
    resource         VARCHAR     NOT NULL,
    scope_name       VARCHAR,
    scope_version    VARCHAR,
    scope_attributes VARCHAR     NOT NULL,
    derived_event_id VARCHAR,
    received_at      TIMESTAMPTZ NOT NULL,
    request_id       VARCHAR     NOT NULL
);

CREATE TABLE metric_points (
    name             VARCHAR     NOT NULL,
    kind             VARCHAR     NOT NULL,  -- gauge sum histogram exponential_histogram summary
    time             TIMESTAMPTZ NOT NULL,
    start_time       TIMESTAMPTZ,
    value            DOUBLE,                -- gauge and sum points
    description      VARCHAR,
    unit             VARCHAR,
    data             VARCHAR     NOT NULL,  -- count, sum, buckets, quantiles, temporality ...
    attributes       VARCHAR     NOT NULL,
    service_name     VARCHAR,
    resource         VARCHAR     NOT NULL,
    scope_name       VARCHAR,
    scope_version    VARCHAR,
    scope_attributes VARCHAR     NOT NULL,
    received_at      TIMESTAMPTZ NOT NULL,
    request_id       VARCHAR     NOT NULL
);
