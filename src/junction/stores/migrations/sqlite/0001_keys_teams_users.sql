-- Keys, teams and users (junction.stores.sqlite.records). Times are epoch
-- seconds (REAL); limits, metadata and provider are JSON text.
CREATE TABLE IF NOT EXISTS keys (
    id TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    team_id TEXT,
    user_id TEXT,
    limits TEXT NOT NULL DEFAULT '{}',
    expires_at REAL,
    revoked_at REAL,
    created_at REAL NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    provider TEXT,
    provider_locked INTEGER NOT NULL DEFAULT 0,
    kind TEXT NOT NULL DEFAULT 'virtual'
);
CREATE UNIQUE INDEX IF NOT EXISTS keys_key_hash ON keys (key_hash);
CREATE INDEX IF NOT EXISTS keys_team_id ON keys (team_id);
CREATE INDEX IF NOT EXISTS keys_user_id ON keys (user_id);

CREATE TABLE IF NOT EXISTS teams (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at REAL NOT NULL,
    limits TEXT NOT NULL DEFAULT '{}',
    metadata TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at REAL NOT NULL,
    team_id TEXT,
    email TEXT,
    limits TEXT NOT NULL DEFAULT '{}',
    metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS users_team_id ON users (team_id);
