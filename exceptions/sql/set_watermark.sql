UPDATE exceptions_state SET value = $v WHERE name = 'event_watermark'
