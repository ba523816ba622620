-- Per facility: when its sources of $systems last reported an event (by the time the source
-- gives it: a held-up interface stops it, a clock running ahead keeps it fresh), and how many
-- events they reported in the $baseline seconds before that. Facilities silent for longer than
-- $lookback seconds drop out (a site that was closed down is not an outage forever).
WITH e AS (
    SELECT facility, occurred_at, source
    FROM events
    WHERE list_contains($systems::VARCHAR[], system) AND facility IS NOT NULL
      AND occurred_at > $now::TIMESTAMPTZ - to_seconds($lookback)
      AND ($facilities::VARCHAR[] IS NULL OR list_contains($facilities::VARCHAR[], facility))
),
latest AS (
    SELECT facility, max(occurred_at) AS last_at FROM e GROUP BY facility
)
SELECT l.facility,
    l.last_at,
    count(*) FILTER (WHERE e.occurred_at > l.last_at - to_seconds($baseline)) AS baseline_events,
    list_sort(list(DISTINCT e.source)) AS sources
FROM latest AS l
JOIN e ON e.facility = l.facility
GROUP BY l.facility, l.last_at
ORDER BY l.facility
