-- A poll's dead letters (the registered Arrow table `incoming_letters`): known ones are seen
-- again, new ones are added.
UPDATE dead_letters AS d SET present = TRUE, last_seen_at = i.last_seen_at
FROM incoming_letters AS i WHERE d.message_ref = i.message_ref;
INSERT INTO dead_letters BY NAME
SELECT * FROM incoming_letters AS i
WHERE NOT EXISTS (SELECT 1 FROM dead_letters AS d WHERE d.message_ref = i.message_ref);
