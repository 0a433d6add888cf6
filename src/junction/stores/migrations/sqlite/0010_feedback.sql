-- Quality feedback on logged requests (POST /v1/feedback, docs/routing.md):
-- the latest score a key gave one of its requests, in [0, 1].
CREATE TABLE IF NOT EXISTS request_feedback (
    request_id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL DEFAULT '',
    score REAL NOT NULL,
    time REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS request_feedback_time ON request_feedback (time);
