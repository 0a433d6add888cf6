"""The exact-match response cache: its key, its per-request options, and
both backends (Redis on the real server: skipped when unreachable, failed
under CI=true)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from _servers import REDIS_URL, unavailable
from junction.cache import (
    MemoryCache,
    ResponseCache,
    cache_key,
    cache_options,
    decode_entry,
    encode_entry,
)
from junction.cache.answer import Answer, replay
from junction.cache.redis_cache import RedisCache
from junction.cache.sqlite_cache import SqliteCache
from junction.codecs import openai_chat
from junction.config import ConfigError, parse_config
from junction.gateway import Gateway  # noqa: F401  (before junction.policy: the import order they need)
from junction.policy.cache import response_caching
from junction.types import (
    ChatResponse,
    Choice,
    Finish,
    GatewayError,
    Message,
    StreamStart,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ThinkingPart,
    ToolCallDelta,
    ToolCallPart,
    Usage,
    UsageReport,
)

REDIS = REDIS_URL


BASE = '{"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.5}'


def key(body: str, namespace: str = "") -> str:
    return cache_key(openai_chat.decode_request(body.encode()), namespace)


def test_the_key_ignores_who_asks_and_field_order() -> None:
    same = [
        '{"messages": [{"role": "user", "content": "hi"}], "temperature": 0.5, "model": "m"}',
        BASE[:-1] + ', "user": "alice", "metadata": {"run": "7"}}',
        BASE[:-1] + ', "stream": true, "stream_options": {"include_usage": true}}',
        BASE[:-1] + ', "service_tier": "flex", "store": true}',
    ]
    assert {key(b) for b in same} == {key(BASE)}


def test_the_key_changes_with_what_changes_the_answer() -> None:
    different = [
        BASE.replace('"m"', '"other"'),
        BASE.replace('"hi"', '"hello"'),
        BASE.replace("0.5", "0.7"),
        BASE[:-1] + ', "seed": 3}',
        BASE[:-1] + ', "max_tokens": 10}',
        BASE[:-1] + ', "stop": ["x"]}',
        BASE[:-1] + ', "response_format": {"type": "json_object"}}',
        BASE[:-1] + ', "tools": [{"type": "function", "function": {"name": "f"}}]}',
        BASE[:-1] + ', "some_vendor_knob": 1}',
    ]
    keys = {key(b) for b in different}
    assert len(keys) == len(different)
    assert key(BASE) not in keys
    assert key(BASE, "team-a") != key(BASE, "team-b") != key(BASE)


def test_options_from_headers() -> None:
    default = cache_options({}, 300)
    assert (default.read, default.write, default.ttl, default.namespace) == (True, True, 300, "")
    no_cache = cache_options({"cache-control": "no-cache"}, 300)
    assert (no_cache.read, no_cache.write) == (False, True)
    no_store = cache_options({"cache-control": "max-age=0, No-Store"}, 300)
    assert (no_store.read, no_store.write) == (True, False)  # no-store: do not keep; may read
    ttl = cache_options({"x-junction-cache-ttl": "5", "x-junction-cache-namespace": " a "}, 300)
    assert (ttl.ttl, ttl.namespace, ttl.write) == (5.0, "a", True)
    assert cache_options({"x-junction-cache-ttl": "0"}, 300).write is False
    for bad in ("soon", "-1", "nan", "inf", "86401", ""):
        with pytest.raises(GatewayError) as caught:
            cache_options({"x-junction-cache-ttl": bad}, 300, max_ttl=86400)
        assert caught.value.param == "x-junction-cache-ttl"
        assert caught.value.status == 400
        assert "x-junction-cache-ttl" in caught.value.message
    assert cache_options({"x-junction-cache-ttl": "86400"}, 300, max_ttl=86400).ttl == 86400
    with pytest.raises(GatewayError):
        cache_options({"x-junction-cache-namespace": "n" * 129}, 300)


def test_an_entry_round_trips_and_garbage_is_a_miss() -> None:
    answer = ChatResponse(
        id="gen-1",
        model="m",
        choices=[
            Choice(0, Message(role="assistant", content=[TextPart(text="x")]), finish_reason="stop")
        ],
        usage=Usage(prompt_tokens=3, completion_tokens=1),
    )
    assert decode_entry(encode_entry(answer)) == answer
    assert decode_entry(b"not msgpack at all") is None


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[ResponseCache, list[float]]]:
    now = [1000.0]
    if request.param == "memory":
        yield MemoryCache(max_entries=2, clock=lambda: now[0]), now
        return
    if request.param == "sqlite":
        sqlite = SqliteCache(str(tmp_path / "cache.db"), clock=lambda: now[0])
        yield sqlite, now
        await sqlite.close()
        return
    client = Redis.from_url(REDIS, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        unavailable(f"Redis at {REDIS} is unreachable ({type(exc).__name__})")
    prefix = f"junction_test_{uuid.uuid4().hex}:"
    cache = RedisCache(client, prefix)
    try:
        yield cache, now
    finally:
        keys = [k async for k in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await cache.close()


async def test_get_put_and_expiry(backend: tuple[ResponseCache, list[float]]) -> None:
    cache, now = backend
    assert await cache.get("k1") is None
    await cache.put("k1", b"one", ttl=0.3)
    assert await cache.get("k1") == b"one"
    if isinstance(cache, (MemoryCache, SqliteCache)):
        now[0] += 0.31
    else:
        import asyncio

        await asyncio.sleep(0.4)
    assert await cache.get("k1") is None


async def test_memory_cache_drops_the_least_recently_used() -> None:
    cache = MemoryCache(max_entries=2)
    await cache.put("a", b"1", 60)
    await cache.put("b", b"2", 60)
    assert await cache.get("a") == b"1"  # a is now the most recent
    await cache.put("c", b"3", 60)
    assert await cache.get("b") is None
    assert await cache.get("a") == b"1"
    assert await cache.get("c") == b"3"


async def test_a_put_replaces_and_the_file_outlives_the_process(tmp_path: Path) -> None:
    path = str(tmp_path / "cache.db")
    first = SqliteCache(path)
    await first.put("k", b"old", 60)
    await first.put("k", b"new", 60)
    await first.close()
    again = SqliteCache(path)
    try:
        assert await again.get("k") == b"new"
    finally:
        await again.close()


async def test_memory_cache_is_bounded_in_bytes() -> None:
    cache = MemoryCache(max_entries=100, max_bytes=10)
    await cache.put("a", b"12345", 60)
    await cache.put("b", b"12345", 60)
    await cache.put("c", b"1", 60)  # 11 bytes: the least recent (a) goes
    assert await cache.get("a") is None
    assert await cache.get("b") == b"12345"
    await cache.put("huge", b"x" * 11, 60)  # larger than the whole cache: not kept
    assert await cache.get("huge") is None
    assert await cache.get("c") == b"1"


def test_the_package_exports_only_its_contract() -> None:
    import junction.cache as package

    assert sorted(package.__all__) == [
        "AnswerCache",
        "Ask",
        "CacheOptions",
        "ExactCache",
        "Found",
        "MemoryCache",
        "ResponseCache",
        "cache_key",
        "cache_options",
        "decode_entry",
        "encode_entry",
    ]


def _answer() -> ChatResponse:
    return ChatResponse(
        id="gen-7",
        model="m",
        created=1700000000,
        provider="p",
        choices=[
            Choice(
                0,
                Message(
                    role="assistant",
                    content=[
                        ThinkingPart(text="let me see", signature="sig"),
                        TextPart(text="Calling two tools."),
                        ToolCallPart(id="call_1", name="f", arguments='{"a": 1}'),
                        ToolCallPart(id="call_2", name="g", arguments="{}"),
                    ],
                ),
                finish_reason="tool_calls",
                native_finish_reason="tool_use",
            ),
            Choice(
                1, Message(role="assistant", content=[TextPart(text="x")]), finish_reason="stop"
            ),
        ],
        usage=Usage(prompt_tokens=9, completion_tokens=5, cost=0.25),
    )


def test_a_replayed_stream_collects_back_into_the_same_answer() -> None:
    answer = _answer()
    events = replay(answer)
    assert isinstance(events[0], StreamStart)
    assert isinstance(events[1], UsageReport)  # the prompt's tokens, up front
    assert isinstance(events[-1], UsageReport)
    collected = Answer(max_chars=10_000)
    for i in range(len(events)):  # one event a batch, as a stream arrives
        collected.add(events[i : i + 1])
    assert collected.result() == answer


def test_a_stream_in_pieces_collects_whole() -> None:
    collected = Answer(max_chars=10_000)
    collected.add([StreamStart(id="gen-1", model="m"), TextDelta("Hel"), TextDelta("lo")])
    collected.add([ThinkingDelta(text="hm"), ThinkingDelta(signature="s")])
    collected.add(
        [ToolCallDelta(0, id="c", name="f", arguments='{"a"'), ToolCallDelta(0, arguments=": 1}")]
    )
    collected.add([Finish("tool_calls"), UsageReport(Usage(prompt_tokens=1, completion_tokens=2))])
    result = collected.result()
    assert result is not None
    assert result.choices[0].message.content == [
        TextPart(text="Hello"),
        ThinkingPart(text="hm", signature="s"),
        ToolCallPart(id="c", name="f", arguments='{"a": 1}'),
    ]
    assert result.usage == Usage(prompt_tokens=1, completion_tokens=2)


def test_a_cut_or_oversized_stream_collects_nothing() -> None:
    cut = Answer(max_chars=10_000)
    cut.add([StreamStart(id="gen-1", model="m"), TextDelta("half an ans")])
    assert cut.result() is None  # no Finish: not whole
    two = Answer(max_chars=10_000)
    two.add([StreamStart(id="gen-1", model="m"), TextDelta("a"), Finish("stop")])
    two.add([TextDelta("b", index=1)])
    assert two.result() is None  # choice 1 never finished
    big = Answer(max_chars=10)
    big.add([StreamStart(id="gen-1", model="m"), TextDelta("x" * 11), Finish("stop")])
    assert big.result() is None


@pytest.mark.parametrize(
    ("cache", "where"),
    [
        ("{ttl: 100, max_ttl: 50}", "cache.ttl"),
        ("{database_url: 'sqlite:///c.db'}", "cache.database_url"),
        ("{backend: sqlite, database_url: 'postgresql://h/db'}", "cache.database_url"),
        ("{semantic: {enabled: true, model: sim/chat}}", "cache.semantic.model"),
        ("{semantic: {threshold: 1.5}}", "cache.semantic.threshold"),
        ("{max_entry_bytes: 10}", "cache.max_entry_bytes"),
    ],
)
def test_bad_cache_settings_name_their_key(cache: str, where: str) -> None:
    text = (
        "models:\n  sim/chat:\n    deployments:\n"
        "      - {provider: openai, model: m, base_url: 'http://127.0.0.1:9/v1'}\n"
        f"cache: {cache}\n"
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(text, {})
    assert where in str(caught.value)


async def test_a_redis_cache_needs_a_redis_url() -> None:
    config = parse_config("cache: {enabled: true, backend: redis}\n", {})
    with pytest.raises(ConfigError, match=r"stores\.redis_url"):
        response_caching(config, {})
    stage = response_caching(config, {"JUNCTION_REDIS_URL": REDIS})
    assert stage is not None
    await stage.close()
    assert response_caching(parse_config("cache: {enabled: false}\n", {}), {}) is None
