SELECT history_id, happened_at, actor, action, from_status, to_status, detail
FROM exception_history WHERE exception_id = $exception_id ORDER BY history_id
