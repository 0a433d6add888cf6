"""Google's google-genai SDK (Python) against junction's Gemini door."""

from __future__ import annotations

import pytest
from google import genai
from google.genai import errors, types
from pydantic import BaseModel

from _client_matrix import (
    ECHO,
    ECHO_PROMPT,
    EMBED_INPUTS,
    EMBEDDING_DIMENSIONS,
    EMBEDDING_MODEL,
    STRUCTURED_PROMPT,
    UNKNOWN_MODEL,
    WEATHER_PROMPT,
    cell,
    weather,
)


class City(BaseModel):
    city: str
    country: str


@pytest.fixture(scope="module")
def client(junction: str) -> genai.client.AsyncClient:
    options = types.HttpOptions(base_url=junction)
    return genai.Client(api_key="sk-junction", http_options=options).aio


@cell("genai-py", "chat")
async def test_chat(client: genai.client.AsyncClient, model: str) -> None:
    r = await client.models.generate_content(model=model, contents=ECHO_PROMPT)
    assert r.text == ECHO
    assert r.candidates is not None
    assert r.candidates[0].finish_reason == types.FinishReason.STOP
    assert r.usage_metadata is not None
    assert r.usage_metadata.candidates_token_count


@cell("genai-py", "stream")
async def test_stream(client: genai.client.AsyncClient, model: str) -> None:
    stream = await client.models.generate_content_stream(model=model, contents=ECHO_PROMPT)
    pieces = [chunk.text async for chunk in stream if chunk.text]
    assert "".join(pieces) == ECHO
    assert len(pieces) > 1


@cell("genai-py", "tools")
async def test_tools(client: genai.client.AsyncClient, model: str) -> None:
    called: list[str] = []

    def get_weather(city: str) -> str:
        """The weather in a city.

        Args:
            city: The city
        """
        called.append(city)
        return weather(city)

    # The SDK's automatic function calling: it calls get_weather and sends the result.
    config = types.GenerateContentConfig(tools=[get_weather])
    r = await client.models.generate_content(model=model, contents=WEATHER_PROMPT, config=config)
    assert called == ["Paris"]
    assert weather("Paris") in (r.text or "")
    assert r.automatic_function_calling_history


@cell("genai-py", "structured")
async def test_structured(client: genai.client.AsyncClient, model: str) -> None:
    config = types.GenerateContentConfig(
        response_mime_type="application/json", response_schema=City
    )
    r = await client.models.generate_content(model=model, contents=STRUCTURED_PROMPT, config=config)
    assert isinstance(r.parsed, City)


@cell("genai-py", "embeddings")
async def test_embeddings(client: genai.client.AsyncClient) -> None:
    r = await client.models.embed_content(model=EMBEDDING_MODEL, contents=list(EMBED_INPUTS))
    assert r.embeddings is not None
    assert [len(e.values or []) for e in r.embeddings] == [EMBEDDING_DIMENSIONS] * 2


@cell("genai-py", "unknown model")
async def test_unknown_model(client: genai.client.AsyncClient) -> None:
    with pytest.raises(errors.ClientError) as raised:
        await client.models.generate_content(model=UNKNOWN_MODEL, contents="hi")
    assert raised.value.code == 404
    assert raised.value.status == "NOT_FOUND"
