-- Stored Responses (the /v1/responses door's store: true), see docs/responses.md.
-- response and input_items are the JSON the client got and sent, kept as text
-- so a fetch returns the same bytes.
CREATE TABLE IF NOT EXISTS responses (
    id TEXT PRIMARY KEY,
    owner TEXT,
    previous_id TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    response TEXT NOT NULL,
    input_items TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS responses_expires_at ON responses (expires_at);
