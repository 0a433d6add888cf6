"""Gemini ``streamGenerateContent?alt=sse`` streams, both directions.

Each SSE ``data:`` is a complete ``GenerateContentResponse`` fragment; there
is no ``[DONE]``. A candidate's stream ends with the chunk that carries its
``finishReason`` (and, as Gemini sends it, the final ``usageMetadata``).
Function calls arrive whole: one :class:`ToolCallDelta` holds id, name and
all the arguments.
"""

from __future__ import annotations

import msgspec

from junction.codecs.gemini_parts import call_id, encode_usage
from junction.codecs.gemini_parts import decode_usage as _usage
from junction.codecs.gemini_wire import (
    Candidate,
    Content,
    ErrorBody,
    FunctionCall,
    GenerateContentResponse,
    Part,
    UsageMetadata,
    error_body,
    finish_reason,
    native_finish,
)
from junction.codecs.sse import DEFAULT_LIMITS, SSEParser, StreamLimits, sse
from junction.types import (
    Finish,
    GatewayError,
    StreamEvent,
    StreamStart,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    UpstreamError,
    Usage,
    UsageReport,
    upstream_error,
)

_decode_chunk = msgspec.json.Decoder(GenerateContentResponse).decode
_encode = msgspec.json.Encoder().encode


def stream_error(provider: str, err: ErrorBody) -> UpstreamError:
    detail = f"{err.status}: {err.message}" if err.status else err.message
    return upstream_error(provider, err.code or 500, detail, code=err.status or None)


class GeminiStreamDecoder:
    """SSE bytes from Gemini -> canonical stream events."""

    def __init__(self, provider: str, model: str, limits: StreamLimits = DEFAULT_LIMITS) -> None:
        self._provider = provider
        self._model = model
        self._parser = SSEParser(limits)
        self._started = False
        self._seen: set[int] = set()
        self._finished: set[int] = set()
        self._calls: dict[int, int] = {}
        self._usage: Usage | None = None
        self._reported = True

    def feed(self, data: bytes) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        for event in self._parser.feed(data):
            self._chunk(event.data, out)
        return out

    def close(self) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        for event in self._parser.close():
            self._chunk(event.data, out)
        if not self._finished or not self._seen <= self._finished:
            raise UpstreamError(
                "provider_unavailable",
                f"{self._provider} stream ended before its final chunk (no finishReason)",
                provider=self._provider,
                retryable=False,
            )
        if not self._reported and self._usage is not None:
            out.append(UsageReport(usage=self._usage))
        return out

    def _chunk(self, data: str, out: list[StreamEvent]) -> None:
        if not data.strip():
            return
        try:
            chunk = _decode_chunk(data)
        except msgspec.DecodeError as exc:
            raise UpstreamError(
                "provider_unavailable",
                f"{self._provider} sent an unreadable stream chunk: {exc}",
                provider=self._provider,
                retryable=False,
            ) from exc
        if chunk.error is not None:
            raise stream_error(self._provider, chunk.error)
        if not self._started:
            self._started = True
            out.append(
                StreamStart(
                    id=chunk.response_id or "",
                    model=chunk.model_version or self._model,
                    provider=self._provider,
                )
            )
        finished = False
        for cand in chunk.candidates:
            finished |= self._candidate(cand, chunk.response_id, out)
        block = chunk.prompt_feedback.block_reason if chunk.prompt_feedback else None
        if block and not chunk.candidates:
            self._seen.add(0)
            self._finished.add(0)
            out.append(Finish(reason="content_filter", native=block))
            finished = True
        if chunk.usage_metadata is not None:
            self._usage = _usage(chunk.usage_metadata)
            self._reported = False
        if (finished or self._finished) and not self._reported and self._usage is not None:
            out.append(UsageReport(usage=self._usage))
            self._reported = True

    def _candidate(self, cand: Candidate, rid: str | None, out: list[StreamEvent]) -> bool:
        index = cand.index
        self._seen.add(index)
        for part in cand.content.parts if cand.content else []:
            self._part(part, index, rid, out)
        if not cand.finish_reason:
            return False
        self._finished.add(index)
        reason = finish_reason(cand.finish_reason, self._calls.get(index, 0) > 0)
        out.append(Finish(reason=reason, native=cand.finish_reason, index=index))
        return True

    def _part(self, part: Part, index: int, rid: str | None, out: list[StreamEvent]) -> None:
        sig = part.thought_signature
        fc = part.function_call
        if fc is not None:
            n = self._calls.get(index, 0)
            self._calls[index] = n + 1
            out.append(
                ToolCallDelta(
                    call_index=n,
                    id=fc.id or call_id(rid, index, n),
                    name=fc.name,
                    arguments=_encode(fc.args or {}).decode(),
                    signature=sig,
                    index=index,
                )
            )
        elif part.thought:
            out.append(ThinkingDelta(text=part.text or "", signature=sig, index=index))
        else:
            if sig is not None:
                out.append(ThinkingDelta(signature=sig, index=index))
            if part.text:
                out.append(TextDelta(text=part.text, index=index))


