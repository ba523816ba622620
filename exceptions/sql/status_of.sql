SELECT status FROM exceptions WHERE exception_id = $id
