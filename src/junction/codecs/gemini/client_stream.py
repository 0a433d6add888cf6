"""Gemini, client side: ``streamGenerateContent?alt=sse`` chunks -> canonical events."""

from __future__ import annotations

import msgspec

from junction.codecs.gemini.parts import call_id
from junction.codecs.gemini.parts import decode_usage as _usage
from junction.codecs.gemini.wire import (
    Candidate,
    ErrorBody,
    GenerateContentResponse,
    Part,
    finish_reason,
)
from junction.codecs.sse import DEFAULT_LIMITS, SSEParser, StreamLimits
from junction.types import (
    Finish,
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
