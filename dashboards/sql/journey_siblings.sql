-- Neighbouring journeys: those that share a linked journey with this one (the other orders on
-- the same shipment or the same invoice), with the journey they share.
SELECT shared.kind AS via_kind, shared.label AS via_label, j.journey_id, j.kind, j.label,
    j.stage, j.state
FROM journey_links AS mine
JOIN journey_links AS theirs
    ON theirs.from_journey = mine.from_journey AND theirs.to_journey <> mine.to_journey
JOIN journeys AS j ON j.journey_id = theirs.to_journey
JOIN journeys AS shared ON shared.journey_id = mine.from_journey
WHERE mine.to_journey = $journey_id
ORDER BY via_kind, via_label, j.label
LIMIT $limit
