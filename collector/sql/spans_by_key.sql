-- Spans whose derived events carry a key value (in any namespace, or in $namespace), with the
-- keys of that event, in start order.
SELECT s.trace_id, s.span_id, s.parent_span_id, s.name, s.kind, s.start_time, s.end_time,
    s.duration_ms, s.status_code, s.status_message, s.service_name, s.attributes, s.events,
    s.links, s.resource, s.scope_name, s.scope_version, s.scope_attributes, s.derived_event_id
FROM spans AS s
WHERE s.derived_event_id IN (
    SELECT e.event_id FROM events AS e
    WHERE e.seq IN (
        SELECT seq FROM event_keys
        WHERE value = $key AND related_index IS NULL
          AND ($namespace IS NULL OR namespace = $namespace)))
ORDER BY s.start_time, s.span_id
LIMIT $limit
