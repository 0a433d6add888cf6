"""Incremental Server-Sent Events parsing and writing (WHATWG rules).

The parser is linear in its input: an unfinished line is kept as a list of
the pieces received (joined once, when its line end arrives), never by
re-concatenating a growing buffer; and it is bounded: a line longer than
``StreamLimits.max_line_bytes`` or an event whose data passes
``StreamLimits.max_event_bytes`` raises :class:`StreamLimitError`.
"""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

MIB = 1024 * 1024


class StreamLimits(msgspec.Struct, frozen=True):
    """The most a provider's stream may hold in one piece (bytes)."""

    max_line_bytes: int = 16 * MIB
    """One SSE line (``data: {...}``): one JSON event, usually."""
    max_event_bytes: int = 16 * MIB
    """One SSE event (all its ``data`` lines), or one AWS event-stream frame."""


DEFAULT_LIMITS = StreamLimits()


class StreamLimitError(ValueError):
    """A provider's stream passed one of :class:`StreamLimits`."""


class SSEEvent:
    __slots__ = ("data", "event", "id")

    def __init__(self, event: str, data: str, id: str | None = None) -> None:
        self.event = event
        self.data = data
        self.id = id

    def __repr__(self) -> str:
        return f"SSEEvent(event={self.event!r}, data={self.data!r})"


class SSEParser:
    """Feed bytes as they arrive; get complete events back.

    Handles ``\\n``, ``\\r\\n`` and ``\\r`` line ends, multi-line ``data``,
    comments (``:`` lines, e.g. keep-alives) and events split across reads.
    """

    __slots__ = (
        "_cr",
        "_data",
        "_data_size",
        "_event",
        "_id",
        "_max_event",
        "_max_line",
        "_partial",
        "_partial_size",
    )

    def __init__(self, limits: StreamLimits = DEFAULT_LIMITS) -> None:
        self._max_line = limits.max_line_bytes
        self._max_event = limits.max_event_bytes
        self._partial: list[bytes] = []
        """The unfinished last line, in the pieces it came in."""
        self._partial_size = 0
        self._cr = False
        """The last piece ended with CR: an LF first in the next one is its CRLF."""
        self._event = ""
        self._data: list[str] = []
        self._data_size = 0
        self._id: str | None = None

    @property
    def pending(self) -> int:
        """Bytes held for a line or an event not yet complete."""
        return self._partial_size + self._data_size

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        if not (self._cr or self._partial or self._data or self._event) and chunk.endswith(b"\n\n"):
            whole = self._whole(chunk)
            if whole is not None:
                return whole
        if self._cr:
            self._cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if b"\r" in chunk:
            self._cr = chunk.endswith(b"\r")
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        end = chunk.rfind(b"\n")
        if end < 0:
            self._hold(chunk)
            return []
        head = chunk[:end]
        if self._partial:
            head = b"".join(self._partial) + head
            self._partial, self._partial_size = [], 0
        if end + 1 < len(chunk):
            self._hold(chunk[end + 1 :])
        return list(self._lines(head.split(b"\n")))

    def _whole(self, chunk: bytes) -> list[SSEEvent] | None:
        """The common read, taken without the line machinery: whole events of
        one ``data: `` line each (what providers send), nothing held before
        it. Anything else (other fields, comments, CR, a line past a limit):
        None, and the general path reads the chunk from the start."""
        if b"\r" in chunk or chunk[:6] != b"data: ":
            return None
        bound = min(self._max_line, self._max_event)
        if chunk.find(b"\n") == len(chunk) - 2:  # one event: a read per event is the most common
            if len(chunk) - 2 > bound:
                return None
            return [SSEEvent("message", chunk[6:-2].decode("utf-8", "replace"), self._id)]
        blocks = chunk[:-2].split(b"\n\n")
        n = len(blocks)
        # One line per block, and each block a data line: no line ends but
        # the blank-line pairs, and a "data: " after every pair but the last.
        if chunk.count(b"\n") != 2 * n or chunk.count(b"\n\ndata: ") != n - 1:
            return None
        if len(chunk) > bound and max(map(len, blocks)) > bound:
            return None
        ident = self._id
        return [SSEEvent("message", b[6:].decode("utf-8", "replace"), ident) for b in blocks]

    def close(self) -> list[SSEEvent]:
        """Flush at end of input: an event not followed by a blank line is
        still dispatched (servers that end without the final blank line)."""
        rest = b"".join(self._partial)
        self._partial, self._partial_size = [], 0
        out = list(self._lines(rest.split(b"\n"))) if rest else []
        if self._data:
            out.append(self._dispatch())
        return out

    def _hold(self, piece: bytes) -> None:
        if not piece:
            return
        self._partial.append(piece)
        self._partial_size += len(piece)
        if self._partial_size > self._max_line:
            raise StreamLimitError(
                f"an SSE line passed {self._max_line} bytes without ending (limits.max_line_bytes)"
            )

    def _lines(self, lines: list[bytes]) -> Iterator[SSEEvent]:
        for raw in lines:
            if not raw:
                if self._data:
                    yield self._dispatch()
                else:
                    self._event = ""
                continue
            if len(raw) > self._max_line:
                raise StreamLimitError(
                    f"an SSE line of {len(raw)} bytes passed {self._max_line} "
                    "(limits.max_line_bytes)"
                )
            line = raw.decode("utf-8", errors="replace")
            if line[0] == ":":
                continue
            name, sep, value = line.partition(":")
            if sep and value[:1] == " ":
                value = value[1:]
            if name == "data":
                self._add_data(value, len(raw))
            elif name == "event":
                self._event = value
            elif name == "id":
                self._id = value

    def _add_data(self, value: str, size: int) -> None:
        self._data.append(value)
        self._data_size += size
        if self._data_size > self._max_event:
            raise StreamLimitError(
                f"an SSE event passed {self._max_event} bytes of data (limits.max_event_bytes)"
            )

    def _dispatch(self) -> SSEEvent:
        event = SSEEvent(self._event or "message", "\n".join(self._data), self._id)
        self._event = ""
        self._data = []
        self._data_size = 0
        return event


def sse(data: bytes | str, event: str | None = None) -> bytes:
    """One SSE frame. ``data`` must be a single line (JSON is)."""
    body = data.encode() if isinstance(data, str) else data
    if event is None:
        return b"data: " + body + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + body + b"\n\n"
