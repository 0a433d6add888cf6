"""Which database drivers the stores use: asyncpg vs psycopg 3 (async), and
redis-py's asyncio client, measured on the queries the gateway's hot path
makes (a key lookup by its hash; an atomic counter script).

    python bench/stores/drivers.py [--n 3000]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, database test) and
Redis on 127.0.0.1:6379. Prints microseconds per call (wall and process
CPU), median of five rounds, for each driver in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable

PG = "postgresql://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/0"


async def _rounds(call: Callable[[], Awaitable[object]], n: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(5):
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            await call()
        walls.append((time.perf_counter() - w0) / n * 1e6)
        cpus.append((time.process_time() - c0) / n * 1e6)
    return statistics.median(walls), statistics.median(cpus)


async def main(n: int) -> None:
    import asyncpg
    import psycopg
    import redis.asyncio as redis

    table = f"bench_keys_{secrets.token_hex(4)}"
    digest = secrets.token_hex(32)
    setup = await asyncpg.connect(PG)
    await setup.execute(f"CREATE TABLE {table} (key_hash text PRIMARY KEY, body text)")
    await setup.execute(f"INSERT INTO {table} VALUES ($1, 'x')", digest)
    rows: list[tuple[str, float, float]] = []
    try:
        pool = await asyncpg.create_pool(PG, min_size=1, max_size=1)
        query = f"SELECT body FROM {table} WHERE key_hash = $1"

        async def by_asyncpg() -> object:
            return await pool.fetchval(query, digest)

        rows.append(("asyncpg pool, key by hash", *await _rounds(by_asyncpg, n)))
        await pool.close()
        direct = await asyncpg.connect(PG)
        prepared = await direct.prepare(query)

        async def by_asyncpg_prepared() -> object:
            return await prepared.fetchval(digest)

        rows.append(("asyncpg connection, prepared", *await _rounds(by_asyncpg_prepared, n)))
        await direct.close()
        conn = await psycopg.AsyncConnection.connect(PG, autocommit=True, prepare_threshold=0)
        pquery = f"SELECT body FROM {table} WHERE key_hash = %s"

        async def by_psycopg() -> object:
            cur = await conn.execute(pquery, (digest,))
            return await cur.fetchone()

        rows.append(("psycopg 3 async, key by hash", *await _rounds(by_psycopg, n)))
        await conn.close()
    finally:
        await setup.execute(f"DROP TABLE {table}")
        await setup.close()
    client = redis.from_url(REDIS)
    name = f"bench:{secrets.token_hex(4)}"
    script = client.register_script(
        "local v = redis.call('INCRBY', KEYS[1], ARGV[1]) "
        "redis.call('EXPIRE', KEYS[1], 60) return v"
    )

    async def by_redis() -> object:
        return await script(keys=[name], args=[1])

    rows.append(("redis-py asyncio, Lua counter", *await _rounds(by_redis, n)))
    await client.delete(name)
    await client.aclose()
    print(f"{'driver, call':<34} {'wall µs':>9} {'CPU µs':>8}")
    for label, wall, cpu in rows:
        print(f"{label:<34} {wall:>9.1f} {cpu:>8.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop (as serve does)")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop

        uvloop.run(main(args.n))
    else:
        asyncio.run(main(args.n))
