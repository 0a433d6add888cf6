"""Bounds on what a client may ask for, checked at the door.

Each door decodes a request into the canonical one, then checks it here
before the gateway sees it:

- **nesting**: free-form JSON values (a tool's ``parameters``, a
  ``response_format`` schema, tool-call arguments, pass-through fields)
  nest at most ``request_limits.max_json_depth`` levels, so the schema
  conversions downstream (Gemini's schema, the simulator's schema walker)
  never recurse without bound. A body nested beyond what the decoder itself
  handles (msgspec raises ``RecursionError`` near 1,000 levels) gets the
  same answer;
- **ranges**: every numeric parameter lies in a sane range (:data:`RANGES`;
  ``max_tokens`` up to the model's own limit when every deployment states
  one, ``n`` up to ``request_limits.max_n``).

A request outside them is a 400 naming the parameter as the door's client
wrote it (``max_output_tokens`` at the Responses door, ``thinking.budget_tokens``
at the Anthropic door), and never reaches a provider.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, TypeVar

import msgspec

from junction.config import RequestLimits
from junction.types import ChatRequest, EmbeddingRequest, GatewayError, ToolCallPart

INT32_MAX = 2**31 - 1
MAX_EMBEDDING_DIMENSIONS = 65_536
"""No embedding model comes near it (the largest in use have a few thousand)."""


@dataclass(frozen=True, slots=True)
class ParamRange:
    """The inclusive range of one canonical parameter."""

    name: str
    low: float
    high: float


RANGES = (
    ParamRange("temperature", 0.0, 2.0),
    ParamRange("top_p", 0.0, 1.0),
    ParamRange("top_k", 0, INT32_MAX),
    ParamRange("frequency_penalty", -2.0, 2.0),
    ParamRange("presence_penalty", -2.0, 2.0),
    ParamRange("repetition_penalty", 0.0, 2.0),
    ParamRange("seed", -(2**63), 2**63 - 1),
    ParamRange("top_logprobs", 0, 20),
)
"""OpenAI's documented ranges where it has one; 32-bit or 64-bit integers
otherwise. ``max_tokens`` and ``n`` are bounded by :class:`RequestBounds`."""

_WIRE_NAMES: dict[str, tuple[tuple[re.Pattern[str], str], ...]] = {
    "openai_responses": (
        (re.compile(r"^max_tokens$"), "max_output_tokens"),
        (re.compile(r"^response_format"), "text.format"),
        (re.compile(r"^messages$"), "input"),
    ),
    "anthropic_messages": (
        (re.compile(r"^reasoning\.max_tokens$"), "thinking.budget_tokens"),
        (re.compile(r"^stop$"), "stop_sequences"),
        (re.compile(r"^(tools\[\d+\])\.parameters$"), r"\1.input_schema"),
        (re.compile(r"^response_format"), "output_config.format"),
    ),
    "gemini": (
        (re.compile(r"^max_tokens$"), "generationConfig.maxOutputTokens"),
        (re.compile(r"^n$"), "generationConfig.candidateCount"),
        (re.compile(r"^top_logprobs$"), "generationConfig.logprobs"),
        (re.compile(r"^stop$"), "generationConfig.stopSequences"),
        (re.compile(r"^reasoning\.max_tokens$"), "generationConfig.thinkingConfig.thinkingBudget"),
        (re.compile(r"^response_format"), "generationConfig.responseJsonSchema"),
        (re.compile(r"^temperature$"), "generationConfig.temperature"),
        (re.compile(r"^top_p$"), "generationConfig.topP"),
        (re.compile(r"^top_k$"), "generationConfig.topK"),
        (re.compile(r"^seed$"), "generationConfig.seed"),
        (re.compile(r"^presence_penalty$"), "generationConfig.presencePenalty"),
        (re.compile(r"^frequency_penalty$"), "generationConfig.frequencyPenalty"),
        (re.compile(r"^tools\[\d+\]\.parameters$"), "tools.functionDeclarations.parameters"),
    ),
}
"""Canonical parameter -> the field a door's client sent, where they differ."""

Namer = Callable[[str], str]
OutputLimit = Callable[[str], int | None]
"""The most output tokens a model's deployments can give (None: unknown)."""

_T = TypeVar("_T")


def wire_namer(door: str, body: bytes) -> Namer:
    """How ``door`` names a canonical parameter. Consulted only for an error."""
    rules = _WIRE_NAMES.get(door, ())

    def name(param: str) -> str:
        if door == "openai_chat" and param == "max_tokens" and b'"max_completion_tokens"' in body:
            return "max_completion_tokens"
        for pattern, replacement in rules:
            param = pattern.sub(replacement, param)
        return param

    return name


def nests_deeper(value: Any, limit: int) -> bool:
    """Whether a decoded JSON value nests containers more than ``limit``
    levels (``{}`` is one level): measured on its encoding, in C-speed
    byte operations rather than a walk of every container."""
    if not isinstance(value, dict | list):
        return False
    try:
        return text_nests_deeper(msgspec.json.encode(value), limit)
    except RecursionError:
        return True


_NOT_STRUCTURE = bytes(range(256)).translate(None, b'"[]{}')
_STEPS = bytes.maketrans(b"[]{}", b"\x01\xff\x01\xff")


