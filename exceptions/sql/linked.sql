-- The exceptions linked to a journey: through an occurrence's business keys (the identity
-- table), or through its correlation id on the journey's events.
SELECT k.exception_id FROM exception_keys AS k
JOIN identity AS i ON i.namespace = k.namespace AND i.value = k.value
WHERE i.journey_id = $journey
UNION
SELECT o.exception_id FROM exception_occurrences AS o
JOIN events AS e ON e.correlation_id = o.correlation_id
JOIN journey_events AS je ON je.seq = e.seq
WHERE o.correlation_id IS NOT NULL AND je.journey_id = $journey
