"""Incremental Server-Sent Events parsing and writing (WHATWG rules)."""

from __future__ import annotations

from collections.abc import Iterator


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

    __slots__ = ("_buf", "_data", "_event", "_id")

    def __init__(self) -> None:
        self._buf = b""
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        buf = self._buf + chunk if self._buf else chunk
        if b"\r" in buf:
            # A lone CR at the very end may be the first half of CRLF.
            tail = b""
            if buf.endswith(b"\r"):
                buf, tail = buf[:-1], b"\r"
            buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n") + tail
        end = buf.rfind(b"\n")
        if end < 0:
            self._buf = buf
            return []
        self._buf = buf[end + 1 :]
        return list(self._lines(buf[:end].split(b"\n")))

    def close(self) -> list[SSEEvent]:
        """Flush at end of input: an event not followed by a blank line is
        still dispatched (servers that end without the final blank line)."""
        rest, self._buf = self._buf, b""
        out = list(self._lines(rest.split(b"\n"))) if rest else []
        if self._data:
            out.append(self._dispatch())
        return out

    def _lines(self, lines: list[bytes]) -> Iterator[SSEEvent]:
        for raw in lines:
            if not raw:
                if self._data:
                    yield self._dispatch()
                else:
                    self._event = ""
                continue
            line = raw.decode("utf-8", errors="replace")
            if line[0] == ":":
                continue
            name, sep, value = line.partition(":")
            if sep and value[:1] == " ":
                value = value[1:]
            if name == "data":
                self._data.append(value)
            elif name == "event":
                self._event = value
            elif name == "id":
                self._id = value

    def _dispatch(self) -> SSEEvent:
        event = SSEEvent(self._event or "message", "\n".join(self._data), self._id)
        self._event = ""
        self._data = []
        return event


def sse(data: bytes | str, event: str | None = None) -> bytes:
    """One SSE frame. ``data`` must be a single line (JSON is)."""
    body = data.encode() if isinstance(data, str) else data
    if event is None:
        return b"data: " + body + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + body + b"\n\n"
