-- The spans behind a journey's timeline: those whose derived events are the journey's own
-- events or those of the journeys it includes, in start order.
SELECT s.trace_id, s.span_id, s.parent_span_id, s.name, s.kind, s.service_name,
    s.start_time, s.end_time, s.duration_ms, s.status_code, s.status_message,
    s.derived_event_id
FROM spans AS s
WHERE s.derived_event_id IN (
    SELECT e.event_id FROM events AS e
    WHERE e.seq IN (
        SELECT seq FROM journey_events WHERE journey_id = $journey_id
        UNION ALL
        SELECT je.seq
        FROM journey_links AS l JOIN journey_events AS je ON je.journey_id = l.from_journey
        WHERE l.to_journey = $journey_id))
ORDER BY s.start_time, s.span_id
