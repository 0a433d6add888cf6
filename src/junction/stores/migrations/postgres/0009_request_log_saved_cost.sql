-- What a response-cache hit saved: the cost of the answer it replayed (a hit
-- itself costs 0). Summed into spend_hourly.cache_savings.
ALTER TABLE request_log ADD COLUMN IF NOT EXISTS saved_cost DOUBLE PRECISION;
