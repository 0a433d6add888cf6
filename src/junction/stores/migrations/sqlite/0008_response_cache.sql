-- The response cache (cache.backend: sqlite, junction.cache.sqlite_cache):
-- one row per cached answer, its canonical response as msgpack, and when it
-- expires (epoch seconds).
CREATE TABLE IF NOT EXISTS response_cache (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    expires REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS response_cache_expires ON response_cache (expires);
