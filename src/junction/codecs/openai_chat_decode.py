"""OpenAI Chat Completions, client side, inbound: provider bytes -> canonical.

Response bodies, ``chat.completion.chunk`` streams, error bodies (in every
shape OpenAI-compatible vendors send) and embeddings. Wire structs are
private and lenient: unknown fields are ignored, most fields are optional.
"""

from __future__ import annotations

import base64
import re
import struct
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import msgspec

from junction.codecs.base import Quirks, Target
from junction.codecs.openai_chat_common import normalise_finish
from junction.codecs.openai_chat_ingress import new_tool_call_id
from junction.codecs.sse import SSEEvent, SSEParser
from junction.types import (
    ChatResponse,
    Choice,
    Finish,
    Message,
    Part,
    StreamEvent,
    StreamStart,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ThinkingPart,
    TokenLogprob,
    ToolCallDelta,
    ToolCallPart,
    UpstreamError,
    Usage,
    UsageReport,
    upstream_error,
)
from junction.types.embeddings import EmbeddingResponse

_json = msgspec.json.Encoder().encode

# --- response wire structs ---------------------------------------------------------


class _RTextItem(msgspec.Struct):
    text: str = ""


class _RPart(msgspec.Struct):
    type: str = "text"
    text: str | None = None
    thinking: str | list[_RTextItem] | None = None


class _RFunction(msgspec.Struct):
    name: str | None = None
    arguments: str | dict[str, Any] | None = None


class _RToolCall(msgspec.Struct):
    function: _RFunction | None = None
    id: str | None = None
    index: int | None = None


class _RMessage(msgspec.Struct):
    content: str | list[_RPart] | None = None
    reasoning: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[_RToolCall] | None = None
    refusal: str | None = None


class _RTopLogprob(msgspec.Struct):
    token: str
    logprob: float
    bytes: list[int] | None = None


class _RTokenLogprob(msgspec.Struct):
    token: str
    logprob: float
    bytes: list[int] | None = None
    top_logprobs: list[_RTopLogprob] | None = None


class _RLogprobs(msgspec.Struct):
    content: list[_RTokenLogprob] | None = None


class _RChoice(msgspec.Struct):
    index: int = 0
    message: _RMessage | None = None
    delta: _RMessage | None = None
    finish_reason: str | None = None
    native_finish_reason: str | None = None
    logprobs: _RLogprobs | None = None


class _RPromptDetails(msgspec.Struct):
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None
    audio_tokens: int | None = None


class _RCompletionDetails(msgspec.Struct):
    reasoning_tokens: int | None = None


class _RUsage(msgspec.Struct):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    prompt_tokens_details: _RPromptDetails | None = None
    completion_tokens_details: _RCompletionDetails | None = None
    prompt_cache_hit_tokens: int | None = None
    cost: float | None = None


class _RError(msgspec.Struct):
    message: str | None = None
    type: str | None = None
    param: str | None = None
    code: str | int | None = None
    status_code: int | None = None
    metadata: dict[str, Any] | None = None


class _RGroq(msgspec.Struct):
    usage: _RUsage | None = None


class _RBody(msgspec.Struct):
    id: str = ""
    model: str = ""
    created: int | float = 0
    choices: list[_RChoice] | None = None
    usage: _RUsage | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None
    error: _RError | None = None
    x_groq: _RGroq | None = None


_BODY_DECODER = msgspec.json.Decoder(_RBody)


def _invalid(target: Target, detail: str) -> UpstreamError:
    return UpstreamError(
        "provider_unavailable",
        f"{target.provider} returned an invalid response: {detail}",
        provider=target.provider,
        status=502,
        retryable=True,
    )


