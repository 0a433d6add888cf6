"""The canonical chat request and response.

One representation that every ingress decodes into and every egress encodes
from. It must be able to carry everything that OpenAI Chat Completions,
Anthropic Messages and Gemini generateContent can express, so that a request
travelling OpenAI -> canonical -> Anthropic loses nothing the target can take.

Conventions:
- ``messages`` keeps system / developer messages in place; a codec whose wire
  format has a separate system field (Anthropic, Gemini) lifts them out.
- Tool results live in messages of role ``tool`` holding one or more
  :class:`ToolResultPart`; a codec whose wire format puts them in a user turn
  (Anthropic, Gemini) moves them there and merges adjacent user turns.
- Assistant tool calls are :class:`ToolCallPart` items in ``content``, in the
  order the model produced them relative to text and thinking.
- Tool-call ``arguments`` are the JSON text as produced (lossless for
  streaming and for providers that send invalid JSON).
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

Role = Literal["system", "developer", "user", "assistant", "tool"]

FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "error"]
"""Normalised finish reasons (OpenRouter's vocabulary); the native one is kept too."""


class CacheControl(msgspec.Struct, frozen=True, omit_defaults=True):
    """A prompt-cache breakpoint hint (Anthropic ``cache_control``)."""

    type: str = "ephemeral"
    ttl: str | None = None


class TextPart(msgspec.Struct, tag="text", omit_defaults=True):
    text: str
    cache_control: CacheControl | None = None


class ImagePart(msgspec.Struct, tag="image", omit_defaults=True):
    """An image, either by URL or inline base64 ``data`` with its ``media_type``."""

    url: str | None = None
    data: str | None = None
    media_type: str | None = None
    detail: str | None = None
    cache_control: CacheControl | None = None


class FilePart(msgspec.Struct, tag="file", omit_defaults=True):
    """A document (PDF, text...) by URL, inline base64 data or provider file id."""

    url: str | None = None
    data: str | None = None
    media_type: str | None = None
    file_id: str | None = None
    filename: str | None = None
    cache_control: CacheControl | None = None


class AudioPart(msgspec.Struct, tag="audio", omit_defaults=True):
    data: str
    format: str


class ThinkingPart(msgspec.Struct, tag="thinking", omit_defaults=True):
    """Model reasoning. ``signature`` must be sent back unchanged to the
    provider that made it; ``redacted`` holds Anthropic's opaque
    ``redacted_thinking`` data (then ``text`` is empty)."""

    text: str = ""
    signature: str | None = None
    redacted: str | None = None
    provider: str | None = None


class ToolCallPart(msgspec.Struct, tag="tool_call", omit_defaults=True):
    id: str
    name: str
    arguments: str = "{}"
    signature: str | None = None
    """Gemini ``thoughtSignature`` attached to a function call."""


class ToolResultPart(msgspec.Struct, tag="tool_result", omit_defaults=True):
    tool_call_id: str
    content: list[TextPart | ImagePart | FilePart] = msgspec.field(default_factory=list)
    is_error: bool = False
    name: str | None = None
    """The function's name: Gemini's functionResponse needs it."""
    cache_control: CacheControl | None = None


Part = TextPart | ImagePart | FilePart | AudioPart | ThinkingPart | ToolCallPart | ToolResultPart


class Message(msgspec.Struct, omit_defaults=True):
    role: Role
    content: list[Part] = msgspec.field(default_factory=list)
    name: str | None = None
    refusal: str | None = None

    def text(self) -> str:
        """All text parts joined: the ``content`` string of an OpenAI message."""
        return "".join(p.text for p in self.content if isinstance(p, TextPart))

    def tool_calls(self) -> list[ToolCallPart]:
        return [p for p in self.content if isinstance(p, ToolCallPart)]

    def thinking(self) -> list[ThinkingPart]:
        return [p for p in self.content if isinstance(p, ThinkingPart)]


class Tool(msgspec.Struct, omit_defaults=True):
    """A function the model may call. ``parameters`` is a JSON Schema object."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] = msgspec.field(
        default_factory=lambda: {"type": "object", "properties": {}}
    )
    strict: bool | None = None
    cache_control: CacheControl | None = None


class ToolChoice(msgspec.Struct, frozen=True, omit_defaults=True):
    """``auto`` | ``none`` | ``required`` (any tool) | ``tool`` (the named one)."""

    mode: Literal["auto", "none", "required", "tool"] = "auto"
    name: str | None = None


class ResponseFormat(msgspec.Struct, omit_defaults=True):
    type: Literal["text", "json_object", "json_schema"] = "text"
    name: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool | None = None
    description: str | None = None


ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]


class Reasoning(msgspec.Struct, omit_defaults=True):
    """Reasoning / thinking request. ``effort`` (OpenAI, OpenRouter) or an
    explicit ``max_tokens`` budget (Anthropic ``budget_tokens``, Gemini
    ``thinkingBudget``); ``exclude`` hides it from the response."""

    enabled: bool = True
    effort: ReasoningEffort | None = None
    max_tokens: int | None = None
    exclude: bool = False
    summary: str | None = None


class ChatRequest(msgspec.Struct, omit_defaults=True):
    model: str
    messages: list[Message]
    stream: bool = False
    include_usage: bool = False
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    repetition_penalty: float | None = None
    seed: int | None = None
    stop: list[str] = msgspec.field(default_factory=list)
    n: int = 1
    logprobs: bool = False
    top_logprobs: int | None = None
    logit_bias: dict[str, float] | None = None
    tools: list[Tool] = msgspec.field(default_factory=list)
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    reasoning: Reasoning | None = None
    user: str | None = None
    metadata: dict[str, str] | None = None
    service_tier: str | None = None
    prompt_cache_key: str | None = None
    cache_control: CacheControl | None = None
    """Request-level (automatic) prompt caching hint."""
    extra: dict[str, Any] = msgspec.field(default_factory=dict)
    """Fields the ingress did not map: vendor pass-through (e.g. OpenRouter's
    ``provider`` and ``models``), routed by later layers, never sent upstream
    unless a vendor record asks for them."""

    def given(self) -> set[str]:
        """Names of the optional parameters this request actually sets."""
        out: set[str] = set()
        for name in OPTIONAL_PARAMS:
            value = getattr(self, name)
            if value is None or value == [] or value == {}:
                continue
            if value is False and name != "parallel_tool_calls":
                continue
            if name == "n" and value == 1:
                continue
            out.add(name)
        return out


OPTIONAL_PARAMS: tuple[str, ...] = (
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "frequency_penalty",
    "presence_penalty",
    "repetition_penalty",
    "seed",
    "stop",
    "n",
    "logprobs",
    "top_logprobs",
    "logit_bias",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "reasoning",
    "user",
    "metadata",
    "service_tier",
)
"""The optional parameters of a canonical request, in the order
:meth:`ChatRequest.given` reports them."""


class Usage(msgspec.Struct, omit_defaults=True):
    """Token counts. ``prompt_tokens`` is the whole input, cached and
    cache-written tokens included (OpenAI's convention; Anthropic's separate
    counts are summed into it); ``completion_tokens`` includes reasoning."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    audio_prompt_tokens: int = 0
    cost: float | None = None

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class TokenLogprob(msgspec.Struct, omit_defaults=True):
    token: str
    logprob: float
    bytes: list[int] | None = None
    top_logprobs: list[TokenLogprob] = msgspec.field(default_factory=list)


class Choice(msgspec.Struct, omit_defaults=True):
    index: int
    message: Message
    finish_reason: FinishReason | None = None
    native_finish_reason: str | None = None
    stop_sequence: str | None = None
    logprobs: list[TokenLogprob] | None = None


class RouterChoice(msgspec.Struct, omit_defaults=True):
    """A semantic router's decision for one request (gateway/auto.py)."""

    name: str
    """The router model the client asked for."""
    model: str
    """The configured model the router chose."""
    score: float
    shadow: bool = False
    """True: the choice was only recorded; the router's default model served."""
    decision_ms: float = 0.0


class ChatResponse(msgspec.Struct, omit_defaults=True):
    id: str
    model: str
    choices: list[Choice]
    usage: Usage | None = None
    created: int = 0
    provider: str | None = None
    """Which endpoint (provider slug) served it."""
    system_fingerprint: str | None = None
    service_tier: str | None = None
    warnings: list[str] = msgspec.field(default_factory=list)
    router: RouterChoice | None = None
