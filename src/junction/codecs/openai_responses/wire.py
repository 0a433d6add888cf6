"""Every wire struct of the OpenAI Responses API.

Request bodies (``Request``, its ``Item`` list) as a door reads them; the
``Received*`` structs, lenient, for what OpenAI sends back; ``Response``,
its ``Output*`` items and the stream events as junction writes them; and
the API's vocabularies.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from junction.types import (
    ErrorKind,
    FinishReason,
)


class Content(msgspec.Struct):
    type: str
    text: str | None = None
    image_url: str | None = None
    file_id: str | None = None
    detail: str | None = None
    file_data: str | None = None
    file_url: str | None = None
    filename: str | None = None
    refusal: str | None = None


class Summary(msgspec.Struct):
    text: str = ""
    type: str = "summary_text"


class Item(msgspec.Struct):
    type: str | None = None
    role: str | None = None
    content: str | list[Content] | None = None
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None
    output: str | list[Content] | None = None
    summary: list[Summary] | None = None
    encrypted_content: str | None = None


class Tool(msgspec.Struct):
    type: str
    name: str | None = None
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ToolChoice(msgspec.Struct):
    type: str
    name: str | None = None


class Format(msgspec.Struct):
    type: str
    name: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool | None = None
    description: str | None = None


class Text(msgspec.Struct):
    format: Format | None = None
    verbosity: str | None = None


class Reasoning(msgspec.Struct):
    effort: str | None = None
    summary: str | None = None
    generate_summary: str | None = None


class Request(msgspec.Struct):
    model: str | msgspec.UnsetType = msgspec.UNSET
    input: str | list[Item] | msgspec.UnsetType = msgspec.UNSET
    instructions: str | None = None
    tools: list[Tool] | None = None
    tool_choice: str | ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    reasoning: Reasoning | None = None
    text: Text | None = None
    metadata: dict[str, str] | None = None
    user: str | None = None
    stream: bool | None = None
    store: bool | None = None
    previous_response_id: str | None = None
    conversation: Any = None
    include: list[str] | None = None
    truncation: str | None = None
    service_tier: str | None = None
    prompt_cache_key: str | None = None
    background: bool | None = None
    prompt: Any = None
    stream_options: Any = None


class ReceivedContent(msgspec.Struct):
    type: str = ""
    text: str | None = None
    refusal: str | None = None


class ReceivedItem(msgspec.Struct):
    type: str = ""
    id: str | None = None
    content: list[ReceivedContent] | None = None
    summary: list[ReceivedContent] | None = None
    encrypted_content: str | None = None
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None


class ReceivedInputDetails(msgspec.Struct):
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None


class ReceivedOutputDetails(msgspec.Struct):
    reasoning_tokens: int | None = None


class ReceivedUsage(msgspec.Struct):
    input_tokens: int | None = None
    output_tokens: int | None = None
    input_tokens_details: ReceivedInputDetails | None = None
    output_tokens_details: ReceivedOutputDetails | None = None
    cost: float | None = None


class ReceivedError(msgspec.Struct):
    message: str | None = None
    code: str | None = None
    type: str | None = None
    param: str | None = None


class ReceivedIncomplete(msgspec.Struct):
    reason: str | None = None


class ReceivedResponse(msgspec.Struct):
    id: str = ""
    model: str = ""
    created_at: int | float = 0
    status: str | None = None
    output: list[ReceivedItem] | None = None
    usage: ReceivedUsage | None = None
    error: ReceivedError | None = None
    incomplete_details: ReceivedIncomplete | None = None
    service_tier: str | None = None


class ReceivedEvent(msgspec.Struct):
    type: str = ""
    response: ReceivedResponse | None = None
    item: ReceivedItem | None = None
    output_index: int = 0
    summary_index: int = 0
    delta: str | None = None
    arguments: str | None = None
    code: str | None = None
    message: str | None = None
    param: str | None = None
    error: ReceivedError | None = None


class OutputText(msgspec.Struct):
    text: str
    type: str = "output_text"
    annotations: list[Any] = msgspec.field(default_factory=list)
    logprobs: list[Any] = msgspec.field(default_factory=list)


class OutputRefusal(msgspec.Struct):
    refusal: str
    type: str = "refusal"


class OutputMessage(msgspec.Struct):
    id: str
    content: list[OutputText | OutputRefusal]
    status: str = "completed"
    type: str = "message"
    role: str = "assistant"


class OutputFunctionCall(msgspec.Struct):
    id: str
    call_id: str
    name: str
    arguments: str
    status: str = "completed"
    type: str = "function_call"


class OutputSummary(msgspec.Struct):
    text: str
    type: str = "summary_text"


class OutputReasoning(msgspec.Struct):
    id: str
    summary: list[OutputSummary]
    type: str = "reasoning"
    encrypted_content: str | None = None


OutputItem = OutputMessage | OutputFunctionCall | OutputReasoning


class InputDetails(msgspec.Struct):
    cached_tokens: int
    cache_write_tokens: int


class OutputDetails(msgspec.Struct):
    reasoning_tokens: int


class Usage(msgspec.Struct, omit_defaults=True):
    input_tokens: int
    input_tokens_details: InputDetails
    output_tokens: int
    output_tokens_details: OutputDetails
    total_tokens: int
    cost: float | None = None
    """OpenRouter's extension, as in the chat dialect."""


