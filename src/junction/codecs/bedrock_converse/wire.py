"""AWS Bedrock Converse wire shapes and vocabularies (private to the Bedrock codec).

Shapes follow botocore's service model (``bedrock-runtime/2023-09-30``).
Converse "unions" (a content block, a tool, a tool choice) are objects with
exactly one key set; they are modelled as structs whose fields are all
optional, and the codec checks that one is set. Requests and responses share
the content-block shapes, so the simulator decodes what the client encodes.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from junction.types import (
    FinishReason,
    GatewayError,
)


class _Camel(msgspec.Struct, rename="camel", omit_defaults=True):
    pass


class S3Location(_Camel):
    uri: str
    bucket_owner: str | None = None


class Source(_Camel):
    """Image / document / video source: base64 ``bytes``, S3, or (documents) text."""

    bytes: str | None = None
    s3_location: S3Location | None = None
    text: str | None = None
    content: list[dict[str, Any]] | None = None


class Image(_Camel):
    format: str
    source: Source


class Document(_Camel):
    name: str
    source: Source
    format: str | None = None
    context: str | None = None
    citations: dict[str, Any] | None = None


class ToolUse(_Camel):
    tool_use_id: str
    name: str
    input: Any = None
    type: str | None = None


class ResultContent(_Camel):
    text: str | None = None
    json: Any = None
    image: Image | None = None
    document: Document | None = None
    video: dict[str, Any] | None = None
    search_result: dict[str, Any] | None = None


class ToolResult(_Camel):
    tool_use_id: str
    content: list[ResultContent] = msgspec.field(default_factory=list)
    status: str | None = None
    type: str | None = None


class ReasoningText(_Camel):
    text: str = ""
    signature: str | None = None


class Reasoning(_Camel):
    reasoning_text: ReasoningText | None = None
    redacted_content: str | None = None
    """Base64 of the provider's opaque bytes (JSON carries blobs as base64)."""


class CachePoint(_Camel):
    type: str
    ttl: str | None = None


class Block(_Camel):
    text: str | None = None
    image: Image | None = None
    document: Document | None = None
    video: dict[str, Any] | None = None
    audio: dict[str, Any] | None = None
    tool_use: ToolUse | None = None
    tool_result: ToolResult | None = None
    reasoning_content: Reasoning | None = None
    cache_point: CachePoint | None = None
    guard_content: dict[str, Any] | None = None
    citations_content: dict[str, Any] | None = None


class Message(_Camel):
    role: Literal["user", "assistant"]
    content: list[Block] = msgspec.field(default_factory=list)


class System(_Camel):
    text: str | None = None
    cache_point: CachePoint | None = None
    guard_content: dict[str, Any] | None = None


class Inference(_Camel):
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop_sequences: list[str] | None = None


class InputSchema(_Camel):
    json: dict[str, Any]


class ToolSpec(_Camel):
    name: str
    input_schema: InputSchema
    description: str | None = None
    strict: bool | None = None


class Tool(_Camel):
    tool_spec: ToolSpec | None = None
    system_tool: dict[str, Any] | None = None
    cache_point: CachePoint | None = None


class Named(_Camel):
    name: str


class ToolChoice(_Camel):
    auto: dict[str, Any] | None = None
    any: dict[str, Any] | None = None
    tool: Named | None = None


class ToolConfig(_Camel):
    tools: list[Tool]
    tool_choice: ToolChoice | None = None


class JsonSchema(_Camel):
    schema: str
    """The JSON Schema as JSON text (the service model's ``String``)."""
    name: str | None = None
    description: str | None = None


class Structure(_Camel):
    json_schema: JsonSchema | None = None


class TextFormat(_Camel):
    type: Literal["json_schema"]
    structure: Structure


class OutputConfig(_Camel):
    text_format: TextFormat | None = None


class ServiceTier(_Camel):
    type: str


class Request(_Camel):
    messages: list[Message] = msgspec.field(default_factory=list)
    system: list[System] | None = None
    inference_config: Inference | None = None
    tool_config: ToolConfig | None = None
    additional_model_request_fields: dict[str, Any] | None = None
    output_config: OutputConfig | None = None
    request_metadata: dict[str, str] | None = None
    service_tier: ServiceTier | None = None


REQUEST_FIELDS = frozenset(
    {
        "messages",
        "system",
        "inferenceConfig",
        "toolConfig",
        "additionalModelRequestFields",
        "outputConfig",
        "requestMetadata",
        "serviceTier",
    }
)
"""Top-level fields this codec maps; others (guardrailConfig, performanceConfig,
promptVariables...) travel in ``ChatRequest.extra`` under their wire names."""


