-- Partner connectivity health per time bucket: the EDI documents exchanged with trading
-- partners (events of the edi system), how many reported an error, and how many partners were
-- active and how many of them had at least one error in the bucket.
-- Buckets by epoch arithmetic, not time_bucket: on TIMESTAMPTZ, time_bucket goes through ICU
-- calendars row by row (measured: 22 s instead of 0.08 s over 1 M rows); buckets of up to a
-- day fall on the same UTC boundaries either way.
WITH docs AS (
    SELECT to_timestamp(floor(epoch(occurred_at) / epoch($bucket)) * epoch($bucket)) AS bucket,
        coalesce(json_extract_string(attributes, '$.partner'), source) AS partner,
        status = 'error' AS failed
    FROM events
    WHERE system = 'edi' AND occurred_at >= $since AND occurred_at <= $now
)
SELECT bucket,
    count(*) AS documents,
    count(*) FILTER (WHERE failed) AS errors,
    count(DISTINCT partner) AS partners,
    count(DISTINCT partner) FILTER (WHERE failed) AS partners_failing
FROM docs
GROUP BY bucket
ORDER BY bucket
