-- Does a table exist (queue samples arrive with the source adapters; until then skip).
SELECT count(*) > 0 FROM information_schema.tables WHERE table_name = $name
