"""The five dialects as data: both sides of each codec, reached through the
dialect module only (``junction.codecs.<dialect>``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from junction.codecs import (
    anthropic_messages,
    bedrock_converse,
    gemini,
    openai_chat,
    openai_responses,
)
from junction.codecs.base import Target
from junction.types import ChatRequest, ChatResponse


@dataclass(frozen=True)
class Dialect:
    name: str
    codec: Any
    """The client side: encode_request, decode_response, stream_decoder."""
    decode_request: Callable[[bytes, str, bool], ChatRequest]
    """The server side: body, and the model and stream flag (in the URL for some)."""
    encode_response: Callable[[ChatResponse, ChatRequest], bytes]
    stream_encoder: Callable[[ChatRequest], Any]
    target: Target
    params: dict[str, str]
    """The canonical parameters the dialect carries (its ``PARAMS``)."""


def _target(api_key: str = "test-key") -> Target:
    return Target(
        provider="fuzzed", base_url="http://127.0.0.1:9", model="fuzz-model", api_key=api_key
    )


DIALECTS = (
    Dialect(
        "openai_chat",
        openai_chat.CODEC,
        lambda body, _model, _stream: openai_chat.decode_request(body),
        lambda response, _: openai_chat.encode_response(response),
        lambda req: openai_chat.StreamEncoder(include_usage=True),
        _target(),
        openai_chat.PARAMS,
    ),
    Dialect(
        "openai_responses",
        openai_responses.CODEC,
        lambda body, _model, _stream: openai_responses.decode_request(body),
        openai_responses.encode_response,
        openai_responses.StreamEncoder,
        _target(),
        openai_responses.PARAMS,
    ),
    Dialect(
        "anthropic_messages",
        anthropic_messages.CODEC,
        lambda body, _model, _stream: anthropic_messages.decode_request(body),
        lambda response, _: anthropic_messages.encode_response(response),
        lambda req: anthropic_messages.StreamEncoder(model=req.model),
        _target(),
        anthropic_messages.PARAMS,
    ),
    Dialect(
        "gemini",
        gemini.CODEC,
        lambda body, model, stream: gemini.decode_request(body, model=model, stream=stream),
        lambda response, _: gemini.encode_response(response),
        lambda req: gemini.StreamEncoder(),
        _target(),
        gemini.PARAMS,
    ),
    Dialect(
        "bedrock_converse",
        bedrock_converse.CODEC,
        lambda body, model, stream: bedrock_converse.decode_request(
            body, model=model, stream=stream
        ),
        lambda response, _: bedrock_converse.encode_response(response),
        lambda req: bedrock_converse.StreamEncoder(),
        _target("AKIDFUZZ:fuzz-secret"),
        bedrock_converse.PARAMS,
    ),
)
