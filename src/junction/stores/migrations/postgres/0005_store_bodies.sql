-- Per key and per team: keep request bodies in the request log (NULL: inherit,
-- key over team over request_log.store_bodies).
ALTER TABLE keys ADD COLUMN IF NOT EXISTS store_bodies boolean;
ALTER TABLE teams ADD COLUMN IF NOT EXISTS store_bodies boolean;
