-- The notification groups after this cycle (group_batch) replace all groups.
DELETE FROM alert_groups;
INSERT INTO alert_groups BY NAME SELECT * FROM group_batch;
