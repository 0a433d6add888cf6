"""An OpenAI-compatible upstream that answers instantly: the floor of the benchmark.

A bare asyncio protocol on uvloop with httptools' parser. Every POST gets
the same chat completion, prebuilt at start-up: a ~1 KB JSON answer with
usage, or, when the body asks for ``"stream": true``, an SSE stream of
``--chunks`` content chunks, a finish chunk, a usage chunk and ``[DONE]``,
each event written as its own HTTP chunk. It costs so little per request
that a gateway in front of it, not the upstream, is what saturates.

    python bench/overhead/instant_upstream.py --port 8000 [--chunks 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import cast

import httptools
import uvloop

MODEL = "gpt-4o-mini"
TEXT = "the river carries every word a router writes to the quiet valley below"
WORDS = TEXT.split(" ")


def plain_answer(tokens: int) -> bytes:
    text = " ".join(WORDS[i % len(WORDS)] for i in range(tokens))
    body = {
        "id": "chatcmpl-instant",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 40, "completion_tokens": tokens, "total_tokens": 40 + tokens},
    }
    data = json.dumps(body, separators=(",", ":")).encode()
    head = (
        f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


def stream_events(chunks: int) -> list[bytes]:
    def event(delta: dict[str, str], finish: str | None) -> dict[str, object]:
        return {
            "id": "chatcmpl-instant",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    events: list[dict[str, object]] = [event({"role": "assistant", "content": ""}, None)]
    for i in range(chunks):
        words = " ".join(WORDS[(4 * i + k) % len(WORDS)] for k in range(4))
        events.append(event({"content": " " + words}, None))
    events.append(event({}, "stop"))
    usage = event({}, None)
    usage["choices"] = []
    usage["usage"] = {"prompt_tokens": 40, "completion_tokens": 4 * chunks, "total_tokens": 0}
    events.append(usage)
    lines = [b"data: " + json.dumps(e, separators=(",", ":")).encode() + b"\n\n" for e in events]
    lines.append(b"data: [DONE]\n\n")
    return [b"%x\r\n%s\r\n" % (len(line), line) for line in lines] + [b"0\r\n\r\n"]


STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
)


class Upstream(asyncio.Protocol):
    def __init__(self, plain: bytes, stream: list[bytes]) -> None:
        self.plain, self.stream = plain, stream
        self.parser = httptools.HttpRequestParser(self)
        self.body = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.close()

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        assert self.transport is not None
        if b'"stream":true' in self.body.replace(b" ", b""):
            self.transport.write(STREAM_HEAD)
            for chunk in self.stream:  # one write per event, as a provider sends them
                self.transport.write(chunk)
        else:
            self.transport.write(self.plain)
        self.body.clear()


async def serve(port: int, chunks: int, tokens: int) -> None:
    plain, stream = plain_answer(tokens), stream_events(chunks)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Upstream(plain, stream), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--chunks", type=int, default=20, help="content chunks per stream")
    ap.add_argument("--tokens", type=int, default=200, help="words in a plain answer")
    args = ap.parse_args()
    uvloop.run(serve(args.port, args.chunks, args.tokens))


if __name__ == "__main__":
    main()
