"""Finish-reason normalisation: one table for every OpenAI-compatible vendor.

Each vendor's documented values, with the meaning its documentation gives
them, in the canonical vocabulary (stop | length | tool_calls |
content_filter | error). The native value must survive beside it.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from _cassettes import SPECS, load_yaml
from _vendors import target
from junction.codecs.openai_chat import CODEC, normalise_finish
from junction.types import Finish

DOCUMENTED: dict[str, dict[str, str]] = {
    # Together (PK together-ai/types.ts): eos = end of sequence token.
    "together": {
        "stop": "stop",
        "eos": "stop",
        "length": "length",
        "tool_calls": "tool_calls",
        "function_call": "tool_calls",
    },
    # Mistral's OpenAPI: model_length = the context window was reached.
    "mistral": {
        "stop": "stop",
        "length": "length",
        "model_length": "length",
        "error": "error",
        "tool_calls": "tool_calls",
    },
    # DeepSeek API reference: insufficient_system_resource = the request was
    # cut short because the backend ran out of inference resources.
    "deepseek": {
        "stop": "stop",
        "length": "length",
        "content_filter": "content_filter",
        "tool_calls": "tool_calls",
        "insufficient_system_resource": "error",
    },
    # Groq API reference.
    "groq": {
        "stop": "stop",
        "length": "length",
        "tool_calls": "tool_calls",
        "function_call": "tool_calls",
    },
    # vLLM: RequestOutput.finish_reason ("stop", "length", "abort", "error",
    # "repetition") plus tool_calls from its OpenAI server.
    "vllm": {
        "stop": "stop",
        "length": "length",
        "tool_calls": "tool_calls",
        "abort": "error",
        "error": "error",
        "repetition": "stop",
    },
    # OpenRouter normalises to its own vocabulary, which includes error.
    "openrouter": {
        "stop": "stop",
        "length": "length",
        "tool_calls": "tool_calls",
        "content_filter": "content_filter",
        "error": "error",
    },
}

OPENAI_MEANING = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
    "function_call": "tool_calls",
}


def _openai_enum() -> list[str]:
    spec: dict[str, Any] = load_yaml(SPECS / "openai-openapi.yaml")
    choice = spec["components"]["schemas"]["CreateChatCompletionResponse"]["properties"]
    values: list[str] = choice["choices"]["items"]["properties"]["finish_reason"]["enum"]
    return values


def test_openai_values_from_the_published_spec() -> None:
    values = _openai_enum()
    assert set(values) == set(OPENAI_MEANING)
    for value in values:
        assert normalise_finish(value) == OPENAI_MEANING[value], value


@pytest.mark.parametrize("vendor", sorted(DOCUMENTED))
def test_vendor_values(vendor: str) -> None:
    for native, expected in DOCUMENTED[vendor].items():
        assert normalise_finish(native) == expected, (vendor, native)


def test_unknown_values_are_stop() -> None:
    assert normalise_finish("something_new") == "stop"


def _body(finish: str) -> bytes:
    return msgspec.json.encode(
        {
            "id": "x",
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "hi"},
                    "finish_reason": finish,
                }
            ],
        }
    )


def _stream(finish: str) -> bytes:
    chunk = {
        "id": "x",
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": finish}],
    }
    return b"data: " + msgspec.json.encode(chunk) + b"\n\ndata: [DONE]\n\n"


@pytest.mark.parametrize(
    ("vendor", "native"),
    [(v, n) for v, table in sorted(DOCUMENTED.items()) for n in table if n != "stop"],
)
def test_native_value_is_kept(vendor: str, native: str) -> None:
    expected = DOCUMENTED[vendor][native]
    choice = CODEC.decode_response(_body(native), target(vendor)).choices[0]
    assert (choice.finish_reason, choice.native_finish_reason) == (expected, native)
    decoder = CODEC.stream_decoder(target(vendor))
    events = decoder.feed(_stream(native)) + decoder.close()
    (finish,) = [e for e in events if isinstance(e, Finish)]
    assert (finish.reason, finish.native) == (expected, native)
