"""Canonical stream events.

A stream is an async iterator of these, in order. Codecs turn a provider's
SSE / event-stream frames into them and an ingress codec turns them back into
its own wire format. ``index`` is the choice index (``n`` > 1); content
events within one choice arrive in the order the model produced them, and a
change of kind (text -> tool call) closes the previous block.
"""

from __future__ import annotations

import msgspec

from junction.types.chat import FinishReason, RouterChoice, Usage


class StreamStart(msgspec.Struct, tag="start", omit_defaults=True):
    id: str
    model: str
    created: int = 0
    provider: str | None = None
    router: RouterChoice | None = None


class TextDelta(msgspec.Struct, tag="text", omit_defaults=True):
    text: str
    index: int = 0


class ThinkingDelta(msgspec.Struct, tag="thinking", omit_defaults=True):
    """Reasoning text; a delta may carry only a ``signature`` (it closes the
    thinking block) or only ``redacted`` data."""

    text: str = ""
    signature: str | None = None
    redacted: str | None = None
    index: int = 0


class ToolCallDelta(msgspec.Struct, tag="tool_call", omit_defaults=True):
    """Part of tool call number ``call_index`` of a choice: the first delta of
    a call carries ``id`` and ``name``, later ones append to ``arguments``."""

    call_index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""
    signature: str | None = None
    index: int = 0


class Finish(msgspec.Struct, tag="finish", omit_defaults=True):
    reason: FinishReason
    native: str | None = None
    stop_sequence: str | None = None
    index: int = 0


class UsageReport(msgspec.Struct, tag="usage", omit_defaults=True):
    """Cumulative usage so far; the last one is the total."""

    usage: Usage


StreamEvent = StreamStart | TextDelta | ThinkingDelta | ToolCallDelta | Finish | UsageReport


class FinalBatch(list[StreamEvent]):
    """A stream's last batch (possibly empty): the provider's stream is over.

    What the gateway does once a stream is over (the record, the request
    log, the counters, the connection back to its pool) runs when the
    consumer asks for the batch after this one. A door writes the end of its
    answer first: the client does not wait for the bookkeeping."""

    __slots__ = ()
