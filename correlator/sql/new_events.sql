-- How far the next batch reaches: the last seq and the number of the next $limit events past
-- the watermark. Only seq is read; the batch's keys come from event_keys (batch_keys.sql).
SELECT max(seq) AS upto, count(*) AS events
FROM (SELECT seq FROM events WHERE seq > $watermark ORDER BY seq LIMIT $limit)
