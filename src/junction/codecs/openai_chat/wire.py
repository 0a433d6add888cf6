"""Every wire struct of the OpenAI Chat Completions API.

Request bodies (``Request`` and its parts) as a door reads them; the
``Sent*`` structs for the request bodies junction sends to providers (a
field left ``UNSET`` is not written); the ``Received*`` structs, lenient
(unknown fields ignored, most optional), for what OpenAI-compatible
providers send back; ``Response``, ``Chunk`` and the rest as junction writes
them when it serves the API.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from junction.codecs._shared.openai_errors import ErrorFields
from junction.types import CacheControl, FinishReason


class ImageURL(msgspec.Struct):
    url: str
    detail: str | None = None


class InputAudio(msgspec.Struct):
    data: str
    format: str


class File(msgspec.Struct):
    file_data: str | None = None
    file_id: str | None = None
    filename: str | None = None


class TextItem(msgspec.Struct):
    text: str = ""


class Part(msgspec.Struct):
    type: str
    text: str | None = None
    image_url: ImageURL | str | None = None
    input_audio: InputAudio | None = None
    file: File | None = None
    refusal: str | None = None
    thinking: str | list[TextItem] | None = None
    signature: str | None = None
    cache_control: CacheControl | None = None


class FunctionCall(msgspec.Struct):
    name: str
    arguments: str | dict[str, Any] = "{}"


class ToolCall(msgspec.Struct):
    function: FunctionCall
    id: str = ""
    type: str = "function"


class Message(msgspec.Struct):
    role: str
    content: str | list[Part] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    refusal: str | None = None
    reasoning: str | None = None
    reasoning_content: str | None = None


class FunctionDef(msgspec.Struct):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(msgspec.Struct):
    type: str = "function"
    function: FunctionDef | None = None
    cache_control: CacheControl | None = None


class Named(msgspec.Struct):
    name: str


class ToolChoice(msgspec.Struct):
    type: str
    function: Named | None = None


class JsonSchema(msgspec.Struct):
    name: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool | None = None
    description: str | None = None


class ResponseFormat(msgspec.Struct):
    type: str
    json_schema: JsonSchema | None = None


class Reasoning(msgspec.Struct):
    effort: str | None = None
    max_tokens: int | None = None
    exclude: bool | None = None
    enabled: bool | None = None
    summary: str | None = None


class StreamOptions(msgspec.Struct):
    include_usage: bool | None = None


class Request(msgspec.Struct):
    model: str | msgspec.UnsetType = msgspec.UNSET
    messages: list[Message] | msgspec.UnsetType = msgspec.UNSET
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    repetition_penalty: float | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    n: int | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    logit_bias: dict[str, float] | None = None
    tools: list[Tool] | None = None
    tool_choice: str | ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    reasoning_effort: str | None = None
    reasoning: Reasoning | None = None
    user: str | None = None
    metadata: dict[str, str] | None = None
    service_tier: str | None = None
    prompt_cache_key: str | None = None
    cache_control: CacheControl | None = None
    functions: Any = None
    function_call: Any = None


class EmbeddingRequest(msgspec.Struct):
    model: str | None = None
    input: str | list[Any] | None = None
    dimensions: int | None = None
    encoding_format: str | None = None
    user: str | None = None


class ReceivedTextItem(msgspec.Struct):
    text: str = ""


class ReceivedPart(msgspec.Struct):
    type: str = "text"
    text: str | None = None
    thinking: str | list[ReceivedTextItem] | None = None


class ReceivedFunction(msgspec.Struct):
    name: str | None = None
    arguments: str | dict[str, Any] | None = None


class ReceivedToolCall(msgspec.Struct):
    function: ReceivedFunction | None = None
    id: str | None = None
    index: int | None = None


class ReceivedMessage(msgspec.Struct):
    content: str | list[ReceivedPart] | None = None
    reasoning: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[ReceivedToolCall] | None = None
    refusal: str | None = None


class ReceivedTopLogprob(msgspec.Struct):
    token: str
    logprob: float
    bytes: list[int] | None = None


class ReceivedTokenLogprob(msgspec.Struct):
    token: str
    logprob: float
    bytes: list[int] | None = None
    top_logprobs: list[ReceivedTopLogprob] | None = None


class ReceivedLogprobs(msgspec.Struct):
    content: list[ReceivedTokenLogprob] | None = None


class ReceivedChoice(msgspec.Struct):
    index: int = 0
    message: ReceivedMessage | None = None
    delta: ReceivedMessage | None = None
    finish_reason: str | None = None
    native_finish_reason: str | None = None
    logprobs: ReceivedLogprobs | None = None


class ReceivedPromptDetails(msgspec.Struct):
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None
    audio_tokens: int | None = None


class ReceivedCompletionDetails(msgspec.Struct):
    reasoning_tokens: int | None = None


class ReceivedUsage(msgspec.Struct):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    prompt_tokens_details: ReceivedPromptDetails | None = None
    completion_tokens_details: ReceivedCompletionDetails | None = None
    prompt_cache_hit_tokens: int | None = None
    cost: float | None = None


class ReceivedGroqExtension(msgspec.Struct):
    usage: ReceivedUsage | None = None


class ReceivedBody(msgspec.Struct):
    id: str = ""
    model: str = ""
    created: int | float = 0
    choices: list[ReceivedChoice] | None = None
    usage: ReceivedUsage | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None
    error: ErrorFields | None = None
    x_groq: ReceivedGroqExtension | None = None


class ReceivedEmbedding(msgspec.Struct):
    embedding: list[float] | str
    index: int = 0


class ReceivedEmbeddingList(msgspec.Struct):
    data: list[ReceivedEmbedding]
    model: str = ""
    usage: ReceivedUsage | None = None


class Function(msgspec.Struct, omit_defaults=True):
    name: str | None = None
    arguments: str | None = None


class ResponseToolCall(msgspec.Struct):
    id: str
    function: Function
    type: str = "function"


class ResponseMessage(msgspec.Struct, omit_defaults=True):
    role: str
    content: str | None
    refusal: str | None
    tool_calls: list[ResponseToolCall] | None = None
    reasoning: str | None = None


class TopLogprob(msgspec.Struct):
    token: str
    logprob: float
    bytes: list[int] | None


class TokenLogprob(msgspec.Struct):
    token: str
    logprob: float
    bytes: list[int] | None
    top_logprobs: list[TopLogprob]


class Logprobs(msgspec.Struct):
    content: list[TokenLogprob] | None
    refusal: list[TokenLogprob] | None = None


class Choice(msgspec.Struct, omit_defaults=True):
    index: int
    message: ResponseMessage
    finish_reason: str
    logprobs: Logprobs | None
    native_finish_reason: str | None = None


class PromptDetails(msgspec.Struct):
    cached_tokens: int
    cache_write_tokens: int
    audio_tokens: int


class CompletionDetails(msgspec.Struct):
    reasoning_tokens: int


class Usage(msgspec.Struct, omit_defaults=True):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: PromptDetails
    completion_tokens_details: CompletionDetails
    cost: float | None = None


class Response(msgspec.Struct, omit_defaults=True):
    id: str
    created: int
    model: str
    choices: list[Choice]
    object: str
    usage: Usage | None = None
    provider: str | None = None
    system_fingerprint: str | UnsetType | None = UNSET
    """Left out when unknown (OpenAI's is a string), or written null
    (OpenRouter's ``ChatResult`` requires it, nullable)."""
    service_tier: str | None = None
    warnings: list[str] | None = None
    """junction's own: parameters dropped for the target (drop_params)."""
    router: RouterChoice | None = None
    """junction's own: the semantic router's decision (``junction/auto``)."""


class RouterChoice(msgspec.Struct, omit_defaults=True):
    name: str
    model: str
    score: float
    shadow: bool = False


class Delta(msgspec.Struct, omit_defaults=True):
    role: str | None = None
    content: str | None = None
    reasoning: str | None = None
    tool_calls: list[ToolCallChunk] | None = None


class ToolCallChunk(msgspec.Struct, omit_defaults=True):
    index: int
    function: Function
    id: str | None = None
    type: str | None = None


class ChunkChoice(msgspec.Struct, omit_defaults=True):
    index: int
    delta: Delta
    finish_reason: str | None
    native_finish_reason: str | None = None


class ErrorBody(msgspec.Struct):
    message: str
    type: str
    param: str | None
    code: str | int | None


class Chunk(msgspec.Struct, omit_defaults=True):
    id: str
    created: int
    model: str
    choices: list[ChunkChoice]
    object: str
    provider: str | None = None
    usage: Usage | None = None
    error: ErrorBody | None = None
    router: RouterChoice | None = None
    """junction's own, on the first chunk: the semantic router's decision."""


class ErrorEnvelope(msgspec.Struct):
    error: ErrorBody


class Embedding(msgspec.Struct):
    index: int
    embedding: list[float] | str
    object: str = "embedding"


class EmbeddingUsage(msgspec.Struct):
    prompt_tokens: int
    total_tokens: int


class EmbeddingList(msgspec.Struct):
    data: list[Embedding]
    model: str
    usage: EmbeddingUsage
    object: str = "list"


FINISH_REASONS: dict[str, FinishReason] = {
    # OpenAI (and Groq, xAI, Cerebras, Fireworks, OpenRouter's normalised field)
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
    "function_call": "tool_calls",  # OpenAI's legacy functions; Together, Groq
    # Together
    "eos": "stop",
    # Mistral
    "model_length": "length",  # the model's context window, not max_tokens
    "error": "error",  # also OpenRouter's normalised vocabulary and vLLM
    # DeepSeek
    "insufficient_system_resource": "error",
    # vLLM (RequestOutput.finish_reason)
    "abort": "error",
    "repetition": "stop",  # stopped by its repetition detector
    # Anthropic's vocabulary, as OpenAI-compatible shims of Claude echo it
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
}
"""Every finish reason seen from OpenAI-compatible vendors, normalised.
Anything else maps to ``stop``; decoders keep the native value beside it
(``Choice.native_finish_reason``, ``Finish.native``)."""


def normalise_finish(native: str) -> FinishReason:
    return FINISH_REASONS.get(native, "stop")


# --- request bodies junction sends --------------------------------------------


class SentImageURL(msgspec.Struct, kw_only=True):
    url: str | None
    detail: str | UnsetType = UNSET


class SentAudio(msgspec.Struct):
    data: str
    format: str


class SentFile(msgspec.Struct, kw_only=True):
    file_data: str | UnsetType = UNSET
    file_id: str | UnsetType = UNSET
    filename: str | UnsetType = UNSET


class SentPart(msgspec.Struct, kw_only=True):
    type: str
    text: str | UnsetType = UNSET
    image_url: SentImageURL | UnsetType = UNSET
    input_audio: SentAudio | UnsetType = UNSET
    file: SentFile | UnsetType = UNSET
    cache_control: CacheControl | UnsetType = UNSET


class SentFunction(msgspec.Struct):
    name: str
    arguments: str


class SentToolCall(msgspec.Struct, kw_only=True):
    id: str
    type: str = "function"
    function: SentFunction


class SentMessage(msgspec.Struct, kw_only=True):
    role: str
    tool_call_id: str | UnsetType = UNSET
    content: str | list[SentPart] | None
    tool_calls: list[SentToolCall] | UnsetType = UNSET
    refusal: str | UnsetType = UNSET
    name: str | UnsetType = UNSET


class SentStreamOptions(msgspec.Struct):
    include_usage: bool


class SentFunctionDef(msgspec.Struct, kw_only=True):
    name: str
    parameters: dict[str, Any] | None
    description: str | UnsetType = UNSET
    strict: bool | UnsetType = UNSET


class SentTool(msgspec.Struct, kw_only=True):
    type: str = "function"
    function: SentFunctionDef


class SentNamed(msgspec.Struct):
    name: str | None


class SentToolChoice(msgspec.Struct, kw_only=True):
    type: str = "function"
    function: SentNamed


class SentJsonSchema(msgspec.Struct, kw_only=True):
    name: str
    schema: dict[str, Any] | None
    strict: bool | UnsetType = UNSET
    description: str | UnsetType = UNSET


class SentResponseFormat(msgspec.Struct, kw_only=True):
    type: str
    json_schema: SentJsonSchema | UnsetType = UNSET


class SentReasoning(msgspec.Struct, kw_only=True):
    """OpenRouter's ``reasoning`` object."""

    effort: str | UnsetType = UNSET
    max_tokens: int | UnsetType = UNSET
    exclude: bool | UnsetType = UNSET
    enabled: bool | UnsetType = UNSET


class SentRequest(msgspec.Struct, kw_only=True):
    """A ``/chat/completions`` body. Fields a vendor passes through beyond
    these (``Quirks.pass_extra``) are merged in at encode time."""

    model: str | UnsetType = UNSET
    messages: list[SentMessage | msgspec.Raw] | UnsetType = UNSET
    """A message is pre-encoded (``Raw``) when it carries a vendor's own
    reasoning field (``Quirks.reasoning_field``)."""
    stream: bool | UnsetType = UNSET
    stream_options: SentStreamOptions | UnsetType = UNSET
    max_tokens: int | UnsetType = UNSET
    max_completion_tokens: int | UnsetType = UNSET
    temperature: float | UnsetType = UNSET
    top_p: float | UnsetType = UNSET
    frequency_penalty: float | UnsetType = UNSET
    presence_penalty: float | UnsetType = UNSET
    seed: int | UnsetType = UNSET
    top_logprobs: int | UnsetType = UNSET
    logit_bias: Any = UNSET
    user: str | UnsetType = UNSET
    metadata: Any = UNSET
    service_tier: str | UnsetType = UNSET
    prompt_cache_key: str | UnsetType = UNSET
    stop: list[str] | UnsetType = UNSET
    n: int | UnsetType = UNSET
    logprobs: bool | UnsetType = UNSET
    reasoning: SentReasoning | UnsetType = UNSET
    reasoning_effort: str | UnsetType = UNSET
    top_k: int | UnsetType = UNSET
    repetition_penalty: float | UnsetType = UNSET
    cache_control: CacheControl | UnsetType = UNSET
    tools: list[SentTool] | UnsetType = UNSET
    tool_choice: str | SentToolChoice | UnsetType = UNSET
    parallel_tool_calls: bool | UnsetType = UNSET
    response_format: SentResponseFormat | UnsetType = UNSET


SENT_FIELDS = frozenset(SentRequest.__struct_fields__)
