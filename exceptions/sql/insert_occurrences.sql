-- A batch of occurrences (the registered Arrow table `incoming_occurrences`).
INSERT INTO exception_occurrences BY NAME SELECT * FROM incoming_occurrences