class Error(msgspec.Struct):
    code: str
    message: str


class Incomplete(msgspec.Struct):
    reason: str


class Response(msgspec.Struct, omit_defaults=True):
    id: str
    object: str
    created_at: int
    status: str
    error: Error | None
    incomplete_details: Incomplete | None
    instructions: str | None
    max_output_tokens: int | None
    model: str
    output: list[Any]
    parallel_tool_calls: bool
    previous_response_id: str | None
    reasoning: dict[str, Any] | None
    service_tier: str | None
    temperature: float | None
    text: dict[str, Any]
    tool_choice: str | dict[str, Any]
    tools: list[dict[str, Any]]
    top_p: float | None
    truncation: str
    metadata: dict[str, str]
    usage: Usage | None = None
    user: str | None = None
    """``usage`` and ``user`` are not nullable in the spec: left out when unset."""


class ErrorBody(msgspec.Struct):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorEnvelope(msgspec.Struct):
    error: ErrorBody


class Echo(msgspec.Struct):
    """What a Response repeats of the request that made it."""

    instructions: str | None = None
    max_output_tokens: int | None = None
    parallel_tool_calls: bool = True
    reasoning: dict[str, Any] | None = None
    temperature: float | None = None
    text: dict[str, Any] = msgspec.field(default_factory=lambda: {"format": {"type": "text"}})
    tool_choice: str | dict[str, Any] = "auto"
    tools: list[dict[str, Any]] = msgspec.field(default_factory=list)
    top_p: float | None = None
    user: str | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)
    previous_response_id: str | None = None


class TextDeltaEvent(msgspec.Struct):
    item_id: str
    output_index: int
    delta: str
    sequence_number: int
    type: str = "response.output_text.delta"
    content_index: int = 0
    logprobs: list[Any] = msgspec.field(default_factory=list)


class ArgumentsDeltaEvent(msgspec.Struct):
    item_id: str
    output_index: int
    delta: str
    sequence_number: int
    type: str = "response.function_call_arguments.delta"


class SummaryDeltaEvent(msgspec.Struct):
    item_id: str
    output_index: int
    summary_index: int
    delta: str
    sequence_number: int
    type: str = "response.reasoning_summary_text.delta"


INCOMPLETE_REASONS: dict[str, FinishReason] = {
    "max_output_tokens": "length",
    "max_tokens": "length",
    "content_filter": "content_filter",
}
"""``incomplete_details.reason`` normalised (``max_tokens`` appears in the spec's example)."""


FINISH_TO_INCOMPLETE: dict[FinishReason, str] = {
    "length": "max_output_tokens",
    "content_filter": "content_filter",
}
"""Canonical finish reasons that make a Response ``incomplete``, with their reason."""


ERROR_CODES: dict[ErrorKind, str] = {
    "rate_limit": "rate_limit_exceeded",
    "invalid_request": "invalid_prompt",
    "unsupported_parameter": "invalid_prompt",
    "context_length_exceeded": "invalid_prompt",
    "request_too_large": "invalid_prompt",
}
"""Gateway error kinds in the vocabulary of ``ResponseError.code`` (an enum in
the spec); every other kind is ``server_error``."""


STREAM_ERROR_STATUS: dict[str, int] = {
    "rate_limit_exceeded": 429,
    "rate_limit": 429,
    "invalid_prompt": 400,
    "context_length_exceeded": 400,
    "server_error": 500,
    "insufficient_quota": 429,
}
"""HTTP status an in-stream error code stands for (anything else: 500)."""


def item_id(prefix: str) -> str:
    """A fresh item id: ``resp``, ``msg``, ``fc``, ``rs``."""
    return f"{prefix}_{uuid.uuid4().hex}"


def response_id(canonical: str) -> str:
    """The canonical response id as a Responses id (``resp_...``)."""
    if canonical.startswith("resp_"):
        return canonical
    if not canonical:
        return item_id("resp")
    return "resp_" + canonical
