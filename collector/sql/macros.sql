-- Checks shared by the validation query. Created as TEMP macros on each reading cursor.
-- They mirror tower/model.py (the contract); tests/collector/test_validation_parity.py keeps
-- the two in agreement.

CREATE OR REPLACE TEMP MACRO tower_is_null(v) AS (v IS NULL OR json_type(v) = 'NULL');

-- A timestamp text as UTC, NULL when it is no real date and time or falls outside years
-- 1-9999 once in UTC (Python, and so the API and the pages, cannot hold it).
CREATE OR REPLACE TEMP MACRO tower_timestamp(text) AS CASE
    WHEN TRY_CAST(upper(text) AS TIMESTAMPTZ) BETWEEN TIMESTAMPTZ '0001-01-01 00:00:00+00'
        AND TIMESTAMPTZ '9999-12-31 23:59:59.999999+00'
    THEN TRY_CAST(upper(text) AS TIMESTAMPTZ)
END;

CREATE OR REPLACE TEMP MACRO tower_optional_string_problem(v, path, max_len) AS CASE
    WHEN tower_is_null(v) THEN NULL
    WHEN json_type(v) <> 'VARCHAR' THEN path || ': must be a string'
    WHEN length(json_extract_string(v, '$')) = 0 THEN path || ': must not be empty'
    WHEN length(json_extract_string(v, '$')) > max_len
        THEN path || ': longer than ' || max_len || ' characters'
END;

CREATE OR REPLACE TEMP MACRO tower_keys_problem(k, path) AS CASE
    WHEN tower_is_null(k) THEN path || ': required'
    WHEN json_type(k) <> 'OBJECT'
        THEN path || ': must be an object of namespace -> identifier, e.g. {"oms_order": "W-1001"}'
    WHEN len(json_keys(k)) = 0 THEN path || ': needs at least one key'
    WHEN len(json_keys(k)) > 32 THEN path || ': at most 32 keys'
    WHEN len(json_keys(k)) <> len(list_distinct(json_keys(k)))
        THEN path || ': a namespace is given twice'
    WHEN len(list_filter(json_keys(k), lambda n: NOT regexp_full_match(n, '[a-z][a-z0-9_]{0,63}'))) > 0
        THEN path || '.' || list_filter(json_keys(k), lambda n: NOT regexp_full_match(n, '[a-z][a-z0-9_]{0,63}'))[1]
            || ': a key namespace must be lower_snake_case (a-z, 0-9, _), at most 64 characters'
    WHEN len(list_filter(json_extract(k, '$.*'), lambda v: json_type(v) <> 'VARCHAR'
            OR length(json_extract_string(v, '$')) NOT BETWEEN 1 AND 256)) > 0
        THEN path || ': every key value must be a non-empty string of at most 256 characters'
END;

CREATE OR REPLACE TEMP MACRO tower_related_problem(r, path) AS CASE
    WHEN json_type(r) <> 'OBJECT' THEN path || ': must be an object {object_type, keys}'
    WHEN len(list_filter(json_keys(r), lambda n: n NOT IN ('object_type', 'keys'))) > 0
        THEN path || ': unknown field(s): '
            || array_to_string(list_filter(json_keys(r), lambda n: n NOT IN ('object_type', 'keys')), ', ')
    WHEN tower_is_null(r -> '$.object_type') THEN path || '.object_type: required'
    WHEN json_type(r, '$.object_type') <> 'VARCHAR'
        OR NOT regexp_full_match(r ->> '$.object_type', '[a-z][a-z0-9_]{0,63}')
        THEN path || '.object_type: must be lower_snake_case, e.g. order'
    ELSE tower_keys_problem(r -> '$.keys', path || '.keys')
END;

-- A sound shortcut for the common case: minified {"namespace": "value", ...} with at most 32
-- keys (256 characters hold at most 31), no namespace twice, no value over 256. Anything
-- it does not vouch for goes through tower_keys_problem, which decides and explains.
CREATE OR REPLACE TEMP MACRO tower_keys_fast_ok(k) AS (
    json_type(k) = 'OBJECT'
    AND length(k::VARCHAR) <= 256
    AND regexp_full_match(k::VARCHAR,
        '\{"[a-z][a-z0-9_]{0,63}":"(?:[^"\\]|\\.)+"(?:,"[a-z][a-z0-9_]{0,63}":"(?:[^"\\]|\\.)+")*\}')
    AND len(json_keys(k)) = len(list_distinct(json_keys(k)))
);

CREATE OR REPLACE TEMP MACRO tower_optional_string_ok(v, max_len) AS (
    tower_is_null(v)
    OR (json_type(v) = 'VARCHAR' AND length(json_extract_string(v, '$')) BETWEEN 1 AND max_len)
);