def text_nests_deeper(text: str | bytes, limit: int) -> bool:
    """Whether JSON text nests more than ``limit`` levels, without decoding
    it. Escaped backslashes and quotes are dropped, then every string, then
    the depth is the running sum over what is left (``[{`` +1, ``]}`` -1).
    Exact for JSON; for text that is not JSON (tool-call arguments are
    relayed even then) it measures the brackets outside strings."""
    raw = text.encode() if isinstance(text, str) else text
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    structure = raw.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
    brackets = b"".join(structure.split(b'"')[::2])
    if len(brackets) <= limit:
        return False
    steps = array("b", brackets.translate(_STEPS))
    return max(accumulate(steps)) > limit


def decode_bounded(decode: Callable[[bytes], _T], body: bytes, limits: RequestLimits) -> _T:
    """``decode(body)``, with a body nested past the decoder's own recursion
    limit answered as the client's mistake it is."""
    try:
        return decode(body)
    except RecursionError:
        raise _too_deep("the request body", None, limits.max_json_depth) from None


def _too_deep(what: str, param: str | None, limit: int) -> GatewayError:
    return GatewayError(
        "invalid_request",
        f"{what}: JSON nested more than {limit} levels deep; flatten it "
        "(this gateway's request_limits.max_json_depth).",
        param=param,
    )


class RequestBounds:
    """The checks of one gateway: its limits and its models' output limits."""

    def __init__(self, limits: RequestLimits, output_limit: OutputLimit) -> None:
        self.limits = limits
        self._output_limit = output_limit

    def check_chat(self, req: ChatRequest, name: Namer) -> None:
        self.check_nesting(req, name)
        self._check_counts(req, name)
        for rule in RANGES:
            value = getattr(req, rule.name)
            if value is not None:
                _in_range(rule.name, value, rule.low, rule.high, name)
        if req.reasoning is not None and req.reasoning.max_tokens is not None:
            _in_range("reasoning.max_tokens", req.reasoning.max_tokens, 0, INT32_MAX, name)
        for token, bias in (req.logit_bias or {}).items():
            _in_range(f"logit_bias.{token}", bias, -100, 100, name)

    def check_nesting(self, req: ChatRequest, name: Namer) -> None:
        limit = self.limits.max_json_depth
        for param, value in _free_form(req):
            if nests_deeper(value, limit):
                raise _too_deep(name(param), name(param), limit)
        for param, arguments in _arguments(req):
            if text_nests_deeper(arguments, limit):
                raise _too_deep(f"a tool call's arguments in {name(param)}", name(param), limit)

    def _check_counts(self, req: ChatRequest, name: Namer) -> None:
        _in_range("n", req.n, 1, self.limits.max_n, name, "request_limits.max_n")
        if req.max_tokens is None:
            return
        known = self._model_limit(req)
        if known is None:
            _in_range("max_tokens", req.max_tokens, 1, INT32_MAX, name)
        else:
            why = f"the largest max_output_tokens of {req.model}'s deployments"
            _in_range("max_tokens", req.max_tokens, 1, known, name, why)

    def _model_limit(self, req: ChatRequest) -> int | None:
        """The most output any of the request's models can give, when every
        one of them states it."""
        names = [req.model]
        fallbacks = req.extra.get("models")
        if isinstance(fallbacks, list):
            names += [m for m in fallbacks if isinstance(m, str)]
        limits = [self._output_limit(m) for m in names]
        if not limits or None in limits:
            return None
        return max(x for x in limits if x is not None)

    def check_embeddings(self, req: EmbeddingRequest) -> None:
        most = self.limits.max_embedding_inputs
        if len(req.input) > most:
            raise GatewayError(
                "invalid_request",
                f"input holds {len(req.input)} items; send at most {most} per request "
                "(request_limits.max_embedding_inputs).",
                param="input",
            )
        if req.dimensions is not None:
            _in_range("dimensions", req.dimensions, 1, MAX_EMBEDDING_DIMENSIONS, _as_is)
        for i, item in enumerate(req.input):
            if isinstance(item, list) and item:
                _in_range(f"input[{i}]", min(item), 0, INT32_MAX, _as_is)
                _in_range(f"input[{i}]", max(item), 0, INT32_MAX, _as_is)


def _free_form(req: ChatRequest) -> Iterator[tuple[str, Any]]:
    for i, tool in enumerate(req.tools):
        yield f"tools[{i}].parameters", tool.parameters
    if req.response_format is not None:
        yield "response_format", req.response_format.schema
    yield from req.extra.items()


def _arguments(req: ChatRequest) -> Iterator[tuple[str, str]]:
    for message in req.messages:
        for part in message.content:
            if isinstance(part, ToolCallPart):
                # The canonical index differs from the wire's where a door
                # lifts system prompts or merges items: name the list only.
                yield "messages", part.arguments


def _as_is(param: str) -> str:
    return param


def _in_range(
    canonical: str,
    value: float,
    low: float,
    high: float,
    name: Namer,
    because: str | None = None,
) -> None:
    if low <= value <= high:
        return
    param = name(canonical)
    side = f"at least {_shown(low)}" if value < low else f"at most {_shown(high)}"
    why = f" ({because})" if because and value > high else ""
    raise GatewayError(
        "invalid_request",
        f"{param} must be {side}{why} (got {_shown(value)}).",
        param=param,
    )


def _shown(value: float) -> str:
    if isinstance(value, int) and value.bit_length() > 64:
        return f"a {len(str(value))}-digit number"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)
