"""The cache key of a request: what decides the answer, normalised."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from junction.types import ChatRequest, Message, ResponseFormat, Tool, ToolChoice
from junction.types.chat import Reasoning

IGNORED_EXTRA = frozenset(
    {
        "user",
        "metadata",
        "store",
        "stream_options",
        "safety_identifier",
        "prompt_cache_key",
        "service_tier",
        "provider",
        "drop_params",
        "transforms",
        "usage",
        "include",
        "request_id",
    }
)
"""Body fields that do not change the answer (who asks, how it is billed,
logged or routed, whether usage is reported), left out of the key."""


class _Keyed(msgspec.Struct, omit_defaults=True):
    """The answer-changing part of a request."""

    namespace: str
    model: str
    messages: list[Message]
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
    extra: dict[str, Any] = msgspec.field(default_factory=dict)


_ENCODE = msgspec.json.Encoder(order="deterministic").encode


def cache_key(request: ChatRequest, namespace: str = "") -> str:
    """A sha256 hex digest of the request's answer-changing fields in
    ``namespace``. A stream and a plain request of the same body share a key
    (the cached answer replays as either); object keys are sorted, so the
    order a client wrote them in does not matter."""
    keyed = _Keyed(
        namespace=namespace,
        model=request.model,
        messages=request.messages,
        max_tokens=request.max_tokens,
        temperature=request.temperature,
        top_p=request.top_p,
        top_k=request.top_k,
        frequency_penalty=request.frequency_penalty,
        presence_penalty=request.presence_penalty,
        repetition_penalty=request.repetition_penalty,
        seed=request.seed,
        stop=request.stop,
        n=request.n,
        logprobs=request.logprobs,
        top_logprobs=request.top_logprobs,
        logit_bias=request.logit_bias,
        tools=request.tools,
        tool_choice=request.tool_choice,
        parallel_tool_calls=request.parallel_tool_calls,
        response_format=request.response_format,
        reasoning=request.reasoning,
        extra={k: v for k, v in request.extra.items() if k not in IGNORED_EXTRA},
    )
    return hashlib.sha256(_ENCODE(keyed)).hexdigest()
