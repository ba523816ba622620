-- Queue metrics: one row per queue per sample, from the RabbitMQ management API poller, a
-- Prometheus scrape (RabbitMQ's plugin, Kafka consumer-group lag) or POST /api/v1/queues/samples.
-- The SLA engine reads (queue, sampled_at, depth, oldest_age_seconds) (sla/sql/queue_depth.sql).
-- JSON documents are text (see 004).

CREATE TABLE queue_samples (
    sampled_at         TIMESTAMPTZ NOT NULL,  -- when the broker was asked (or the given time)
    broker             VARCHAR     NOT NULL,  -- the broker or cluster, e.g. rabbit@mq-1, kafka.prod
    vhost              VARCHAR     NOT NULL,  -- RabbitMQ virtual host; '' where there is none
    queue              VARCHAR     NOT NULL,  -- queue name; Kafka: <consumer group>/<topic>
    depth              BIGINT      NOT NULL,  -- messages in the queue (Kafka: consumer lag)
    ready              BIGINT,
    unacked            BIGINT,
    consumers          INTEGER,
    publish_rate       DOUBLE,                -- messages per second, as the broker reports it
    deliver_rate       DOUBLE,
    oldest_age_seconds DOUBLE,                -- age of the message at the head, where known
    dead_letter        BOOLEAN     NOT NULL,  -- a dead-letter queue (by arguments or by name)
    origin             VARCHAR     NOT NULL,  -- rabbitmq | prometheus | api
    attributes         VARCHAR     NOT NULL,  -- JSON object: queue type, node, arguments ...
    received_at        TIMESTAMPTZ NOT NULL
);
