-- Shared counters for rate limits and budgets where no Redis is configured
-- (junction.stores.postgres.counters). Layouts: junction.stores.windows.
--
-- counters: one row per bucket of a sliding or rolling window (bucket: the
--   second or hour number), or one row per calendar period total (bucket 0;
--   the period's start is part of the name). expires_at (epoch seconds): when
--   the row leaves its window; expired rows are deleted as counters are used.
-- counter_leases: one row per live concurrency lease, released by settle,
--   expiring on its own after 15 minutes (a process that died mid-request).
CREATE TABLE IF NOT EXISTS counters (
    name text NOT NULL,
    bucket bigint NOT NULL,
    amount double precision NOT NULL,
    expires_at double precision NOT NULL,
    PRIMARY KEY (name, bucket)
);

CREATE TABLE IF NOT EXISTS counter_leases (
    name text NOT NULL,
    lease text NOT NULL,
    expires_at double precision NOT NULL,
    PRIMARY KEY (name, lease)
);
