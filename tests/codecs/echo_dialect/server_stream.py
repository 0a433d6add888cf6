"""The echo API, server side: canonical stream events -> its SSE frames."""

from __future__ import annotations

import msgspec

from echo_dialect import wire
from echo_dialect.server import encode_error
from junction.codecs.sse import sse
from junction.types import GatewayError, StreamEvent, TextDelta, UsageReport


class StreamEncoder:
    def __init__(self, model: str) -> None:
        self._model = model
        self._tokens: wire.Tokens | None = None

    def encode(self, event: StreamEvent) -> bytes:
        if isinstance(event, TextDelta) and event.text:
            return sse(msgspec.json.encode(wire.Frame(delta=event.text)))
        if isinstance(event, UsageReport):
            self._tokens = wire.Tokens(event.usage.prompt_tokens, event.usage.completion_tokens)
        return b""

    def finish(self) -> bytes:
        return sse(msgspec.json.encode(wire.Frame(done=True, tokens=self._tokens)))

    def error(self, err: GatewayError) -> bytes:
        return sse(encode_error(err))
