"""Counters on Redis: one Lua script decides and counts an admission
atomically, one more settles it; each is one round trip (EVALSHA).

Layout per counter (see junction.stores.windows): buckets are a hash
(field: bucket number, value: amount), a total is a string (INCRBYFLOAT),
concurrency leases a sorted set (member: lease id, score: expiry). Every
key is ``prefix + Check.counter`` and carries a TTL.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError
from redis.retry import Retry

from junction.stores.protocols import Check, Correction, StoreUnavailable, Verdict
from junction.stores.windows import (
    LEASE_SECONDS,
    SEED_SECONDS,
    decide,
    lease_second,
    new_lease,
    plan,
)

SOCKET_TIMEOUT = 1.0
"""Seconds a Redis call may take before the store counts as unreachable (a
refused connection is seen at once; this bounds a Redis that hangs)."""

_CODES = {"buckets": "b", "total": "t", "leases": "p"}

# KEYS: one per check. ARGV: now, lease member, then per check: layout code,
# limit, amount, hard (1/0), current bucket, span, reset, ttl.
# Returns: refused index (0: admitted), then per check used and reset_at.
_ADMIT = """
local now = tonumber(ARGV[1])
local member = ARGV[2]
local refused = 0
local out = {}
for i = 1, #KEYS do
  local b = 2 + (i - 1) * 8
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
    local b = 2 + (i - 1) * 8
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
    redis.call('EXPIRE', key, ttl)
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


def _num(x: float) -> str:
    return repr(float(x))


class RedisCounters:
    """:class:`~junction.stores.protocols.Counters` on one Redis, shared by
    every process that uses the same ``url`` and ``prefix``."""

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

    async def admit(self, checks: Sequence[Check], now: float) -> Verdict:
        lease = new_lease(now)
        keys: list[str] = []
        args: list[str] = [_num(now), lease]
        plans = [plan(c, now) for c in checks]
        for check, p in zip(checks, plans, strict=True):
            keys.append(self.prefix + check.counter)
            args += [
                _CODES[p.layout],
                _num(check.limit),
                _num(check.amount),
                "1" if check.hard else "0",
                str(p.bucket(now)),
                str(p.span),
                _num(p.reset),
                _num(p.ttl),
            ]
        reply = await self._call(self._admit, keys, args)
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
        if not lease or not corrections:
            return
        admitted = lease_second(lease)
        keys: list[str] = []
        args: list[str] = [lease]
        for fix in corrections:
            check = fix.check
            p = plan(check, admitted)
            if check.kind == "requests":
                continue
            keys.append(self.prefix + check.counter)
            delta = 0.0 if p.layout == "leases" else fix.actual - check.amount
            args += [_CODES[p.layout], _num(delta), str(p.bucket(admitted))]
        if keys:
            await self._call(self._settle, keys, args)

    async def seed(self, counter: str, amount: float) -> None:
        try:
            await self._redis.set(
                self.prefix + counter, _num(amount), nx=True, ex=math.ceil(SEED_SECONDS)
            )
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(f"Redis: {type(exc).__name__}: {exc}") from exc

    async def peek(self, checks: Sequence[Check], now: float) -> Verdict:
        """One pipelined read (HGETALL, GET or ZCOUNT per counter), nothing written."""
        plans = [plan(c, now) for c in checks]
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
