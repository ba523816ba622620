-- Journeys linked to one journey, either way: what it references and what references it.
SELECT 'references' AS relation, j.journey_id, j.kind, j.label, j.stage, j.state
FROM journey_links AS l JOIN journeys AS j ON j.journey_id = l.to_journey
WHERE l.from_journey = $journey_id
UNION ALL
SELECT 'referenced_by', j.journey_id, j.kind, j.label, j.stage, j.state
FROM journey_links AS l JOIN journeys AS j ON j.journey_id = l.from_journey
WHERE l.to_journey = $journey_id
ORDER BY relation, kind, label
