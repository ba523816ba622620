-- The aliases of each touched journey, and its object type.
SELECT i.journey_id, any_value(i.object_type) AS object_type,
    list(i.namespace ORDER BY i.namespace, i.value) AS namespaces,
    list(i.value ORDER BY i.namespace, i.value) AS "values"
FROM identity AS i JOIN touched AS t USING (journey_id)
GROUP BY i.journey_id
