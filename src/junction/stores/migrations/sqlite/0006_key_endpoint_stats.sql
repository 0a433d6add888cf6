-- Each key's own endpoint statistics (junction.requestlog.endpoints): one row
-- per attempt of a keyed request (trimmed after an hour), and per key,
-- endpoint and minute the attempts that count for uptime (trimmed after a day).
-- No index on time alone: the trim (hourly) scans these small tables, and a
-- planner offered one prefers it to the primary key for a page (measured).
-- Also applied by the request log at start-up: every statement IF NOT EXISTS.
CREATE TABLE IF NOT EXISTS key_endpoint_attempts (
    key_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    time REAL NOT NULL,
    id TEXT NOT NULL,
    n INTEGER NOT NULL,
    status INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    ttft_ms REAL,
    latency_ms REAL NOT NULL,
    tokens_per_s REAL,
    PRIMARY KEY (key_id, endpoint, time, id, n)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS key_endpoint_minutely (
    key_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    minute INTEGER NOT NULL,
    up_total INTEGER NOT NULL DEFAULT 0,
    up_ok INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, endpoint, minute)
) WITHOUT ROWID;
