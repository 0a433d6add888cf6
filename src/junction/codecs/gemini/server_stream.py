"""Gemini, server side: canonical stream events -> ``streamGenerateContent?alt=sse`` bytes."""

from __future__ import annotations

import msgspec

from junction.codecs.gemini.parts import encode_usage
from junction.codecs.gemini.wire import (
    Candidate,
    Content,
    FunctionCall,
    GenerateContentResponse,
    Part,
    UsageMetadata,
    error_body,
    native_finish,
)
from junction.codecs.sse import sse
from junction.types import (
    Finish,
    GatewayError,
    StreamEvent,
    StreamStart,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    Usage,
    UsageReport,
)

_encode = msgspec.json.Encoder().encode


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


class StreamEncoder:
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
