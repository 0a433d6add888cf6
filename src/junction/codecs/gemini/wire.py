"""Gemini ``generateContent`` wire shapes, private to the Gemini codec.

Typed msgspec structs for what travels on the wire (camelCase JSON names),
the finish-reason and error-status vocabularies, and small helpers shared by
the client and server halves of the codec (:mod:`junction.codecs.gemini`).

The REST API is proto3 JSON, so Google accepts ``snake_case`` field names as
well as ``lowerCamelCase`` ones (the Python SDK sends some of each, e.g.
``parameters_json_schema`` or ``fileData.file_uri``). :func:`camelize_keys`
rewrites structural keys to camelCase before validation and leaves free-form
objects (function ``args``, schemas, ``response``) untouched.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from junction.types import FinishReason, GatewayError


class Blob(msgspec.Struct, rename="camel", omit_defaults=True):
    mime_type: str = ""
    data: str = ""


class FileData(msgspec.Struct, rename="camel", omit_defaults=True):
    file_uri: str
    mime_type: str | None = None


class FunctionCall(msgspec.Struct, omit_defaults=True):
    name: str
    args: dict[str, Any] | None = None
    id: str | None = None


class FunctionResponse(msgspec.Struct, omit_defaults=True):
    name: str
    response: dict[str, Any] | None = None
    id: str | None = None


class Part(msgspec.Struct, rename="camel", omit_defaults=True):
    text: str | None = None
    thought: bool | None = None
    thought_signature: str | None = None
    inline_data: Blob | None = None
    file_data: FileData | None = None
    function_call: FunctionCall | None = None
    function_response: FunctionResponse | None = None


class Content(msgspec.Struct, omit_defaults=True):
    parts: list[Part] = msgspec.field(default_factory=list)
    role: str | None = None


class FunctionDeclaration(msgspec.Struct, rename="camel", omit_defaults=True):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    """OpenAPI-subset ``Schema`` (uppercase types); read on the server side only."""
    parameters_json_schema: dict[str, Any] | None = None
    """Full JSON Schema: what the client side sends."""


class Tool(msgspec.Struct, rename="camel", omit_defaults=True):
    function_declarations: list[FunctionDeclaration] | None = None


class FunctionCallingConfig(msgspec.Struct, rename="camel", omit_defaults=True):
    mode: str | None = None
    allowed_function_names: list[str] | None = None


class ToolConfig(msgspec.Struct, rename="camel", omit_defaults=True):
    function_calling_config: FunctionCallingConfig | None = None


class ThinkingConfig(msgspec.Struct, rename="camel", omit_defaults=True):
    include_thoughts: bool | None = None
    thinking_budget: int | None = None
    thinking_level: str | None = None


class GenerationConfig(msgspec.Struct, rename="camel", omit_defaults=True):
    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: float | None = None
    """An integer in the API docs, a float in the SDK; both are read."""
    stop_sequences: list[str] | None = None
    candidate_count: int | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    response_logprobs: bool | None = None
    logprobs: int | None = None
    response_mime_type: str | None = None
    response_schema: dict[str, Any] | None = None
    response_json_schema: dict[str, Any] | None = None
    thinking_config: ThinkingConfig | None = None


class GenerateContentRequest(msgspec.Struct, rename="camel", omit_defaults=True):
    contents: list[Content]
    system_instruction: Content | None = None
    tools: list[Tool] | None = None
    tool_config: ToolConfig | None = None
    generation_config: GenerationConfig | None = None


class UsageMetadata(msgspec.Struct, rename="camel", omit_defaults=True):
    prompt_token_count: int = 0
    candidates_token_count: int = 0
    total_token_count: int = 0
    thoughts_token_count: int = 0
    cached_content_token_count: int = 0
    tool_use_prompt_token_count: int = 0


class LogprobCandidate(msgspec.Struct, rename="camel", omit_defaults=True):
    token: str = ""
    log_probability: float = 0.0


class TopCandidates(msgspec.Struct, omit_defaults=True):
    candidates: list[LogprobCandidate] = msgspec.field(default_factory=list)


class LogprobsResult(msgspec.Struct, rename="camel", omit_defaults=True):
    chosen_candidates: list[LogprobCandidate] = msgspec.field(default_factory=list)
    top_candidates: list[TopCandidates] = msgspec.field(default_factory=list)


class Candidate(msgspec.Struct, rename="camel", omit_defaults=True):
    content: Content | None = None
    finish_reason: str | None = None
    index: int = 0
    logprobs_result: LogprobsResult | None = None


class PromptFeedback(msgspec.Struct, rename="camel", omit_defaults=True):
    block_reason: str | None = None
    block_reason_message: str | None = None


class ErrorBody(msgspec.Struct, omit_defaults=True):
    code: int = 0
    message: str = ""
    status: str = ""
    details: list[Any] | None = None


class GenerateContentResponse(msgspec.Struct, rename="camel", omit_defaults=True):
    candidates: list[Candidate] = msgspec.field(default_factory=list)
    usage_metadata: UsageMetadata | None = None
    model_version: str | None = None
    response_id: str | None = None
    prompt_feedback: PromptFeedback | None = None
    error: ErrorBody | None = None
    """Set only on an error chunk inside a stream."""


class ContentEmbedding(msgspec.Struct, omit_defaults=True):
    values: list[float] = msgspec.field(default_factory=list)


class EmbedContentRequest(msgspec.Struct, rename="camel", omit_defaults=True):
    content: Content
    model: str | None = None
    output_dimensionality: int | None = None
    task_type: str | None = None


class BatchEmbedRequest(msgspec.Struct, omit_defaults=True):
    requests: list[EmbedContentRequest]


class EmbedContentResponse(msgspec.Struct, omit_defaults=True):
    embedding: ContentEmbedding


class BatchEmbedResponse(msgspec.Struct, omit_defaults=True):
    embeddings: list[ContentEmbedding] = msgspec.field(default_factory=list)


FINISH_REASONS = frozenset(
    {
        "FINISH_REASON_UNSPECIFIED",
        "STOP",
        "MAX_TOKENS",
        "SAFETY",
        "RECITATION",
        "LANGUAGE",
        "OTHER",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "MALFORMED_FUNCTION_CALL",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_OTHER",
        "NO_IMAGE",
        "IMAGE_RECITATION",
        "UNEXPECTED_TOOL_CALL",
        "TOO_MANY_TOOL_CALLS",
        "MISSING_THOUGHT_SIGNATURE",
        "MALFORMED_RESPONSE",
        "MODEL_ARMOR",
    }
)
"""Gemini ``FinishReason`` values (google-genai ``types.FinishReason``)."""


_FILTER_REASONS = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
        "MODEL_ARMOR",
        "JAILBREAK",
    }
)


def finish_reason(native: str, had_tool_call: bool) -> FinishReason:
    """Normalise a Gemini finish (or prompt block) reason.

    STOP (and the unspecified value) is ``stop``, or ``tool_calls`` when the
    candidate holds a function call (Gemini has no tool-call reason);
    MAX_TOKENS is ``length``; the safety / recitation / blocklist family is
    ``content_filter``; every other reason (MALFORMED_FUNCTION_CALL, OTHER,
    LANGUAGE, TOO_MANY_TOOL_CALLS, NO_IMAGE...) means the model failed to
    produce a usable answer, so it is ``error``.
    """
    if native in ("STOP", "FINISH_REASON_UNSPECIFIED"):
        return "tool_calls" if had_tool_call else "stop"
    if native == "MAX_TOKENS":
        return "length"
    if native in _FILTER_REASONS:
        return "content_filter"
    return "error"


_NATIVE_FOR: dict[str, str] = {
    "stop": "STOP",
    "length": "MAX_TOKENS",
    "tool_calls": "STOP",
    "content_filter": "SAFETY",
    "error": "OTHER",
}


def native_finish(reason: str | None, native: str | None) -> str:
    """The Gemini finishReason to send: the native one when it is a Gemini value."""
    if native in FINISH_REASONS:
        return native
    return _NATIVE_FOR.get(reason or "stop", "STOP")


def status_name(status: int) -> str:
    """The google.rpc status name for an HTTP status."""
    if status == 401:
        return "UNAUTHENTICATED"
    if status == 403:
        return "PERMISSION_DENIED"
    if status == 404:
        return "NOT_FOUND"
    if status == 429:
        return "RESOURCE_EXHAUSTED"
    if status in (408, 504):
        return "DEADLINE_EXCEEDED"
    if status in (502, 503):
        return "UNAVAILABLE"
    if status >= 500:
        return "INTERNAL"
    return "INVALID_ARGUMENT"


def error_body(err: GatewayError) -> bytes:
    """``{"error": {"code", "message", "status"}}`` for a gateway error."""
    body = ErrorBody(code=err.status, message=err.message, status=status_name(err.status))
    return msgspec.json.encode({"error": body})


_SNAKE_KEY = re.compile(rb'"[a-z0-9]+_[a-z0-9_]+"\s*:')


OPAQUE_KEYS = frozenset(
    {
        "args",
        "response",
        "parameters",
        "parametersJsonSchema",
        "responseSchema",
        "responseJsonSchema",
        "labels",
        "metadata",
    }
)
"""Keys whose values are free-form JSON: never rewritten."""


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def camelize_keys(value: Any) -> Any:
    if isinstance(value, list):
        return [camelize_keys(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = camel(key) if "_" in key else key
        out[name] = item if name in OPAQUE_KEYS else camelize_keys(item)
    return out


def has_snake_keys(body: bytes) -> bool:
    return _SNAKE_KEY.search(body) is not None


def openapi_to_json_schema(schema: Any) -> Any:
    """Gemini's OpenAPI-subset ``Schema`` (``type: OBJECT``, ``any_of``) as JSON Schema."""
    if isinstance(schema, list):
        return [openapi_to_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        name = camel(key) if "_" in key else key
        if name == "type" and isinstance(value, str):
            out[name] = value.lower()
        elif name in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[name] = {k: openapi_to_json_schema(v) for k, v in value.items()}
        elif name in ("enum", "default", "example", "required", "propertyOrdering"):
            out[name] = value
        else:
            out[name] = openapi_to_json_schema(value)
    return out
