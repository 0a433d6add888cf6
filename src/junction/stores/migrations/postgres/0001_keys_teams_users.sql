-- Keys, teams and users (junction.stores.postgres.records); the schema is
-- documented table by table in docs/operations.md. Times are epoch seconds
-- (double precision, exactly what the records carry); limits, metadata and
-- provider are jsonb.
CREATE TABLE IF NOT EXISTS keys (
    id text PRIMARY KEY,
    key_hash text NOT NULL,
    name text NOT NULL,
    prefix text NOT NULL,
    team_id text,
    user_id text,
    limits jsonb NOT NULL DEFAULT '{}',
    expires_at double precision,
    revoked_at double precision,
    created_at double precision NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}',
    provider jsonb,
    provider_locked boolean NOT NULL DEFAULT false,
    kind text NOT NULL DEFAULT 'virtual'
);
CREATE UNIQUE INDEX IF NOT EXISTS keys_key_hash ON keys (key_hash);
CREATE INDEX IF NOT EXISTS keys_team_id ON keys (team_id);
CREATE INDEX IF NOT EXISTS keys_user_id ON keys (user_id);

CREATE TABLE IF NOT EXISTS teams (
    id text PRIMARY KEY,
    name text NOT NULL,
    created_at double precision NOT NULL,
    limits jsonb NOT NULL DEFAULT '{}',
    metadata jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE IF NOT EXISTS users (
    id text PRIMARY KEY,
    name text NOT NULL,
    created_at double precision NOT NULL,
    team_id text,
    email text,
    limits jsonb NOT NULL DEFAULT '{}',
    metadata jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS users_team_id ON users (team_id);
