-- Validate and normalise one batch of raw items in a single pass.
-- In:  incoming(idx INTEGER, line_no INTEGER, line VARCHAR); $fields (allowed top-level names),
--      $systems, $received_at.
-- Out: one row per item, in no particular order: its reason (NULL when valid) and, when
--      valid, the normalised columns.
WITH parsed AS (
    SELECT idx, line_no, line, TRY_CAST(line AS JSON) AS j
    FROM incoming
),
shaped AS (
    -- Parse each line once into its fields (each still JSON); the checks below then look at
    -- small fragments instead of re-reading the whole line for every field.
    SELECT idx, line_no, line, j, json_type(j) AS top,
        CASE WHEN json_type(j) = 'OBJECT' THEN json_keys(j) END AS names,
        CASE WHEN json_type(j) = 'OBJECT' THEN from_json(j, '{
            "event_id": "JSON", "occurred_at": "JSON", "source": "JSON", "system": "JSON",
            "facility": "JSON", "type": "JSON", "object_type": "JSON", "keys": "JSON",
            "correlation_id": "JSON", "status": "JSON", "error": "JSON", "attributes": "JSON",
            "related": "JSON"}') END AS f
    FROM parsed
),
checked AS (
    -- Two tiers: a cheap conjunction that vouches for the common valid event, and for every
    -- other row the full CASE that finds the first problem and words it. Tier one is sound
    -- (it never passes an invalid event), not complete (a valid event it cannot vouch for,
    -- e.g. one with related objects, is passed by tier two).
    SELECT *, CASE WHEN top = 'OBJECT'
        AND list_has_all($fields, names) AND len(names) = len(list_distinct(names))
        AND tower_optional_string_ok(f.event_id, 256)
        AND json_type(f.occurred_at) = 'VARCHAR'
        AND regexp_full_match(f.occurred_at ->> '$',
            '\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})')
        AND tower_timestamp(f.occurred_at ->> '$') IS NOT NULL
        AND NOT tower_is_null(f.source) AND tower_optional_string_ok(f.source, 128)
        AND json_type(f.system) = 'VARCHAR' AND list_contains($systems, f.system ->> '$')
        AND tower_optional_string_ok(f.facility, 64)
        AND json_type(f.type) = 'VARCHAR' AND length(f.type ->> '$') <= 128
        AND regexp_full_match(f.type ->> '$', '[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*')
        AND json_type(f.object_type) = 'VARCHAR'
        AND regexp_full_match(f.object_type ->> '$', '[a-z][a-z0-9_]{0,63}')
        AND tower_keys_fast_ok(f.keys)
        AND tower_optional_string_ok(f.correlation_id, 256)
        AND (tower_is_null(f.status) OR (json_type(f.status) = 'VARCHAR'
            AND (f.status ->> '$') IN ('ok', 'error')))
        AND (tower_is_null(f.error) OR (json_type(f.error) = 'VARCHAR'
            AND length(f.error ->> '$') <= 8192))
        AND (tower_is_null(f.attributes) OR json_type(f.attributes) = 'OBJECT')
        AND (tower_is_null(f.related) OR f.related::VARCHAR = '[]')
    THEN NULL ELSE CASE
        WHEN j IS NULL THEN 'not valid JSON'
        WHEN top <> 'OBJECT' THEN 'an event must be a JSON object, got ' || lower(top)
        WHEN len(list_filter(names, lambda n: NOT list_contains($fields, n))) > 0
            THEN 'unknown field(s): '
                || array_to_string(list_filter(names, lambda n: NOT list_contains($fields, n)), ', ')
        WHEN len(names) <> len(list_distinct(names))
            THEN 'field(s) given twice: ' || array_to_string(list_distinct(list_filter(names,
                lambda n, i: list_position(names, n) < i)), ', ')
        WHEN NOT tower_is_null(f.event_id) AND (json_type(f.event_id) <> 'VARCHAR'
            OR length((f.event_id ->> '$')) NOT BETWEEN 1 AND 256)
            THEN 'event_id: must be a non-empty string of at most 256 characters'
        WHEN tower_is_null(f.occurred_at) THEN 'occurred_at: required'
        WHEN json_type(f.occurred_at) <> 'VARCHAR'
            THEN 'occurred_at: timestamp must be an RFC 3339 string'
        WHEN regexp_full_match((f.occurred_at ->> '$'), '\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?')
            THEN 'occurred_at: timestamp has no time zone; send RFC 3339 with Z or an offset'
        WHEN NOT regexp_full_match((f.occurred_at ->> '$'),
                '\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})')
            THEN 'occurred_at: timestamp is not RFC 3339 (e.g. 2026-11-23T09:15:00Z)'
        WHEN tower_timestamp(f.occurred_at ->> '$') IS NULL
            THEN 'occurred_at: not a real date and time'
        WHEN tower_is_null(f.source) THEN 'source: required'
        WHEN json_type(f.source) <> 'VARCHAR' OR length((f.source ->> '$')) NOT BETWEEN 1 AND 128
            THEN 'source: must be a non-empty string of at most 128 characters'
        WHEN tower_is_null(f.system) THEN 'system: required'
        WHEN json_type(f.system) <> 'VARCHAR' OR NOT list_contains($systems, (f.system ->> '$'))
            THEN 'system: must be one of ' || array_to_string($systems, ', ')
        WHEN tower_optional_string_problem(f.facility, 'facility', 64) IS NOT NULL
            THEN tower_optional_string_problem(f.facility, 'facility', 64)
        WHEN tower_is_null(f.type) THEN 'type: required'
        WHEN json_type(f.type) <> 'VARCHAR' OR length((f.type ->> '$')) > 128
            OR NOT regexp_full_match((f.type ->> '$'), '[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*')
            THEN 'type: must be lower-case and dot-separated, e.g. order.accepted'
        WHEN tower_is_null(f.object_type) THEN 'object_type: required'
        WHEN json_type(f.object_type) <> 'VARCHAR'
            OR NOT regexp_full_match((f.object_type ->> '$'), '[a-z][a-z0-9_]{0,63}')
            THEN 'object_type: must be lower_snake_case, e.g. order'
        WHEN tower_keys_problem(f.keys, 'keys') IS NOT NULL
            THEN tower_keys_problem(f.keys, 'keys')
        WHEN tower_optional_string_problem(f.correlation_id, 'correlation_id', 256) IS NOT NULL
            THEN tower_optional_string_problem(f.correlation_id, 'correlation_id', 256)
        WHEN NOT tower_is_null(f.status) AND (json_type(f.status) <> 'VARCHAR'
            OR ((f.status ->> '$')) NOT IN ('ok', 'error'))
            THEN 'status: must be ok or error'
        WHEN NOT tower_is_null(f.error) AND (json_type(f.error) <> 'VARCHAR'
            OR length((f.error ->> '$')) > 8192)
            THEN 'error: must be a string of at most 8192 characters'
        WHEN NOT tower_is_null(f.attributes) AND json_type(f.attributes) <> 'OBJECT'
            THEN 'attributes: must be a JSON object'
        WHEN NOT tower_is_null(f.related) AND json_type(f.related) <> 'ARRAY'
            THEN 'related: must be a list of {object_type, keys}'
        WHEN json_array_length(f.related) > 1000 THEN 'related: at most 1000 objects'
        WHEN NOT tower_is_null(f.related) AND len(list_filter(
                list_transform(json_extract(f.related, '$[*]'),
                    lambda r, i: tower_related_problem(r, 'related[' || (i - 1) || ']')),
                lambda p: p IS NOT NULL)) > 0
            THEN list_filter(
                list_transform(json_extract(f.related, '$[*]'),
                    lambda r, i: tower_related_problem(r, 'related[' || (i - 1) || ']')),
                lambda p: p IS NOT NULL)[1]
    END END AS reason
    FROM shaped
)
SELECT
    idx,
    line_no,
    line,
    reason,
    coalesce(f.event_id ->> '$', CASE WHEN tower_is_null(f.event_id) THEN 'md5:' || md5(json(j)) END) AS event_id,
    tower_timestamp(f.occurred_at ->> '$') AS occurred_at,
    $received_at::TIMESTAMPTZ AS received_at,
    (f.source ->> '$') AS source,
    (f.system ->> '$') AS system,
    (f.facility ->> '$') AS facility,
    (f.type ->> '$') AS type,
    (f.object_type ->> '$') AS object_type,
    f.keys::VARCHAR AS keys,
    (f.correlation_id ->> '$') AS correlation_id,
    coalesce((f.status ->> '$'), 'ok') AS status,
    (f.error ->> '$') AS error,
    CASE WHEN tower_is_null(f.attributes) THEN '{}' ELSE f.attributes::VARCHAR END
        AS attributes,
    CASE WHEN tower_is_null(f.related) THEN '[]' ELSE f.related::VARCHAR END
        AS related
FROM checked
