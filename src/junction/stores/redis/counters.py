"""Counters on Redis: one Lua script decides and counts an admission
atomically, one more settles it; each is one round trip (EVALSHA), and a
batch of settles is one pipelined round trip.

Layout per counter (see junction.stores.windows): buckets are a hash
(field: bucket number, value: amount), a total is a string (INCRBYFLOAT),
concurrency leases a sorted set (member: lease id, score: expiry). Every
key is ``prefix + Check.counter`` and carries a TTL (but a ``total``
budget's, which never expires).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, RedisError
from redis.retry import Retry

from junction.stores.protocols import (
    Check,
    Correction,
    Settle,
    SpendRecord,
    Spent,
    StoreUnavailable,
    Verdict,
)
from junction.stores.windows import (
    LEASE_SECONDS,
    Plan,
    decide,
    lease_second,
    new_lease,
    plan,
    recorded_spend,
    seed_buckets,
)

SOCKET_TIMEOUT = 1.0
"""Seconds a Redis call may take before the store counts as unreachable (a
refused connection is seen at once; this bounds a Redis that hangs)."""

_CODES = {"buckets": "b", "total": "t", "leases": "p"}
_ARGS = 9
"""ARGV entries per check in the admission script."""

# KEYS: one per check. ARGV: now, lease member, then per check: layout code,
# limit, amount, hard (1/0), current bucket, span, reset, ttl (0: none),
# seeded (1: a budget's counter that must exist, restored when missing).
# Returns: refused index (0: admitted), then per check used and reset_at;
# or -1 and the indexes of the missing seeded counters (nothing counted).
_ADMIT = """
local now = tonumber(ARGV[1])
local member = ARGV[2]
local missing = {}
for i = 1, #KEYS do
  if ARGV[2 + i * 9] == '1' and redis.call('EXISTS', KEYS[i]) == 0 then
    missing[#missing + 1] = tostring(i)
  end
end
if #missing > 0 then
  table.insert(missing, 1, '-1')
  return missing
end
local refused = 0
local out = {}
for i = 1, #KEYS do
  local b = 2 + (i - 1) * 9
  local code, key = ARGV[b + 1], KEYS[i]
  local limit, amount = tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])
  local cur, span = tonumber(ARGV[b + 5]), tonumber(ARGV[b + 6])
  local used, reset = 0, now
  if code == 'b' then
    local oldest = cur
    local flat = redis.call('HGETALL', key)
    for j = 1, #flat, 2 do
      local bucket = tonumber(flat[j])
      if bucket <= cur - span then
        redis.call('HDEL', key, flat[j])
      elseif bucket <= cur then
        local v = tonumber(flat[j + 1])
        used = used + v
        if v ~= 0 and bucket < oldest then oldest = bucket end
      end
    end
    reset = oldest + span
  elseif code == 't' then
    used = tonumber(redis.call('GET', key) or '0')
    reset = tonumber(ARGV[b + 7])
  else
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
    used = redis.call('ZCARD', key)
  end
  if refused == 0 and ARGV[b + 4] == '1' and used + amount > limit then
    refused = i
  end
  out[2 * i - 1] = string.format('%.17g', used)
  out[2 * i] = string.format('%.17g', reset)
end
if refused == 0 then
  for i = 1, #KEYS do
    local b = 2 + (i - 1) * 9
    local code, key, amount = ARGV[b + 1], KEYS[i], ARGV[b + 3]
    local ttl = math.ceil(tonumber(ARGV[b + 8]))
    if code == 'b' then
      redis.call('HINCRBYFLOAT', key, ARGV[b + 5], amount)
    elseif code == 't' then
      redis.call('INCRBYFLOAT', key, amount)
    else
      redis.call('ZADD', key, now + ttl, member)
      ttl = ttl + 60
    end
    if ttl > 0 then
      redis.call('EXPIRE', key, ttl)
    end
  end
end
table.insert(out, 1, tostring(refused))
return out
"""

# KEYS: one per correction. ARGV: lease member, then per correction: layout
# code, delta, bucket. Corrections of expired counters are dropped.
_SETTLE = """
local member = ARGV[1]
for i = 1, #KEYS do
  local b = 1 + (i - 1) * 3
  local code, key = ARGV[b + 1], KEYS[i]
  if code == 'p' then
    redis.call('ZREM', key, member)
  elseif redis.call('EXISTS', key) == 1 then
    if code == 'b' then
      redis.call('HINCRBYFLOAT', key, ARGV[b + 3], ARGV[b + 2])
    elseif code == 't' then
      redis.call('INCRBYFLOAT', key, ARGV[b + 2])
    end
  end
