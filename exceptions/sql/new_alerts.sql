-- Alert episodes that fired (one occurrence per fingerprint and start) not yet recorded.
SELECT a.fingerprint, a.alertname, a.labels, a.starts_at, a.summary, a.link, a.affected
FROM alerts AS a
WHERE a.starts_at IS NOT NULL AND a.state IN ('firing', 'resolved')
  AND NOT EXISTS (SELECT 1 FROM exception_occurrences AS o
                  WHERE o.ref = 'alert:' || a.fingerprint || ':' || epoch_us(a.starts_at)::VARCHAR)
