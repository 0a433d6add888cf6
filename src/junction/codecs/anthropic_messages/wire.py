"""Anthropic Messages wire shapes and vocabularies (private to the Anthropic codec).

The request structs serve both directions: ``decode_request`` validates a
client's body against them (msgspec reports the JSON path of a bad field) and
``encode_request`` builds them and lets msgspec write the JSON. Responses and
stream events are read more loosely (see ``client`` and
``client_stream``) so that a new block type from the provider is skipped,
not fatal.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from junction.types import (
    CacheControl,
    FinishReason,
    GatewayError,
)


class Cache(msgspec.Struct, omit_defaults=True):
    type: str
    ttl: str | None = None


class Base64Source(msgspec.Struct, tag="base64", tag_field="type", omit_defaults=True):
    media_type: str
    data: str


class UrlSource(msgspec.Struct, tag="url", tag_field="type", omit_defaults=True):
    url: str


class TextSource(msgspec.Struct, tag="text", tag_field="type", omit_defaults=True):
    media_type: str
    data: str


class FileSource(msgspec.Struct, tag="file", tag_field="type", omit_defaults=True):
    file_id: str


ImageSource = Base64Source | UrlSource


DocumentSource = Base64Source | UrlSource | TextSource | FileSource


class Text(msgspec.Struct, tag="text", tag_field="type", omit_defaults=True):
    text: str
    cache_control: Cache | None = None


class Image(msgspec.Struct, tag="image", tag_field="type", omit_defaults=True):
    source: ImageSource
    cache_control: Cache | None = None


class Document(msgspec.Struct, tag="document", tag_field="type", omit_defaults=True):
    source: DocumentSource
    title: str | None = None
    cache_control: Cache | None = None


class ToolUse(msgspec.Struct, tag="tool_use", tag_field="type", omit_defaults=True):
    id: str
    name: str
    input: dict[str, Any]
    cache_control: Cache | None = None


ResultBlock = Text | Image | Document


class ToolResult(msgspec.Struct, tag="tool_result", tag_field="type", omit_defaults=True):
    tool_use_id: str
    content: str | list[ResultBlock] | None = None
    is_error: bool = False
    cache_control: Cache | None = None


class Thinking(msgspec.Struct, tag="thinking", tag_field="type", omit_defaults=True):
    thinking: str
    signature: str = ""


class Redacted(msgspec.Struct, tag="redacted_thinking", tag_field="type", omit_defaults=True):
    data: str


Block = Text | Image | Document | ToolUse | ToolResult | Thinking | Redacted


class Message(msgspec.Struct, omit_defaults=True):
    role: Literal["user", "assistant"]
    content: str | list[Block]


class Tool(msgspec.Struct, omit_defaults=True):
    name: str
    description: str | None = None
    input_schema: dict[str, Any] | None = None
    cache_control: Cache | None = None
    strict: bool | None = None
    type: str | None = None


class ToolChoice(msgspec.Struct, omit_defaults=True):
    type: Literal["auto", "any", "tool", "none"]
    name: str | None = None
    disable_parallel_tool_use: bool | None = None


class ThinkingConfig(msgspec.Struct, omit_defaults=True):
    type: Literal["enabled", "disabled", "adaptive"]
    budget_tokens: int | None = None


class Format(msgspec.Struct, omit_defaults=True):
    type: Literal["json_schema"]
    schema: dict[str, Any]


class OutputConfig(msgspec.Struct, omit_defaults=True):
    format: Format | None = None
    effort: str | None = None


class Metadata(msgspec.Struct, omit_defaults=True):
    user_id: str | None = None


class Request(msgspec.Struct, omit_defaults=True):
    model: str
    messages: list[Message]
    max_tokens: int
    system: str | list[Text] | None = None
    stop_sequences: list[str] | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    thinking: ThinkingConfig | None = None
    output_config: OutputConfig | None = None
    metadata: Metadata | None = None
    cache_control: Cache | None = None
    stream: bool | None = None


REQUEST_FIELDS = frozenset(Request.__struct_fields__)


class Usage(msgspec.Struct):
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    output_tokens_details: dict[str, Any] | None = None


class Response(msgspec.Struct):
    id: str = ""
    model: str = ""
    type: str = "message"
    content: list[dict[str, Any]] = msgspec.field(default_factory=list)
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: Usage | None = None
    error: dict[str, Any] | None = None


class ServerUsage(msgspec.Struct, omit_defaults=True):
    """Usage as written by the server side (message and stream events)."""

    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    output_tokens_details: dict[str, int] | None = None


STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


STOP_REASON_FOR: dict[FinishReason, str] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
    "error": "end_turn",
}


ERROR_TYPE_STATUS: dict[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "gateway_timeout_error": 504,
    "overloaded_error": 529,
}


_TYPE_BY_STATUS: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def finish_reason(native: str | None) -> FinishReason | None:
    if native is None:
        return None
    return STOP_REASONS.get(native, "stop")


def native_stop_reason(reason: FinishReason | None, native: str | None) -> str | None:
    """The Anthropic ``stop_reason`` for a canonical finish: the native value
    when it is Anthropic's own vocabulary, else the mapped one."""
    if native in STOP_REASONS:
        return native
    if reason is None:
        return None
    return STOP_REASON_FOR[reason]


def error_type(err: GatewayError) -> str:
    """Anthropic's ``error.type`` for a gateway error."""
    if err.kind == "overloaded":
        return "overloaded_error"
    if err.kind == "timeout":
        return "timeout_error"
    found = _TYPE_BY_STATUS.get(err.status)
    if found is not None:
        return found
    return "api_error" if err.status >= 500 else "invalid_request_error"


def error_body(err: GatewayError) -> bytes:
    return msgspec.json.encode(
        {"type": "error", "error": {"type": error_type(err), "message": err.message}}
    )


def to_wire_cache(cache: CacheControl | None) -> Cache | None:
    if cache is None:
        return None
    return Cache(type=cache.type, ttl=cache.ttl)


def from_wire_cache(cache: Cache | None) -> CacheControl | None:
    if cache is None:
        return None
    return CacheControl(type=cache.type, ttl=cache.ttl)


class Event(msgspec.Struct):
    type: str = ""
    index: int = 0
    message: dict[str, Any] | None = None
    content_block: dict[str, Any] | None = None
    delta: dict[str, Any] | None = None
    usage: Usage | None = None
    error: Any = None


class TokenCount(msgspec.Struct):
    input_tokens: int
