-- Service levels and alerts: the last evaluation of each SLA, alerts with their lifecycle and
-- history, silences, notification groups, and notifications with every delivery attempt.
-- No primary keys on rows that are rewritten each cycle: they are replaced by delete + insert.

CREATE TABLE sla_status (
    name         VARCHAR     NOT NULL,  -- the SLA or SLO
    kind         VARCHAR     NOT NULL,
    evaluated_at TIMESTAMPTZ NOT NULL,
    breaches     INTEGER     NOT NULL,
    skipped      VARCHAR,               -- why it was not judged (e.g. no queue samples yet)
    detail       VARCHAR     NOT NULL   -- JSON: the breaches, or the SLO's burn rates
);

CREATE TABLE alerts (
    fingerprint         VARCHAR     NOT NULL,  -- Alertmanager's: FNV-1a of the sorted labels
    alertname           VARCHAR     NOT NULL,
    labels              VARCHAR     NOT NULL,  -- JSON object
    annotations         VARCHAR     NOT NULL,  -- JSON object
    state               VARCHAR     NOT NULL,  -- pending | firing | resolved | inactive
    active_at           TIMESTAMPTZ NOT NULL,  -- breaching since (this episode)
    starts_at           TIMESTAMPTZ,           -- fired at
    ends_at             TIMESTAMPTZ,           -- resolved at
    last_seen_at        TIMESTAMPTZ NOT NULL,  -- last evaluation that saw the breach
    value               DOUBLE,
    threshold           DOUBLE,
    affected            BIGINT,
    amount              DOUBLE,
    currency            VARCHAR,
    summary             VARCHAR     NOT NULL,
    link                VARCHAR,
    for_seconds         DOUBLE      NOT NULL,
    keep_firing_seconds DOUBLE      NOT NULL,
    owner               VARCHAR,
    acked_by            VARCHAR,
    acked_at            TIMESTAMPTZ,
    ack_comment         VARCHAR,
    updated_at          TIMESTAMPTZ NOT NULL
);

CREATE SEQUENCE alert_history_ids;

CREATE TABLE alert_history (
    history_id  BIGINT      NOT NULL DEFAULT nextval('alert_history_ids'),
    happened_at TIMESTAMPTZ NOT NULL,
    fingerprint VARCHAR,               -- NULL for a group's notification
    alertname   VARCHAR,
    event       VARCHAR     NOT NULL,  -- state | ack | notification | delivery
    from_state  VARCHAR,
    to_state    VARCHAR,
    detail      VARCHAR     NOT NULL
);

CREATE TABLE silences (
    silence_id VARCHAR     NOT NULL,
    matchers   VARCHAR     NOT NULL,  -- JSON list of {name, op, value}
    starts_at  TIMESTAMPTZ NOT NULL,
    ends_at    TIMESTAMPTZ NOT NULL,
    created_by VARCHAR     NOT NULL,
    comment    VARCHAR     NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE alert_groups (
    group_key        VARCHAR     NOT NULL,
    receiver         VARCHAR     NOT NULL,
    group_labels     VARCHAR     NOT NULL,  -- JSON object
    settings         VARCHAR     NOT NULL,  -- JSON: group_wait, group_interval, repeat_interval
    created_at       TIMESTAMPTZ NOT NULL,
    next_flush_at    TIMESTAMPTZ NOT NULL,
    last_notified_at TIMESTAMPTZ,
    notified_firing  VARCHAR     NOT NULL,  -- JSON list: fingerprints firing at the last notice
    notified_resolved VARCHAR    NOT NULL   -- JSON list: fingerprints announced resolved
);

CREATE SEQUENCE notification_ids;

CREATE TABLE notifications (
    notification_id BIGINT      NOT NULL DEFAULT nextval('notification_ids'),
    group_key       VARCHAR     NOT NULL,
    receiver        VARCHAR     NOT NULL,
    integration     VARCHAR     NOT NULL,  -- webhook | slack | email | alertmanager
    target          VARCHAR     NOT NULL,  -- JSON: the integration's settings
    created_at      TIMESTAMPTZ NOT NULL,
    status          VARCHAR     NOT NULL,  -- pending | sent | failed
    attempts        INTEGER     NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ,
    last_error      VARCHAR,
    payload         VARCHAR     NOT NULL   -- JSON: the version-4 webhook message
);

CREATE TABLE delivery_attempts (
    notification_id BIGINT      NOT NULL,
    attempt         INTEGER     NOT NULL,
    attempted_at    TIMESTAMPTZ NOT NULL,
    ok              BOOLEAN     NOT NULL,
    status_code     INTEGER,
    error           VARCHAR
);
