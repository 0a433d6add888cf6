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

from collections.abc import Mapping

import msgspec

from junction.codecs.anthropic_decode import decode_request
from junction.codecs.anthropic_encode import (
    DEFAULT_MAX_TOKENS,
    EFFORT_BUDGET,
    JSON_OBJECT_INSTRUCTION,
    encode_body,
)
from junction.codecs.anthropic_response import (
    decode_error,
    decode_response,
    encode_error,
    encode_response,
)
from junction.codecs.anthropic_stream import AnthropicStreamDecoder, StreamEncoder
from junction.codecs.base import Target, auth_headers, join_url
from junction.types import ChatRequest, ChatResponse, HttpRequest, UpstreamError

__all__ = [
    "CODEC",
    "DEFAULT_ANTHROPIC_VERSION",
    "DEFAULT_MAX_TOKENS",
    "EFFORT_BUDGET",
    "PARAMS",
    "PARAM_NOTES",
    "AnthropicMessagesCodec",
    "AnthropicStreamDecoder",
    "StreamEncoder",
    "decode_request",
    "encode_error",
    "encode_response",
]

DEFAULT_ANTHROPIC_VERSION = "2023-06-01"

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


class AnthropicMessagesCodec:
    """Client side of the Anthropic Messages API."""

    name = "anthropic_messages"

    def encode_request(self, request: ChatRequest, target: Target) -> HttpRequest:
        body = encode_body(request, target)
        return HttpRequest(
            method="POST",
            url=_messages_url(target.base_url),
            headers=_headers(target),
            body=msgspec.json.encode(body),
            stream=request.stream,
        )

    def decode_response(self, body: bytes, target: Target) -> ChatResponse:
        return decode_response(body, target)

    def stream_decoder(self, target: Target) -> AnthropicStreamDecoder:
        return AnthropicStreamDecoder(target)

    def decode_error(
        self, status: int, headers: Mapping[str, str], body: bytes, target: Target
    ) -> UpstreamError:
        return decode_error(status, headers, body, target)

    def encode_count_tokens(self, request: ChatRequest, target: Target) -> HttpRequest:
        """``POST /v1/messages/count_tokens``: the request's model, system,
        messages, tools, tool choice and thinking, nothing else."""
        full = msgspec.to_builtins(encode_body(request, target))
        body = {k: v for k, v in full.items() if k in _COUNTED}
        return HttpRequest(
            method="POST",
            url=_messages_url(target.base_url) + "/count_tokens",
            headers=_headers(target),
            body=msgspec.json.encode(body),
        )

    def decode_count_tokens(self, body: bytes) -> int:
        return msgspec.json.decode(body, type=_TokenCount).input_tokens


class _TokenCount(msgspec.Struct):
    input_tokens: int


_COUNTED = frozenset({"model", "messages", "system", "tools", "tool_choice", "thinking"})

CODEC = AnthropicMessagesCodec()


def _messages_url(base_url: str) -> str:
    if base_url.rstrip("/").endswith("/v1"):
        return join_url(base_url, "messages")
    return join_url(base_url, "/v1/messages")


def _headers(target: Target) -> dict[str, str]:
    headers = {
        "content-type": "application/json",
        "anthropic-version": target.api_version or DEFAULT_ANTHROPIC_VERSION,
    }
    if target.quirks.auth == "bearer":
        if target.api_key:
            headers["x-api-key"] = target.api_key
    else:
        headers.update(auth_headers(target))
    headers.update(target.headers)
    return headers
