-- A new exception for a cause seen for the first time.
INSERT INTO exceptions (group_key, origin, category, domain, severity, owner, rule, status,
    title, source, place, facility, partner, error, occurrences, first_seen_at, last_seen_at,
    updated_at)
VALUES ($group_key, $origin, $category, $domain, $severity, $owner, $rule, 'open', $title,
    $source, $place, $facility, $partner, $error, $occurrences, $first_seen_at, $last_seen_at,
    $now)
RETURNING exception_id
