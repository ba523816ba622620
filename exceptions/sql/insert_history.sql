INSERT INTO exception_history (exception_id, happened_at, actor, action, from_status, to_status,
    detail)
VALUES ($exception_id, $at, $actor, $action, $from_status, $to_status, $detail)
