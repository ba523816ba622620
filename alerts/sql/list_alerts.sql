-- Alerts, newest change first, optionally of some states and one alertname.
SELECT * FROM alerts
WHERE ($states::VARCHAR[] IS NULL OR list_contains($states::VARCHAR[], state))
  AND ($alertname IS NULL OR alertname = $alertname)
ORDER BY CASE state WHEN 'firing' THEN 0 WHEN 'pending' THEN 1 ELSE 2 END,
    updated_at DESC, fingerprint