class Usage(_Camel):
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_write_input_tokens: int | None = None


class Output(_Camel):
    message: Message | None = None


class Response(_Camel):
    output: Output | None = None
    stop_reason: str | None = None
    usage: Usage | None = None
    metrics: Any = None
    additional_model_response_fields: Any = None
    """A Document: any JSON value."""


STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
    "malformed_model_output": "error",
    "malformed_tool_use": "error",
}


STOP_REASON_FOR: dict[FinishReason, str] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "content_filtered",
    "error": "malformed_model_output",
}


ERROR_STATUS: dict[str, int] = {
    "AccessDeniedException": 403,
    "UnrecognizedClientException": 401,
    "InvalidSignatureException": 401,
    "IncompleteSignatureException": 401,
    "ExpiredTokenException": 401,
    "MissingAuthenticationTokenException": 401,
    "ConflictException": 400,
    "ValidationException": 400,
    "ServiceQuotaExceededException": 400,
    "ResourceNotFoundException": 404,
    "ModelTimeoutException": 408,
    "ThrottlingException": 429,
    "ModelNotReadyException": 429,
    "ModelErrorException": 502,
    "ModelStreamErrorException": 502,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
}
"""Exception type -> the status junction treats it as. AWS sends 403 for bad
credentials (mapped to 401: the gateway's key is wrong) and 424 for model
errors (mapped to 502: the model failed, another deployment may not)."""


STREAM_EXCEPTIONS: dict[str, int] = {
    "throttlingException": 429,
    "serviceUnavailableException": 503,
    "internalServerException": 500,
    "validationException": 400,
    "modelStreamErrorException": 502,
}
"""In-stream ``:exception-type`` values (ConverseStreamOutput) -> status."""


_TYPE_BY_STATUS: dict[int, str] = {
    400: "ValidationException",
    401: "UnrecognizedClientException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    413: "ValidationException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    502: "ModelErrorException",
    503: "ServiceUnavailableException",
    504: "ModelTimeoutException",
}


IMAGE_FORMATS: dict[str, str] = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
}


IMAGE_MEDIA: dict[str, str] = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
}


DOCUMENT_FORMATS: dict[str, str] = {
    "application/pdf": "pdf",
    "text/csv": "csv",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/html": "html",
    "text/plain": "txt",
    "text/markdown": "md",
}


DOCUMENT_MEDIA: dict[str, str] = {v: k for k, v in DOCUMENT_FORMATS.items()}


def finish_reason(native: str | None) -> FinishReason | None:
    if native is None:
        return None
    return STOP_REASONS.get(native, "stop")


def native_stop_reason(reason: FinishReason | None, native: str | None) -> str:
    """Bedrock's ``stopReason`` for a canonical finish (the native value when
    it is Bedrock's own vocabulary)."""
    if native in STOP_REASONS:
        return native
    return STOP_REASON_FOR[reason or "stop"]


def error_type(err: GatewayError) -> str:
    """The Bedrock exception name for a gateway error (``x-amzn-errortype``)."""
    if err.kind == "rate_limit":
        return "ThrottlingException"
    if err.kind == "overloaded":
        return "ServiceUnavailableException"
    found = _TYPE_BY_STATUS.get(err.status)
    if found is not None:
        return found
    return "InternalServerException" if err.status >= 500 else "ValidationException"


def stream_exception_type(err: GatewayError) -> str:
    """The in-stream ``:exception-type`` for a gateway error (lower camel case)."""
    name = error_type(err)
    lowered = name[0].lower() + name[1:]
    if lowered in STREAM_EXCEPTIONS:
        return lowered
    return "internalServerException" if err.status >= 500 else "validationException"


def model_family(model_id: str) -> str:
    """``anthropic`` | ``nova`` | ``openai`` | ``qwen`` | ``other``, from a model
    or inference-profile id (``us.anthropic.claude-...``, ``amazon.nova-lite-v1:0``).
    Application inference-profile ARNs name no family: ``other``."""
    lowered = model_id.lower()
    if lowered.startswith("arn:"):
        return "other"
    for marker, family in (
        ("anthropic.", "anthropic"),
        ("amazon.nova", "nova"),
        ("openai.", "openai"),
        ("qwen.", "qwen"),
    ):
        if marker in lowered:
            return family
    return "other"


class Event(msgspec.Struct, rename="camel"):
    content_block_index: int = 0
    start: dict[str, Any] | None = None
    delta: dict[str, Any] | None = None
    stop_reason: str | None = None
    usage: Usage | None = None
    message: str | None = None
    role: str | None = None
