-- Exceptions (docs/exceptions.md): failures grouped by cause, with an owner and a workflow;
-- each failure seen (an error event, a dead-lettered message) is an occurrence; dead letters
-- as the broker last showed them; replays of dead letters, claimed once per message.
-- Tables whose rows are rewritten (exceptions, dead_letters) have no keys: DuckDB rewrites a
-- keyed row as delete + insert and can refuse it within one transaction. JSON is text (004).

CREATE SEQUENCE exception_ids;

CREATE TABLE exceptions (
    exception_id    BIGINT      NOT NULL DEFAULT nextval('exception_ids'),
    group_key       VARCHAR     NOT NULL,  -- hash of origin, source, where and normalised error
    origin          VARCHAR     NOT NULL,  -- dead_letter | error_event | reject | alert
    category        VARCHAR     NOT NULL,  -- technical | business
    domain          VARCHAR     NOT NULL,  -- order | inventory | shipment | finance | partner
    severity        VARCHAR     NOT NULL,  -- critical | high | medium | low
    owner           VARCHAR     NOT NULL,  -- the team, from the routing rules or an assignment
    assignee        VARCHAR,               -- a person in the owner team
    rule            VARCHAR,               -- the routing rule that chose the owner (NULL: default)
    status          VARCHAR     NOT NULL,  -- open | acknowledged | in_progress | resolved | replayed
    title           VARCHAR     NOT NULL,
    source          VARCHAR     NOT NULL,
    place           VARCHAR,               -- the dead-letter queue, or the event type
    facility        VARCHAR,
    partner         VARCHAR,
    error           VARCHAR     NOT NULL,  -- the latest occurrence's error text
    occurrences     BIGINT      NOT NULL,
    first_seen_at   TIMESTAMPTZ NOT NULL,
    last_seen_at    TIMESTAMPTZ NOT NULL,
    acknowledged_at TIMESTAMPTZ,           -- first acknowledgement (time to acknowledge)
    resolved_at     TIMESTAMPTZ,           -- latest resolution; NULL again once it reopens
    updated_at      TIMESTAMPTZ NOT NULL
);

-- One row per failure seen; ref is unique per failure (event:<seq>, dl:<message>:<deaths>).
CREATE TABLE exception_occurrences (
    exception_id   BIGINT      NOT NULL,
    ref            VARCHAR     NOT NULL,
    occurred_at    TIMESTAMPTZ NOT NULL,
    recorded_at    TIMESTAMPTZ NOT NULL,
    error          VARCHAR     NOT NULL,
    correlation_id VARCHAR,
    detail         VARCHAR     NOT NULL   -- JSON: the event or dead letter's identifying fields
);

-- Business keys of each occurrence: the link to journeys through the identity table.
CREATE TABLE exception_keys (
    exception_id BIGINT  NOT NULL,
    ref          VARCHAR NOT NULL,
    namespace    VARCHAR NOT NULL,
    value        VARCHAR NOT NULL
);

CREATE SEQUENCE exception_history_ids;

-- Everything that happened to an exception: opened, reopened, ack, assign, comment, status,
-- replay planned, replayed. Comments are history entries with action = 'comment'.
CREATE TABLE exception_history (
    history_id   BIGINT      NOT NULL DEFAULT nextval('exception_history_ids'),
    exception_id BIGINT      NOT NULL,
    happened_at  TIMESTAMPTZ NOT NULL,
    actor        VARCHAR     NOT NULL,  -- a person, or 'tower' for what the jobs did
    action       VARCHAR     NOT NULL,
    from_status  VARCHAR,
    to_status    VARCHAR,
    detail       VARCHAR     NOT NULL   -- JSON
);

-- Dead-lettered messages as the broker last showed them (read with requeue, never consumed).
CREATE TABLE dead_letters (
    message_ref      VARCHAR     NOT NULL,  -- this copy: hash of broker, vhost, queue, message
                                            -- id and death count (a later death is a new copy)
    claim_ref        VARCHAR     NOT NULL,  -- the message: hash of broker, vhost and message id
    broker           VARCHAR     NOT NULL,  -- management API base URL, without credentials
    vhost            VARCHAR     NOT NULL,
    queue            VARCHAR     NOT NULL,  -- the dead-letter queue
    message_id       VARCHAR     NOT NULL,  -- the message's own id, else a hash of its content
    correlation_id   VARCHAR,
    exchange         VARCHAR     NOT NULL,  -- where it was first published ('' the default)
    routing_key      VARCHAR     NOT NULL,
    from_queue       VARCHAR,               -- the queue that dead-lettered it
    reason           VARCHAR     NOT NULL,  -- rejected | expired | maxlen | delivery_limit
    deaths           BIGINT      NOT NULL,  -- x-death count
    died_at          TIMESTAMPTZ,
    properties       VARCHAR     NOT NULL,  -- JSON: AMQP properties (headers included)
    payload          VARCHAR     NOT NULL,
    payload_encoding VARCHAR     NOT NULL,  -- string | base64
    keys             VARCHAR     NOT NULL,  -- JSON: business keys from headers and body
    exception_id     BIGINT      NOT NULL,
    first_seen_at    TIMESTAMPTZ NOT NULL,
    last_seen_at     TIMESTAMPTZ NOT NULL,
    present          BOOLEAN     NOT NULL,  -- in the queue at the last poll
    removed_at       TIMESTAMPTZ            -- taken out of the queue by the tower after replay
);

-- At most once: a message is claimed here before it is published; a claim is never taken twice.
CREATE TABLE replay_claims (
    message_ref VARCHAR     PRIMARY KEY,  -- dead_letters.claim_ref
    replay_id   VARCHAR     NOT NULL,
    claimed_at  TIMESTAMPTZ NOT NULL
);

-- The audit of replays: each plan, and each message's outcome.
CREATE TABLE replay_plans (
    token        VARCHAR     NOT NULL,
    exception_id BIGINT      NOT NULL,
    message_refs VARCHAR     NOT NULL,  -- JSON list
    planned_by   VARCHAR     NOT NULL,
    planned_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    confirmed_by VARCHAR,
    confirmed_at TIMESTAMPTZ
);

CREATE TABLE replays (
    replay_id    VARCHAR     NOT NULL,
    token        VARCHAR     NOT NULL,
    exception_id BIGINT      NOT NULL,
    message_ref  VARCHAR     NOT NULL,
    message_id   VARCHAR     NOT NULL,
    exchange     VARCHAR     NOT NULL,
    routing_key  VARCHAR     NOT NULL,
    outcome      VARCHAR     NOT NULL,  -- published | unroutable | failed | already_replayed
    error        VARCHAR,
    replayed_by  VARCHAR     NOT NULL,
    replayed_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE exceptions_state (
    name  VARCHAR PRIMARY KEY,
    value BIGINT  NOT NULL
);
INSERT INTO exceptions_state VALUES ('event_watermark', 0);
