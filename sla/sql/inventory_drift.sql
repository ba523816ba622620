-- Per facility: SKUs whose sources disagree by more than $max_units and have since $cutoff
-- or earlier (the newest report among them is the start of the current disagreement).
WITH drift AS (
    SELECT sku, facility, max(on_hand) - min(on_hand) AS drift, max(reported_at) AS since
    FROM inventory_positions
    WHERE ($facilities::VARCHAR[] IS NULL OR list_contains($facilities::VARCHAR[], facility))
    GROUP BY sku, facility
    HAVING count(*) > 1 AND max(on_hand) - min(on_hand) > $max_units
)
SELECT facility,
    count(*) AS skus,
    max(drift) AS max_drift,
    min(since) AS oldest,
    list(sku ORDER BY drift DESC, sku)[1:5] AS sample
FROM drift
WHERE since <= $cutoff
GROUP BY facility
ORDER BY facility
