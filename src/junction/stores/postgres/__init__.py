"""The shared SQL backend: PostgreSQL through an asyncpg pool."""
