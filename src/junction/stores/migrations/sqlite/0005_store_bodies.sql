-- Per key and per team: keep request bodies in the request log (NULL: inherit,
-- key over team over request_log.store_bodies). 0 / 1 / NULL.
ALTER TABLE keys ADD COLUMN store_bodies INTEGER;
ALTER TABLE teams ADD COLUMN store_bodies INTEGER;
