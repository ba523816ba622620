-- Every event a touched journey is built from: its own, and those of journeys that reference
-- it (via = the referencing journey; the model decides which of those kinds count).
WITH linked AS (
    SELECT DISTINCT l.to_journey AS journey_id, l.from_journey AS via
    FROM journey_links AS l JOIN touched AS t ON t.journey_id = l.to_journey
),
members AS (
    SELECT je.journey_id, NULL::BIGINT AS via, je.seq
    FROM journey_events AS je JOIN touched AS t USING (journey_id)
    UNION ALL
    SELECT linked.journey_id, linked.via, je.seq
    FROM linked JOIN journey_events AS je ON je.journey_id = linked.via
)
-- Only the attributes the rules read are extracted, so no event's JSON is parsed in Python.
SELECT m.journey_id, m.via, e.seq, e.event_id, epoch_us(e.occurred_at) AS occurred_us,
    e.source, e.system, e.type, e.object_type, e.status, e.error, e.facility,
    e.attributes ->> '$.customer' AS customer, e.attributes ->> '$.channel' AS channel,
    e.attributes ->> '$.value' AS value, e.attributes ->> '$.currency' AS currency
FROM members AS m JOIN events AS e USING (seq)
ORDER BY m.journey_id, e.seq
