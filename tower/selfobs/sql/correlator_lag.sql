-- How far the correlator is behind: events past its watermark and the oldest of them.
-- seq follows commit order and events are stored sorted by it, so both reads prune by zone map.
WITH w AS (SELECT value AS watermark FROM correlator_state WHERE name = 'watermark')
SELECT
    w.watermark,
    (SELECT count(*) FROM events WHERE seq > w.watermark) AS waiting,
    (SELECT min(received_at) FROM events WHERE seq > w.watermark) AS oldest_waiting_at,
    (SELECT max(received_at) FROM events WHERE seq = w.watermark) AS newest_stitched_at
FROM w
