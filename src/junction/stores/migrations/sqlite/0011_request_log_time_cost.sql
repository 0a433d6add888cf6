-- The request log's cost filter reads the cost from the time index. The
-- (cost, time) index cost every row a write at a random place in its B-tree,
-- and the planner never chose it for a min_cost page (docs/decisions.md §13).
DROP INDEX IF EXISTS request_log_cost;
DROP INDEX IF EXISTS request_log_time;
CREATE INDEX IF NOT EXISTS request_log_time_cost ON request_log (time, id, cost);