def _usage(u: _RUsage) -> Usage:
    pd = u.prompt_tokens_details or _RPromptDetails()
    cd = u.completion_tokens_details or _RCompletionDetails()
    return Usage(
        prompt_tokens=u.prompt_tokens or 0,
        completion_tokens=u.completion_tokens or 0,
        cached_tokens=pd.cached_tokens or u.prompt_cache_hit_tokens or 0,
        cache_write_tokens=pd.cache_write_tokens or 0,
        reasoning_tokens=cd.reasoning_tokens or 0,
        audio_prompt_tokens=pd.audio_tokens or 0,
        cost=u.cost,
    )


def _arguments(fn: _RFunction) -> str:
    args = fn.arguments
    if args is None:
        return ""
    return args if isinstance(args, str) else _json(args).decode()


def _reasoning_text(m: _RMessage, quirks: Quirks, custom: str | None) -> str | None:
    if custom is not None:
        return custom
    if quirks.reasoning_field == "reasoning_content":
        return m.reasoning_content or m.reasoning
    return m.reasoning or m.reasoning_content


def _content_parts(content: str | list[_RPart] | None) -> list[Part]:
    if not content:
        return []
    if isinstance(content, str):
        return [TextPart(text=content)]
    out: list[Part] = []
    for part in content:
        if part.type == "text" and part.text:
            out.append(TextPart(text=part.text))
        elif part.type == "thinking":
            t = part.thinking
            text = "".join(i.text for i in t) if isinstance(t, list) else t or part.text or ""
            out.append(ThinkingPart(text=text))
    return out


def _message(m: _RMessage, reasoning: str | None) -> Message:
    parts: list[Part] = [ThinkingPart(text=reasoning)] if reasoning else []
    parts.extend(_content_parts(m.content))
    for call in m.tool_calls or ():
        fn = call.function or _RFunction()
        parts.append(
            ToolCallPart(
                id=call.id or new_tool_call_id(),
                name=fn.name or "",
                arguments=_arguments(fn) or "{}",
            )
        )
    return Message(role="assistant", content=parts, refusal=m.refusal)


def _logprobs(lp: _RLogprobs | None) -> list[TokenLogprob] | None:
    if lp is None or lp.content is None:
        return None
    return [
        TokenLogprob(
            token=t.token,
            logprob=t.logprob,
            bytes=t.bytes,
            top_logprobs=[TokenLogprob(x.token, x.logprob, x.bytes) for x in t.top_logprobs or ()],
        )
        for t in lp.content
    ]


def _custom_field(body: bytes, quirks: Quirks, where: str) -> dict[int, str]:
    """Reasoning under a vendor-specific field name (rare: a second, generic parse)."""
    field = quirks.reasoning_field
    if field is None or field in ("reasoning", "reasoning_content"):
        return {}
    raw = msgspec.json.decode(body)
    out: dict[int, str] = {}
    for choice in raw.get("choices") or ():
        value = (choice.get(where) or {}).get(field)
        if isinstance(value, str):
            out[choice.get("index", 0)] = value
    return out


# --- errors ---------------------------------------------------------------------------


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        if (ms := lower.get("retry-after-ms")) is not None:
            return max(float(ms) / 1000.0, 0.0)
        value = lower.get("retry-after")
        if value is None:
            return None
        try:
            return max(float(value), 0.0)
        except ValueError:
            return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


_TAGS = re.compile(r"<[^>]+>")


def _plain_text(body: bytes, status: int) -> str:
    text = " ".join(_TAGS.sub(" ", body.decode("utf-8", errors="replace")).split())
    return text[:300] or f"HTTP {status} with an empty body"


def _error_fields(value: Any) -> _RError | None:
    """The vendor's error object in any of the shapes seen in the wild."""
    if isinstance(value, list) and value:
        return _error_fields(value[0])
    if isinstance(value, str):
        return _RError(message=value)
    if not isinstance(value, dict):
        return None
    inner = value.get("error")
    if isinstance(inner, dict):
        value = inner
    elif isinstance(inner, str):
        return _RError(message=inner, type=value.get("type"), code=value.get("code"))
    message = value.get("message") or value.get("detail")
    if message is None:
        return None
    fields = {k: value[k] for k in ("type", "param", "code", "metadata") if k in value}
    fields["message"] = message if isinstance(message, str) else _json(message).decode()
    try:
        return msgspec.convert(fields, _RError)
    except msgspec.ValidationError:
        return _RError(message=fields["message"])


