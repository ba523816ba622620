-- The typed pass's checks and normalisation, on plain columns (collector/fast_check.py).
-- In: candidates (fast_check's columns, all text but idx), $systems, $received_at.
-- Out: validate.sql's output columns plus `vouched`. A row not vouched for is not necessarily
-- invalid: the caller sends it on to validate.sql, which decides and words the reason.
-- The patterns mirror tower/model.py and validate.sql; keep the three in step.
SELECT
    idx,
    event_id,
    TRY_CAST(upper(occurred_at) AS TIMESTAMPTZ) AS occurred_at,
    $received_at::TIMESTAMPTZ AS received_at,
    source,
    system,
    facility,
    type,
    object_type,
    keys,
    correlation_id,
    coalesce(status, 'ok') AS status,
    error,
    attributes,
    related,
    length(event_id) BETWEEN 1 AND 256
        AND regexp_full_match(occurred_at,
            '\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})')
        AND TRY_CAST(upper(occurred_at) AS TIMESTAMPTZ) IS NOT NULL
        AND length(source) BETWEEN 1 AND 128
        AND list_contains($systems, system)
        AND (facility IS NULL OR length(facility) BETWEEN 1 AND 64)
        AND length(type) <= 128
        AND regexp_full_match(type, '[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*')
        AND regexp_full_match(object_type, '[a-z][a-z0-9_]{0,63}')
        -- Minified and escape-free, so at most 31 pairs fit in 256 characters.
        AND length(keys) <= 256
        AND regexp_full_match(keys,
            '\{"[a-z][a-z0-9_]{0,63}":"[^"]+"(?:,"[a-z][a-z0-9_]{0,63}":"[^"]+")*\}')
        AND (correlation_id IS NULL OR length(correlation_id) BETWEEN 1 AND 256)
        AND coalesce(status, 'ok') IN ('ok', 'error')
        AND (error IS NULL OR length(error) <= 8192)
        -- Decoded as raw JSON (so well formed); the contract wants an object.
        AND starts_with(attributes, '{')
        AS vouched
FROM candidates
