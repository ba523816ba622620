-- A journey's timeline: its own events and those of the journeys it includes.
SELECT via, e.seq, e.event_id, e.occurred_at, e.received_at, e.source, e.system, e.facility,
    e.type, e.object_type, e.keys, e.correlation_id, e.status, e.error, e.attributes, e.related
FROM (
    SELECT NULL::BIGINT AS via, seq FROM journey_events WHERE journey_id = $journey_id
    UNION ALL
    SELECT l.from_journey AS via, je.seq
    FROM journey_links AS l JOIN journey_events AS je ON je.journey_id = l.from_journey
    WHERE l.to_journey = $journey_id
) AS m JOIN events AS e USING (seq)
ORDER BY e.occurred_at, e.seq