class _PendingCall:
    __slots__ = ("args", "id", "name", "signature")

    def __init__(self, delta: ToolCallDelta) -> None:
        self.id = delta.id
        self.name = delta.name or ""
        self.args = delta.arguments
        self.signature = delta.signature

    def part(self) -> Part:
        try:
            args = msgspec.json.decode(self.args or "{}")
        except msgspec.DecodeError:
            args = {}
        call = FunctionCall(name=self.name, args=args if isinstance(args, dict) else {}, id=self.id)
        return Part(function_call=call, thought_signature=self.signature)


class GeminiStreamEncoder:
    """Canonical stream events -> Gemini SSE chunks (for the simulator / ingress).

    Function calls are buffered until complete (the next non-tool event);
    a Finish is held until the usage that follows it arrives (or
    :meth:`finish`), so the last chunk carries both, as Gemini's does.
    """

    def __init__(self) -> None:
        self._id: str | None = None
        self._model: str | None = None
        self._calls: dict[int, dict[int, _PendingCall]] = {}
        self._held: list[Finish] = []
        self._sig: dict[int, str] = {}
        self._usage: Usage | None = None
        self._usage_sent = True

    def encode(self, event: StreamEvent) -> bytes:
        if isinstance(event, StreamStart):
            self._id, self._model = event.id or None, event.model or None
            return b""
        if isinstance(event, ToolCallDelta):
            self._tool_delta(event)
            return b""
        if isinstance(event, UsageReport):
            self._usage, self._usage_sent = event.usage, False
            return self._flush_calls() + self._flush_held() if self._held else b""
        out = self._flush_calls()
        if isinstance(event, Finish):
            self._held.append(event)
            return out
        out += self._flush_held()
        if isinstance(event, TextDelta):
            return out + self._content(event.index, Part(text=event.text))
        return out + self._thinking(event)

    def finish(self) -> bytes:
        out = self._flush_calls() + self._flush_held()
        if not self._usage_sent and self._usage is not None:
            out += self._chunk([], self._usage)
        return out

    def error(self, err: GatewayError) -> bytes:
        return sse(error_body(err))

    def _thinking(self, event: ThinkingDelta) -> bytes:
        if event.redacted is not None:
            return b""
        if not event.text:
            if event.signature is not None:
                self._sig[event.index] = event.signature
            return b""
        part = Part(text=event.text, thought=True, thought_signature=event.signature)
        return self._content(event.index, part)

    def _tool_delta(self, delta: ToolCallDelta) -> None:
        calls = self._calls.setdefault(delta.index, {})
        pending = calls.get(delta.call_index)
        if pending is None:
            calls[delta.call_index] = _PendingCall(delta)
            return
        pending.args += delta.arguments
        pending.signature = pending.signature or delta.signature

    def _content(self, index: int, part: Part) -> bytes:
        sig = self._sig.pop(index, None)
        if sig is not None and part.thought_signature is None:
            part.thought_signature = sig
        cand = Candidate(content=Content(role="model", parts=[part]), index=index)
        return self._chunk([cand], None)

    def _flush_calls(self) -> bytes:
        out = b""
        for index, calls in sorted(self._calls.items()):
            parts = [calls[k].part() for k in sorted(calls)]
            sig = self._sig.pop(index, None)
            if sig is not None and parts[0].thought_signature is None:
                parts[0].thought_signature = sig
            cand = Candidate(content=Content(role="model", parts=parts), index=index)
            out += self._chunk([cand], None)
        self._calls.clear()
        return out

    def _flush_held(self) -> bytes:
        if not self._held:
            return b""
        cands = [
            Candidate(
                content=Content(role="model", parts=[]),
                finish_reason=native_finish(f.reason, f.native),
                index=f.index,
            )
            for f in self._held
        ]
        self._held = []
        usage, self._usage_sent = self._usage, True
        return self._chunk(cands, usage)

    def _chunk(self, cands: list[Candidate], usage: Usage | None) -> bytes:
        meta: UsageMetadata | None = encode_usage(usage) if usage is not None else None
        chunk = GenerateContentResponse(
            candidates=cands,
            usage_metadata=meta,
            model_version=self._model,
            response_id=self._id,
        )
        return sse(_encode(chunk))


__all__ = ["GeminiStreamDecoder", "GeminiStreamEncoder", "stream_error"]
