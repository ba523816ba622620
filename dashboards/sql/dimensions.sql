-- The values the filters offer: journey kinds, facilities and channels that occur.
SELECT 'kind' AS field, kind AS value FROM (SELECT DISTINCT kind FROM journeys)
UNION ALL
SELECT 'facility', facility FROM (SELECT DISTINCT facility FROM journeys WHERE facility IS NOT NULL)
UNION ALL
SELECT 'channel', channel FROM (SELECT DISTINCT channel FROM journeys WHERE channel IS NOT NULL)
ORDER BY field, value
