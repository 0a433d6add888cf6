"""Ingress doors: one per client-facing wire API.

A door is the server side of a codec, as data: how to read a request, how
to write a response, a stream and an error. The chat handler is the same
for every door.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from junction.codecs import anthropic_messages, openai_chat, openai_responses
from junction.types import ChatRequest, ChatResponse, GatewayError, StreamEvent


class StreamWriter(Protocol):
    def encode(self, event: StreamEvent) -> bytes: ...

    def finish(self) -> bytes: ...

    def error(self, err: GatewayError) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Door:
    name: str
    decode: Callable[[bytes], ChatRequest]
    encode: Callable[[ChatResponse, ChatRequest], bytes]
    writer: Callable[[ChatRequest], StreamWriter]
    error: Callable[[GatewayError], bytes]
    finish_after_error: bool
    """Whether the stream's normal trailer follows an in-stream error. None
    of the doors: OpenAI ends the stream after its error chunk without
    ``[DONE]`` (so a client that waits for it sees the stream as
    incomplete), and Anthropic's ``error`` event is the end."""


OPENAI_CHAT = Door(
    "openai_chat",
    openai_chat.decode_request,
    lambda response, _: openai_chat.encode_response(response),
    lambda req: openai_chat.StreamEncoder(include_usage=req.include_usage),
    openai_chat.encode_error,
    finish_after_error=False,
)

ANTHROPIC_MESSAGES = Door(
    "anthropic_messages",
    anthropic_messages.decode_request,
    lambda response, _: anthropic_messages.encode_response(response),
    lambda req: anthropic_messages.StreamEncoder(model=req.model),
    anthropic_messages.encode_error,
    finish_after_error=False,
)

OPENAI_RESPONSES = Door(
    "openai_responses",
    openai_responses.decode_request,
    openai_responses.encode_response,
    lambda req: openai_responses.StreamEncoder(req),
    openai_responses.encode_error,
    finish_after_error=False,
)
