"""The semantic cache: alone (the built-in lexical encoder), and through a
live gateway with the lexical encoder and with an embedding model called
through the gateway's own embeddings path."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt
import openai

from _cache_stack import cache_config, gateway, simulator
from junction.cache import Ask
from junction.cache.semantic import SemanticCache, lexical_embed, split
from junction.codecs import openai_chat
from junction.types import ChatRequest, ImagePart, Message, TextPart

FRANCE = "What is the capital of France?"
FRANCE_AGAIN = "what is the capital   of france"  # 0.99 by the lexical encoder
FRANCE_CITY = "What is the capital city of France?"  # 0.84
SPAIN = "What is the capital of Spain?"  # 0.78


def request(text: str, **fields: Any) -> ChatRequest:
    body = {"model": "m", "messages": [{"role": "user", "content": text}], **fields}
    return openai_chat.decode_request(msgspec.json.encode(body))


def asks(text: str, namespace: str = "", **fields: Any) -> Ask:
    return Ask(request(text, **fields), namespace)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_rephrased_question_is_a_hit_and_another_question_is_not() -> None:
    cache = SemanticCache(lexical_embed(), threshold=0.95)
    assert await cache.find(asks(FRANCE)) is None
    await cache.keep(asks(FRANCE), b"Paris", 60)
    found = await cache.find(asks(FRANCE_AGAIN))
    assert found is not None
    assert found.value == b"Paris"
    assert found.similarity is not None
    assert 0.95 <= found.similarity <= 1.0
    assert await cache.find(asks(SPAIN)) is None
    assert await cache.find(asks(FRANCE_CITY)) is None  # 0.84: below the threshold


async def test_the_threshold_decides() -> None:
    loose = SemanticCache(lexical_embed(), threshold=0.8)
    await loose.keep(asks(FRANCE), b"Paris", 60)
    assert await loose.find(asks(FRANCE_CITY)) is not None
    assert await loose.find(asks(SPAIN)) is None  # 0.78


async def test_only_requests_alike_in_everything_else_are_compared() -> None:
    cache = SemanticCache(lexical_embed(), threshold=0.5)
    await cache.keep(asks(FRANCE, temperature=0.2), b"Paris", 60)
    assert await cache.find(asks(FRANCE, temperature=0.2)) is not None
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {}}}
    others = [
        asks(FRANCE),  # no temperature
        asks(FRANCE, temperature=0.9),
        asks(FRANCE, temperature=0.2, tools=[tool]),
        asks(FRANCE, temperature=0.2, max_tokens=5),
        asks(FRANCE, temperature=0.2, response_format={"type": "json_object"}),
        Ask(request(FRANCE, temperature=0.2, model="other")),
        asks(FRANCE, namespace="team-b", temperature=0.2),
    ]
    for other in others:
        assert await cache.find(other) is None, other
    history = request(FRANCE, temperature=0.2)
    history.messages.insert(0, Message(role="system", content=[TextPart("Answer in French.")]))
    assert await cache.find(Ask(history)) is None  # other earlier turns


def test_the_partition_keeps_the_last_turns_other_parts() -> None:
    plain = request(FRANCE)
    with_image = request(FRANCE)
    with_image.messages[-1].content.append(ImagePart(url="https://example.com/a.png"))
    (p1, t1), (p2, t2) = split(plain), split(with_image)
    assert t1 == t2 == FRANCE
    assert p1 != p2
    assert split(request(SPAIN))[0] == p1  # the text is not in the partition


async def test_entries_expire() -> None:
    clock = Clock()
    cache = SemanticCache(lexical_embed(), clock=clock)
    await cache.keep(asks(FRANCE), b"Paris", 10)
    clock.now += 11
    assert await cache.find(asks(FRANCE_AGAIN)) is None


async def test_memory_is_bounded_per_namespace_and_in_namespaces() -> None:
    cache = SemanticCache(lexical_embed(), max_entries=3, max_namespaces=2)
    questions = [f"question number {word}" for word in ("one", "two", "three", "four", "five")]
    for q in questions:
        await cache.keep(asks(q), q.encode(), 60)
    assert cache.entries() == 3
    assert await cache.find(asks(questions[0])) is None  # oldest out first
    assert await cache.find(asks(questions[4])) is not None
    await cache.keep(asks(FRANCE), b"Paris", 60)  # a near-duplicate replaces, not adds
    await cache.keep(asks(FRANCE_AGAIN), b"Paris!", 60)
    found = await cache.find(asks(FRANCE))
    assert found is not None
    assert found.value == b"Paris!"
    await cache.keep(asks(FRANCE, namespace="a"), b"a", 60)
    await cache.keep(asks(FRANCE, namespace="b"), b"b", 60)  # a third namespace: "" goes
    assert cache.entries("") == 0
    assert (cache.entries("a"), cache.entries("b")) == (1, 1)


async def test_a_text_less_turn_is_not_looked_up() -> None:
    calls: list[Sequence[str]] = []

    async def embed(texts: Sequence[str]) -> npt.NDArray[np.floating]:
        calls.append(texts)
        return np.ones((len(texts), 4))

    cache = SemanticCache(embed)
    empty = request(FRANCE)
    empty.messages[-1].content = [ImagePart(url="https://example.com/a.png")]
    await cache.keep(Ask(empty), b"x", 60)
    assert await cache.find(Ask(empty)) is None
    assert calls == []


SEMANTIC = """  semantic:
    enabled: true
    threshold: 0.95
{model}"""


async def ask(client: openai.AsyncOpenAI, text: str) -> tuple[Any, Any]:
    raw = await client.chat.completions.with_raw_response.create(
        model="sim/openai", messages=[{"role": "user", "content": text}], max_tokens=32
    )
    return raw.parse(), raw.headers


async def test_the_lexical_semantic_cache_through_the_gateway(tmp_path: Path) -> None:
    async with simulator() as (_, sim_url):
        config = cache_config(sim_url, tmp_path / "j.db", semantic=SEMANTIC.format(model=""))
        async with gateway(config, sim_url) as stack, stack.openai() as client:
            first, h1 = await ask(client, FRANCE)
            calls = await stack.upstream_calls()
            again, h2 = await ask(client, FRANCE_AGAIN)
            assert await stack.upstream_calls() == calls
            _, h3 = await ask(client, SPAIN)
            assert await stack.upstream_calls() == calls + 1
    assert (h1["x-junction-cache"], h2["x-junction-cache"], h3["x-junction-cache"]) == (
        "miss",
        "hit",
        "miss",
    )
    assert float(h2["x-junction-cache-similarity"]) >= 0.95
    assert "x-junction-cache-similarity" not in h1
    assert again.choices[0].message.content == first.choices[0].message.content


async def test_an_embedding_model_through_the_gateways_own_embeddings_path(
    tmp_path: Path,
) -> None:
    semantic = SEMANTIC.format(model="    model: sim/embedding\n")
    async with simulator() as (_, sim_url):
        config = cache_config(sim_url, tmp_path / "j.db", semantic=semantic)
        async with gateway(config, sim_url) as stack, stack.openai() as client:
            await ask(client, FRANCE)
            before = (await stack.sim.get("/_sim/stats")).json()["by_model"]
            # The simulator's embeddings are bags of lower-cased words: these two are one vector.
            _, headers = await ask(client, "what is THE capital of France")
            after = (await stack.sim.get("/_sim/stats")).json()["by_model"]
            for _ in range(100):
                logged = await stack.admin.get("/admin/logs", params={"limit": 100})
                doors = [row["door"] for row in logged.json()["data"]]
                if "cache" in doors:
                    break
                await asyncio.sleep(0.05)
    assert headers["x-junction-cache"] == "hit"
    assert float(headers["x-junction-cache-similarity"]) > 0.999
    assert after["gpt-4o-mini"] == before["gpt-4o-mini"]  # the chat model was not called
    assert after["text-embedding-3-small"] == before["text-embedding-3-small"] + 1
    assert "cache" in doors  # the cache's embedding calls are requests of the log too
