"""OpenAI Chat Completions, client side: ``chat.completion.chunk`` streams
-> canonical events, and the reading of choices, usage and logprobs that
response bodies share with them."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import msgspec

from junction.codecs._shared.media import new_tool_call_id
from junction.codecs._shared.openai_errors import (
    ErrorFields,
    error_fields,
    invalid_response,
    to_upstream,
)
from junction.codecs.base import Quirks, Target
from junction.codecs.openai_chat import wire
from junction.codecs.openai_chat.wire import normalise_finish
from junction.codecs.sse import SSEEvent, SSEParser
from junction.types import (
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
)

_json = msgspec.json.Encoder().encode


BODY_DECODER = msgspec.json.Decoder(wire.ReceivedBody)


def decode_usage(u: wire.ReceivedUsage) -> Usage:
    pd = u.prompt_tokens_details or wire.ReceivedPromptDetails()
    cd = u.completion_tokens_details or wire.ReceivedCompletionDetails()
    return Usage(
        prompt_tokens=u.prompt_tokens or 0,
        completion_tokens=u.completion_tokens or 0,
        cached_tokens=pd.cached_tokens or u.prompt_cache_hit_tokens or 0,
        cache_write_tokens=pd.cache_write_tokens or 0,
        reasoning_tokens=cd.reasoning_tokens or 0,
        audio_prompt_tokens=pd.audio_tokens or 0,
        cost=u.cost,
    )


def _arguments(fn: wire.ReceivedFunction) -> str:
    args = fn.arguments
    if args is None:
        return ""
    return args if isinstance(args, str) else _json(args).decode()


def reasoning_text(m: wire.ReceivedMessage, quirks: Quirks, custom: str | None) -> str | None:
    if custom is not None:
        return custom
    if quirks.reasoning_field == "reasoning_content":
        return m.reasoning_content or m.reasoning
    return m.reasoning or m.reasoning_content


def _content_parts(content: str | list[wire.ReceivedPart] | None) -> list[Part]:
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


def decode_message(m: wire.ReceivedMessage, reasoning: str | None) -> Message:
    parts: list[Part] = [ThinkingPart(text=reasoning)] if reasoning else []
    parts.extend(_content_parts(m.content))
    for call in m.tool_calls or ():
        fn = call.function or wire.ReceivedFunction()
        parts.append(
            ToolCallPart(
                id=call.id or new_tool_call_id(),
                name=fn.name or "",
                arguments=_arguments(fn) or "{}",
            )
        )
    return Message(role="assistant", content=parts, refusal=m.refusal)


def decode_logprobs(lp: wire.ReceivedLogprobs | None) -> list[TokenLogprob] | None:
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


_NO_CUSTOM: Mapping[int, str] = MappingProxyType({})
"""No vendor-specific reasoning field: one shared empty mapping, not a new
dict per chunk."""


def custom_field(body: bytes, quirks: Quirks, where: str) -> dict[int, str]:
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


def stream_error(err: ErrorFields, target: Target) -> UpstreamError:
    status = err.status_code
    if status is None and isinstance(err.code, int) and 400 <= err.code < 600:
        status = err.code
    return to_upstream(err, status or 500, target)


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
            err = error_fields(parsed) or ErrorFields(message=data)
            raise stream_error(err, self._target)
        try:
            chunk = BODY_DECODER.decode(data)
        except msgspec.DecodeError as exc:
            raise invalid_response(self._target, f"bad stream chunk ({exc})") from None
        self._chunk(chunk, data, out)

    def _chunk(self, chunk: wire.ReceivedBody, data: str, out: list[StreamEvent]) -> None:
        if chunk.error is not None:
            raise stream_error(chunk.error, self._target)
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
                custom_field(data.encode(), self._target.quirks, "delta")
                if self._custom
                else _NO_CUSTOM
            )
            for choice in chunk.choices:
                self._choice(choice, custom.get(choice.index), out)
        usage = chunk.usage or (chunk.x_groq.usage if chunk.x_groq else None)
        if usage is not None:
            out.append(UsageReport(usage=decode_usage(usage)))

    def _choice(
        self, choice: wire.ReceivedChoice, custom: str | None, out: list[StreamEvent]
    ) -> None:
        index = choice.index
        delta = choice.delta
        if (
            delta is not None
            and isinstance(content := delta.content, str)
            and custom is None
            and not (delta.reasoning or delta.reasoning_content or delta.tool_calls)
        ):  # most of a stream: text only
            if content:
                out.append(TextDelta(text=content, index=index))
        elif delta is not None:
            reasoning = reasoning_text(delta, self._target.quirks, custom)
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

    def _tool_call(
        self, index: int, pos: int, call: wire.ReceivedToolCall, out: list[StreamEvent]
    ) -> None:
        call_index = call.index if call.index is not None else pos
        fn = call.function or wire.ReceivedFunction()
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
