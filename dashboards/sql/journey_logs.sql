-- The log records behind a journey: those that yielded one of its events ($event_ids: its own
-- and those of the journeys it includes, as the journey detail lists them), and those logged
-- inside one of its spans' traces ($trace_ids). Newest $limit, shown in time order. The ids
-- come in from the detail already read, so the events table is not scanned a second time.
SELECT * FROM (
    SELECT time, source, severity_number, severity_text, body, trace_id, span_id, extractor,
        derived_event_id
    FROM log_records
    WHERE derived_event_id IN (SELECT unnest($event_ids::VARCHAR[]))
       OR trace_id IN (SELECT unnest($trace_ids::VARCHAR[]))
    ORDER BY time DESC
    LIMIT $limit
)
ORDER BY time, source
