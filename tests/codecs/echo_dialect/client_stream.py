"""The echo API, client side: its SSE frames -> canonical stream events."""

from __future__ import annotations

import msgspec

from echo_dialect import wire
from junction.codecs.base import Target
from junction.codecs.sse import SSEParser
from junction.types import Finish, StreamEvent, StreamStart, TextDelta, Usage, UsageReport


class EchoStreamDecoder:
    def __init__(self, target: Target) -> None:
        self._target = target
        self._sse = SSEParser()
        self._started = False

    def feed(self, data: bytes) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        for event in self._sse.feed(data):
            frame = msgspec.json.decode(event.data, type=wire.Frame)
            if not self._started:
                self._started = True
                out.append(StreamStart("echo-stream", self._target.model, provider="echo"))
            if frame.delta:
                out.append(TextDelta(frame.delta))
            if frame.done:
                out.append(Finish("stop"))
                tokens = frame.tokens or wire.Tokens()
                out.append(UsageReport(Usage(tokens.prompt, tokens.completion)))
        return out

    def close(self) -> list[StreamEvent]:
        return []