def _to_upstream(
    err: _RError, status: int, target: Target, retry_after: float | None = None
) -> UpstreamError:
    message = err.message or "unknown error"
    raw = (err.metadata or {}).get("raw")
    if raw:
        message = f"{message}: {raw if isinstance(raw, str) else _json(raw).decode()}"
    code = None if err.code is None else str(err.code)
    out = upstream_error(
        target.provider, status, message, param=err.param, code=code, retry_after=retry_after
    )
    if code == "context_length_exceeded":
        out.kind = "context_length_exceeded"
    return out


def _stream_error(err: _RError, target: Target) -> UpstreamError:
    status = err.status_code
    if status is None and isinstance(err.code, int) and 400 <= err.code < 600:
        status = err.code
    return _to_upstream(err, status or 500, target)


# --- stream ---------------------------------------------------------------------------


class OpenAIStreamDecoder:
    """``chat.completion.chunk`` SSE bytes -> canonical events, incrementally."""

    __slots__ = ("_calls", "_custom", "_done", "_finished", "_sse", "_started", "_target")

    def __init__(self, target: Target) -> None:
        self._target = target
        self._custom = target.quirks.reasoning_field not in (None, "reasoning", "reasoning_content")
        self._sse = SSEParser(target.stream_limits)
        self._started = False
        self._done = False
        self._finished: set[int] = set()
        self._calls: set[tuple[int, int]] = set()

    def feed(self, data: bytes) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        for event in self._sse.feed(data):
            self._event(event, out)
        return out

    def close(self) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        for event in self._sse.close():
            self._event(event, out)
        if not self._done and not self._finished:
            raise UpstreamError(
                "provider_unavailable",
                f"{self._target.provider} ended the stream before it was complete "
                "(no finish_reason and no [DONE])",
                provider=self._target.provider,
                status=502,
                retryable=False,
            )
        return out

    def _event(self, event: SSEEvent, out: list[StreamEvent]) -> None:
        if self._done:
            return
        data = event.data
        if data == "[DONE]":
            self._done = True
            return
        if event.event == "error":
            try:
                parsed = msgspec.json.decode(data)
            except msgspec.DecodeError:
                parsed = data
            err = _error_fields(parsed) or _RError(message=data)
            raise _stream_error(err, self._target)
        try:
            chunk = _BODY_DECODER.decode(data)
        except msgspec.DecodeError as exc:
            raise _invalid(self._target, f"bad stream chunk ({exc})") from None
        self._chunk(chunk, data, out)

    def _chunk(self, chunk: _RBody, data: str, out: list[StreamEvent]) -> None:
        if chunk.error is not None:
            raise _stream_error(chunk.error, self._target)
        if not self._started:
            self._started = True
            out.append(
                StreamStart(
                    id=chunk.id,
                    model=chunk.model,
                    created=int(chunk.created),
                    provider=self._target.provider,
                )
            )
        if chunk.choices:
            custom = (
                _custom_field(data.encode(), self._target.quirks, "delta") if self._custom else {}
            )
            for choice in chunk.choices:
                self._choice(choice, custom.get(choice.index), out)
        usage = chunk.usage or (chunk.x_groq.usage if chunk.x_groq else None)
        if usage is not None:
            out.append(UsageReport(usage=_usage(usage)))

    def _choice(self, choice: _RChoice, custom: str | None, out: list[StreamEvent]) -> None:
        index = choice.index
        delta = choice.delta
        if delta is not None:
            reasoning = _reasoning_text(delta, self._target.quirks, custom)
            if reasoning:
                out.append(ThinkingDelta(text=reasoning, index=index))
            for part in _content_parts(delta.content):
                if isinstance(part, TextPart):
                    out.append(TextDelta(text=part.text, index=index))
                elif isinstance(part, ThinkingPart) and part.text:
                    out.append(ThinkingDelta(text=part.text, index=index))
            for pos, call in enumerate(delta.tool_calls or ()):
                self._tool_call(index, pos, call, out)
        if choice.finish_reason is not None and index not in self._finished:
            self._finished.add(index)
            native = choice.native_finish_reason or choice.finish_reason
            out.append(
                Finish(reason=normalise_finish(choice.finish_reason), native=native, index=index)
            )

    def _tool_call(self, index: int, pos: int, call: _RToolCall, out: list[StreamEvent]) -> None:
        call_index = call.index if call.index is not None else pos
        fn = call.function or _RFunction()
        key = (index, call_index)
        if key not in self._calls:
            self._calls.add(key)
            out.append(
                ToolCallDelta(
                    call_index=call_index,
                    id=call.id or new_tool_call_id(),
                    name=fn.name or "",
                    arguments=_arguments(fn),
                    index=index,
                )
            )
        elif args := _arguments(fn):
            out.append(ToolCallDelta(call_index=call_index, arguments=args, index=index))


