-- Record one batch's identity changes. In: merges(absorbed, survivor), new_nodes(object_type,
-- namespace, value, journey_id), new_members(journey_id, seq), new_links(from_journey, to_journey).
UPDATE identity SET journey_id = m.survivor FROM merges AS m WHERE identity.journey_id = m.absorbed;
UPDATE journey_events SET journey_id = m.survivor FROM merges AS m
WHERE journey_events.journey_id = m.absorbed;
UPDATE journey_links SET from_journey = m.survivor FROM merges AS m
WHERE journey_links.from_journey = m.absorbed;
UPDATE journey_links SET to_journey = m.survivor FROM merges AS m
WHERE journey_links.to_journey = m.absorbed;
DELETE FROM journeys WHERE journey_id IN (SELECT absorbed FROM merges);
-- the survivor's rebuild writes the merged hops; the absorbed journey's would count twice
DELETE FROM journey_hops WHERE journey_id IN (SELECT absorbed FROM merges);
INSERT INTO identity SELECT object_type, namespace, value, journey_id FROM new_nodes;
INSERT INTO journey_events SELECT journey_id, seq FROM new_members;
INSERT INTO journey_links
SELECT DISTINCT n.from_journey, n.to_journey FROM new_links AS n
WHERE NOT EXISTS (
    SELECT 1 FROM journey_links AS l
    WHERE l.from_journey = n.from_journey AND l.to_journey = n.to_journey
);
