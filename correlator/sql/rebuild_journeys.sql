-- The journey rules (correlator/rules.py states them, event by event) applied to every touched
-- journey at once. In: touched(journey_id); the models as model_journeys, model_stages and
-- model_event_types (correlator/rebuild.py). Out: the temp tables rebuilt_journeys (rows for
-- `journeys`) and rebuilt_hops (rows for `journey_hops`).

-- orjson's form of a UTC datetime, as rules.py's JSON has it
CREATE OR REPLACE TEMP MACRO rules_iso(ts) AS
    replace(strftime(timezone('UTC', ts), '%Y-%m-%dT%H:%M:%S.%f'), '.000000', '') || '+00:00';

-- Texts joined in the order of their keys. A sorted list is 3x faster than an ordered aggregate.
CREATE OR REPLACE TEMP MACRO rules_ordered(pairs) AS
    list_transform(list_sort(pairs), p -> p.text);

-- tower/durations.py format_duration: the two largest non-zero units, or milliseconds.
CREATE OR REPLACE TEMP MACRO rules_duration(s) AS CASE
    WHEN s < 1 THEN round_even(s * 1000, 0)::BIGINT || 'ms'
    ELSE array_to_string(list_filter([
        CASE WHEN floor(s / 86400) > 0 THEN floor(s / 86400)::BIGINT || 'd' END,
        CASE WHEN floor((s % 86400) / 3600) > 0 THEN floor((s % 86400) / 3600)::BIGINT || 'h' END,
        CASE WHEN floor((s % 3600) / 60) > 0 THEN floor((s % 3600) / 60)::BIGINT || 'm' END,
        CASE WHEN floor(s % 60) > 0 THEN floor(s % 60)::BIGINT || 's' END
    ], p -> p IS NOT NULL)[1:2], ' ')
END;

