"""The authenticator's key cache: a reload with unchanged records keeps the
same Principal (so the stages' per-principal policy is reused, not made and
kept again every key_cache_seconds); a changed record gives a new one."""

from __future__ import annotations

import msgspec

import junction.gateway  # noqa: F401  (junction.policy is imported through the gateway)
from junction.config import key_digest, parse_config
from junction.policy.auth import Authenticator
from junction.stores import Stores
from junction.stores.memory import MemoryCounters, MemoryRecords
from junction.stores.records import KeyRecord

SECRET = "sk-jx-cache-test-0001"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def test_an_unchanged_key_keeps_its_principal_a_changed_one_does_not() -> None:
    config = parse_config("server:\n  master_key: sk-master-cache-0001\nmodels: {}\n", {})
    records = MemoryRecords()
    key = KeyRecord(
        id="key_1", name="k", key_hash=key_digest(SECRET), prefix="sk-jx-ca", created_at=0
    )
    await records.add_key(key)
    clock = Clock()
    auth = Authenticator(config, Stores(records, MemoryCounters()), {}, clock)
    first = await auth.authenticate(SECRET)
    clock.now += 10 * config.stores.key_cache_seconds  # the cached entry expired
    again = await auth.authenticate(SECRET)
    assert again is first  # reloaded, records unchanged: the same object
    await records.put_key(msgspec.structs.replace(key, name="renamed"))
    clock.now += 10 * config.stores.key_cache_seconds
    changed = await auth.authenticate(SECRET)
    assert changed is not first
    assert changed is not None
    assert changed.name == "renamed"
