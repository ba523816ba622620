-- Journeys of one kind started per time bucket, and how many of them met an exception (an
-- anomaly, an open error, a stall or a failure): the exception rate over time.
-- j: journeys with their status at $now, by the correlator's rule (correlator/sql/journeys_now.sql).
WITH j AS ({journeys_now})
SELECT time_bucket($bucket, started_at) AS bucket,
    count(*) AS journeys,
    count(*) FILTER (
        WHERE anomaly_count > 0 OR error_open OR status IN ('stalled', 'failed')
    ) AS exceptions
FROM j
WHERE kind = $kind AND started_at >= $since AND started_at <= $now
GROUP BY bucket
ORDER BY bucket
