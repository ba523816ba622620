-- Keep the newest position per (sku, facility, source). In: batch_positions (one row per key,
-- already the newest of the batch).
INSERT INTO inventory_positions
SELECT sku, facility, source, system, on_hand, reported_at, seq FROM batch_positions
ON CONFLICT (sku, facility, source) DO UPDATE SET
    system = excluded.system, on_hand = excluded.on_hand,
    reported_at = excluded.reported_at, seq = excluded.seq
WHERE excluded.reported_at >= inventory_positions.reported_at
