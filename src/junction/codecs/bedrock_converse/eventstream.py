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

    Bytes are held as the pieces received until a whole message is in (its
    length is in its first 4 bytes), then handed to botocore's parser in one
    piece: linear in the input, where feeding botocore every read copies its
    buffer each time. A message declaring more than ``max_frame`` bytes is
    refused as soon as its length is known (botocore alone allows 24 MiB)."""

    def __init__(self, max_frame: int = DEFAULT_LIMITS.max_event_bytes) -> None:
        self._parser = EventStreamBuffer()
        self._max_frame = max_frame
        self._pieces: list[bytes] = []
        self._need = 0
        """Length of the message being received (0: not known yet)."""
        self.pending = 0
        """Bytes received that do not yet make a whole message."""

    def feed(self, data: bytes) -> Iterator[Message]:
        if data:
            self._pieces.append(data)
            self.pending += len(data)
        if not self._need and self.pending >= 4:
            self._need = self._length(self._joined(), 0)
        if not self._need or self.pending < self._need:
            return
        buf = self._joined()
        start = 0
        while self._need and start + self._need <= len(buf):
            yield self._parse(buf[start : start + self._need])
            start += self._need
            self._need = self._length(buf, start) if len(buf) - start >= 4 else 0
        rest = buf[start:]
        self._pieces = [rest] if rest else []
        self.pending = len(rest)

    def _joined(self) -> bytes:
        if len(self._pieces) > 1:
            self._pieces = [b"".join(self._pieces)]
        return self._pieces[0]

    def _length(self, buf: bytes, start: int) -> int:
        total = int.from_bytes(buf[start : start + 4], "big")
        if total > self._max_frame:
            raise StreamLimitError(
                f"an event-stream message of {total} bytes passed {self._max_frame} "
                "(limits.max_event_bytes)"
            )
        if total < 16:
            raise FrameError(f"an event-stream message cannot be {total} bytes long")
        return total

    def _parse(self, frame: bytes) -> Message:
        self._parser.add_data(frame)
        try:
            (message,) = list(self._parser)
        except (ParserError, ValueError) as exc:
            raise FrameError(str(exc) or type(exc).__name__) from None
        return Message(dict(message.headers), bytes(message.payload))


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
