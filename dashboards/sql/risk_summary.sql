-- Open journeys of one kind by status and currency: how many, and their value.
-- j: journeys with their status at $now, by the correlator's rule (correlator/sql/journeys_now.sql).
WITH j AS ({journeys_now})
SELECT status, currency, count(*) AS journeys, sum(value) AS value
FROM j
WHERE kind = $kind AND state = 'open'
GROUP BY status, currency
ORDER BY status, currency NULLS LAST
