SELECT * FROM exceptions WHERE exception_id = $exception_id
