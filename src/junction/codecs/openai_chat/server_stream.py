"""OpenAI Chat Completions, server side: canonical events -> ``chat.completion.chunk`` SSE."""

from __future__ import annotations

import time

from junction.codecs._shared.media import new_tool_call_id
from junction.codecs.openai_chat import wire
from junction.codecs.openai_chat.server import (
    encode_json,
    encode_usage,
    error_body,
    router_choice,
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

_MARK = "\x00junction-text\x00"
_MARK_JSON = encode_json(_MARK)
"""Stands for a text delta's content in a choice's frame template."""


class StreamEncoder:
    """Canonical stream events as ``chat.completion.chunk`` SSE frames.

    The first chunk of each choice carries ``delta.role = "assistant"``;
    thinking goes out as ``delta.reasoning`` (OpenRouter's form); usage is
    held until :meth:`finish`, which writes the usage chunk (empty
    ``choices``, only when ``include_usage``) and then ``data: [DONE]``.

    Text deltas, most of a stream, are written from a template per choice:
    the frame this encoder writes for that choice's text, cut around the
    text, made once the choice's role has gone out (from then on only the
    text differs from frame to frame).

    :meth:`error` writes OpenRouter's mid-stream error form: a chunk with a
    top-level ``error`` object ``{message, type, code}`` and one choice
    ``{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}``.
    The caller still calls :meth:`finish` afterwards for ``[DONE]``.
    """

    __slots__ = (
        "_created",
        "_id",
        "_include_usage",
        "_model",
        "_provider",
        "_router",
        "_seen",
        "_templates",
        "_usage",
    )

    def __init__(self, include_usage: bool = False) -> None:
        self._include_usage = include_usage
        self._id = "chatcmpl-junction"
        self._model = ""
        self._created = 0
        self._provider: str | None = None
        self._router: wire.RouterChoice | None = None
        """Goes out on the first chunk only."""
        self._usage: Usage | None = None
        self._seen: set[tuple[int, int]] = set()
        """(choice, call index) pairs whose first chunk went out; (choice, -1)
        marks a choice whose role went out."""
        self._templates: dict[int, tuple[bytes, bytes]] = {}
        """Per choice: a text frame's bytes before and after the text."""

    def _chunk(
        self,
        choices: list[wire.ChunkChoice],
        usage: wire.Usage | None = None,
        error: wire.ErrorBody | None = None,
    ) -> bytes:
        if not self._created:
            self._created = int(time.time())
        chunk = wire.Chunk(
            id=self._id,
            created=self._created,
            model=self._model,
            choices=choices,
            object="chat.completion.chunk",
            provider=self._provider,
            usage=usage,
            error=error,
            router=self._router,
        )
        self._router = None
        return sse(encode_json(chunk))

    def _delta(self, index: int, delta: wire.Delta, finish: Finish | None = None) -> bytes:
        if (index, -1) not in self._seen:
            self._seen.add((index, -1))
            delta.role = "assistant"
        choice = wire.ChunkChoice(
            index=index,
            delta=delta,
            finish_reason=finish.reason if finish else None,
            native_finish_reason=finish.native if finish else None,
        )
        return self._chunk([choice])

    def encode(self, event: StreamEvent) -> bytes:
        if isinstance(event, TextDelta):
            return self._text(event.index, event.text) if event.text else b""
        if isinstance(event, ToolCallDelta):
            return self._tool_call(event)
        if isinstance(event, ThinkingDelta):
            return self._delta(event.index, wire.Delta(reasoning=event.text)) if event.text else b""
        if isinstance(event, Finish):
            return self._delta(event.index, wire.Delta(), event)
        if isinstance(event, UsageReport):
            self._usage = event.usage
            return b""
        if isinstance(event, StreamStart):
            self._id = event.id or self._id
            self._model = event.model
            self._created = event.created
            self._provider = event.provider
            self._router = router_choice(event.router)
            self._templates.clear()
        return b""

    def _text(self, index: int, text: str) -> bytes:
        template = self._templates.get(index) or self._template(index)
        if template is None:
            return self._delta(index, wire.Delta(content=text))
        return template[0] + encode_json(text) + template[1]

    def _template(self, index: int) -> tuple[bytes, bytes] | None:
        """Choice ``index``'s text frame cut around its text, kept; None while
        its frames are not all alike yet (the role, or the router's choice,
        still to go out) or when the mark also stands in the id or model."""
        if (index, -1) not in self._seen or self._router is not None:
            return None
        before, _, after = self._delta(index, wire.Delta(content=_MARK)).partition(_MARK_JSON)
        if _MARK_JSON in after:
            return None
        template = self._templates[index] = (before, after)
        return template

    def _tool_call(self, event: ToolCallDelta) -> bytes:
        key = (event.index, event.call_index)
        chunk = wire.ToolCallChunk(index=event.call_index, function=wire.Function())
        if key not in self._seen:
            self._seen.add(key)
            chunk.id = event.id or new_tool_call_id()
            chunk.type = "function"
            chunk.function.name = event.name or ""
            chunk.function.arguments = event.arguments
        elif event.arguments:
            chunk.function.arguments = event.arguments
        else:
            return b""
        return self._delta(event.index, wire.Delta(tool_calls=[chunk]))

    def finish(self) -> bytes:
        out = b""
        if self._include_usage and self._usage is not None:
            out = self._chunk([], usage=encode_usage(self._usage))
        return out + b"data: [DONE]\n\n"

    def error(self, err: GatewayError) -> bytes:
        body = error_body(err)
        body.param = None
        choice = wire.ChunkChoice(index=0, delta=wire.Delta(content=""), finish_reason="error")
        return self._chunk([choice], error=body)
