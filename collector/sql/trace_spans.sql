-- Every span of one trace, in start order.
SELECT trace_id, span_id, parent_span_id, name, kind, start_time, end_time, duration_ms,
    status_code, status_message, service_name, attributes, events, links, resource,
    scope_name, scope_version, scope_attributes, derived_event_id
FROM spans
WHERE trace_id = lower($trace_id)
ORDER BY start_time, span_id
LIMIT $limit
