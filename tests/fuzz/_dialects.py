"""The five dialects as data: both sides of each codec, reached through the
dialect module only (``junction.codecs.<dialect>``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from junction.codecs import (
    anthropic_messages,
    bedrock_converse,
    gemini,
    openai_chat,
    openai_responses,
)
from junction.codecs.base import ServerCodec, StreamEncoder, Target
from junction.types import ChatRequest, ChatResponse


@dataclass(frozen=True)
class Dialect:
    name: str
    codec: Any
    """The client side: encode_request, decode_response, stream_decoder."""
    server: ServerCodec
    """The server side, as the doors and the simulator use it."""
    target: Target
    params: dict[str, str]
    """The canonical parameters the dialect carries (its ``PARAMS``)."""

    def decode_request(self, body: bytes, model: str, stream: bool) -> ChatRequest:
        return self.server.decode_request(body, model=model, stream=stream)

    def encode_response(self, response: ChatResponse, request: ChatRequest) -> bytes:
        return self.server.encode_response(response, request)

    def stream_encoder(self, request: ChatRequest) -> StreamEncoder:
        return self.server.stream_encoder(request)


def _target(api_key: str = "test-key") -> Target:
    return Target(
        provider="fuzzed", base_url="http://127.0.0.1:9", model="fuzz-model", api_key=api_key
    )


DIALECTS = tuple(
    Dialect(
        module.__name__.rsplit(".", 1)[1], module.CODEC, module.SERVER, _target(key), module.PARAMS
    )
    for module, key in (
        (openai_chat, "test-key"),
        (openai_responses, "test-key"),
        (anthropic_messages, "test-key"),
        (gemini, "test-key"),
        (bedrock_converse, "AKIDFUZZ:fuzz-secret"),
    )
)
