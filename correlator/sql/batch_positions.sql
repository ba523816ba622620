-- Stock positions reported by a batch of events: inventory events with a numeric on_hand.
SELECT sku, facility, source, system, on_hand, reported_at, seq
FROM (
    SELECT coalesce(keys ->> '$.sku', attributes ->> '$.sku') AS sku,
        coalesce(facility, keys ->> '$.facility') AS facility,
        source, system,
        TRY_CAST(attributes ->> '$.on_hand' AS DOUBLE) AS on_hand,
        occurred_at AS reported_at, seq,
        row_number() OVER (
            PARTITION BY coalesce(keys ->> '$.sku', attributes ->> '$.sku'),
                coalesce(facility, keys ->> '$.facility'), source
            ORDER BY occurred_at DESC, seq DESC) AS newest
    FROM events
    WHERE seq > $after AND seq <= $upto AND object_type = 'inventory'
)
WHERE newest = 1 AND sku IS NOT NULL AND facility IS NOT NULL AND on_hand IS NOT NULL
