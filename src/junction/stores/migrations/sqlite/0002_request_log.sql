-- The request log (one row per request) and its hourly spend rollup.
CREATE TABLE IF NOT EXISTS request_log (
    id TEXT PRIMARY KEY,
    time REAL NOT NULL,
    key_id TEXT NOT NULL DEFAULT '',
    key_name TEXT NOT NULL DEFAULT '',
    team TEXT NOT NULL DEFAULT '',
    user_id TEXT NOT NULL DEFAULT '',
    door TEXT NOT NULL DEFAULT '',
    model_asked TEXT NOT NULL DEFAULT '',
    model_used TEXT NOT NULL DEFAULT '',
    provider TEXT NOT NULL DEFAULT '',
    endpoint TEXT NOT NULL DEFAULT '',
    attempts TEXT NOT NULL DEFAULT '[]',
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens INTEGER NOT NULL DEFAULT 0,
    cost REAL,
    latency_ms REAL NOT NULL DEFAULT 0,
    ttft_ms REAL,
    status INTEGER NOT NULL,
    error TEXT,
    cache_hit INTEGER NOT NULL DEFAULT 0,
    streamed INTEGER NOT NULL DEFAULT 0,
    cancelled INTEGER NOT NULL DEFAULT 0,
    router TEXT,
    request_user TEXT,
    metadata TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    upstream_id TEXT,
    finish_reason TEXT,
    body TEXT
);
-- Time order carries the cost (0011): a min_cost filter reads it from this
-- index, which only ever grows at its end, instead of a (cost, time) index
-- that every row lands at a random place in.
CREATE INDEX IF NOT EXISTS request_log_time_cost ON request_log (time, id, cost);
CREATE INDEX IF NOT EXISTS request_log_key ON request_log (key_id, time, id);
CREATE INDEX IF NOT EXISTS request_log_team ON request_log (team, time, id);
CREATE INDEX IF NOT EXISTS request_log_user ON request_log (user_id, time, id);
CREATE INDEX IF NOT EXISTS request_log_model ON request_log (model_used, time, id);
CREATE INDEX IF NOT EXISTS request_log_provider ON request_log (provider, time, id);
CREATE INDEX IF NOT EXISTS request_log_status ON request_log (status, time, id);

CREATE TABLE IF NOT EXISTS request_log_tags (
    tag TEXT NOT NULL,
    time REAL NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (tag, time, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS request_log_tags_id ON request_log_tags (id);

CREATE TABLE IF NOT EXISTS spend_hourly (
    hour INTEGER NOT NULL,
    key_id TEXT NOT NULL,
    team TEXT NOT NULL,
    user_id TEXT NOT NULL,
    model TEXT NOT NULL,
    provider TEXT NOT NULL,
    requests INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens INTEGER NOT NULL DEFAULT 0,
    cost REAL NOT NULL DEFAULT 0,
    cache_hits INTEGER NOT NULL DEFAULT 0,
    cache_savings REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, key_id, team, user_id, model, provider)
) WITHOUT ROWID;

-- Per dimension and UTC day (dimension: key, team, user, model, provider): the
-- whole days of a day-grouped spend query, unfiltered, read here (few rows).
CREATE TABLE IF NOT EXISTS spend_daily (
    dimension TEXT NOT NULL,
    day INTEGER NOT NULL,
    value TEXT NOT NULL,
    requests INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens INTEGER NOT NULL DEFAULT 0,
    cost REAL NOT NULL DEFAULT 0,
    cache_hits INTEGER NOT NULL DEFAULT 0,
    cache_savings REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (dimension, day, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS spend_hourly_team ON spend_hourly (team, hour);
CREATE INDEX IF NOT EXISTS spend_hourly_key ON spend_hourly (key_id, hour);
