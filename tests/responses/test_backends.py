"""Every response store backend keeps the same contract: put, get, replace,
expiry, delete, purge; and the write-through cache in front of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from _stored_responses import fresh_postgres
from junction.responses_store import (
    ResponseStore,
    StoredResponse,
    StoredResponses,
    open_response_store,
)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ResponseStore]:
    if request.param == "postgres":
        async with fresh_postgres() as url:
            opened = await open_response_store(url)
            yield opened
            await opened.close()
        return
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'r.db'}"
    opened = await open_response_store(url)
    yield opened
    await opened.close()


def record(rid: str, expires_at: float = 2000.0, owner: str | None = "alice") -> StoredResponse:
    body = b'{"id": "%s", "output": []}' % rid.encode()
    return StoredResponse(rid, owner, None, 1000.0, expires_at, body, b"[]")


async def test_put_get_replace_delete(store: ResponseStore) -> None:
    assert await store.get("resp_a", 1500.0) is None
    await store.put(record("resp_a"))
    found = await store.get("resp_a", 1500.0)
    assert found == record("resp_a")
    await store.put(record("resp_a", owner="bob"))
    replaced = await store.get("resp_a", 1500.0)
    assert replaced is not None
    assert replaced.owner == "bob"
    assert await store.delete("resp_a") is True
    assert await store.delete("resp_a") is False
    assert await store.get("resp_a", 1500.0) is None


async def test_expired_records_are_gone_and_purged(store: ResponseStore) -> None:
    await store.put(record("resp_old", expires_at=1100.0))
    await store.put(record("resp_new", expires_at=3000.0))
    assert await store.get("resp_old", 1200.0) is None
    assert await store.get("resp_new", 1200.0) is not None
    assert await store.purge(1200.0) == 1
    assert await store.purge(1200.0) == 0
    assert await store.get("resp_new", 1200.0) is not None


async def test_the_cache_answers_before_the_durable_write_lands(tmp_path: Path) -> None:
    durable = await open_response_store(f"sqlite:///{tmp_path / 'c.db'}")
    now = [1000.0]
    stored = StoredResponses(durable, ttl_seconds=60, clock=lambda: now[0])
    kept = stored.record("resp_x", "alice", None, b'{"output": []}', b"[]")
    stored.save(kept)
    assert await stored.get("resp_x") == kept  # no await between: from the cache
    await stored.close()  # waits for the write
    reopened = await open_response_store(f"sqlite:///{tmp_path / 'c.db'}")
    assert await reopened.get("resp_x", 1001.0) == kept
    assert await reopened.get("resp_x", 1061.0) is None  # the TTL
    await reopened.close()


async def test_delete_waits_for_a_write_in_flight(tmp_path: Path) -> None:
    stored = StoredResponses(await open_response_store(f"sqlite:///{tmp_path / 'd.db'}"), 60)
    stored.save(stored.record("resp_y", None, None, b"{}", b"[]"))
    assert await stored.delete("resp_y") is True
    assert await stored.durable.get("resp_y", stored.clock()) is None
    await stored.close()


async def test_an_unknown_url_is_refused_without_showing_it() -> None:
    with pytest.raises(ValueError, match="mysql") as caught:
        await open_response_store("mysql://user:secret@host/db")
    assert "secret" not in str(caught.value)


def test_the_package_exports_only_its_contract() -> None:
    import junction.responses_store as package

    assert sorted(package.__all__) == [
        "MemoryResponseStore",
        "ResponseStore",
        "StoredResponse",
        "StoredResponses",
        "open_response_store",
    ]


async def test_saves_purge_expired_records_once_an_hour(tmp_path: Path) -> None:
    now = [1000.0]
    durable = await open_response_store(f"sqlite:///{tmp_path / 'p.db'}")
    stored = StoredResponses(durable, ttl_seconds=60, clock=lambda: now[0], purge_every=3600)
    stored.save(stored.record("resp_old", None, None, b"{}", b"[]"))
    await stored.flush()
    now[0] += 3600  # resp_old expired long ago; the next save purges
    stored.save(stored.record("resp_new", None, None, b"{}", b"[]"))
    await stored.flush()
    assert await durable.get("resp_new", now[0]) is not None
    assert await durable.get("resp_old", 0.0) is None  # deleted, not only hidden
    await stored.close()