# --- embeddings wire -------------------------------------------------------------------


class _REmbedding(msgspec.Struct):
    embedding: list[float] | str
    index: int = 0


class _REmbeddingList(msgspec.Struct):
    data: list[_REmbedding]
    model: str = ""
    usage: _RUsage | None = None


_EMBEDDINGS_DECODER = msgspec.json.Decoder(_REmbeddingList)


def _floats(vector: list[float] | str) -> list[float]:
    if isinstance(vector, list):
        return vector
    raw = base64.b64decode(vector)
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


# --- whole bodies ---


def decode_response(body: bytes, target: Target) -> ChatResponse:
    try:
        wire = _BODY_DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise _invalid(target, f"{exc}: {_plain_text(body[:300], 200)}") from None
    if wire.error is not None:
        raise _stream_error(wire.error, target)
    if not wire.choices:
        raise _invalid(target, "the body has no `choices`")
    custom = _custom_field(body, target.quirks, "message")
    choices = []
    for c in wire.choices:
        m = c.message or _RMessage()
        native = c.native_finish_reason or c.finish_reason
        choices.append(
            Choice(
                index=c.index,
                message=_message(m, _reasoning_text(m, target.quirks, custom.get(c.index))),
                finish_reason=normalise_finish(c.finish_reason) if c.finish_reason else None,
                native_finish_reason=native,
                logprobs=_logprobs(c.logprobs),
            )
        )
    usage = wire.usage or (wire.x_groq.usage if wire.x_groq else None)
    return ChatResponse(
        id=wire.id,
        model=wire.model,
        choices=choices,
        usage=_usage(usage) if usage is not None else None,
        created=int(wire.created),
        provider=target.provider,
        system_fingerprint=wire.system_fingerprint,
        service_tier=wire.service_tier,
    )


def decode_error(
    status: int, headers: Mapping[str, str], body: bytes, target: Target
) -> UpstreamError:
    try:
        parsed: Any = msgspec.json.decode(body) if body.strip() else None
    except msgspec.DecodeError:
        parsed = None
    err = _error_fields(parsed) or _RError(message=_plain_text(body, status))
    return _to_upstream(err, status, target, retry_after_seconds(headers))


def decode_embeddings(body: bytes, target: Target) -> EmbeddingResponse:
    try:
        wire = _EMBEDDINGS_DECODER.decode(body)
        data = [_floats(e.embedding) for e in sorted(wire.data, key=lambda e: e.index)]
    except (msgspec.DecodeError, ValueError, struct.error) as exc:
        raise _invalid(target, f"bad embeddings body ({exc})") from None
    tokens = (wire.usage.prompt_tokens or 0) if wire.usage else 0
    return EmbeddingResponse(
        model=wire.model or target.model,
        data=data,
        usage=Usage(prompt_tokens=tokens),
        provider=target.provider,
    )