end
return 1
"""

# KEYS: counters to seed. ARGV: per key: layout code, ttl (0: none), n, then
# n (bucket, amount) pairs (a total: one pair, its bucket ignored). A key
# that exists is left as it is (set-if-absent: concurrent seeds count once).
_SEED = """
local at = 1
for i = 1, #KEYS do
  local key, code = KEYS[i], ARGV[at]
  local ttl, n = math.ceil(tonumber(ARGV[at + 1])), tonumber(ARGV[at + 2])
  if redis.call('EXISTS', key) == 0 then
    if code == 't' then
      redis.call('SET', key, ARGV[at + 4])
    else
      for j = 0, n - 1 do
        redis.call('HSET', key, ARGV[at + 3 + 2 * j], ARGV[at + 4 + 2 * j])
      end
    end
    if ttl > 0 then
      redis.call('EXPIRE', key, ttl)
    end
  end
  at = at + 3 + 2 * n
end
return 1
"""
RESTORE_TRIES = 3
"""Admissions tried while seeded counters keep going missing (a Redis
flushed again between the seed and the admission), before counting anyway."""

log = logging.getLogger("junction.stores")


def _num(x: float) -> str:
    return repr(float(x))


def _ttl(p: Plan, now: float) -> str:
    ttl = p.ttl(now)
    return _num(ttl) if math.isfinite(ttl) else "0"


class RedisCounters:
    """:class:`~junction.stores.protocols.Counters` on one Redis, shared by
    every process that uses the same ``url`` and ``prefix``.

    Given a durable record of spend (:meth:`restore_spend_from`), the
    admission script also checks that each budget's counter exists; one that
    does not (a flushed or restarted Redis, a new period) is seeded from the
    record (set-if-absent) and the admission tried again. Every other
    admission stays one round trip."""

    def __init__(
        self, url: str, prefix: str = "junction:", *, timeout: float = SOCKET_TIMEOUT
    ) -> None:
        self.prefix = prefix
        self._redis: Redis = Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
            decode_responses=True,
        )
        self._admit = self._redis.register_script(_ADMIT)
        self._settle = self._redis.register_script(_SETTLE)
        self._seed = self._redis.register_script(_SEED)
        self._record: SpendRecord | None = None
        self.restored = 0
        """Budget counters seeded from the durable record (a metric)."""

    def restore_spend_from(self, record: SpendRecord) -> None:
        self._record = record

    async def admit(self, checks: Sequence[Check], now: float) -> Verdict:
        lease = new_lease(now)
        seeding = self._record is not None
        keys: list[str] = []
        args: list[str] = [_num(now), lease]
        plans = [plan(c) for c in checks]
        prefix = self.prefix
        for check, p in zip(checks, plans, strict=True):
            keys.append(prefix + check.counter)
            args += [
                _CODES[p.layout],
                _num(check.limit),
                _num(check.amount),
                "1" if check.hard else "0",
                str(p.bucket(now)),
                str(p.span),
                _num(p.reset),
                _ttl(p, now),
                "1" if seeding and check.kind == "spend" else "0",
            ]
        reply = await self._call(self._admit, keys, args)
        tries = 1
        while reply[0] == "-1":
            missing = [checks[int(i) - 1] for i in reply[1:]]
            if tries == RESTORE_TRIES:
                log.error(
                    "budget counters keep disappearing from Redis (%s): counting without them",
                    ", ".join(c.counter for c in missing),
                )
                for index in reply[1:]:
                    args[2 + int(index) * _ARGS - 1] = "0"
            else:
                await self._restore(missing, now)
            reply = await self._call(self._admit, keys, args)
            tries += 1
        refused = int(reply[0])
        used = [float(x) for x in reply[1::2]]
        reset_at = [float(x) for x in reply[2::2]]
        for i, p in enumerate(plans):
            if p.layout == "buckets":  # the script answers in bucket numbers
                reset_at[i] = reset_at[i] * p.size
        if refused:
            return Verdict(False, checks[refused - 1], used, reset_at)
        return Verdict(True, None, used, reset_at, lease)

    async def settle(self, lease: str, corrections: Sequence[Correction], now: float) -> None:
        keys, args = self._settle_args(lease, corrections)
        if keys:
            await self._call(self._settle, keys, args)

    async def settle_many(self, settles: Sequence[Settle], now: float) -> None:
        """Every settle of the batch in one pipelined round trip."""
        calls = [c for lease, fixes in settles if (c := self._settle_args(lease, fixes))[0]]
        if len(calls) <= 1:
            for keys, args in calls:
                await self._call(self._settle, keys, args)
            return
        for attempt in range(2):
            pipe = self._redis.pipeline(transaction=False)
            for keys, args in calls:
                pipe.evalsha(self._settle.sha, len(keys), *keys, *args)
            try:
                await pipe.execute()
                return
            except NoScriptError:
                if attempt:
                    raise StoreUnavailable("Redis: the settle script will not load") from None
                self._settle.sha = await self._redis.script_load(_SETTLE)
            except (RedisError, OSError) as exc:
                raise StoreUnavailable(f"Redis: {type(exc).__name__}: {exc}") from exc

    def _settle_args(
        self, lease: str, corrections: Sequence[Correction]
    ) -> tuple[list[str], list[str]]:
        keys: list[str] = []
        args: list[str] = [lease]
        if not lease:
            return keys, args
        admitted = lease_second(lease)
        for fix in corrections:
            check = fix.check
            if check.kind == "requests":
                continue
            p = plan(check)
            keys.append(self.prefix + check.counter)
            delta = 0.0 if p.layout == "leases" else fix.actual - check.amount
            args += [_CODES[p.layout], _num(delta), str(p.bucket(admitted))]
        return keys, args

    async def seed(self, check: Check, spent: Spent, now: float) -> None:
        await self._seed_many([(check, spent)], now)

    async def _restore(self, missing: Sequence[Check], now: float) -> None:
        record = self._record
        assert record is not None
        found = [(check, await recorded_spend(record, check, now)) for check in missing]
        await self._seed_many(found, now)
        self.restored += len(found)
        spent = [(c, total) for c, s in found if (total := sum(usd for _, usd in s)) > 0]
        if spent:  # else a new period's counter (or one with nothing to lose)
            log.warning(
                "budget counters missing from Redis restored from the request log: %s",
                ", ".join(f"{c.counter} = ${total:.6f}" for c, total in spent),
            )

    async def _seed_many(self, seeds: Sequence[tuple[Check, Spent]], now: float) -> None:
        keys: list[str] = []
        args: list[str] = []
        for check, spent in seeds:
            p = plan(check)
            if p.layout == "leases":
                raise ValueError(f"{check.counter}: only a spend counter is seeded")
            keys.append(self.prefix + check.counter)
            if p.layout == "total":
                pairs = [("0", _num(sum(usd for _, usd in spent)))]
            else:
                pairs = [(str(b), _num(a)) for b, a in seed_buckets(p, spent, now).items()]
            args += [_CODES[p.layout], _ttl(p, now), str(len(pairs))]
            for bucket, amount in pairs:
                args += [bucket, amount]
        if keys:
            await self._call(self._seed, keys, args)

    async def peek(self, checks: Sequence[Check], now: float) -> Verdict:
        """One pipelined read (HGETALL, GET or ZCOUNT per counter), nothing written."""
        plans = [plan(c) for c in checks]
        pipe = self._redis.pipeline(transaction=False)
        for check, p in zip(checks, plans, strict=True):
            key = self.prefix + check.counter
            if p.layout == "buckets":
                pipe.hgetall(key)
            elif p.layout == "total":
                pipe.get(key)
            else:
                pipe.zcount(key, f"({_num(now)}", "+inf")
        try:
            replies = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(f"Redis: {type(exc).__name__}: {exc}") from exc
        stored: dict[str, list[tuple[int, float]]] = {}
        for check, p, reply in zip(checks, plans, replies, strict=True):
            if p.layout == "buckets":
                stored[check.counter] = [(int(b), float(a)) for b, a in reply.items()]
            else:
                stored[check.counter] = [(0, float(reply or 0))]
        return decide(checks, plans, stored, now)

    async def close(self) -> None:
        await self._redis.aclose()

    async def _call(self, script: AsyncScript, keys: list[str], args: list[str]) -> list[str]:
        try:
            reply = await script(keys=keys, args=args)
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(f"Redis: {type(exc).__name__}: {exc}") from exc
        return reply if isinstance(reply, list) else [str(reply)]


__all__ = ["LEASE_SECONDS", "RedisCounters"]
