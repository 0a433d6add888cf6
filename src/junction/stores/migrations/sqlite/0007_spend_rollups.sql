-- Two more spend rollups, derived from each batch's hourly groups in the same
-- transaction (junction.requestlog.rollup), so a spend query reads the smallest
-- rollup that answers it (docs/operations.md, "Rollups"):
-- spend_daily_groups, every group of spend_hourly per UTC day (the whole days
-- of a day-grouped query with a filter), and spend_hourly_dims, per dimension,
-- hour and value like spend_daily per day (hour groups and the partial edge
-- days of a query without a filter).
-- Also applied by the request log at start-up: IF NOT EXISTS, and each table
-- filled from spend_hourly only while it is empty (a log older than it).
CREATE TABLE IF NOT EXISTS spend_daily_groups (
    day INTEGER NOT NULL,
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
    PRIMARY KEY (day, key_id, team, user_id, model, provider)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS spend_daily_groups_team ON spend_daily_groups (team, day);
CREATE INDEX IF NOT EXISTS spend_daily_groups_key ON spend_daily_groups (key_id, day);
INSERT INTO spend_daily_groups
SELECT (hour / 86400) * 86400, key_id, team, user_id, model, provider,
    SUM(requests), SUM(errors), SUM(prompt_tokens), SUM(completion_tokens),
    SUM(cached_tokens), SUM(cache_write_tokens), SUM(reasoning_tokens), SUM(cost),
    SUM(cache_hits), SUM(cache_savings)
FROM spend_hourly
WHERE NOT EXISTS (SELECT 1 FROM spend_daily_groups)
GROUP BY 1, 2, 3, 4, 5, 6
ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS spend_hourly_dims (
    dimension TEXT NOT NULL,
    hour INTEGER NOT NULL,
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
    PRIMARY KEY (dimension, hour, value)
) WITHOUT ROWID;
INSERT INTO spend_hourly_dims
SELECT 'key', hour, key_id,
    SUM(requests), SUM(errors), SUM(prompt_tokens), SUM(completion_tokens),
    SUM(cached_tokens), SUM(cache_write_tokens), SUM(reasoning_tokens), SUM(cost),
    SUM(cache_hits), SUM(cache_savings)
FROM spend_hourly WHERE NOT EXISTS (SELECT 1 FROM spend_hourly_dims) GROUP BY 2, 3
UNION ALL
SELECT 'team', hour, team,
    SUM(requests), SUM(errors), SUM(prompt_tokens), SUM(completion_tokens),
    SUM(cached_tokens), SUM(cache_write_tokens), SUM(reasoning_tokens), SUM(cost),
    SUM(cache_hits), SUM(cache_savings)
FROM spend_hourly WHERE NOT EXISTS (SELECT 1 FROM spend_hourly_dims) GROUP BY 2, 3
UNION ALL
SELECT 'user', hour, user_id,
    SUM(requests), SUM(errors), SUM(prompt_tokens), SUM(completion_tokens),
    SUM(cached_tokens), SUM(cache_write_tokens), SUM(reasoning_tokens), SUM(cost),
    SUM(cache_hits), SUM(cache_savings)
FROM spend_hourly WHERE NOT EXISTS (SELECT 1 FROM spend_hourly_dims) GROUP BY 2, 3
UNION ALL
SELECT 'model', hour, model,
    SUM(requests), SUM(errors), SUM(prompt_tokens), SUM(completion_tokens),
    SUM(cached_tokens), SUM(cache_write_tokens), SUM(reasoning_tokens), SUM(cost),
    SUM(cache_hits), SUM(cache_savings)
FROM spend_hourly WHERE NOT EXISTS (SELECT 1 FROM spend_hourly_dims) GROUP BY 2, 3
UNION ALL
SELECT 'provider', hour, provider,
    SUM(requests), SUM(errors), SUM(prompt_tokens), SUM(completion_tokens),
    SUM(cached_tokens), SUM(cache_write_tokens), SUM(reasoning_tokens), SUM(cost),
    SUM(cache_hits), SUM(cache_savings)
FROM spend_hourly WHERE NOT EXISTS (SELECT 1 FROM spend_hourly_dims) GROUP BY 2, 3
ON CONFLICT DO NOTHING;
