"""The Anthropic Messages dialect (``POST /v1/messages``), both directions.

Client side (egress): :class:`AnthropicMessagesCodec` / ``CODEC``.
Server side (ingress door and simulator): :func:`decode_request`,
:func:`encode_response`, :class:`StreamEncoder`, :func:`encode_error`.

Conventions:
- ``target.base_url`` is the API root without ``/v1`` (``https://api.anthropic.com``);
  a base URL that already ends in ``/v1`` is accepted too.
- Auth is ``x-api-key`` unless the vendor's quirks name another scheme
  (``Quirks.auth`` defaults to ``bearer``, which this dialect reads as "the
  dialect's own", i.e. ``x-api-key``).
- ``anthropic-version`` is ``target.api_version`` or ``2023-06-01``;
  ``target.headers`` (e.g. ``anthropic-beta``) are added last.
"""

from __future__ import annotations

from junction.codecs.anthropic_messages.client import (
    DEFAULT_ANTHROPIC_VERSION,
    DEFAULT_MAX_TOKENS,
    EFFORT_BUDGET,
    JSON_OBJECT_INSTRUCTION,
    AnthropicMessagesCodec,
)
from junction.codecs.anthropic_messages.client_stream import AnthropicStreamDecoder
from junction.codecs.anthropic_messages.server import decode_request, encode_error, encode_response
from junction.codecs.anthropic_messages.server_stream import StreamEncoder
from junction.codecs.base import ServerCodec, ServerDefaults
from junction.types import ChatRequest, ChatResponse, GatewayError

__all__ = [
    "CODEC",
    "DEFAULT_ANTHROPIC_VERSION",
    "DEFAULT_MAX_TOKENS",
    "EFFORT_BUDGET",
    "PARAMS",
    "PARAM_NOTES",
    "SERVER",
    "AnthropicMessagesCodec",
    "AnthropicStreamDecoder",
    "StreamEncoder",
    "decode_request",
    "encode_error",
    "encode_response",
]

PARAMS: dict[str, str] = {
    "max_tokens": "native",
    "temperature": "native",
    "top_p": "native",
    "top_k": "native",
    "stop": "translated",
    "tools": "translated",
    "tool_choice": "translated",
    "parallel_tool_calls": "translated",
    "response_format": "translated",
    "reasoning": "translated",
    "user": "translated",
}
"""Canonical parameters this dialect carries. Absent, hence unsupported:
n > 1, logprobs, top_logprobs, logit_bias, seed, frequency_penalty,
presence_penalty, repetition_penalty, metadata (Anthropic's metadata holds
only user_id), service_tier (Anthropic's values differ from OpenAI's)."""


PARAM_NOTES: dict[str, str] = {
    "max_tokens": f"required by Anthropic: {DEFAULT_MAX_TOKENS} is sent when not given",
    "stop": "sent as stop_sequences",
    "tools": "input_schema = parameters; strict and cache_control pass through",
    "tool_choice": "auto -> auto, required -> any, tool -> tool{name}, none -> none",
    "parallel_tool_calls": "false -> tool_choice.disable_parallel_tool_use = true",
    "response_format": (
        "json_schema -> output_config.format {type: json_schema, schema} (structured outputs); "
        f"json_object -> a system instruction {JSON_OBJECT_INSTRUCTION!r}; text -> nothing"
    ),
    "reasoning": (
        "thinking {type: enabled, budget_tokens}: reasoning.max_tokens, else by effort "
        + ", ".join(f"{k} {v}" for k, v in EFFORT_BUDGET.items())
        + " (default medium; at least 1024); max_tokens becomes budget + max_tokens when it "
        "is not above the budget; enabled=false or effort none -> no thinking"
    ),
    "user": "sent as metadata.user_id",
}


CODEC = AnthropicMessagesCodec()


class AnthropicMessagesServer(ServerDefaults):
    """The server side of the Messages API (a :class:`~junction.codecs.base.ServerCodec`)."""

    name = "anthropic_messages"
    paths: tuple[str, ...] = ("/v1/messages",)

    def decode_request(self, body: bytes, *, model: str = "", stream: bool = False) -> ChatRequest:
        return decode_request(body)

    def encode_response(self, response: ChatResponse, request: ChatRequest) -> bytes:
        return encode_response(response)

    def stream_encoder(self, request: ChatRequest) -> StreamEncoder:
        return StreamEncoder(model=request.model)

    def encode_error(self, err: GatewayError) -> bytes:
        return encode_error(err)


SERVER: ServerCodec = AnthropicMessagesServer()
