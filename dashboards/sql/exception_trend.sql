-- Journeys of one kind started per time bucket, and how many of them met an exception (an
-- anomaly, an open error, a stall or a failure): the exception rate over time.
-- j: journeys with their status at $now, by the correlator's rule (correlator/sql/journeys_now.sql).
-- Buckets by epoch arithmetic, not time_bucket: on TIMESTAMPTZ, time_bucket goes through ICU
-- calendars row by row (measured: 22 s instead of 0.08 s over 1 M rows); buckets of up to a
-- day fall on the same UTC boundaries either way.
WITH j AS ({journeys_now})
SELECT to_timestamp(floor(epoch(started_at) / epoch($bucket)) * epoch($bucket)) AS bucket,
    count(*) AS journeys,
    count(*) FILTER (
        WHERE anomaly_count > 0 OR error_open OR status IN ('stalled', 'failed')
    ) AS exceptions
FROM j
WHERE kind = $kind AND started_at >= $since AND started_at <= $now
GROUP BY bucket
ORDER BY bucket
