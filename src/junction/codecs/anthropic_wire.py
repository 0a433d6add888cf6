"""Anthropic Messages wire shapes and vocabularies (private to the Anthropic codec).

The request structs serve both directions: ``decode_request`` validates a
client's body against them (msgspec reports the JSON path of a bad field) and
``encode_request`` builds them and lets msgspec write the JSON. Responses and
stream events are read more loosely (see ``anthropic_response`` and
``anthropic_stream``) so that a new block type from the provider is skipped,
not fatal.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from junction.types import CacheControl, FinishReason, GatewayError

# --- request -----------------------------------------------------------------


class WCache(msgspec.Struct, omit_defaults=True):
    type: str
    ttl: str | None = None


class WBase64Source(msgspec.Struct, tag="base64", tag_field="type", omit_defaults=True):
    media_type: str
    data: str


class WUrlSource(msgspec.Struct, tag="url", tag_field="type", omit_defaults=True):
    url: str


class WTextSource(msgspec.Struct, tag="text", tag_field="type", omit_defaults=True):
    media_type: str
    data: str


class WFileSource(msgspec.Struct, tag="file", tag_field="type", omit_defaults=True):
    file_id: str


ImageSource = WBase64Source | WUrlSource
DocumentSource = WBase64Source | WUrlSource | WTextSource | WFileSource


class WText(msgspec.Struct, tag="text", tag_field="type", omit_defaults=True):
    text: str
    cache_control: WCache | None = None


class WImage(msgspec.Struct, tag="image", tag_field="type", omit_defaults=True):
    source: ImageSource
    cache_control: WCache | None = None


class WDocument(msgspec.Struct, tag="document", tag_field="type", omit_defaults=True):
    source: DocumentSource
    title: str | None = None
    cache_control: WCache | None = None


class WToolUse(msgspec.Struct, tag="tool_use", tag_field="type", omit_defaults=True):
    id: str
    name: str
    input: dict[str, Any]
    cache_control: WCache | None = None


ResultBlock = WText | WImage | WDocument


class WToolResult(msgspec.Struct, tag="tool_result", tag_field="type", omit_defaults=True):
    tool_use_id: str
    content: str | list[ResultBlock] | None = None
    is_error: bool = False
    cache_control: WCache | None = None


class WThinking(msgspec.Struct, tag="thinking", tag_field="type", omit_defaults=True):
    thinking: str
    signature: str = ""


class WRedacted(msgspec.Struct, tag="redacted_thinking", tag_field="type", omit_defaults=True):
    data: str


Block = WText | WImage | WDocument | WToolUse | WToolResult | WThinking | WRedacted


class WMessage(msgspec.Struct, omit_defaults=True):
    role: Literal["user", "assistant"]
    content: str | list[Block]


class WTool(msgspec.Struct, omit_defaults=True):
    name: str
    description: str | None = None
    input_schema: dict[str, Any] | None = None
    cache_control: WCache | None = None
    strict: bool | None = None
    type: str | None = None


class WToolChoice(msgspec.Struct, omit_defaults=True):
    type: Literal["auto", "any", "tool", "none"]
    name: str | None = None
    disable_parallel_tool_use: bool | None = None


class WThinkingConfig(msgspec.Struct, omit_defaults=True):
    type: Literal["enabled", "disabled", "adaptive"]
    budget_tokens: int | None = None


class WFormat(msgspec.Struct, omit_defaults=True):
    type: Literal["json_schema"]
    schema: dict[str, Any]


class WOutputConfig(msgspec.Struct, omit_defaults=True):
    format: WFormat | None = None
    effort: str | None = None


class WMetadata(msgspec.Struct, omit_defaults=True):
    user_id: str | None = None


class WRequest(msgspec.Struct, omit_defaults=True):
    model: str
    messages: list[WMessage]
    max_tokens: int
    system: str | list[WText] | None = None
    stop_sequences: list[str] | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    tools: list[WTool] | None = None
    tool_choice: WToolChoice | None = None
    thinking: WThinkingConfig | None = None
    output_config: WOutputConfig | None = None
    metadata: WMetadata | None = None
    cache_control: WCache | None = None
    stream: bool | None = None


REQUEST_FIELDS = frozenset(WRequest.__struct_fields__)

# --- response ----------------------------------------------------------------


class WUsage(msgspec.Struct):
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    output_tokens_details: dict[str, Any] | None = None


class WResponse(msgspec.Struct):
    id: str = ""
    model: str = ""
    type: str = "message"
    content: list[dict[str, Any]] = msgspec.field(default_factory=list)
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: WUsage | None = None
    error: dict[str, Any] | None = None


class OutUsage(msgspec.Struct, omit_defaults=True):
    """Usage as written by the server side (message and stream events)."""

    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    output_tokens_details: dict[str, int] | None = None


# --- vocabularies ------------------------------------------------------------

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


def to_wire_cache(cache: CacheControl | None) -> WCache | None:
    if cache is None:
        return None
    return WCache(type=cache.type, ttl=cache.ttl)


def from_wire_cache(cache: WCache | None) -> CacheControl | None:
    if cache is None:
        return None
    return CacheControl(type=cache.type, ttl=cache.ttl)
