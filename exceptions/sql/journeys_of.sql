-- The journeys an exception's occurrences name, by key or by correlation id.
WITH linked AS (
    SELECT i.journey_id FROM exception_keys AS k
    JOIN identity AS i ON i.namespace = k.namespace AND i.value = k.value
    WHERE k.exception_id = $exception_id
    UNION
    SELECT je.journey_id FROM exception_occurrences AS o
    JOIN events AS e ON e.correlation_id = o.correlation_id
    JOIN journey_events AS je ON je.seq = e.seq
    WHERE o.exception_id = $exception_id AND o.correlation_id IS NOT NULL
)
SELECT j.journey_id, j.kind, j.label, j.stage, j.state, j.facility, j.last_event_at
FROM journeys AS j JOIN linked USING (journey_id)
ORDER BY j.journey_id
