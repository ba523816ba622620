-- The retiring events with every key value they carry (their own and their related objects'),
-- so the archive can be searched by any ID without event_keys. {path} is filled in by the
-- caller (COPY takes no parameter for it); the rows come from the temp table `retiring`.
COPY (
    SELECT e.*, k.key_values
    FROM events AS e
    JOIN (
        SELECT seq, list(value) AS key_values FROM event_keys
        WHERE seq IN (SELECT seq FROM retiring) GROUP BY seq
    ) AS k USING (seq)
    ORDER BY e.seq
) TO '{path}' (FORMAT parquet, COMPRESSION zstd)
