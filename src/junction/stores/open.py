"""From the config and the environment to the stores one process uses.

- Records: the database ``stores.database_url`` (or ``$JUNCTION_DATABASE_URL``)
  names; with neither, the embedded SQLite file when virtual keys can exist
  (a master key is set), else memory (nothing written to disk);
  ``memory://`` keeps them in memory on purpose (tests, throw-away runs).
- Counters: Redis when ``stores.redis_url`` (or ``$JUNCTION_REDIS_URL``) is
  set, else PostgreSQL when the database is; both behind
  :class:`~junction.stores.resilient.ResilientCounters` (the configured
  failure behaviour). Otherwise this process's memory.
"""

from __future__ import annotations

from collections.abc import Mapping

from junction.config import Config
from junction.stores import Counters, Records, Stores
from junction.stores.memory import MemoryCounters, MemoryRecords
from junction.stores.resilient import ResilientCounters
from junction.stores.urls import DEFAULT_DATABASE_URL, open_records


def database_url(config: Config, env: Mapping[str, str]) -> str | None:
    return config.stores.database_url or env.get("JUNCTION_DATABASE_URL") or None


def redis_url(config: Config, env: Mapping[str, str]) -> str | None:
    return config.stores.redis_url or env.get("JUNCTION_REDIS_URL") or None


def redis_prefix(config: Config, env: Mapping[str, str]) -> str:
    """The key prefix every Redis store of this gateway uses (without the colon)."""
    return config.stores.redis_prefix or env.get("JUNCTION_REDIS_PREFIX") or "junction"


def processes(config: Config, env: Mapping[str, str]) -> int:
    """How many processes share the limits (``stores.processes``, else ``--workers``)."""
    if config.stores.processes is not None:
        return config.stores.processes
    workers = env.get("JUNCTION_WORKERS", "1")
    return int(workers) if workers.isdigit() and int(workers) > 0 else 1


async def open_stores(config: Config, env: Mapping[str, str]) -> Stores:
    settings = config.stores
    url = database_url(config, env)
    keys_possible = bool(config.server.master_key or env.get("JUNCTION_MASTER_KEY"))
    records: Records
    if url == "memory://":
        records = MemoryRecords()
    elif url is not None or keys_possible:
        records = await open_records(url or DEFAULT_DATABASE_URL, migrate=settings.migrate_on_start)
    else:
        records = MemoryRecords()
    counters: Counters
    shared = redis_url(config, env)
    if shared is not None:
        from junction.stores.redis.counters import RedisCounters

        inner: Counters = RedisCounters(shared, f"{redis_prefix(config, env)}:")
        counters = ResilientCounters(inner, settings.on_unreachable, processes(config, env))
    elif url is not None and url.startswith(("postgres://", "postgresql://")):
        from junction.stores.postgres.counters import PostgresCounters

        counters = ResilientCounters(
            PostgresCounters(url), settings.on_unreachable, processes(config, env)
        )
    else:
        counters = MemoryCounters()
    return Stores(records, counters)
