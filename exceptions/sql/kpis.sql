-- Per domain since $since: occurrences, exceptions, and times to acknowledge and to resolve.
WITH occ AS (
    SELECT e.domain, count(*) AS occurrences, count(DISTINCT o.exception_id) AS exceptions
    FROM exception_occurrences AS o JOIN exceptions AS e USING (exception_id)
    WHERE o.occurred_at >= $since
    GROUP BY e.domain
), times AS (
    SELECT domain,
        avg(epoch(acknowledged_at) - epoch(first_seen_at)) AS ack_seconds,
        avg(epoch(resolved_at) - epoch(first_seen_at)) AS resolve_seconds,
        count(*) FILTER (WHERE status NOT IN ('resolved', 'replayed')) AS open_now
    FROM exceptions WHERE last_seen_at >= $since
    GROUP BY domain
)
SELECT domain, coalesce(occ.occurrences, 0) AS occurrences,
    coalesce(occ.exceptions, 0) AS exceptions, times.ack_seconds, times.resolve_seconds,
    coalesce(times.open_now, 0) AS open_now
FROM occ FULL OUTER JOIN times USING (domain)
ORDER BY domain