-- Every event a touched journey is built from, in time order (pos), with what the rules derive
-- from the events before it.
CREATE OR REPLACE TEMP TABLE rebuild_events AS
WITH journey_type AS (
    SELECT i.journey_id, any_value(i.object_type) AS object_type
    FROM identity AS i JOIN touched AS t USING (journey_id)
    GROUP BY i.journey_id
),
linked AS (
    SELECT DISTINCT l.to_journey AS journey_id, l.from_journey AS via
    FROM journey_links AS l JOIN touched AS t ON t.journey_id = l.to_journey
),
members AS (
    SELECT je.journey_id, NULL::BIGINT AS via, je.seq
    FROM journey_events AS je JOIN touched AS t USING (journey_id)
    UNION ALL
    SELECT linked.journey_id, linked.via, je.seq
    FROM linked JOIN journey_events AS je ON je.journey_id = linked.via
),
-- An included journey's event counts only if the model includes its object type.
events_in AS (
    SELECT m.journey_id, jt.object_type AS journey_type, m.via, e.seq, e.occurred_at,
        e.source, e.system, e.type, e.object_type, e.status, e.error, e.facility,
        nullif(e.attributes ->> '$.customer', '') AS customer,
        nullif(e.attributes ->> '$.channel', '') AS channel,
        nullif(e.attributes ->> '$.value', '') AS value,
        nullif(e.attributes ->> '$.currency', '') AS currency,
        s.stage, coalesce(ms.rank, -1) AS rank,
        s.stage IS NOT NULL AND e.status <> 'error' AS moves
    FROM members AS m
    JOIN journey_type AS jt USING (journey_id)
    JOIN events AS e USING (seq)
    LEFT JOIN model_journeys AS mj ON mj.object_type = jt.object_type
    LEFT JOIN model_event_types AS s ON s.object_type = jt.object_type AND s.type = e.type
    LEFT JOIN model_stages AS ms ON ms.object_type = jt.object_type AND ms.stage = s.stage
    WHERE m.via IS NULL OR list_contains(mj.includes, e.object_type)
),
walked AS (
    SELECT *,
        row_number() OVER by_time AS pos,
        -- the highest main-line stage reached before this event
        coalesce(max(rank) FILTER (WHERE moves) OVER before_time, -1) AS best_before,
        -- something that happened later arrived (by seq) before this event: out of order
        max(occurred_at) OVER before_seq AS latest_before
    FROM events_in
    WINDOW by_time AS (PARTITION BY journey_id ORDER BY occurred_at, seq),
        before_time AS (PARTITION BY journey_id ORDER BY occurred_at, seq
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
        before_seq AS (PARTITION BY journey_id ORDER BY seq
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
)
-- A move to a stage below one already passed is ignored (or a regression, see below).
SELECT *, moves AND (rank < 0 OR rank >= best_before) AS accepted
FROM walked;

-- The stage history: the first entry into each stage, and the hop that led there.
CREATE OR REPLACE TEMP TABLE rebuild_visits AS
SELECT journey_id, journey_type, pos, stage, rank, occurred_at AS entered_at, system, source, seq,
    lag(stage) OVER hop AS from_stage,
    lag(system) OVER hop AS from_system,
    (epoch_us(occurred_at) - epoch_us(lag(occurred_at) OVER hop)) / 1e6 AS latency_seconds
FROM (
    SELECT *, row_number() OVER (PARTITION BY journey_id, stage ORDER BY pos) AS nth
    FROM rebuild_events WHERE accepted
)
WHERE nth = 1
WINDOW hop AS (PARTITION BY journey_id ORDER BY pos);

CREATE OR REPLACE TEMP TABLE rebuild_anomalies AS
WITH bounds AS (
    SELECT journey_id, any_value(journey_type) AS journey_type,
        min(rank) FILTER (WHERE rank >= 0) AS low, max(rank) AS high
    FROM rebuild_visits GROUP BY journey_id
),
missing AS (
    SELECT b.journey_id, ms.stage, ms.rank
    FROM bounds AS b
    JOIN model_stages AS ms
        ON ms.object_type = b.journey_type AND ms.rank > b.low AND ms.rank < b.high
    WHERE NOT ms.optional
        AND NOT EXISTS (
            SELECT 1 FROM rebuild_visits AS v
            WHERE v.journey_id = b.journey_id AND v.stage = ms.stage
        )
),
skipped AS (
    -- reported at the first stage reached beyond the missing one
    SELECT m.journey_id, m.stage AS missing, m.rank AS missing_rank,
        arg_min({'stage': v.stage, 'entered_at': v.entered_at, 'seq': v.seq}, v.pos) AS after
    FROM missing AS m
    JOIN rebuild_visits AS v ON v.journey_id = m.journey_id AND v.rank > m.rank
    GROUP BY ALL
)
SELECT o.journey_id, 'out_of_order' AS kind, o.occurred_at AS happened_at, o.seq AS ord,
    o.type || ' arrived after ' || arg_min(l.type, l.seq) || ', which happened '
        || rules_duration((epoch_us(o.latest_before) - epoch_us(o.occurred_at)) / 1e6)
        || ' later' AS detail,
    o.seq
FROM rebuild_events AS o
-- the later event it arrived after: the first to arrive of those that happened latest
JOIN rebuild_events AS l
    ON l.journey_id = o.journey_id AND l.occurred_at = o.latest_before AND l.seq < o.seq
WHERE o.occurred_at < o.latest_before
GROUP BY o.journey_id, o.occurred_at, o.seq, o.type, o.latest_before
UNION ALL
-- the same step (type, source, via) again with the status of its first report
SELECT e.journey_id, 'duplicate', e.occurred_at, e.pos,
    e.type || ' from ' || e.source || ' again (first at '
        || strftime(timezone('UTC', f.first_at), '%Y-%m-%d %H:%M:%S') || 'Z)',
    e.seq
FROM rebuild_events AS e
JOIN (
    SELECT journey_id, type, source, via, min(pos) AS first_pos,
        arg_min(status, pos) AS first_status, min(occurred_at) AS first_at
    FROM rebuild_events GROUP BY ALL HAVING count(*) > 1
) AS f
    ON f.journey_id = e.journey_id AND f.type = e.type AND f.source = e.source
    AND f.via IS NOT DISTINCT FROM e.via
WHERE e.pos > f.first_pos AND e.status = f.first_status
UNION ALL
SELECT journey_id, 'error', occurred_at, pos,
    type || ' from ' || source || ': ' || coalesce(nullif(error, ''), 'error'), seq
FROM rebuild_events WHERE status = 'error'
UNION ALL
-- a move below a stage already passed, into a stage not reached before it
SELECT r.journey_id, 'regression', r.occurred_at, r.pos,
    r.type || ' moved ' || arg_max(before.stage, before.pos) || ' back to ' || r.stage, r.seq
FROM rebuild_events AS r
JOIN rebuild_events AS before
    ON before.journey_id = r.journey_id AND before.accepted AND before.pos < r.pos
WHERE r.moves AND r.rank >= 0 AND r.rank < r.best_before
    AND NOT EXISTS (
        SELECT 1 FROM rebuild_visits AS v
        WHERE v.journey_id = r.journey_id AND v.stage = r.stage AND v.pos < r.pos
    )
GROUP BY r.journey_id, r.occurred_at, r.pos, r.type, r.stage, r.seq
UNION ALL
SELECT journey_id, 'skipped_stage', after.entered_at, missing_rank,
    'reached ' || after.stage || ' without ' || missing, after.seq
FROM skipped;

CREATE OR REPLACE TEMP TABLE rebuilt_journeys AS
WITH aliases AS (
    SELECT i.journey_id, i.namespace, list(i.value ORDER BY i.value) AS "values",
        -- the label is the first of the model's preferred namespaces, else the first alias
        coalesce(list_position(any_value(mj.label), i.namespace), 1000) AS preference
    FROM identity AS i
    JOIN touched AS t USING (journey_id)
    LEFT JOIN model_journeys AS mj ON mj.object_type = i.object_type
    GROUP BY i.journey_id, i.namespace
),
keyed AS (
    SELECT journey_id,
        '{' || array_to_string(rules_ordered(list({
            'namespace': namespace, 'text': to_json(namespace) || ':' || to_json("values")
        })), ',') || '}' AS keys,
        arg_min(namespace || ':' || "values"[1], (preference, namespace)) AS label
    FROM aliases GROUP BY journey_id
),
systems AS (
    SELECT journey_id, rules_ordered(list({'pos': first_pos, 'text': system})) AS systems
    FROM (SELECT journey_id, system, min(pos) AS first_pos FROM rebuild_events GROUP BY ALL)
    GROUP BY journey_id
),
summary AS (
    SELECT journey_id, any_value(journey_type) AS journey_type,
        bool_or(via IS NULL) AS has_own,
        count(*) AS event_count,
        min(occurred_at) AS started_at,
        max(occurred_at) AS last_event_at,
        list_sort(list_distinct(list(source))) AS sources,
        arg_max(stage, pos) FILTER (WHERE accepted) AS stage,
        max(rank) FILTER (WHERE moves) AS best,
        -- own events describe the journey; included ones only when it has none of its own
        arg_max(status, pos) FILTER (WHERE via IS NULL) AS own_last_status,
        arg_max(status, pos) AS last_status,
        arg_min(facility, pos) FILTER (WHERE via IS NULL AND facility <> '') AS own_facility,
        arg_min(facility, pos) FILTER (WHERE facility <> '') AS any_facility,
        arg_max(customer, pos) FILTER (WHERE via IS NULL AND customer IS NOT NULL) AS own_customer,
        arg_max(customer, pos) FILTER (WHERE customer IS NOT NULL) AS any_customer,
        arg_max(channel, pos) FILTER (WHERE via IS NULL AND channel IS NOT NULL) AS own_channel,
        arg_max(channel, pos) FILTER (WHERE channel IS NOT NULL) AS any_channel,
        arg_max(value, pos) FILTER (WHERE via IS NULL AND value IS NOT NULL) AS own_value,
        arg_max(value, pos) FILTER (WHERE value IS NOT NULL) AS any_value,
        arg_max(currency, pos) FILTER (WHERE via IS NULL AND currency IS NOT NULL) AS own_currency,
        arg_max(currency, pos) FILTER (WHERE currency IS NOT NULL) AS any_currency
    FROM rebuild_events GROUP BY journey_id
),
entered AS (
    -- the current stage was entered where the last run of moves into it began
    SELECT journey_id, max(occurred_at) FILTER (WHERE starts_run) AS stage_entered_at
    FROM (
        SELECT journey_id, occurred_at,
            stage IS DISTINCT FROM lag(stage) OVER (PARTITION BY journey_id ORDER BY pos)
                AS starts_run
        FROM rebuild_events WHERE accepted
    )
    GROUP BY journey_id
),
history AS (
    SELECT journey_id, '[' || array_to_string(rules_ordered(list({'pos': pos, 'text': to_json({
        'stage': stage, 'entered_at': rules_iso(entered_at), 'system': system, 'source': source,
        'seq': seq, 'from_stage': from_stage, 'from_system': from_system,
        'latency_seconds': latency_seconds
    })})), ',') || ']' AS history
    FROM rebuild_visits GROUP BY journey_id
),
anomalies AS (
    SELECT journey_id, count(*) AS anomaly_count,
        list_sort(list_distinct(list(kind))) AS anomaly_kinds,
        '[' || array_to_string(rules_ordered(list({
            'at': happened_at, 'kind': kind, 'ord': ord, 'text': to_json({
                'kind': kind, 'at': rules_iso(happened_at), 'detail': detail, 'seq': seq
            })
        })), ',') || ']' AS anomalies
    FROM rebuild_anomalies GROUP BY journey_id
),
staged AS (
    SELECT s.*, e.stage_entered_at, mj.kind AS model_kind,
        mj.at_risk_after, mj.done_rank, cur.rank AS stage_rank, cur.failed, cur.final,
        cur.done_at, cur.next_within_us, cur.next_stage AS following,
        CASE
            WHEN cur.failed THEN 'failed'
            WHEN cur.final OR cur.done_at THEN 'done'
            WHEN mj.done_rank IS NOT NULL AND s.best >= mj.done_rank AND cur.rank >= 0
                THEN 'done'
            ELSE 'open'
        END AS state
    FROM summary AS s
    LEFT JOIN entered AS e USING (journey_id)
    LEFT JOIN model_journeys AS mj ON mj.object_type = s.journey_type
    LEFT JOIN model_stages AS cur ON cur.object_type = s.journey_type AND cur.stage = s.stage
)
SELECT st.journey_id,
    coalesce(st.model_kind, st.journey_type) AS kind,
    k.label, k.keys,
    st.stage, st.stage_entered_at, st.started_at, st.last_event_at, st.state,
    CASE WHEN st.state = 'open' AND st.next_within_us IS NOT NULL THEN st.following END
        AS next_stage,
    CASE WHEN st.state = 'open' THEN st.stage_entered_at + to_microseconds(st.next_within_us)
        END AS next_due_at,
    CASE WHEN st.state = 'open' THEN st.stage_entered_at
        + to_microseconds(round_even(st.next_within_us * st.at_risk_after, 0)::BIGINT)
        END AS at_risk_at,
    CASE WHEN st.has_own THEN st.own_last_status ELSE st.last_status END = 'error' AS error_open,
    coalesce(st.own_facility, st.any_facility) AS facility,
    CASE WHEN st.has_own THEN st.own_customer ELSE st.any_customer END AS customer,
    CASE WHEN st.has_own THEN st.own_channel ELSE st.any_channel END AS channel,
    TRY_CAST(CASE WHEN st.has_own THEN st.own_value ELSE st.any_value END AS DOUBLE) AS value,
    CASE WHEN st.has_own THEN st.own_currency ELSE st.any_currency END AS currency,
    sy.systems, st.sources, st.event_count::INTEGER AS event_count,
    coalesce(a.anomaly_count, 0)::INTEGER AS anomaly_count,
    coalesce(a.anomaly_kinds, []) AS anomaly_kinds,
    coalesce(h.history, '[]') AS history,
    coalesce(a.anomalies, '[]') AS anomalies
FROM staged AS st
JOIN keyed AS k USING (journey_id)
JOIN systems AS sy USING (journey_id)
LEFT JOIN history AS h USING (journey_id)
LEFT JOIN anomalies AS a USING (journey_id);

CREATE OR REPLACE TEMP TABLE rebuilt_hops AS
SELECT v.journey_id, j.kind, j.facility, v.from_stage, v.stage, v.from_system, v.system,
    v.entered_at, v.latency_seconds
FROM rebuild_visits AS v JOIN rebuilt_journeys AS j USING (journey_id);

DELETE FROM journeys WHERE journey_id IN (SELECT journey_id FROM touched);

INSERT INTO journeys
SELECT journey_id, kind, label, keys,
    stage, stage_entered_at, started_at, last_event_at, state, next_stage, next_due_at,
    at_risk_at, error_open, facility, customer, channel, value, currency, systems, sources,
    event_count, anomaly_count, anomaly_kinds, history, anomalies, $updated_seq AS updated_seq
FROM rebuilt_journeys;

DELETE FROM journey_hops WHERE journey_id IN (SELECT journey_id FROM touched);

INSERT INTO journey_hops SELECT * FROM rebuilt_hops;
