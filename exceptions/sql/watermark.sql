-- Where the last run's reading of error events stopped.
SELECT value FROM exceptions_state WHERE name = 'event_watermark'
