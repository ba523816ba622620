INSERT INTO exception_keys BY NAME SELECT * FROM incoming_keys
