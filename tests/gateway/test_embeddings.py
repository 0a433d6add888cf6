"""Embeddings through every dialect that embeds: OpenAI-compatible, Gemini
(embedContent / batchEmbedContents) and Bedrock (Titan, Cohere)."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator

import openai
import pytest

from _openapi import validator
from conftest import serve
from junction.config import parse_config
from junction.server.app import create_app
from junction.sim import Profile, start

MODELS = {
    "emb/openai": ("openai", "text-embedding-3-small", "{sim}/v1", "k"),
    "emb/gemini": ("gemini", "gemini-embedding-001", "{sim}", "k"),
    "emb/titan": ("bedrock", "amazon.titan-embed-text-v2:0", "{sim}", "AKID:secret"),
    "emb/cohere": ("bedrock", "cohere.embed-v4:0", "{sim}", "AKID:secret"),
}


@pytest.fixture(scope="module")
async def url() -> AsyncIterator[tuple[str, str]]:
    runner, sim = await start(Profile())
    lines = ["models:"]
    for name, (provider, model, base, key) in MODELS.items():
        lines += [
            f"  {name}:",
            "    kind: embedding",
            "    deployments:",
            f"      - {{provider: {provider}, model: '{model}', "
            f"base_url: '{base.format(sim=sim)}', api_key: '{key}'}}",
        ]
    server, task, gw = await serve(create_app(parse_config("\n".join(lines) + "\n", {})))
    try:
        yield gw, sim
    finally:
        server.should_exit = True
        await task
        await runner.cleanup()


@pytest.mark.parametrize("model", sorted(MODELS))
async def test_embeddings_float_base64_and_dimensions(url: tuple[str, str], model: str) -> None:
    client = openai.AsyncOpenAI(base_url=f"{url[0]}/v1", api_key="k", max_retries=0)
    texts = ["a router routes", "a gateway guards", "a router routes"]
    raw = await client.embeddings.with_raw_response.create(
        model=model, input=texts, encoding_format="float", dimensions=16
    )
    validator("CreateEmbeddingResponse").validate(json.loads(raw.text))
    floats = raw.parse()
    assert [d.index for d in floats.data] == [0, 1, 2]
    assert all(len(d.embedding) == 16 for d in floats.data)
    # Same text, same vector; different text, a different one.
    assert floats.data[0].embedding == floats.data[2].embedding
    assert floats.data[0].embedding != floats.data[1].embedding
    packed = await client.embeddings.create(model=model, input=texts, dimensions=16)
    for a, b in zip(packed.data, floats.data, strict=True):
        assert a.embedding == pytest.approx(b.embedding, rel=1e-6)
    single = await client.embeddings.create(model=model, input="one text", encoding_format="float")
    assert len(single.data) == 1
    assert math.isclose(sum(x * x for x in single.data[0].embedding), 1.0, rel_tol=1e-3)
