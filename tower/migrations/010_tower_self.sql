-- The tower watching itself (tower/selfobs): each scheduled job's last run and last success,
-- and a small history of the tower's own figures for the on-call page's "Tower" panel.

CREATE TABLE tower_jobs (
    name             VARCHAR     PRIMARY KEY,  -- the scheduler job id: correlate, sla_alerts, ...
    interval_seconds DOUBLE      NOT NULL,     -- how often it is meant to run
    registered_at    TIMESTAMPTZ NOT NULL,     -- when this process scheduled it
    last_started     TIMESTAMPTZ,
    last_finished    TIMESTAMPTZ,
    last_success     TIMESTAMPTZ,
    last_duration    DOUBLE,                   -- seconds, of the last run that finished
    runs             BIGINT      NOT NULL DEFAULT 0,
    failures         BIGINT      NOT NULL DEFAULT 0,
    last_error       VARCHAR                   -- the last failure's message; NULL once it succeeds
);

-- Long and narrow: a new figure needs no migration. Samples older than the retention are
-- deleted by the job that writes them.
CREATE TABLE tower_samples (
    sampled_at TIMESTAMPTZ NOT NULL,
    metric     VARCHAR     NOT NULL,
    value      DOUBLE      NOT NULL
);
