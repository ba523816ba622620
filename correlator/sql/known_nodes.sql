-- Which of a batch's keys the identity graph already knows, and their journeys.
SELECT i.object_type, i.namespace, i.value, i.journey_id
FROM identity AS i
JOIN batch_nodes AS b USING (object_type, namespace, value)
