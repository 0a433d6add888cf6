"""The AWS event-stream binary framing (``application/vnd.amazon.eventstream``).

A message is::

    total length u32 | headers length u32 | CRC32 of those 8 bytes
    headers: (name length u8, name, value type u8, value...)*
    payload
    CRC32 of everything before it

all big-endian. Reading uses botocore's maintained parser
(:class:`botocore.eventstream.EventStreamBuffer`: frames split across reads,
CRCs checked); writing is :func:`frame`, which emits string headers (type 7)
only, as Bedrock does.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator, Mapping

from botocore.eventstream import (  # type: ignore[import-untyped]
    EventStreamBuffer,
    ParserError,
)

from junction.codecs.sse import DEFAULT_LIMITS, StreamLimitError

CONTENT_TYPE = "application/vnd.amazon.eventstream"
_STRING = 7

__all__ = ["CONTENT_TYPE", "FrameError", "FrameReader", "Message", "event", "exception", "frame"]


class FrameError(ValueError):
    """The bytes are not a valid event stream (bad length, CRC or header)."""


class Message:
    __slots__ = ("headers", "payload")

    def __init__(self, headers: dict[str, object], payload: bytes) -> None:
        self.headers = headers
        self.payload = payload

    def header(self, name: str) -> str:
        value = self.headers.get(name)
        return value if isinstance(value, str) else ""


class FrameReader:
    """Bytes as they arrive -> complete messages.

    ``max_frame`` bounds the bytes held for one unfinished message (botocore
    alone allows 24 MiB payloads, and copies its buffer on every read)."""

    def __init__(self, max_frame: int = DEFAULT_LIMITS.max_event_bytes) -> None:
        self._buffer = EventStreamBuffer()
        self._max_frame = max_frame
        self.pending = 0
        """Bytes received that do not yet make a whole message."""

    def feed(self, data: bytes) -> Iterator[Message]:
        self.pending += len(data)
        if self.pending > self._max_frame:
            raise StreamLimitError(
                f"an event-stream message passed {self._max_frame} bytes (limits.max_event_bytes)"
            )
        self._buffer.add_data(data)
        try:
            for message in self._buffer:
                self.pending -= int(message.prelude.total_length)
                yield Message(dict(message.headers), bytes(message.payload))
        except ParserError as exc:
            raise FrameError(str(exc)) from None


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        struct.pack(">B", len(raw_name))
        + raw_name
        + struct.pack(">BH", _STRING, len(raw_value))
        + raw_value
    )


def frame(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One event-stream message with string headers."""
    head = b"".join(_header(k, v) for k, v in headers.items())
    total = 12 + len(head) + len(payload) + 4
    prelude = struct.pack(">II", total, len(head))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + head + payload
    return body + struct.pack(">I", zlib.crc32(body))


def event(event_type: str, payload: bytes) -> bytes:
    """An ``:message-type event`` frame (JSON payload)."""
    return frame(
        {
            ":event-type": event_type,
            ":content-type": "application/json",
            ":message-type": "event",
        },
        payload,
    )


def exception(exception_type: str, payload: bytes) -> bytes:
    """An ``:message-type exception`` frame, as Bedrock sends in-stream errors."""
    return frame(
        {
            ":exception-type": exception_type,
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        payload,
    )
