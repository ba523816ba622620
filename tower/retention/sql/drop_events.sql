DELETE FROM event_keys WHERE seq IN (SELECT seq FROM retiring);
DELETE FROM events WHERE seq IN (SELECT seq FROM retiring);
