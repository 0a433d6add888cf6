"""One suite for every Records backend: memory, SQLite (a temporary file)
and PostgreSQL (a real server, this session's own database)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import msgspec
import pytest

from junction.stores.migrate import upgrade
from junction.stores.postgres.records import PostgresRecords
from junction.stores.protocols import Records
from junction.stores.records import KeyRecord, Limits, TeamRecord, UserRecord
from junction.stores.rows import DuplicateRecord
from junction.stores.sqlite.records import SQLiteRecords

BACKENDS = ["memory", "sqlite", "postgres"]
SQL_BACKENDS = ["sqlite", "postgres"]


async def _postgres(url: str) -> PostgresRecords:
    import asyncpg

    await upgrade(url)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("TRUNCATE keys, teams, users")
    finally:
        await conn.close()
    return await PostgresRecords.open(url)


def _memory() -> Records:
    try:
        from junction.stores.memory.records import MemoryRecords
    except ImportError:
        pytest.skip("junction.stores.memory.records is not in this tree yet")
    return MemoryRecords()  # type: ignore[no-any-return]


@pytest.fixture
async def open_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[], Awaitable[Records]]]:
    """Opens the parametrised backend (several times for the SQL ones: one
    database, several handles); everything opened is closed afterwards."""
    backend: str = request.param
    opened: list[Records] = []
    if backend == "postgres":
        url = request.getfixturevalue("postgres_url")
        first: list[bool] = []

        async def make() -> Records:
            if not first:
                first.append(True)
                return await _postgres(url)
            return await PostgresRecords.open(url)
    elif backend == "sqlite":
        path = str(tmp_path / "junction.db")
        await upgrade(f"sqlite:///{path}")

        async def make() -> Records:
            return await SQLiteRecords.open(path)
    else:
        memory = _memory()

        async def make() -> Records:
            return memory

    async def tracked() -> Records:
        store = await make()
        opened.append(store)
        return store

    yield tracked
    for store in opened:
        await store.close()


@pytest.fixture
async def store(open_store: Callable[[], Awaitable[Records]]) -> Records:
    return await open_store()


def make_key(n: int, **changes: object) -> KeyRecord:
    base = KeyRecord(
        id=f"key_{n}",
        name=f"key {n}",
        key_hash=f"{n:064x}",
        prefix="sk-jx-ab",
        created_at=1_700_000_000.0 + n,
    )
    return msgspec.structs.replace(base, **changes)


FULL_KEY = KeyRecord(
    id="key_full",
    name="everything set",
    key_hash="a" * 64,
    prefix="sk-jx-full",
    created_at=1_700_000_000.25,
    team="team_a",
    user="user_a",
    limits=Limits(
        models=["sim/*", "openai/gpt-4o"],
        rpm=60,
        tpm=10_000,
        max_parallel=4,
        budget_usd=12.5,
        soft_budget_usd=10.0,
        budget_period="7d",
    ),
    expires_at=1_800_000_000.5,
    metadata={"owner": "ops", "tags": ["a", "b"], "n": 3, "nested": {"x": None}},
    provider={"order": ["sim"], "allow_fallbacks": False},
    provider_locked=True,
    kind="virtual",
    store_bodies=False,
)

every_backend = pytest.mark.parametrize("open_store", BACKENDS, indirect=True)
sql_backends = pytest.mark.parametrize("open_store", SQL_BACKENDS, indirect=True)


@every_backend
async def test_a_key_comes_back_exactly_as_stored(store: Records) -> None:
    await store.add_key(FULL_KEY)
    assert await store.key("key_full") == FULL_KEY
    assert await store.key_by_hash("a" * 64) == FULL_KEY
    assert await store.keys() == [FULL_KEY]


@every_backend
async def test_unknown_ids_and_hashes_are_none(store: Records) -> None:
    await store.add_key(make_key(1))
    assert await store.key("key_2") is None
    assert await store.key_by_hash("f" * 64) is None
    assert await store.team("nope") is None
    assert await store.user("nope") is None
    assert await store.delete_team("nope") is False
    assert await store.delete_user("nope") is False


@every_backend
async def test_rotation_through_put_key_moves_the_hash(store: Records) -> None:
    old = make_key(1)
    await store.add_key(old)
    rotated = make_key(1, key_hash="b" * 64, prefix="sk-jx-new")
    await store.put_key(rotated)
    assert await store.key_by_hash(old.key_hash) is None
    assert await store.key_by_hash("b" * 64) == rotated
    assert await store.key("key_1") == rotated
    assert len(await store.keys()) == 1


@every_backend
async def test_a_revoked_key_is_still_readable(store: Records) -> None:
    key = make_key(1)
    await store.add_key(key)
    revoked = make_key(1, revoked_at=1_700_000_100.0)
    await store.put_key(revoked)
    found = await store.key_by_hash(key.key_hash)
    assert found is not None
    assert found.revoked_at == 1_700_000_100.0
    assert await store.key("key_1") == revoked


@every_backend
async def test_keys_filter_by_team_and_user(store: Records) -> None:
    a1 = make_key(1, team="a", user="u1")
    a2 = make_key(2, team="a", user="u2")
    b1 = make_key(3, team="b", user="u1")
    none = make_key(4)
    for k in (b1, a2, none, a1):
        await store.add_key(k)
    assert await store.keys() == [a1, a2, b1, none]  # in creation order
    assert await store.keys(team="a") == [a1, a2]
    assert await store.keys(user="u1") == [a1, b1]
    assert await store.keys(team="a", user="u1") == [a1]
    assert await store.keys(team="c") == []


@every_backend
async def test_teams_crud(store: Records) -> None:
    team = TeamRecord(
        id="team_a", name="A", created_at=1.5, limits=Limits(budget_usd=100.0, rpm=10)
    )
    other = TeamRecord(id="team_b", name="B", created_at=2.5, metadata={"cost_centre": 7})
    await store.add_team(other)
    await store.add_team(team)
    assert await store.team("team_a") == team
    assert await store.teams() == [team, other]
    changed = TeamRecord(id="team_a", name="A2", created_at=1.5, limits=Limits(models=["x/*"]))
    await store.put_team(changed)
    assert await store.team("team_a") == changed
    assert await store.delete_team("team_a") is True
    assert await store.team("team_a") is None
    assert await store.teams() == [other]


@every_backend
async def test_store_bodies_keeps_true_false_and_unset_apart(store: Records) -> None:
    """Three states: on, off, and None (inherit the team's, then the config's)."""
    for n, value in enumerate((True, False, None)):
        team = TeamRecord(id=f"team_{n}", name="t", created_at=float(n), store_bodies=value)
        await store.add_team(team)
        assert (await store.team(team.id)) == team
        assert (await store.team(team.id)).store_bodies is value  # type: ignore[union-attr]
        key = make_key(n, team=team.id, store_bodies=value)
        await store.add_key(key)
        assert (await store.key(key.id)).store_bodies is value  # type: ignore[union-attr]
    flipped = msgspec.structs.replace(make_key(2, team="team_2"), store_bodies=True)
    await store.put_key(flipped)
    assert (await store.key_by_hash(flipped.key_hash)) == flipped
    await store.put_team(TeamRecord(id="team_0", name="t", created_at=0.0))
    assert (await store.team("team_0")).store_bodies is None  # type: ignore[union-attr]


@every_backend
async def test_users_crud_and_team_filter(store: Records) -> None:
    u1 = UserRecord(id="u1", name="Ada", created_at=1.0, team="a", email="ada@example.com")
    u2 = UserRecord(id="u2", name="Bob", created_at=2.0, team="b", limits=Limits(tpm=5))
    u3 = UserRecord(id="u3", name="Cy", created_at=3.0, metadata={"k": "v"})
    for u in (u3, u1, u2):
        await store.add_user(u)
    assert await store.user("u1") == u1
    assert await store.users() == [u1, u2, u3]
    assert await store.users(team="a") == [u1]
    moved = UserRecord(id="u2", name="Bob", created_at=2.0, team="a")
    await store.put_user(moved)
    assert await store.users(team="a") == [u1, moved]
    assert await store.delete_user("u1") is True
    assert await store.users(team="a") == [moved]


@every_backend
async def test_handles_on_one_database_see_each_others_writes(
    open_store: Callable[[], Awaitable[Records]],
) -> None:
    one = await open_store()
    two = await open_store()
    await one.add_key(make_key(1))
    assert await two.key("key_1") == make_key(1)
    await two.put_key(make_key(1, revoked_at=5.0))
    found = await one.key_by_hash(make_key(1).key_hash)
    assert found is not None
    assert found.revoked_at == 5.0


@every_backend
async def test_concurrent_writers_lose_nothing(
    open_store: Callable[[], Awaitable[Records]],
) -> None:
    """Two handles (two SQLite connections on one file, two Postgres pools)
    writing at once: every write lands, readable from both."""
    one = await open_store()
    two = await open_store()
    writes = [(one if n % 2 else two).add_key(make_key(n)) for n in range(80)]
    writes += [
        (two if n % 2 else one).add_team(TeamRecord(id=f"t{n}", name="t", created_at=n))
        for n in range(20)
    ]
    await asyncio.gather(*writes)
    for handle in (one, two):
        assert [k.id for k in await handle.keys()] == [f"key_{n}" for n in range(80)]
        assert len(await handle.teams()) == 20


@sql_backends
async def test_duplicates_are_refused_and_change_nothing(store: Records) -> None:
    await store.add_key(make_key(1))
    await store.add_key(make_key(2))
    with pytest.raises(DuplicateRecord):
        await store.add_key(make_key(1, name="again"))
    with pytest.raises(DuplicateRecord):  # a new id with a hash already in use
        await store.add_key(make_key(3, key_hash=make_key(1).key_hash))
    with pytest.raises(DuplicateRecord):  # put_key never steals another key's hash
        await store.put_key(make_key(2, key_hash=make_key(1).key_hash))
    assert await store.keys() == [make_key(1), make_key(2)]
    await store.add_team(TeamRecord(id="t", name="t", created_at=1.0))
    with pytest.raises(DuplicateRecord):
        await store.add_team(TeamRecord(id="t", name="other", created_at=2.0))
    await store.add_user(UserRecord(id="u", name="u", created_at=1.0))
    with pytest.raises(DuplicateRecord):
        await store.add_user(UserRecord(id="u", name="other", created_at=2.0))
