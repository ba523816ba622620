-- Exceptions matching the filters, most recently seen first. $linked: ids linked to a journey.
SELECT * FROM exceptions
WHERE ($status IS NULL OR status = $status)
  AND ($owner IS NULL OR owner = $owner)
  AND ($domain IS NULL OR domain = $domain)
  AND ($facility IS NULL OR facility = $facility)
  AND ($partner IS NULL OR partner = $partner)
  AND ($origin IS NULL OR origin = $origin)
  AND ($linked IS NULL OR list_contains($linked, exception_id))
ORDER BY last_seen_at DESC, exception_id DESC
LIMIT $limit
