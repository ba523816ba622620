-- Store a request's spans. A span already stored (same trace_id and span_id: an exporter's
-- retry) or repeated in the request is stored once. In: `incoming_spans`.
INSERT INTO spans BY NAME
SELECT * FROM incoming_spans AS s
WHERE NOT EXISTS (
    SELECT 1 FROM spans AS t WHERE t.trace_id = s.trace_id AND t.span_id = s.span_id
)
QUALIFY row_number() OVER (PARTITION BY s.trace_id, s.span_id) = 1
