-- JSON documents are stored as text. A JSON-typed column re-parses every value on insert to
-- validate it (measured: 5 us per value, three columns per event: most of a commit), and the
-- collector has already validated them. DuckDB's JSON functions read text columns the same.
ALTER TABLE events ALTER COLUMN keys SET DATA TYPE VARCHAR;
ALTER TABLE events ALTER COLUMN attributes SET DATA TYPE VARCHAR;
ALTER TABLE events ALTER COLUMN related SET DATA TYPE VARCHAR;
ALTER TABLE journeys ALTER COLUMN keys SET DATA TYPE VARCHAR;
ALTER TABLE journeys ALTER COLUMN history SET DATA TYPE VARCHAR;
ALTER TABLE journeys ALTER COLUMN anomalies SET DATA TYPE VARCHAR;
