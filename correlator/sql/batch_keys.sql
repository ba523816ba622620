-- The keys of the events in ($after, $upto] that name an object, for identity.resolve: one
-- row per key, read from event_keys (exploded at ingest) rather than re-parsing each event's
-- JSON. A model's dimension namespaces (`model_dimensions`: object_type, namespace) describe
-- but do not identify, so they are dropped. related: $own for the event's own keys, else the
-- position of the related object; known: the key's journey in identity, $no_journey for a key
-- seen for the first time.
WITH batch AS (
    SELECT k.seq, coalesce(k.related_index, $own) AS related, k.object_type, k.namespace,
        k.value
    FROM event_keys AS k
    WHERE k.seq > $after AND k.seq <= $upto
        AND NOT EXISTS (
            SELECT 1 FROM model_dimensions AS d
            WHERE d.object_type = k.object_type AND d.namespace = k.namespace
        )
)
SELECT b.seq, b.related, coalesce(i.journey_id, $no_journey) AS known, b.object_type,
    b.namespace, b.value
FROM batch AS b LEFT JOIN identity AS i USING (object_type, namespace, value)
