INSERT INTO replays BY NAME SELECT * FROM incoming_replays
