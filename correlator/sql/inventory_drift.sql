-- SKUs whose latest positions disagree between sources at one facility: the size of the gap,
-- and since when the current disagreement has stood (the newest report among them).
SELECT sku, facility,
    max(on_hand) - min(on_hand) AS drift,
    max(reported_at) AS since,
    list({'source': source, 'system': system, 'on_hand': on_hand, 'reported_at': reported_at}
         ORDER BY system, source) AS positions
FROM inventory_positions
WHERE ($facility IS NULL OR facility = $facility)
GROUP BY sku, facility
HAVING count(*) > 1 AND max(on_hand) - min(on_hand) >= $min_drift AND max(on_hand) <> min(on_hand)
ORDER BY drift DESC, sku
LIMIT $limit
